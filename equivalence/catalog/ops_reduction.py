"""Reductions over axes (int, negative, tuple, None) with and without keepdims, and scans (cumsum, cumprod).

The tolerance depth is the number of reduced elements, so a float32 sum over n terms may be off by
~4 * eps * sqrt(n) relative to max|result| (equivalence.tolerances), never by a fixed guess.
"""
from __future__ import annotations

import numpy as np

from ._opinfo import OpInfo
from ._samples import as_reference, call, reduced_size, reduction
from .ops_binary import INTS
from .ops_elementwise import FLOATS

NUMERIC = FLOATS + INTS


def _dims(x, axis):
    """torch `dim` for a neutral axis: None means every axis (as an explicit tuple)."""
    return tuple(range(x.dim())) if axis is None else axis


def _torch_reduce(fn_name):
    """torch.<fn>(x, dim=..., keepdim=...) with None meaning all axes."""
    def fn(x, axis=None, keepdims=False):
        from .._runtime import torch

        return getattr(torch(), fn_name)(x, dim=_dims(x, axis), keepdim=keepdims)
    return fn


def _torch_var(fn_name):
    """torch.var/std with correction=0 (TF's population estimator; the default differs: var-default-correction)."""
    def fn(x, axis=None, keepdims=False):
        from .._runtime import torch

        return getattr(torch(), fn_name)(x, dim=_dims(x, axis), keepdim=keepdims, correction=0)
    return fn


def _torch_prod(x, axis=None, keepdims=False):
    # torch.prod takes a single int dim; axis=None reduces all and drops keepdim, so restore the shape.
    from .._runtime import torch

    if axis is None:
        out = torch().prod(x)
        return out.reshape((1,) * x.dim()) if keepdims else out
    return torch().prod(x, dim=axis, keepdim=keepdims)


def _torch_norm(x, axis=None, keepdims=False):
    from .._runtime import torch

    return torch().linalg.vector_norm(x, ord=2, dim=_dims(x, axis), keepdim=keepdims)


def _torch_axis(fn_name):
    """torch.<fn>(x, dim=axis) for single-axis ops (argmax, cumsum)."""
    def fn(x, axis):
        from .._runtime import torch

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


# TF's CPU kernels add float16 terms in float16 (catalogue tf-half-sums-accumulate-in-half): reduce_sum/reduce_mean
# use Eigen's SumReducer<half> (tensorflow/core/kernels/reduction_ops.h casts only bfloat16 sums to float32), so
# reduce_variance/reduce_std (mean(square(x - mean(x))), math_ops.py) round the mean, each deviation, its square and
# every partial sum to float16; cumsum scans float16 and bfloat16 in the input dtype. The tolerance rule assumes
# float32 accumulation (torch's), so TF's result gets, on top of it, the classical bound valid for any summation
# order: each term passes through at most n - 1 roundings, so the sum is off by at most ((1 + u)^(n-1) - 1) sum|x_i|
# (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 4.2), u = eps / 2 of the input dtype.
# Observed: var of 3.0 and 39 zeros is 0.22168 in TF (float16 accumulation of 39 squares 0.0056 onto 8.5625, each
# rounding up by 0.28 ulp), 1.05% over the exact 0.219375, which the bound (2.1%) covers and the rule (0.39%) not.
_HALF_UNIT = {"float16": 2.0**-11, "bfloat16": 2.0**-8}  # unit roundoff


def _tf_half_sums(kind, dtypes=("float16",)):
    """(catalogue id, bound(dtype, sample)): the extra error of TF's `kind` (sum, mean, var, std, cumsum) in `dtypes`.

    var: TF's mean m' is off by dm <= g(n + 1) mean|x| (n - 1 roundings in the sum, the division by half(n), its
    rounding); mean((x - m')^2) = var + (m' - m)^2 exactly, and x - m', its square and the sum add n + 2 roundings:
    |var' - var| <= g(n + 2) (var + dm^2) + dm^2 (g(k) = (1 + u)^k - 1). std: |sqrt(a) - sqrt(b)| <= |a - b| / sqrt(b)
    and <= sqrt|a - b|. Outputs that are NaN or inf (non-finite terms) are compared by position, not bounded here.
    """
    def bound(dtype, sample) -> float:
        x, n = as_reference(sample.args[0]), reduced_size(sample)
        if dtype not in dtypes or x.size == 0 or n < 2:
            return 0.0
        axis, u = sample.kwargs.get("axis"), _HALF_UNIT[dtype]
        g = lambda k: (1.0 + u) ** k - 1.0  # noqa: E731 - relative error of k roundings
        with np.errstate(all="ignore"):
            if kind == "cumsum":
                b = g(n - 1) * np.cumsum(np.abs(x), axis=axis)
            else:
                mean_abs = np.mean(np.abs(x), axis=axis, keepdims=True)
                if kind in ("sum", "mean"):
                    b = g(n - 1) * mean_abs * (n if kind == "sum" else 1)
                else:
                    dm, var = g(n + 1) * mean_abs, np.var(x, axis=axis, keepdims=True)
                    b = g(n + 2) * (var + dm * dm) + dm * dm
                    if kind == "std":
                        b = np.minimum(np.sqrt(b), b / np.sqrt(var))
        b = np.asarray(b)[np.isfinite(b)]
        return float(b.max()) if b.size else 0.0

    return ("tf-half-sums-accumulate-in-half", bound)


def _red(name, torch_fn, tf_api, ref, *, torch_api, dtypes=FLOATS, samples_fn=None, variant="", grad=True,
         exact=False, result_dtype=None, differences=(), notes="", depth=reduced_size, scale=None, tf_error=None):
    """One reduction OpInfo (default inputs: any axis spec, keepdims drawn, empty dims included)."""
    return OpInfo(
        name=name, family="reduction", torch_fn=torch_fn, tf_fn=_tf_reduce(tf_api) if isinstance(tf_api, str)
        else tf_api[1], ref=ref, dtypes=dtypes, samples_fn=samples_fn or _SUM,
        torch_api=torch_api, tf_api=tf_api if isinstance(tf_api, str) else tf_api[0], variant=variant,
        api="keras.ops" if (tf_api if isinstance(tf_api, str) else tf_api[0]).startswith("keras.") else "tf",
        supports_grad=grad, exact=exact, result_dtype=result_dtype, notes=notes, depth=depth, scale=scale,
        tf_error=tf_error, differences=differences + ((tf_error[0],) if tf_error else ()),
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
         dtypes=NUMERIC, result_dtype=_int_widens, differences=("reduce-int32-result-dtype",),
         tf_error=_tf_half_sums("sum")),
    _red("sum", _torch_reduce("sum"), "keras.ops.sum", _np_reduce(np.sum), torch_api="torch.sum", variant="keras",
         dtypes=("float32", "int32"), result_dtype=_int_widens, differences=("reduce-int32-result-dtype",)),
    _red("mean", _torch_reduce("mean"), "tf.math.reduce_mean", _np_reduce(np.mean), torch_api="torch.mean",
         tf_error=_tf_half_sums("mean")),
    _red("mean", _torch_reduce("mean"), "keras.ops.mean", _np_reduce(np.mean), torch_api="torch.mean",
         variant="keras", dtypes=("float32",)),
    _red("prod", _torch_prod, "tf.math.reduce_prod", _np_reduce(np.prod), torch_api="torch.prod",
         dtypes=_PROD_DTYPES, samples_fn=_PROD, result_dtype=_int_widens, differences=("reduce-int32-result-dtype",)),
    _red("max", _torch_reduce("amax"), "tf.math.reduce_max", _np_reduce(np.max), torch_api="torch.amax",
         dtypes=NUMERIC, samples_fn=_NONEMPTY, exact=True, differences=("reduce-max-empty", "max-signed-zero")),
    _red("max", _torch_reduce("amax"), "keras.ops.max", _np_reduce(np.max), torch_api="torch.amax",
         variant="keras", dtypes=("float32", "int32"), samples_fn=_NONEMPTY, exact=True),
    _red("min", _torch_reduce("amin"), "tf.math.reduce_min", _np_reduce(np.min), torch_api="torch.amin",
         dtypes=NUMERIC, samples_fn=_NONEMPTY, exact=True, differences=("reduce-max-empty", "max-signed-zero")),
    _red("argmax", _torch_axis("argmax"), ("tf.math.argmax", _tf_axis("tf.math.argmax")), np.argmax,
         torch_api="torch.argmax", dtypes=NUMERIC, samples_fn=_ARG, grad=False, result_dtype=_index_result,
         differences=("argmax-nan", "argmax-default-axis"), notes="ties: first index on both sides"),
    _red("argmax", _torch_axis("argmax"), ("keras.ops.argmax", _tf_axis("keras.ops.argmax")), np.argmax,
         torch_api="torch.argmax", variant="keras", dtypes=("float32",), samples_fn=_ARG, grad=False,
         result_dtype=lambda _d: {"tf": "int32", "torch": "int64"}, differences=("argmax-nan", "keras-argmax-int32")),
    _red("argmin", _torch_axis("argmin"), ("tf.math.argmin", _tf_axis("tf.math.argmin")), np.argmin,
         torch_api="torch.argmin", dtypes=NUMERIC, samples_fn=_ARG, grad=False, result_dtype=_index_result,
         differences=("argmax-nan",)),
    _red("var", _torch_var("var"), "tf.math.reduce_variance", _np_reduce(np.var), torch_api="torch.var",
         differences=("var-default-correction", "squares-overflow"), tf_error=_tf_half_sums("var"),
         notes="torch called with correction=0 (TF's estimator)"),
    _red("var", _torch_var("var"), "keras.ops.var", _np_reduce(np.var), torch_api="torch.var", variant="keras",
         dtypes=("float32",), differences=("var-default-correction", "squares-overflow")),
    _red("std", _torch_var("std"), "tf.math.reduce_std", _np_reduce(np.std), torch_api="torch.std",
         differences=("var-default-correction", "squares-overflow"), tf_error=_tf_half_sums("std")),
    _red("logsumexp", _torch_reduce("logsumexp"), "tf.math.reduce_logsumexp", _np_logsumexp,
         torch_api="torch.logsumexp", dtypes=("float32", "float64"), samples_fn=reduction(), scale=_unit),
    _red("logsumexp", _torch_reduce("logsumexp"), "keras.ops.logsumexp", _np_logsumexp,
         torch_api="torch.logsumexp", variant="keras", dtypes=("float32",), samples_fn=reduction(), scale=_unit),
    _red("all", _torch_reduce("all"), "tf.math.reduce_all", _np_reduce(np.all), torch_api="torch.all",
         dtypes=("bool",), grad=False),
    _red("any", _torch_reduce("any"), "tf.math.reduce_any", _np_reduce(np.any), torch_api="torch.any",
         dtypes=("bool",), grad=False),
    _red("cumsum", _torch_axis("cumsum"), ("tf.math.cumsum", _tf_axis("tf.math.cumsum")),
         lambda x, axis: np.cumsum(x, axis=axis), torch_api="torch.cumsum", dtypes=NUMERIC, samples_fn=_SCAN,
         result_dtype=_int_widens, differences=("reduce-int32-result-dtype",),
         tf_error=_tf_half_sums("cumsum", ("float16", "bfloat16"))),
    _red("cumsum", _torch_axis("cumsum"), ("keras.ops.cumsum", _tf_axis("keras.ops.cumsum")),
         lambda x, axis: np.cumsum(x, axis=axis), torch_api="torch.cumsum", variant="keras", dtypes=("float32",),
         samples_fn=_SCAN),
    _red("cumprod", _torch_axis("cumprod"), ("tf.math.cumprod", _tf_axis("tf.math.cumprod")),
         lambda x, axis: np.cumprod(x, axis=axis), torch_api="torch.cumprod", dtypes=_PROD_DTYPES,
         samples_fn=reduction(-2, 2, keepdims=False, tuple_axes=False, none_axis=False, avoid=_PROD_AVOID, max_side=3),
         result_dtype=_int_widens, differences=("reduce-int32-result-dtype",)),
    _red("norm", _torch_norm, "tf.math.reduce_euclidean_norm",
         _np_reduce(_np_norm), torch_api="torch.linalg.vector_norm", dtypes=("float32", "float64", "bfloat16"),
         differences=("squares-overflow", "tf-half-flushes-intermediates"),
         notes="float16 left out: TF flushes squares of |x| < 7.8e-3 (subnormal in float16) to zero"),
]
