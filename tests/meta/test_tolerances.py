"""The tolerance rule and the comparator explain themselves and catch what they should."""
import numpy as np
import pytest

from equivalence import EXACT, EquivalenceMismatch, assert_close, compare, cross, for_arrays, tolerance, ulp_distance
from equivalence.tolerances import elementwise

pytestmark = pytest.mark.meta


def test_tolerance_grows_with_sqrt_depth():
    """A depth-K accumulation gets rtol growing like sqrt(K) on top of the output rounding."""
    t1, t4 = tolerance("float32", depth=1), tolerance("float32", depth=4)
    assert t4.rtol - 4 * 2**-23 == pytest.approx(2 * (t1.rtol - 4 * 2**-23))


def test_half_precision_accumulates_in_float32():
    """float16 tolerance is dominated by output rounding, not by depth (accumulation is float32)."""
    t = tolerance("float16", depth=1024)
    assert 4 * 2**-10 <= t.rtol < 4 * 2**-10 + 1e-4


def test_cross_is_twice_reference_tolerance():
    """TF vs torch allows the sum of both sides' distances to the reference."""
    t = tolerance("float32")
    assert cross(t).atol == 2 * t.atol and cross(EXACT) == EXACT


def test_integer_dtypes_are_exact():
    """Integer and bool results get no slack at all."""
    assert tolerance("int32") == EXACT


def test_ulp_distance_counts_representable_steps():
    """Adjacent float32 values are 1 ulp apart, and -0/+0 are 0 apart."""
    x = np.float32(1.0)
    assert ulp_distance(np.nextafter(x, np.float32(2)), x)[()] == 1
    assert ulp_distance(np.float32(-0.0), np.float32(0.0))[()] == 0


def test_mismatch_message_names_index_values_and_tolerance():
    """A failure names the worst index, both values and the tolerance with its reason."""
    a = np.zeros((2, 3), np.float32)
    b = a.copy()
    b[1, 2] = 1e-3
    with pytest.raises(EquivalenceMismatch) as exc:
        assert_close(a, b, tolerance("float32"), what="relu forward", label_a="tf", label_b="torch")
    msg = str(exc.value)
    assert "relu forward: tf != torch" in msg and "at (1, 2)" in msg and "1/6 elements" in msg and "rule: float32" in msg


def test_nan_positions_must_match():
    """NaN in one result and a number in the other is a mismatch, NaN in both is not."""
    t = tolerance("float32")
    assert not compare(np.array([np.nan]), np.array([1.0]), t).ok
    assert compare(np.array([np.nan]), np.array([np.nan]), t).ok
    assert not compare(np.array([np.inf]), np.array([-np.inf]), t).ok


def test_elementwise_rule_is_relative_to_each_element():
    """The elementwise rule: ulps x eps of each element, absolute only below the dtype's flushed range."""
    t = elementwise("float32")
    assert t.rtol == 4 * 2**-23 and t.atol == 4 * float(np.finfo(np.float32).smallest_normal)
    assert elementwise("float16").atol == 4 * float(np.finfo(np.float16).smallest_subnormal)  # nothing flushes it
    assert elementwise("int32") == EXACT


def test_small_element_is_not_judged_on_its_neighbours_scale():
    """A 1e-3 relative error at 1e-5 fails next to 10, which the array-scaled floor let through."""
    expected = np.array([1e-5, 10.0])
    actual = expected * np.array([1 + 1e-3, 1.0])
    assert compare(actual, expected, for_arrays("float32", expected)).ok
    c = compare(actual, expected, elementwise("float32"))
    assert not c.ok and c.n_bad == 1 and c.worst_index == (0,)


def test_failure_shows_the_tolerance_at_the_worst_element():
    """With per-element terms the message names the element furthest over its own tolerance and that tolerance."""
    expected = np.array([1e-5, 0.5, 10.0])
    actual = expected + np.array([2e-8, 1e-7, 2e-6])  # element 0 is 0.2% off; 2 is 2e-7 relative, within 4 ulps
    tol = elementwise("float32", terms=np.array([0.0, 0.0, 0.0]))
    with pytest.raises(EquivalenceMismatch) as exc:
        assert_close(actual, expected, tol, what="log1p", label_a="torch", label_b="ref64")
    msg = str(exc.value)
    assert "max abs err 2e-06 at (2,)" in msg  # the largest absolute error is within its tolerance ...
    assert "worst against its tolerance at (0,)" in msg and "allowed 4.77e-12 there" in msg  # ... this one is not
    assert "x max(|expected|, terms)" in msg and "elementwise rule: float32 4 ulps" in msg


def test_terms_allow_cancelling_elements_their_terms_ulps():
    """Where terms exceed |expected| the element may be ulps of the terms off; NaN/inf still compared exactly."""
    expected = np.array([1e-12, 1.0, np.nan, np.inf])
    tol = elementwise("float32", terms=np.array([8.0, 0.0, 1.0, 1.0]))
    assert compare(expected + np.array([3e-6, 0, 0, 0]), expected, tol).ok  # 3e-6 < 4 u x 8
    assert not compare(expected + np.array([4e-6, 0, 0, 0]), expected, tol).ok
    assert not compare(np.array([1e-12, 1.0, 1.0, np.inf]), expected, tol).ok  # a number where NaN belongs
    assert not compare(np.array([1e-12, 1.0, np.nan, -np.inf]), expected, tol).ok


def test_per_element_tolerances_compare_and_cross():
    """Tolerances holding terms compare by value (no ambiguous array truth) and cross() keeps the terms."""
    a, b = elementwise("float32", terms=np.ones(3)), elementwise("float32", terms=np.ones(3))
    assert a == b and a != elementwise("float32") and a != EXACT
    assert np.array_equal(cross(a).terms, a.terms) and cross(a).rtol == 2 * a.rtol


def test_record_reports_the_worst_element_over_its_tolerance():
    """The run report's error_over_tol is max |a - b| / allowed over elements, not at the largest |a - b|."""
    c = compare(np.array([1e-5 * (1 + 1e-3), 10.0 + 2e-6]), np.array([1e-5, 10.0]), elementwise("float32"))
    assert c.record()["error_over_tol"] == pytest.approx(1e-8 / (4 * 2**-23 * 1e-5), rel=1e-3)
