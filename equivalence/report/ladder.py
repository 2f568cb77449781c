"""`python -m equivalence ladder R1.json R2.json ... [--markdown out.md]`: attribute every change to a release.

A ladder is a sequence of run reports of one suite checkout in which one framework steps through its releases and
everything else stays fixed (the Keras ladder: every Keras minor release with TensorFlow and torch fixed; the TF
ladder: TF releases with Keras fixed; a torch ladder likewise; tox labels `keras-ladder` and `tf-ladder`, the
workflow in docs/upgrades.md). The ladder diffs each adjacent pair of rungs (`diff.diff_reports`) and lists every
change under the rung that introduced it, named by the versions that differ from the rung before it
("keras 3.9.2 -> 3.10.0"): cases that began or stopped failing, catalogue entries that changed behaviour, errors
that grew or shrank past the factor, outputs whose bits changed (per family and side, largest ulp first) and public
API items that changed. A change that appears in one step and not in the next was introduced by that step's
release; one that reappears in a later step is listed again there.

Exit status: 1 when some step regressed (as `diff` judges it: a case began failing, a catalogue entry changed
behaviour, an error grew past the factor); 0 otherwise; 2 for a malformed report or reports of different suites.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import diff, schema
from .formatting import headline, number, short_id, table, value


def step_name(a: dict, b: dict) -> str:
    """The versions that differ between two rungs: 'keras 3.9.2 -> 3.10.0' (or 'no version change')."""
    changed = [f"{p} {a['versions'].get(p, '-')} -> {b['versions'].get(p, '-')}"
               for p in sorted(set(a["versions"]) | set(b["versions"]))
               if a["versions"].get(p) != b["versions"].get(p)]
    return ", ".join(changed) or "no version change"


def steps(reports: list[dict], factor: float = diff.DEFAULT_FACTOR,
          floor: float = diff.DEFAULT_FLOOR) -> list[tuple[str, diff.ReportDiff]]:
    """(step name, diff) for each adjacent pair of rungs."""
    out = []
    for a, b in zip(reports, reports[1:]):
        out.append((step_name(a, b), diff.diff_reports(a, b, factor, floor)))
    return out


def changes(d: diff.ReportDiff) -> list[list[str]]:
    """Every change of one step as rows [kind, where, side, what changed], behaviour changes first."""
    rows = [["began failing", c.nodeid, "-", f"{c.before} -> {c.after}: {headline(c.message)}"]
            for c in d.began_failing]
    rows += [["catalogue " + c.kind, c.id, c.sides, f"{value(c.before, 120)} -> {value(c.after, 120)}"]
             for c in d.catalogue]
    rows += [["error grew", f"{short_id(g.nodeid)} {g.key}", "-",
              f"err/tol {number(g.before)} -> {number(g.after)} ({g.ratio:.3g}x)"] for g in d.grew]
    rows += [["stopped failing", c.nodeid, "-", f"{c.before} -> {c.after}"] for c in d.stopped_failing]
    rows += [["outcome changed", c.nodeid, "-", f"{c.before} -> {c.after}: {headline(c.message)}"]
             for c in d.outcome_changed]
    rows += [["error shrank", f"{short_id(g.nodeid)} {g.key}", "-",
              f"err/tol {number(g.before)} -> {number(g.after)}"] for g in d.shrank]
    rows += [["bits " + (c.kind if c.kind != "changed" else "changed"), f"{short_id(c.nodeid)} {c.key}", c.side,
              f"max ulp {c.ulp_text}" if c.kind == "changed" else c.kind] for c in d.bits]
    rows += [[f"api {c.kind}", c.item, c.side, f"{value(c.before or '-', 120)} -> {value(c.after or '-', 120)}"]
             for c in d.api]
    rows += [["case only before", n, "-", ""] for n in d.only_a] + [["case only after", n, "-", ""] for n in d.only_b]
    return rows


def render(names: list[str], reports: list[dict], found: list[tuple[str, diff.ReportDiff]], markdown: bool = False,
           limit: int | None = 40) -> str:
    """The ladder: the rungs, one summary row per step, then each step's changes (every one in Markdown)."""
    limit = None if markdown else limit
    h1, h2 = ("# ", "## ") if markdown else ("", "")
    pkgs = sorted({p for r in reports for p in r["versions"]})
    out = [f"{h1}equivalence ladder: {len(reports)} rungs, {len(found)} steps", "",
           table(["rung", "report"] + pkgs, [[str(i), n] + [r["versions"].get(p, "-") for p in pkgs]
                                             for i, (n, r) in enumerate(zip(names, reports))], markdown), ""]
    summary = []
    for name, d in found:
        families = sorted({c.family for c in d.bits})
        summary.append([name, len(d.began_failing), len(d.catalogue), len(d.grew), len(d.bits),
                        ", ".join(families) or "-", len(d.api),
                        "REGRESSED" if d.regressions else ("changed (listed only)" if changes(d) else "none")])
    out += [f"{h2}Steps", "", table(["step (the release that introduced the change)", "began failing",
                                 "catalogue changed", "errors grew", "outputs bits changed", "families (bits)",
                                 "api changed", "verdict"], summary, markdown)]
    for name, d in found:
        rows = changes(d)
        out += ["", f"{h2}{name}"]
        out += [f"warning: {w}" for w in d.warnings] + [f"note: {n}" for n in d.notes]
        if not rows:
            out.append("none: no case, catalogue entry, measured error, output bit or API item changed")
            continue
        if d.regressions:
            out.append("REGRESSED: " + "; ".join(d.regressions))
        bits = diff.bit_summary(d.bits)
        if bits:
            out += ["", "bitwise changes per family and side:", "",
                    table(["family", "side", "outputs", "cases", "largest ulp"], bits, markdown)]
        shown = rows if limit is None else rows[:limit]
        out += ["", table(["change", "where", "side", "detail"], shown, markdown)]
        if len(shown) < len(rows):
            out.append(f"  ... and {len(rows) - len(shown)} more (see --markdown)")
    verdict = [name for name, d in found if d.regressions]
    out += ["", f"{h2}Verdict: " + (f"REGRESSED in {len(verdict)} step(s): {'; '.join(verdict)}" if verdict
                                    else "no step regressed")]
    return "\n".join(out) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m equivalence ladder", allow_abbrev=False,
                                description="Diff each adjacent pair of a sequence of run reports (a version ladder) "
                                            "and name the release where each change first appears.",
                                epilog="Exit status: 0 no step regressed, 1 some step regressed, 2 report error.")
    p.add_argument("reports", nargs="+", help="the rungs' reports, oldest release first")
    p.add_argument("--factor", type=float, default=diff.DEFAULT_FACTOR, help="as for diff (default %(default)s)")
    p.add_argument("--floor", type=float, default=diff.DEFAULT_FLOOR, help="as for diff (default %(default)s)")
    p.add_argument("--markdown", metavar="PATH", help="also write the ladder as Markdown (never cut)")
    p.add_argument("--limit", type=int, default=40, help="changes shown per step in the terminal (%(default)s)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if len(args.reports) < 2:
        print("equivalence ladder: give at least two reports (the rungs, oldest first)", file=sys.stderr)
        return 2
    try:
        reports = [schema.load(p) for p in args.reports]
        warnings = [schema.check_comparable(a, b, (na, nb)) for (a, na), (b, nb)
                    in zip(zip(reports, args.reports), zip(reports[1:], args.reports[1:]))]
        found = steps(reports, args.factor, args.floor)
    except (schema.ReportError, ValueError) as exc:
        print(f"equivalence ladder: {exc}", file=sys.stderr)
        return 2
    for (_, d), w in zip(found, warnings):
        d.warnings = w
    print(render(args.reports, reports, found, limit=args.limit), end="")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(render(args.reports, reports, found, markdown=True), encoding="utf-8")
        print(f"markdown: {args.markdown}")
    return 1 if any(d.regressions for _, d in found) else 0


def first_appearance(found: list[tuple[str, diff.ReportDiff]]) -> dict[str, str]:
    """Each changed item ('<kind> <where> <side>') -> the step where it first changed (for tests and tools)."""
    seen: dict[str, str] = {}
    for name, d in found:
        for kind, where, side, _ in changes(d):
            seen.setdefault(f"{kind} {where} {side}", name)
    return seen


__all__ = ["changes", "first_appearance", "main", "render", "step_name", "steps"]
