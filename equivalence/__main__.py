"""`python -m equivalence <command>`: each command lives in its own module, imported only when used."""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": ("equivalence.report.run", "run the conformance suite, write a JSON report and print what agrees/differs"),
    "diff": ("equivalence.report.diff", "compare two run reports (framework upgrade verification)"),
    "ladder": ("equivalence.report.ladder", "diff each adjacent pair of a version ladder of reports; name the release of each change"),
    "differences": ("equivalence.differences.render", "render the known-differences catalogue (Markdown/HTML)"),
    "coverage": ("equivalence.catalog.coverage", "render the op x dtype x framework-API coverage table"),
    "bench-report": ("equivalence.bench.report", "turn pytest-benchmark JSON into a TF/torch ratio report"),
    "defaults": ("equivalence.defaults", "write or check the constructor-defaults snapshot"),
    "platform": ("equivalence.platform", "print this machine's platform (CPU, ISA, oneDNN, torch capability, BLAS)"),
    "selfcheck": ("equivalence.selfcheck.runner", "mutation self-check: inject small framework changes, report caught/missed"),
    "check": ("equivalence.pair.cli", "check your own Keras model against your own torch module; localize the first divergence"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        width = max(map(len, COMMANDS))
        print("usage: python -m equivalence <command> [options]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<{width}}  {text}")
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\nunknown command {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
