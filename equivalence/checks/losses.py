"""The loss check: a LOSS_DB loss under one reduction, Keras and torch against the float64 reference and each other.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..catalog.losses import reduce_ref
from ..compare import assert_equivalent, describe
from ..tolerances import tolerance


def loss_tolerance(info, sample, reduction, ref):
    """The float32 rule: depth = terms summed into one result, scale = largest input or result magnitude.

    A loss computed from float32 inputs carries errors relative to its inputs' magnitudes (log-sum-exp of
    logits ~5 loses ~5 ulp(5) absolutely even when the loss itself is ~1e-3), hence the scale.
    """
    n, c = np.shape(sample.y_pred)[0], np.shape(sample.y_pred)[-1]
    depth = c if reduction == "none" else n * c
    scale = max(np.max(np.abs(ref)), np.max(np.abs(sample.y_pred)), np.max(np.abs(np.asarray(sample.y_true, float))))
    if info.name == "binary_crossentropy" and info.variant == "from_probs":
        # Keras evaluates log(1 - p + eps) in float32: rounding 1 - p costs ~u of the 1, an absolute error ~u in
        # the loss, however small the loss (thorough, AVX2 setting: y = 0, p = 0.00669 gave 3.6e-6 relative on
        # TF; torch uses log1p(-p)). The term 1 belongs to the scale.
        scale = max(scale, 1.0)
    return tolerance("float32", depth=depth, scale=scale, ulps=info.ulps)


def run_both(info, sample, reduction):
    """(keras value, torch value) for one sample under the neutral reduction."""
    keras_red, torch_red = info.reductions[reduction]
    tf_out = info.keras(sample.y_true, runtime.tf().constant(sample.y_pred), keras_red, sample.weight)
    torch_out = info.torch(sample.y_true, runtime.torch().tensor(sample.y_pred), torch_red, sample.weight)
    return tf_out, torch_out


def check_loss(info, reduction, sample) -> None:
    """The loss verdict of one sample under one reduction."""
    __tracebackhide__ = True
    ref = reduce_ref(info, info.ref(sample.y_true, sample.y_pred), sample.weight, reduction, sample.y_true)
    tf_out, torch_out = run_both(info, sample, reduction)
    ctx = "\n".join([describe("y_true", sample.y_true), describe("y_pred", sample.y_pred),
                     f"  mapping: {info.mapping}", f"  reduction {reduction} -> {info.reductions[reduction]}"])
    assert_equivalent(tf_out, torch_out, ref, tol=loss_tolerance(info, sample, reduction, ref),
                      what=f"{info.id}[{reduction}] loss", context=ctx)


__all__ = ["check_loss", "loss_tolerance", "run_both"]
