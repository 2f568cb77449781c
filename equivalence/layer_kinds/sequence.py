"""bidirectional and global_avg_pool1d, and the masks Keras' Embedding(mask_zero=True) hands to them.

bidirectional: keras.layers.Bidirectional(LSTM|GRU) <-> torch.nn.LSTM/GRU(bidirectional=True, batch_first=True).
Canonical weights are Keras' per direction, `<direction>_<weight>` (`forward_kernel`, `backward_bias`: Keras
names both directions' variables 'kernel', ..., so the Keras layer renames them); each direction maps to torch
exactly as the lstm/gru kinds do (recurrent.py), the backward one onto the `_reverse` parameters. torch has no
merge_mode: its output is (N, T, 2u), forward then backward, which is Keras' 'concat'; the torch module applies
'sum'/'ave'/'mul' itself.
The last state is each direction's final state (torch's h_n), never torch's out[:, -1] (whose backward half has
seen ONE step).

global_avg_pool1d: keras.layers.GlobalAveragePooling1D <-> x.mean(dim=1), over the valid steps where a mask
arrives ((x * m).sum(1) / m.sum(1), as a torch user writes it).

Masks: a kind's `mask` rule says whether its output carries one (embedding: mask_zero; lstm/gru/bidirectional:
with return_sequences; global_avg_pool1d: never) and a kind without a rule ignores masks, so a masked input
reaching it is rejected (`masked_nodes`): torch would have nothing to drop the padded steps with. Inputs of a
masked spec are right-padded with length >= 1 (torch's pack_padded_sequence rejects a length of 0).

The text classifier the zoo builds from these kinds:

    >>> bilstm_text_classifier().output_shape
    (3,)
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .. import runtime
from ..tolerances import ACC_FACTOR
from .activation import U
from .base import (CANONICAL, REQUIRED, Arg, LayerKind, SpecError, boolean, draws_nothing, need_rank, no_check,
                    no_element_rule, no_params, positive_int, scale_unchanged)
from .mapping import Map, Step
from .recurrent import (GRU_MAPS, GRU_PARAMS, LSTM_MAPS, LSTM_PARAMS, MASK_IN, _reset_after, depth,
                        mask_rule, recurrent_module, scan, takes_mask)

CELLS = {"lstm": (LSTM_PARAMS, LSTM_MAPS), "gru": (GRU_PARAMS, GRU_MAPS)}
DIRECTIONS = (("forward", ""), ("backward", "_reverse"))  # Keras sub-layer prefix, torch parameter suffix
MERGES = {  # Keras merge_mode -> (numpy, torch) merge of (forward, backward)
    "concat": (lambda a, b: np.concatenate([a, b], -1), lambda a, b: runtime.torch().cat([a, b], -1)),
    "sum": (lambda a, b: a + b,) * 2,
    "ave": (lambda a, b: (a + b) / 2,) * 2,
    "mul": (lambda a, b: a * b,) * 2,
}


def masked_nodes(spec, input_name: str = "input") -> dict[str, bool]:
    """{node: whether its output carries a mask}, by each kind's `mask` rule; SpecError where a mask reaches a kind
    that ignores masks (the layer and the masking one named)."""
    from . import KINDS

    masked = {input_name: False}
    for l in spec.layers:
        ins = [masked[s] for s in spec.sources(l)]
        rule = KINDS[l.kind].mask
        if any(ins) and rule is None:
            src = next(s for s, m in zip(spec.sources(l), ins) if m)
            aware = ", ".join(k.name for k in KINDS.values() if k.mask is not None and not k.reads_ids)
            raise SpecError(
                f"model {spec.name!r}, layer {l.label}: reads {src!r}, which carries the mask of an embedding with "
                f"mask_zero=True, but {l.kind} ignores masks (Keras would drop or pass the mask, torch has nothing "
                f"to drop the padded steps with); only {aware} may read a masked sequence")
        masked[l.name] = bool(rule(l, ins)) if rule is not None else False
    return masked


# ---------------------------------------------------------------------------------------------- bidirectional
def _cell(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, str) and v in CELLS else f"{arg} must be one of {sorted(CELLS)}, got {v!r}"


def _merge_mode(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, str) and v in MERGES else (
        f"{arg} must be one of {sorted(MERGES)}, got {v!r} (None, Keras' list of both outputs, is not one tensor)")


def _bi_shape(l, ins):
    need_rank(l, ins[0], 3)
    width = l["units"] * (2 if l["merge_mode"] == "concat" else 1)
    return (ins[0][0], width) if l["return_sequences"] else (width,)


def _bi_params(l, x):
    params = CELLS[l["layer"]][0](l, x)
    return {f"{d}_{name}": w for d, _ in DIRECTIONS for name, w in params.items()}


@dataclasses.dataclass(frozen=True)
class ByCell(Step):
    """The wrapped cell's own steps (the lstm or gru table, by the layer's `layer` argument)."""

    steps: tuple[tuple[str, tuple[Step, ...]], ...]  # (cell, its steps)

    def _steps(self, site):
        return dict(self.steps)[site.layer["layer"]]

    def to(self, a, site):
        for step in self._steps(site):
            a = step.to(a, site)
        return a

    def back(self, a, site):
        for step in reversed(self._steps(site)):
            a = step.back(a, site)
        return a


def _bi_maps():
    """Each direction's cell table: canonical names prefixed, torch names suffixed (`_reverse`); the two cells'
    tables name the same tensors (kernel -> weight_ih_l0, ...), their steps differ (GRU's gate order)."""
    assert [(m.canonical, m.torch) for m in LSTM_MAPS] == [(m.canonical, m.torch) for m in GRU_MAPS]
    return tuple(Map(f"{d}_{ml.canonical}", tuple(n + suffix for n in ml.torch),
                     ByCell((("lstm", ml.steps), ("gru", mg.steps))))
                 for d, suffix in DIRECTIONS for ml, mg in zip(LSTM_MAPS, GRU_MAPS))


def _bi_forward(l, args, w, training, trace):
    mask, cell, merge = takes_mask(l, trace), l["layer"], MERGES[l["merge_mode"]][0]
    # Keras sets zero_output_for_mask = return_sequences in both directions: zeros at masked steps of sequences,
    # the carried last output otherwise
    (fo, fl), (bo, bl) = (scan(cell, args[0], {k[len(d) + 1:]: v for k, v in w.items() if k.startswith(d + "_")},
                               mask, reverse=d == "backward", zero_masked=l["return_sequences"])
                          for d, _ in DIRECTIONS)
    return merge(fo, bo) if l["return_sequences"] else merge(fl, bl)


@functools.cache
def _keras_bidirectional():
    keras = runtime.keras()

    class Bidirectional(keras.layers.Bidirectional):
        """keras.layers.Bidirectional, its variables renamed `<direction>_<name>` once built (Keras names both
        directions' 'kernel', ...; the suite loads and reads weights by variable name)."""

        def build(self, shape):
            super().build(shape)
            for v in self.weights:  # path .../<forward|backward>_<cell>/<cell>_cell/<name>
                v._name = f"{v.path.split('/')[-3].split('_')[0]}_{v.path.split('/')[-1]}"

    return Bidirectional


def _bi_keras(l, x):
    layers = runtime.keras().layers
    cell = (layers.LSTM(l["units"], return_sequences=l["return_sequences"]) if l["layer"] == "lstm"
            else layers.GRU(l["units"], return_sequences=l["return_sequences"], reset_after=l["reset_after"]))
    return _keras_bidirectional()(cell, merge_mode=l["merge_mode"], name=l.name)


def _bi_torch(l, x):
    core = getattr(runtime.torch().nn, l["layer"].upper())(x[-1], l["units"], batch_first=True, bidirectional=True)
    return recurrent_module(core, l["return_sequences"], merge=MERGES[l["merge_mode"]][1], carry=False)


def _bi_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(layer=draw(st.sampled_from(sorted(CELLS)), label=f"cell{tag}"),
                units=draw(st.integers(1, 4), label=f"units{tag}"),
                merge_mode=draw(st.sampled_from(sorted(MERGES)), label=f"merge_mode{tag}"),
                return_sequences=slot == "seq")


BIDIRECTIONAL = LayerKind(
    name="bidirectional", keras="keras.layers.Bidirectional(LSTM|GRU)",
    torch="torch.nn.LSTM/GRU(bidirectional=True, batch_first=True)",
    notes="each direction as lstm/gru, backward -> *_reverse; torch's output is 'concat', other merges applied; "
          "last state from h_n",
    args=dict(layer=Arg(REQUIRED, _cell), units=Arg(REQUIRED, positive_int), return_sequences=Arg(False, boolean),
              merge_mode=Arg("concat", _merge_mode), reset_after=Arg(True, _reset_after)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_bi_shape,
    params=_bi_params, torch_params=_bi_maps(), keras_layer=_bi_keras, torch_module=_bi_torch,
    forward=_bi_forward,
    depth=depth,  # per direction T steps of C + units terms (the merge adds one term)
    bound=no_element_rule, scale=scale_unchanged, strategy=_bi_draw, slots=("seq", "seq_final"), mask=mask_rule,
)


# ---------------------------------------------------------------------------------------------- global_avg_pool1d
def masked_mean(x, mask):
    """The mean over axis 1, over the valid steps where there is a mask (0/0 = NaN for a fully masked row)."""
    if mask is None:
        return x.mean(axis=1)
    m = mask[..., None].astype(x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x * m).sum(axis=1) / m.sum(axis=1)


@functools.cache
def _torch_pool1d():
    nn = runtime.torch().nn

    class GlobalAvgPool1d(nn.Module):
        """x.mean(dim=1), or over the valid steps of a mask: (x * m).sum(1) / m.sum(1)."""

        def forward(self, x, mask=None):
            if mask is None:
                return x.mean(dim=1)
            m = mask[..., None].to(x.dtype)
            return (x * m).sum(dim=1) / m.sum(dim=1)

    return GlobalAvgPool1d


def _gap1d_shape(l, ins):
    need_rank(l, ins[0], 3)
    return (ins[0][1],)


def _gap1d_forward(l, args, w, training, trace):
    return masked_mean(args[0], trace.get(l.name + MASK_IN))


def _gap1d_bound(l, args, errs, y, w, values, training):
    """A mean over the n valid steps: the mean of the bounds plus ACC_FACTOR u sqrt(n) mean|x| (and the division)."""
    mask = values.get(l.name + MASK_IN)
    n = args[0].shape[1] if mask is None else max(int(mask.sum(axis=1).max()), 1)
    return masked_mean(errs[0], mask) + (ACC_FACTOR * math.sqrt(n) + 1) * U * masked_mean(np.abs(args[0]), mask)


GLOBAL_AVG_POOL1D = LayerKind(
    name="global_avg_pool1d", keras="keras.layers.GlobalAveragePooling1D", torch="x.mean(dim=1)",
    notes="the mean over the steps of (N, T, C); with a mask over the valid steps only: (x*m).sum(1)/m.sum(1)",
    args={}, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_gap1d_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.GlobalAveragePooling1D(name=l.name),
    torch_module=lambda l, x: _torch_pool1d()(),
    forward=_gap1d_forward,
    depth=lambda l, ins, batch: ins[0][0],
    bound=_gap1d_bound, scale=scale_unchanged, strategy=draws_nothing, slots=("seq_final",),
    mask=lambda l, masked: False,  # consumes the mask: a mean carries none
)


# ---------------------------------------------------------------------------------------------- the zoo's model
def bilstm_text_classifier(*, vocab: int = 12, steps: int = 6, embed_dim: int = 4, units: int = 3, classes: int = 3,
                           pool: str = "mean", cell: str = "lstm"):
    """Token ids -> Embedding(mask_zero=True) -> Bidirectional(LSTM, sequences) -> the masked mean over the valid
    steps (pool='mean') or the last states (pool='last') -> Dense(classes): a masked text classifier."""
    from ..spec import ModelSpec, layer

    if pool not in ("mean", "last"):
        raise SpecError(f"bilstm_text_classifier: pool must be 'mean' or 'last', got {pool!r}")
    head = (layer("bidirectional", name="bilstm", layer=cell, units=units, return_sequences=True),
            layer("global_avg_pool1d", name="pool")) if pool == "mean" else (
        layer("bidirectional", name="bilstm", layer=cell, units=units),)
    return ModelSpec(f"bi{cell}_text_classifier" + ("" if pool == "mean" else "_last"), (steps,),
                     (layer("embedding", name="embed", input_dim=vocab, output_dim=embed_dim, mask_zero=True), *head,
                      layer("dense", name="logits", units=classes)), "int32")
