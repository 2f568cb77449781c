"""Float64 primitives the references share (ops, losses, layer forwards, gradient allowances): one softmax, one
log-softmax, one logsumexp, each shifted by the maximum first as both frameworks compute them (no overflow, and
inf - inf = NaN where a row holds +inf, as in both frameworks)."""
from __future__ import annotations

import numpy as np


def softmax(x, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    z = x - np.max(x, axis=axis, keepdims=True)  # shifted first: no underflow to -inf
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def logsumexp(x, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)), axis=axis)
