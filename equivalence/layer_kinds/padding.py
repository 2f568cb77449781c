"""zero_padding2d / cropping2d: keras.layers.ZeroPadding2D / Cropping2D <-> nn.ZeroPad2d (F.pad) / slicing.

zero_padding2d args: padding (1): an int (all four sides), a pair (symmetric rows, symmetric columns) or
((top, bottom), (left, right)), as Keras takes it. torch: nn.ZeroPad2d((left, right, top, bottom)): F.pad's tuple
starts at the LAST dim (width first), the reverse of Keras' order (catalogue entry pad-argument-order).

cropping2d args: cropping (0): the same three forms; at least one row and column must remain. torch: slicing
x[:, :, top:H - bottom, left:W - right] of the NCHW map.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from .base import (CANONICAL, Arg, LayerKind, SpecError, depth_one, need_rank, no_check, no_params,
                   scale_unchanged)
from .torchnn import lambda_module


def _nonneg(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _widths_check(kind: str, arg: str, v) -> str | None:
    ok = _nonneg(v) or (isinstance(v, (tuple, list)) and len(v) == 2 and (
        all(_nonneg(i) for i in v)
        or all(isinstance(p, (tuple, list)) and len(p) == 2 and all(_nonneg(i) for i in p) for p in v)))
    return None if ok else (f"{arg} must be an int >= 0, a pair of them (rows, columns) or ((top, bottom), "
                            f"(left, right)), got {v!r}")


def widths(v) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras' three forms as ((top, bottom), (left, right))."""
    if isinstance(v, int):
        return (v, v), (v, v)
    if all(isinstance(i, int) for i in v):
        return (v[0], v[0]), (v[1], v[1])
    return tuple(v[0]), tuple(v[1])


def f_pad_order(v) -> tuple[int, int, int, int]:
    """F.pad / nn.ZeroPad2d's tuple: (left, right, top, bottom), the last dim first."""
    (t, b), (l, r) = widths(v)
    return l, r, t, b


# ------------------------------------------------------------------------------------------------ zero_padding2d
def _pad_shape(l, ins):
    x = ins[0]
    need_rank(l, x, 4)
    (t, b), (left, r) = widths(l["padding"])
    return x[0] + t + b, x[1] + left + r, x[2]


def _pad(l, args, w, training, trace):
    return np.pad(args[0], ((0, 0), *widths(l["padding"]), (0, 0)))


def _pad_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    side = st.integers(0, 2)
    return dict(padding=((draw(side), draw(side)), (draw(side), draw(side))))


ZERO_PADDING2D = LayerKind(
    name="zero_padding2d", keras="keras.layers.ZeroPadding2D", torch="torch.nn.ZeroPad2d",
    notes="Keras ((top, bottom), (left, right)) -> ZeroPad2d / F.pad (left, right, top, bottom): last dim first",
    args=dict(padding=Arg(1, _widths_check)), merge=False, reads_ids=False, torch_flat_order=CANONICAL,
    check=no_check, shape=_pad_shape, params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.ZeroPadding2D(padding=l["padding"], name=l.name),
    torch_module=lambda l, x: runtime.torch().nn.ZeroPad2d(f_pad_order(l["padding"])),
    forward=_pad, depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: _pad(l, errs, w, training, {}),
    scale=scale_unchanged, strategy=_pad_draw, slots=("cnn",),
)


# ------------------------------------------------------------------------------------------------ cropping2d
def _crop_shape(l, ins):
    x = ins[0]
    need_rank(l, x, 4)
    (t, b), (left, r) = widths(l["cropping"])
    out = (x[0] - t - b, x[1] - left - r)
    if min(out) < 1:
        raise SpecError(f"cropping {widths(l['cropping'])} leaves {out} of the input {x[:2]}: at least one row and "
                        f"one column must remain")
    return (*out, x[2])


def _crop(l, a):
    (t, b), (left, r) = widths(l["cropping"])
    return a[:, t:a.shape[1] - b, left:a.shape[2] - r]


def _crop_torch(l, x):
    (t, b), (left, r) = widths(l["cropping"])
    h, w = x[0] - b, x[1] - r
    return lambda_module(lambda y: y[:, :, t:h, left:w], f"[:, :, {t}:{h}, {left}:{w}]")


def _crop_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    def split(n):
        t = draw(st.integers(0, min(2, n - 1)), label=f"crop_before{tag}")
        return t, draw(st.integers(0, min(2, n - 1 - t)), label=f"crop_after{tag}")

    return dict(cropping=(split(x[0]), split(x[1])))


CROPPING2D = LayerKind(
    name="cropping2d", keras="keras.layers.Cropping2D", torch="x[:, :, top:H-bottom, left:W-right]",
    notes="slicing H and W (dims 2, 3 of NCHW)",
    args=dict(cropping=Arg(0, _widths_check)), merge=False, reads_ids=False, torch_flat_order=CANONICAL,
    check=no_check, shape=_crop_shape, params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Cropping2D(cropping=l["cropping"], name=l.name),
    torch_module=_crop_torch,
    forward=lambda l, args, w, training, trace: _crop(l, args[0]), depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: _crop(l, errs[0]),
    scale=scale_unchanged, strategy=_crop_draw, slots=("cnn",),
)
