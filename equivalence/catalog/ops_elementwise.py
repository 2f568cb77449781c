"""Elementwise unary ops: one OpInfo each, drawn over the whole real line plus 0, -0, NaN, +-inf, huge, tiny.

Every op is checked on the full domain: outside it (log of a negative, sqrt of -1) all three sides must give NaN
at the same positions, which the comparator checks exactly.
"""
from __future__ import annotations

import math

import numpy as np

from ..tolerances import DEFAULT_ULPS
from . import grad_terms
from .opinfo import OpInfo, Sample
from .samples import call, unary

FLOATS = ("float32", "float64", "float16", "bfloat16")
SIGNED = FLOATS + ("int32", "int64")
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def _sign(x):
    return np.sign(x)


def away_from_zero(samples_fn, margin: float = 0.125):
    """Gradient domain of an op with a kink or pole at 0: floating elements with |x| < margin move to
    sign(x) * (margin + |x|), signs and shapes kept. The float64 stencil (reach 2e-6 |d|) then never crosses the
    kink, and its truncation near a pole, ~(h|d| / |x|)^4 relative, stays < 1e-16. Observed without it: selu at
    x = 1e-19 averages the two one-sided slopes (7e-5 off, under is_smooth's 1e-4 threshold); atan2 at
    (y, x) = (1e-5, 2e-16) is 1.3e-5 off while both frameworks are within 1 ulp of -y / (x^2 + y^2)."""
    def push(a):
        a = np.asarray(a)
        if a.dtype.kind != "f":
            return a
        return np.where(np.abs(a) < margin, np.copysign(margin + np.abs(a), a), a).astype(a.dtype)

    def pushed(dtype, avoid):
        return samples_fn(dtype, avoid).map(lambda s: Sample(tuple(map(push, s.args)), s.kwargs, s.desc))
    return pushed


def _unary(name, torch_api, tf_api, ref, *, dtypes=FLOATS, lo=-10.0, hi=10.0, avoid=(), variant="", grad=True,
           ulps=DEFAULT_ULPS, exact=False, result_dtype=None, ulps_override=None, notes="",
           grad_lo=None, cancellation=None, error_bound=None, grad_terms=None):
    """One elementwise OpInfo (judged element by element); the TF api ('tf'/'keras.ops') is read off the tf_api path.

    `grad_lo`: the gradient tests draw from [grad_lo, hi], where the op is smooth (sqrt, log: 0 is a pole of the
    derivative and negatives give NaN), instead of filtering the whole-line draws."""
    return OpInfo(
        name=name, family="elementwise", torch_fn=call(torch_api), tf_fn=call(tf_api), ref=ref, dtypes=dtypes,
        samples_fn=unary(lo, hi, avoid=avoid), torch_api=torch_api, tf_api=tf_api, variant=variant,
        api="keras.ops" if tf_api.startswith("keras.") else "tf", supports_grad=grad, ulps=ulps, exact=exact,
        elementwise=True, cancellation=cancellation, error_bound=error_bound, result_dtype=result_dtype,
        ulps_override=ulps_override or {}, notes=notes,
        grad_samples_fn=None if grad_lo is None else unary(grad_lo, hi, avoid=avoid), grad_terms=grad_terms,
    )


# Gradient domain of the ops defined for x > 0: at 1/8 the derivatives (1/x, 1/(2 sqrt x), x^-1.5/2) are at most
# ~11 and the stencil's curvature term h * f'' stays ~1e-4 of f', so finite differences are exact enough.
_POSITIVE = 0.125  # exactly representable in every float dtype (hypothesis requires it)


def _bool_result(_dtype):
    return "bool"


def _torch_half_erf(side, dtype, sample) -> float:
    """torch's float16/bfloat16 erf is Abramowitz-Stegun 7.1.26 in float32: <= 1.5e-7 + 2**-23 absolute

    ATen's Vectorized<float>::erf (vec256/vec512_float.h) computes 1 - r(t) t exp(-x^2), t = 1 / (1 + p|x|): the
    approximation is within 1.5e-7 of erf (A&S 7.1.26), and evaluating a result of terms ~1 in float32 adds ~1 ulp
    of 1. Absolute, so near 0 it is large relatively: measured bfloat16 erf(1.8e-7) = 4.2e-7 (2.1e-7 off; erf(1e-7)
    = 0), float16 4 subnormal spacings (2.4e-7) at 5e-5, alike at avx512 and avx2 (ATEN_CPU_CAPABILITY=default:
    within 1 ulp); float32 uses an accurate kernel (1 ulp measured), TF every half dtype (0.5 ulp)."""
    return 1.5e-7 + 2.0**-23 if side == "torch" and dtype in ("float16", "bfloat16") else 0.0


# TF's float32 sigmoid is Eigen's scalar_logistic_op<float>, documented (exhaustive test) worst case 4.5 ulps against
# double precision, + 0.5 for rounding the float64 reference to float32. Measured 5.0 ulps (4.52 u relative) at
# x = -14.45 (every 397th float32 in [-20, 20]).
_EIGEN_LOGISTIC_ULPS = 5.0
# TF's softplus (kernels/softplus_op.h) returns exp(x) below x = log(eps) + 2, dropping -exp(2x) / 2: relative error
# up to exp(log(eps) + 2) / 2 = 3.69 eps, + <= 1 ulp of exp and 0.5 for rounding the reference: 5.2 ulps. Measured
# 4.04 u (float32, x = -14.15) and 3.93 u (bfloat16, x = -2.86, every value); float16 0.99 u (torch: 1 u).
_TF_SOFTPLUS_ULPS = 5.5


OPS = [
    _unary("exp", "torch.exp", "tf.math.exp", np.exp),
    _unary("exp", "torch.exp", "keras.ops.exp", np.exp, variant="keras"),
    _unary("expm1", "torch.expm1", "tf.math.expm1", np.expm1, grad_terms=grad_terms.expm1),
    _unary("log", "torch.log", "tf.math.log", np.log, grad_lo=_POSITIVE),
    _unary("log", "torch.log", "keras.ops.log", np.log, variant="keras", grad_lo=_POSITIVE),
    _unary("log1p", "torch.log1p", "tf.math.log1p", np.log1p, grad_lo=_POSITIVE - 1),
    _unary("sqrt", "torch.sqrt", "tf.math.sqrt", np.sqrt, grad_lo=_POSITIVE),
    _unary("rsqrt", "torch.rsqrt", "tf.math.rsqrt", lambda x: 1 / np.sqrt(x), grad_lo=_POSITIVE),
    _unary("abs", "torch.abs", "tf.math.abs", np.abs, dtypes=SIGNED, exact=True),
    _unary("sign", "torch.sign", "tf.math.sign", _sign, dtypes=SIGNED, exact=True, grad=False),
    _unary("neg", "torch.neg", "tf.math.negative", np.negative, dtypes=SIGNED, exact=True),
    _unary("floor", "torch.floor", "tf.math.floor", np.floor, exact=True, grad=False),
    _unary("ceil", "torch.ceil", "tf.math.ceil", np.ceil, exact=True, grad=False),
    _unary("round", "torch.round", "tf.math.round", np.round, exact=True, grad=False,
           notes="half-to-even on both sides (x.5 ties are edge values)"),
    _unary("round", "torch.round", "keras.ops.round", np.round, variant="keras", exact=True, grad=False),
    _unary("trunc", "torch.trunc", "keras.ops.trunc", np.trunc, exact=True, grad=False),
    _unary("sin", "torch.sin", "tf.math.sin", np.sin),
    _unary("cos", "torch.cos", "tf.math.cos", np.cos),
    _unary("tan", "torch.tan", "tf.math.tan", np.tan),
    _unary("atan", "torch.atan", "tf.math.atan", np.arctan),
    _unary("sinh", "torch.sinh", "tf.math.sinh", np.sinh),
    _unary("cosh", "torch.cosh", "tf.math.cosh", np.cosh),
    _unary("asinh", "torch.asinh", "tf.math.asinh", np.arcsinh),
    _unary("tanh", "torch.tanh", "tf.math.tanh", np.tanh, grad_terms=grad_terms.tanh),
    _unary("sigmoid", "torch.sigmoid", "tf.math.sigmoid", _sigmoid, ulps_override={"float32": _EIGEN_LOGISTIC_ULPS},
           grad_terms=grad_terms.sigmoid),
    _unary("sigmoid", "torch.sigmoid", "keras.ops.sigmoid", _sigmoid, variant="keras",
           ulps_override={"float32": _EIGEN_LOGISTIC_ULPS}, grad_terms=grad_terms.sigmoid),
    _unary("erf", "torch.erf", "tf.math.erf", _erf, error_bound=_torch_half_erf),
    _unary("softplus", "torch.nn.functional.softplus", "tf.math.softplus", lambda x: np.logaddexp(0.0, x),
           dtypes=("float32", "float16", "bfloat16"),
           ulps_override={"float32": _TF_SOFTPLUS_ULPS, "bfloat16": _TF_SOFTPLUS_ULPS},
           notes="float64 left out: torch returns x itself above threshold=20 (catalogue: softplus-threshold)"),
    _unary("softplus", "torch.nn.functional.softplus", "keras.ops.softplus", lambda x: np.logaddexp(0.0, x),
           variant="keras", dtypes=("float32",), ulps_override={"float32": _TF_SOFTPLUS_ULPS}),
    # log(sigmoid(x)) = -softplus(-x), as Keras computes it on TF; torch's logsigmoid is min(x, 0) - log1p(exp(-|x|))
    _unary("log_sigmoid", "torch.nn.functional.logsigmoid", "keras.ops.log_sigmoid", lambda x: -np.logaddexp(0.0, -x),
           dtypes=("float32",), ulps_override={"float32": _TF_SOFTPLUS_ULPS}),
    _unary("reciprocal", "torch.reciprocal", "tf.math.reciprocal", lambda x: 1 / x),
    _unary("square", "torch.square", "tf.math.square", np.square, dtypes=SIGNED),
    _unary("isnan", "torch.isnan", "tf.math.is_nan", np.isnan, grad=False, result_dtype=_bool_result),
    _unary("isfinite", "torch.isfinite", "tf.math.is_finite", np.isfinite, grad=False, result_dtype=_bool_result),
    _unary("logical_not", "torch.logical_not", "tf.math.logical_not", np.logical_not, dtypes=("bool",), grad=False),
]
