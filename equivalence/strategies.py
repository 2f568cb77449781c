"""Hypothesis strategies for tensor-op inputs: dtypes, bounded arrays that always mix in edge values, shapes.

Built on ``hypothesis.extra.numpy``. Every float array strategy mixes regular values from ``[lo, hi]`` with the
edge values of its dtype (0, -0, exact ties, x.5 rounding ties, NaN, +-inf, huge and tiny/subnormal magnitudes),
so edge cases are drawn in every run, not only when hypothesis happens to find them. An op (or a known difference
in the catalogue) removes the kinds it must not see with ``avoid=`` - e.g. ``avoid={"nan"}`` for an op whose NaN
behaviour is documented separately - and never by skipping the test.

Sizes follow the hypothesis profile: small arrays under ``ci``/``dev``, wide ones under ``thorough``.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import math

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
INT_DTYPES = ("int32", "int64")
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool",)

# Edge-value kinds an op may exclude with `avoid=`; anything else is a typo and raises.
EDGE_KINDS = frozenset({"zero", "negzero", "nan", "inf", "huge", "tiny", "subnormal", "ties", "half", "negative",
                        "empty"})  # empty: zero-size dims (read by the shape strategies of the sample builders)
_WIDTH = {"float16": 16, "bfloat16": 32, "float32": 32, "float64": 64}
# Edge mode (edge_cases()): shapes and arrays are fixed - every edge value of the dtype, each twice in a row - so a
# deterministic test meets all of them in every op, whatever the sample builder; other draws (axes, kwargs) stay.
_EDGE_MODE = contextvars.ContextVar("edge_mode", default=False)
_REGULAR = (-7.0, -3.0, 0.25, 3.0, 7.0)  # plain operands next to the edges: negative ones for floor division/mod


@contextlib.contextmanager
def edge_cases():
    """Within this block shapes(), broadcastable_shapes() and arrays() give fixed edge-value arrays (see edge_array)."""
    token = _EDGE_MODE.set(True)
    try:
        yield
    finally:
        _EDGE_MODE.reset(token)


@functools.cache
def np_dtype(name: str) -> np.dtype:
    """The NumPy dtype for a dtype name; bfloat16 comes from ml_dtypes (installed with TensorFlow)."""
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    if name not in ALL_DTYPES:
        raise InvalidArgument(f"unknown dtype {name!r}; use one of {ALL_DTYPES}")
    return np.dtype(name)


def dtypes(names=ALL_DTYPES) -> st.SearchStrategy[str]:
    """Dtype names drawn from `names` (validated eagerly)."""
    for n in names:
        np_dtype(n)
    return st.sampled_from(tuple(names))


def is_wide() -> bool:
    """True under an exhaustive profile (`thorough`): strategies then draw larger arrays."""
    return settings().max_examples >= 100


def max_side() -> int:
    """Largest dimension drawn by default: 4 under ci/dev (fast), 16 under thorough."""
    return 16 if is_wide() else 4


def _finfo(name: str):
    """np.finfo, or ml_dtypes.finfo for bfloat16 (numpy does not know it)."""
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(ml_dtypes.bfloat16)
    return np.finfo(np_dtype(name))


def _check_avoid(avoid) -> frozenset:
    avoid = frozenset(avoid)
    unknown = avoid - EDGE_KINDS
    if unknown:
        raise InvalidArgument(f"avoid={sorted(unknown)} names no edge kind; known kinds: {sorted(EDGE_KINDS)}")
    return avoid


def _round_to(dtype: str, values) -> list:
    """Round python floats to the dtype's grid and back, so drawn values are exactly representable."""
    arr = np.asarray(values, dtype=np.float64).astype(np_dtype(dtype))
    return [float(v) for v in arr.astype(np.float64)]


def edge_values(dtype: str, *, lo: float = -10.0, hi: float = 10.0, avoid=()) -> list:
    """The special values mixed into every array of `dtype`, minus the kinds in `avoid`.

    `huge` is the dtype's largest finite magnitude over 4 (big, yet sums of a few stay finite in any order),
    `tiny` the smallest normal numbers (avoiding it also keeps regular values >= sqrt(smallest normal)),
    `subnormal` denormal ones; `ties` a small pool of exact repeats; `half` exact .5 ties.
    Regular values respect [lo, hi]; `negative` off removes every value < 0 (and -0.0).
    """
    avoid = _check_avoid(avoid)
    name = str(dtype)
    if name == "bool":
        return [False, True]
    kinds: dict[str, list] = {"zero": [0], "ties": [1, 2, -1], "negative": []}
    if name in INT_DTYPES:
        info = np.iinfo(name)
        kinds["huge"] = [int(info.max), int(info.min) + 1]  # min+1: abs/neg of min overflow differently by design
    else:
        info = _finfo(name)
        big = float(info.max) / 4
        kinds.update(negzero=[-0.0], nan=[float("nan")], inf=[float("inf"), float("-inf")], huge=[big, -big],
                     tiny=[float(info.smallest_normal), -float(info.smallest_normal)],
                     subnormal=[float(info.smallest_subnormal), -3 * float(info.smallest_subnormal)],
                     half=[0.5, 1.5, 2.5, -0.5, -2.5])
    out = []
    for kind, vals in kinds.items():
        if kind in avoid:
            continue
        for v in vals:
            regular = kind in ("zero", "ties", "half")
            if "negative" in avoid and (v < 0 or (v == 0 and np.signbit(v))):
                continue
            if regular and not lo <= v <= hi:
                continue
            out.append(v)
    return out if name in INT_DTYPES else _round_to(name, out)


def elements(dtype: str, *, lo: float = -10.0, hi: float = 10.0, avoid=()) -> st.SearchStrategy:
    """Scalars of `dtype`: regular values in [lo, hi] (lo raised to 0 when `negative` is avoided) or edge values."""
    avoid = _check_avoid(avoid)
    name = str(dtype)
    if lo > hi:
        raise InvalidArgument(f"elements({name}): lo={lo} > hi={hi}")
    if "negative" in avoid:
        lo = max(lo, 0.0)
    if name == "bool":
        return st.booleans()
    if name in INT_DTYPES:
        regular = st.integers(int(np.ceil(lo)), int(np.floor(hi)))
        if "zero" in avoid:  # e.g. integer divisors: 0 raises in both frameworks
            regular = regular.filter(lambda v: v != 0)
    else:
        regular = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=_WIDTH[name],
                            allow_subnormal="subnormal" not in avoid)
        if name in ("float16", "bfloat16"):
            regular = regular.map(lambda v: _round_to(name, [v])[0])
        if "zero" in avoid:  # no zero at all, as for integers: hypothesis draws 0.0 often (reciprocal poles)
            regular = regular.filter(lambda v: v != 0)
        elif "negzero" in avoid:
            regular = regular.map(lambda v: 0.0 if v == 0 else v)
        if "tiny" in avoid:  # also no regular value whose square or half could underflow: |v| >= sqrt(tiny)
            floor = float(np.sqrt(_finfo(name).smallest_normal))
            regular = regular.map(lambda v: v if v == 0 or abs(v) >= floor else math.copysign(floor, v))
    edges = edge_values(name, lo=lo, hi=hi, avoid=avoid)
    return st.one_of(regular, st.sampled_from(edges)) if edges else regular


def _edge_side() -> int:
    """Length of the last axis in edge mode: the doubled float64 pool, so rows of a flat fill repeat exactly."""
    return 2 * len(_edge_pool("float64", -10.0, 10.0, frozenset(), False))


# Unique arrays are drawn element by element (hnp.arrays(unique=True) is one list of distinct elements), and a
# draw has a budget of 8 * 1024 choices: hypothesis refuses a unique list longer than that outright (InvalidArgument:
# the thorough profile's 4-d transpose drew (6, 8, 11, 16) = 8448 elements) and discards as 'too large' every draw
# whose elements run past it (measured with hypothesis 6.170, values in [-4, 4]: 512 distinct float16, bfloat16,
# float32 or float64 values are drawn every time; 768 float16/bfloat16/float64 ones overran 458 of 459 tries and
# 1024 float32 ones all 459).
MAX_UNIQUE_SIZE = 512


def size_limit(avoid=(), unique: bool = False) -> int | None:
    """Most elements arrays() can draw with these options: MAX_UNIQUE_SIZE for unique arrays (unique=True, or the
    'ties' kind avoided), None (no limit) otherwise. Builders that draw a shape first pass it to shapes(max_size=)."""
    return MAX_UNIQUE_SIZE if unique or "ties" in _check_avoid(avoid) else None


def fit_shape(shape: tuple, max_size: int | None, min_side: int) -> tuple:
    """`shape` with its largest sides halved (never below min_side) until it holds at most max_size elements."""
    shape = list(shape)
    while max_size is not None and math.prod(shape) > max_size:
        i = max(range(len(shape)), key=shape.__getitem__)
        if shape[i] // 2 < max(min_side, 1):
            raise InvalidArgument(f"no shape with sides >= {min_side} holds at most {max_size} elements: {shape}")
        shape[i] //= 2
    return tuple(shape)


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side_: int | None = None,
           max_size: int | None = None):
    """Array shapes; sides of 0 (empty tensors) and 1 (broadcasting) are included unless min_side excludes them.

    `max_size` bounds the number of elements (largest sides halved to fit): `size_limit(avoid)` for unique arrays.
    """
    if _EDGE_MODE.get():  # two identical rows (ties along every axis) of the whole pool
        ndim = max(min_dims, min(2, max_dims))
        last = _edge_side() if max_side_ is None else max(min(_edge_side(), max_side_), min_side)
        return st.just(fit_shape((max(2, min_side),) * (ndim - 1) + (last,) if ndim else (), max_size, min_side))
    drawn = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                             max_side=max_side() if max_side_ is None else max_side_)
    return drawn if max_size is None else drawn.map(lambda s: fit_shape(s, max_size, min_side))


def broadcastable_shapes(num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 0):
    """Shapes that broadcast together (size-1 and missing leading dims included); returns hnp.BroadcastableShapes."""
    if _EDGE_MODE.get():  # (n, 1) against (n,): every edge value of one operand meets every one of the other
        n, two_d = _edge_side(), max_dims >= 2
        first = (n, 1) if two_d else (n,)
        ins = tuple(first if i % 2 == 0 else (n,) for i in range(num_shapes))
        return st.just(hnp.BroadcastableShapes(ins, (n, n) if two_d else (n,)))
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side())


def arrays(dtype: str, shape, *, lo: float = -10.0, hi: float = 10.0, avoid=(), unique: bool = False):
    """Arrays of `dtype` (bfloat16 as ml_dtypes) with edge values mixed in; `shape` is a tuple or a strategy.

    `unique=True` (or avoiding "ties") draws distinct elements, for ops whose tie-breaking differs; a unique array
    holds at most MAX_UNIQUE_SIZE elements (a `shape` strategy is fitted to it; a fixed shape comes from
    shapes(max_size=size_limit(avoid))).
    """
    avoid = _check_avoid(avoid)
    unique = unique or "ties" in avoid  # avoiding ties means no repeated element at all, not only fewer
    name = str(dtype)
    if unique:
        avoid = avoid | {"ties", "zero", "negzero", "half"}
        if name in INT_DTYPES:  # enough distinct integers for any drawn shape
            lo, hi = -10_000, 10_000
    if _EDGE_MODE.get():
        fixed = lambda s: edge_array(name, s, lo=lo, hi=hi, avoid=avoid, unique=unique)
        return shape.map(fixed) if isinstance(shape, st.SearchStrategy) else st.just(fixed(tuple(shape)))
    if unique and isinstance(shape, st.SearchStrategy):
        shape = shape.map(lambda s: fit_shape(s, MAX_UNIQUE_SIZE, 0))
    base = np.float32 if name == "bfloat16" else np_dtype(name)
    # The background (fill) of non-unique arrays is an edge value too: few examples (ci: 6) still meet edges.
    edges = edge_values(name, lo=max(lo, 0.0) if "negative" in avoid else lo, hi=hi, avoid=avoid)
    fill = None if unique or not edges else st.sampled_from(edges)
    strat = hnp.arrays(base, shape, elements=elements(name, lo=lo, hi=hi, avoid=avoid), unique=unique, fill=fill)
    if name == "bfloat16":
        strat = strat.map(lambda a: a.astype(np_dtype("bfloat16")))
    return strat


def axes(ndim: int, *, allow_none: bool = True, allow_tuple: bool = True) -> st.SearchStrategy:
    """A reduction axis for an ndim-array: None (all), one axis (negative allowed) or a tuple of distinct axes."""
    if ndim == 0:
        return st.none() if allow_none else st.nothing()
    options = [st.integers(-ndim, ndim - 1)]
    if allow_tuple and ndim > 1:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    if allow_none:
        options.append(st.none())
    return st.one_of(*options)


@functools.cache
def _edge_pool(name: str, lo: float, hi: float, avoid: frozenset, unique: bool) -> tuple:
    """Every edge value of the dtype (edge_values) plus a few regular values in [lo, hi], each once."""
    if name == "bool":
        return (False, True)
    if "negative" in avoid:
        lo = max(lo, 0.0)
    regular = [v for v in (*_REGULAR, lo, hi) if lo <= v <= hi and not (v == 0 and "zero" in avoid)
               and (name not in INT_DTYPES or float(v).is_integer())]
    values = edge_values(name, lo=lo, hi=hi, avoid=avoid) + regular
    values = [int(v) for v in values] if name in INT_DTYPES else _round_to(name, values)
    out = []
    for v in values:  # distinct, -0.0 kept next to 0.0, NaN once
        if not any(v == u and math.copysign(1, v) == math.copysign(1, u) or v != v and u != u for u in out):
            out.append(v)
    return tuple(out)


def edge_array(dtype: str, shape: tuple, *, lo: float = -10.0, hi: float = 10.0, avoid=(), unique: bool = False):
    """A fixed array of `shape` holding the edge pool of `dtype`, each value twice in a row (exact ties).

    When the last axis holds the whole (doubled) pool, as in the fixed edge-mode shapes, every row is that pool
    (ties along every axis); shorter last axes are filled in flat order. `unique` arrays
    hold distinct values: the pool, then evenly spaced regular values in [lo, hi] as far as the shape needs.
    """
    name, size = str(dtype), int(np.prod(shape, dtype=np.int64))
    pool = list(_edge_pool(name, float(lo), float(hi), _check_avoid(avoid), unique))
    if unique:
        extra = [v for v in np.linspace(lo, hi, size + len(pool) + 2)[1:-1].tolist() if v not in pool]
        extra = [int(v) for v in extra] if name in INT_DTYPES else _round_to(name, extra)
        flat = list(dict.fromkeys(pool + extra))[:size]
    else:
        flat = np.repeat(np.asarray(pool, dtype=object), 2).tolist()
    base = np.float32 if name == "bfloat16" else np_dtype(name)
    flat = np.asarray(flat, dtype=base)
    if size and not unique and shape[-1] >= len(flat):  # every row holds the whole pool: ties along every axis
        arr = np.broadcast_to(np.resize(flat, shape[-1]), shape).copy()
    else:
        arr = np.resize(flat, shape) if size else np.zeros(shape, base)
    return arr.astype(np_dtype("bfloat16")) if name == "bfloat16" else arr
