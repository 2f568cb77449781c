"""conv1d / conv2d / conv3d: keras.layers.Conv1D/2D/3D <-> torch.nn.Conv1d/2d/3d, with TF's 'same' padding exactly.

Args: filters, kernel_size (required), strides (1), padding ('valid'), dilation (1), groups (1), activation
('linear'), use_bias (True); window arguments are an int or a tuple of one per spatial axis.
Canonical kernels are Keras' (k..., in/groups, out) (conv3d: DHWIO); torch's are (out, in/groups, k...) (OIDHW).
torch takes rank-3 input as (N, C, L), so a Conv1d is wrapped in permutes from and back to (N, L, C). Rank-5 maps
stay channels-last (NDHWC) between the layers of a spec-built torch model (the sides convert rank-4 maps only):
a Conv3d is wrapped in permutes to NCDHW and back, and a Flatten of its output is in canonical order.
TF's 'same' split puts the odd pixel after: symmetric pads go into the torch layer's own `padding`, asymmetric
ones into an explicit F.pad.
"""
from __future__ import annotations

import math

import numpy as np

from .. import runtime
from . import linear
from .base import (CANONICAL, Arg, LayerKind, REQUIRED, SpecError, boolean, need_rank, padding,
                    positive_int, positive_int_or_pair, reject)
from .geometry import as_list, conv_out, ntuple, pair, tf_pads, torch_pads, windows, windows_nd
from .mapping import Axes, Map, Weight, glorot, small
from .torchnn import CHANNELS_FIRST, modules
from .activation import ACTIVATIONS, activation_name, keras_activation, torch_act


def conv2d(x, kernel, bias, *, strides, dilation, padding, groups):
    """NHWC conv with HWIO kernel, grouped: each group's output channels see only its input channels."""
    ks, cin_g, cout = kernel.shape[:2], kernel.shape[2], kernel.shape[3]
    pad = tf_pads(x.shape[1:3], ks, strides, dilation, padding)
    cout_g = cout // groups
    out = None
    for (a, b), view in windows(x, ks, strides, dilation, pad, 0.0):
        parts = [view[..., g * cin_g:(g + 1) * cin_g] @ kernel[a, b, :, g * cout_g:(g + 1) * cout_g]
                 for g in range(groups)]
        term = np.concatenate(parts, axis=-1)
        out = term if out is None else out + term
    return out if bias is None else out + bias


def conv3d(x, kernel, bias, *, strides, dilation, padding, groups):
    """NDHWC conv with DHWIO kernel, grouped (as conv2d)."""
    ks, cin_g, cout = kernel.shape[:3], kernel.shape[3], kernel.shape[4]
    pad = tf_pads(x.shape[1:4], ks, strides, dilation, padding)
    cout_g = cout // groups
    out = None
    for offset, view in windows_nd(x, ks, strides, dilation, pad, 0.0):
        parts = [view[..., g * cin_g:(g + 1) * cin_g] @ kernel[offset][:, g * cout_g:(g + 1) * cout_g]
                 for g in range(groups)]
        term = np.concatenate(parts, axis=-1)
        out = term if out is None else out + term
    return out if bias is None else out + bias


_DIMS = {"conv1d": 1, "conv2d": 2, "conv3d": 3}
_TO_TORCH = {1: (2, 1, 0), 2: (3, 2, 0, 1), 3: (4, 3, 0, 1, 2)}  # (k..., in/g, out) -> (out, in/g, k...)
_CHANNELS_FIRST_3D = dict(to_cf=(0, 4, 1, 2, 3), from_cf=(0, 2, 3, 4, 1))  # NDHWC <-> NCDHW around the Conv3d


def _dims(l) -> int:
    return _DIMS[l.kind]


def _window(l) -> tuple[int, ...]:
    return ntuple(l["kernel_size"], _dims(l))


def pre(l, x, w):
    """Output BEFORE the activation (a conv1d is a conv2d over a height-1 map)."""
    if _dims(l) == 3:
        return conv3d(x, w["kernel"], w.get("bias"), strides=ntuple(l["strides"], 3),
                      dilation=ntuple(l["dilation"], 3), padding=l["padding"], groups=l["groups"])
    if _dims(l) == 2:
        return conv2d(x, w["kernel"], w.get("bias"), strides=pair(l["strides"]), dilation=pair(l["dilation"]),
                      padding=l["padding"], groups=l["groups"])
    y = conv2d(x[:, None], w["kernel"][None], w.get("bias"), strides=(1, l["strides"]), dilation=(1, l["dilation"]),
               padding=l["padding"], groups=l["groups"])
    return y[:, 0]


def fan_in(l, x):
    return math.prod(_window(l)) * x[-1] // l["groups"]


def _check(l):
    if max(as_list(l["strides"], 1)) > 1 and max(as_list(l["dilation"], 1)) > 1:
        reject(l, "strides > 1 with dilation > 1 is not supported by Keras (TF) convs")


def _shape(l, ins):
    x, n = ins[0], _dims(l)
    need_rank(l, x, n + 2)
    ks, st, dl = (ntuple(l[a], n) for a in ("kernel_size", "strides", "dilation"))
    cin, groups = x[-1], l["groups"]
    if cin % groups or l["filters"] % groups:
        raise SpecError(f"groups={groups} must divide both input channels ({cin}) and filters ({l['filters']})")
    out = tuple(conv_out(m, kk, s, d, l["padding"]) for m, kk, s, d in zip(x[:n], ks, st, dl))
    if min(out) < 1:
        raise SpecError(f"kernel {ks} (dilation {dl}) with 'valid' padding is larger than the input {x[:n]}")
    return (*out, l["filters"])


def _params(l, x):
    return {"kernel": Weight((*_window(l), x[-1] // l["groups"], l["filters"]), glorot)} | (
        {"bias": Weight((l["filters"],), small)} if l["use_bias"] else {})


def _keras(l, x):
    L = runtime.keras().layers
    return {1: L.Conv1D, 2: L.Conv2D, 3: L.Conv3D}[_dims(l)](
        l["filters"], l["kernel_size"], strides=l["strides"], padding=l["padding"], dilation_rate=l["dilation"],
        groups=l["groups"], activation=keras_activation(l["activation"]), use_bias=l["use_bias"], name=l.name)


def _torch(l, x):
    nn, n = runtime.torch().nn, _dims(l)
    ks, st, dl = (as_list(l[a], n) for a in ("kernel_size", "strides", "dilation"))
    sym, pad = torch_pads(x[:-1], ks, st, dl, l["padding"])
    core = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[n](x[-1], l["filters"], ks, stride=st, padding=sym,
                                                         dilation=dl, groups=l["groups"], bias=l["use_bias"])
    layout = {1: CHANNELS_FIRST, 2: {}, 3: _CHANNELS_FIRST_3D}[n]
    return modules().Wrap(core, pad=pad, act=torch_act(l["activation"], n + 2), **layout)


def _draw2d(draw, x, slot, tag):
    """Every drawn value fits: a 'valid' kernel never exceeds the map, groups divide the channels, dilation only
    with stride 1 (TF's rule)."""
    from hypothesis import strategies as st

    hw, c = x[:2], x[2]
    pad = draw(st.sampled_from(["valid", "same"]), label=f"padding{tag}")
    strides = draw(st.integers(1, 2), label=f"strides{tag}")
    dilation = 1 if strides > 1 else draw(st.integers(1, 2), label=f"dilation{tag}")
    kmax = min(hw) if pad == "valid" else 4
    k = draw(st.integers(1, max(1, min(3, kmax))), label=f"kernel{tag}")
    if pad == "valid" and dilation * (k - 1) + 1 > min(hw):
        dilation = 1
    groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]), label=f"groups{tag}")
    filters = groups * draw(st.integers(1, 3), label=f"filters_per_group{tag}")
    return dict(filters=filters, kernel_size=k, strides=strides, padding=pad, dilation=dilation, groups=groups,
                activation=draw(st.sampled_from(ACTIVATIONS), label=f"act{tag}"))


def _draw1d(draw, x, slot, tag):
    from hypothesis import strategies as st

    pad = draw(st.sampled_from(["valid", "same"]), label=f"padding{tag}")
    k = draw(st.integers(1, x[0] if pad == "valid" else 3), label=f"kernel{tag}")
    return dict(kernel_size=k, strides=draw(st.integers(1, 2), label=f"strides{tag}"), padding=pad,
                filters=draw(st.integers(1, 6)), activation=draw(st.sampled_from(ACTIVATIONS), label=f"act{tag}"))


def _kind(name: str, keras: str, torch: str, notes: str, size_check, strategy, slots) -> LayerKind:
    return LayerKind(
        name=name, keras=keras, torch=torch, notes=notes,
        args=dict(filters=Arg(REQUIRED, positive_int), kernel_size=Arg(REQUIRED, size_check),
                  strides=Arg(1, size_check), padding=Arg("valid", padding), dilation=Arg(1, size_check),
                  groups=Arg(1, positive_int), activation=Arg("linear", activation_name),
                  use_bias=Arg(True, boolean)),
        merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=_check, shape=_shape, params=_params,
        torch_params=(Map("kernel", "weight", Axes(_TO_TORCH[_DIMS[name]])),
                      Map("bias", "bias")),
        keras_layer=_keras, torch_module=_torch,
        forward=linear.forward(pre), depth=linear.depth(fan_in, "filters"), bound=linear.bound(pre, fan_in),
        scale=linear.scale,
        strategy=strategy, slots=slots,
    )


CONV1D = _kind("conv1d", "keras.layers.Conv1D", "torch.nn.Conv1d",
               "kernel (k, in/g, out) -> (out, in/g, k); NLC <-> NCL around the torch conv",
               positive_int, _draw1d, ("seq",))
CONV2D = _kind("conv2d", "keras.layers.Conv2D", "torch.nn.Conv2d",
               "HWIO -> OIHW; 'same' = symmetric torch padding, or F.pad(after >= before) when asymmetric",
               positive_int_or_pair, _draw2d, ())


def positive_int_or_triple(kind: str, arg: str, v) -> str | None:
    ok = (isinstance(v, int) and v >= 1) or (isinstance(v, (tuple, list)) and len(v) == 3
                                             and all(isinstance(i, int) and i >= 1 for i in v))
    return None if ok else f"{arg} must be a positive integer (or a triple), got {v!r}"


def _draw3d(draw, x, slot, tag):
    """Tiny volumes: a 'valid' kernel never exceeds the smallest side, stride 1 or 2, no dilation."""
    from hypothesis import strategies as st

    pad = draw(st.sampled_from(["valid", "same"]), label=f"padding{tag}")
    k = draw(st.integers(1, min(2, *x[:3]) if pad == "valid" else 3), label=f"kernel{tag}")
    groups = draw(st.sampled_from([g for g in (1, x[3]) if x[3] % g == 0]), label=f"groups{tag}")
    return dict(filters=groups * draw(st.integers(1, 2), label=f"filters_per_group{tag}"), kernel_size=k,
                strides=draw(st.integers(1, 2), label=f"strides{tag}"), padding=pad, groups=groups,
                activation=draw(st.sampled_from(ACTIVATIONS), label=f"act{tag}"))


CONV3D = _kind("conv3d", "keras.layers.Conv3D", "torch.nn.Conv3d",
               "DHWIO -> OIDHW; NDHWC permuted to NCDHW around the torch conv; 'same' as conv2d (F.pad when "
               "asymmetric)", positive_int_or_triple, _draw3d, ())
