"""How far a spec-built model's float32 output may be off its float64 reference.

Tolerance of a whole model (`Pair.tolerance`):

* Per element (`error_bounds.ElementBound`), for every spec whose layers all have a per-element rule (all but
  LSTM/GRU) and that has a reference: each node's absolute error bound is propagated through the float64 trace
  from its own inputs' magnitudes and its own accumulation depth (`error_bounds.node_bounds`), and the output is
  checked element by element (`error_bounds.assert_forward_equivalent`). Measured on the seed models (3 inputs,
  oneDNN on): TF and torch use <= 5% of their bound; TF32-rounded matmul/conv inputs, float16 softmax and every
  activation x1.0001 exceed it 6-140x (tests/meta/test_model_tolerance.py).
* Otherwise the scalar rule ``tolerances.tolerance(float32, depth=D, scale=S)`` with
  D = (sum over layers of sqrt(K_l))**2, K_l = the accumulation length of one output element of layer l
      (Dense: fan-in; Conv: kh*kw*C_in/groups; pooling: window; BatchNorm/LayerNorm: the reduced count;
      LSTM/GRU: T*(C_in + units); softmax: C; elementwise: 1), because layer errors add relatively and each layer
      contributes ~ACC_FACTOR*u*sqrt(K_l), so the per-layer terms sum to ACC_FACTOR*u*sqrt(D);
  S = max |value| over every node of the float64 reference (input and dense/conv pre-activations included:
      GELU/ELU tails cancel terms of the size of their input), propagated through the layers that cancel terms
      or amplify errors (`error_scale`: alpha of ELU/SELU; BatchNorm/LayerNorm multiply by gamma/sqrt(var+eps)):
      rounding errors scale with the magnitude of the terms summed, not with a squashed or cancelled output.
  This rule is ~2e-3 relative at the seed CNN's median output, loose enough to pass TF32 rounding; it remains for
  recurrent specs and for training-mode dropout (no reference), and for the gradient/training tests' depths.
"""
from __future__ import annotations

import math

import numpy as np

from . import reference
from .layer_kinds import KINDS
from .spec import INPUT, ModelSpec
from .weights import Weights


def layer_depths(spec: ModelSpec, batch: int = 4) -> dict[str, int]:
    """K_l per layer: how many terms are accumulated into one output element (each kind's `depth`; see the module
    docstring)."""
    return {l.name: max(int(KINDS[l.kind].depth(l, [spec.shapes[s] for s in spec.sources(l)], batch)), 1)
            for l in spec.layers}


def error_scale(spec: ModelSpec, weights: Weights, values: dict, training: bool = False) -> float:
    """S: the magnitude that float32 rounding errors are proportional to, propagated from the input to the output.

    Per node, E = max(|value|, E of its inputs), and more where a layer cancels terms or amplifies errors (each
    kind's `scale`):
    * ELU/SELU: at least alpha (SELU: scale*alpha). TF computes alpha*(exp(x) - 1), not expm1, so near 0- its
      absolute error is ~u*alpha (difference 'elu-selu-near-zero').
    * BatchNorm/LayerNorm: max(E_in, max|x|) * max|gamma|/sqrt(var + eps). Keras computes x*inv + (beta - mean*inv),
      whose terms are |x|*inv and cancel (difference 'norm-affine-cancellation'), and any upstream absolute error
      is amplified by inv when the variance is small.
    `values` is the reference trace in the same mode (`training` picks batch or moving BatchNorm statistics).
    Returns max E over the nodes.
    """
    scales = {INPUT: float(np.max(np.abs(values[INPUT]))) if np.size(values[INPUT]) else 0.0}
    for l in spec.layers:
        srcs = spec.sources(l)
        e = KINDS[l.kind].scale(l, max(scales[s] for s in srcs), values[srcs[0]], weights.get(l.name, {}), training)
        own = [values[k] for k in (l.name, l.name + reference.PRE) if k in values]
        scales[l.name] = max([e] + [float(np.max(np.abs(v))) for v in own if np.size(v)])
    return max(scales.values())


def accumulation_depth(spec: ModelSpec, batch: int = 4) -> int:
    """D = (sum_l sqrt(K_l))**2 (see the module docstring)."""
    return int(math.ceil(sum(math.sqrt(k) for k in layer_depths(spec, batch).values()) ** 2))


__all__ = ["accumulation_depth", "error_scale", "layer_depths"]
