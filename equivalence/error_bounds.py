"""Per-element forward error bounds: how far a float32 forward pass may be from the float64 reference, element by
element, propagated node by node through the reference trace.

Each node carries an absolute bound E (same shape as its value): a ~ACC_FACTOR-sigma bound under the standard
probabilistic model of rounding (independent errors of random sign; Higham & Mary 2019, "A new approach to
probabilistic rounding error analysis"). A layer maps its inputs' bounds to its own as

    E_out = (what the layer does to its inputs' errors) + (its own float32 rounding)

with the reference values giving every magnitude. Propagation: a linear map sums independent errors, so
sqrt(W^2 E_in^2) (a lambda-sigma bound of each input stays one of the output; the worst case |W| E_in grows sqrt(K)
too fast per layer and hid a TF32 rounding 1e4-fold on the seed CNN); a local Lipschitz constant for activations,
the window maximum for max pooling, first order for softmax and normalisation (worst case: correlated errors).
Own rounding, with u = 2**-23 (float32 epsilon, as in `tolerances`):

* a K-term dot product plus bias (dense: K = fan-in; conv: kh*kw*C_in/groups): ACC_FACTOR * u * sqrt(K+1) * P,
  P = max(|W x + b|, sqrt(W^2 x^2 + b^2)) the size of the partial sums (a random walk from 0 to the result: its
  step size is the terms' 2-norm). NUMERICS.md: matmul error grows ~sqrt(K) relative to the terms. A TF32-style
  rounding of the inputs adds ~2**-11 * sqrt(sum (w_i x_i)^2), ~800/sqrt(K) times this at one layer.
* elementwise functions: DEFAULT_ULPS ulps of the result (NUMERICS.md: <= 7 ulp TF vs torch), plus an absolute
  floor where the formula cancels (GELU tails: u*|x|; ELU/SELU near 0-, alpha*(exp(x)-1): u*alpha).
* softmax: p_j * u * (ulps + |z_j - max z| + ACC_FACTOR*sqrt(C)): the rounded exponent's absolute error turns
  into a relative error of exp, the normalising sum has C terms.
* pooling/means/sums over n values: ACC_FACTOR * u * sqrt(n) * mean|x|; normalisation: the rounding of the
  moments (Keras: var = E[x^2] - E[x]^2, so relative to mean(x^2)) and of the affine terms |x*inv|, |mean*inv|,
  |beta| (difference 'norm-affine-cancellation').

Measured on the seed models and 300 random specs: TF and torch reach <= 0.2 of E (seed models <= 0.05).
The check is then |y - ref| <= E per output element (TF vs torch: 2E, the triangle inequality). Recurrent layers
(LSTM/GRU) have no per-element rule here: `node_bounds` returns None for specs that contain one and callers keep
the scalar model rule (`models.Pair.tolerance`).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import _reference
from .compare import EquivalenceMismatch, assert_equivalent, compare
from .spec import INPUT, LayerSpec, ModelSpec
from .tolerances import ACC_FACTOR, DEFAULT_ULPS, Tolerance, eps

U = eps("float32")
UNSUPPORTED = ("lstm", "gru")  # per-element propagation would need the recurrence's Jacobian
# Local Lipschitz constant of each activation over [x - E, x + E] (first-order where the derivative is smooth).
_GLOBAL_SLOPE = {"gelu": 1.129, "gelu_tanh": 1.129, "silu": 1.0999}  # sup |f'| (GELU: 1.1289 at x=2.42)


@dataclasses.dataclass(frozen=True, eq=False)
class ElementBound(Tolerance):
    """A Tolerance whose allowed error is given per element (`bound`); `atol` holds its maximum (for scalar uses)."""

    bound: np.ndarray = dataclasses.field(default=None, repr=False)

    def __str__(self) -> str:
        b = self.bound
        return (f"per-element bound in [{b.min():.2g}, {b.max():.2g}] (median {np.median(b):.2g}) "
                f"[{self.reason}]")

    def allowed(self, expected) -> np.ndarray:
        """The bound itself, whatever `expected` is (compare() judges |actual - expected| <= allowed)."""
        return self.bound

    def doubled(self) -> "ElementBound":
        """TF vs torch when each is within this bound of float64 (triangle inequality)."""
        return ElementBound(2 * self.atol, 0.0, f"2x ({self.reason}): TF vs torch", bound=2 * self.bound)


def _slope(name: str, x: np.ndarray, e: np.ndarray, p: dict) -> np.ndarray:
    """sup |f'| over [x - e, x + e] for activation `name` (softmax handled separately)."""
    lo, hi = x - e, x + e
    if name == "linear":
        return np.ones_like(x)
    if name == "relu":
        return (hi > 0).astype(np.float64)
    if name == "leaky_relu":
        s = p.get("negative_slope", 0.2)
        return np.where(lo >= 0, 1.0, np.where(hi < 0, s, max(1.0, s)))
    if name in ("tanh", "sigmoid"):  # f' is even and decreasing in |x|: largest at the point nearest 0
        near = np.clip(0.0, lo, hi)
        t = np.tanh(near) if name == "tanh" else _reference.activate("sigmoid", near)
        return 1 - t * t if name == "tanh" else t * (1 - t)
    if name in ("elu", "selu"):
        alpha = p.get("alpha", 1.0) if name == "elu" else _reference.SELU_ALPHA
        scale = 1.0 if name == "elu" else _reference.SELU_SCALE
        neg = abs(alpha) * np.exp(np.minimum(hi, 0.0))  # alpha*e^x, increasing; right end is the largest
        return scale * np.where(lo > 0, 1.0, np.where(hi <= 0, neg, np.maximum(1.0, neg)))
    return np.full_like(x, _GLOBAL_SLOPE[name])


def _own_activation(name: str, x: np.ndarray, y: np.ndarray, p: dict) -> np.ndarray:
    """float32 rounding of an elementwise activation: DEFAULT_ULPS ulps, plus absolute floors where it cancels."""
    own = DEFAULT_ULPS * U * np.abs(y)
    if name in ("gelu", "gelu_tanh"):  # 0.5*x*(1 + erf(.)) cancels for x << 0 (NUMERICS.md: 27% relative)
        own = own + DEFAULT_ULPS * U * np.abs(x)
    elif name == "elu":  # TF: alpha*(exp(x) - 1), not expm1 (difference 'elu-selu-near-zero')
        own = own + DEFAULT_ULPS * U * abs(p.get("alpha", 1.0))
    elif name == "selu":
        own = own + DEFAULT_ULPS * U * _reference.SELU_SCALE * _reference.SELU_ALPHA
    return own


def _softmax(z: np.ndarray, e: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|dp_j| <= p_j (E_j + sum_k p_k E_k) (first order), plus float32 exp/sum/divide rounding (module docstring)."""
    propagated = y * (e + np.sum(y * e, axis=-1, keepdims=True))
    c = z.shape[-1]
    own = y * U * (DEFAULT_ULPS + np.abs(z - z.max(axis=-1, keepdims=True)) + ACC_FACTOR * math.sqrt(c))
    return propagated + own


def activation_bound(name: str, x: np.ndarray, e: np.ndarray, y: np.ndarray, p: dict) -> np.ndarray:
    """Bound on f(x) given |x_f32 - x| <= e: propagated slope * e plus f's own rounding."""
    if name == "softmax":
        return _softmax(x, e, y)
    return _slope(name, x, e, p) * e + _own_activation(name, x, y, p)


def _fan_in(l: LayerSpec, x: np.ndarray) -> int:
    if l.kind == "dense":
        return x.shape[-1]
    kernel_size = l.params["kernel_size"]
    window = kernel_size if l.kind == "conv1d" else (
        kernel_size**2 if isinstance(kernel_size, int) else math.prod(kernel_size))
    return window * x.shape[-1] // l.params.get("groups", 1)


def linear_bound(l: LayerSpec, x: np.ndarray, e: np.ndarray, w: dict) -> np.ndarray:
    """Dense/conv pre-activation: sqrt(W^2 E_in^2) + ACC_FACTOR u sqrt(K+1) P (module docstring), with P, the size
    of the partial sums, estimated as max(|W x + b|, sqrt(W^2 x^2 + b^2))."""
    sq = {"kernel": np.square(w["kernel"])}
    propagated = np.sqrt(_reference.linear(l, np.square(e), sq)) if np.any(e) else 0.0
    terms = np.sqrt(_reference.linear(l, np.square(x), {**sq, **({"bias": np.square(w["bias"])} if "bias" in w else {})}))
    partial = np.maximum(np.abs(_reference.linear(l, x, w)), terms)
    return propagated + ACC_FACTOR * U * math.sqrt(_fan_in(l, x) + 1) * partial


def _mean_bound(x: np.ndarray, e: np.ndarray, axes, n: int) -> np.ndarray:
    """A mean over n values: the mean of the bounds plus ACC_FACTOR u sqrt(n) mean|x| (and the division)."""
    return e.mean(axis=axes) + (ACC_FACTOR * math.sqrt(n) + 1) * U * np.abs(x).mean(axis=axes)


def _normalize_bound(x, e, y, axes, mean, var, eps_, gamma, beta, batch_stats: bool) -> np.ndarray:
    """(x - mean)/sqrt(var + eps)*gamma + beta, computed as x*inv + (beta - mean*inv) with inv = gamma*rsqrt(.).

    Batch statistics (BatchNorm training, LayerNorm) also carry the input errors and their own rounding into the
    mean and the variance: d mean <= mean(E) + rounding, d var <= 2 mean(|x - mean| E) + ACC u sqrt(n) mean(x^2)
    (one-pass E[x^2] - E[x]^2), d sigma = d var / (2 sigma), and x_hat = (x - mean)/sigma moves by
    (E + d mean)/sigma + |x_hat| d sigma/sigma.
    """
    sigma = np.sqrt(var + eps_)
    inv = np.abs(gamma) / sigma
    x_hat = np.abs(x - mean) / sigma
    err = np.abs(inv) * e
    if batch_stats:
        n = math.prod(x.shape[a] for a in axes)
        acc = (ACC_FACTOR * math.sqrt(n) + 1) * U
        d_mean = e.mean(axis=axes, keepdims=True) + acc * np.abs(x).mean(axis=axes, keepdims=True)
        d_var = 2 * (np.abs(x - mean) * e).mean(axis=axes, keepdims=True) + acc * (x * x).mean(axis=axes, keepdims=True)
        d_var = d_var + 2 * np.abs(mean) * d_mean
        err = inv * (e + d_mean + x_hat * d_var / (2 * sigma))
    own = DEFAULT_ULPS * U * (np.abs(x) * inv + np.abs(mean) * inv + np.abs(beta) + np.abs(y))
    return err + own


def _norm_layer_bound(l: LayerSpec, x, e, y, w, training: bool) -> np.ndarray:
    eps_ = l["epsilon"]
    if l.kind == "layer_norm":
        axes = (x.ndim - 1,)
        mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
        return _normalize_bound(x, e, y, axes, mean, var, eps_, w["gamma"], w["beta"], True)
    axes = tuple(range(x.ndim - 1))
    if training:
        return _normalize_bound(x, e, y, axes, x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True),
                                eps_, w["gamma"], w["beta"], True)
    return _normalize_bound(x, e, y, axes, w["moving_mean"], w["moving_variance"], eps_, w["gamma"], w["beta"], False)


def _pool_bound(l: LayerSpec, x, e, y) -> np.ndarray:
    p = l.params
    if l.kind == "max_pool2d":  # |max a - max b| <= max |a_i - b_i| over the window; max itself is exact
        return _reference.pool2d(e, "max", p["pool_size"], p["strides"], p["padding"])
    ks = p["pool_size"]
    n = ks * ks if isinstance(ks, int) else math.prod(ks)
    mean_e = _reference.pool2d(e, "avg", ks, p["strides"], p["padding"])
    mean_abs = _reference.pool2d(np.abs(x), "avg", ks, p["strides"], p["padding"])
    return mean_e + (ACC_FACTOR * math.sqrt(n) + 1) * U * mean_abs


def layer_bound(l: LayerSpec, args: list, errs: list, y: np.ndarray, w: dict, values: dict,
                training: bool) -> np.ndarray:
    """E of one layer's output from its inputs' values `args` and bounds `errs` (module docstring)."""
    x, e, k, p = args[0], errs[0], l.kind, l.params
    if k in _reference.LINEAR_KINDS:
        pre = values.get(l.name + _reference.PRE, y)
        e_pre = linear_bound(l, x, e, w)
        return activation_bound(p["activation"], pre, e_pre, y, {})
    if k == "activation":
        return activation_bound(p["fn"], x, e, y, p)
    if k in ("max_pool2d", "avg_pool2d"):
        return _pool_bound(l, x, e, y)
    if k == "global_avg_pool2d":
        return _mean_bound(x, e, (1, 2), x.shape[1] * x.shape[2])
    if k in ("batch_norm", "layer_norm"):
        return _norm_layer_bound(l, x, e, y, w, training)
    if k == "flatten":
        return e.reshape(e.shape[0], -1)
    if k == "dropout":  # inference, or rate 0: the identity
        return e
    if k == "embedding":  # a lookup of float32 weights: exact
        return np.zeros(y.shape)
    if k == "add":
        return sum(errs) + ACC_FACTOR * U * math.sqrt(len(args)) * sum(np.abs(a) for a in args)
    if k == "concat":
        return np.concatenate(errs, axis=-1)
    raise NotImplementedError(f"no per-element error rule for layer kind {k!r}")


def node_bounds(spec: ModelSpec, weights, values: dict, training: bool = False) -> dict[str, np.ndarray] | None:
    """E for every node of the reference trace `values` (the float32 input is exact: E = 0); None when the spec
    holds a layer kind without a per-element rule (LSTM, GRU)."""
    if any(l.kind in UNSUPPORTED for l in spec.layers):
        return None
    w64 = {n: {k: np.asarray(v, np.float64) for k, v in lw.items()} for n, lw in weights.items()}
    bounds = {INPUT: np.zeros(np.shape(values[INPUT]))}
    for l in spec.layers:
        srcs = spec.sources(l)
        bounds[l.name] = layer_bound(l, [values[s] for s in srcs], [bounds[s] for s in srcs], values[l.name],
                                     w64.get(l.name, {}), values, training)
    return bounds


def assert_bounded(tf_out, torch_out, reference, tol: ElementBound, *, what: str, context: str = "") -> list:
    """TF and torch each within the per-element bound of float64, and within twice it of each other."""
    __tracebackhide__ = True
    results = [compare(tf_out, reference, tol, what=what, label_a="tf", label_b="ref64", context=context),
               compare(torch_out, reference, tol, what=what, label_a="torch", label_b="ref64", context=context),
               compare(tf_out, torch_out, tol.doubled(), what=what, label_a="tf", label_b="torch", context=context,
                       check_dtype=True)]
    failed = [r for r in results if not r.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(r.render() for r in failed))
    return results


def assert_forward_equivalent(tf_out, torch_out, reference, *, tol: Tolerance, what: str, context: str = "") -> list:
    """A model forward check: element by element for an ElementBound, else `compare.assert_equivalent`."""
    __tracebackhide__ = True
    if isinstance(tol, ElementBound) and reference is not None:
        return assert_bounded(tf_out, torch_out, reference, tol, what=what, context=context)
    return assert_equivalent(tf_out, torch_out, reference, tol=tol, what=what, context=context)


__all__ = ["ElementBound", "UNSUPPORTED", "activation_bound", "assert_bounded", "assert_forward_equivalent", "compare_bounded", "layer_bound",
           "linear_bound", "node_bounds"]
