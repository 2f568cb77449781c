"""Sample builders shared by the op catalog, and the array -> framework tensor conversions the op tests use (the
sides' `tensor`).

A builder returns ``samples_fn(dtype, avoid) -> strategy of Sample``; `avoid` (edge kinds a known difference
explains, see equivalence.strategies.EDGE_KINDS) is merged with the kinds the op itself excludes.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from ..runtime import tf, torch
from .opinfo import Sample


def as_reference(arr: np.ndarray) -> np.ndarray:
    """What the float64 reference computes on: floats widened to float64, integers to int64, bools kept."""
    a = np.asarray(arr)
    if a.dtype.kind == "b":
        return a
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    return a.astype(np.float64)


def _side(min_side: int, avoid) -> int:
    """Smallest dimension: 1 when the 'empty' edge kind is avoided (zero-size tensors are explained elsewhere)."""
    return max(min_side, 1) if "empty" in avoid else min_side


def unary(lo: float = -10.0, hi: float = 10.0, *, avoid=(), min_dims: int = 0, max_dims: int = 3,
          min_side: int = 0, kwargs: dict | None = None):
    """One array of any shape (empty and 0-d included) with fixed neutral `kwargs`."""
    def samples_fn(dtype, extra_avoid):
        shape = S.shapes(min_dims=min_dims, max_dims=max_dims, min_side=_side(min_side, set(avoid) | extra_avoid))
        x = S.arrays(dtype, shape, lo=lo, hi=hi, avoid=set(avoid) | extra_avoid)
        return x.map(lambda a: Sample((a,), dict(kwargs or {}), "unary"))
    return samples_fn


def binary(lo: float = -10.0, hi: float = 10.0, *, rhs: tuple | None = None, avoid=(), rhs_avoid=(),
           other_dtype: str | None = None):
    """Two arrays with mutually broadcastable shapes (size-1 and missing dims, empty dims included).

    `rhs` = (lo, hi) of the second operand (default: same as the first); `rhs_avoid` adds kinds only it avoids
    (e.g. {'zero'} for an integer divisor); `other_dtype` fixes the second operand's dtype (e.g. a bool mask).
    """
    rlo, rhi = rhs or (lo, hi)

    @st.composite
    def draw(draw_, dtype, extra_avoid):
        shapes = draw_(S.broadcastable_shapes(2, min_side=_side(0, set(avoid) | extra_avoid)), label="shapes")
        a = draw_(S.arrays(dtype, shapes.input_shapes[0], lo=lo, hi=hi, avoid=set(avoid) | extra_avoid), label="x")
        b_avoid = set(avoid) | set(rhs_avoid) | extra_avoid
        b = draw_(S.arrays(other_dtype or dtype, shapes.input_shapes[1], lo=rlo, hi=rhi, avoid=b_avoid), label="y")
        return Sample((a, b), {}, "broadcast" if a.shape != b.shape else "same-shape")

    return lambda dtype, extra_avoid: draw(dtype, extra_avoid)


def reduction(lo: float = -10.0, hi: float = 10.0, *, avoid=(), keepdims: bool = True, tuple_axes: bool = True,
              none_axis: bool = True, min_dims: int = 0, min_side: int = 0, max_side: int | None = None):
    """An array plus `axis` (int, negative, tuple or None) and, when the op takes it, `keepdims`."""
    @st.composite
    def draw(draw_, dtype, extra_avoid):
        dims = max(min_dims, 0 if none_axis else 1)
        side = _side(min_side, set(avoid) | extra_avoid)
        shape = draw_(S.shapes(min_dims=dims, min_side=side, max_side_=max_side), label="shape")
        x = draw_(S.arrays(dtype, shape, lo=lo, hi=hi, avoid=set(avoid) | extra_avoid), label="x")
        kw = {"axis": draw_(S.axes(len(shape), allow_none=none_axis, allow_tuple=tuple_axes), label="axis")}
        if keepdims:
            kw["keepdims"] = draw_(st.booleans(), label="keepdims")
        return Sample((x,), kw, "reduce")

    return lambda dtype, extra_avoid: draw(dtype, extra_avoid)


def reduced_size(sample: Sample) -> int:
    """How many elements one output of a reduction sums over (the `depth` of the tolerance rule)."""
    shape, axis = np.shape(sample.args[0]), sample.kwargs.get("axis")
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes])) if shape else 1


def call(path: str):
    """A callable that looks up a dotted framework path ('tf.math.exp', 'torch.nn.functional.gelu') at call time.

    Resolved on every call (not cached), so a test that monkeypatches a framework function is seen by the registry.
    """
    from ..runtime import keras

    head, *rest = path.split(".")
    roots = {"torch": torch, "tf": tf, "keras": keras}
    if head not in roots:
        raise ValueError(f"call({path!r}): path must start with one of {sorted(roots)}")

    def fn(*args, **kwargs):
        obj = roots[head]()
        for part in rest:
            obj = getattr(obj, part)
        return obj(*args, **kwargs)

    fn.__qualname__ = fn.__name__ = path
    return fn
