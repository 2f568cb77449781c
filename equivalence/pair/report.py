"""A check_pair result as text (summary, the assert helper's message), Markdown and JSON.

JSON (`as_dict`): top-level "equivalent" (bool) and "first_divergence" (null, or an object with "keras_layer",
"torch_module", "stage", "part", "max_abs", "max_rel", "tolerance", "element", "likely_causes"), then "layers",
"grads", "step" (one object per comparison), "structure" and "settings".
"""
from __future__ import annotations

import json


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _first(b) -> list[str]:
    stage = {"forward": "forward", "gradient": "gradient of", "step": "after one step,"}[b.stage]
    lines = [f"first divergence ({stage} {b.kind} {b.part if b.stage != 'forward' else ''}".rstrip() + f"): "
             f"{b.where}"]
    if b.note:
        lines.append(f"  {b.note}")
    if b.element:
        lines.append(f"  max abs err {b.max_abs:.3g}, max rel err {b.max_rel:.3g}; tolerance atol={b.atol:.3g} "
                     f"rtol={b.rtol:.3g} [{b.reason}]")
    if b.element:
        e = b.element
        lines.append(f"  worst element {tuple(e['index'])} (Keras layout): keras={e['keras']!r} torch={e['torch']!r}, "
                     f"allowed {e['allowed']:.3g} ({b.over:.3g}x the tolerance)")
    for ident, why in b.causes:
        lines.append(f"  likely cause{' [' + ident + ']' if ident else ''}: {why}")
    return lines


def summary(r) -> str:
    """The verdict in a few lines: the first divergence on both sides, its figures, its likely cause, the structure."""
    n = len(r.layers) + len(r.grads) + len(r.step)
    if r.equivalent:
        head = [f"EQUIVALENT: {len(r.layers)} boundaries, {len(r.grads)} gradients, {len(r.step)} step values "
                f"({n} comparisons) within the model tolerance rule"]
    else:
        head = [f"NOT EQUIVALENT ({sum(not b.ok for b in r.layers + r.grads + r.step)} of {n} comparisons fail)"]
        head += _first(r.first_divergence) if r.first_divergence else [
            "  every compared value agrees, but the structures differ (below)"]
    return "\n".join(head + [f"  {line}" for line in r.structure.lines()])


def as_dict(r) -> dict:
    return {"equivalent": bool(r.equivalent),
            "first_divergence": None if r.first_divergence is None else r.first_divergence.record(),
            "layers": [b.record() for b in r.layers], "grads": [b.record() for b in r.grads],
            "step": [b.record() for b in r.step], "structure": r.structure.record(), "settings": r.settings}


def to_json(r, **kw) -> str:
    kw.setdefault("indent", 2)
    return json.dumps(as_dict(r), default=_default, **kw)


def _default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (tuple, set)):
        return list(o)
    return str(o)


def _table(rows) -> list[str]:
    out = ["| # | Keras layer | torch module | kind | shape | max abs | max rel | atol | rtol | ok |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for i, b in enumerate(rows):
        k = b.keras_layer + ("" if b.part in ("output",) else f" ({b.part})")
        t = (b.torch_module or "(module output)") + (f" [call {b.torch_call + 1}]" if b.torch_call else "")
        out.append(f"| {i} | `{k}` | `{t}` | {b.kind} | {tuple(b.shape)} | {_fmt(b.max_abs)} | {_fmt(b.max_rel)} | "
                   f"{_fmt(b.atol)} | {_fmt(b.rtol)} | {'yes' if b.ok else '**NO**'} |")
    return out


def markdown(r) -> str:
    s = r.settings
    lines = [f"# check_pair: {'equivalent' if r.equivalent else 'NOT equivalent'}", "",
             f"transfer: {s['transfer']}; torch layout: {s['torch_layout']}; mode: "
             f"{'training (dropout disabled)' if s['training'] else 'inference'}; inputs: {s['inputs']} {s['dtype']}",
             ""]
    if r.first_divergence is not None:
        lines += ["## First divergence", "", "```", *_first(r.first_divergence), "```", ""]
    lines += ["## Boundaries", "", *_table(r.layers), ""]
    if r.grads:
        lines += ["## Gradients", "", "Scalar loss sum(output * c), c a fixed standard-normal array.", "",
                  *_table(r.grads), ""]
    if r.step:
        st = s["step"]
        lines += ["## One optimizer step", "", f"Keras {st['optimizer']}({st['keras']}) vs torch {st['torch']}.", "",
                  *_table(r.step), ""]
    st = r.structure
    lines += ["## Structure", "", *[f"- {line}" for line in st.lines()], "",
              "| Keras layer | kind | Keras parameters | torch module | torch parameters | note |",
              "|---|---|---|---|---|---|"]
    lines += [f"| `{x['keras_layer']}` | {x['keras_kind']} | {x['keras_count']:,} | `{x['torch_module']}` | "
              f"{x['torch_count']:,} | {x['note']}{' [' + x['entry'] + ']' if x['entry'] else ''} |" for x in st.rows]
    return "\n".join(lines) + "\n"


__all__ = ["as_dict", "markdown", "summary", "to_json"]
