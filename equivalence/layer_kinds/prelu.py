"""prelu: keras.layers.PReLU <-> torch.nn.PReLU: x for x >= 0, alpha * x below, with a learned alpha.

The spec's one choice is per channel (Keras shared_axes = every axis but the channels, torch num_parameters = C)
or one alpha for all (shared_axes = every axis, num_parameters = 1). Keras' default, one alpha per ELEMENT, has no
torch form. Canonical alpha is Keras' (1, ..., C) or (1, ..., 1); torch's is (C,) or (1,). torch applies per-channel
alphas along dim 1, so an (N, L, C) sequence is permuted to (N, C, L) around it (an NCHW map already has C there).
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from .base import CANONICAL, Arg, LayerKind, boolean, depth_one, no_check, same_shape, scale_unchanged
from .mapping import Flat, Map, Weight
from .torchnn import CHANNELS_FIRST, modules
from .activation import activation_bound


def _alpha_shape(l, x):
    return (*(1,) * (len(x) - 1), x[-1] if l["per_channel"] else 1)


def _slopes(rng, shape):
    """Positive, and unlike each other and both frameworks' initial values (Keras 0, torch 0.25)."""
    return rng.uniform(0.05, 0.45, shape)


def _keras(l, x):
    shared = list(range(1, len(x) if l["per_channel"] else len(x) + 1))  # axes 1..rank-1 of the batched input
    return runtime.keras().layers.PReLU(shared_axes=shared or None, name=l.name)


def _torch(l, x):
    core = runtime.torch().nn.PReLU(num_parameters=x[-1] if l["per_channel"] else 1)
    return modules().Wrap(core, **CHANNELS_FIRST) if l["per_channel"] and len(x) == 2 else core


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(per_channel=draw(st.booleans(), label=f"per_channel{tag}"))


PRELU = LayerKind(
    name="prelu", keras="keras.layers.PReLU(shared_axes=...)", torch="torch.nn.PReLU(num_parameters=C or 1)",
    notes="alpha (1.., C) -> (C,), applied on dim 1 (NCHW; a sequence is permuted); Keras' per-element alpha has "
          "no torch form",
    args=dict(per_channel=Arg(True, boolean)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=same_shape,
    params=lambda l, x: {"alpha": Weight(_alpha_shape(l, x), _slopes)},
    torch_params=(Map("alpha", "weight", Flat("alpha")),),
    keras_layer=_keras, torch_module=_torch,
    forward=lambda l, args, w, training, trace: np.where(args[0] >= 0, args[0], w["alpha"] * args[0]),
    depth=depth_one,
    # a leaky ReLU whose slope is alpha: the same slope bound and rounding
    bound=lambda l, args, errs, y, w, values, training: activation_bound("leaky_relu", args[0], errs[0], y,
                                                                         {"negative_slope": w["alpha"]}),
    scale=scale_unchanged, strategy=_draw, slots=("mlp", "cnn"),
)
