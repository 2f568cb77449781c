"""depthwise_conv2d / separable_conv2d: keras.layers.DepthwiseConv2D / SeparableConv2D <-> grouped torch Conv2d.

depthwise_conv2d args: kernel_size (int or pair, required), strides (1), padding ('valid' | 'same'),
depth_multiplier (1), dilation (1), activation ('linear'), use_bias (True). torch: nn.Conv2d(C, C*m, k,
groups=C). Keras' kernel is (kh, kw, C, m), torch's weight (C*m, 1, kh, kw); both order the output channels
c*m + j (input channel c, multiplier j), so the kernel maps by a reshape (kh, kw, 1, C*m) and the conv transpose
(`mapping.Depthwise`; catalogue entry depthwise-kernel-layout). Canonical parameters: kernel, bias (C*m,).

separable_conv2d args: filters (required) and the same as depthwise_conv2d. torch: a depthwise nn.Conv2d
(no bias) then a pointwise 1x1 nn.Conv2d(C*m, filters) with the one bias, in an nn.Sequential with children
`depthwise` and `pointwise`. Canonical parameters (Keras' names): depthwise_kernel (kh, kw, C, m),
pointwise_kernel (1, 1, C*m, filters), bias (filters,).

TF's 'same' puts the odd pixel after (stride 2): symmetric pads go into the torch conv's `padding`, asymmetric
ones into an F.pad before it (as conv2d). Keras (TF) rejects strides > 1 together with dilation > 1.
"""
from __future__ import annotations

import collections
import math

import numpy as np

from .. import runtime
from ..tolerances import ACC_FACTOR
from . import linear
from .base import (CANONICAL, Arg, LayerKind, REQUIRED, SpecError, boolean, need_rank, padding, positive_int,
                   positive_int_or_pair, reject)
from .conv import conv2d
from .geometry import as_list, conv_out, pair, torch_pads
from .mapping import Axes, Depthwise, Map, Weight, glorot, small
from .torchnn import modules
from .activation import (ACTIVATIONS, U, activate, activation_bound, activation_name, keras_activation,
                         softmax_depth, torch_act)


def depthwise(x, kernel, bias, *, strides, dilation, padding):
    """Keras' depthwise conv in float64: a conv with C groups of one input channel, kernel (kh, kw, C, m) read
    as (kh, kw, 1, C*m), so output channel c*m + j is input channel c through kernel[..., c, j]."""
    kh, kw, c, m = kernel.shape
    return conv2d(x, kernel.reshape(kh, kw, 1, c * m), bias, strides=strides, dilation=dilation, padding=padding,
                  groups=c)


def _geometry(l):
    return dict(strides=pair(l["strides"]), dilation=pair(l["dilation"]), padding=l["padding"])


def _check(l):
    if max(pair(l["strides"])) > 1 and max(pair(l["dilation"])) > 1:
        reject(l, "strides > 1 with dilation > 1 is not supported by Keras (TF) depthwise convs")
    if len(set(pair(l["strides"]))) > 1:  # a spec must run on every platform
        reject(l, f"strides {tuple(pair(l['strides']))} differ per axis: TF's CPU depthwise kernel runs them only "
                  "with oneDNN on (catalogue entry tf-depthwise-unequal-strides); use equal strides")


def _spatial(l, x):
    need_rank(l, x, 4)
    ks, st, dl = (pair(l[a]) for a in ("kernel_size", "strides", "dilation"))
    out = tuple(conv_out(m, k, s, d, l["padding"]) for m, k, s, d in zip(x[:2], ks, st, dl))
    if min(out) < 1:
        raise SpecError(f"kernel {ks} (dilation {dl}) with 'valid' padding is larger than the input {x[:2]}")
    return out


def _depthwise_torch(l, x, *, bias):
    """(nn.Conv2d(C, C*m, groups=C), F.pad tuple or None) reproducing TF's padding."""
    ks, st, dl = (as_list(l[a], 2) for a in ("kernel_size", "strides", "dilation"))
    sym, pad = torch_pads(x[:-1], ks, st, dl, l["padding"])
    c = x[-1]
    return runtime.torch().nn.Conv2d(c, c * l["depth_multiplier"], ks, stride=st, padding=sym, dilation=dl,
                                     groups=c, bias=bias), pad


def _draw(draw, x, slot, tag, *, filters: bool):
    """Fits the map: a 'valid' kernel never exceeds it, dilation only with stride 1."""
    from hypothesis import strategies as st

    pad = draw(st.sampled_from(["valid", "same"]), label=f"padding{tag}")
    strides = draw(st.integers(1, 2), label=f"strides{tag}")
    dilation = 1 if strides > 1 else draw(st.integers(1, 2), label=f"dilation{tag}")
    k = draw(st.integers(1, min(3, min(x[:2])) if pad == "valid" else 3), label=f"kernel{tag}")
    if pad == "valid" and dilation * (k - 1) + 1 > min(x[:2]):
        dilation = 1
    out = dict(kernel_size=k, strides=strides, padding=pad, dilation=dilation,
               depth_multiplier=draw(st.integers(1, 2), label=f"depth_multiplier{tag}"),
               activation=draw(st.sampled_from(ACTIVATIONS), label=f"act{tag}"))
    return out | ({"filters": draw(st.integers(1, 4), label=f"filters{tag}")} if filters else {})


_ARGS = dict(kernel_size=Arg(REQUIRED, positive_int_or_pair), strides=Arg(1, positive_int_or_pair),
             padding=Arg("valid", padding), depth_multiplier=Arg(1, positive_int),
             dilation=Arg(1, positive_int_or_pair),
             activation=Arg("linear", activation_name), use_bias=Arg(True, boolean))
_TO_OIHW = Axes((3, 2, 0, 1))  # (kh, kw, in/groups, out) -> (out, in/groups, kh, kw)


# ------------------------------------------------------------------------------------------------ depthwise_conv2d
def _dw_pre(l, x, w):
    return depthwise(x, w["kernel"], w.get("bias"), **_geometry(l))


def _dw_fan_in(l, x):
    return math.prod(pair(l["kernel_size"]))


def _dw_torch(l, x):
    core, pad = _depthwise_torch(l, x, bias=l["use_bias"])
    return modules().Wrap(core, pad=pad, act=torch_act(l["activation"], 4))


DEPTHWISE_CONV2D = LayerKind(
    name="depthwise_conv2d", keras="keras.layers.DepthwiseConv2D", torch="torch.nn.Conv2d(C, C*m, groups=C)",
    notes="kernel (kh, kw, C, m) -> (C*m, 1, kh, kw), output channel c*m + j on both sides",
    args=_ARGS, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=_check,
    shape=lambda l, ins: (*_spatial(l, ins[0]), ins[0][-1] * l["depth_multiplier"]),
    params=lambda l, x: {"kernel": Weight((*pair(l["kernel_size"]), x[-1], l["depth_multiplier"]), glorot)} | (
        {"bias": Weight((x[-1] * l["depth_multiplier"],), small)} if l["use_bias"] else {}),
    torch_params=(Map("kernel", "weight", Depthwise("kernel"), _TO_OIHW), Map("bias", "bias")),
    keras_layer=lambda l, x: runtime.keras().layers.DepthwiseConv2D(
        l["kernel_size"], strides=l["strides"], padding=l["padding"], depth_multiplier=l["depth_multiplier"],
        dilation_rate=l["dilation"], activation=keras_activation(l["activation"]), use_bias=l["use_bias"],
        name=l.name),
    torch_module=_dw_torch,
    forward=linear.forward(_dw_pre),
    depth=lambda l, ins, batch: _dw_fan_in(l, ins[0]) + softmax_depth(l["activation"],
                                                                      ins[0][-1] * l["depth_multiplier"]),
    bound=linear.bound(_dw_pre, _dw_fan_in), scale=linear.scale,
    strategy=lambda draw, x, slot, tag: _draw(draw, x, slot, tag, filters=False), slots=("cnn",),
)


# ------------------------------------------------------------------------------------------------ separable_conv2d
def _sep_stages(l, x, w):
    """(depthwise output, pointwise output before the activation), float64."""
    d = depthwise(x, w["depthwise_kernel"], None, **_geometry(l))
    return d, d @ w["pointwise_kernel"][0, 0] + (w["bias"] if "bias" in w else 0.0)


def _sep_forward(l, args, w, training, trace):
    _, z = _sep_stages(l, args[0], w)
    if l["activation"] != "linear":  # its magnitude bounds the terms the activation cancels (linear.forward)
        trace[l.name + linear.PRE] = z
    return activate(l["activation"], z)


def _stage_error(apply, x, e, w2, b2, y, k: int):
    """linear.bound's rule for one stage y = apply(x, W) + b: sqrt(W^2 E^2) propagated, plus ACC_FACTOR u
    sqrt(K+1) times the partial sums' size max(|y|, sqrt(W^2 x^2 + b^2))."""
    propagated = np.sqrt(apply(np.square(e), w2)) if np.any(e) else 0.0
    partial = np.maximum(np.abs(y), np.sqrt(apply(np.square(x), w2) + b2))
    return propagated + ACC_FACTOR * U * math.sqrt(k + 1) * partial


def _sep_bound(l, args, errs, y, w, values, training):
    """The depthwise stage (K = kh*kw) with its own rounding, then the pointwise one (K = C*m) fed with its bound,
    then the activation's bound."""
    x, e = args[0], errs[0]
    d, z = _sep_stages(l, x, w)
    conv = lambda a, k2: depthwise(a, k2, None, **_geometry(l))  # noqa: E731
    e1 = _stage_error(conv, x, e, np.square(w["depthwise_kernel"]), 0.0, d, math.prod(pair(l["kernel_size"])))
    b2 = np.square(w["bias"]) if "bias" in w else 0.0
    e_pre = _stage_error(lambda a, k2: a @ k2, d, e1, np.square(w["pointwise_kernel"][0, 0]), b2, z, d.shape[-1])
    return activation_bound(l["activation"], values.get(l.name + linear.PRE, y), e_pre, y, {})


def _sep_torch(l, x):
    nn = runtime.torch().nn
    dw, pad = _depthwise_torch(l, x, bias=False)
    pw = nn.Conv2d(x[-1] * l["depth_multiplier"], l["filters"], 1, bias=l["use_bias"])
    core = nn.Sequential(collections.OrderedDict(depthwise=dw, pointwise=pw))
    return modules().Wrap(core, pad=pad, act=torch_act(l["activation"], 4))


def _sep_depth(l, ins, batch):
    """Two stacked sums, combined as the model rule combines layers: (sqrt(kh*kw) + sqrt(C*m))^2."""
    k1, k2 = math.prod(pair(l["kernel_size"])), ins[0][-1] * l["depth_multiplier"]
    return math.ceil((math.sqrt(k1) + math.sqrt(k2)) ** 2) + softmax_depth(l["activation"], l["filters"])


SEPARABLE_CONV2D = LayerKind(
    name="separable_conv2d", keras="keras.layers.SeparableConv2D",
    torch="torch.nn.Conv2d(C, C*m, groups=C) then Conv2d(C*m, filters, 1)",
    notes="depthwise (kh, kw, C, m) -> (C*m, 1, kh, kw), no bias; pointwise (1, 1, C*m, f) -> (f, C*m, 1, 1) "
          "with the bias",
    args=dict(filters=Arg(REQUIRED, positive_int), **_ARGS), merge=False, reads_ids=False,
    torch_flat_order=CANONICAL, check=_check,
    shape=lambda l, ins: (*_spatial(l, ins[0]), l["filters"]),
    params=lambda l, x: {
        "depthwise_kernel": Weight((*pair(l["kernel_size"]), x[-1], l["depth_multiplier"]), glorot),
        "pointwise_kernel": Weight((1, 1, x[-1] * l["depth_multiplier"], l["filters"]), glorot),
    } | ({"bias": Weight((l["filters"],), small)} if l["use_bias"] else {}),
    torch_params=(Map("depthwise_kernel", "depthwise.weight", Depthwise("depthwise_kernel"), _TO_OIHW),
                  Map("pointwise_kernel", "pointwise.weight", _TO_OIHW), Map("bias", "pointwise.bias")),
    keras_layer=lambda l, x: runtime.keras().layers.SeparableConv2D(
        l["filters"], l["kernel_size"], strides=l["strides"], padding=l["padding"],
        depth_multiplier=l["depth_multiplier"], dilation_rate=l["dilation"],
        activation=keras_activation(l["activation"]), use_bias=l["use_bias"], name=l.name),
    torch_module=_sep_torch, forward=_sep_forward, depth=_sep_depth, bound=_sep_bound, scale=linear.scale,
    strategy=lambda draw, x, slot, tag: _draw(draw, x, slot, tag, filters=True), slots=("cnn",),
)
