"""max_pool2d / avg_pool2d / global_avg_pool2d on NHWC maps (NCHW in torch); max_pool3d on NDHWC volumes.

TF's 'same' pooling pads with -inf for max and averages the real pixels only: torch's own `padding` does both
when it is symmetric and at most half the window; otherwise an explicit F.pad (-inf) for max, and for average a
module that divides by the count of real pixels per window.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import runtime
from ..tolerances import ACC_FACTOR
from .base import (CANONICAL, Arg, LayerKind, SpecError, depth_one, draws_nothing, need_rank, no_check, no_params,
                    optional, padding, positive_int_or_pair, scale_unchanged)
from .conv import positive_int_or_triple
from .geometry import as_list, conv_out, ntuple, pair, tf_pads, torch_pads, windows, windows_nd
from .torchnn import lambda_module, modules
from .activation import U


def pool2d(x, kind, pool_size, strides, padding):
    """Max pool (padding never wins) or average pool over the real pixels of each window (Keras 'same')."""
    ks, st = pair(pool_size), pair(strides or pool_size)
    pad = tf_pads(x.shape[1:3], ks, st, (1, 1), padding)
    if kind == "max":
        return np.max([v for _, v in windows(x, ks, st, (1, 1), pad, -np.inf)], axis=0)
    total = np.sum([v for _, v in windows(x, ks, st, (1, 1), pad, 0.0)], axis=0)
    count = np.sum([v for _, v in windows(np.ones_like(x[:1, ..., :1]), ks, st, (1, 1), pad, 0.0)], axis=0)
    return total / count


def _mean_bound(x, e, axes, n: int):
    """A mean over n values: the mean of the bounds plus ACC_FACTOR u sqrt(n) mean|x| (and the division)."""
    return e.mean(axis=axes) + (ACC_FACTOR * math.sqrt(n) + 1) * U * np.abs(x).mean(axis=axes)


def _shape(l, ins):
    x = ins[0]
    need_rank(l, x, 4)
    ps, st = pair(l["pool_size"]), pair(l["strides"] or l["pool_size"])
    out = tuple(conv_out(n, kk, s, 1, l["padding"]) for n, kk, s in zip(x[:2], ps, st))
    if min(out) < 1:
        raise SpecError(f"pool {ps} with 'valid' padding does not fit the input {x[:2]}")
    return (*out, x[2])


def _max_bound(l, args, errs, y, w, values, training):
    """|max a - max b| <= max |a_i - b_i| over the window; max itself is exact."""
    return pool2d(errs[0], "max", l["pool_size"], l["strides"], l["padding"])


def _avg_bound(l, args, errs, y, w, values, training):
    p = l.params
    mean_e = pool2d(errs[0], "avg", p["pool_size"], p["strides"], p["padding"])
    mean_abs = pool2d(np.abs(args[0]), "avg", p["pool_size"], p["strides"], p["padding"])
    return mean_e + (ACC_FACTOR * math.sqrt(math.prod(pair(p["pool_size"]))) + 1) * U * mean_abs


@functools.cache
def _same_avg_pool2d():
    torch = runtime.torch()
    nn, F = torch.nn, torch.nn.functional

    class SameAvgPool2d(nn.Module):
        """Keras 'same' average pooling: the mean over the real pixels of each window (padding not counted)."""

        def __init__(self, k, s, pad, hw):
            super().__init__()
            self.k, self.s, self.pad = k, s, pad
            ones = torch.ones(1, 1, *hw)
            self.register_buffer("count", F.avg_pool2d(F.pad(ones, pad), k, s), persistent=False)

        def forward(self, x):
            return F.avg_pool2d(F.pad(x, self.pad), self.k, self.s) / self.count

    return SameAvgPool2d


def _torch_geometry(l, x):
    """(kernel, strides, symmetric padding, F.pad tuple, whether torch's own padding does it: symmetric and at
    most half the window)."""
    ks = as_list(l["pool_size"], 2)
    st = as_list(l["strides"] if l["strides"] is not None else l["pool_size"], 2)
    sym, pad = torch_pads(x[:-1], ks, st, [1, 1], l["padding"])
    fits = pad is None and all(2 * s <= kk for s, kk in zip(sym, ks))
    return ks, st, sym, pad or (sym[1], sym[1], sym[0], sym[0]), fits


def _max_torch(l, x):
    nn = runtime.torch().nn
    ks, st, sym, pad, fits = _torch_geometry(l, x)
    return nn.MaxPool2d(ks, st, padding=sym) if fits else modules().Wrap(nn.MaxPool2d(ks, st), pad=pad,
                                                                        pad_value=float("-inf"))


def _avg_torch(l, x):
    ks, st, sym, pad, fits = _torch_geometry(l, x)
    if fits:
        return runtime.torch().nn.AvgPool2d(ks, st, padding=sym, count_include_pad=False)
    return _same_avg_pool2d()(ks, st, pad, x[:2])


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    pad = draw(st.sampled_from(["valid", "same"]), label=f"pool_padding{tag}")
    size = draw(st.integers(1, 3), label=f"pool{tag}")
    return dict(pool_size=min(size, *x[:2]) if pad == "valid" else size, strides=draw(st.integers(1, 2)),
                padding=pad)


def _pool(name, keras, torch, notes, mode, torch_module, depth, bound) -> LayerKind:
    keras_class = keras.rsplit(".", 1)[1]
    return LayerKind(
        name=name, keras=keras, torch=torch, notes=notes,
        args=dict(pool_size=Arg(2, positive_int_or_pair), strides=Arg(None, optional(positive_int_or_pair)),
                  padding=Arg("valid", padding)),
        merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape,
        params=no_params, torch_params=(),
        keras_layer=lambda l, x: getattr(runtime.keras().layers, keras_class)(
            pool_size=l["pool_size"], strides=l["strides"], padding=l["padding"], name=l.name),
        torch_module=torch_module,
        forward=lambda l, args, w, training, trace: pool2d(args[0], mode, l["pool_size"], l["strides"],
                                                           l["padding"]),
        depth=depth, bound=bound, scale=scale_unchanged, strategy=_draw, slots=("cnn",),
    )


MAX_POOL2D = _pool("max_pool2d", "keras.layers.MaxPooling2D", "torch.nn.MaxPool2d",
                   "'same' pads with -inf; torch's padding <= k/2 otherwise F.pad", "max", _max_torch, depth_one,
                   _max_bound)
AVG_POOL2D = _pool("avg_pool2d", "keras.layers.AveragePooling2D", "torch.nn.AvgPool2d",
                   "Keras 'same' averages real pixels only: count_include_pad=False, or divide by a count map",
                   "avg", _avg_torch, lambda l, ins, batch: math.prod(pair(l["pool_size"])), _avg_bound)


def _gap_shape(l, ins):
    need_rank(l, ins[0], 4)
    return (ins[0][2],)


GLOBAL_AVG_POOL2D = LayerKind(
    name="global_avg_pool2d", keras="keras.layers.GlobalAveragePooling2D", torch="torch.mean(dim=(2, 3))",
    notes="the mean over H and W: dims 2, 3 of NCHW",
    args={}, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_gap_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.GlobalAveragePooling2D(name=l.name),
    torch_module=lambda l, x: lambda_module(lambda t: t.mean(dim=(2, 3)), "mean over H, W"),
    forward=lambda l, args, w, training, trace: args[0].mean(axis=(1, 2)),
    depth=lambda l, ins, batch: math.prod(ins[0][:2]),
    bound=lambda l, args, errs, y, w, values, training: _mean_bound(args[0], errs[0], (1, 2),
                                                                    args[0].shape[1] * args[0].shape[2]),
    scale=scale_unchanged, strategy=draws_nothing, slots=("cnn_head",),
)



# ------------------------------------------------------------------------------------------------ max_pool3d
def max_pool3d(x, pool_size, strides, padding):
    """Max over each (d, h, w) window of NDHWC `x`; TF's 'same' padding never wins (-inf)."""
    ks, st = ntuple(pool_size, 3), ntuple(strides or pool_size, 3)
    pad = tf_pads(x.shape[1:4], ks, st, (1, 1, 1), padding)
    return np.max([v for _, v in windows_nd(x, ks, st, (1, 1, 1), pad, -np.inf)], axis=0)


def _pool3d_shape(l, ins):
    x = ins[0]
    need_rank(l, x, 5)
    ps, st = ntuple(l["pool_size"], 3), ntuple(l["strides"] or l["pool_size"], 3)
    out = tuple(conv_out(n, kk, s, 1, l["padding"]) for n, kk, s in zip(x[:3], ps, st))
    if min(out) < 1:
        raise SpecError(f"pool {ps} with 'valid' padding does not fit the input {x[:3]}")
    return (*out, x[3])


def _pool3d_torch(l, x):
    """nn.MaxPool3d between permutes NDHWC -> NCDHW -> NDHWC (rank-5 maps stay channels-last between layers,
    see conv.py); its own padding where symmetric and at most half the window, else F.pad with -inf."""
    nn = runtime.torch().nn
    ks, st = list(ntuple(l["pool_size"], 3)), list(ntuple(l["strides"] or l["pool_size"], 3))
    sym, pad = torch_pads(x[:-1], ks, st, [1, 1, 1], l["padding"])
    layout = dict(to_cf=(0, 4, 1, 2, 3), from_cf=(0, 2, 3, 4, 1))
    if pad is None and all(2 * s <= kk for s, kk in zip(sym, ks)):
        return modules().Wrap(nn.MaxPool3d(ks, st, padding=sym), **layout)
    pad = pad or tuple(v for p in reversed(sym) for v in (p, p))
    return modules().Wrap(nn.MaxPool3d(ks, st), pad=pad, pad_value=float("-inf"), **layout)


def _pool3d_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    pad = draw(st.sampled_from(["valid", "same"]), label=f"pool_padding{tag}")
    size = draw(st.integers(1, 2), label=f"pool{tag}")
    return dict(pool_size=min(size, *x[:3]) if pad == "valid" else size, strides=draw(st.integers(1, 2)),
                padding=pad)


MAX_POOL3D = LayerKind(
    name="max_pool3d", keras="keras.layers.MaxPooling3D", torch="torch.nn.MaxPool3d",
    notes="NDHWC permuted to NCDHW around the torch pool; 'same' pads with -inf (F.pad when asymmetric)",
    args=dict(pool_size=Arg(2, positive_int_or_triple), strides=Arg(None, optional(positive_int_or_triple)),
              padding=Arg("valid", padding)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_pool3d_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.MaxPooling3D(pool_size=l["pool_size"], strides=l["strides"],
                                                                  padding=l["padding"], name=l.name),
    torch_module=_pool3d_torch,
    forward=lambda l, args, w, training, trace: max_pool3d(args[0], l["pool_size"], l["strides"], l["padding"]),
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: max_pool3d(errs[0], l["pool_size"], l["strides"],
                                                                   l["padding"]),
    scale=scale_unchanged, strategy=_pool3d_draw, slots=("cnn3d",),
)
