"""LAYER_DB: one LayerInfo per neutral layer kind, each with the small models that exercise its variants.

Shapes are chosen so every mapping hazard shows: odd spatial sizes under stride-2 'same' (TF's asymmetric pad),
even kernels, groups, dilation, Flatten of a conv map into a Dense (the NHWC/NCHW permutation), rank-3 and
rank-4 normalisation, and recurrent layers with and without sequences.
"""
from __future__ import annotations

from ..registry import Registry
from ..spec import ACTIVATIONS, layer
from .layerinfo import LayerInfo, case, single
from ..layer_kinds.sequence import bilstm_text_classifier

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
        # right-padded ids, masked (sequence.py): Keras repeats the last valid output at the padded steps
        case("lstm", "masked_sequences", (5,), layer("embedding", input_dim=9, output_dim=3, mask_zero=True),
             layer("lstm", units=3, return_sequences=True), input_dtype="int32"),
    )),
    LayerInfo("gru", (
        single("gru", "last", (5, 3), units=4),
        single("gru", "sequences", (5, 3), units=4, return_sequences=True),
        case("gru", "masked_last", (5,), layer("embedding", input_dim=9, output_dim=3, mask_zero=True),
             layer("gru", units=3), input_dtype="int32"),
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
    # Bidirectional (layer_kinds/sequence.py): torch's (N, T, 2u) is 'concat', the other merges applied on it; the
    # last state is each direction's final one (h_n); masked: the backward direction starts at the last valid id.
    LayerInfo("bidirectional", (
        single("bidirectional", "gru_ave_last", (5, 3), layer="gru", units=3, merge_mode="ave"),
        case("bidirectional", "lstm_mul_masked", (5,), layer("embedding", input_dim=9, output_dim=3, mask_zero=True),
             layer("bidirectional", layer="lstm", units=2, return_sequences=True, merge_mode="mul"),
             input_dtype="int32"),
        case("bidirectional", "text_classifier", bilstm_text_classifier().input_shape,
             *bilstm_text_classifier().layers, input_dtype="int32"),
    )),
    LayerInfo("global_avg_pool1d", (
        single("global_avg_pool1d", "basic", (5, 3)),
        case("global_avg_pool1d", "masked", (5,), layer("embedding", input_dim=9, output_dim=3, mask_zero=True),
             layer("global_avg_pool1d"), input_dtype="int32"),
    )),
    # ViT tokens (layer_kinds/tokens.py): an odd, non-square map shows a wrong token order; a Dense after the
    # tokens checks the (N, L, C) layout; the class token and position embedding are nonzero weights.
    LayerInfo("to_tokens", (
        case("to_tokens", "rect_map", (3, 2, 4), layer("to_tokens"), layer("dense", units=3)),
        case("to_tokens", "after_conv", (5, 5, 2), layer("conv2d", filters=3, kernel_size=2, strides=2, padding="same"),
             layer("to_tokens"), layer("layer_norm")),
    )),
    LayerInfo("class_token", (
        single("class_token", "basic", (3, 4)),
        case("class_token", "patches", (4, 4, 2), layer("conv2d", filters=3, kernel_size=2, strides=2),
             layer("to_tokens"), layer("class_token"), layer("dense", units=2)),
    )),
    LayerInfo("position_embedding", (
        single("position_embedding", "basic", (3, 4)),
        case("position_embedding", "after_class_token", (3, 4), layer("class_token"), layer("position_embedding"),
             layer("layer_norm")),
    )),
    LayerInfo("take_token", (
        single("take_token", "first", (3, 4)),
        single("take_token", "last", (3, 4), index=-1),
        case("take_token", "class_token", (4, 4, 2), layer("conv2d", filters=3, kernel_size=2, strides=2),
             layer("to_tokens"), layer("class_token"), layer("position_embedding"), layer("take_token"),
             layer("dense", units=2)),
    )),
    # Attention (layer_kinds/attention.py): batch 4 (sample_input), seq 3-5, dim 8, heads 2. key_padding gives the
    # examples 0-3 of a batch 0-3 padded keys (mod S); cross-attention reads a query and a source of other length.
    LayerInfo("multi_head_attention", (
        single("multi_head_attention", "self", (4, 8), num_heads=2, key_dim=4),
        single("multi_head_attention", "causal_padding", (5, 8), num_heads=2, key_dim=4, causal=True,
               key_padding=True),
        case("multi_head_attention", "after_dense", (4, 3), layer("dense", units=8, activation="tanh"),
             layer("multi_head_attention", num_heads=4, key_dim=2, key_padding=True), layer("dense", units=2)),
    )),
    LayerInfo("cross_attention", (
        case("cross_attention", "padding_one_head_no_bias", (3, 8),
             layer("dense", name="src", units=8, activation="tanh"),
             layer("dense", name="q", units=8, inputs=("input",)),
             layer("cross_attention", inputs=("q", "src"), num_heads=1, key_dim=8, use_bias=False, key_padding=True)),
        # 4 queries over 5 keys (a class token prepended): the causal mask is top-left aligned on both sides
        case("cross_attention", "causal_rect", (4, 8), layer("dense", name="q", units=8),
             layer("class_token", name="src", inputs=("q",)),
             layer("cross_attention", inputs=("q", "src"), num_heads=2, key_dim=4, causal=True, key_padding=True)),
    )),
    LayerInfo("transformer_encoder", (
        single("transformer_encoder", "post_norm_relu", (4, 8), num_heads=2, key_dim=4, dim_feedforward=16),
        single("transformer_encoder", "pre_norm_gelu", (5, 8), num_heads=2, key_dim=4, dim_feedforward=16,
               activation="gelu", norm_first=True, epsilon=1e-3, causal=True, key_padding=True),
        case("transformer_encoder", "dropout0_1", (3, 8), layer("transformer_encoder", num_heads=2, key_dim=4,
                                                               dim_feedforward=16, dropout=0.1), training=False),
    )),
    # Spatial kinds (layer_kinds/transpose.py, depthwise.py, groupnorm.py, resize.py, padding.py, conv.py, pool.py):
    # 'same' stride 2 with odd and even kernels (torch padding/output_padding/crop), depthwise channel order c*m + j,
    # asymmetric pads, resize conventions without float32 ties (odd inputs), rank-5 volumes into a Flatten. More
    # variants (rank 2, instance norm, dilation, ...) run under the thorough profile: tests/test_spatial_layers.py.
    LayerInfo("conv2d_transpose", (
        single("conv2d_transpose", "same_stride2_k3", (5, 5, 2), filters=3, kernel_size=3, strides=2,
               padding="same"),  # k - s odd: torch crops the last row
        single("conv2d_transpose", "same_stride2_k4", (4, 4, 2), filters=2, kernel_size=4, strides=2,
               padding="same"),  # padding 1, output_padding 0
        single("conv2d_transpose", "valid_k1_stride2", (3, 3, 2), filters=2, kernel_size=1, strides=2),
        single("conv2d_transpose", "rect_no_bias", (4, 5, 2), filters=2, kernel_size=(2, 3), strides=(2, 1),
               padding="same", use_bias=False),
    )),
    LayerInfo("depthwise_conv2d", (
        single("depthwise_conv2d", "multiplier2_valid", (5, 5, 3), kernel_size=3, depth_multiplier=2),
        single("depthwise_conv2d", "same_stride2", (6, 6, 2), kernel_size=3, strides=2, padding="same",
               depth_multiplier=2),  # 6 -> 3: TF pads (0, 1)
    )),
    LayerInfo("separable_conv2d", (
        single("separable_conv2d", "same_stride2_m2", (6, 6, 2), filters=3, kernel_size=3, strides=2,
               padding="same", depth_multiplier=2, activation="relu"),
        single("separable_conv2d", "no_bias_even_kernel", (5, 5, 2), filters=2, kernel_size=2, padding="same",
               use_bias=False),
    )),
    LayerInfo("group_norm", (
        single("group_norm", "rank4", (3, 3, 6), groups=3),
        single("group_norm", "rank3", (5, 4), groups=2),  # (N, L, C): permuted to (N, C, L) for torch
    )),
    LayerInfo("upsampling2d", (
        single("upsampling2d", "nearest_rect", (2, 3, 2), size=(2, 3)),
        single("upsampling2d", "bilinear", (3, 4, 2), interpolation="bilinear"),
    )),
    LayerInfo("resizing", (
        single("resizing", "bilinear_down", (7, 6, 2), height=3, width=4),  # no antialias on either side
        single("resizing", "bilinear_up", (3, 4, 2), height=5, width=7),
        single("resizing", "nearest_down", (5, 7, 2), height=3, width=4, interpolation="nearest"),
    )),
    LayerInfo("zero_padding2d", (
        single("zero_padding2d", "asymmetric", (3, 4, 2), padding=((1, 0), (2, 1))),
    )),
    LayerInfo("cropping2d", (
        single("cropping2d", "asymmetric", (5, 6, 2), cropping=((1, 0), (2, 1))),
    )),
    LayerInfo("conv3d", (
        single("conv3d", "same_stride2", (5, 4, 3, 2), filters=2, kernel_size=3, strides=2, padding="same"),
        single("conv3d", "groups2_rect", (3, 3, 3, 4), filters=4, kernel_size=(1, 2, 3), groups=2,
               activation="softmax"),  # softmax over the channels: last, after the NCDHW -> NDHWC permute
    )),
    LayerInfo("max_pool3d", (
        single("max_pool3d", "same_stride2", (5, 3, 4, 2), padding="same"),  # 5 and 3: pad (0, 1)
        # rank-5 maps stay NDHWC in the torch model: its Flatten is in canonical order
        case("max_pool3d", "flatten_dense", (4, 4, 4, 2), layer("conv3d", filters=2, kernel_size=2),
             layer("max_pool3d"), layer("flatten"), layer("dense", units=3)),
    )),
])

CASES = [c for info in LAYER_DB for c in info.cases]
