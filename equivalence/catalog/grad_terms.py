"""OpInfo.grad_terms of the registry ops: where a backward formula cancels, the magnitude of the terms it cancels.

Each is ``grad_terms(cot, *args, **kwargs) -> one entry per argument`` (float64; see OpInfo.grad_terms), or an
elementwise derivative's terms wrapped by `local_terms`. The docstring's first line is the reason a failure message
shows; the rest derives the terms from the formula the frameworks' backward uses (TF: tensorflow/python/ops/
math_grad.py, nn_grad.py and the *Grad kernels; torch: tools/autograd/derivatives.yaml, or autograd through a
composite). A float32 result formed from terms of magnitude G carries ~u G of error however small it is, so the
gradient tests allow rtol x max(T_j, G_j) per element (equivalence.gradcheck), T_j being the chain-rule terms.
"""
from __future__ import annotations

import math

import numpy as np

from ..float64 import softmax as _softmax
from .opinfo import local_terms

_GELU_C = math.sqrt(2 / math.pi)


@local_terms
def expm1(x):
    """torch's expm1 backward is grad * (result + 1): cancels where expm1(x) ~ -1 (x << 0)

    derivatives.yaml: `grad * (result + 1)`; result = expm1(x) ~ -1 carries ~u of 1, so the derivative exp(x)
    (5e-5 at x = -10) is formed from terms |expm1(x)| + 1 ~ 2 (TF's grad * exp(x) does not cancel)."""
    return np.abs(np.expm1(x)) + 1


@local_terms
def tanh(x):
    """tanh' = 1 - t^2 (both sides, from the result t): cancels where |t| ~ 1

    t carries ~u of itself, 1 - t^2 keeps it absolutely: terms 1 + t^2. TF's float32 tanh is exactly -1 at
    x = -9.28, so its derivative is 0 where the true one is 1.6e-8."""
    return 1 + np.tanh(x) ** 2


@local_terms
def sigmoid(x):
    """sigmoid' = y (1 - y) (both sides, from the result y): cancels where y ~ 1 (x >> 0)

    y carries ~u of itself, 1 - y keeps it absolutely: terms y + y^2 (torch 4e3 u of |y'| off at x = 9.7)."""
    y = 0.5 * (1 + np.tanh(0.5 * x))
    return y + y * y


@local_terms
def silu(x):
    """silu' = s (1 + x (1 - s)), s = sigmoid(x) (both sides): cancels near x = -1.28, where it crosses 0

    The bracket's terms 1 and |x| (1 + s) (1 - s carries ~u of s), times s."""
    s = 0.5 * (1 + np.tanh(0.5 * x))
    return s * (1 + np.abs(x) * (1 + s))


@local_terms
def softsign(x):
    """torch differentiates its composite x / (1 + |x|): 1/(1+|x|) - |x|/(1+|x|)^2 cancels to 1/(1+|x|)^2

    (TF's SoftsignGrad divides by (1 + |x|)^2 directly.) Terms 1/(1+|x|) + |x|/(1+|x|)^2, 2 (1 + |x|) times the
    derivative: 9 u of it measured at x = -10."""
    a = 1 + np.abs(x)
    return 1 / a + np.abs(x) / a**2


def _elu_like(factor: float):
    def terms(x):
        """TF's EluGrad/SeluGrad form the negative branch's derivative as grad * (y + alpha), y ~ -alpha for x << 0

        y = factor alpha (exp(x) - 1) (factor 1 for ELU, lambda for SELU) carries ~u of itself: terms |y| +
        factor alpha ~ 2 factor alpha where the derivative is factor alpha exp(x) (4.5e-5 at x = -10; TF 2e3 u of
        it off there). torch's elu_backward uses the input (alpha exp(x)): no cancellation."""
        y = factor * np.expm1(np.minimum(x, 0))
        return np.where(x < 0, np.abs(y) + abs(factor), 0.0)
    return terms


elu = local_terms(_elu_like(1.0))
selu = local_terms(_elu_like(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717))


@local_terms
def gelu_exact(x):
    """gelu' = Phi(x) + x phi(x), Phi = (1 + erf(x / sqrt 2)) / 2 (both sides): 1 + erf cancels for x << 0

    erf ~ -1 carries ~u of 1: terms (1 + |erf|) / 2 + |x| phi(x) (torch's derivative is -0.0 at x = -7.33, the
    true one 2e-12)."""
    z = x / math.sqrt(2)
    erf = np.vectorize(math.erf, otypes=[np.float64])(z)
    return 0.5 * (1 + np.abs(erf)) + np.abs(x) * np.exp(-z * z) / math.sqrt(2 * math.pi)


@local_terms
def gelu_tanh(x):
    """gelu_tanh' = 0.5 (1 + t) + 0.5 x (1 - t^2) v', t = tanh(v), v = c (x + 0.044715 x^3): cancels for x << 0

    Both sides' backward forms it from these terms: 0.5 (1 + |t|) + 0.5 |x| |v'| (1 + t^2). For x << 0, t ~ -1
    and both brackets cancel to ~0: t's ~1 u absolute error is multiplied by |d gelu'/dt| ~ 0.5 + |x v' t|, so
    the result is off by ~u x these terms (thorough: TF 16.6 u off at x = -4.63, terms 15.3; TF's float32 tanh
    returns exactly -1 at x = -4.875, so its gelu' is 0, 28 u off, terms 17.3)."""
    t = np.tanh(_GELU_C * (x + 0.044715 * x**3))
    dv = _GELU_C * (1 + 3 * 0.044715 * x**2)
    return 0.5 * (1 + np.abs(t)) + 0.5 * np.abs(x) * np.abs(dv) * (1 + t * t)


def softmax(cot, x, axis):
    """softmax's backward s (c - <c, s>) (both sides) cancels where c_j ~ <c, s>; s's exponent x - max rounds

    TF's _SoftmaxGrad and torch's _softmax_backward_data compute (c - sum(c s)) s: the bracket is formed from
    |c_j| and sum |c_k| s_k (terms ~u each, sqrt(n) of the sum in the rule's rtol). s_j itself is exp of x_j - max,
    rounded to ~u |x_j - max| absolutely: a relative error of s_j that the whole product carries. Terms:
    s_j (|c_j| + sum_k |c_k| s_k) (1 + |x_j - max|) (TF 1.3e4 u of sum|c J| off at a row of two, s = (0.5, 0.5))."""
    s = _softmax(x, axis)
    bracket = np.abs(cot) + np.sum(np.abs(cot) * s, axis=axis, keepdims=True)
    return (s * bracket * (1 + np.abs(x - np.max(x, axis=axis, keepdims=True))),)


def log_softmax(cot, x, axis):
    """log_softmax's backward c - s sum(c) (both sides) cancels where c_j ~ s_j sum(c)

    TF's _LogSoftmaxGrad: grad - sum(grad) softmax; torch's _log_softmax_backward_data: grad - exp(out) sum(grad).
    Terms |c_j| + s_j sum_k |c_k|, s_j's exponent rounding (~u |x_j - max|) on the second."""
    s = _softmax(x, axis)
    total = np.sum(np.abs(cot), axis=axis, keepdims=True)
    return (np.abs(cot) + s * total * (1 + np.abs(x - np.max(x, axis=axis, keepdims=True))),)


def _keep(cot, x, axis, keepdims):
    """cot reshaped to broadcast against x (the reduced axes kept as size 1)."""
    if keepdims or axis is None:  # keepdims: already; all axes reduced: a scalar
        return cot
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    return np.expand_dims(cot, tuple(a % x.ndim for a in axes)) if x.ndim else cot


def _reduced(x, axis) -> int:
    if axis is None:
        return max(x.size, 1)
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1


def var(cot, x, axis=None, keepdims=False):
    """var' = 2 (x_j - mean) / n (both sides): x_j - mean cancels where x_j ~ mean

    The terms are x_j and the mean, a sum of n terms whose rounding grows like sqrt(n) mean|x| (the rule's model;
    TF autodiffs mean(square(x - mean(x))), whose mean-path term is 0 analytically and ~u sqrt(n) mean|x| x 2c/n
    numerically): 2 |c| (|x_j| + sqrt(n) mean|x|) / n."""
    c = np.abs(_keep(cot, x, axis, keepdims))
    n = _reduced(x, axis)
    spread = np.abs(x) + math.sqrt(n) * np.mean(np.abs(x), axis=axis, keepdims=True)
    return (2 * c * spread / n,)


def std(cot, x, axis=None, keepdims=False):
    """std' = (x_j - mean) / (n std) (both sides): x_j - mean cancels where x_j ~ mean (terms as var's)

    var's terms over 2 std."""
    sd = np.std(x, axis=axis, keepdims=True)
    return (var(cot, x, axis, keepdims)[0] / (2 * sd),)


def logsumexp(cot, x, axis=None, keepdims=False):
    """logsumexp' = exp(x_j - lse): the exponent's terms x_j and lse round to ~u (|x_j| + |lse|) absolutely

    A relative error of the derivative (both sides exponentiate a rounded difference; TF autodiffs its composite
    through exp(x - max) / sum): |c| exp(x_j - lse) (|x_j| + |lse|)."""
    m = np.max(x, axis=axis, keepdims=True)
    lse = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    c = np.abs(_keep(cot, x, axis, keepdims))
    return (c * np.exp(x - lse) * (np.abs(x) + np.abs(lse)),)


def layer_norm(cot, x, gamma, beta, eps=1e-5):
    """layer_norm's backward r (g - mean(g) - z mean(g z)), g = c gamma, cancels (to 0 at two features)

    Both sides: z = (x - mu) r, r = 1 / sqrt(var + eps); the bracket's terms |g_j|, mean|g| and |z_j| mean|g z|
    (at two features the bracket is ~eps / var of them: torch 2.9e6 u of sum|c J| off). z's own terms: x - mu
    rounds to ~u (|x| + |mu|), so each z counts as a = (|x| + |mu|) r. gamma's gradient sum_n c z is formed from
    those z: sum_n |c| a; beta's sum of c does not cancel. (Keras computes var as E[x^2] - E[x]^2, catalogue
    keras-layer-norm-cancellation: the drawn gradient rows are spread, var >= 0.25, so E[x^2] / var stays within
    the rule's ulps.)"""
    mu = x.mean(-1, keepdims=True)
    r = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
    a = (np.abs(x) + np.abs(mu)) * r
    g = np.abs(cot * gamma)
    dx = r * (g + g.mean(-1, keepdims=True) + a * np.mean(g * a, -1, keepdims=True))
    dgamma = np.sum(np.abs(cot) * a, axis=tuple(range(x.ndim - 1)))
    return dx, dgamma, None


def batch_norm(cot, x, mean, var, gamma, beta, eps=1e-5):
    """gamma's gradient sum_n c (x - mean) r cancels where x ~ mean (x's and beta's do not)

    TF's tf.nn.batch_normalization is x inv + (beta - mean inv), inv = r gamma, r = 1 / sqrt(var + eps), so its
    gamma gradient is sum_n c (x r - mean r); torch's batch_norm backward sums c (x - mean) r. Terms
    sum_n |c| (|x| + |mean|) r."""
    r = 1 / np.sqrt(var + eps)
    return None, None, None, np.sum(np.abs(cot) * (np.abs(x) + np.abs(mean)) * r, axis=0), None
