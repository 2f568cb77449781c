"""group_norm: keras.layers.GroupNormalization <-> torch.nn.GroupNorm, on rank-2, -3 and -4 inputs.

Args: groups (required: Keras defaults to 32, torch has no default), epsilon (1e-3, Keras' default, passed to
torch, whose default is 1e-5: catalogue entry group-norm-epsilon-default). Channel c belongs to group
c // (C/groups) on both sides (contiguous blocks). Canonical parameters: gamma, beta (C,).

torch's GroupNorm wants the channels at dim 1: an NCHW map has them there, a (N, L, C) sequence is permuted to
(N, C, L) and back, (N, C) is taken as it is. Statistics are over the group's channels and every spatial position
of one example, in training and inference alike (no moving statistics).
"""
from __future__ import annotations

import math

import numpy as np

from .. import runtime
from .base import CANONICAL, Arg, LayerKind, REQUIRED, SpecError, need_rank, no_check, positive, positive_int
from .mapping import Map, Weight, around_one, small
from .norm import _normalize, _normalize_bound
from .torchnn import CHANNELS_FIRST, modules


def _grouped(x, groups: int):
    """(N, ..., C) -> (N, ..., G, C/G) and the axes of one group's statistics (all but batch and G)."""
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    return g, tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)


def group_norm(x, gamma, beta, groups: int, eps: float):
    g, axes = _grouped(x, groups)
    shape = (groups, x.shape[-1] // groups)
    y = _normalize(g, g.mean(axis=axes, keepdims=True), g.var(axis=axes, keepdims=True), eps,
                   gamma.reshape(shape), beta.reshape(shape))
    return y.reshape(x.shape)


def _bound(l, args, errs, y, w, values, training):
    """norm's bound (batch statistics: Keras computes x*inv + (beta - mean*inv)) on the grouped view."""
    G = l["groups"]
    x, axes = _grouped(args[0], G)
    e, _ = _grouped(errs[0], G)
    yg, _ = _grouped(y, G)
    shape = (G, args[0].shape[-1] // G)
    b = _normalize_bound(x, e, yg, axes, x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True),
                         l["epsilon"], w["gamma"].reshape(shape), w["beta"].reshape(shape), True)
    return b.reshape(args[0].shape)


def _scale(l, e, x, w, training):
    """max(E_in, max|x|) * max|gamma| / sqrt(min group variance + eps): norm's rule on the grouped view."""
    g, axes = _grouped(np.asarray(x, np.float64), l["groups"])
    var = float(g.var(axis=axes).min())
    return max(e, float(np.max(np.abs(x)))) * float(np.max(np.abs(w["gamma"]))) / math.sqrt(var + l["epsilon"])


def _shape(l, ins):
    x = ins[0]
    need_rank(l, x, 2, 3, 4)
    if x[-1] % l["groups"]:
        raise SpecError(f"groups={l['groups']} must divide the channels ({x[-1]})")
    return x


def _torch(l, x):
    core = runtime.torch().nn.GroupNorm(l["groups"], x[-1], eps=l["epsilon"])
    return modules().Wrap(core, **CHANNELS_FIRST) if len(x) == 2 else core


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    c = x[-1]
    return dict(groups=draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]), label=f"groups{tag}"),
                epsilon=draw(st.sampled_from([1e-3, 1e-5]), label=f"epsilon{tag}"))


GROUP_NORM = LayerKind(
    name="group_norm", keras="keras.layers.GroupNormalization", torch="torch.nn.GroupNorm",
    notes="contiguous channel groups on both sides; channels at dim 1 in torch (a sequence is permuted); eps "
          "passed explicitly (Keras 1e-3, torch 1e-5)",
    args=dict(groups=Arg(REQUIRED, positive_int), epsilon=Arg(1e-3, positive)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape,
    params=lambda l, x: {"gamma": Weight((x[-1],), around_one), "beta": Weight((x[-1],), small)},
    torch_params=(Map("gamma", "weight"), Map("beta", "bias")),
    keras_layer=lambda l, x: runtime.keras().layers.GroupNormalization(groups=l["groups"], axis=-1,
                                                                        epsilon=l["epsilon"], name=l.name),
    torch_module=_torch,
    forward=lambda l, args, w, training, trace: group_norm(args[0], w["gamma"], w["beta"], l["groups"],
                                                           l["epsilon"]),
    depth=lambda l, ins, batch: math.prod(ins[0][:-1]) * ins[0][-1] // l["groups"],
    bound=_bound, scale=_scale, strategy=_draw, slots=("cnn",),
)
