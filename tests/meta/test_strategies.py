"""The input strategies always mix in edge values, honour `avoid=`, and reject bad arguments with a fix-it message."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

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
