"""A float64 NumPy forward pass of a spec, written from the layer formulas (not from either framework).

Works in the canonical channels-last layout with the canonical weights, so it checks both frameworks' builders and
both weight conversions independently. Each kind's formula is its record's `forward` (equivalence.layer_kinds).
Returns None where no deterministic reference exists (training-mode dropout with rate > 0).
"""
from __future__ import annotations

import numpy as np

from .layer_kinds import KINDS
from .layer_kinds.linear import PRE  # trace key suffix of a dense/conv pre-activation value
from .layer_kinds.activation import SELU_ALPHA, SELU_SCALE, activate
from .layer_kinds.recurrent import MASK, MASK_IN  # trace key suffixes of masks (mask_zero)
from .layer_kinds.sequence import masked_nodes
from .spec import INPUT, LayerSpec, ModelSpec
from .weights import Weights


def layer_forward(l: LayerSpec, args: list[np.ndarray], w: dict[str, np.ndarray], training: bool,
                  trace: dict | None = None):
    """One layer in float64; None where there is no deterministic result. Intermediates (`<name>:pre`) go to
    `trace` when given."""
    return KINDS[l.kind].forward(l, args, w, training, {} if trace is None else trace)


def trace(spec: ModelSpec, weights: Weights, x: np.ndarray, *, training: bool = False) -> dict[str, np.ndarray] | None:
    """Every node's float64 value (the input included), plus `<name>:pre`, the pre-activation value of each dense/conv
    with an activation (its magnitude bounds the terms the activation cancels), and `<name>:mask` / `<name>:mask_in`,
    the (N, T) mask a node's output carries / a layer's input carries (Embedding mask_zero); None when some layer
    has no deterministic reference."""
    w64 = {n: {k: np.asarray(v, np.float64) for k, v in lw.items()} for n, lw in weights.items()}
    values = {INPUT: np.asarray(x) if spec.input_dtype == "int32" else np.asarray(x, np.float64)}
    masked = masked_nodes(spec, INPUT)
    for l in spec.layers:
        if masked[spec.sources(l)[0]]:  # its input carries a mask (`<name>:mask`): the layer reads `<layer>:mask_in`
            values[l.name + MASK_IN] = values[spec.sources(l)[0] + MASK]
        y = layer_forward(l, [values[s] for s in spec.sources(l)], w64.get(l.name, {}), training, values)
        if y is None:
            return None
        values[l.name] = y
    return values


def forward(spec: ModelSpec, weights: Weights, x: np.ndarray, *, training: bool = False) -> np.ndarray | None:
    """The model output in float64 (None where no deterministic reference exists)."""
    values = trace(spec, weights, x, training=training)
    return None if values is None else values[spec.layers[-1].name]


__all__ = ["PRE", "SELU_ALPHA", "SELU_SCALE", "activate", "forward", "layer_forward", "trace"]
