"""conv2d_transpose: keras.layers.Conv2DTranspose <-> torch.nn.ConvTranspose2d, Keras' output size exactly.

Args: filters (required), kernel_size (int or pair, required), strides (1), padding ('valid' | 'same'),
activation ('linear'), use_bias (True). No dilation, groups or output_padding (Keras' output_padding=None rule).

Output size (Keras, output_padding=None): 'same' n*s, 'valid' n*s + max(k - s, 0). TF computes the gradient of a
conv with that padding: the full transposed output ((n-1)*s + k) loses (k - s)//2 leading rows and the rest at the
end ('same': the odd row goes AFTER, as in TF's conv). torch's length is (n-1)*s + k - 2*padding + output_padding,
cropping `padding` rows at both ends: padding = the leading crop and output_padding = s - k + 2*padding, which is -1
for 'same' with k - s odd (k=3, s=2): torch cannot, so the module drops the last row itself
(`geometry.transpose_torch`; catalogue entry conv-transpose-same-output-size). Kernels: Keras (kh, kw, out, in),
torch (in, out, kh, kw), no spatial flip (catalogue entry conv-transpose-kernel-layout).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import runtime
from . import linear
from .base import (CANONICAL, Arg, LayerKind, REQUIRED, boolean, need_rank, no_check, padding, positive_int,
                   positive_int_or_pair)
from .geometry import pair, transpose_crop, transpose_out, transpose_torch
from .mapping import Axes, Map, Weight, glorot, small
from .activation import ACTIVATIONS, activation_name, keras_activation, torch_act


def conv2d_transpose(x, kernel, bias, *, strides, padding):
    """NHWC transposed conv with Keras' (kh, kw, out, in) kernel: each input pixel scatters x @ W[a, b].T to
    output (i*s + a, j*s + b) of the full map, which is then cropped (or zero-extended: k < s) to Keras' size."""
    (kh, kw, cout, _), (s0, s1) = kernel.shape, strides
    n, h, w = x.shape[:3]
    full = np.zeros((n, (h - 1) * s0 + kh, (w - 1) * s1 + kw, cout))
    for a in range(kh):
        for b in range(kw):
            full[:, a:a + s0 * (h - 1) + 1:s0, b:b + s1 * (w - 1) + 1:s1, :] += x @ kernel[a, b].T
    sizes = [transpose_out(m, k, s, padding) for m, k, s in ((h, kh, s0), (w, kw, s1))]
    crops = [transpose_crop(k, s, padding) for k, s in ((kh, s0), (kw, s1))]
    short = [max(c + m - f, 0) for c, m, f in zip(crops, sizes, full.shape[1:3])]
    full = np.pad(full, ((0, 0), (0, short[0]), (0, short[1]), (0, 0)))  # k < s: rows that only get the bias
    out = full[:, crops[0]:crops[0] + sizes[0], crops[1]:crops[1] + sizes[1]]
    return out if bias is None else out + bias


def pre(l, x, w):
    return conv2d_transpose(x, w["kernel"], w.get("bias"), strides=pair(l["strides"]), padding=l["padding"])


def fan_in(l, x):
    """Terms summed into one output pixel: at most ceil(k/s) kernel taps per axis, times the input channels."""
    ks, st = pair(l["kernel_size"]), pair(l["strides"])
    return math.prod(-(-k // s) for k, s in zip(ks, st)) * x[-1]


def _shape(l, ins):
    x = ins[0]
    need_rank(l, x, 4)
    ks, st = pair(l["kernel_size"]), pair(l["strides"])
    return (*(transpose_out(m, k, s, l["padding"]) for m, k, s in zip(x[:2], ks, st)), l["filters"])


@functools.cache
def _crop_module():
    nn = runtime.torch().nn

    class CropTranspose(nn.Module):
        """torch ConvTranspose2d whose output loses `crop` trailing rows/columns (Keras 'same', k - s odd)."""

        def __init__(self, core, crop, act):
            super().__init__()
            self.core, self.crop, self.act = core, tuple(crop), act

        def forward(self, x):
            y = self.core(x)
            h, w = y.shape[2] - self.crop[0], y.shape[3] - self.crop[1]
            y = y[:, :, :h, :w]
            return self.act(y) if self.act else y

        def extra_repr(self):
            return f"crop_end={self.crop}"

    return CropTranspose


def _torch(l, x):
    ks, st = pair(l["kernel_size"]), pair(l["strides"])
    p, op, crop = zip(*(transpose_torch(k, s, l["padding"]) for k, s in zip(ks, st)))
    core = runtime.torch().nn.ConvTranspose2d(x[-1], l["filters"], ks, stride=st, padding=p, output_padding=op,
                                              bias=l["use_bias"])
    return _crop_module()(core, crop, torch_act(l["activation"], 4))


def _keras(l, x):
    return runtime.keras().layers.Conv2DTranspose(
        l["filters"], l["kernel_size"], strides=l["strides"], padding=l["padding"], output_padding=None,
        activation=keras_activation(l["activation"]), use_bias=l["use_bias"], name=l.name)


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(filters=draw(st.integers(1, 4), label=f"filters{tag}"),
                kernel_size=draw(st.integers(1, 4), label=f"kernel{tag}"),
                strides=draw(st.integers(1, 2), label=f"strides{tag}"),
                padding=draw(st.sampled_from(["valid", "same"]), label=f"padding{tag}"),
                activation=draw(st.sampled_from(ACTIVATIONS), label=f"act{tag}"))


CONV2D_TRANSPOSE = LayerKind(
    name="conv2d_transpose", keras="keras.layers.Conv2DTranspose", torch="torch.nn.ConvTranspose2d",
    notes="(kh, kw, out, in) -> (in, out, kh, kw); 'same' = padding (k-s)//2, output_padding s-k+2p, or crop the "
          "last row when that is -1",
    args=dict(filters=Arg(REQUIRED, positive_int), kernel_size=Arg(REQUIRED, positive_int_or_pair),
              strides=Arg(1, positive_int_or_pair), padding=Arg("valid", padding),
              activation=Arg("linear", activation_name), use_bias=Arg(True, boolean)),
    merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape, params=lambda l, x: (
        {"kernel": Weight((*pair(l["kernel_size"]), l["filters"], x[-1]), glorot)}
        | ({"bias": Weight((l["filters"],), small)} if l["use_bias"] else {})),
    torch_params=(Map("kernel", "weight", Axes((3, 2, 0, 1))), Map("bias", "bias")),
    keras_layer=_keras, torch_module=_torch,
    forward=linear.forward(pre), depth=linear.depth(fan_in, "filters"), bound=linear.bound(pre, fan_in),
    scale=linear.scale, strategy=_draw, slots=("cnn",),
)
