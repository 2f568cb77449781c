"""What dense and conv kinds share: a K-term dot product plus bias (the pre-activation), then an activation.

Each such kind gives `pre(l, x, w)` (float64, NHWC / NLC / (N, F)) and `fan_in(l, x_shape)`; these factories
make its forward, depth, bound and scale hooks from them.
"""
from __future__ import annotations

import math

import numpy as np

from ..tolerances import ACC_FACTOR
from .activation import U, activate, activation_bound, activation_scale, softmax_depth

PRE = ":pre"  # trace key suffix of a dense/conv pre-activation value


def forward(pre):
    def hook(l, args, w, training, trace):
        z = pre(l, args[0], w)
        if l["activation"] != "linear":  # its magnitude bounds the terms the activation cancels
            trace[l.name + PRE] = z
        return activate(l["activation"], z)
    return hook


def depth(fan_in, channels: str):
    """K = fan-in, plus the output channels (argument `channels`) that a softmax sums."""
    def hook(l, ins, batch):
        return fan_in(l, ins[0]) + softmax_depth(l["activation"], l[channels])
    return hook


def bound(pre, fan_in):
    """Pre-activation: sqrt(W^2 E_in^2) + ACC_FACTOR u sqrt(K+1) P (error_bounds' docstring), with P, the size of
    the partial sums, estimated as max(|W x + b|, sqrt(W^2 x^2 + b^2)); then the activation's bound."""
    def hook(l, args, errs, y, w, values, training):
        x, e = args[0], errs[0]
        sq = {"kernel": np.square(w["kernel"])}
        propagated = np.sqrt(pre(l, np.square(e), sq)) if np.any(e) else 0.0
        terms = np.sqrt(pre(l, np.square(x), {**sq, **({"bias": np.square(w["bias"])} if "bias" in w else {})}))
        partial = np.maximum(np.abs(pre(l, x, w)), terms)
        e_pre = propagated + ACC_FACTOR * U * math.sqrt(fan_in(l, x.shape[1:]) + 1) * partial
        return activation_bound(l["activation"], values.get(l.name + PRE, y), e_pre, y, {})
    return hook


def scale(l, e, x, w, training):
    return activation_scale(l["activation"], e)
