"""`python -m equivalence diff A.json B.json [--factor 2] [--markdown out.md] [--plot out.png]`.

What changed between two run reports (typically the same suite under framework version A and version B): cases
that began or stopped failing, catalogue entries whose observed behaviour changed (a difference that appeared,
vanished or moved), and measured errors that grew by more than ``--factor``; then, listed only (never a reason to
exit 1): every output whose bits changed at all (the case fingerprints, ``equivalence.fingerprint``, and the
catalogue's observed values), per family and side with the largest ulp change first, and every changed signature or
default of the frameworks' public API (the reports' ``api_surface``, when recorded).

When the reports come from different platforms (``equivalence.platform.IDENTITY``: CPU, vector ISA, TF's oneDNN,
torch's CPU capability, oneDNN's ISA, BLAS, OS, architecture), it warns, naming the fields (A -> B), and marks every
change it lists ``[platform differs]``: it may be due to the platform rather than the frameworks. A report of
schema version 1 recorded no platform: it warns that the platform is unknown.

Exit status: 0 nothing regressed; 1 something began failing, an error grew by more than the factor, or a catalogue
entry's observed behaviour changed (the catalogue no longer describes B); 2 bad usage or a malformed/mismatched
report (the message says which file and field).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path
from typing import Any

from .. import platform as _platform
from . import schema
from .formatting import headline, number, short_id, table, value

DEFAULT_FACTOR = 2.0
# Errors below 1% of their tolerance count as 1%: going from a bit-exact 0 to 1e-9 of the tolerance is noise, not a
# 1e9-fold growth. A change from exact to 5% of the tolerance is still reported (0.05 > 2 x 0.01).
DEFAULT_FLOOR = 0.01
_CATALOGUE_REGRESSIONS = ("appeared", "vanished", "moved", "witness broke")


@dataclasses.dataclass(frozen=True)
class CaseChange:
    """A case whose outcome changed; `before`/`after` are outcomes, or 'absent' where a report lacks the case."""

    nodeid: str
    before: str
    after: str
    message: str  # B's message (why it fails or skips now), else A's


@dataclasses.dataclass(frozen=True)
class Growth:
    """One comparison of one case whose error (as a fraction of its tolerance) changed by more than the factor."""

    nodeid: str
    key: str
    before: float  # error_over_tol in A
    after: float  # error_over_tol in B
    ratio: float  # after / before, both floored
    max_abs_before: float
    max_abs_after: float


@dataclasses.dataclass(frozen=True)
class EntryChange:
    """A catalogue entry whose observed values or status differ between the reports."""

    id: str
    kind: str  # appeared | vanished | moved | witness broke | witness fixed | added | removed
    sides: str  # which framework's observation changed: 'tf', 'torch', 'tf+torch' or '-'
    before: Any
    after: Any


@dataclasses.dataclass(frozen=True)
class BitChange:
    """One output whose bits differ between the reports (fingerprint sha, or a catalogue entry's observed value)."""

    nodeid: str  # the case, or 'catalogue:<entry id>'
    family: str
    key: str  # '<what>: <label>' (a fingerprint row), or the entry id
    side: str  # 'tf', 'torch', 'reference' or the comparison's label
    kind: str  # 'changed' | 'only in A' | 'only in B'
    ulp: int | None  # max ulp change over the sample (None: not comparable: dtype, shape or count changed)
    exact: bool  # ulp is over every element (else a lower bound from the sample)

    @property
    def ulp_text(self) -> str:
        if self.kind != "changed":
            return "-"
        if self.ulp is None:
            return "n/a (dtype/shape/count)"
        if not self.exact:
            return f">={max(self.ulp, 1)}"
        return str(self.ulp) if self.ulp else "0 (zero sign / NaN bits)"

    @property
    def order(self) -> tuple:
        """Sort key: largest ulp change first (not comparable first of all), then family, side, case."""
        size = math.inf if self.ulp is None or self.kind != "changed" else self.ulp
        return (-size, self.family, self.side, self.nodeid, self.key)


@dataclasses.dataclass(frozen=True)
class ApiChange:
    """One public-API item (signature, default, config value) whose recorded value differs."""

    side: str
    item: str  # path in the snapshot: 'keras/layers/Dense/signature'
    kind: str  # 'changed' | 'added' | 'removed'
    before: Any
    after: Any


@dataclasses.dataclass
class ReportDiff:
    """Everything `diff` found; `regressions` says why it exits 1."""

    began_failing: list[CaseChange]
    stopped_failing: list[CaseChange]
    outcome_changed: list[CaseChange]  # neither failing before nor after: e.g. passed -> skipped
    only_a: list[str]
    only_b: list[str]
    grew: list[Growth]
    shrank: list[Growth]
    catalogue: list[EntryChange]
    common: int
    factor: float
    floor: float
    warnings: list[str] = dataclasses.field(default_factory=list)
    # 'field: A -> B' per platform identity field that differs (empty: same platform, or one of them unknown)
    platform_changes: list[str] = dataclasses.field(default_factory=list)
    bits: list[BitChange] = dataclasses.field(default_factory=list)  # listed only: never a regression
    api: list[ApiChange] = dataclasses.field(default_factory=list)  # listed only: never a regression
    notes: list[str] = dataclasses.field(default_factory=list)  # why bits/api may be incomplete

    @property
    def regressions(self) -> list[str]:
        out = []
        if self.began_failing:
            out.append(f"{len(self.began_failing)} case(s) began failing")
        if self.grew:
            out.append(f"{len(self.grew)} error(s) grew more than {self.factor:g}x")
        changed = [c for c in self.catalogue if c.kind in _CATALOGUE_REGRESSIONS]
        if changed:
            out.append(f"{len(changed)} catalogue entr{'y' if len(changed) == 1 else 'ies'} changed behaviour")
        return out


def diff_reports(a: dict, b: dict, factor: float = DEFAULT_FACTOR, floor: float = DEFAULT_FLOOR) -> ReportDiff:
    """Compare two loaded reports (see `schema.load`)."""
    if not (factor > 1):
        raise ValueError(f"factor must be > 1 (an error must grow by more than it to count), got {factor}")
    cases_a, cases_b = a["cases"], b["cases"]
    d = ReportDiff([], [], [], sorted(set(cases_a) - set(cases_b)), sorted(set(cases_b) - set(cases_a)), [], [],
                   diff_catalogue(a["catalogue"], b["catalogue"]), len(set(cases_a) & set(cases_b)), factor, floor,
                   platform_changes=_platform.differences(a.get("platform") or {}, b.get("platform") or {}))
    for nodeid in sorted(set(cases_a) | set(cases_b)):
        ca, cb = cases_a.get(nodeid), cases_b.get(nodeid)
        before, after = (ca or {}).get("outcome", "absent"), (cb or {}).get("outcome", "absent")
        change = CaseChange(nodeid, before, after, (cb or {}).get("message") or (ca or {}).get("message", ""))
        fail_a, fail_b = before in schema.FAILING, after in schema.FAILING
        if fail_b and not fail_a:
            d.began_failing.append(change)
        elif fail_a and not fail_b and after != "absent":
            d.stopped_failing.append(change)
        elif before != after and "absent" not in (before, after):
            d.outcome_changed.append(change)
        if ca and cb:
            _compare_errors(nodeid, ca["measurements"], cb["measurements"], d)
    d.grew.sort(key=lambda g: -g.ratio)
    d.shrank.sort(key=lambda g: g.ratio)
    d.bits = diff_fingerprints(a, b) + diff_catalogue_bits(a["catalogue"], b["catalogue"])
    d.bits.sort(key=lambda c: c.order)
    d.api = diff_api_surface(a.get("api_surface") or {}, b.get("api_surface") or {})
    d.notes = completeness_notes(a, b)
    refs = [c for c in d.bits if c.side == "reference" and c.kind == "changed"]
    if refs:
        d.notes.append(f"{len(refs)} float64 reference output(s) changed bits: the references are NumPy's, so the "
                       "inputs differ between the reports (other Hypothesis draws: a NumPy or Hypothesis change, or a "
                       "framework on PYTHONPATH outside a site-packages folder, whose literals Hypothesis mines; see "
                       "docs/upgrades.md) and other changes may follow from that")
    return d


def completeness_notes(a: dict, b: dict, names: tuple[str, str] = ("A", "B")) -> list[str]:
    """Why the bitwise or API sections may miss changes: a report older than fingerprints, or without a snapshot."""
    notes = []
    old = [n for n, r in zip(names, (a, b)) if r.get("schema_version", schema.SCHEMA_VERSION) < 3]
    if old:
        notes.append(f"{' and '.join(old)} recorded no fingerprints (schema version < 3): outputs whose bits changed "
                     "are listed only for the catalogue")
    surf = [bool(a.get("api_surface")), bool(b.get("api_surface"))]
    if any(surf) and not all(surf):
        missing = names[surf.index(False)]
        notes.append(f"{missing} recorded no API surface (equivalence.api_surface was absent), so API changes "
                     "cannot be listed")
    return notes


def diff_fingerprints(a: dict, b: dict) -> list[BitChange]:
    """Every fingerprint row (case x output x side) whose sha differs, or that only one report has, for the cases
    both reports ran with the same outcome-independent key (cases only in one report are listed elsewhere)."""
    from ..fingerprint import ulp_change

    if min(a.get("schema_version", schema.SCHEMA_VERSION), b.get("schema_version", schema.SCHEMA_VERSION)) < 3:
        return []  # one report predates fingerprints: every row would look new (completeness_notes says so)
    out = []
    for nodeid in sorted(set(a["cases"]) & set(b["cases"])):
        ca, cb = a["cases"][nodeid], b["cases"][nodeid]
        fa, fb = ca.get("fingerprints") or {}, cb.get("fingerprints") or {}
        if not fa and not fb:
            continue
        family = cb["family"]
        for key in sorted(set(fa) | set(fb)):
            ra, rb = fa.get(key), fb.get(key)
            if ra is not None and rb is not None:
                if ra["sha"] == rb["sha"]:
                    continue
                ulp, exact = ulp_change(ra, rb)
                out.append(BitChange(nodeid, family, key, rb["side"], "changed", ulp, exact))
            else:
                row = ra or rb
                out.append(BitChange(nodeid, family, key, row["side"], "only in A" if rb is None else "only in B",
                                     None, False))
    return out


def diff_catalogue_bits(cat_a: dict, cat_b: dict) -> list[BitChange]:
    """Every catalogue entry whose observed value on one side changed at all (the behaviour diff compares with the
    entry's slack; this one bitwise). The ulp figure is over the numbers of the value, in float32 when every number
    of both values is a float32, else float64; None when the values are not the same shape of numbers."""
    out = []
    for entry_id in sorted(set(cat_a) & set(cat_b)):
        oa, ob = cat_a[entry_id]["observed"], cat_b[entry_id]["observed"]
        if oa is None or ob is None:
            continue
        for side in ("tf", "torch"):
            va, vb = oa.get(side), ob.get(side)
            if schema.dumps({"v": va}) == schema.dumps({"v": vb}):
                continue
            ulp, exact = _value_ulp(va, vb)
            out.append(BitChange(f"catalogue:{entry_id}", "catalogue", entry_id, side, "changed", ulp, exact))
    return out


def _numbers(v: Any) -> list[float] | None:
    if isinstance(v, bool):
        return [float(v)]
    if isinstance(v, (int, float)):
        return [float(v)]
    if isinstance(v, (list, tuple)):
        out = []
        for x in v:
            sub = _numbers(x)
            if sub is None:
                return None
            out += sub
        return out
    if isinstance(v, dict):
        return _numbers([v[k] for k in sorted(v)])
    return None


def _value_ulp(va: Any, vb: Any) -> tuple[int | None, bool]:
    import numpy as np

    from ..compare import ulp_distance

    na, nb = _numbers(va), _numbers(vb)
    if na is None or nb is None or len(na) != len(nb) or (isinstance(va, dict) and isinstance(vb, dict)
                                                            and sorted(va) != sorted(vb)):
        return None, False
    if not na:
        return 0, True
    x, y = np.array(na), np.array(nb)
    with np.errstate(over="ignore", invalid="ignore"):
        is32 = all(np.array_equal(v.astype(np.float32).astype(np.float64), v, equal_nan=True) for v in (x, y))
    u = ulp_distance(x.astype(np.float32), y.astype(np.float32), "float32") if is32 else ulp_distance(x, y, "float64")
    return int(np.max(np.where(np.isnan(x) & np.isnan(y), 0, u))), True


def _flatten(obj: Any, prefix: str, out: dict[str, str]) -> dict[str, str]:
    if isinstance(obj, dict) and obj:
        for k in sorted(obj, key=str):
            _flatten(obj[k], f"{prefix}/{k}" if prefix else str(k), out)
    else:
        out[prefix] = value(obj, 10_000)
    return out


def diff_api_surface(sa: dict, sb: dict) -> list[ApiChange]:
    """Every leaf of the two API snapshots (per framework, per public layer/loss/optimizer: signature and config)
    that changed, was added or was removed; the side is the snapshot's top-level key (the framework). Nothing when
    either report has no snapshot (see `completeness_notes`)."""
    from ..fingerprint import side_of

    if not sa or not sb:
        return []
    fa, fb = _flatten(sa, "", {}), _flatten(sb, "", {})
    out = []
    for item in sorted(set(fa) | set(fb)):
        before, after = fa.get(item), fb.get(item)
        if before == after:
            continue
        kind = "added" if before is None else ("removed" if after is None else "changed")
        out.append(ApiChange(side_of(item.split("/", 1)[0]), item, kind, before, after))
    return out


def _compare_errors(nodeid: str, rows_a: dict, rows_b: dict, d: ReportDiff) -> None:
    for key in sorted(set(rows_a) & set(rows_b)):
        ea, eb = rows_a[key]["error_over_tol"], rows_b[key]["error_over_tol"]
        if math.isnan(ea) or math.isnan(eb):
            continue
        fa, fb = max(ea, d.floor), max(eb, d.floor)
        if math.isinf(fa) and math.isinf(fb):
            continue
        ratio = fb / fa if math.isfinite(fa) else 0.0
        growth = Growth(nodeid, key, ea, eb, ratio, rows_a[key]["max_abs"], rows_b[key]["max_abs"])
        if fb > d.factor * fa:
            d.grew.append(growth)
        elif fa > d.factor * fb:
            d.shrank.append(growth)


def diff_catalogue(cat_a: dict, cat_b: dict) -> list[EntryChange]:
    """Entries added/removed, and entries whose observed values moved, appeared (the frameworks began to differ)
    or vanished (they now agree), compared with each entry's own float slack."""
    from ..differences.entry import same

    out = [EntryChange(i, "removed", "-", cat_a[i]["observed"], None) for i in sorted(set(cat_a) - set(cat_b))]
    out += [EntryChange(i, "added", "-", None, cat_b[i]["observed"]) for i in sorted(set(cat_b) - set(cat_a))]
    for entry_id in sorted(set(cat_a) & set(cat_b)):
        ea, eb = cat_a[entry_id], cat_b[entry_id]
        oa, ob = ea["observed"], eb["observed"]
        if oa is None or ob is None:
            if (oa is None) != (ob is None):
                kind = "witness broke" if ob is None else "witness fixed"
                out.append(EntryChange(entry_id, kind, "-", oa or ea["error"], ob or eb["error"]))
            continue
        atol = max(ea["atol"], eb["atol"])
        sides = [s for s in ("tf", "torch") if not same(oa[s], ob[s], atol)]
        if not sides:
            continue
        agree_a, agree_b = same(oa["tf"], oa["torch"], atol), same(ob["tf"], ob["torch"], atol)
        kind = "vanished" if agree_b and not agree_a else ("appeared" if agree_a and not agree_b else "moved")
        out.append(EntryChange(entry_id, kind, "+".join(sides), {s: oa[s] for s in sides}, {s: ob[s] for s in sides}))
    return out


def sections(d: ReportDiff, limit: int | None) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, headers, rows) for each non-empty finding, most important first; rows cut to `limit`."""
    width = None if limit is None else 70

    def cases(items):
        return [[c.nodeid, c.before, c.after, value(headline(c.message), width or 400)] for c in items]

    def growths(items):
        return [[short_id(g.nodeid), g.key, number(g.before), number(g.after), f"{g.ratio:.3g}x",
                 number(g.max_abs_before), number(g.max_abs_after)] for g in items]

    case_head = ["case", "A", "B", "message"]
    grow_head = ["case", "comparison", "A err/tol", "B err/tol", "ratio", "A max abs", "B max abs"]
    found = [
        ("Began failing (regression)", case_head, cases(d.began_failing)),
        ("Catalogue entries whose observed behaviour changed", ["entry", "change", "side", "A observed", "B observed"],
         [[c.id, c.kind, c.sides, value(c.before, width or 400), value(c.after, width or 400)] for c in d.catalogue]),
        (f"Errors that grew more than {d.factor:g}x (error as a fraction of its tolerance, floored at "
         f"{d.floor:g})", grow_head, growths(d.grew)),
        ("Stopped failing", case_head, cases(d.stopped_failing)),
        ("Outcome changed (not failing in either)", case_head, cases(d.outcome_changed)),
        (f"Errors that shrank more than {d.factor:g}x", grow_head, growths(d.shrank)),
        ("Cases only in A", ["case"], [[n] for n in d.only_a]),
        ("Cases only in B", ["case"], [[n] for n in d.only_b]),
        ("Outputs whose bits changed, per family and side (listed only, never a regression)",
         ["family", "side", "outputs changed", "cases", "largest ulp change"], bit_summary(d.bits)),
        ("Outputs whose bits changed, largest ulp change first (fingerprints; listed only)",
         ["family", "side", "case", "output", "change", "max ulp"],
         [[c.family, c.side, short_id(c.nodeid), value(c.key, width or 400), c.kind, c.ulp_text] for c in d.bits]),
        ("Public API changes: signatures, defaults, configs (listed only)", ["side", "item", "change", "A", "B"],
         [[c.side, c.item, c.kind, value(c.before or "-", width or 400), value(c.after or "-", width or 400)]
          for c in d.api]),
    ]
    if d.platform_changes:  # every change may be the platform's doing: say so beside each one
        found = [(title, head + ["note"], [row + [schema.PLATFORM_TAG] for row in rows]) for title, head, rows in found]
    return [(f"{title} ({len(rows)})", head, rows if limit is None else rows[:limit]) for title, head, rows in found
            if rows]


def bit_summary(bits: list[BitChange]) -> list[list[Any]]:
    """Per family and side: how many outputs changed, in how many cases, and the largest ulp change."""
    groups: dict[tuple[str, str], list[BitChange]] = {}
    for c in bits:
        groups.setdefault((c.family, c.side), []).append(c)
    rows = []
    for (family, side), items in groups.items():
        rows.append([family, side, len(items), len({c.nodeid for c in items}), min(items, key=lambda c: c.order)])
    rows.sort(key=lambda r: r[4].order)
    return [r[:4] + [r[4].ulp_text] for r in rows]


def render(d: ReportDiff, a: dict, b: dict, names: tuple[str, str], markdown: bool = False,
           limit: int | None = 30) -> str:
    """The whole diff as a terminal report, or as Markdown (never cut) when `markdown`."""
    limit = None if markdown else limit
    pkgs = sorted(set(a["versions"]) | set(b["versions"]))
    vers = [[p, a["versions"].get(p, "-"), b["versions"].get(p, "-")] for p in pkgs]
    h1, h2 = ("# ", "## ") if markdown else ("", "")
    out = [f"{h1}equivalence diff: A = {names[0]}, B = {names[1]}", "",
           table(["package", "A", "B"], vers, markdown), "",
           f"{d.common} cases in both reports, {len(d.only_a)} only in A, {len(d.only_b)} only in B."]
    warnings = d.warnings + [w for w in schema.platform_warnings(a, b, names) if w not in d.warnings]
    out += [f"warning: {w}" for w in warnings]
    out += [f"note: {n}" for n in d.notes]
    if not d.platform_changes and a.get("platform") and b.get("platform"):
        out.append(f"platform: the same in both ({platform_line(b['platform'])})")
    out += ["", f"{h2}Per family (passed/cases, worst passing error/tolerance)", family_table(a, b, markdown)]
    for title, head, rows in sections(d, limit):
        total = int(title.rsplit("(", 1)[1].rstrip(")"))
        more = f"\n  ... and {total - len(rows)} more (see --markdown)" if len(rows) < total else ""
        out += ["", f"{h2}{title}", table(head, rows, markdown) + more]
    verdict = ("REGRESSED: " + "; ".join(d.regressions)) if d.regressions else "no regression"
    listed = [f"{len(d.bits)} output(s) changed bits" if d.bits else "", f"{len(d.api)} API item(s) changed" if d.api
              else ""]
    if any(listed):
        verdict += f" (listed only: {', '.join(x for x in listed if x)})"
    if d.platform_changes:
        fields = ", ".join(c.split(":")[0] for c in d.platform_changes)
        verdict += (f" {schema.PLATFORM_TAG}: the platforms differ ({fields}), so any change may be the platform's "
                    "rather than the frameworks'")
    out += ["", f"{h2}Verdict: {verdict}" if markdown else f"Verdict: {verdict}"]
    return "\n".join(out) + "\n"


def platform_line(record: dict) -> str:
    """The identity of a platform record in one line: CPU, ISA, kernels, BLAS."""
    blas = ", ".join(f"{k} {v}" for k, v in (record.get("blas") or {}).items())
    return (f"{record.get('cpu')}, {record.get('arch')} {record.get('vector_isa')}, "
            f"{_platform.describe_conditions(record)}, BLAS {blas or '-'}, {record.get('os', '-').split(' ')[0]}")


def family_table(a: dict, b: dict, markdown: bool) -> str:
    """Passed/cases and the closest call per family, side by side."""
    from .run import FAMILY_LABELS, by_family, closest_call, counts

    fams_a, fams_b = by_family(a["cases"]), by_family(b["cases"])
    rows = []
    for fam in dict.fromkeys([*fams_a, *fams_b]):
        cells = [FAMILY_LABELS.get(fam, fam)]
        for fams in (fams_a, fams_b):
            members = fams.get(fam, [])
            n, worst = counts(members), closest_call(members)
            cells += [f"{n['passed']}/{n['cases']}", number(worst[0]) + "x" if worst else "-"]
        rows.append(cells)
    return table(["family", "A passed", "A worst", "B passed", "B worst"], rows, markdown)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m equivalence diff", allow_abbrev=False,
                                description="Compare two run reports of `python -m equivalence run`.",
                                epilog="Exit status: 0 no regression, 1 regression, 2 usage or report error.")
    p.add_argument("a", help="the baseline report (e.g. the current framework versions)")
    p.add_argument("b", help="the candidate report (e.g. the upgrade)")
    p.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                   help="report errors that grew by more than this factor (default %(default)s)")
    p.add_argument("--floor", type=float, default=DEFAULT_FLOOR,
                   help="errors below this fraction of their tolerance count as this much (default %(default)s)")
    p.add_argument("--markdown", metavar="PATH", help="also write the diff as Markdown")
    p.add_argument("--plot", metavar="PATH", help="also plot error vs tolerance, A against B (needs matplotlib)")
    p.add_argument("--limit", type=int, default=30, help="rows per terminal table (default %(default)s)")
    p.add_argument("--allow-suite-mismatch", action="store_true",
                   help="compare reports written by different suite versions anyway")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        a, b = schema.load(args.a), schema.load(args.b)
        warnings = schema.check_comparable(a, b, (args.a, args.b), args.allow_suite_mismatch)
        d = diff_reports(a, b, args.factor, args.floor)
    except (schema.ReportError, ValueError) as exc:
        print(f"equivalence diff: {exc}", file=sys.stderr)
        return 2
    d.warnings = warnings
    names = (args.a, args.b)
    print(render(d, a, b, names, limit=args.limit), end="")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(render(d, a, b, names, markdown=True), encoding="utf-8")
        print(f"markdown: {args.markdown}")
    if args.plot:
        from .plot import PlotError, plot

        try:
            print(f"plot: {plot(a, b, d, args.plot, names)}")
        except PlotError as exc:
            print(f"equivalence diff: {exc}", file=sys.stderr)
            return 2
    return 1 if d.regressions else 0
