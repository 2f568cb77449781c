"""`python -m equivalence coverage`: the op x dtype x framework-API coverage table, generated from OP_DB.

    python -m equivalence coverage --out docs/COVERAGE.md   # regenerate the committed table
    python -m equivalence coverage --check docs/COVERAGE.md # exit 1 when the committed table is stale

Never edit docs/COVERAGE.md by hand: tests/meta/test_op_registry.py fails when it differs from `render()`.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from ..differences import DIFFERENCES, for_record
from ..strategies import ALL_DTYPES
from .opinfo import OP_FAMILIES

HEADER = """# Op coverage (generated)

Generated from `equivalence.catalog.ops.OP_DB` by `python -m equivalence coverage --out docs/COVERAGE.md`;
do not edit. Each checked cell is one test per device, `tests/test_ops.py::test_op_matches[<id>-<dtype>-cpu]`
(and `-cuda` under `-m gpu`), that compares torch and TF with a float64 NumPy reference and with each other
(values, NaN/inf positions, zero signs, result dtype).
`grad` marks ops whose gradients are also compared; `differences` are the catalogue entries whose selectors name
the op or its gradient test (docs: differences); those selecting every op of a dtype are listed under the totals.
"""


def _row(info) -> str:
    cells = ["x" if d in info.dtypes else "" for d in ALL_DTYPES]
    diffs = ", ".join(f"`{d.id}`" for d in for_record("op", info))
    return (f"| `{info.id}` | `{info.torch_api}` | `{info.tf_api}` | {info.api} | " + " | ".join(cells)
            + f" | {'x' if info.supports_grad else ''} | {diffs} |")


def render() -> str:
    """The whole Markdown document (deterministic: registry order, fixed columns)."""
    from .ops import OP_DB

    head = "| op | torch | TF | TF api | " + " | ".join(ALL_DTYPES) + " | grad | differences |"
    rule = "|" + "---|" * (len(ALL_DTYPES) + 6)
    parts = [HEADER]
    counts = Counter()
    for family in OP_FAMILIES:
        infos = [i for i in OP_DB if i.family == family]
        parts += [f"\n## {family} ({len(infos)} entries)\n", head, rule, *map(_row, infos)]
        counts.update(d for i in infos for d in i.dtypes)
    names = sorted({i.name for i in OP_DB})
    parts.append(f"\n## Totals\n\n{len(OP_DB)} entries ({len(names)} distinct ops, "
                 f"{sum(i.api == 'keras.ops' for i in OP_DB)} through keras.ops), "
                 f"{sum(len(i.dtypes) for i in OP_DB)} op-dtype test cases: "
                 + ", ".join(f"{d} {counts[d]}" for d in ALL_DTYPES) + ".\n")
    parts.append("Catalogue entries selecting every op of a dtype: " + "; ".join(
        f"`{e.id}` ({', '.join(sels)})" for e, sels in _every_op_entries()) + ".\n")
    return "\n".join(parts)


def _every_op_entries():
    """(entry, its 'op:*' selectors) for the entries that apply to every op of some dtypes (not one op's row)."""
    found = [(e, [s for s in e.applies_to if s.startswith("op:*")]) for e in DIFFERENCES]
    return [(e, sels) for e, sels in found if sels]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m equivalence coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the table here (default: stdout)")
    parser.add_argument("--check", type=Path, help="compare with this committed file; exit 1 when it is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not args.check.exists() or args.check.read_text() != text:
            print(f"{args.check} is stale: run python -m equivalence coverage --out {args.check}", file=sys.stderr)
            return 1
        return 0
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0
