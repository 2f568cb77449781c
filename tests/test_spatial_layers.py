"""What is particular to the spatial kinds (conv2d_transpose, depthwise_conv2d, separable_conv2d, group_norm,
upsampling2d, resizing, zero_padding2d, cropping2d, conv3d, max_pool3d): the torch rules that reproduce Keras'
geometry, the weight layouts, the resize coordinate conventions of the float64 reference, and the rejected specs.
Their LAYER_DB cases run in tests/test_layers.py; the `thorough` profile adds the variants below (EXTRA_CASES)
and a Keras sweep of transposed-conv geometries. The random `cnn` family draws the 2-D kinds, `cnn3d` the rank-5
ones (tests/test_layers.py::test_model_forward_matches_random_spec).
"""
import numpy as np
import pytest
from hypothesis import settings

from equivalence import assert_close, runtime
from equivalence.catalog.layerinfo import case, single
from equivalence.checks import check_layer
from equivalence.error_bounds import ElementBound
from equivalence.layer_kinds.geometry import transpose_out, transpose_torch
from equivalence.layer_kinds.padding import f_pad_order, widths
from equivalence.layer_kinds.resize import no_tie, resize, resize_bound
from equivalence.layer_kinds.transpose import conv2d_transpose
from equivalence.spec import LayerSpec, ModelSpec, SpecError, layer
from equivalence.tolerances import tolerance
from equivalence.weights import flatten_origin, init_weights, to_torch
from equivalence.sides import side

TORCH = side("torch-cpu")  # its to_layout/from_layout: NHWC <-> NCHW, the one place that layout code lives

pytestmark = pytest.mark.layers
THOROUGH = settings.get_current_profile_name().startswith("thorough")
GEOMETRIES = [(k, s, p) for k in range(1, 6) for s in (1, 2, 3) for p in ("same", "valid")]


def _geometry_id(g):
    return f"k{g[0]}-s{g[1]}-{g[2]}"


# ------------------------------------------------------------------------------------------ conv2d_transpose
@pytest.mark.parametrize("k,s,padding", [pytest.param(*g, id=_geometry_id(g)) for g in GEOMETRIES])
def test_conv_transpose_torch_rule_reproduces_keras_geometry(k, s, padding):
    """torch ConvTranspose2d with transpose_torch's (padding, output_padding) and its end crop gives Keras' output
    length n*s ('same') or n*s + max(k - s, 0) ('valid') and the float64 reference's values (which crop
    (k - s)//2 rows before, the rest after)."""
    torch = runtime.torch()
    p, op, crop = transpose_torch(k, s, padding)
    rng = np.random.default_rng(k * 10 + s)
    x, kernel = rng.standard_normal((1, 4, 3, 2)), rng.standard_normal((k, k, 3, 2))
    t = torch.nn.ConvTranspose2d(2, 3, k, stride=s, padding=p, output_padding=op, bias=False).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
        y = TORCH.from_layout(t(torch.from_numpy(TORCH.to_layout(x))).numpy())
    y = y[:, :y.shape[1] - crop, :y.shape[2] - crop]
    assert y.shape[1:3] == (transpose_out(4, k, s, padding), transpose_out(3, k, s, padding))
    ref = conv2d_transpose(x, kernel, None, strides=(s, s), padding=padding)
    # float64 on both sides: at most ceil(k/s)^2 * 2 = 18 terms per output, each |term| <~ 10
    assert_close(y, ref, tolerance("float64", depth=18, scale=float(np.abs(ref).max() + 1)),
                 what=f"ConvTranspose2d k={k} s={s} {padding}", label_a="torch64", label_b="ref64")


def test_conv_transpose_same_needs_a_crop_where_k_minus_s_is_odd():
    """The exact rule: 'same' k=3 s=2 is padding 0 and a crop of the last row (output_padding would be -1); k=4 is
    padding 1; k=1 (k < s) output_padding 1; 'valid' never crops."""
    assert transpose_torch(3, 2, "same") == (0, 0, 1)
    assert transpose_torch(5, 2, "same") == (1, 0, 1)
    assert transpose_torch(4, 2, "same") == (1, 0, 0)
    assert transpose_torch(1, 2, "same") == (0, 1, 0)
    assert {transpose_torch(k, s, "valid")[2] for k in range(1, 6) for s in (1, 2, 3)} == {0}


@pytest.mark.skipif(not THOROUGH, reason="Keras sweep of every geometry: thorough profile only")
@pytest.mark.parametrize("k,s,padding", [pytest.param(*g, id=_geometry_id(g)) for g in GEOMETRIES])
def test_conv_transpose_keras_sweep(k, s, padding):
    """Every (kernel, stride, padding) of GEOMETRIES agrees across Keras, torch and float64 as a LAYER_DB case."""
    check_layer(single("conv2d_transpose", f"k{k}_s{s}_{padding}", (4, 3, 2), filters=2, kernel_size=k, strides=s,
                       padding=padding))


def test_conv_transpose_kernel_is_in_out_kh_kw_in_torch():
    """Keras' (kh, kw, out, in) kernel becomes torch's (in, out, kh, kw) weight, element for element."""
    spec = ModelSpec("m", (4, 4, 2), (layer("conv2d_transpose", filters=3, kernel_size=(2, 3)),))
    kernel = init_weights(spec, 0)["conv2d_transpose_0"]["kernel"]
    weight = to_torch(spec, init_weights(spec, 0))["conv2d_transpose_0"]["weight"]
    assert kernel.shape == (2, 3, 3, 2) and weight.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(weight[1, 2, 0, 1], kernel[0, 1, 2, 1])
    np.testing.assert_array_equal(weight, kernel.transpose(3, 2, 0, 1))


# ------------------------------------------------------------------------------------------ depthwise / separable
def test_depthwise_kernel_maps_channel_c_multiplier_j_to_c_times_m_plus_j():
    """Keras' (kh, kw, C, m) depthwise kernel is torch's (C*m, 1, kh, kw) with output channel c*m + j."""
    spec = ModelSpec("m", (5, 5, 3), (layer("depthwise_conv2d", kernel_size=(2, 3), depth_multiplier=2),))
    kernel = init_weights(spec, 0)["depthwise_conv2d_0"]["kernel"]
    weight = to_torch(spec, init_weights(spec, 0))["depthwise_conv2d_0"]["weight"]
    assert kernel.shape == (2, 3, 3, 2) and weight.shape == (6, 1, 2, 3)
    for c in range(3):
        for j in range(2):
            np.testing.assert_array_equal(weight[c * 2 + j, 0], kernel[:, :, c, j], err_msg=f"c={c} j={j}")


def test_separable_maps_to_depthwise_then_pointwise_modules():
    """SeparableConv2D's three canonical weights become the torch Sequential's depthwise (no bias) and pointwise
    (1x1, with the one bias) convs."""
    spec = ModelSpec("m", (5, 5, 2), (layer("separable_conv2d", filters=4, kernel_size=3, depth_multiplier=3),))
    w = init_weights(spec, 0)["separable_conv2d_0"]
    t = to_torch(spec, init_weights(spec, 0))["separable_conv2d_0"]
    assert {k: v.shape for k, v in t.items()} == {"depthwise.weight": (6, 1, 3, 3), "pointwise.weight": (4, 6, 1, 1),
                                                  "pointwise.bias": (4,)}
    np.testing.assert_array_equal(t["pointwise.weight"][:, :, 0, 0], w["pointwise_kernel"][0, 0].T)
    np.testing.assert_array_equal(t["depthwise.weight"][5, 0], w["depthwise_kernel"][:, :, 1, 2])


# ------------------------------------------------------------------------------------------ resize conventions
RESIZES = [(5, 3), (7, 4), (3, 5), (5, 8), (9, 4), (6, 4), (4, 8)]  # heights; widths 3 -> 4


@pytest.mark.parametrize("n_in,n_out", [pytest.param(*r, id=f"{r[0]}to{r[1]}") for r in RESIZES])
def test_resize_reference_conventions_are_torch_modes(n_in, n_out):
    """The reference's explicit rules are torch's modes: nearest 'half_pixel' = 'nearest-exact' (Keras),
    'asymmetric' = legacy 'nearest'; bilinear 'half_pixel' = align_corners=False (Keras), 'align_corners' = True."""
    torch = runtime.torch()
    F = torch.nn.functional
    assert no_tie(n_in, n_out) and no_tie(3, 4), "a float32 tie would make the nearest rules depend on rounding"
    x = np.random.default_rng(n_in * n_out).standard_normal((1, n_in, 3, 2)).astype(np.float32)
    size = (n_out, 4)
    xt = torch.from_numpy(TORCH.to_layout(x))
    got = lambda **kw: TORCH.from_layout(F.interpolate(xt, size=size, **kw).numpy())  # noqa: E731
    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(got(mode="nearest-exact"), resize(x64, size, "nearest", "half_pixel"))
    np.testing.assert_array_equal(got(mode="nearest"), resize(x64, size, "nearest", "asymmetric"))
    tol = ElementBound(0.0, 0.0, "resize_bound: bilinear rounding in float32",
                       bound=resize_bound(x64, np.zeros_like(x64), size, "bilinear"))
    for rule, corners in (("half_pixel", False), ("align_corners", True)):
        assert_close(got(mode="bilinear", align_corners=corners), resize(x64, size, "bilinear", rule), tol,
                     what=f"bilinear {rule} {n_in}->{n_out}", label_a="torch", label_b="ref64")


def test_no_tie_finds_half_pixel_ties():
    """4 -> 6: output 1's source (1 + 1/2) * 4/6 = 1 exactly, a float32 tie (8 -> 3 too); odd inputs never tie."""
    assert not no_tie(4, 6) and not no_tie(2, 1) and not no_tie(8, 3)
    assert all(no_tie(n, m) for n in (3, 5, 7) for m in range(1, 12))


# ------------------------------------------------------------------------------------------ padding / cropping
@pytest.mark.parametrize("given,expect", [(1, ((1, 1), (1, 1))), ((2, 1), ((2, 2), (1, 1))),
                                          (((1, 0), (2, 3)), ((1, 0), (2, 3)))])
def test_padding_forms_and_f_pad_order(given, expect):
    """Keras' three forms read as ((top, bottom), (left, right)); F.pad / ZeroPad2d get (left, right, top, bottom),
    and nn.ZeroPad2d with it pads an NCHW map as np.pad pads the NHWC one."""
    torch = runtime.torch()
    assert widths(given) == expect
    (t, b), (l, r) = expect
    assert f_pad_order(given) == (l, r, t, b)
    x = np.arange(12, dtype=np.float32).reshape(1, 2, 3, 2)
    y = torch.nn.ZeroPad2d(f_pad_order(given))(torch.from_numpy(TORCH.to_layout(x)))
    np.testing.assert_array_equal(TORCH.from_layout(y.numpy()), np.pad(x, ((0, 0), *expect, (0, 0))))


# ------------------------------------------------------------------------------------------ rank 5
def test_flatten_of_a_volume_keeps_canonical_order_in_torch():
    """Rank-5 maps stay NDHWC in the torch model, so a Flatten after a conv3d is in canonical order and the Dense
    after it takes the canonical kernel transposed (no row permutation, unlike NCHW maps)."""
    spec = ModelSpec("m", (2, 3, 2, 2), (layer("conv3d", filters=2, kernel_size=1), layer("flatten"),
                                         layer("dense", units=3)))
    w = init_weights(spec, 0)
    assert flatten_origin(spec, "flatten_1") is None
    np.testing.assert_array_equal(to_torch(spec, w)["dense_2"]["weight"], w["dense_2"]["kernel"].T)
    assert to_torch(spec, w)["conv3d_0"]["weight"].shape == (2, 2, 1, 1, 1)  # OIDHW


# ------------------------------------------------------------------------------------------ rejected specs
def bad(expect, kind, params, shape, id):
    return pytest.param(expect, kind, params, shape, id=id)


@pytest.mark.parametrize("expect,kind,params,shape", [
    bad("conv2d_transpose needs a rank-4 input", "conv2d_transpose", dict(filters=2, kernel_size=2), (5, 3),
        "transpose_rank3"),
    bad("unknown parameter(s) ['output_padding']", "conv2d_transpose",
        dict(filters=2, kernel_size=3, output_padding=1), (4, 4, 2), "transpose_output_padding"),
    bad("strides > 1 with dilation > 1", "depthwise_conv2d", dict(kernel_size=3, strides=2, dilation=2),
        (6, 6, 2), "depthwise_stride_and_dilation"),
    bad("strides (1, 2) differ per axis: TF's CPU depthwise kernel runs them only with oneDNN on", "separable_conv2d",
        dict(filters=2, kernel_size=3, strides=(1, 2)), (6, 6, 2), "separable_unequal_strides"),
    bad("kernel (5, 5) (dilation (1, 1)) with 'valid' padding is larger than the input (4, 4)", "separable_conv2d",
        dict(filters=2, kernel_size=5), (4, 4, 2), "separable_kernel_too_large"),
    bad("missing required parameter(s) ['groups']", "group_norm", {}, (3, 3, 4), "group_norm_no_groups"),
    bad("groups=4 must divide the channels (6)", "group_norm", dict(groups=4), (3, 3, 6), "group_norm_groups"),
    bad("interpolation must be 'nearest' or 'bilinear', got 'bicubic'", "upsampling2d",
        dict(interpolation="bicubic"), (3, 3, 2), "upsampling_bicubic"),
    bad("height must be a positive integer", "resizing", dict(height=0, width=2), (3, 3, 2), "resizing_zero"),
    bad("padding must be an int >= 0, a pair of them", "zero_padding2d", dict(padding=(1, 2, 3)), (3, 3, 2),
        "padding_triple"),
    bad("padding must be an int >= 0", "zero_padding2d", dict(padding=-1), (3, 3, 2), "padding_negative"),
    bad("cropping ((2, 2), (0, 0)) leaves (0, 4) of the input (4, 4)", "cropping2d", dict(cropping=((2, 2), (0, 0))),
        (4, 4, 2), "cropping_everything"),
    bad("conv3d needs a rank-5 input", "conv3d", dict(filters=2, kernel_size=1), (4, 4, 2), "conv3d_rank4"),
    bad("kernel_size must be a positive integer (or a triple)", "conv3d", dict(filters=2, kernel_size=(1, 2)),
        (3, 3, 3, 2), "conv3d_pair_kernel"),
    bad("pool (3, 3, 3) with 'valid' padding does not fit the input (2, 4, 4)", "max_pool3d", dict(pool_size=3),
        (2, 4, 4, 1), "pool3d_too_large"),
])
def test_spatial_spec_rejects(expect, kind, params, shape):
    """An impossible spatial layer raises SpecError saying what is wrong."""
    with pytest.raises(SpecError) as exc:
        ModelSpec("bad", shape, (LayerSpec(kind, params),))
    assert expect in str(exc.value)


# ------------------------------------------------------------------------------------------ thorough variants
EXTRA_CASES = [
    single("conv2d_transpose", "same_stride2_k1", (3, 3, 2), filters=2, kernel_size=1, strides=2, padding="same"),
    single("conv2d_transpose", "valid_stride2", (4, 3, 2), filters=3, kernel_size=3, strides=2, activation="relu"),
    single("conv2d_transpose", "same_stride3_k5_softmax", (3, 4, 2), filters=3, kernel_size=5, strides=3,
           padding="same", activation="softmax"),
    single("depthwise_conv2d", "dilation2_same", (6, 6, 2), kernel_size=3, dilation=2, padding="same",
           activation="relu"),
    single("depthwise_conv2d", "no_bias_rect", (5, 6, 3), kernel_size=(1, 3), strides=2, padding="same",
           use_bias=False),
    single("separable_conv2d", "basic", (5, 5, 3), filters=4, kernel_size=3),
    single("group_norm", "rank2", (6,), groups=3, epsilon=1e-5),
    single("group_norm", "instance", (3, 3, 4), groups=4),
    single("group_norm", "one_group", (3, 3, 4), groups=1),
    single("upsampling2d", "nearest", (3, 3, 2)),
    single("upsampling2d", "bilinear_rect", (2, 3, 2), size=(3, 2), interpolation="bilinear"),
    single("resizing", "nearest_up", (3, 5, 2), height=5, width=8, interpolation="nearest"),
    single("resizing", "bilinear_mixed", (8, 3, 2), height=3, width=7),
    single("zero_padding2d", "int", (3, 3, 2)),
    single("zero_padding2d", "symmetric_pair", (2, 3, 1), padding=(2, 1)),
    single("cropping2d", "int", (4, 4, 2), cropping=1),
    # MobileNet's explicit pad before a 'valid' stride-2 conv
    case("zero_padding2d", "before_conv", (5, 5, 2), layer("zero_padding2d", padding=((0, 1), (0, 1))),
         layer("conv2d", filters=2, kernel_size=3, strides=2)),
    case("cropping2d", "after_transpose", (3, 3, 2),
         layer("conv2d_transpose", filters=2, kernel_size=3, strides=2, padding="same"),
         layer("cropping2d", cropping=((1, 0), (0, 1)))),
    single("conv3d", "valid", (4, 4, 4, 2), filters=3, kernel_size=2),
    single("conv3d", "dilation2_same", (5, 5, 5, 1), filters=2, kernel_size=2, dilation=2, padding="same"),
    single("max_pool3d", "valid", (4, 4, 4, 2)),
    case("max_pool3d", "same_k3_stride1", (3, 4, 5, 2), layer("max_pool3d", pool_size=3, strides=1,
                                                             padding="same")),
    # a U-Net step: down, up with a transposed conv, concatenated with the skip
    case("conv2d_transpose", "unet_skip", (6, 6, 2), layer("conv2d", name="skip", filters=2, kernel_size=3,
                                                           padding="same", activation="relu"),
         layer("max_pool2d", name="down"), layer("conv2d_transpose", name="up", filters=2, kernel_size=2, strides=2),
         layer("concat", name="cat", inputs=("skip", "up")), layer("group_norm", groups=2)),
]


@pytest.mark.skipif(not THOROUGH, reason="the extra spatial variants run under the thorough profile")
@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.id}-float32") for c in EXTRA_CASES])
def test_spatial_extra_case_matches(case):
    """Each extra spatial variant gives the same forward in TF, torch and float64 (as test_layer_forward_matches)."""
    check_layer(case)

