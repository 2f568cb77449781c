"""The activation functions on every side (Keras, torch, float64, error bound), and the `activation` kind.

Dense and conv kinds take an `activation` argument from the same table; softmax runs over the channel axis, which
is dim 1 of an NCHW map in torch.
"""
from __future__ import annotations

import math

import numpy as np

from .. import runtime
from ..float64 import softmax
from ..tolerances import ACC_FACTOR, DEFAULT_ULPS, eps
from .base import REQUIRED, PASSES, Arg, LayerKind, no_check, no_params, same_shape
from .torchnn import lambda_module

ACTIVATIONS = ("linear", "relu", "gelu", "gelu_tanh", "tanh", "sigmoid", "softmax", "leaky_relu", "elu", "selu",
               "silu")
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
U = eps("float32")
_erf = np.vectorize(math.erf, otypes=[np.float64])


def activation_name(kind: str, arg: str, v) -> str | None:
    return None if v in ACTIVATIONS else f"unknown activation {v!r} for {arg}; known: {', '.join(ACTIVATIONS)}"


# ------------------------------------------------------------------------------------------------ the frameworks
def keras_activation(name: str, *, negative_slope: float = 0.2, alpha: float = 1.0):
    """The Keras activation for a neutral name (None for 'linear'); parameters are explicit, never defaulted."""
    act = runtime.keras().activations
    table = {
        "linear": None, "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax",
        "selu": "selu", "silu": "silu",
        "gelu": lambda x: act.gelu(x, approximate=False),
        "gelu_tanh": lambda x: act.gelu(x, approximate=True),
        "leaky_relu": lambda x: act.leaky_relu(x, negative_slope=negative_slope),
        "elu": lambda x: act.elu(x, alpha=alpha),
    }
    return table[name]


def torch_activation(name: str, *, negative_slope: float = 0.2, alpha: float = 1.0, channel_dim: int = -1):
    """A torch callable for a neutral activation name; softmax runs over the channel dim of the torch layout."""
    torch = runtime.torch()
    F = torch.nn.functional
    table = {
        "linear": lambda x: x, "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        "softmax": lambda x: F.softmax(x, dim=channel_dim), "selu": F.selu, "silu": F.silu,
        "gelu": lambda x: F.gelu(x, approximate="none"), "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=negative_slope),
        "elu": lambda x: F.elu(x, alpha=alpha),
    }
    return table[name]


def torch_act(name: str, rank: int):
    """The activation a torch Wrap applies after its core (None for 'linear'); rank 4 is NCHW."""
    return None if name == "linear" else torch_activation(name, channel_dim=1 if rank == 4 else -1)


# ------------------------------------------------------------------------------------------------ float64
def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + exp(-x))


def activate(name: str, x: np.ndarray, *, negative_slope: float = 0.2, alpha: float = 1.0) -> np.ndarray:
    """The activation formulas, in float64 (softmax over the last = channel axis)."""
    if name == "softmax":
        return softmax(x)
    formulas = {
        "linear": lambda: x, "relu": lambda: np.maximum(x, 0.0), "tanh": lambda: np.tanh(x),
        "sigmoid": lambda: sigmoid(x), "silu": lambda: x * sigmoid(x),
        "gelu": lambda: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
        "gelu_tanh": lambda: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
        "leaky_relu": lambda: np.where(x >= 0, x, negative_slope * x),
        "elu": lambda: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))),
        "selu": lambda: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    }
    return formulas[name]()


# ------------------------------------------------------------------------------------------------ error bounds
# Local Lipschitz constant of each activation over [x - E, x + E] (first-order where the derivative is smooth).
_GLOBAL_SLOPE = {"gelu": 1.129, "gelu_tanh": 1.129, "silu": 1.0999}  # sup |f'| (GELU: 1.1289 at x=2.42)


def _slope(name: str, x: np.ndarray, e: np.ndarray, p: dict) -> np.ndarray:
    """sup |f'| over [x - e, x + e] for activation `name` (softmax handled separately)."""
    lo, hi = x - e, x + e
    if name == "linear":
        return np.ones_like(x)
    if name == "relu":
        return (hi > 0).astype(np.float64)
    if name == "leaky_relu":  # the slope may be an array (PReLU: one per channel)
        s = np.abs(p.get("negative_slope", 0.2))
        return np.where(lo >= 0, 1.0, np.where(hi < 0, s, np.maximum(1.0, s)))
    if name in ("tanh", "sigmoid"):  # f' is even and decreasing in |x|: largest at the point nearest 0
        near = np.clip(0.0, lo, hi)
        t = np.tanh(near) if name == "tanh" else activate("sigmoid", near)
        return 1 - t * t if name == "tanh" else t * (1 - t)
    if name in ("elu", "selu"):
        alpha = p.get("alpha", 1.0) if name == "elu" else SELU_ALPHA
        scale = 1.0 if name == "elu" else SELU_SCALE
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
        own = own + DEFAULT_ULPS * U * SELU_SCALE * SELU_ALPHA
    return own


def _softmax(z: np.ndarray, e: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|dp_j| <= p_j (E_j + sum_k p_k E_k) (first order), plus float32 exp/sum/divide rounding (error_bounds)."""
    propagated = y * (e + np.sum(y * e, axis=-1, keepdims=True))
    c = z.shape[-1]
    own = y * U * (DEFAULT_ULPS + np.abs(z - z.max(axis=-1, keepdims=True)) + ACC_FACTOR * math.sqrt(c))
    return propagated + own


def activation_bound(name: str, x: np.ndarray, e: np.ndarray, y: np.ndarray, p: dict) -> np.ndarray:
    """Bound on f(x) given |x_f32 - x| <= e: propagated slope * e plus f's own rounding."""
    if name == "softmax":
        return _softmax(x, e, y)
    return _slope(name, x, e, p) * e + _own_activation(name, x, y, p)


def activation_scale(name: str, e: float, alpha: float = 1.0) -> float:
    """The error scale after activation `name`: at least alpha for ELU (SELU: scale*alpha). TF computes
    alpha*(exp(x) - 1), not expm1, so near 0- its absolute error is ~u*alpha (difference 'elu-selu-near-zero')."""
    if name == "elu":
        return max(e, abs(alpha))
    if name == "selu":
        return max(e, SELU_SCALE * SELU_ALPHA)
    return e


def softmax_depth(name: str, channels: int) -> int:
    """Extra accumulation of a softmax: its normalising sum over the channels."""
    return channels if name == "softmax" else 0


# ------------------------------------------------------------------------------------------------ the kind
def _keras(l, x):
    fn = keras_activation(l["fn"], negative_slope=l["negative_slope"], alpha=l["alpha"])
    return runtime.keras().layers.Activation(fn or "linear", name=l.name)


def _torch(l, x):
    fn = torch_activation(l["fn"], negative_slope=l["negative_slope"], alpha=l["alpha"],
                          channel_dim=1 if len(x) + 1 == 4 else -1)
    return lambda_module(fn, l["fn"])


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(fn=draw(st.sampled_from(ACTIVATIONS), label=f"fn{tag}"),
                negative_slope=draw(st.sampled_from([0.2, 0.3, 0.01])), alpha=draw(st.sampled_from([1.0, 0.5])))


ACTIVATION = LayerKind(
    name="activation", keras="keras.layers.Activation / keras.activations", torch="torch.nn.functional",
    notes="rank-4 softmax is over channels: dim=1 in NCHW",
    # slope: leaky_relu only; alpha: elu only
    args=dict(fn=Arg(REQUIRED, activation_name), negative_slope=Arg(0.2), alpha=Arg(1.0)),
    merge=False, reads_ids=False, torch_flat_order=PASSES, check=no_check, shape=same_shape,
    params=no_params, torch_params=(), keras_layer=_keras, torch_module=_torch,
    forward=lambda l, args, w, training, trace: activate(l["fn"], args[0], negative_slope=l["negative_slope"],
                                                         alpha=l["alpha"]),
    depth=lambda l, ins, batch: 1 + softmax_depth(l["fn"], ins[0][-1]),
    bound=lambda l, args, errs, y, w, values, training: activation_bound(l["fn"], args[0], errs[0], y, l.params),
    scale=lambda l, e, x, w, training: activation_scale(l["fn"], e, l["alpha"]),
    strategy=_draw, slots=("mlp",),
)
