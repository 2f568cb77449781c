"""upsampling2d / resizing: keras.layers.UpSampling2D / Resizing <-> torch nn.Upsample / F.interpolate.

upsampling2d args: size (2: int or pair of positive ints), interpolation ('nearest' | 'bilinear'; Keras'
default 'nearest'). torch: nn.Upsample(scale_factor=size, mode='nearest' | 'bilinear', align_corners=False).
For integer factors every nearest rule is a repeat (Keras: ops.repeat).

resizing args: height, width (required), interpolation ('bilinear', Keras' default; 'nearest'). torch:
F.interpolate(size=(height, width), mode='bilinear', align_corners=False, antialias=False) or mode='nearest-exact'.

Coordinate conventions, each written out in the float64 reference (`source_nearest`, `source_bilinear`):
* nearest, 'half_pixel' (Keras/TF, torch 'nearest-exact'): source floor((d + 1/2) * in/out);
  'asymmetric' (torch's legacy 'nearest', F.interpolate's and nn.Upsample's default mode): floor(d * in/out).
* bilinear, 'half_pixel' (Keras/TF, torch align_corners=False): source (d + 1/2) * in/out - 1/2, clamped at 0;
  'align_corners' (torch align_corners=True; Keras has no such option): d * (in - 1)/(out - 1).
* antialias: off by default on both sides (Keras Resizing antialias=False, F.interpolate antialias=False).
Catalogue entries resize-nearest-coordinates, resize-bilinear-align-corners, resize-default-mode.
Index rules are evaluated in exact integer arithmetic; the frameworks use float32 (scale = in/out), which only
decides differently where (2d + 1) * in / (2 * out) is an integer (a tie): the random draws avoid ties.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..tolerances import DEFAULT_ULPS
from .base import (CANONICAL, Arg, LayerKind, REQUIRED, need_rank, no_check, no_params, positive_int,
                   positive_int_or_pair, scale_unchanged)
from .geometry import pair
from .torchnn import lambda_module
from .activation import U

NEAREST_RULES = ("half_pixel", "asymmetric")
BILINEAR_RULES = ("half_pixel", "align_corners")


def _interpolation(kind: str, arg: str, v) -> str | None:
    return None if v in ("nearest", "bilinear") else f"{arg} must be 'nearest' or 'bilinear', got {v!r}"


def source_nearest(n_in: int, n_out: int, rule: str = "half_pixel") -> np.ndarray:
    """The source index of each output index (exact integer arithmetic)."""
    d = np.arange(n_out)
    if rule == "half_pixel":
        idx = ((2 * d + 1) * n_in) // (2 * n_out)
    elif rule == "asymmetric":
        idx = (d * n_in) // n_out
    else:
        raise ValueError(f"nearest rule must be one of {NEAREST_RULES}, got {rule!r}")
    return np.minimum(idx, n_in - 1)


def source_bilinear(n_in: int, n_out: int, rule: str = "half_pixel"):
    """(lower index, upper index, weight of the upper) of each output index."""
    d = np.arange(n_out, dtype=np.float64)
    if rule == "half_pixel":
        src = np.maximum((d + 0.5) * n_in / n_out - 0.5, 0.0)
    elif rule == "align_corners":
        src = d * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
    else:
        raise ValueError(f"bilinear rule must be one of {BILINEAR_RULES}, got {rule!r}")
    lo = np.minimum(np.floor(src).astype(int), n_in - 1)
    return lo, np.minimum(lo + 1, n_in - 1), src - np.floor(src)


def resize(x, size, method: str, rule: str = "half_pixel"):
    """float64 resize of NHWC `x` to `size` (h, w), axis by axis."""
    for axis, n_out in ((1, size[0]), (2, size[1])):
        n_in = x.shape[axis]
        if method == "nearest":
            x = np.take(x, source_nearest(n_in, n_out, rule), axis=axis)
        else:
            lo, hi, t = source_bilinear(n_in, n_out, rule)
            t = t.reshape((-1,) + (1,) * (x.ndim - 1 - axis))
            x = np.take(x, lo, axis=axis) * (1 - t) + np.take(x, hi, axis=axis) * t
    return x


def _window_max(x, size):
    """max |x| over the (up to) 4 source pixels of each bilinear output pixel."""
    for axis, n_out in ((1, size[0]), (2, size[1])):
        lo, hi, _ = source_bilinear(x.shape[axis], n_out)
        x = np.maximum(np.take(x, lo, axis=axis), np.take(x, hi, axis=axis))
    return x


def resize_bound(x, e, size, method: str):
    """nearest: a copy (the source's bound). bilinear, a convex combination: the combined bounds, plus each lerp
    a + (b - a)*t rounding three times (<= 2 DEFAULT_ULPS u M in all, M the window's max |x|) and t's float32
    error u*n_in (source coordinates up to n_in) times |b - a| <= 2M, per axis."""
    if method == "nearest":
        return resize(e, size, "nearest")
    m = _window_max(np.abs(x), size)
    return resize(e, size, "bilinear") + (2 * DEFAULT_ULPS + 2 * (x.shape[1] + x.shape[2])) * U * m


def _depth(method: str) -> int:
    return 4 if method == "bilinear" else 1  # bilinear: a weighted sum of 4 pixels


# ------------------------------------------------------------------------------------------------ upsampling2d
def _up_size(l, x):
    f = pair(l["size"])
    return x[0] * f[0], x[1] * f[1]


def _up_shape(l, ins):
    need_rank(l, ins[0], 4)
    return (*_up_size(l, ins[0]), ins[0][-1])


def _up_torch(l, x):
    mode = l["interpolation"]
    extra = {"align_corners": False} if mode == "bilinear" else {}
    return runtime.torch().nn.Upsample(scale_factor=tuple(float(f) for f in pair(l["size"])), mode=mode, **extra)


def _up_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(size=(draw(st.integers(1, 2), label=f"size_h{tag}"), draw(st.integers(1, 3), label=f"size_w{tag}")),
                interpolation=draw(st.sampled_from(["nearest", "bilinear"]), label=f"interpolation{tag}"))


UPSAMPLING2D = LayerKind(
    name="upsampling2d", keras="keras.layers.UpSampling2D", torch="torch.nn.Upsample(scale_factor=...)",
    notes="integer factors: nearest is a repeat on both sides; bilinear is half-pixel (align_corners=False)",
    args=dict(size=Arg(2, positive_int_or_pair), interpolation=Arg("nearest", _interpolation)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_up_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.UpSampling2D(size=l["size"], interpolation=l["interpolation"],
                                                                  name=l.name),
    torch_module=_up_torch,
    forward=lambda l, args, w, training, trace: resize(args[0], _up_size(l, args[0].shape[1:]), l["interpolation"]),
    depth=lambda l, ins, batch: _depth(l["interpolation"]),
    bound=lambda l, args, errs, y, w, values, training: resize_bound(args[0], errs[0], y.shape[1:3],
                                                                     l["interpolation"]),
    scale=scale_unchanged, strategy=_up_draw, slots=("cnn",),
)


# ------------------------------------------------------------------------------------------------ resizing
def _rs_shape(l, ins):
    need_rank(l, ins[0], 4)
    return (l["height"], l["width"], ins[0][-1])


def _rs_torch(l, x):
    F = runtime.torch().nn.functional
    size, mode = (l["height"], l["width"]), l["interpolation"]
    if mode == "nearest":
        return lambda_module(lambda t: F.interpolate(t, size=size, mode="nearest-exact"),
                             f"interpolate(size={size}, mode='nearest-exact')")
    return lambda_module(lambda t: F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=False),
                         f"interpolate(size={size}, mode='bilinear', align_corners=False, antialias=False)")


def no_tie(n_in: int, n_out: int) -> bool:
    """No output index whose half-pixel nearest source (2d + 1) * in / (2 * out) is an integer (float32 ties)."""
    return all((2 * d + 1) * n_in % (2 * n_out) for d in range(n_out))


def _rs_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    mode = draw(st.sampled_from(["bilinear", "nearest"]), label=f"interpolation{tag}")
    sizes = [[n for n in range(1, 9) if mode == "bilinear" or no_tie(m, n)] for m in x[:2]]
    return dict(height=draw(st.sampled_from(sizes[0]), label=f"height{tag}"),
                width=draw(st.sampled_from(sizes[1]), label=f"width{tag}"), interpolation=mode)


RESIZING = LayerKind(
    name="resizing", keras="keras.layers.Resizing", torch="torch.nn.functional.interpolate(size=...)",
    notes="bilinear: half-pixel, align_corners=False, no antialias; nearest: torch 'nearest-exact' (its legacy "
          "'nearest' uses floor(d*in/out))",
    args=dict(height=Arg(REQUIRED, positive_int), width=Arg(REQUIRED, positive_int),
              interpolation=Arg("bilinear", _interpolation)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_rs_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Resizing(
        l["height"], l["width"], interpolation=l["interpolation"], crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False, antialias=False, name=l.name),
    torch_module=_rs_torch,
    forward=lambda l, args, w, training, trace: resize(args[0], (l["height"], l["width"]), l["interpolation"]),
    depth=lambda l, ins, batch: _depth(l["interpolation"]),
    bound=lambda l, args, errs, y, w, values, training: resize_bound(args[0], errs[0], y.shape[1:3],
                                                                     l["interpolation"]),
    scale=scale_unchanged, strategy=_rs_draw, slots=("cnn",),
)
