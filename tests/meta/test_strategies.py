"""The input strategies always mix in edge values, honour `avoid=`, and reject bad arguments with a fix-it message."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from equivalence import strategies as S

pytestmark = pytest.mark.meta


def test_float_edges_cover_every_kind():
    """float32 edges hold 0, -0, NaN, +-inf, huge, tiny normal, subnormal, .5 ties and repeated values."""
    v = np.array(S.edge_values("float32"))
    assert 0.0 in v and np.signbit(v[v == 0]).any() and np.isnan(v).any()
    assert np.isposinf(v).any() and np.isneginf(v).any()
    assert (np.abs(v[np.isfinite(v)]) > 1e37).any()
    assert np.float32(np.finfo(np.float32).smallest_normal) in v
    assert ((np.abs(v) > 0) & (np.abs(v) < np.finfo(np.float32).smallest_normal)).any()
    assert 2.5 in v and -0.5 in v


@pytest.mark.parametrize("kind, absent", [
    ("nan", lambda v: not np.isnan(v).any()),
    ("inf", lambda v: not np.isinf(v).any()),
    ("negzero", lambda v: not np.signbit(v[v == 0]).any()),
    ("negative", lambda v: not (np.signbit(v)).any()),
    ("subnormal", lambda v: not ((np.abs(v) > 0) & (np.abs(v) < 1e-38)).any()),
])
def test_avoid_removes_an_edge_kind(kind, absent):
    """Each avoided kind disappears from the edge values."""
    assert absent(np.array(S.edge_values("float32", avoid={kind})))


def test_unknown_edge_kind_is_rejected_with_the_known_kinds():
    """A typo in avoid= raises InvalidArgument listing the valid kinds."""
    with pytest.raises(InvalidArgument, match="names no edge kind; known kinds"):
        S.edge_values("float32", avoid={"nans"})


def test_unknown_dtype_is_rejected():
    """An unknown dtype name raises InvalidArgument naming the valid ones."""
    with pytest.raises(InvalidArgument, match="unknown dtype 'float8'"):
        S.np_dtype("float8")


def test_edge_values_are_drawn_not_only_possible():
    """hypothesis reaches NaN, -0.0 and inf inside arrays quickly (edge values are part of the element strategy)."""
    arrays = S.arrays("float32", (4,))
    assert np.isnan(find(arrays, lambda a: np.isnan(a).any())).any()
    assert np.isinf(find(arrays, lambda a: np.isinf(a).any())).any()
    zero = find(arrays, lambda a: bool(np.signbit(a[a == 0]).any()))
    assert np.signbit(zero[zero == 0]).any()


@given(a=S.arrays("int32", S.shapes(), lo=-3, hi=3, avoid={"zero"}))
def test_integer_divisors_avoid_zero(a):
    """avoid={'zero'} keeps 0 out of integer arrays entirely (divisors never raise)."""
    assert a.dtype == np.int32 and not (a == 0).any()


@given(a=S.arrays("float32", S.shapes(min_side=1), avoid={"ties"}))
def test_avoiding_ties_gives_distinct_values(a):
    """Avoiding ties draws arrays without repeated values (tie-break differences stay out)."""
    finite = a[~np.isnan(a)]
    assert len(np.unique(finite)) == finite.size


@given(a=S.arrays("bfloat16", (3,)))
def test_bfloat16_arrays_use_ml_dtypes(a):
    """bfloat16 arrays come as ml_dtypes.bfloat16 with exactly representable values."""
    assert a.dtype.name == "bfloat16"


@given(shapes=S.broadcastable_shapes(2), data=st.data())
def test_broadcastable_shapes_broadcast(shapes, data):
    """Drawn shapes broadcast together, and axes drawn for them are valid."""
    out = np.broadcast_shapes(*shapes.input_shapes)
    axis = data.draw(S.axes(len(out)), label="axis")
    if axis is not None:
        np.zeros(out).sum(axis=axis)


def test_inverted_bounds_are_rejected():
    """lo > hi raises with both values in the message."""
    with pytest.raises(InvalidArgument, match="lo=3 > hi=1"):
        S.elements("float32", lo=3, hi=1)


@given(a=S.arrays("float32", S.shapes(), avoid={"tiny", "subnormal"}))
def test_avoiding_tiny_keeps_values_away_from_underflow(a):
    """Without 'tiny', no nonzero value is below sqrt(smallest normal), so squares and halves stay normal."""
    nonzero = np.abs(a[(a != 0) & np.isfinite(a)])
    assert (nonzero >= np.sqrt(np.finfo(np.float32).smallest_normal)).all()


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_edge_mode_sides_hold_the_whole_pool(rank):
    """In edge mode a side() is fixed at >= 2 (K >= 2, windows slide), and `rank` such sides hold the doubled edge
    pool, whatever its random-draw bound: the pool is every edge value of float64, twice."""
    pool = 2 * len(S._edge_pool("float64", -10.0, 10.0, frozenset(), False))
    with S.edge_cases():
        side = find(S.side(0, 3, rank=rank), lambda _: True)
        assert side**rank >= pool and (side == 2 or (side - 1) ** rank < pool)  # the smallest such side >= 2
        assert find(S.side(9, 10, rank=rank), lambda _: True) >= 9


def test_edge_mode_amounts_and_indices_reach_every_value():
    """In edge mode an amount() is its upper bound and indices() pick every position, last first."""
    with S.edge_cases():
        assert find(S.amount(0, 3), lambda _: True) == 3
        idx = find(S.indices(3, (2, 4)), lambda _: True)
    assert idx.dtype == np.int64 and idx.tolist() == [[2, 1, 0, 2], [1, 0, 2, 1]]


@pytest.mark.parametrize("strategy, empty", [
    (lambda: S.shapes(), lambda s: 0 in s),
    (lambda: S.broadcastable_shapes(2), lambda b: any(0 in s for s in b.input_shapes)),
    (lambda: S.side(0, 4), lambda n: n == 0),
    (lambda: S.amount(0, 3), lambda n: n == 0),
], ids=["shapes", "broadcastable_shapes", "side", "amount"])
def test_empty_draws_come_first_then_rarely(strategy, empty):
    """The 'empty' kind is the simplest draw, which hypothesis tries first; a derandomized profile (ci) then draws
    it with probability 2**-16, so a case's few examples meet it once instead of spending half of them on it."""
    seen = []

    @settings(max_examples=60, derandomize=True, database=None)
    @given(x=strategy())
    def draws(x):
        seen.append(x)

    draws()
    assert empty(seen[0]), f"first draw {seen[0]} is not empty"
    later = [x for x in seen[1:] if empty(x)]
    assert len(seen) > 20 and (not later or not settings().derandomize), f"{len(later)} later empty draws: {later}"


@given(b=S._empty_broadcast(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=1, max_side=3)))
def test_emptied_broadcast_shapes_still_broadcast(b):
    """An emptied set of broadcastable shapes still broadcasts (size 1 against 0), to a result with a 0 side."""
    assert np.broadcast_shapes(*b.input_shapes) == b.result_shape and 0 in b.result_shape


def test_case_seeds_are_stable_and_per_case():
    """A test item's seed depends on the test function, its node id and --hypothesis-seed, and on nothing else."""
    @given(x=st.none())
    def probe(x):
        pass

    seed = S.case_seed(probe, "tests/t.py::probe[a]")
    assert seed == S.case_seed(probe, "tests/t.py::probe[a]")
    assert len({seed, S.case_seed(probe, "tests/t.py::probe[b]"), S.case_seed(probe, "tests/t.py::probe[a]", 1)}) == 3


def test_draws_do_not_depend_on_what_was_imported_before(tmp_path, monkeypatch):
    """Hypothesis mines literals from every local module imported so far; the conftest freezes that set
    (strategies.freeze_local_constants), so a seeded case draws the same examples after a new local module (a
    test file, an example, a user's code) is imported. Without the freeze, 60 draws below change."""
    import importlib

    from hypothesis import given, seed as hseed, settings as hsettings
    from hypothesis import strategies as hst

    out = []

    @hseed(1)
    @hsettings(derandomize=False, max_examples=60, database=None)
    @given(hst.lists(hst.floats(allow_nan=False), min_size=3, max_size=3))
    def draw(xs):
        out.append(tuple(xs))

    draw()
    before, out[:] = list(out), []
    consts = ", ".join(f"{1.2345 + i * 7.77:.4f}" for i in range(300))
    (tmp_path / "local_literals_9f1.py").write_text(f"VALUES = [{consts}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("local_literals_9f1")
    draw()
    assert out == before, "a newly imported local module changed seeded draws: local constants are not frozen"


def test_model_inputs_draw_no_subnormals():
    """Random-spec model inputs leave subnormals to catalogue entry tf-cpu-flushes-subnormals (TF with oneDNN off
    flushed a dense layer's 1.1e-40 input to 0.0: thorough, seed 8, AVX2 setting); zeros and normals still come."""
    from hypothesis.errors import NoSuchExample

    from equivalence.spec import ModelSpec, layer
    from equivalence.strategies_spec import model_inputs

    spec = ModelSpec("m", (3,), (layer("dense", units=1, use_bias=False),))
    tiny = np.finfo(np.float32).tiny
    with pytest.raises(NoSuchExample):
        find(model_inputs(spec), lambda x: bool(np.any((x != 0) & (np.abs(x) < tiny))),
             settings=settings(max_examples=2000, database=None))
    assert np.any(find(model_inputs(spec), lambda x: bool(np.any(np.abs(x) < 1e-30) and np.any(x != 0)),
                       settings=settings(max_examples=300, database=None)) == 0)
