"""Error vs tolerance, version A against version B: one point per (case, comparison) measured in both reports.

x = error as a fraction of its tolerance under A, y = the same under B (log-log, floored like `diff`). Points on the
diagonal did not move; above the dashed line they grew by more than the factor; right of / above 1 they fail.
The comparisons that grew most are labelled. When the reports' platforms differ the title says so
(``[platform differs]``, naming the fields). Needs matplotlib (`pip install -e '.[plot]'`).
"""
from __future__ import annotations

import math
from pathlib import Path

from .formatting import short_id

_LABELLED = 8  # how many of the largest growths get a text label


class PlotError(RuntimeError):
    """The plot cannot be drawn (matplotlib missing, nothing measured in both reports)."""


def points(a: dict, b: dict, floor: float) -> list[tuple[float, float, str]]:
    """(A err/tol, B err/tol, label) for every comparison present in both reports, floored; NaN ones left out."""
    out = []
    for nodeid in sorted(set(a["cases"]) & set(b["cases"])):
        rows_a, rows_b = a["cases"][nodeid]["measurements"], b["cases"][nodeid]["measurements"]
        for key in sorted(set(rows_a) & set(rows_b)):
            ea, eb = rows_a[key]["error_over_tol"], rows_b[key]["error_over_tol"]
            if not (math.isnan(ea) or math.isnan(eb)):
                out.append((max(ea, floor), max(eb, floor), f"{short_id(nodeid)} {key}"))
    return out


def plot(a: dict, b: dict, d, path: str | Path, names: tuple[str, str]) -> Path:
    """Draw the A-vs-B error/tolerance scatter of a `ReportDiff` `d` into `path` (PNG/SVG/PDF by suffix)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("--plot needs matplotlib: pip install -e '.[plot]'") from None
    pts = [(x, y, label) for x, y, label in points(a, b, d.floor) if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        raise PlotError("no comparison was measured (finitely) in both reports, so there is nothing to plot")
    xs, ys, labels = zip(*pts)
    top = max(max(xs), max(ys), 2.0) * 2
    fig, ax = plt.subplots(figsize=(8, 7))
    grew = [y > d.factor * x for x, y, _ in pts]
    ax.scatter([x for x, g in zip(xs, grew) if not g], [y for y, g in zip(ys, grew) if not g], s=10, alpha=0.5,
               color="tab:blue", label="within the factor")
    ax.scatter([x for x, g in zip(xs, grew) if g], [y for y, g in zip(ys, grew) if g], s=18, color="tab:red",
               label=f"grew > {d.factor:g}x")
    ax.plot([d.floor, top], [d.floor, top], color="grey", lw=0.8)
    ax.plot([d.floor, top / d.factor], [d.floor * d.factor, top], color="tab:red", lw=0.8, ls="--")
    ax.axhline(1.0, color="black", lw=0.6, ls=":")
    ax.axvline(1.0, color="black", lw=0.6, ls=":")
    ranked = sorted(range(len(pts)), key=lambda i: -(ys[i] / xs[i]))[:_LABELLED]
    for k, i in enumerate(i for i in ranked if grew[i]):  # staggered: the largest growths often sit together
        ax.annotate(labels[i][:60], (xs[i], ys[i]), fontsize=6, xytext=(6, 4 + 8 * k), textcoords="offset points",
                    arrowprops=dict(arrowstyle="-", lw=0.4, color="grey"))
    ax.set(xscale="log", yscale="log", xlim=(d.floor / 2, top), ylim=(d.floor / 2, top),
           xlabel=f"A: error / tolerance  ({_versions(a)})", ylabel=f"B: error / tolerance  ({_versions(b)})",
           title=f"error vs tolerance per comparison, {len(pts)} comparisons\nA = {names[0]}  B = {names[1]}"
                 + (f"\n[platform differs] ({', '.join(c.split(':')[0] for c in d.platform_changes)}): changes may be "
                    "the platform's, not the frameworks'" if getattr(d, "platform_changes", None) else ""))
    ax.title.set_fontsize(9)
    ax.legend(loc="upper left", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _versions(report: dict) -> str:
    v = report["versions"]
    return " ".join(f"{k} {v[k]}" for k in ("tensorflow", "keras", "torch") if k in v)
