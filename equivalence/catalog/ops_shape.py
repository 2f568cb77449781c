"""Shape and indexing ops: data movement is exact, so every dtype is compared bit for bit.

Covers reshape, concat, stack, split, gather, take_along_axis, where, pad (constant, reflect), tile, repeat,
flip, roll, sort, argsort, topk, one_hot and clip.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from ..runtime import torch
from .opinfo import OpInfo, Sample
from .samples import call, unary
from .ops_elementwise import FLOATS

ALL = FLOATS + ("int32", "int64", "bool")
ORDERED = FLOATS + ("int32", "int64")


def _x(draw, dtype, avoid, *, min_dims=1, max_dims=3, min_side=0, label="x"):
    shape = draw(S.shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side), label=f"{label}.shape")
    return draw(S.arrays(dtype, shape, avoid=avoid), label=label)


@st.composite
def _reshape(draw, dtype, avoid):
    x = _x(draw, dtype, avoid, min_dims=0)
    shape = draw(st.sampled_from([(-1,), tuple(reversed(x.shape)), (1,) + x.shape, (x.size, 1)]), label="shape")
    return Sample((x,), {"shape": shape}, "reshape")


@st.composite
def _join(draw, dtype, avoid, stack=False):
    shape = draw(S.shapes(min_dims=1), label="shape")
    axis = draw(st.integers(-len(shape) - stack, len(shape) - 1 + stack), label="axis")
    other = list(shape)
    if not stack:
        other[axis] = draw(S.side(0, 3, rank=len(shape)), label="other_len")
    xs = (draw(S.arrays(dtype, shape, avoid=avoid), label="x0"), draw(S.arrays(dtype, tuple(other), avoid=avoid), label="x1"))
    return Sample(xs, {"axis": axis}, "stack" if stack else "concat")


@st.composite
def _split(draw, dtype, avoid):
    x = _x(draw, dtype, avoid)
    axis = draw(st.integers(0, x.ndim - 1), label="axis")
    cut = draw(st.integers(0, x.shape[axis]), label="cut")
    return Sample((x,), {"sizes": (cut, x.shape[axis] - cut), "axis": axis}, "split")


@st.composite
def _gather(draw, dtype, avoid, along=False):
    x = _x(draw, dtype, avoid, min_side=1)
    axis = draw(st.integers(0, x.ndim - 1), label="axis")
    n = x.shape[axis]
    idx_shape = tuple(draw(S.side(0, 4, rank=x.ndim), label="idx_len") if d == axis else s
                      for d, s in enumerate(x.shape)) if along else (draw(S.side(0, 5), label="idx_len"),)
    idx = draw(S.indices(n, idx_shape), label="indices")
    return Sample((x, idx), {"axis": axis}, "take_along" if along else "gather")


@st.composite
def _where(draw, dtype, avoid):
    shapes = draw(S.broadcastable_shapes(3), label="shapes").input_shapes
    cond = draw(S.arrays("bool", shapes[0]), label="cond")
    return Sample((cond, draw(S.arrays(dtype, shapes[1], avoid=avoid), label="x"),
                   draw(S.arrays(dtype, shapes[2], avoid=avoid), label="y")), {}, "where")


@st.composite
def _pad(draw, dtype, avoid, mode):
    if mode == "constant":
        x = _x(draw, dtype, avoid)
        pads = tuple((draw(S.amount(0, 2, empties=False)), draw(S.amount(0, 2, empties=False))) for _ in x.shape)
    else:  # torch reflect pads the last two dims of a 3-D input; pad < size on each side
        shape = (draw(S.side(1, 2, rank=3)), draw(S.side(2, 4, rank=3)), draw(S.side(2, 4, rank=3)))
        x = draw(S.arrays(dtype, shape, avoid=avoid), label="x")
        pads = ((0, 0),) + tuple((draw(S.amount(0, n - 1, empties=False)), draw(S.amount(0, n - 1, empties=False)))
                                 for n in x.shape[1:])
    return Sample((x,), {"pads": pads, "mode": mode}, mode)


def _torch_pad(x, pads, mode):
    flat = [p for pair in reversed(pads[1:] if mode == "reflect" else pads) for p in pair]
    return torch().nn.functional.pad(x, flat, mode=mode)


def _tf_pad(x, pads, mode):
    return call("tf.pad")(x, [list(p) for p in pads], mode=mode.upper())


@st.composite
def _axis_op(draw, dtype, avoid, kw):
    """x plus an axis and op-specific kwargs drawn by `kw(draw, x, axis)`."""
    x = _x(draw, dtype, avoid)
    axis = draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    return Sample((x,), {"axis": axis, **kw(draw, x, axis)}, "axis")


@st.composite
def _topk(draw, dtype, avoid):
    x = _x(draw, dtype, avoid, min_side=1)
    return Sample((x,), {"k": draw(S.amount(0, x.shape[-1]), label="k")}, "topk")


@st.composite
def _one_hot(draw, dtype, avoid):
    depth = draw(S.amount(1, 5), label="depth")
    shape = draw(S.shapes(max_dims=2), label="shape")
    return Sample((draw(S.indices(depth, shape), label="indices"),), {"depth": depth}, "one_hot")


def _np_sort(x, axis, descending):
    out = np.sort(x, axis=axis, kind="stable")
    return np.flip(out, axis=axis) if descending else out


def _np_argsort(x, axis, descending):
    return np.argsort(-x if descending else x, axis=axis, kind="stable")


def _np_topk(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


def _op(name, torch_fn, tf_fn, ref, samples_fn, *, torch_api, tf_api, dtypes=ALL, variant="", exact=True,
        grad=False, result_dtype=None, notes="", zero_sign=""):
    return OpInfo(name=name, family="shape", torch_fn=torch_fn, tf_fn=tf_fn, ref=ref, dtypes=dtypes,
                  samples_fn=samples_fn, torch_api=torch_api, tf_api=tf_api, variant=variant,
                  api="keras.ops" if tf_api.startswith("keras.") else "tf", supports_grad=grad, exact=exact,
                  result_dtype=result_dtype, notes=notes, zero_sign=zero_sign)


# +0 and -0 compare equal: which of them a sort or top-k puts first is its tie order, and the NumPy reference's
# (a descending sort is a flipped ascending one, which reverses ties) is no authority; TF vs torch still compared.
_TIED_ZEROS = "+0 and -0 tie: their order in a sort/top-k is the tie order, and NumPy's flip reverses ties"


def _t(name):
    return lambda *a, **k: getattr(torch(), name)(*a, **k)


OPS = [
    _op("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: call("tf.reshape")(x, shape),
        lambda x, shape: np.reshape(x, shape), _reshape, torch_api="torch.reshape", tf_api="tf.reshape"),
    _op("concat", lambda *xs, axis: torch().cat(xs, dim=axis), lambda *xs, axis: call("tf.concat")(list(xs), axis),
        lambda *xs, axis: np.concatenate(xs, axis), _join, torch_api="torch.cat", tf_api="tf.concat", grad=True),
    _op("stack", lambda *xs, axis: torch().stack(xs, dim=axis), lambda *xs, axis: call("tf.stack")(list(xs), axis),
        lambda *xs, axis: np.stack(xs, axis), lambda d, a: _join(d, a, stack=True), torch_api="torch.stack",
        tf_api="tf.stack", grad=True),
    _op("split", lambda x, sizes, axis: torch().split(x, list(sizes), dim=axis),
        lambda x, sizes, axis: call("tf.split")(x, list(sizes), axis=axis),
        lambda x, sizes, axis: tuple(np.split(x, [sizes[0]], axis)), _split, torch_api="torch.split",
        tf_api="tf.split"),
    _op("gather", lambda x, i, axis: torch().index_select(x, axis, i), lambda x, i, axis: call("tf.gather")(x, i, axis=axis),
        lambda x, i, axis: np.take(x, i, axis), _gather, torch_api="torch.index_select", tf_api="tf.gather",
        grad=True),
    _op("take_along_axis", lambda x, i, axis: torch().take_along_dim(x, i, dim=axis),
        lambda x, i, axis: call("keras.ops.take_along_axis")(x, i, axis=axis),
        lambda x, i, axis: np.take_along_axis(x, i, axis), lambda d, a: _gather(d, a, along=True),
        torch_api="torch.take_along_dim", tf_api="keras.ops.take_along_axis", dtypes=ORDERED),
    _op("where", _t("where"), call("tf.where"), np.where, _where, torch_api="torch.where", tf_api="tf.where", grad=True),
    _op("pad", _torch_pad, _tf_pad, lambda x, pads, mode: np.pad(x, pads, mode=mode),
        lambda d, a: _pad(d, a, "constant"), torch_api="torch.nn.functional.pad", tf_api="tf.pad", variant="constant",
        grad=True),
    _op("pad", _torch_pad, _tf_pad, lambda x, pads, mode: np.pad(x, pads, mode=mode),
        lambda d, a: _pad(d, a, "reflect"), torch_api="torch.nn.functional.pad", tf_api="tf.pad", variant="reflect",
        dtypes=FLOATS, grad=True, notes="TF SYMMETRIC and torch replicate/circular have no counterpart"),
    _op("tile", lambda x, reps: torch().tile(x, reps), lambda x, reps: call("tf.tile")(x, reps), np.tile,
        lambda d, a: _axis_op(d, a, lambda draw, x, ax: {"reps": tuple(draw(S.amount(0, 2)) for _ in x.shape)})
        .map(lambda s: Sample(s.args, {"reps": s.kwargs["reps"]}, "tile")), torch_api="torch.tile", tf_api="tf.tile"),
    _op("repeat", lambda x, repeats, axis: torch().repeat_interleave(x, repeats, dim=axis),
        lambda x, repeats, axis: call("tf.repeat")(x, repeats, axis=axis),
        lambda x, repeats, axis: np.repeat(x, repeats, axis),
        lambda d, a: _axis_op(d, a, lambda draw, x, ax: {"repeats": draw(S.amount(0, 3))}),
        torch_api="torch.repeat_interleave", tf_api="tf.repeat"),
    _op("flip", lambda x, axis: torch().flip(x, (axis,)), lambda x, axis: call("tf.reverse")(x, [axis]),
        lambda x, axis: np.flip(x, axis), lambda d, a: _axis_op(d, a, lambda *_: {}), torch_api="torch.flip",
        tf_api="tf.reverse"),
    _op("roll", lambda x, shift, axis: torch().roll(x, shift, axis), lambda x, shift, axis: call("tf.roll")(x, shift, axis),
        lambda x, shift, axis: np.roll(x, shift, axis),
        lambda d, a: _axis_op(d, a, lambda draw, x, ax: {"shift": draw(st.integers(-5, 5))}), torch_api="torch.roll",
        tf_api="tf.roll"),
    _op("sort", lambda x, axis, descending: torch().sort(x, dim=axis, descending=descending, stable=True).values,
        lambda x, axis, descending: call("tf.sort")(x, axis=axis, direction="DESCENDING" if descending else "ASCENDING"),
        _np_sort, lambda d, a: _axis_op(d, a, lambda draw, x, ax: {"descending": draw(st.booleans())}),
        torch_api="torch.sort", tf_api="tf.sort", dtypes=ORDERED,
        zero_sign=_TIED_ZEROS),
    _op("argsort", lambda x, axis, descending: torch().argsort(x, dim=axis, descending=descending, stable=True),
        lambda x, axis, descending: call("tf.argsort")(x, axis=axis, stable=True,
                                                        direction="DESCENDING" if descending else "ASCENDING"),
        _np_argsort, lambda d, a: _axis_op(d, a, lambda draw, x, ax: {"descending": draw(st.booleans())}),
        torch_api="torch.argsort", tf_api="tf.argsort", dtypes=("float32", "float64", "int32", "int64"),
        result_dtype=lambda _d: {"tf": "int32", "torch": "int64"}),
    _op("topk", lambda x, k: tuple(torch().topk(x, k)), lambda x, k: tuple(call("tf.math.top_k")(x, k)), _np_topk,
        _topk, torch_api="torch.topk", tf_api="tf.math.top_k", dtypes=ORDERED,
        result_dtype=lambda d: [d, {"tf": "int32", "torch": "int64"}],
        notes="ties and NaN: see the catalogue", zero_sign=_TIED_ZEROS),
    _op("one_hot", lambda i, depth: torch().nn.functional.one_hot(i, depth), lambda i, depth: call("tf.one_hot")(i, depth),
        lambda i, depth: (i[..., None] == np.arange(depth)).astype(np.float64), _one_hot,
        torch_api="torch.nn.functional.one_hot", tf_api="tf.one_hot", dtypes=("int64",),
        result_dtype=lambda _d: {"tf": "float32", "torch": "int64"}),
    _op("clip", lambda x, lo, hi: torch().clamp(x, lo, hi), lambda x, lo, hi: call("tf.clip_by_value")(x, lo, hi),
        lambda x, lo, hi: np.clip(x, lo, hi), unary(kwargs={"lo": -1.5, "hi": 2.0}), torch_api="torch.clamp",
        tf_api="tf.clip_by_value", dtypes=FLOATS, grad=True),
    _op("clip", lambda x, lo, hi: torch().clamp(x, lo, hi), lambda x, lo, hi: call("keras.ops.clip")(x, lo, hi),
        lambda x, lo, hi: np.clip(x, lo, hi), unary(kwargs={"lo": -1.5, "hi": 2.0}), torch_api="torch.clamp",
        tf_api="keras.ops.clip", variant="keras", dtypes=("float32",), grad=True),
]
