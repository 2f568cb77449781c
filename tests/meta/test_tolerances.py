"""The tolerance rule and the comparator explain themselves and catch what they should."""
import numpy as np
import pytest

from equivalence import EXACT, EquivalenceMismatch, assert_close, compare, cross, tolerance, ulp_distance

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
