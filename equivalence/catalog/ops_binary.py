"""Binary ops with broadcasting: arithmetic, division family (negative operands, zero divisors), pow, min/max,
atan2, comparisons and logical ops.

Both operands are drawn with mutually broadcastable shapes (size-1 and missing leading dims, empty dims) and the
full set of edge values. Integer divisors avoid 0 (both frameworks raise: catalogue `int-division-by-zero`).
"""
from __future__ import annotations

import numpy as np

from .opinfo import OpInfo
from .samples import binary, call
from .ops_elementwise import FLOATS, SIGNED, away_from_zero

INTS = ("int32", "int64")
COMPARABLE = ("float32", "float64", "bfloat16", "int32", "int64")


def by_kind(float_fn, int_fn):
    """A samples_fn that uses `int_fn` for integer dtypes and `float_fn` otherwise (different value ranges)."""
    return lambda dtype, avoid: (int_fn if dtype in INTS else float_fn)(dtype, avoid)


def _binary(name, torch_api, tf_api, ref, *, dtypes=SIGNED, samples_fn=None, variant="", grad=True, exact=False,
            result_dtype=None, ulps_override=None, notes="", tf_ref=None, grad_samples_fn=None,
            cancellation=None, zero_sign=""):
    """One broadcasting binary OpInfo, judged element by element (default inputs: both operands in [-10, 10] plus
    edge values)."""
    return OpInfo(
        name=name, family="binary", torch_fn=call(torch_api), tf_fn=call(tf_api), ref=ref, dtypes=dtypes,
        samples_fn=samples_fn or binary(), torch_api=torch_api, tf_api=tf_api, variant=variant,
        api="keras.ops" if tf_api.startswith("keras.") else "tf", supports_grad=grad, exact=exact,
        elementwise=True, cancellation=cancellation, result_dtype=result_dtype,
        ulps_override=ulps_override or {}, notes=notes,
        tf_ref=tf_ref, grad_samples_fn=grad_samples_fn, zero_sign=zero_sign,
    )


# IEEE 754's remainder is the rounded one; a floored remainder's zero has no standard sign.
_MOD_ZERO_SIGN = ("a zero floored remainder takes the divisor's sign in NumPy (as in Python: 4.0 % -2.0 = -0.0) and "
                  "the dividend's in TF and torch (C fmod's: -0.0 % 3.0 = -0.0); IEEE 754 defines no floored remainder")


def _bool_result(_dtype):
    return "bool"


def _truediv_result(dtype):
    # int / int: TF's truediv returns float64 for int32/int64, torch returns the default float dtype (float32).
    return {"tf": "float64", "torch": "float32"} if dtype in INTS else dtype


def _tf_floordiv(x, y):
    """TF's documented float floordiv: floor of the quotient rounded to the dtype (floordiv-float-inf)."""
    if x.dtype.kind in "iu":
        return np.floor_divide(x.astype(np.int64), y.astype(np.int64))
    return np.floor(np.divide(x, y)).astype(np.float64)


def _not_keras_bias_path(sample) -> bool:
    """False where keras.ops.add takes its tf.nn.bias_add path and the result is not NumPy broadcasting: a rank>1
    second operand, or a rank-1 one matching x's axis 1 but not its last axis, added along
    axis 1 ('NCHW'; both catalogue keras-add-bias-broadcast; thorough seed 11 drew [1, 2, 1] + [2])."""
    x, y = (np.shape(a) for a in sample.args)
    wide = [d for d in y if d > 1]
    bias_path = len(wide) == 1 and len(x) > 1 and wide[0] in {x[1], x[-1]}
    return not (bias_path and (len(y) > 1 or wide[0] != x[-1]))


# Integer divisors never 0 (both raise); values small enough that quotients are exact in float64 references.
_DIVISION = by_kind(binary(rhs_avoid=()), binary(-50, 50, rhs_avoid=("zero",)))
def _pow(x, y):
    """np.power without NumPy's 0-d-exponent fast path (x ** 0.5 -> sqrt(x)), which gives sqrt(-inf) = nan and
    sqrt(-0) = -0 where IEEE 754 pow, and both frameworks with a tensor exponent, give +inf and +0 (found by
    hypothesis: pow(-inf, 0.5) = inf on both sides, ref nan). A broadcast (stride-0) exponent takes the fast path
    too (thorough: float16 [-inf, -inf] ** 0.5), so the exponent is copied into its own contiguous array."""
    x, y = np.broadcast_arrays(x, y)
    return np.power(x.reshape(-1).copy(), y.reshape(-1).copy()).reshape(x.shape)


_POW = by_kind(binary(), binary(-4, 4, rhs=(0, 6), rhs_avoid=("negative", "huge")))
# Gradient domain of pow: a negative base is NaN at a fractional exponent and 0 is a pole of d/dy = x^y log x, so
# the gradient tests draw bases in [1/8, 4] instead of filtering.
_POW_GRAD = binary(0.125, 4, rhs=(0, 6), rhs_avoid=("negative", "huge"))
_LOGICAL = binary()

OPS = [
    _binary("add", "torch.add", "tf.math.add", np.add),
    _binary("add", "torch.add", "keras.ops.add", np.add, variant="keras", dtypes=("float32", "int32"),
            samples_fn=lambda d, a: binary()(d, a).filter(_not_keras_bias_path),
            notes="bias-shaped rank>1 second operands: catalogue"),
    _binary("sub", "torch.sub", "tf.math.subtract", np.subtract),
    _binary("mul", "torch.mul", "tf.math.multiply", np.multiply),
    _binary("div", "torch.div", "tf.math.truediv", np.true_divide, dtypes=FLOATS + INTS,
            samples_fn=_DIVISION, result_dtype=_truediv_result),
    _binary("div", "torch.div", "keras.ops.divide", np.true_divide, variant="keras", dtypes=("float32",)),
    _binary("floor_divide", "torch.floor_divide", "tf.math.floordiv", np.floor_divide, dtypes=FLOATS + INTS,
            samples_fn=_DIVISION, grad=False,
            tf_ref=_tf_floordiv,
            notes="negative operands and zero float divisors included; inf operands in the catalogue"),
    _binary("floor_divide", "torch.floor_divide", "keras.ops.floor_divide", np.floor_divide, variant="keras",
            dtypes=("float32", "int32"), samples_fn=_DIVISION, grad=False, tf_ref=_tf_floordiv),
    _binary("mod", "torch.remainder", "tf.math.floormod", np.remainder, dtypes=FLOATS + INTS,
            samples_fn=_DIVISION, grad=False,
            notes="Python (floored) sign convention on both sides", zero_sign=_MOD_ZERO_SIGN),
    _binary("mod", "torch.remainder", "keras.ops.mod", np.remainder, variant="keras", dtypes=("float32", "int32"),
            samples_fn=_DIVISION, grad=False, zero_sign=_MOD_ZERO_SIGN),
    _binary("fmod", "torch.fmod", "tf.truncatemod", np.fmod, dtypes=("float32", "float64") + INTS,
            samples_fn=_DIVISION, grad=False,
            notes="C (truncated) sign convention; TF has no float16/bfloat16 kernel"),
    _binary("pow", "torch.pow", "tf.math.pow", _pow, dtypes=FLOATS + INTS, samples_fn=_POW,
            grad_samples_fn=_POW_GRAD),
    _binary("pow", "torch.pow", "keras.ops.power", _pow, variant="keras", dtypes=("float32",), samples_fn=_POW,
            grad_samples_fn=_POW_GRAD),
    _binary("maximum", "torch.maximum", "tf.math.maximum", np.maximum, exact=True),
    _binary("maximum", "torch.maximum", "keras.ops.maximum", np.maximum, variant="keras", exact=True,
            dtypes=("float32", "int32")),
    _binary("minimum", "torch.minimum", "tf.math.minimum", np.minimum, exact=True),
    _binary("atan2", "torch.atan2", "tf.math.atan2", np.arctan2, dtypes=FLOATS,
            grad_samples_fn=away_from_zero(binary())),  # the origin is a pole of the gradient
    _binary("equal", "torch.eq", "tf.math.equal", np.equal, dtypes=COMPARABLE + ("bool",), grad=False,
            result_dtype=_bool_result),
    _binary("not_equal", "torch.ne", "tf.math.not_equal", np.not_equal, dtypes=COMPARABLE, grad=False,
            result_dtype=_bool_result),
    _binary("less", "torch.lt", "tf.math.less", np.less, dtypes=COMPARABLE, grad=False, result_dtype=_bool_result),
    _binary("less_equal", "torch.le", "tf.math.less_equal", np.less_equal, dtypes=COMPARABLE, grad=False,
            result_dtype=_bool_result),
    _binary("greater", "torch.gt", "tf.math.greater", np.greater, dtypes=COMPARABLE, grad=False,
            result_dtype=_bool_result),
    _binary("greater_equal", "torch.ge", "tf.math.greater_equal", np.greater_equal, dtypes=COMPARABLE, grad=False,
            result_dtype=_bool_result),
    _binary("logical_and", "torch.logical_and", "tf.math.logical_and", np.logical_and, dtypes=("bool",),
            grad=False, samples_fn=_LOGICAL),
    _binary("logical_or", "torch.logical_or", "tf.math.logical_or", np.logical_or, dtypes=("bool",), grad=False,
            samples_fn=_LOGICAL),
    _binary("logical_xor", "torch.logical_xor", "tf.math.logical_xor", np.logical_xor, dtypes=("bool",),
            grad=False, samples_fn=_LOGICAL),
]
