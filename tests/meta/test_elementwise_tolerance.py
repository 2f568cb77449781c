"""Elementwise results are judged element by element: an element near 0 keeps its own ulps beside a large one.

Each mutation test runs the op tests' own check_sample on a registry entry whose torch side was replaced by a
plausible wrong implementation (dataclasses.replace(info, torch_fn=...)), on a sample holding a small element next
to a large one. Under the former rule (atol = rtol x max|expected| over the array) every one of them passed.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equivalence import EquivalenceMismatch, compare, for_arrays
from equivalence.runtime import torch
from equivalence.catalog.opinfo import Sample
from equivalence.catalog.ops import OP_DB, by_id
from equivalence.checks import ops as op_check  # the op tests' own assertion path, not a copy

pytestmark = pytest.mark.meta


SMALL_NEXT_TO_LARGE = np.array([1e-5, 10.0], np.float32)


def _log1p_naive(x):
    return torch().log(1 + x)  # 1 + 1e-5 rounds in float32: 1.4e-3 relative off (19% at x = 3e-7)


def _expm1_naive(x):
    return torch().exp(x) - 1  # exp(1e-5) ~ 1 carries ~u absolute error: ~1e-2 relative off at x = 1e-5


def _scaled(info, factor):
    fn = info.torch_fn
    return lambda *a, **k: fn(*a, **k) * factor


MUTANTS = [
    pytest.param("log1p", _log1p_naive, id="log1p-as-log-of-1-plus-x"),
    pytest.param("expm1", _expm1_naive, id="expm1-as-exp-minus-1"),
    pytest.param("tanh", _scaled(by_id("tanh"), 1 + 1e-4), id="tanh-times-1.0001"),
    pytest.param("mul", _scaled(by_id("mul"), 1 + 1e-4), id="mul-times-1.0001"),
]


def _sample(op_id) -> Sample:
    if by_id(op_id).family == "binary":  # each element times 1.5: products 1.5e-5 and 15
        return Sample((SMALL_NEXT_TO_LARGE, np.float32(1.5)), {}, "broadcast")
    return Sample((SMALL_NEXT_TO_LARGE,), {}, "unary")


@pytest.mark.parametrize("op_id,torch_fn", MUTANTS)
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())  # check_sample records hypothesis notes: it runs inside a test
def test_elementwise_mutant_fails_next_to_a_large_element(op_id, torch_fn, hypothesis_context):
    """A wrong elementwise implementation fails check_sample on [1e-5, 10], naming the small element."""
    info, sample = by_id(op_id), _sample(op_id)
    known = op_check.known_differences(info, "float32")
    op_check.check_sample(info, "float32", sample, known)  # the real op passes on this sample
    with pytest.raises(EquivalenceMismatch) as exc:
        op_check.check_sample(dataclasses.replace(info, torch_fn=torch_fn), "float32", sample, known)
    msg = str(exc.value)
    assert "torch != ref64" in msg and "elementwise rule: float32 4 ulps of each element" in msg
    worst = "at (0,)" if op_id in ("log1p", "expm1") else "at ("  # the scaled ones are off everywhere
    assert "worst against its tolerance " + worst in msg


@pytest.mark.parametrize("op_id,torch_fn", MUTANTS[:2])
def test_array_scaled_floor_would_hide_the_mutant(op_id, torch_fn):
    """Under the former rule (atol = rtol x max|expected|) log(1 + x) and exp(x) - 1 pass on [1e-5, 10]."""
    info, x = by_id(op_id), SMALL_NEXT_TO_LARGE
    got = torch_fn(torch().from_numpy(x.copy())).numpy()
    expected = info.ref(x.astype(np.float64)).astype(np.float32)
    assert compare(got, expected, for_arrays("float32", expected)).ok
    assert not compare(got, expected, info.tolerance("float32", Sample((x,)), expected)).ok


def test_cancellation_terms_widen_only_the_cancelling_elements():
    """GELU's tolerance follows |x| in its far negative tail (1 + erf cancels) and |result| elsewhere."""
    x = np.array([-8.0, 2.0], np.float32)
    tol = by_id("gelu-exact").tolerance("float32", Sample((x,)), np.zeros(2, np.float32))
    allowed = tol.allowed(np.array([-5e-15, 1.9545]))
    assert allowed[0] == pytest.approx(tol.rtol * 8.0, rel=1e-3)  # ulps of the terms: |x| (1 + |erf|) / 2 ~ 8
    assert tol.rtol * 1.9545 < allowed[1] < 1.12 * tol.rtol * 1.9545  # ulps of the result, + erf's argument error


def test_elementwise_entries_have_no_array_floor():
    """Every unary/binary entry is judged element by element, and every cancellation allowance says why."""
    for info in OP_DB:
        if info.family in ("elementwise", "binary"):
            assert info.elementwise, f"{info.id}: unary/binary ops are judged element by element"
        if info.cancellation is not None:
            assert (info.cancellation.__doc__ or "").strip(), f"{info.id}: cancellation needs its derivation"
