"""Hypothesis strategies for tensor-op inputs: dtypes, bounded arrays that always mix in edge values, shapes.

Built on ``hypothesis.extra.numpy``. Every float array strategy mixes regular values from ``[lo, hi]`` with the
edge values of its dtype (0, -0, exact ties, x.5 rounding ties, NaN, +-inf, huge and tiny/subnormal magnitudes),
so edge cases are drawn in every run, not only when hypothesis happens to find them. An op (or a known difference
in the catalogue) removes the kinds it must not see with ``avoid=`` - e.g. ``avoid={"nan"}`` for an op whose NaN
behaviour is documented separately - and never by skipping the test.

Sizes follow the hypothesis profile: small arrays under ``ci``/``dev``, wide ones under ``thorough``. Sample builders
take every size from here (``shapes``, ``broadcastable_shapes``, ``side`` for one dimension, ``amount`` for k, reps or
pad widths, ``indices``): empty arrays (the 'empty' kind) are then drawn in each case's first example and rarely
after, and edge mode (``edge_cases``) can give every array the whole edge pool whatever the builder.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
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
# Edge mode (edge_cases()): sizes and arrays are fixed - every array holds every edge value of the dtype, each twice
# in a row - so a deterministic test meets all of them in every op, whatever sizes the sample builder asks for
# (through shapes, broadcastable_shapes, side, amount, indices); other draws (axes, kwargs) stay.
_EDGE_MODE = contextvars.ContextVar("edge_mode", default=False)
_REGULAR = (-7.0, -3.0, 0.25, 3.0, 7.0)  # plain operands next to the edges: negative ones for floor division/mod


def case_seed(test, nodeid: str, salt=None) -> int:
    """The hypothesis seed of one test item of `test` (a @given function) under a derandomized profile.

    Hypothesis derandomizes from the test function's digest alone, so every parametrization of a test would draw
    the same examples (ci: every unary float32 op the same six). Mixing in the item's node id (and `salt`, the
    --hypothesis-seed option when given) gives each case its own examples, the same ones every run and on every
    xdist worker. Applied by the root conftest's pytest_runtest_call hook.
    """
    digest = hashlib.sha256(_function_digest(test.hypothesis.inner_test) + nodeid.encode() + repr(salt).encode())
    return int.from_bytes(digest.digest()[:16], "big")


def freeze_local_constants() -> int:
    """Make Hypothesis' constant mining independent of what this process imported before; returns how many.

    Hypothesis (6.131+) mixes into its draws the literals of every *local* (not site-packages) module imported so
    far, re-scanning sys.modules as it grows. This package imports lazily, so the same seeded case drew other
    examples depending on which tests ran before it in its process (xdist worker history, a -k selection, the
    test order): measured, 26 of 60 seeded draws changed after importing the rest of the package. Here the set is
    fixed once: the literals of every module of this package, whatever else is imported later (tests, examples,
    a user's code). Called by the root conftest at session start (~1 s: imports no framework)."""
    import importlib
    import pkgutil

    import equivalence

    modules = [importlib.import_module(m.name)
               for m in pkgutil.walk_packages(equivalence.__path__, "equivalence.") if not m.name.endswith("__main__")]
    try:
        from hypothesis.internal import constants_ast
        from hypothesis.internal.conjecture import providers
    except ImportError:  # a Hypothesis without constant mining: nothing to freeze
        return 0
    if not hasattr(providers, "_get_local_constants"):
        return 0
    frozen = constants_ast.Constants()
    for module in [equivalence, *modules]:
        frozen |= constants_ast.constants_from_module(module)
    providers._get_local_constants = lambda: frozen
    providers.CONSTANTS_CACHE.cache.clear()
    return len(frozen)


@functools.cache
def _function_digest(fn) -> bytes:
    """hypothesis' digest of a test function (its source and signature), once per function: it reads the source."""
    from hypothesis.internal.reflection import function_digest

    return function_digest(fn)


@contextlib.contextmanager
def edge_cases():
    """Within this block the size strategies (shapes, broadcastable_shapes, side, amount, indices) and arrays() give
    fixed sizes and edge-value arrays (see edge_array): every array holds the whole pool."""
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


@functools.cache
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
        smallest_normal = float(_finfo(name).smallest_normal)  # hypothesis refuses subnormals outside [lo, hi]
        regular = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=_WIDTH[name],
                            allow_subnormal="subnormal" not in avoid and lo < smallest_normal and hi > -smallest_normal)
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


def _rarely() -> st.SearchStrategy[bool]:
    """True in the simplest draw, which hypothesis tries first, and then with probability 2**-16 (derandomized
    profiles) or 1/16 (random ones): how the 'empty' kind is drawn. ci's few examples per case then meet one empty
    array each, the first, instead of spending half their draws on arrays without values (ci is derandomized);
    dev and thorough keep drawing empties of every shape. Booleans, not integers: hypothesis also draws integers
    from the constants of the source code, where 0 is frequent."""
    return _rare_flag(16 if settings().derandomize else 4)


@functools.cache
def _rare_flag(bits: int) -> st.SearchStrategy[bool]:
    return st.tuples(*[st.booleans()] * bits).map(lambda bs: not any(bs))


@st.composite
def _empty_shape(draw, shapes_with_a_dim):
    """A shape of `shapes_with_a_dim` with one side set to 0."""
    shape = draw(shapes_with_a_dim, label="shape")
    axis = draw(st.integers(0, len(shape) - 1), label="empty_axis")
    return shape[:axis] + (0,) + shape[axis + 1:]


@st.composite
def _maybe_empty(draw, full, empty):
    """`empty` when _rarely() says so, else `full` (see _rarely)."""
    return draw(empty if draw(_rarely(), label="empty") else full)


def _edge_side_for(rank: int) -> int:
    """Smallest side >= 2 of which `rank` hold the doubled edge pool (an edge-mode shape's whole size)."""
    side = 2
    while side**rank < _edge_side():
        side += 1
    return side


def side(lo: int = 0, hi: int | None = None, *, rank: int = 1) -> st.SearchStrategy[int]:
    """One side of a sample's array (matmul's m, k, n; a kernel; a batch), in [lo, hi] (hi: max_side() if None).

    0 (lo = 0: an empty array, the 'empty' kind) is drawn as shapes() draws it: in the simplest example, rarely
    after. Edge mode fixes the side at the smallest value >= max(lo, 2) of which `rank` (the rank of the array it
    sizes) hold the doubled edge pool: such an array meets every edge value, contractions have K >= 2 and windows
    slide. `hi` bounds random draws only: an edge-mode side may exceed it.
    """
    return _side(lo, hi, rank, _profile_state())


@functools.lru_cache(maxsize=1024)
def _side(lo, hi, rank, state):
    """side(), built once per argument and profile state (see _arrays)."""
    if _EDGE_MODE.get():
        return st.just(max(lo, _edge_side_for(rank)))
    full = st.integers(max(lo, 1), max_side() if hi is None else hi)
    return full if lo > 0 else _maybe_empty(full, st.just(0))


def amount(lo: int, hi: int, *, empties: bool = True) -> st.SearchStrategy[int]:
    """An op parameter in [lo, hi] that sets how much of the input reaches the result: top-k's k, tile reps, pad
    widths. With `empties` (0 gives an empty result: k, reps, repeats) 0 is drawn as side() draws it. Edge mode
    fixes it at hi, the most edge values reaching the result."""
    if _EDGE_MODE.get():
        return st.just(hi)
    if lo > 0 or not empties:
        return st.integers(lo, hi)
    return _maybe_empty(st.integers(1, hi), st.just(0)) if hi > 0 else st.just(0)


def indices(bound: int, shape) -> st.SearchStrategy[np.ndarray]:
    """int64 indices in [0, bound) of a fixed `shape` (gather, take_along_axis, one_hot). Edge mode: every index,
    last first and repeated as far as the shape goes, so each element of an edge array is picked."""
    if _EDGE_MODE.get():
        return st.just(np.resize(np.arange(bound, dtype=np.int64)[::-1], shape))
    return hnp.arrays(np.int64, shape, elements=st.integers(0, bound - 1))


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side_: int | None = None,
           max_size: int | None = None):
    """Array shapes; size-1 sides (broadcasting) always, size-0 sides (empty arrays) unless min_side excludes them,
    drawn as _rarely() says: in the simplest example, rarely after.

    `max_size` bounds the number of elements (largest sides halved to fit): `size_limit(avoid)` for unique arrays.
    `max_side_` bounds random draws; edge mode gives every shape the whole pool (two identical rows of it).
    """
    return _shapes(min_dims, max_dims, min_side, max_side_, max_size, _profile_state())


def _profile_state() -> tuple:
    """What the size strategies read from the active profile and mode: built strategies are cached per state."""
    return max_side(), settings().derandomize, _EDGE_MODE.get()


@functools.lru_cache(maxsize=1024)
def _shapes(min_dims, max_dims, min_side, max_side_, max_size, state):
    """shapes(), built once per argument and profile state (see _arrays)."""
    if _EDGE_MODE.get():  # two identical rows (ties along every axis) of the whole pool
        ndim = max(min_dims, min(2, max_dims))
        last = max(_edge_side(), min_side)
        return st.just(fit_shape((max(2, min_side),) * (ndim - 1) + (last,) if ndim else (), max_size, min_side))
    top = max_side() if max_side_ is None else max_side_
    drawn = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=max(min_side, 1), max_side=top)
    if min_side == 0 and max_dims > 0:
        with_a_dim = hnp.array_shapes(min_dims=max(min_dims, 1), max_dims=max_dims, min_side=1, max_side=top)
        drawn = _maybe_empty(drawn, _empty_shape(with_a_dim))
    return drawn if max_size is None else drawn.map(lambda s: fit_shape(s, max_size, min_side))


@st.composite
def _empty_broadcast(draw, shapes_with_a_dim):
    """Broadcastable shapes with one result axis emptied: each input's side there set to 0 unless it is 1 (which
    broadcasts against 0); where every input has 1 (or no such axis), the first input that has the axis gets 0."""
    ins = [list(s) for s in draw(shapes_with_a_dim, label="shapes").input_shapes]
    axis = -draw(st.integers(1, max(map(len, ins))), label="empty_axis")  # counted from the right
    having = [s for s in ins if len(s) >= -axis]
    for s in having:
        if s[axis] != 1:
            s[axis] = 0
    if all(s[axis] == 1 for s in having):
        having[0][axis] = 0
    ins = tuple(map(tuple, ins))
    return hnp.BroadcastableShapes(ins, np.broadcast_shapes(*ins))


def broadcastable_shapes(num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 0,
                         edge_side: int | None = None):
    """Shapes that broadcast together (size-1 and missing leading dims included; empty ones as shapes() draws
    them); returns hnp.BroadcastableShapes.

    Edge mode: (n, 1) against (n,), n = `edge_side` or, by default, the doubled edge pool (each operand holds it).
    """
    return _broadcastable_shapes(num_shapes, min_dims, max_dims, min_side, edge_side, _profile_state())


@functools.lru_cache(maxsize=1024)
def _broadcastable_shapes(num_shapes, min_dims, max_dims, min_side, edge_side, state):
    """broadcastable_shapes(), built once per argument and profile state (see _arrays)."""
    if _EDGE_MODE.get():  # (n, 1) against (n,): every edge value of one operand meets every one of the other
        n, two_d = edge_side or _edge_side(), max_dims >= 2
        first = (n, 1) if two_d else (n,)
        ins = tuple(first if i % 2 == 0 else (n,) for i in range(num_shapes))
        return st.just(hnp.BroadcastableShapes(ins, (n, n) if two_d else (n,)))
    drawn = hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                              min_side=max(min_side, 1), max_side=max_side())
    if min_side > 0 or max_dims == 0:
        return drawn
    with_a_dim = hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=max(min_dims, 1),
                                                   max_dims=max_dims, min_side=1, max_side=max_side())
    return _maybe_empty(drawn, _empty_broadcast(with_a_dim))


def kinds_left_out(avoid=(), unique: bool = False) -> frozenset:
    """The edge kinds arrays() leaves out of an array: `avoid`, and for distinct values (unique=True or 'ties'
    avoided) also the repeated ones, 0 with -0 (equal to each other) and the .5 ties."""
    avoid = _check_avoid(avoid)
    return avoid | {"ties", "zero", "negzero", "half"} if unique or "ties" in avoid else avoid


def arrays(dtype: str, shape, *, lo: float = -10.0, hi: float = 10.0, avoid=(), unique: bool = False):
    """Arrays of `dtype` (bfloat16 as ml_dtypes) with edge values mixed in; `shape` is a tuple or a strategy.

    `unique=True` (or avoiding "ties") draws distinct elements, for ops whose tie-breaking differs; a unique array
    holds at most MAX_UNIQUE_SIZE elements (a `shape` strategy is fitted to it; a fixed shape comes from
    shapes(max_size=size_limit(avoid))).
    """
    unique = unique or "ties" in _check_avoid(avoid)  # avoiding ties means no repeated element at all
    shape = shape if isinstance(shape, st.SearchStrategy) else tuple(shape)
    return _arrays(str(dtype), shape, lo, hi, kinds_left_out(avoid, unique), unique, _EDGE_MODE.get())


@functools.lru_cache(maxsize=4096)
def _arrays(name: str, shape, lo: float, hi: float, avoid: frozenset, unique: bool, edge_mode: bool):
    """arrays() for hashable arguments, built once: the op tests ask for the same arrays in every example, and
    hypothesis validates (and caches what it derives from) a strategy once per object, not once per equal one."""
    if unique:
        if name in INT_DTYPES:  # enough distinct integers for any drawn shape
            lo, hi = -10_000, 10_000
    if edge_mode:
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


@functools.lru_cache(maxsize=256)
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
