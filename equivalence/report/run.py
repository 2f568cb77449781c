"""`python -m equivalence run --report reports/report.json [pytest args...]`: the project's main job.

Runs the conformance suite (pytest, in a subprocess, ``-n 2`` unless told otherwise, Hypothesis profile ``ci`` so
two runs draw the same examples), writes the JSON run report and prints what agrees (per family) and what differs
(the known-differences catalogue with the values observed on this install, and every failure).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .. import platform
from . import schema
from .formatting import number, short_id, table, value

FAMILY_LABELS = {  # family -> how the summary names it, in the order it is printed
    "ops": "ops", "layers": "layers/models", "losses": "losses", "grads": "grads", "optim": "optimizers",
    "catalogue": "catalogue", "gotcha": "gotchas", "meta": "suite machinery", "other": "other",
}
_XDIST_FLAGS = ("-n", "--numprocesses", "--dist", "-d", "--tx")
_FAILURE_LINES = 8  # lines of each failure message shown in the summary (the report keeps more)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m equivalence run", allow_abbrev=False,
        description="Run the conformance suite, write a JSON run report and print what agrees and what differs.",
        epilog="Every other argument goes to pytest, e.g. `-k conv2d`, `-p no:xdist`, `-n 1`, "
               "`--hypothesis-profile thorough`. Exit status: pytest's (0 = everything passed).")
    p.add_argument("--report", default="reports/report.json", metavar="PATH",
                   help="where to write the report (default: %(default)s)")
    p.add_argument("--summary-only", action="store_true",
                   help="do not run anything: print the summary of the existing --report")
    return p


def main(argv: list[str] | None = None) -> int:
    args, pytest_args = _parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    report_path = Path(args.report).resolve()
    rc = 0
    if not args.summary_only:
        root = suite_root()
        if root is None:
            print("equivalence run: no tests/ folder next to the equivalence package; run it from a checkout "
                  "of the suite (pip install -e .)", file=sys.stderr)
            return 2
        if report_path.exists():
            report_path.unlink()  # a stale report must never pass for this run's
        rc = subprocess.call(pytest_command(report_path, pytest_args), cwd=root, env=_environment())
    try:
        report = schema.load(report_path)
    except schema.ReportError as exc:
        print(f"equivalence run: no report was written ({exc}); pytest exited with {rc}", file=sys.stderr)
        return rc or 2
    print(summarize(report, report_path))
    return rc


def suite_root() -> Path | None:
    """The checkout holding the suite: the folder above the package, when it has tests/ and conftest.py."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "tests").is_dir() and (root / "conftest.py").is_file() else None


def pytest_command(report_path: Path, pytest_args: list[str]) -> list[str]:
    """The pytest command line: the report option, then `-n 2` when xdist is there and the user chose no mode."""
    cmd = [sys.executable, "-m", "pytest", f"--equivalence-report={report_path}"]
    no_xdist = any(a == "no:xdist" or a == "-pno:xdist" for a in pytest_args)
    chose = any(a in _XDIST_FLAGS or a.startswith(tuple(f + "=" for f in _XDIST_FLAGS)) or
                (a.startswith("-n") and a[2:].isdigit()) for a in pytest_args)
    if not (no_xdist or chose) and importlib.util.find_spec("xdist") is not None:
        cmd += ["-n", "2"]
    return cmd + list(pytest_args)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    # Reproducible examples: two reports are comparable only if their property tests drew the same inputs.
    if not env.get("HYPOTHESIS_PROFILE"):
        env["HYPOTHESIS_PROFILE"] = "ci"
    return env


def summarize(report: dict[str, Any], path: Path | str | None = None) -> str:
    """The readable summary printed after a run: versions, platform, agreement per family, catalogue, failures."""
    vers = "  ".join(f"{k} {v}" for k, v in report["versions"].items())
    lines = [f"equivalence run: {vers}  (hypothesis profile {report['hypothesis_profile']})",
             *platform.summary_lines(report.get("platform") or {})]
    if path is not None:
        lines.append(f"report: {path}")
    prints = [c.get("fingerprints") or {} for c in report["cases"].values()]
    if any(prints):
        lines.append(f"fingerprints: {sum(map(len, prints))} outputs in {sum(map(bool, prints))} cases "
                     "(bitwise, for `diff`)" + ("; API surface recorded" if report.get("api_surface") else ""))
    lines += ["", "What agrees: cases per family (worst error is the passing comparison closest to its tolerance)",
              agreement_table(report["cases"])]
    lines += ["", catalogue_section(report["catalogue"])]
    lines += ["", failures_section(report["cases"])]
    return "\n".join(lines)


def by_family(cases: dict[str, dict]) -> dict[str, list[tuple[str, dict]]]:
    """Cases grouped by family, in the summary's family order."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    for nodeid, case in cases.items():
        groups.setdefault(case["family"], []).append((nodeid, case))
    order = list(FAMILY_LABELS) + sorted(set(groups) - set(FAMILY_LABELS))
    return {fam: groups[fam] for fam in order if fam in groups}


def counts(members: list[tuple[str, dict]]) -> dict[str, int]:
    """passed / failed (failed, error, strict xpass) / skipped / xfailed / cases."""
    n = {o: sum(c["outcome"] == o for _, c in members) for o in schema.OUTCOMES}
    return {"passed": n["passed"], "failed": n["failed"] + n["error"] + n["xpassed"], "skipped": n["skipped"],
            "xfailed": n["xfailed"], "cases": len(members)}


def agreement_table(cases: dict[str, dict]) -> str:
    """Passed/failed/skipped counts per family and the closest call among passing comparisons."""
    rows = []
    for fam, members in by_family(cases).items():
        worst = closest_call(members)
        rows.append([FAMILY_LABELS.get(fam, fam), *counts(members).values(),
                     number(worst[0]) + "x" if worst else "-", worst[1] if worst else ""])
    if not rows:
        return "  (no test cases ran)"
    return table(["family", "passed", "failed", "skipped", "xfailed", "cases", "worst err/tol", "where"], rows)


def closest_call(members: list[tuple[str, dict]]) -> tuple[float, str] | None:
    """The largest error_over_tol among the passing comparisons of these cases, and where it was measured."""
    best = None
    for nodeid, case in members:
        if case["outcome"] != "passed":
            continue
        for key, row in case["measurements"].items():
            ratio = row["error_over_tol"]
            if row["ok"] and ratio == ratio and (best is None or ratio > best[0]):
                best = (ratio, f"{short_id(nodeid)} {key}")
    return best


def catalogue_section(catalogue: dict[str, dict]) -> str:
    """What differs, as documented: each catalogue entry with both frameworks' observed values."""
    from ..differences.observation import DOCUMENTED, Observation  # here: loads the catalogue only for a summary

    if not catalogue:
        return "What differs: the known-differences catalogue is empty"
    observations = [Observation.from_row(entry_id, row) for entry_id, row in catalogue.items()]
    stale = sum(o.status != DOCUMENTED for o in observations)
    head = (f"What differs: {len(catalogue)} known differences, observed on this install"
            + (f" ({stale} NOT as documented: see status)" if stale else " (all as documented)"))
    rows = []
    for o in observations:
        seen = o.observed or {}
        rows.append([o.entry_id, o.status, value(seen.get("tf", o.error), 36), value(seen.get("torch", ""), 36)])
    return head + "\n" + table(["entry", "status", "tf observed", "torch observed"], rows)


def failures_section(cases: dict[str, dict]) -> str:
    """Every failing case with the first lines of its message."""
    failing = [(n, c) for n, c in cases.items() if c["outcome"] in schema.FAILING + ("xpassed",)]
    if not failing:
        return "Failures: none"
    lines = [f"Failures ({len(failing)})"]
    for nodeid, case in failing:
        lines.append(f"  {case['outcome'].upper()} {nodeid}")
        lines += [f"      {text}" for text in case["message"].splitlines()[:_FAILURE_LINES]]
    return "\n".join(lines)
