"""dropout: keras.layers.Dropout <-> torch.nn.Dropout. Inference (or rate 0): the identity. Training: both scale
kept values by 1/(1 - rate), but their random masks differ, so there is no deterministic reference."""
from __future__ import annotations

from .. import runtime
from .base import (PASSES, REQUIRED, Arg, LayerKind, bound_identity, depth_one, no_check, no_params, same_shape,
                    scale_unchanged)


def _rate(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, (int, float)) and 0.0 <= v < 1.0 else f"{kind} {arg} must be in [0, 1), got {v!r}"


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(rate=draw(st.sampled_from([0.0, 0.5])))


DROPOUT = LayerKind(
    name="dropout", keras="keras.layers.Dropout", torch="torch.nn.Dropout",
    notes="inference: identity; training: random masks differ",
    args=dict(rate=Arg(REQUIRED, _rate)), merge=False, reads_ids=False, torch_flat_order=PASSES, check=no_check,
    shape=same_shape, params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Dropout(l["rate"], name=l.name),
    torch_module=lambda l, x: runtime.torch().nn.Dropout(l["rate"]),
    forward=lambda l, args, w, training, trace: None if training and l["rate"] > 0 else args[0],
    depth=depth_one, bound=bound_identity,  # inference, or rate 0: the identity
    scale=scale_unchanged, strategy=_draw, slots=("mlp",),
)
