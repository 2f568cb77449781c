"""LAYER_DB: one LayerInfo per neutral layer kind, each with the small models that exercise its variants.

Shapes are chosen so every mapping hazard shows: odd spatial sizes under stride-2 'same' (TF's asymmetric pad),
even kernels, groups, dilation, Flatten of a conv map into a Dense (the NHWC/NCHW permutation), rank-3 and
rank-4 normalisation, and recurrent layers with and without sequences.
"""
from __future__ import annotations

from ..registry import Registry
from ..spec import ACTIVATIONS, layer
from .layerinfo import LayerInfo, case, single

_CONV = dict(filters=4, kernel_size=3)
_IMG = (7, 7, 3)  # odd: stride-2 'same' pads one pixel more after than before

LAYER_DB: Registry[LayerInfo] = Registry(LayerInfo.REGISTRY, [
    LayerInfo("dense", (
        single("dense", "relu", (8,), units=5, activation="relu"),
        single("dense", "no_bias", (8,), units=5, use_bias=False),
        single("dense", "rank3", (3, 6), units=4, activation="tanh"),
    )),
    LayerInfo("conv1d", (
        single("conv1d", "valid", (9, 3), filters=4, kernel_size=3),
        single("conv1d", "same_stride2", (9, 3), filters=4, kernel_size=4, strides=2, padding="same"),
        single("conv1d", "dilation2_same", (9, 4), filters=4, kernel_size=3, dilation=2, padding="same"),
        single("conv1d", "groups2", (9, 4), filters=6, kernel_size=3, groups=2, activation="relu"),
        # softmax runs over channels: after the NCL -> NLC permute (hypothesis found it applied over L).
        single("conv1d", "softmax", (5, 3), filters=4, kernel_size=1, activation="softmax"),
    )),
    LayerInfo("conv2d", (
        single("conv2d", "valid", _IMG, **_CONV),
        single("conv2d", "same", _IMG, **_CONV, padding="same", activation="relu"),
        single("conv2d", "same_stride2", _IMG, **_CONV, strides=2, padding="same"),
        single("conv2d", "same_even_kernel", (6, 6, 3), filters=4, kernel_size=2, padding="same"),
        single("conv2d", "valid_stride2", _IMG, **_CONV, strides=2),
        single("conv2d", "rect_kernel_stride", (8, 7, 2), filters=3, kernel_size=(3, 1), strides=(2, 1),
               padding="same"),
        single("conv2d", "dilation2_same", _IMG, **_CONV, dilation=2, padding="same"),
        single("conv2d", "groups2", (6, 6, 4), filters=6, kernel_size=3, groups=2),
        single("conv2d", "depthwise", (6, 6, 4), filters=4, kernel_size=3, groups=4, padding="same"),
        single("conv2d", "no_bias", _IMG, **_CONV, use_bias=False),
    )),
    LayerInfo("max_pool2d", (
        single("max_pool2d", "valid", _IMG, pool_size=2),
        single("max_pool2d", "same_stride2", _IMG, pool_size=2, padding="same"),
        single("max_pool2d", "same_k3_stride1", (5, 5, 2), pool_size=3, strides=1, padding="same"),
        single("max_pool2d", "overlap_valid", _IMG, pool_size=3, strides=2),
    )),
    LayerInfo("avg_pool2d", (
        single("avg_pool2d", "valid", _IMG, pool_size=2),
        single("avg_pool2d", "same_stride2", _IMG, pool_size=2, padding="same"),
        single("avg_pool2d", "same_k3_stride1", (5, 5, 2), pool_size=3, strides=1, padding="same"),
    )),
    LayerInfo("global_avg_pool2d", (
        single("global_avg_pool2d", "basic", (5, 4, 3)),
    )),
    LayerInfo("flatten", (
        case("flatten", "conv_dense", (5, 5, 2), layer("conv2d", filters=3, kernel_size=2), layer("flatten"),
             layer("dense", units=4)),
        case("flatten", "dropout_between", (4, 4, 3), layer("flatten"), layer("dropout", rate=0.0),
             layer("dense", units=4)),
        case("flatten", "into_layer_norm", (3, 4, 2), layer("flatten"), layer("layer_norm")),
        case("flatten", "output", (3, 4, 2), layer("flatten")),
        case("flatten", "rank3", (4, 3), layer("flatten"), layer("dense", units=2)),
    )),
    LayerInfo("batch_norm", (
        single("batch_norm", "rank2", (6,)),
        single("batch_norm", "rank4", (4, 4, 3), momentum=0.9, epsilon=1e-5),
        single("batch_norm", "rank3", (5, 3)),
    )),
    LayerInfo("layer_norm", (
        single("layer_norm", "rank2", (6,)),
        single("layer_norm", "rank3", (4, 5), epsilon=1e-5),
        single("layer_norm", "rank4_channels", (3, 3, 4)),
        # One feature: var = 0, so Keras' x*inv + (beta - mean*inv) cancels terms ~|x|/sqrt(eps) (found by hypothesis).
        case("layer_norm", "one_feature", (4,), layer("dense", units=1), layer("layer_norm", epsilon=1e-5)),
        # ELU's ~u*alpha error near 0-, amplified ~200x by the normalisation of tiny values (found by hypothesis).
        case("layer_norm", "after_elu_tiny", (1,), layer("dense", units=3, activation="elu", use_bias=False),
             layer("layer_norm", epsilon=1e-5), input_scale=1e-2),
    )),
    LayerInfo("dropout", (
        case("dropout", "rate0_5", (8,), layer("dropout", rate=0.5), training=False),
        single("dropout", "rate0", (8,), rate=0.0),
    )),
    LayerInfo("embedding", (
        case("embedding", "basic", (5,), layer("embedding", input_dim=11, output_dim=4), input_dtype="int32"),
    )),
    LayerInfo("lstm", (
        single("lstm", "last", (5, 3), units=4),
        single("lstm", "sequences", (5, 3), units=4, return_sequences=True),
    )),
    LayerInfo("gru", (
        single("gru", "last", (5, 3), units=4),
        single("gru", "sequences", (5, 3), units=4, return_sequences=True),
    )),
    LayerInfo("activation", tuple(
        single("activation", fn, (3, 3, 4), fn=fn) for fn in ACTIVATIONS if fn != "linear"
    ) + (
        single("activation", "leaky_relu_slope0_3", (6,), fn="leaky_relu", negative_slope=0.3),
        single("activation", "elu_alpha0_5", (6,), fn="elu", alpha=0.5),
        single("activation", "softmax_rank2", (6,), fn="softmax"),
        # Inputs ~1e-3: TF's alpha*(exp(x) - 1) loses relative accuracy near 0- (found by hypothesis).
        case("activation", "elu_near_zero", (8,), layer("activation", fn="elu"), input_scale=1e-3),
        case("activation", "selu_near_zero", (8,), layer("activation", fn="selu"), input_scale=1e-3),
    )),
    LayerInfo("add", (
        case("add", "residual_conv", (5, 5, 3), layer("conv2d", name="c1", filters=3, kernel_size=3, padding="same",
                                                     activation="relu"),
             layer("add", name="res", inputs=("input", "c1"))),
        case("add", "residual_dense", (6,), layer("dense", name="d1", units=6, activation="tanh"),
             layer("add", name="res", inputs=("input", "d1")), layer("dense", units=3)),
    )),
    LayerInfo("concat", (
        case("concat", "channels", (4, 4, 2), layer("conv2d", name="a", filters=3, kernel_size=1),
             layer("conv2d", name="b", filters=2, kernel_size=3, padding="same", inputs=("input",)),
             layer("concat", name="cat", inputs=("a", "b")), layer("flatten"), layer("dense", units=3)),
        case("concat", "flattened", (3, 3, 2), layer("flatten", name="f"), layer("dense", name="d", units=4, inputs=("f",)),
             layer("concat", name="cat", inputs=("f", "d"))),
    )),
    LayerInfo("prelu", (
        single("prelu", "rank2", (6,)),
        single("prelu", "rank4_channels", (3, 3, 4)),  # NCHW: torch's alphas run along dim 1 = C
        single("prelu", "rank3_channels", (5, 3)),  # (N, L, C): permuted to (N, C, L) around torch's PReLU
        single("prelu", "one_alpha", (3, 3, 4), per_channel=False),
        # torch's Flatten gives (c, h, w) order; per-channel alphas need the canonical order back
        case("prelu", "after_flatten", (2, 3, 2), layer("flatten"), layer("prelu"), layer("dense", units=3)),
    )),
])

CASES = [c for info in LAYER_DB for c in info.cases]
