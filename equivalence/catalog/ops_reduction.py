"""Reductions over axes (int, negative, tuple, None) with and without keepdims, and scans (cumsum, cumprod).

The tolerance depth is the number of reduced elements, so a float32 sum over n terms may be off by
~4 * eps * sqrt(n) relative to max|result| (equivalence.tolerances), never by a fixed guess.
"""
from __future__ import annotations

import math

import numpy as np

from . import grad_terms
from .opinfo import OpInfo
from .samples import as_reference, call, reduced_size, reduction
from .ops_binary import INTS
from .ops_elementwise import FLOATS

NUMERIC = FLOATS + INTS


def _dims(x, axis):
    """torch `dim` for a neutral axis: None means every axis (as an explicit tuple)."""
    return tuple(range(x.dim())) if axis is None else axis


def _torch_reduce(fn_name):
    """torch.<fn>(x, dim=..., keepdim=...) with None meaning all axes."""
    def fn(x, axis=None, keepdims=False):
        from ..runtime import torch

        return getattr(torch(), fn_name)(x, dim=_dims(x, axis), keepdim=keepdims)
    return fn


def _torch_var(fn_name):
    """torch.var/std with correction=0 (TF's population estimator; the default differs: var-default-correction)."""
    def fn(x, axis=None, keepdims=False):
        from ..runtime import torch

        return getattr(torch(), fn_name)(x, dim=_dims(x, axis), keepdim=keepdims, correction=0)
    return fn


def _torch_prod(x, axis=None, keepdims=False):
    # torch.prod takes a single int dim; axis=None reduces all and drops keepdim, so restore the shape.
    from ..runtime import torch

    if axis is None:
        out = torch().prod(x)
        return out.reshape((1,) * x.dim()) if keepdims else out
    return torch().prod(x, dim=axis, keepdim=keepdims)


def _torch_norm(x, axis=None, keepdims=False):
    from ..runtime import torch

    return torch().linalg.vector_norm(x, ord=2, dim=_dims(x, axis), keepdim=keepdims)


def _torch_axis(fn_name):
    """torch.<fn>(x, dim=axis) for single-axis ops (argmax, cumsum)."""
    def fn(x, axis):
        from ..runtime import torch

        return getattr(torch(), fn_name)(x, dim=axis)
    return fn


def _tf_reduce(path):
    """tf/keras reduction called with axis=..., keepdims=...; tuples passed as lists (TF wants a list/tensor)."""
    f = call(path)
    return lambda x, axis=None, keepdims=False: f(x, axis=list(axis) if isinstance(axis, tuple) else axis,
                                                  keepdims=keepdims)


def _tf_axis(path):
    """tf/keras <fn>(x, axis=axis) for single-axis ops."""
    f = call(path)
    return lambda x, axis: f(x, axis=axis)


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _np_norm(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _np_reduce(fn, **fixed):
    return lambda x, axis=None, keepdims=False: fn(x, axis=axis, keepdims=keepdims, **fixed)


def _int_widens(dtype):
    # Integer sums/products: torch accumulates and returns int64, TF keeps int32 (reduce-int32-result-dtype).
    return {"tf": "int32", "torch": "int64"} if dtype == "int32" else dtype


def _index_result(_dtype):
    return "int64"


def _unit(_sample) -> float:
    # logsumexp = m + log(s) with s >= 1: log(s) is accurate to ~eps absolute, however small the result
    # (logsumexp([-6, 0]) = 0.00248 is off by 3.3e-8 on both sides).
    return 1.0


# Where the tolerance rule's model (half dtypes accumulated in float32, rounding errors growing like sqrt(depth))
# does not hold, OpInfo.error_bound gives a side's result the classical bound of its algorithm on top of the rule:
# a sum of n terms in any order, each term passing through at most n - 1 roundings of unit u, is off by at most
# g(n - 1) sum|x_i|, g(k) = (1 + u)^k - 1 (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 4.2).
#  * TF adds float16 in float16 (catalogue tf-half-sums-accumulate-in-half): reduce_sum/reduce_mean use Eigen's
#    SumReducer<half> (tensorflow/core/kernels/reduction_ops.h casts only bfloat16 sums to float32), cumsum scans
#    float16 and bfloat16 in the input dtype. Observed (thorough seed 1): var[float16] of 3.0 and 39 zeros is
#    0.22168, 1.05% over the exact 0.219375 (39 squares 0.0056 added to 8.5625 in float16, each rounding up by
#    0.28 ulp); the rule allows 0.39%, this bound 1.9%.
#  * var/std are two-pass (TF: mean(square(x - mean(x))), math_ops.py; torch: std_var_all_cpu for full reductions,
#    Welford otherwise), and both sides have paths that add the squared deviations one after the other (TF: reducing
#    outer axes; torch: full reductions). The drawn arrays' background is one repeated edge value, whose squared
#    deviations all round alike, so the error grows like n * u, not sqrt(n) * u. Observed (thorough seed 2):
#    torch var[float64] of 1.5 and 479 zeros is 4.5e-14 relative off (reproduced exactly by a serial float64 sum),
#    the rule allows 2.0e-14; std[float64] of 9.0 and 2155 zeros 8.5e-14 (rule 4.2e-14); TF var[float32] over axis 0
#    of 1.5 and 1999 zeros 7.6e-5 (rule 2.2e-5).
_UNIT = {"float16": 2.0**-11, "bfloat16": 2.0**-8, "float32": 2.0**-24, "float64": 2.0**-53}  # unit roundoff
# var/std per side and dtype: units of (the mean's sum, the mean's rounding, the sum of squared deviations). TF sums
# float16 in float16 and bfloat16 in float32 (rounding the mean to bfloat16); torch computes half dtypes in float32
# and float32 in double (CPU acc_type), from a float32 mean on the full-reduction path. The deviations and squares
# themselves are rounded once or twice in the dtype each side computes in: the rule's 4 ulps of the result cover it.
_VAR_UNITS = {
    "tf": {d: (_UNIT["float32"] if d == "bfloat16" else _UNIT[d], _UNIT[d],
               _UNIT["float32"] if d == "bfloat16" else _UNIT[d]) for d in _UNIT},
    "torch": {"float16": (2.0**-24,) * 3, "bfloat16": (2.0**-24,) * 3, "float32": (2.0**-24, 2.0**-24, 2.0**-53),
              "float64": (2.0**-53,) * 3},
}


def _g(u: float, k: int) -> float:
    """Relative error bound of k roundings of unit u: (1 + u)^k - 1."""
    return math.expm1(k * math.log1p(u))


def _accumulation_bound(kind):
    """OpInfo.error_bound of a reduction `kind` (sum, mean, cumsum, var, std), see the comment above."""
    def bound(side, dtype, sample) -> float:
        """serial/half-precision accumulation bound (ops_reduction; TF float16: tf-half-sums-accumulate-in-half)"""
        x, n = as_reference(sample.args[0]), reduced_size(sample)
        if dtype not in _UNIT or x.size == 0 or n < 2:
            return 0.0
        axis = sample.kwargs.get("axis")
        with np.errstate(all="ignore"):
            if kind == "cumsum":
                if side != "tf" or dtype not in ("float16", "bfloat16"):
                    return 0.0
                b = _g(_UNIT[dtype], n - 1) * np.cumsum(np.abs(x), axis=axis)
            elif kind in ("sum", "mean"):
                if side != "tf" or dtype != "float16":
                    return 0.0
                mean_abs = np.mean(np.abs(x), axis=axis, keepdims=True)
                b = _g(_UNIT[dtype], n - 1) * mean_abs * (n if kind == "sum" else 1)
            else:  # var = mean((x - m')^2) = exact var + (m' - m)^2, m' the side's mean, then the serial sum's error
                mean_sum, mean_round, squares = _VAR_UNITS[side][dtype]
                dm = ((1 + _g(mean_sum, n - 1)) * (1 + mean_round) ** 2 - 1) * np.mean(np.abs(x), axis=axis,
                                                                                         keepdims=True)
                var = np.var(x, axis=axis, keepdims=True)
                b = _g(squares, n - 1) * (var + dm * dm) + dm * dm
                if kind == "std":  # |sqrt(a) - sqrt(b)| <= |a - b| / sqrt(b) and <= sqrt|a - b|
                    b = np.minimum(np.sqrt(b), b / np.sqrt(var))
        b = np.asarray(b)[np.isfinite(b)]  # NaN/inf outputs (non-finite terms) are compared by position
        return float(b.max()) if b.size else 0.0

    return bound


_SCAN_ZERO_SIGN = ("TF and torch start a running sum at +0.0, so a prefix of -0.0s sums to +0.0, where NumPy starts "
                   "from the first element (-0.0); IEEE 754 defines no scan")


def _red(name, torch_fn, tf_api, ref, *, torch_api, dtypes=FLOATS, samples_fn=None, variant="", grad=True,
         exact=False, result_dtype=None, notes="", depth=reduced_size, scale=None, error_bound=None,
         grad_terms=None, zero_sign=""):
    """One reduction OpInfo (default inputs: any axis spec, keepdims drawn, empty dims included)."""
    return OpInfo(
        name=name, family="reduction", torch_fn=torch_fn, tf_fn=_tf_reduce(tf_api) if isinstance(tf_api, str)
        else tf_api[1], ref=ref, dtypes=dtypes, samples_fn=samples_fn or _SUM,
        torch_api=torch_api, tf_api=tf_api if isinstance(tf_api, str) else tf_api[0], variant=variant,
        api="keras.ops" if (tf_api if isinstance(tf_api, str) else tf_api[0]).startswith("keras.") else "tf",
        supports_grad=grad, exact=exact, result_dtype=result_dtype, notes=notes, depth=depth, scale=scale,
        error_bound=error_bound, grad_terms=grad_terms, zero_sign=zero_sign,
    )


# Accumulating reductions draw no `huge` values: whether a sum of values near the dtype's max overflows depends on
# the summation order (unspecified on both sides), and the float64 reference never overflows where both do.
_SUM = reduction(avoid=("huge",))
_ARG = reduction(keepdims=False, tuple_axes=False, none_axis=False, min_side=1)
_SCAN = reduction(keepdims=False, tuple_axes=False, none_axis=False, avoid=("huge",))
_NONEMPTY = reduction(avoid=("empty",))
# Products: at most 27 factors in [-2, 2], none huge/inf/tiny: a longer product over/underflows part-way in an
# order neither framework specifies (thorough: 2.5**132 * 0 is inf * 0 = NaN in torch, 0 in TF).
_PROD_AVOID = ("huge", "inf", "tiny", "subnormal")
_PROD = reduction(-2, 2, tuple_axes=False, avoid=_PROD_AVOID, max_side=3)
_PROD_DTYPES = ("float32", "float64", "bfloat16") + INTS  # float16 (max 65504 < 2**27) would overflow part-way

OPS = [
    _red("sum", _torch_reduce("sum"), "tf.math.reduce_sum", _np_reduce(np.sum), torch_api="torch.sum",
         dtypes=NUMERIC, result_dtype=_int_widens,
         error_bound=_accumulation_bound("sum")),
    _red("sum", _torch_reduce("sum"), "keras.ops.sum", _np_reduce(np.sum), torch_api="torch.sum", variant="keras",
         dtypes=("float32", "int32"), result_dtype=_int_widens),
    _red("mean", _torch_reduce("mean"), "tf.math.reduce_mean", _np_reduce(np.mean), torch_api="torch.mean",
         error_bound=_accumulation_bound("mean")),
    _red("mean", _torch_reduce("mean"), "keras.ops.mean", _np_reduce(np.mean), torch_api="torch.mean",
         variant="keras", dtypes=("float32",)),
    _red("prod", _torch_prod, "tf.math.reduce_prod", _np_reduce(np.prod), torch_api="torch.prod",
         dtypes=_PROD_DTYPES, samples_fn=_PROD, result_dtype=_int_widens),
    _red("max", _torch_reduce("amax"), "tf.math.reduce_max", _np_reduce(np.max), torch_api="torch.amax",
         dtypes=NUMERIC, samples_fn=_NONEMPTY, exact=True),
    _red("max", _torch_reduce("amax"), "keras.ops.max", _np_reduce(np.max), torch_api="torch.amax",
         variant="keras", dtypes=("float32", "int32"), samples_fn=_NONEMPTY, exact=True),
    _red("min", _torch_reduce("amin"), "tf.math.reduce_min", _np_reduce(np.min), torch_api="torch.amin",
         dtypes=NUMERIC, samples_fn=_NONEMPTY, exact=True),
    _red("argmax", _torch_axis("argmax"), ("tf.math.argmax", _tf_axis("tf.math.argmax")), np.argmax,
         torch_api="torch.argmax", dtypes=NUMERIC, samples_fn=_ARG, grad=False, result_dtype=_index_result,
         notes="ties: first index on both sides"),
    _red("argmax", _torch_axis("argmax"), ("keras.ops.argmax", _tf_axis("keras.ops.argmax")), np.argmax,
         torch_api="torch.argmax", variant="keras", dtypes=("float32",), samples_fn=_ARG, grad=False,
         result_dtype=lambda _d: {"tf": "int32", "torch": "int64"}),
    _red("argmin", _torch_axis("argmin"), ("tf.math.argmin", _tf_axis("tf.math.argmin")), np.argmin,
         torch_api="torch.argmin", dtypes=NUMERIC, samples_fn=_ARG, grad=False, result_dtype=_index_result),
    _red("var", _torch_var("var"), "tf.math.reduce_variance", _np_reduce(np.var), torch_api="torch.var",
         error_bound=_accumulation_bound("var"), grad_terms=grad_terms.var,
         notes="torch called with correction=0 (TF's estimator)"),
    _red("var", _torch_var("var"), "keras.ops.var", _np_reduce(np.var), torch_api="torch.var", variant="keras",
         dtypes=("float32",),
         error_bound=_accumulation_bound("var"), grad_terms=grad_terms.var),
    _red("std", _torch_var("std"), "tf.math.reduce_std", _np_reduce(np.std), torch_api="torch.std",
         error_bound=_accumulation_bound("std"), grad_terms=grad_terms.std),
    _red("logsumexp", _torch_reduce("logsumexp"), "tf.math.reduce_logsumexp", _np_logsumexp,
         torch_api="torch.logsumexp", dtypes=("float32", "float64"), samples_fn=reduction(), scale=_unit,
         grad_terms=grad_terms.logsumexp),
    _red("logsumexp", _torch_reduce("logsumexp"), "keras.ops.logsumexp", _np_logsumexp,
         torch_api="torch.logsumexp", variant="keras", dtypes=("float32",), samples_fn=reduction(), scale=_unit,
         grad_terms=grad_terms.logsumexp),
    _red("all", _torch_reduce("all"), "tf.math.reduce_all", _np_reduce(np.all), torch_api="torch.all",
         dtypes=("bool",), grad=False),
    _red("any", _torch_reduce("any"), "tf.math.reduce_any", _np_reduce(np.any), torch_api="torch.any",
         dtypes=("bool",), grad=False),
    _red("cumsum", _torch_axis("cumsum"), ("tf.math.cumsum", _tf_axis("tf.math.cumsum")),
         lambda x, axis: np.cumsum(x, axis=axis), torch_api="torch.cumsum", dtypes=NUMERIC, samples_fn=_SCAN,
         result_dtype=_int_widens,
         error_bound=_accumulation_bound("cumsum"), zero_sign=_SCAN_ZERO_SIGN),
    _red("cumsum", _torch_axis("cumsum"), ("keras.ops.cumsum", _tf_axis("keras.ops.cumsum")),
         lambda x, axis: np.cumsum(x, axis=axis), torch_api="torch.cumsum", variant="keras", dtypes=("float32",),
         samples_fn=_SCAN, zero_sign=_SCAN_ZERO_SIGN),
    _red("cumprod", _torch_axis("cumprod"), ("tf.math.cumprod", _tf_axis("tf.math.cumprod")),
         lambda x, axis: np.cumprod(x, axis=axis), torch_api="torch.cumprod", dtypes=_PROD_DTYPES,
         samples_fn=reduction(-2, 2, keepdims=False, tuple_axes=False, none_axis=False, avoid=_PROD_AVOID, max_side=3),
         result_dtype=_int_widens),
    _red("norm", _torch_norm, "tf.math.reduce_euclidean_norm",
         _np_reduce(_np_norm), torch_api="torch.linalg.vector_norm", dtypes=("float32", "float64", "bfloat16"),
         notes="float16 left out: TF flushes squares of |x| < 7.8e-3 (subnormal in float16) to zero"),
]
