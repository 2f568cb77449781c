"""`python -m equivalence selfcheck`: inject each mutant into one framework and check the suite catches it.

    python -m equivalence selfcheck                  # clean baseline, then every mutant; a table and the score
    python -m equivalence selfcheck --list           # the registry: id, side, area, size, what it changes
    python -m equivalence selfcheck --only tf-exp-x1e-5 --only null -j 1 --json

Each mutant runs its selected tests in its own pytest process with `-p equivalence.selfcheck.plugin`, which
applies the patch at session start (EQUIVALENCE_MUTANT). It is *caught* when the selection fails, *missed* when
it passes, an *error* when the run could not say (a collection error, a timeout, the patch not applied). First, a
clean baseline runs the union of the selections without a mutant: a mutant whose selection already fails there is
*invalid* and left out of the score. The score is caught / scored mutants (errors count as not caught); the null
control must be missed. Exit status 0 when the baseline is clean, no run errored, the control was missed and the
score reaches --min-score.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile
import time

from ..runtime import has_module
from .selection import ROOT, selection_problems
from .mutants import MUTANTS, NULL_ID, Mutant, by_id
from .plugin import MUTANT_ENV, RESULTS_ENV

DEFAULT_MIN_SCORE = 95.0
DEFAULT_TIMEOUT = 900  # seconds per pytest process: a few tests plus importing both frameworks (~15 s)
_TAIL = 2000


@dataclasses.dataclass
class Run:
    """One pytest process: its selection, the mutant applied (None: the clean baseline) and what happened."""

    select: tuple[str, ...]
    k: str | None
    mutant: str | None
    returncode: int | None = None
    passed: int = 0
    skipped: int = 0
    failed: list = dataclasses.field(default_factory=list)  # [{"nodeid", "when", "message"}]
    passed_ids: list = dataclasses.field(default_factory=list)
    applied: str | None = None
    seconds: float = 0.0
    problem: str | None = None  # why the run could not answer (timeout, no results, patch not applied, exit 2..5)

    def record(self, brief: bool = False) -> dict:
        """As JSON; `brief` leaves out the passing node ids (a baseline keeps them: they define usable selections)."""
        out = dataclasses.asdict(self)
        if brief:
            del out["passed_ids"]
        return out


def pytest_command(select, k, pytest_args=()) -> list[str]:
    """The subprocess command line (xdist off: the runner parallelises across mutants)."""
    return [sys.executable, "-m", "pytest", "-p", "equivalence.selfcheck.plugin", "-p", "no:xdist", "-q",
            *(("-k", k) if k else ()), *pytest_args, *select]


def _child_env(mutant: str | None, results: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (MUTANT_ENV, RESULTS_ENV)}
    env[RESULTS_ENV] = results
    if mutant:
        env[MUTANT_ENV] = mutant
    return env


def _diagnose(run: Run, proc_output: str) -> str | None:
    """Why a finished run cannot count as passed or caught (None when it can)."""
    if run.mutant and run.applied != run.mutant:
        return f"the plugin did not apply {run.mutant!r}"
    if run.returncode == 1 and run.failed:
        return None
    if run.returncode == 0:
        return None
    return f"pytest exit status {run.returncode}: " + proc_output[-_TAIL:].strip()


def run_pytest(select, k, mutant: str | None, *, pytest_args=(), timeout=DEFAULT_TIMEOUT, root=ROOT) -> Run:
    """Run one selection in a fresh pytest process, with `mutant` applied (or none), and read the plugin's results."""
    run = Run(tuple(select), k, mutant)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        results = os.path.join(tmp, "results.json")
        try:
            proc = subprocess.run(pytest_command(select, k, pytest_args), cwd=root, env=_child_env(mutant, results),
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            run.seconds, run.problem = time.monotonic() - start, f"timed out after {timeout} s"
            return run
        run.seconds, run.returncode = time.monotonic() - start, proc.returncode
        if not os.path.exists(results):
            run.problem = "no results from the plugin: " + (proc.stdout + proc.stderr)[-_TAIL:].strip()
            return run
        with open(results, encoding="utf-8") as f:
            data = json.load(f)
    run.passed, run.skipped, run.failed, run.applied = data["passed"], data["skipped"], data["failed"], data["mutant"]
    run.passed_ids = data["passed_ids"]
    run.problem = _diagnose(run, proc.stdout + proc.stderr)
    return run


# ---------------------------------------------------------------- baseline
def covers(node: str, nodeid: str) -> bool:
    """True when the selection item `node` selects the test `nodeid`."""
    return nodeid == node or nodeid.startswith((node + "[", node + "::", node.rstrip("/") + "/"))


def baseline_groups(mutants) -> dict:
    """{-k expression or None: union of the selections} (one clean pytest process per distinct -k)."""
    groups: dict = {}
    for m in mutants:
        nodes = groups.setdefault(m.k, [])
        nodes += [n for n in m.select if n not in nodes]
    return groups


def usable_selection(mutant: Mutant, baselines: list[Run]) -> tuple[tuple[str, ...], list[str], str | None]:
    """(selection to run, tests dropped, why the mutant cannot be scored): a selected test that fails without the
    mutant (another change in progress, a platform difference) is dropped from the mutant's selection; a selection
    item with a failing test inside is replaced by its tests that passed. Nothing left, or an errored baseline:
    the mutant is invalid."""
    runs = [b for b in baselines if b.k == mutant.k]
    for run in runs:
        if run.problem and run.returncode != 1:
            return (), [], f"baseline errored: {run.problem}"
    failing = [f["nodeid"] for b in runs for f in b.failed]
    passing = [n for b in runs for n in b.passed_ids]
    keep, dropped = [], []
    for node in mutant.select:
        bad = [n for n in failing if covers(node, n)]
        dropped += [n for n in bad if n not in dropped]
        keep += [node] if not bad else [n for n in passing if covers(node, n) and n not in keep]
    if not keep:
        return (), dropped, "baseline fails without the mutant: " + ", ".join(dropped)
    return tuple(keep), dropped, None


# ---------------------------------------------------------------- scoring
def outcome(run: Run | None, invalid: str | None) -> str:
    if invalid:
        return "invalid"
    if run is None or run.problem:
        return "error"
    return "caught" if run.failed else "missed"


def summarise(mutants, runs: dict, baselines: list[Run], min_score: float) -> dict:
    """The JSON report: per mutant its record, outcome and first failure; the score; the control; the baseline."""
    rows = []
    for m in mutants:
        _, dropped, invalid = usable_selection(m, baselines)
        run = runs.get(m.id)
        rows.append({"id": m.id, "side": m.side, "area": m.area, "what": m.what, "size": m.size,
                     "select": list(m.select), "k": m.k, "outcome": outcome(run, invalid), "invalid": invalid,
                     "dropped": dropped, "run": run.record(brief=True) if run else None})
    scored = [r for r in rows if r["id"] != NULL_ID and r["outcome"] != "invalid"]
    caught = [r for r in scored if r["outcome"] == "caught"]
    score = 100.0 * len(caught) / len(scored) if scored else None
    control = next((r for r in rows if r["id"] == NULL_ID), None)
    ok = (all(not (b.problem or b.failed) for b in baselines) and not any(r["outcome"] == "error" for r in rows)
          and (control is None or control["outcome"] == "missed") and (score is None or score >= min_score))
    return {"score": score, "min_score": min_score, "caught": len(caught), "scored": len(scored),
            "missed": [r["id"] for r in scored if r["outcome"] == "missed"],
            "errors": [r["id"] for r in rows if r["outcome"] == "error"],
            "invalid": [r["id"] for r in rows if r["outcome"] == "invalid"],
            "control": control and control["outcome"], "ok": ok,
            "baseline": [b.record(brief=True) for b in baselines], "mutants": rows}


def run_selfcheck(mutants, *, jobs: int = 2, baseline: bool = True, pytest_args=(), timeout=DEFAULT_TIMEOUT,
                  min_score: float = DEFAULT_MIN_SCORE, root=ROOT, progress=None) -> dict:
    """Baseline, then each mutant (jobs pytest processes at a time); returns the report (see summarise)."""
    mutants = list(mutants)
    problems = [p for m in mutants for p in selection_problems(m, pathlib.Path(root))]
    if problems:
        raise ValueError("selections that name no test:\n  " + "\n  ".join(problems))
    say = progress or (lambda line: None)
    call = lambda select, k, mutant: run_pytest(select, k, mutant, pytest_args=pytest_args, timeout=timeout, root=root)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        baselines = list(pool.map(lambda item: call(item[1], item[0], None),
                                  baseline_groups(mutants).items() if baseline else []))
        for b in baselines:
            say(f"baseline ({len(b.select)} selections): {b.passed} passed, {len(b.failed)} failed"
                f"{', ' + b.problem if b.problem else ''} ({b.seconds:.0f} s)")
        selections = {m.id: usable_selection(m, baselines) for m in mutants}
        todo = [m for m in mutants if not selections[m.id][2]]
        futures = {pool.submit(call, selections[m.id][0], m.k, m.id): m for m in todo}
        runs = {}
        for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
            m = futures[future]
            runs[m.id] = run = future.result()
            say(f"[{i}/{len(todo)}] {m.id}: {outcome(run, None)} ({run.seconds:.0f} s)")
    return summarise(mutants, runs, baselines, min_score)


# ---------------------------------------------------------------- output
def _first_failure(row: dict) -> str:
    run = row["run"] or {}
    if row["outcome"] == "invalid":
        return row["invalid"]
    if run.get("problem"):
        return run["problem"].splitlines()[0]
    if not run.get("failed"):
        return f"{run.get('passed', 0)} passed"
    first = run["failed"][0]
    message = re.sub(r"\b(?:[a-z_]\w*\.)+(\w+(?:Error|Mismatch|Exception))\b", r"\1", " ".join(first["message"].split()))
    return f"{len(run['failed'])} failed, e.g. {first['nodeid'].split('::')[-1]}: {message}"


def render_table(report: dict, width: int = 160) -> str:
    rows = report["mutants"]
    idw = max(len(r["id"]) for r in rows)
    lines = [f"{'mutant':<{idw}}  side   area      result   first failure / outcome", "-" * width]
    for r in rows:
        dropped = f"[{len(r['dropped'])} dropped] " if r["dropped"] and r["outcome"] != "invalid" else ""
        line = f"{r['id']:<{idw}}  {r['side']:<5}  {r['area']:<8}  {r['outcome']:<7}  {dropped}{_first_failure(r)}"
        lines.append(line[:width])
    score = "n/a" if report["score"] is None else f"{report['score']:.1f}%"
    lines += ["", f"score: {report['caught']}/{report['scored']} caught = {score} (minimum {report['min_score']:g}%)",
              f"missed: {', '.join(report['missed']) or 'none'}",
              f"control (null mutant): {report['control'] or 'not run'} (must be missed)"]
    lines += [f"errors: {', '.join(report['errors'])}"] * bool(report["errors"])
    lines += [f"invalid (baseline): {', '.join(report['invalid'])}"] * bool(report["invalid"])
    dropped = sorted({n for r in rows for n in r["dropped"]})
    lines += [f"dropped from selections (they fail without any mutant): {', '.join(dropped)}"] * bool(dropped)
    for b in report["baseline"]:
        lines.append(f"baseline: {b['passed']} passed, {len(b['failed'])} failed in {b['seconds']:.0f} s"
                     + (f" (-k {b['k']})" if b["k"] else "") + (f"; {b['problem'][:200]}" if b["problem"] else ""))
    return "\n".join(lines)


def render_list(mutants) -> str:
    idw = max(len(m.id) for m in mutants)
    lines = [f"{'mutant':<{idw}}  side   area      tests  size / what"]
    for m in mutants:
        lines.append(f"{m.id:<{idw}}  {m.side:<5}  {m.area:<8}  {len(m.select):>5}  {m.size}: {m.what}")
    return "\n".join(lines + [f"\n{len(mutants) - 1} mutants and the null control"])


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m equivalence selfcheck", description=__doc__.split("\n\n")[0])
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--only", action="append", metavar="ID", help="run only these mutants (repeat or comma-separate)")
    p.add_argument("-j", "--jobs", type=int, default=2, help="pytest processes at a time (default 2)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.add_argument("--no-baseline", action="store_true", help="skip the clean baseline run")
    p.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE, help="percent caught needed (default 95)")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per pytest process")
    p.add_argument("--pytest-args", default="", help="extra pytest arguments for every run, one shell-quoted string")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        mutants = [by_id(i.strip()) for o in args.only for i in o.split(",")] if args.only else list(MUTANTS)
    except KeyError as e:
        print(e.args[0], file=sys.stderr)
        return 2
    if args.list:
        print(render_list(mutants))
        return 0
    if not has_module("tensorflow"):  # a torch-only environment (the GPU box): TF/Keras mutants cannot apply
        print("TensorFlow is not installed: the tf-side mutants are left out", file=sys.stderr)
        mutants = [m for m in mutants if m.side != "tf"]
    report = run_selfcheck(mutants, jobs=args.jobs, baseline=not args.no_baseline, timeout=args.timeout,
                           pytest_args=shlex.split(args.pytest_args), min_score=args.min_score,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=1) if args.json else render_table(report))
    return 0 if report["ok"] else 1
