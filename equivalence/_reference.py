"""A float64 NumPy forward pass of a spec, written from the layer formulas (not from either framework).

Works in the canonical channels-last layout with the canonical weights, so it checks both frameworks' builders and
both weight conversions independently. Returns None where no deterministic reference exists (training-mode
dropout with rate > 0).
"""
from __future__ import annotations

import math

import numpy as np

from .spec import INPUT, LayerSpec, ModelSpec, conv_out, same_pads
from .weights import Weights

_erf = np.vectorize(math.erf, otypes=[np.float64])
LINEAR_KINDS = ("dense", "conv1d", "conv2d")
PRE = ":pre"  # trace key suffix of a dense/conv pre-activation value
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + exp(-x))


def activate(name: str, x: np.ndarray, *, negative_slope: float = 0.2, alpha: float = 1.0) -> np.ndarray:
    """The activation formulas, in float64 (softmax over the last = channel axis)."""
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    formulas = {
        "linear": lambda: x, "relu": lambda: np.maximum(x, 0.0), "tanh": lambda: np.tanh(x),
        "sigmoid": lambda: _sigmoid(x), "silu": lambda: x * _sigmoid(x),
        "gelu": lambda: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
        "gelu_tanh": lambda: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
        "leaky_relu": lambda: np.where(x >= 0, x, negative_slope * x),
        "elu": lambda: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))),
        "selu": lambda: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    }
    return formulas[name]()


def _windows(x: np.ndarray, ks, st, dl, pad, fill: float):
    """Pad NHWC `x` and yield (kernel offset, strided view (N, Ho, Wo, C)) for every kernel position."""
    xp = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)), constant_values=fill)
    ho = (xp.shape[1] - dl[0] * (ks[0] - 1) - 1) // st[0] + 1
    wo = (xp.shape[2] - dl[1] * (ks[1] - 1) - 1) // st[1] + 1
    for a in range(ks[0]):
        for b in range(ks[1]):
            r, c = a * dl[0], b * dl[1]
            yield (a, b), xp[:, r:r + st[0] * (ho - 1) + 1:st[0], c:c + st[1] * (wo - 1) + 1:st[1], :]


def _pads(hw, ks, st, dl, padding):
    if padding == "valid":
        return ((0, 0), (0, 0))
    return tuple(same_pads(n, k, s, d) for n, k, s, d in zip(hw, ks, st, dl))


def conv2d(x, kernel, bias, *, strides, dilation, padding, groups):
    """NHWC conv with HWIO kernel, grouped: each group's output channels see only its input channels."""
    ks, cin_g, cout = kernel.shape[:2], kernel.shape[2], kernel.shape[3]
    pad = _pads(x.shape[1:3], ks, strides, dilation, padding)
    cout_g = cout // groups
    out = None
    for (a, b), view in _windows(x, ks, strides, dilation, pad, 0.0):
        parts = [view[..., g * cin_g:(g + 1) * cin_g] @ kernel[a, b, :, g * cout_g:(g + 1) * cout_g]
                 for g in range(groups)]
        term = np.concatenate(parts, axis=-1)
        out = term if out is None else out + term
    return out if bias is None else out + bias


def pool2d(x, kind, pool_size, strides, padding):
    """Max pool (padding never wins) or average pool over the real pixels of each window (Keras 'same')."""
    ks = (pool_size,) * 2 if isinstance(pool_size, int) else tuple(pool_size)
    st = strides or pool_size
    st = (st,) * 2 if isinstance(st, int) else tuple(st)
    pad = _pads(x.shape[1:3], ks, st, (1, 1), padding)
    if kind == "max":
        return np.max([v for _, v in _windows(x, ks, st, (1, 1), pad, -np.inf)], axis=0)
    total = np.sum([v for _, v in _windows(x, ks, st, (1, 1), pad, 0.0)], axis=0)
    count = np.sum([v for _, v in _windows(np.ones_like(x[:1, ..., :1]), ks, st, (1, 1), pad, 0.0)], axis=0)
    return total / count


def lstm(x, w, return_sequences):
    """Keras/torch LSTM: gates i, f, c, o; c = f*c + i*tanh(.); h = o*tanh(c)."""
    u = w["recurrent_kernel"].shape[0]
    h, c, hs = np.zeros((x.shape[0], u)), np.zeros((x.shape[0], u)), []
    for t in range(x.shape[1]):
        z = x[:, t] @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"]
        i, f, g, o = (z[:, j * u:(j + 1) * u] for j in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1) if return_sequences else h


def gru(x, w, return_sequences):
    """GRU with reset_after: z, r from x and h; candidate tanh(x Wh + b + r * (h Uh + b_rec)); h = z*h + (1-z)*cand."""
    u = w["recurrent_kernel"].shape[0]
    h, hs = np.zeros((x.shape[0], u)), []
    for t in range(x.shape[1]):
        mx = x[:, t] @ w["kernel"] + w["bias"][0]
        mh = h @ w["recurrent_kernel"] + w["bias"][1]
        z = _sigmoid(mx[:, :u] + mh[:, :u])
        r = _sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
        h = z * h + (1.0 - z) * np.tanh(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        hs.append(h)
    return np.stack(hs, axis=1) if return_sequences else h


def _normalize(x, mean, var, eps, gamma, beta):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def linear(l: LayerSpec, x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """Dense / conv output BEFORE the activation."""
    p = l.params
    if l.kind == "dense":
        return x @ w["kernel"] + (w["bias"] if "bias" in w else 0.0)
    one = l.kind == "conv1d"
    pair = (lambda v: (1, v)) if one else (lambda v: (v, v) if isinstance(v, int) else tuple(v))
    y = conv2d(x[:, None] if one else x, w["kernel"][None] if one else w["kernel"], w.get("bias"),
               strides=pair(p["strides"]), dilation=pair(p["dilation"]), padding=p["padding"], groups=p["groups"])
    return y[:, 0] if one else y


def layer_forward(l: LayerSpec, args: list[np.ndarray], w: dict[str, np.ndarray], training: bool):
    """One layer in float64; None where there is no deterministic result."""
    x, p, k = args[0], l.params, l.kind
    if k in LINEAR_KINDS:
        return activate(p["activation"], linear(l, x, w))
    if k in ("max_pool2d", "avg_pool2d"):
        return pool2d(x, k[:3], p["pool_size"], p["strides"], p["padding"])
    if k == "global_avg_pool2d":
        return x.mean(axis=(1, 2))
    if k == "flatten":
        return x.reshape(x.shape[0], -1)
    if k == "batch_norm":
        axes = tuple(range(x.ndim - 1))
        mean, var = (x.mean(axis=axes), x.var(axis=axes)) if training else (w["moving_mean"], w["moving_variance"])
        return _normalize(x, mean, var, p["epsilon"], w["gamma"], w["beta"])
    if k == "layer_norm":
        return _normalize(x, x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True), p["epsilon"],
                          w["gamma"], w["beta"])
    if k == "dropout":
        return None if training and p["rate"] > 0 else x
    if k == "embedding":
        return w["embeddings"][x.astype(np.int64)]
    if k == "lstm":
        return lstm(x, w, p["return_sequences"])
    if k == "gru":
        return gru(x, w, p["return_sequences"])
    if k == "activation":
        return activate(p["fn"], x, negative_slope=p["negative_slope"], alpha=p["alpha"])
    if k == "add":
        return sum(args[1:], args[0])
    return np.concatenate(args, axis=-1)


def trace(spec: ModelSpec, weights: Weights, x: np.ndarray, *, training: bool = False) -> dict[str, np.ndarray] | None:
    """Every node's float64 value (the input included), plus `<name>:pre`, the pre-activation value of each dense/conv
    with an activation (its magnitude bounds the terms the activation cancels); None when some layer has no
    deterministic reference."""
    w64 = {n: {k: np.asarray(v, np.float64) for k, v in lw.items()} for n, lw in weights.items()}
    values = {INPUT: np.asarray(x) if spec.input_dtype == "int32" else np.asarray(x, np.float64)}
    for l in spec.layers:
        args, w = [values[s] for s in spec.sources(l)], w64.get(l.name, {})
        if l.kind in LINEAR_KINDS and l["activation"] != "linear":
            values[l.name + PRE] = linear(l, args[0], w)
            y = activate(l["activation"], values[l.name + PRE])
        else:
            y = layer_forward(l, args, w, training)
        if y is None:
            return None
        values[l.name] = y
    return values


def forward(spec: ModelSpec, weights: Weights, x: np.ndarray, *, training: bool = False) -> np.ndarray | None:
    """The model output in float64 (None where no deterministic reference exists)."""
    values = trace(spec, weights, x, training=training)
    return None if values is None else values[spec.layers[-1].name]


__all__ = ["LINEAR_KINDS", "PRE", "activate", "conv2d", "linear", "conv_out", "forward", "gru", "lstm", "pool2d", "trace"]
