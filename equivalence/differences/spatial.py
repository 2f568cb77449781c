"""Known differences: spatial layers (transposed and depthwise convolutions, group norm, resizing, padding).

Each entry sits right below its witness, which runs both frameworks on a tiny fixed input under torch.no_grad()
and returns plain values. The spec's kinds (equivalence/layer_kinds/transpose.py, depthwise.py, groupnorm.py,
resize.py, padding.py) pass each of these explicitly or map around them; the entries record what a user relying
on each framework's default, or on the common recipe, gets. Mutation tests: tests/meta/test_spatial_mutations.py.
"""
from __future__ import annotations

import numpy as np

from ..registry import Registry
from .entry import REGISTRY, ByPlatform, KnownDifference
from .witness_tools import attempt, frameworks, no_grad

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _nchw(torch, x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def _row(y) -> list[float]:
    return [float(v) for v in np.asarray(y).ravel()]


# ------------------------------------------------------------------------------------------ transposed convolution
_ROW = np.array([1.0, 2.0, 3.0], np.float32).reshape(1, 1, 3, 1)  # one row of 3 pixels, NHWC
_TAPS = np.array([1.0, 10.0, 100.0], np.float32)  # a (1, 3) kernel: each output names the taps it summed


@no_grad
def _transpose_same() -> dict:
    torch, keras = frameworks()
    k = keras.layers.Conv2DTranspose(1, (1, 3), strides=(1, 2), padding="same", use_bias=False)
    k.build(_ROW.shape)
    k.kernel.assign(_TAPS.reshape(1, 3, 1, 1))
    out = {}
    for name, padding, output_padding in (("padding=1, output_padding=1", 1, 1), ("padding=0", 0, 0)):
        t = torch.nn.ConvTranspose2d(1, 1, (1, 3), stride=(1, 2), padding=(0, padding),
                                     output_padding=(0, output_padding), bias=False)
        t.weight.copy_(torch.from_numpy(_TAPS.reshape(1, 1, 1, 3)))
        out[name] = _row(t(_nchw(torch, _ROW)))
    return {"tf": _row(k(_ROW)), "torch": out}


ENTRIES.add(KnownDifference(
    id="conv-transpose-same-output-size",
    area="layouts",
    title="Conv2DTranspose 'same' stride 2: Keras crops the odd row at the END; torch's padding/output_padding "
          "recipe shifts it",
    tf="Conv2DTranspose(k=3, strides=2, padding='same') on 3 pixels gives 3*2 = 6: the full transposed output "
       "(7 long) minus its LAST element ((k-s)//2 = 0 cropped before, the rest after, as TF's conv pads).",
    torch="ConvTranspose2d gives (n-1)*s + k - 2*padding + output_padding, cropping `padding` at both ends: the "
          "common padding=(k-1)//2=1, output_padding=1 also gives 6, but drops the FIRST element (shifted by one); "
          "padding=0 gives all 7.",
    witness=_transpose_same,
    expected={"tf": [1.0, 10.0, 102.0, 20.0, 203.0, 30.0],
              "torch": {"padding=1, output_padding=1": [10.0, 102.0, 20.0, 203.0, 30.0, 300.0],
                        "padding=0": [1.0, 10.0, 102.0, 20.0, 203.0, 30.0, 300.0]}},
    snippet_tf="keras.layers.Conv2DTranspose(1, 3, strides=2, padding='same')",
    snippet_torch="torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)",
    evidence="keras/src/ops/operation_utils.py compute_conv_transpose_output_shape; tf.nn.conv_transpose "
             "(gradient of a SAME conv); torch.nn.ConvTranspose2d docs (output size formula)",
    mapping="padding p = max(k-s, 0)//2, output_padding = s - k + 2p; where that is -1 ('same', k - s odd), "
            "padding p and drop the last row/column (layer_kinds.geometry.transpose_torch)",
    applies_to=("layer:conv2d_transpose",),
    gotcha=True,
))


@no_grad
def _transpose_layout() -> dict:
    torch, keras = frameworks()
    k = keras.layers.Conv2DTranspose(3, (2, 1), use_bias=False)  # 2 input channels
    k.build((1, 1, 1, 2))
    kernel = np.zeros((2, 1, 3, 2), np.float32)
    kernel[:, 0, 0, 0] = [1.0, 2.0]  # taps of input channel 0 -> output channel 0, rows 0 and 1
    k.kernel.assign(kernel)
    t = torch.nn.ConvTranspose2d(2, 3, (2, 1), bias=False)
    t.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
    x = np.array([[[[1.0, 0.0]]]], np.float32)  # one pixel, channel 0 set
    return {"tf": {"kernel": list(k.kernel.shape), "output": _row(k(x)[0, :, 0, 0])},
            "torch": {"weight": list(t.weight.shape), "output": _row(t(_nchw(torch, x))[0, 0, :, 0])}}


ENTRIES.add(KnownDifference(
    id="conv-transpose-kernel-layout",
    area="layouts",
    title="Transposed-conv kernels: Keras (kh, kw, out, in), torch (in, out, kh, kw); neither flips the taps",
    tf="Conv2DTranspose(3, (2, 1)) on 2 channels: kernel (2, 1, 3, 2), out before in (Conv2D's is (kh, kw, in, "
       "out)); a pixel scatters tap a to output row a.",
    torch="ConvTranspose2d(2, 3, (2, 1)).weight is (2, 3, 2, 1), in before out (Conv2d's is (out, in, kh, kw)); "
          "the same taps land on the same rows.",
    witness=_transpose_layout,
    expected={"tf": {"kernel": [2, 1, 3, 2], "output": [1.0, 2.0]},
              "torch": {"weight": [2, 3, 2, 1], "output": [1.0, 2.0]}},
    snippet_tf="keras.layers.Conv2DTranspose(3, (2, 1)).kernel.shape",
    snippet_torch="torch.nn.ConvTranspose2d(2, 3, (2, 1)).weight.shape",
    evidence="Keras Conv2DTranspose (kernel_shape = kernel_size + (filters, input_channel)); torch ConvTranspose2d "
             "docs (weight: in_channels, out_channels/groups, kH, kW)",
    mapping="kernel.transpose(3, 2, 0, 1)",
    applies_to=("layer:conv2d_transpose",),
))


# ------------------------------------------------------------------------------------------ depthwise convolution
@no_grad
def _depthwise_layout() -> dict:
    torch, keras = frameworks()
    x = np.array([1.0, 10.0, 100.0], np.float32).reshape(1, 1, 1, 3)  # C = 3
    k = keras.layers.DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    k.build(x.shape)
    kernel = np.tile(np.array([1.0, 2.0], np.float32), (1, 1, 3, 1))  # (1, 1, C, m): multiplier j scales by j + 1
    k.kernel.assign(kernel)
    t = torch.nn.Conv2d(3, 6, 1, groups=3, bias=False)
    t.weight.copy_(torch.from_numpy(kernel.reshape(1, 1, 1, 6).transpose(3, 2, 0, 1).copy()))
    return {"tf": {"kernel": list(k.kernel.shape), "channels": _row(k(x))},
            "torch": {"weight": list(t.weight.shape), "channels": _row(t(_nchw(torch, x)))}}


ENTRIES.add(KnownDifference(
    id="depthwise-kernel-layout",
    area="layouts",
    title="Depthwise kernels: Keras (kh, kw, C, m), torch (C*m, 1, kh, kw); both order outputs c*m + j",
    tf="DepthwiseConv2D(1, depth_multiplier=2) on C=3: kernel (1, 1, 3, 2); output channel c*m + j is input c "
       "through kernel[..., c, j].",
    torch="Conv2d(3, 6, 1, groups=3).weight is (6, 1, 1, 1); group c makes output channels c*m .. c*m + m - 1, "
          "so the same c*m + j order.",
    witness=_depthwise_layout,
    expected={"tf": {"kernel": [1, 1, 3, 2], "channels": [1.0, 2.0, 10.0, 20.0, 100.0, 200.0]},
              "torch": {"weight": [6, 1, 1, 1], "channels": [1.0, 2.0, 10.0, 20.0, 100.0, 200.0]}},
    snippet_tf="keras.layers.DepthwiseConv2D(k, depth_multiplier=m)",
    snippet_torch="torch.nn.Conv2d(C, C * m, k, groups=C)",
    evidence="Keras DepthwiseConv2D docs (depthwise_kernel shape); torch Conv2d docs (groups, weight shape)",
    mapping="kernel.reshape(kh, kw, 1, C*m).transpose(3, 2, 0, 1) (layer_kinds.mapping.Depthwise)",
    applies_to=("layer:depthwise_conv2d", "layer:separable_conv2d"),
))


_RECT = np.arange(1, 13, dtype=np.float32).reshape(1, 2, 6, 1)  # NHWC, one channel: each window's sum names it


@no_grad
def _depthwise_unequal_strides() -> dict:
    """A (1, 3) depthwise kernel of ones with strides (1, 2), 'same' (TF pads 0 left and 1 right here): Keras'
    DepthwiseConv2D and torch's grouped conv2d after the same F.pad."""
    torch, keras = frameworks()
    k = keras.layers.DepthwiseConv2D((1, 3), strides=(1, 2), padding="same", use_bias=False)
    k.build(_RECT.shape)
    k.kernel.assign(np.ones((1, 3, 1, 1), np.float32))
    padded = torch.nn.functional.pad(_nchw(torch, _RECT), (0, 1))
    return {"tf": attempt(lambda: _row(k(_RECT))),
            "torch": attempt(lambda: _row(torch.nn.functional.conv2d(padded, torch.ones(1, 1, 1, 3), stride=(1, 2),
                                                                      groups=1)))}


_RECT_SUMS = [6.0, 12.0, 11.0, 24.0, 30.0, 23.0]

ENTRIES.add(KnownDifference(
    id="tf-depthwise-unequal-strides",
    area="layer-defaults",
    title="TF's CPU depthwise convolution runs unequal strides (1, 2) only with oneDNN on; torch's grouped conv2d "
          "runs them everywhere",
    tf="keras.layers.DepthwiseConv2D(strides=(1, 2)) calls tf.nn.depthwise_conv2d -> DepthwiseConv2dNative. "
       "With oneDNN on (AVX-512-class CPUs by default) it computes; with oneDNN off (AVX2 CPUs, "
       "TF_ENABLE_ONEDNN_OPTS=0) Eigen's kernel raises InvalidArgumentError 'Current implementation only supports "
       "equal length strides in the row and column dimensions'.",
    torch="torch.nn.Conv2d(C, C*m, k, stride=(1, 2), groups=C) computes on every CPU.",
    witness=_depthwise_unequal_strides,
    expected={"tf": ByPlatform("tf_onednn", {True: _RECT_SUMS, False: "raises InvalidArgumentError"}),
              "torch": _RECT_SUMS},
    snippet_tf="keras.layers.DepthwiseConv2D((1, 3), strides=(1, 2), padding='same')(x)  # oneDNN off: raises",
    snippet_torch="F.conv2d(F.pad(x, (0, 1)), w, stride=(1, 2), groups=C)",
    evidence="tensorflow/core/kernels/depthwise_conv_op.cc (the equal-strides check); found by the thorough "
             "profile under TF_ENABLE_ONEDNN_OPTS=0 (tests/test_spatial_layers.py depthwise_conv2d-no_bias_rect)",
    mapping="use equal strides (the spec's depthwise_conv2d and separable_conv2d reject unequal ones, so a spec "
            "runs on every platform)",
    applies_to=("layer:depthwise_conv2d", "layer:separable_conv2d"),
))


# ------------------------------------------------------------------------------------------ group normalisation
@no_grad
def _group_norm_defaults() -> dict:
    torch, keras = frameworks()
    x = np.array([[1.0, -1.0, 3.0, 5.0]], np.float32)  # contiguous groups: [1, -1] and [3, 5], each variance 1
    kg = keras.layers.GroupNormalization(groups=2)
    tg = torch.nn.GroupNorm(2, 4)
    try:
        torch.nn.GroupNorm(num_channels=4)
        no_groups = "accepted"
    except TypeError as exc:
        no_groups = type(exc).__name__
    return {"tf": {"groups": keras.layers.GroupNormalization().groups, "epsilon": kg.epsilon,
                   "output": [round(v, 7) for v in _row(kg(x))]},
            "torch": {"groups": no_groups, "eps": tg.eps,
                      "output": [round(v, 7) for v in _row(tg(torch.from_numpy(x)))]}}


ENTRIES.add(KnownDifference(
    id="group-norm-epsilon-default",
    area="layer-defaults",
    title="GroupNorm defaults differ: Keras epsilon 1e-3 and groups=32, torch eps 1e-5 and no default groups",
    tf="GroupNormalization(groups=2): epsilon=1e-3, channels [1, -1 | 3, 5] -> +-1/sqrt(1.001) = 0.9995004; "
       "groups defaults to 32.",
    torch="GroupNorm(2, 4): eps=1e-5 -> +-0.999995; num_groups is required (TypeError without it). Both put "
          "channel c in group c // (C/groups) (contiguous blocks).",
    witness=_group_norm_defaults,
    expected={"tf": {"groups": 32, "epsilon": 1e-3, "output": [0.9995004, -0.9995004, -0.9995004, 0.9995004]},
              "torch": {"groups": "TypeError", "eps": 1e-5, "output": [0.999995, -0.999995, -0.999995, 0.999995]}},
    snippet_tf="keras.layers.GroupNormalization(groups=2)",
    snippet_torch="torch.nn.GroupNorm(2, 4)",
    evidence="Keras GroupNormalization and torch.nn.GroupNorm API docs (default arguments)",
    mapping="pass groups and epsilon explicitly",
    applies_to=("layer:group_norm",),
    atol=1e-6,  # the outputs are float32 1/sqrt(1 + eps), within 1 ulp of the rounded values
))


# ------------------------------------------------------------------------------------------ resizing
_FIVE = np.arange(1.0, 6.0, dtype=np.float32).reshape(1, 1, 5, 1)  # one row 1..5, resized to width 3


@no_grad
def _resize_nearest() -> dict:
    torch, keras = frameworks()
    F = torch.nn.functional
    k = keras.layers.Resizing(1, 3, interpolation="nearest")
    return {"tf": _row(k(_FIVE)),
            "torch": {mode: _row(F.interpolate(_nchw(torch, _FIVE), size=(1, 3), mode=mode))
                      for mode in ("nearest", "nearest-exact")}}


ENTRIES.add(KnownDifference(
    id="resize-nearest-coordinates",
    area="op-semantics",
    title="Nearest resize: Keras samples pixel centres (floor((d + 1/2)*in/out)); torch's 'nearest' floor(d*in/out)",
    tf="Resizing(1, 3, interpolation='nearest') of [1..5]: sources floor((d + 0.5)*5/3) = 0, 2, 4 -> [1, 3, 5] "
       "(tf.image.resize, half_pixel_centers).",
    torch="F.interpolate(mode='nearest') (also nn.Upsample's default) uses floor(d*5/3) = 0, 1, 3 -> [1, 2, 4], a "
          "legacy rule; mode='nearest-exact' is Keras' rule. Integer upsampling factors agree under both.",
    witness=_resize_nearest,
    expected={"tf": [1.0, 3.0, 5.0], "torch": {"nearest": [1.0, 2.0, 4.0], "nearest-exact": [1.0, 3.0, 5.0]}},
    snippet_tf="keras.layers.Resizing(1, 3, interpolation='nearest')(x)",
    snippet_torch="torch.nn.functional.interpolate(x, size=(1, 3), mode='nearest')",
    evidence="torch.nn.functional.interpolate docs ('nearest-exact' matches Scikit-Image and PIL; 'nearest' is "
             "buggy); tf.image.resize docs (NEAREST_NEIGHBOR, half-pixel centres)",
    mapping="mode='nearest-exact'",
    applies_to=("layer:resizing",),
))


@no_grad
def _resize_bilinear() -> dict:
    torch, keras = frameworks()
    F = torch.nn.functional
    k = keras.layers.Resizing(1, 3, interpolation="bilinear")
    return {"tf": _row(k(_FIVE)),
            "torch": {f"align_corners={a}": _row(F.interpolate(_nchw(torch, _FIVE), size=(1, 3), mode="bilinear",
                                                                 align_corners=a)) for a in (False, True)}}


ENTRIES.add(KnownDifference(
    id="resize-bilinear-align-corners",
    area="op-semantics",
    title="Bilinear resize: Keras is half-pixel (torch align_corners=False); torch's align_corners=True has no "
          "Keras form",
    tf="Resizing(1, 3) of [1..5]: sources (d + 0.5)*5/3 - 0.5 = 0.33, 2, 3.67 -> [1.333, 3, 4.667]; Keras has no "
       "align_corners option.",
    torch="F.interpolate(mode='bilinear', align_corners=False) gives the same; align_corners=True maps corner to "
          "corner, d*(in-1)/(out-1) = 0, 2, 4 -> [1, 3, 5].",
    witness=_resize_bilinear,
    expected={"tf": [1.3333334, 3.0, 4.6666665],
              "torch": {"align_corners=False": [1.3333334, 3.0, 4.6666665], "align_corners=True": [1.0, 3.0, 5.0]}},
    snippet_tf="keras.layers.Resizing(1, 3)(x)",
    snippet_torch="torch.nn.functional.interpolate(x, size=(1, 3), mode='bilinear', align_corners=True)",
    evidence="torch.nn.functional.interpolate docs (align_corners); tf.image.resize docs (half_pixel_centers); "
             "tf.compat.v1.image.resize_bilinear(align_corners=True) is TF 1's corner rule",
    mapping="align_corners=False",
    applies_to=("layer:resizing", "layer:upsampling2d"),
    atol=1e-6,  # float32 lerps: the observed values are within 1 ulp of these
))


_EIGHT = np.arange(8.0, dtype=np.float32).reshape(1, 1, 8, 1)  # 8 -> 4: a 2x downsample


@no_grad
def _resize_defaults() -> dict:
    torch, keras = frameworks()
    F = torch.nn.functional
    x = _nchw(torch, _EIGHT)
    return {"tf": {"default": _row(keras.layers.Resizing(1, 4)(_EIGHT)),
                   "antialias=True": _row(keras.layers.Resizing(1, 4, antialias=True)(_EIGHT))},
            "torch": {"default": _row(F.interpolate(x, size=(1, 4))),
                      "mode='bilinear'": _row(F.interpolate(x, size=(1, 4), mode="bilinear")),
                      "mode='bilinear', antialias=True": _row(F.interpolate(x, size=(1, 4), mode="bilinear",
                                                                             antialias=True))}}


ENTRIES.add(KnownDifference(
    id="resize-default-mode",
    area="layer-defaults",
    title="Resize defaults: Keras Resizing is bilinear, F.interpolate nearest; neither antialiases by default",
    tf="Resizing(1, 4) of 0..7: bilinear, antialias=False -> [0.5, 2.5, 4.5, 6.5]; antialias=True widens the "
       "kernel on downsampling -> [0.714, 2.5, 4.5, 6.286].",
    torch="F.interpolate(size=(1, 4)) is nearest (legacy) -> [0, 2, 4, 6]; mode='bilinear' (align_corners=False, "
          "antialias=False) gives Keras' default, antialias=True Keras' antialiased values.",
    witness=_resize_defaults,
    expected={"tf": {"default": [0.5, 2.5, 4.5, 6.5], "antialias=True": [0.71428573, 2.5, 4.5, 6.2857143]},
              "torch": {"default": [0.0, 2.0, 4.0, 6.0], "mode='bilinear'": [0.5, 2.5, 4.5, 6.5],
                        "mode='bilinear', antialias=True": [0.71428573, 2.5, 4.5, 6.2857143]}},
    snippet_tf="keras.layers.Resizing(1, 4)(x)",
    snippet_torch="torch.nn.functional.interpolate(x, size=(1, 4))",
    evidence="Keras Resizing docs (interpolation='bilinear', antialias=False); torch.nn.functional.interpolate "
             "docs (mode='nearest', antialias=False)",
    mapping="pass interpolation explicitly: mode='bilinear', align_corners=False, antialias=False",
    applies_to=("layer:resizing",),
    atol=1e-6,  # antialiased float32 weights: 44/7 = 6.2857143 observed as 6.2857151 (TF), 6.2857146 (torch)
))


# ------------------------------------------------------------------------------------------ padding
@no_grad
def _pad_order() -> dict:
    torch, keras = frameworks()
    F = torch.nn.functional
    one = np.ones((1, 1, 1, 1), np.float32)
    widths = ((1, 0), (0, 2))  # Keras: 1 row on top, 2 columns on the right
    y = keras.layers.ZeroPadding2D(widths)(one).numpy()[0, :, :, 0]
    naive = F.pad(_nchw(torch, one), (1, 0, 0, 2))[0, 0]  # the same numbers in Keras' order
    mapped = torch.nn.ZeroPad2d((0, 2, 1, 0))(_nchw(torch, one))[0, 0]  # (left, right, top, bottom)
    where = lambda a: [int(i) for i in np.argwhere(np.asarray(a) == 1)[0]]  # noqa: E731
    return {"tf": {"shape": list(y.shape), "one_at": where(y)},
            "torch": {"F.pad((1, 0, 0, 2))": {"shape": list(naive.shape), "one_at": where(naive)},
                      "ZeroPad2d((0, 2, 1, 0))": {"shape": list(mapped.shape), "one_at": where(mapped)}}}


ENTRIES.add(KnownDifference(
    id="pad-argument-order",
    area="layouts",
    title="Padding widths: Keras lists the first spatial axis first, F.pad the LAST dim first",
    tf="ZeroPadding2D(((1, 0), (0, 2))): (top, bottom) then (left, right) -> a 1x1 map becomes 2x3, the pixel "
       "at (1, 0).",
    torch="F.pad(x, (1, 0, 0, 2)) reads (left, right, top, bottom): the same numbers pad 1 column on the left and "
          "2 rows at the bottom -> 3x2, pixel at (0, 1); nn.ZeroPad2d((0, 2, 1, 0)) is Keras' padding.",
    witness=_pad_order,
    expected={"tf": {"shape": [2, 3], "one_at": [1, 0]},
              "torch": {"F.pad((1, 0, 0, 2))": {"shape": [3, 2], "one_at": [0, 1]},
                        "ZeroPad2d((0, 2, 1, 0))": {"shape": [2, 3], "one_at": [1, 0]}}},
    snippet_tf="keras.layers.ZeroPadding2D(((top, bottom), (left, right)))",
    snippet_torch="torch.nn.functional.pad(x, (left, right, top, bottom))",
    evidence="torch.nn.functional.pad docs (padding starts from the last dimension); Keras ZeroPadding2D docs",
    mapping="(left, right, top, bottom) = (*widths[1], *widths[0]) (layer_kinds.padding.f_pad_order)",
    applies_to=("layer:zero_padding2d",),
    gotcha=True,
))
