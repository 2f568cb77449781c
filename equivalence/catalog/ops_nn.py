"""Neural-network ops: softmax family, activations, convolutions, pooling, normalisation, dropout at inference.

Arrays are channels-last (TF's layout) in every Sample; the torch callables permute to channels-first and back,
so both sides see the same numbers. Framework defaults that differ (leaky_relu slope, GELU form, epsilons) are
passed explicitly here and recorded as catalogue entries with witnesses that use the defaults.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from ..float64 import log_softmax as _log_softmax, softmax as _softmax
from ..reference import SELU_ALPHA, SELU_SCALE
from ..runtime import keras, torch
from . import grad_terms
from ..tolerances import Tolerance, eps, for_arrays, tolerance
from .opinfo import DOT_PRODUCT_ZERO_SIGN, OnDevice, OpInfo, Sample, product_terms
from .samples import call, reduction, unary
from .ops_elementwise import _erf, _sigmoid, away_from_zero

F2 = ("float32", "float64")
F4 = ("float32", "float64", "float16", "bfloat16")


def _gelu_tanh(x):
    """x * (1 + tanh(v)) / 2 written as x / (1 + exp(-2v)): the same number, without 1 + tanh(v) cancelling in
    float64 itself (it is exactly 0 for x < -7.2, where the result is still ~-1e-22; both float32 sides cancel)."""
    with np.errstate(over="ignore"):
        return x / (1 + np.exp(-2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_GELU_C = math.sqrt(2 / math.pi)


def _gelu_exact(x):
    """x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2: 1 + erf(x / sqrt 2) cancels in float64 (to 0 for x < -8.3,
    where the result is ~-2e-16) and erfc does not."""
    return 0.5 * x * _erfc(-x / math.sqrt(2))


def _gelu_exact_terms(x):
    """x * (1 + erf(z)) / 2, z = x / sqrt 2, cancels for x << 0 (NUMERICS.md: 27% relative off in the tail)

    Both sides form Phi = (1 + erf(z)) / 2 from two terms of size ~1, each carrying ~u of itself, plus erf's
    argument error u|z| times erf'(z) = 2/sqrt(pi) exp(-z^2); times |x| / 2: the summed magnitude below.
    Without cancellation (x >= 0) it is the result's own magnitude."""
    z = x / math.sqrt(2)
    return 0.5 * np.abs(x) * (1 + np.abs(_erf(z)) + 2 / math.sqrt(math.pi) * np.exp(-z * z) * np.abs(z))


def _gelu_tanh_value_terms(x):
    """x * (1 + tanh(v)) / 2 cancels for x << 0 (both sides compute 1 + tanh(v), t = tanh(v) ~ -1)

    The terms 1 and t carry ~u of their size, t's argument v = c (x + 0.044715 x^3) ~u|v| that tanh' = 1 - t^2
    passes on; times |x| / 2: the summed magnitude below, the result's own magnitude where nothing cancels."""
    v = _GELU_C * (x + 0.044715 * x**3)
    t = np.tanh(v)
    return 0.5 * np.abs(x) * (1 + np.abs(t) + (1 - t * t) * np.abs(v))


def _expm1_terms(factor: float):
    """ELU/SELU: TF computes alpha * (exp(x) - 1) for x < 0, not expm1 (catalogue elu-selu-near-zero)."""
    def terms(x):
        """TF forms alpha * (exp(x) - 1), which cancels near 0- (catalogue elu-selu-near-zero)

        exp(x) ~ 1 carries ~u absolute error that the subtraction keeps, so the result is off by ~u * factor *
        (exp(x) + 1) however small it is (observed float64 selu(-2^-8): 4.2e-17 absolute, 49 ulp of the result;
        float16 elu(-2.2e-4): 1020 ulps of the result, 0.25 ulp of 1). The layer catalogue counts the same term
        (equivalence.model_tolerance.error_scale). For x >= 0 the result is factor * x: its own magnitude."""
        with np.errstate(over="ignore"):
            return factor * np.where(x < 0, np.exp(np.minimum(x, 0)) + 1, np.abs(x))
    terms.__qualname__ = f"_expm1_terms({factor:g})"
    return terms


def _F(name, **fixed):
    return lambda *a, **k: getattr(torch().nn.functional, name)(*a, **fixed, **k)


def _dim(name):
    return lambda x, axis: getattr(torch().nn.functional, name)(x, dim=axis)


def _nn(name, torch_fn, tf_fn, ref, samples_fn, *, torch_api, tf_api, variant="", dtypes=F2, depth=None, ulps=4.0,
        grad=True, exact=False, notes="", scale=None, grad_args=None, grad_samples_fn=None,
        grad_terms=None, elementwise=False, cancellation=None, ulps_override=None, zero_sign="", on_device=None):
    return OpInfo(name=name, family="nn", torch_fn=torch_fn, tf_fn=tf_fn, ref=ref, dtypes=dtypes,
                  samples_fn=samples_fn, torch_api=torch_api, tf_api=tf_api, variant=variant,
                  api="keras.ops" if tf_api.startswith("keras.") else "tf", supports_grad=grad, depth=depth,
                  ulps=ulps, exact=exact, notes=notes, scale=scale, grad_args=grad_args,
                  grad_samples_fn=grad_samples_fn, grad_terms=grad_terms, elementwise=elementwise,
                  cancellation=cancellation, ulps_override=ulps_override or {}, zero_sign=zero_sign,
                  on_device=on_device or {})


def _cuda_gelu_tail(sample, expected) -> Tolerance:
    # CUDA computes 0.5*x*(1 + erf(x/sqrt2)): in the negative tail 1 + erf cancels, leaving erf's absolute error
    # (~u) times |x|/2. Observed on an H100 (torch 2.11): 8.4e-8 abs (2e-5 rel) at x=-3, where torch CPU is within
    # 12 ulp.
    x = np.asarray(sample.args[0], np.float64)
    x_max = max(float(np.max(np.abs(x), initial=0.0, where=np.isfinite(x))), 1.0)
    return Tolerance(4 * eps("float32") * x_max, tolerance("float32", ulps=12).rtol,
                     f"CUDA gelu tail: 4u * max|x| ({x_max:.3g}), erf's absolute error times x")


def _cuda_float32_constant(sample, expected) -> Tolerance:
    # torch's CUDA hardsigmoid multiplies by a float32 1/6 even for float64 tensors: hard_sigmoid(0) = 0.5000000149
    # on an H100 (= 3 * float32(1/6)); torch CPU and float64 give 0.5. float32 accuracy is what CUDA delivers.
    return for_arrays("float32", expected, reason="CUDA kernel's float32 1/6 constant: float32 accuracy in float64")


def _act(name, torch_fn, tf_fn, ref, samples_fn, **kw):
    """An activation (or inference dropout): elementwise, judged element by element (tolerances.elementwise)."""
    return _nn(name, torch_fn, tf_fn, ref, samples_fn, elementwise=True, **kw)


# --- convolution and pooling (channels-last samples) -------------------------------------------------------------

def _conv_ref(x, w, stride, padding, dilation, groups):
    """Direct float64 convolution, NW..C input and K..(Cin/g)Cout kernel; 'same' only with stride 1."""
    nsp = x.ndim - 2
    ks = w.shape[:nsp]
    if padding == "same":
        total = [dilation * (k - 1) for k in ks]
        x = np.pad(x, [(0, 0)] + [(t // 2, t - t // 2) for t in total] + [(0, 0)])
    out_sp = [(x.shape[1 + i] - dilation * (ks[i] - 1) - 1) // stride + 1 for i in range(nsp)]
    cin_g, cout = w.shape[-2], w.shape[-1]
    out = np.zeros((x.shape[0], *out_sp, cout))
    for g in range(groups):
        wg = w[..., g * (cout // groups):(g + 1) * (cout // groups)]
        for pos in np.ndindex(*ks):
            sl = tuple(slice(p * dilation, p * dilation + stride * (o - 1) + 1, stride) for p, o in zip(pos, out_sp))
            patch = x[(slice(None), *sl, slice(g * cin_g, (g + 1) * cin_g))]
            out[..., g * (cout // groups):(g + 1) * (cout // groups)] += patch @ wg[pos]
    return out


def _torch_conv(x, w, stride, padding, dilation, groups):
    t, nsp = torch(), x.dim() - 2
    # contiguous(): torch CPU's slow_conv2d backward refuses a strided grad_weight ("grad_weight must be
    # contiguous"); users hand it contiguous tensors, and the copy is transparent to autograd.
    xt = x.movedim(-1, 1).contiguous()
    wt = w.permute(nsp + 1, nsp, *range(nsp)).contiguous()  # (Cout, Cin/g, *K)
    fn = t.nn.functional.conv1d if nsp == 1 else t.nn.functional.conv2d
    return fn(xt, wt, stride=stride, padding=padding, dilation=dilation, groups=groups).movedim(1, -1)


def _tf_conv(x, w, stride, padding, dilation, groups):
    # tf.nn.convolution infers groups from in_channels / kernel in_channels.
    return call("tf.nn.convolution")(x, w, strides=stride, padding=padding.upper(), dilations=dilation)


def _conv_samples(nsp, stride=1, padding="valid", dilation=1, groups=1):
    @st.composite
    def draw(draw_, dtype, avoid):
        # sizes through strategies.side: edge mode fills x and w with the whole edge pool, windows slide (>= 2)
        rank = nsp + 2
        k = draw_(S.side(1, 3, rank=rank), label="kernel")
        span = dilation * (k - 1) + 1
        sp = tuple(span - 1 + draw_(S.side(1, 7 - span, rank=rank), label=f"windows{i}") for i in range(nsp))
        cin = groups * draw_(S.side(1, 2, rank=rank), label="cin/g")
        cout = groups * draw_(S.side(1, 2, rank=rank), label="cout/g")
        avoid = avoid | {"huge"}  # overflow of partial sums depends on summation order (see ops_linalg._operands)
        batch = draw_(S.side(1, 2, rank=rank), label="batch")
        x = draw_(S.arrays(dtype, (batch, *sp, cin), lo=-2, hi=2, avoid=avoid), label="x")
        w = draw_(S.arrays(dtype, (k,) * nsp + (cin // groups, cout), lo=-1, hi=1, avoid=avoid), label="w")
        return Sample((x, w), dict(stride=stride, padding=padding, dilation=dilation, groups=groups), "conv")
    return draw


def _conv_depth(sample: Sample) -> int:
    w = sample.args[1]
    return int(np.prod(w.shape[:-1]))


def _conv(nsp, variant, **cfg):
    name = f"conv{nsp}d"
    return _nn(name, _torch_conv, _tf_conv, _conv_ref, _conv_samples(nsp, **cfg),
               torch_api=f"torch.nn.functional.{name}", tf_api="tf.nn.convolution", variant=variant,
               depth=_conv_depth, dtypes=("float32", "float64"), zero_sign=DOT_PRODUCT_ZERO_SIGN,
               scale=product_terms(_conv_ref),
               # cuDNN's backward-data spreads NaN from a non-finite weight further than CPU and float64 do
               # (tests/test_gpu.py::test_gpu_conv_grad_with_nonfinite_weight_spreads_nan asserts it exactly)
               on_device={"cuda": OnDevice(grad_avoid=frozenset({"inf", "nan"}))} if nsp == 2 else None,
               notes=", ".join(f"{k}={v}" for k, v in cfg.items()))


def _pool_ref(kind):
    def ref(x, k, stride):
        out_sp = [(n - k) // stride + 1 for n in x.shape[1:3]]
        wins = np.stack([x[:, i:i + stride * (out_sp[0] - 1) + 1:stride, j:j + stride * (out_sp[1] - 1) + 1:stride]
                         for i in range(k) for j in range(k)])
        return wins.max(0) if kind == "max" else wins.mean(0)
    return ref


def _torch_pool(kind):
    return lambda x, k, stride: getattr(torch().nn.functional, f"{kind}_pool2d")(
        x.movedim(-1, 1).contiguous(), k, stride).movedim(1, -1)


def _tf_pool(kind):
    return lambda x, k, stride: call(f"tf.nn.{kind}_pool2d")(x, k, stride, "VALID")


@st.composite
def _pool_samples(draw, dtype, avoid, sums=False):
    if sums:  # average pooling sums its window: order-dependent overflow (see ops_linalg._operands)
        avoid = avoid | {"huge"}
    # sizes through strategies.side: edge mode fills x with the whole edge pool, and windows slide
    k, stride = draw(S.side(1, 3, rank=4), label="k"), draw(st.integers(1, 2), label="stride")
    sp = [k - 1 + draw(S.side(1, 6 - k, rank=4), label=f"windows{i}") for i in range(2)]
    shape = (draw(S.side(1, 2, rank=4), label="batch"), *sp, draw(S.side(1, 3, rank=4), label="channels"))
    return Sample((draw(S.arrays(dtype, shape, avoid=avoid), label="x"),), {"k": k, "stride": stride}, "pool")


def _avg_pool_samples(dtype, avoid):
    return _pool_samples(dtype, avoid, sums=True)


# --- normalisation ------------------------------------------------------------------------------------------------

EPS = 1e-5  # passed explicitly: Keras defaults to 1e-3, torch to 1e-5 (catalogue: layer-norm-epsilon-default)


@st.composite
def _norm_samples(draw, dtype, avoid, stats=False):
    spread = not stats and "ties" in avoid  # keras-layer-norm-cancellation: rows with var << eps are its witness
    n, c = draw(S.side(1, 4, rank=2), label="n"), draw(S.side(2 if spread else 1, 5, rank=2), label="c")
    x = draw(S.arrays(dtype, (n, c), lo=-3, hi=3, avoid=avoid), label="x")
    if spread:  # steps of 7 > the value range 6: every row has variance >= 0.25, so 1/sqrt(var + eps) <= 2
        x = (x.astype(np.float64) + 7 * np.arange(c)).astype(x.dtype)
    gamma = draw(S.arrays(dtype, (c,), lo=-2, hi=2, avoid=avoid), label="gamma")
    beta = draw(S.arrays(dtype, (c,), lo=-2, hi=2, avoid=avoid), label="beta")
    if not stats:
        return Sample((x, gamma, beta), {}, "layer_norm")
    mean = draw(S.arrays(dtype, (c,), lo=-2, hi=2, avoid=avoid), label="mean")
    var = draw(S.arrays(dtype, (c,), lo=0.125, hi=3, avoid=avoid | {"negative", "zero", "negzero"}), label="var")
    return Sample((x, mean, var, gamma, beta), {}, "batch_norm")


def _affine_scale(sample: Sample) -> float:
    """The size of a normalisation's terms: max|z| * max|gamma| + max|beta| (layer norm: z carries ~eps * max|z|
    absolute error into every element, so the output rounds at the size of its terms, not its value; thorough:
    z = 0.0077 off by 5.5e-8), or the folded batch norm's terms below."""
    x, *stats, g, b = (np.asarray(a, np.float64) for a in sample.args)
    if stats:  # inference batch norm runs folded, x*a + (b - mean*a) with a = g/sqrt(var + eps), on both sides:
        # x*a and mean*a each round at their own size, so where they cancel (x = mean) the error is eps*|x*a|
        # (thorough seed 11: x = mean = 1.5, torch -6e-8 where the reference is 0)
        a = np.abs(g) / np.sqrt(stats[1] + EPS)
        return float(np.max(np.abs(x) * a) + np.max(np.abs(stats[0]) * a) + np.max(np.abs(b)))
    z = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + EPS)
    return float(np.max(np.abs(z)) * np.max(np.abs(g)) + np.max(np.abs(b)))


def _layer_norm_ref(x, g, b):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * g + b


def _batch_norm_ref(x, mean, var, g, b):
    return (x - mean) / np.sqrt(var + EPS) * g + b


def _torch_layer_norm(x, g, b):
    return torch().nn.functional.layer_norm(x, (x.shape[-1],), g, b, eps=EPS)


def _keras_layer_norm(x, g, b):
    return keras().ops.layer_normalization(x, g, b, axis=-1, epsilon=EPS)


# Found under TF oneDNN off (x = -1, mean = -0, gamma = 0, beta = -0: the reference -0, both sides +0).
_FOLDED_BATCH_NORM_ZERO = ("both frameworks fold inference batch norm into x * a + (beta - mean * a), a = gamma / "
                           "sqrt(var + eps) (tf.nn.batch_normalization; torch's CPU kernel's alpha/beta terms), the "
                           "reference computes (x - mean) * a + beta: with gamma = 0 and beta = -0 the folded form "
                           "gives -0 + (-0 - -0) = +0 where the reference gives -0")


def _torch_batch_norm(x, mean, var, g, b):
    return torch().nn.functional.batch_norm(x, mean, var, g, b, training=False, eps=EPS)


def _tf_batch_norm(x, mean, var, g, b):
    return call("tf.nn.batch_normalization")(x, mean, var, b, g, EPS)


def _keras_dropout(x):
    return keras().layers.Dropout(0.5)(x, training=False)


_NN_EDGES = ("huge", "inf", "nan")  # normalisation statistics are drawn finite: inf/NaN inputs are out of scope
_ACT = unary()
_SOFTMAX = reduction(keepdims=False, tuple_axes=False, none_axis=False, min_side=1)

OPS = [
    _nn("softmax", _dim("softmax"), lambda x, axis: call("tf.nn.softmax")(x, axis=axis), _softmax, _SOFTMAX,
        torch_api="torch.softmax", tf_api="tf.nn.softmax", dtypes=F4, ulps=8,  # 8: exp + sum + divide, each <= 1 u
        grad_terms=grad_terms.softmax),
    _nn("softmax", _dim("softmax"), lambda x, axis: call("keras.ops.softmax")(x, axis=axis), _softmax, _SOFTMAX,
        torch_api="torch.softmax", tf_api="keras.ops.softmax", variant="keras", dtypes=("float32",), ulps=8,
        grad_terms=grad_terms.softmax),
    _nn("log_softmax", _dim("log_softmax"), lambda x, axis: call("tf.nn.log_softmax")(x, axis=axis), _log_softmax,
        _SOFTMAX, torch_api="torch.log_softmax", tf_api="tf.nn.log_softmax", dtypes=F4, ulps=8,
        grad_terms=grad_terms.log_softmax),
    _nn("log_softmax", _dim("log_softmax"), lambda x, axis: call("keras.ops.log_softmax")(x, axis=axis), _log_softmax,
        _SOFTMAX, torch_api="torch.log_softmax", tf_api="keras.ops.log_softmax", variant="keras", dtypes=("float32",),
        ulps=8, grad_terms=grad_terms.log_softmax),
    _act("relu", _F("relu"), call("tf.nn.relu"), lambda x: np.maximum(x, 0), _ACT, torch_api="torch.relu",
        tf_api="tf.nn.relu", dtypes=F4, exact=True),
    _act("relu", _F("relu"), call("keras.ops.relu"), lambda x: np.maximum(x, 0), _ACT, torch_api="torch.relu",
        tf_api="keras.ops.relu", variant="keras", dtypes=("float32",), exact=True),
    _act("relu6", _F("relu6"), call("tf.nn.relu6"), lambda x: np.clip(x, 0, 6), _ACT,
        torch_api="torch.nn.functional.relu6", tf_api="tf.nn.relu6", dtypes=F4, exact=True),
    _act("leaky_relu", _F("leaky_relu", negative_slope=0.2), lambda x: call("tf.nn.leaky_relu")(x, alpha=0.2),
        lambda x: np.where(x > 0, x, 0.2 * x), _ACT, torch_api="torch.nn.functional.leaky_relu",
        tf_api="tf.nn.leaky_relu", dtypes=("float32", "float16", "bfloat16"),
        notes="slope 0.2 passed to both; float64 left out (TF's alpha is a float32 attribute)"),
    _act("elu", _F("elu"), call("tf.nn.elu"), lambda x: np.where(x > 0, x, np.expm1(x)), _ACT,
        torch_api="torch.nn.functional.elu", tf_api="tf.nn.elu", dtypes=F4, cancellation=_expm1_terms(1.0),  # alpha = 1
        grad_terms=grad_terms.elu),
    _act("selu", _F("selu"), call("tf.nn.selu"),
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
        _ACT, torch_api="torch.nn.functional.selu", tf_api="tf.nn.selu", dtypes=F4,
        cancellation=_expm1_terms(SELU_SCALE * SELU_ALPHA),
        grad_terms=grad_terms.selu,
        grad_samples_fn=away_from_zero(_ACT)),  # selu' jumps at 0 (lambda to lambda * alpha)
    _act("silu", _F("silu"), call("tf.nn.silu"), lambda x: x * _sigmoid(x), _ACT,
        torch_api="torch.nn.functional.silu", tf_api="tf.nn.silu", dtypes=F4,
        grad_terms=grad_terms.silu,
        # TF: x * Eigen's sigmoid (4.5 ulps, ops_elementwise) + 0.5 the product + 0.5 rounding the reference;
        # measured 4.08 u at x = -14.48 (every 397th float32 in [-20, 20]; same with
        # TF oneDNN off and torch at avx2/default)
        ulps_override={"float32": 5.5}),
    _act("gelu", _F("gelu", approximate="none"), lambda x: call("tf.nn.gelu")(x, approximate=False),
        _gelu_exact, _ACT, torch_api="torch.nn.functional.gelu", tf_api="tf.nn.gelu", variant="exact",
        # 4 ulps of the terms: measured torch 3.3 (x = 2.98, float32, avx512/avx2/default alike; its erf is
        # Abramowitz-Stegun 7.1.26), TF 1.2 (every 397th float32 in [-20, 20]); float16/bfloat16 <= 1 (every value)
        dtypes=("float32", "float16", "bfloat16"), cancellation=_gelu_exact_terms, grad_terms=grad_terms.gelu_exact,
        on_device={"cuda": OnDevice(tolerance={"float32": _cuda_gelu_tail})}),
    _act("gelu", _F("gelu", approximate="tanh"), lambda x: call("tf.nn.gelu")(x, approximate=True), _gelu_tanh, _ACT,
        torch_api="torch.nn.functional.gelu", tf_api="tf.nn.gelu", variant="tanh",
        dtypes=("float32",), cancellation=_gelu_tanh_value_terms, grad_terms=grad_terms.gelu_tanh,
        notes="half precision left out: TF computes 1 + tanh(...) in half precision (tf-half-flushes-intermediates)"),
    _act("gelu", _F("gelu", approximate="tanh"), lambda x: call("keras.ops.gelu")(x, approximate=True), _gelu_tanh,
        _ACT, torch_api="torch.nn.functional.gelu", tf_api="keras.ops.gelu", variant="keras", dtypes=("float32",),
        cancellation=_gelu_tanh_value_terms, grad_terms=grad_terms.gelu_tanh),
    _act("softsign", _F("softsign"), call("tf.nn.softsign"), lambda x: x / (1 + np.abs(x)), _ACT,
        torch_api="torch.nn.functional.softsign", tf_api="tf.nn.softsign", dtypes=F4, grad_terms=grad_terms.softsign),
    # (x + 3) / 6, as both frameworks compute it: x / 6 + 0.5 cancels near x = -3 (43 ulps off in float64 at
    # x = -2.984375, found by thorough).
    _act("hard_sigmoid", _F("hardsigmoid"), call("keras.ops.hard_sigmoid"), lambda x: np.clip(x + 3, 0, 6) / 6,
        _ACT, torch_api="torch.nn.functional.hardsigmoid", tf_api="keras.ops.hard_sigmoid", dtypes=F2,
        on_device={"cuda": OnDevice(tolerance={"float64": _cuda_float32_constant})}),
    _conv(1, "valid"),
    _conv(1, "same_dilation2", padding="same", dilation=2),
    _conv(2, "valid"),
    _conv(2, "same", padding="same"),
    _conv(2, "stride2", stride=2),
    _conv(2, "dilation2", dilation=2),
    _conv(2, "groups2", groups=2),
    _nn("max_pool2d", _torch_pool("max"), _tf_pool("max"), _pool_ref("max"), _pool_samples,
        torch_api="torch.nn.functional.max_pool2d", tf_api="tf.nn.max_pool2d", exact=True, notes="VALID",
        zero_sign="IEEE 754 leaves max(-0.0, +0.0) open; NumPy's max picks "
        "otherwise than both frameworks do over a window holding both zeros"),
    _nn("avg_pool2d", _torch_pool("avg"), _tf_pool("avg"), _pool_ref("avg"), _avg_pool_samples,
        torch_api="torch.nn.functional.avg_pool2d", tf_api="tf.nn.avg_pool2d", depth=lambda s: s.kwargs["k"] ** 2,
        notes="VALID only: SAME padding averages differ at borders (layers catalogue)",
        # thorough, AVX2 setting, seed 12: a window [-1.5e-323, 0, ...] whose mean underflows
        zero_sign="a window whose mean underflows to zero has no exact sign to round to: the reference divides the "
                  "sum ((-1.5e-323 + 0 + ...) / 9 = -0.0), torch adds each element's quotient (-0.0 + +0.0 + ... "
                  "= +0.0); IEEE 754 fixes neither order"),
    _nn("layer_norm", _torch_layer_norm, _keras_layer_norm, _layer_norm_ref,
        lambda d, a: _norm_samples(d, a | set(_NN_EDGES)), torch_api="torch.nn.functional.layer_norm",
        tf_api="keras.ops.layer_normalization", depth=lambda s: s.args[0].shape[-1], ulps=16,  # mean, var, rsqrt
        scale=_affine_scale, grad_terms=grad_terms.layer_norm),
    _nn("batch_norm", _torch_batch_norm, _tf_batch_norm, _batch_norm_ref,
        lambda d, a: _norm_samples(d, a | set(_NN_EDGES), stats=True), torch_api="torch.nn.functional.batch_norm",
        tf_api="tf.nn.batch_normalization", variant="inference", ulps=8, scale=_affine_scale,
        grad_args=(0, 3, 4),  # x, gamma, beta: torch's inference batch_norm does not differentiate mean/var
        grad_terms=grad_terms.batch_norm, zero_sign=_FOLDED_BATCH_NORM_ZERO),
    _act("dropout", _F("dropout", p=0.5, training=False), _keras_dropout, lambda x: x, _ACT,
        torch_api="torch.nn.functional.dropout", tf_api="keras.layers.Dropout", variant="inference", exact=True,
        dtypes=("float32",), notes="training=False: identity on both sides"),
]
