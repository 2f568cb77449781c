"""batch_norm / layer_norm over the channel (last canonical) axis, on rank-2, -3 and -4 inputs.

torch's BatchNorm1d/2d want the channels at dim 1 (a rank-3 (N, L, C) input is permuted to (N, C, L) and back),
LayerNorm wants them last (an NCHW map is permuted to NHWC and back). BatchNorm's momentum is Keras' convention
(weight of the OLD statistic): torch's is 1 - it. Epsilons are passed explicitly (defaults differ).
"""
from __future__ import annotations

import math

import numpy as np

from .. import runtime
from ..tolerances import ACC_FACTOR, DEFAULT_ULPS
from .base import CANONICAL, Arg, LayerKind, need_rank, no_check, positive
from .mapping import Map, Weight, around_one, small
from .torchnn import CHANNELS_FIRST, modules
from .activation import U


def _momentum(kind: str, arg: str, v) -> str | None:
    ok = isinstance(v, (int, float)) and 0.0 <= v <= 1.0
    return None if ok else f"{arg} (Keras convention, weight of the old statistic) must be in [0, 1], got {v!r}"


def _shape(l, ins):
    need_rank(l, ins[0], 2, 3, 4)
    return ins[0]


def _normalize(x, mean, var, eps, gamma, beta):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _normalize_bound(x, e, y, axes, mean, var, eps_, gamma, beta, batch_stats: bool) -> np.ndarray:
    """(x - mean)/sqrt(var + eps)*gamma + beta, computed as x*inv + (beta - mean*inv) with inv = gamma*rsqrt(.).

    Batch statistics (BatchNorm training, LayerNorm) also carry the input errors and their own rounding into the
    mean and the variance: d mean <= mean(E) + rounding, d var <= 2 mean(|x - mean| E) + ACC u sqrt(n) mean(x^2)
    (one-pass E[x^2] - E[x]^2), d sigma = d var / (2 sigma), and x_hat = (x - mean)/sigma moves by
    (E + d mean)/sigma + |x_hat| d sigma/sigma. Keras' affine terms |x*inv|, |mean*inv|, |beta| cancel
    (difference 'norm-affine-cancellation').
    """
    sigma = np.sqrt(var + eps_)
    inv = np.abs(gamma) / sigma
    x_hat = np.abs(x - mean) / sigma
    err = np.abs(inv) * e
    if batch_stats:
        n = math.prod(x.shape[a] for a in axes)
        acc = (ACC_FACTOR * math.sqrt(n) + 1) * U
        d_mean = e.mean(axis=axes, keepdims=True) + acc * np.abs(x).mean(axis=axes, keepdims=True)
        d_var = 2 * (np.abs(x - mean) * e).mean(axis=axes, keepdims=True) + acc * (x * x).mean(axis=axes, keepdims=True)
        d_var = d_var + 2 * np.abs(mean) * d_mean
        err = inv * (e + d_mean + x_hat * d_var / (2 * sigma))
    own = DEFAULT_ULPS * U * (np.abs(x) * inv + np.abs(mean) * inv + np.abs(beta) + np.abs(y))
    return err + own


def _scale(gain):
    """E = max(E_in, max|x|) * max|gamma|/sqrt(var + eps): Keras computes x*inv + (beta - mean*inv), whose terms
    are |x|*inv and cancel, and any upstream absolute error is amplified by inv when the variance is small."""
    def hook(l, e, x, w, training):
        x = np.asarray(x, np.float64)
        var = gain(x, w, training)
        return max(e, float(np.max(np.abs(x)))) * float(np.max(np.abs(w["gamma"]) / np.sqrt(var + l["epsilon"])))
    return hook


# ------------------------------------------------------------------------------------------------ batch_norm
def _bn_stats(x, w, training):
    axes = tuple(range(x.ndim - 1))
    return (x.mean(axis=axes), x.var(axis=axes)) if training else (w["moving_mean"], w["moving_variance"])


def _bn_forward(l, args, w, training, trace):
    mean, var = _bn_stats(args[0], w, training)
    return _normalize(args[0], mean, var, l["epsilon"], w["gamma"], w["beta"])


def _bn_bound(l, args, errs, y, w, values, training):
    x, e, eps_ = args[0], errs[0], l["epsilon"]
    axes = tuple(range(x.ndim - 1))
    if training:
        return _normalize_bound(x, e, y, axes, x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True),
                                eps_, w["gamma"], w["beta"], True)
    return _normalize_bound(x, e, y, axes, w["moving_mean"], w["moving_variance"], eps_, w["gamma"], w["beta"], False)


def _bn_torch(l, x):
    nn, rank = runtime.torch().nn, len(x) + 1
    # torch momentum = weight of the NEW statistic = 1 - Keras momentum
    core = (nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d)(x[-1], eps=l["epsilon"], momentum=1.0 - l["momentum"])
    return modules().Wrap(core, **CHANNELS_FIRST) if rank == 3 else core


def _bn_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(momentum=draw(st.sampled_from([0.99, 0.9, 0.0])))


BATCH_NORM = LayerKind(
    name="batch_norm", keras="keras.layers.BatchNormalization", torch="torch.nn.BatchNorm1d/2d",
    notes="torch momentum = 1 - Keras momentum; eps passed explicitly",
    # momentum in Keras' convention: weight of the OLD statistic
    args=dict(momentum=Arg(0.99, _momentum), epsilon=Arg(1e-3, positive)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape,
    params=lambda l, x: {"gamma": Weight((x[-1],), around_one), "beta": Weight((x[-1],), small),
                         "moving_mean": Weight((x[-1],), small), "moving_variance": Weight((x[-1],), around_one)},
    torch_params=(Map("gamma", "weight"), Map("beta", "bias"), Map("moving_mean", "running_mean"),
                  Map("moving_variance", "running_var")),
    keras_layer=lambda l, x: runtime.keras().layers.BatchNormalization(momentum=l["momentum"],
                                                                        epsilon=l["epsilon"], name=l.name),
    torch_module=_bn_torch, forward=_bn_forward,
    depth=lambda l, ins, batch: batch * math.prod(ins[0][:-1]),
    bound=_bn_bound,
    scale=_scale(lambda x, w, training: x.var(axis=tuple(range(x.ndim - 1))) if training
                 else w["moving_variance"].astype(np.float64)),
    strategy=_bn_draw, slots=("mlp", "cnn"),
)


# ------------------------------------------------------------------------------------------------ layer_norm
def _ln_forward(l, args, w, training, trace):
    x = args[0]
    return _normalize(x, x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True), l["epsilon"], w["gamma"],
                      w["beta"])


def _ln_bound(l, args, errs, y, w, values, training):
    x = args[0]
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return _normalize_bound(x, errs[0], y, (x.ndim - 1,), mean, var, l["epsilon"], w["gamma"], w["beta"], True)


def _ln_torch(l, x):
    core = runtime.torch().nn.LayerNorm(x[-1], eps=l["epsilon"])
    return modules().Wrap(core, to_cf=(0, 2, 3, 1), from_cf=(0, 3, 1, 2)) if len(x) + 1 == 4 else core


def _ln_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(epsilon=draw(st.sampled_from([1e-3, 1e-5])))


LAYER_NORM = LayerKind(
    name="layer_norm", keras="keras.layers.LayerNormalization", torch="torch.nn.LayerNorm",
    notes="normalises the channel axis: NCHW needs a permute",
    args=dict(epsilon=Arg(1e-3, positive)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape,
    params=lambda l, x: {"gamma": Weight((x[-1],), around_one), "beta": Weight((x[-1],), small)},
    torch_params=(Map("gamma", "weight"), Map("beta", "bias")),
    keras_layer=lambda l, x: runtime.keras().layers.LayerNormalization(axis=-1, epsilon=l["epsilon"], name=l.name),
    torch_module=_ln_torch, forward=_ln_forward,
    depth=lambda l, ins, batch: ins[0][-1],
    bound=_ln_bound,
    scale=_scale(lambda x, w, training: x.var(axis=-1, keepdims=True)),
    strategy=_ln_draw, slots=("mlp", "seq"),
)
