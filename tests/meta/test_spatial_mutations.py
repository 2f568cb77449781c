"""The spatial catalogue entries (equivalence/differences/spatial.py) observe the real framework calls: replace the
call a witness goes through by a plausible variant (monkeypatch) and the entry goes stale on that side.

Pattern of tests/meta/test_witness_mutations.py: a witness that computed its answer itself, or read a constant,
would keep passing here and fail these tests.
"""
from __future__ import annotations

import numpy as np
import pytest

from equivalence import runtime
from equivalence.differences.witness_tools import assert_stale

pytestmark = [pytest.mark.catalogue, pytest.mark.usefixtures("needs_tf")]


def _two(v) -> tuple[int, int]:
    v = [v] if isinstance(v, int) else list(v)
    return (v[0], v[0]) if len(v) == 1 else (v[-3], v[-2]) if len(v) == 4 else (v[0], v[1])


# ------------------------------------------------------------------------------------------ transposed convolution
def test_torch_transpose_cropping_like_tf_is_seen(monkeypatch):
    """A torch conv_transpose2d that crops 'padding' at the END only (TF's split) makes the recipe's values equal
    TF's: conv-transpose-same-output-size goes stale on torch."""
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.conv_transpose2d

    def crop_at_end(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        full = original(x, weight, bias, stride, 0, 0, groups, dilation)
        (p0, p1), (o0, o1) = _two(padding), _two(output_padding)
        return full[:, :, :full.shape[2] - 2 * p0 + o0, :full.shape[3] - 2 * p1 + o1]

    monkeypatch.setattr(F, "conv_transpose2d", crop_at_end)
    assert_stale("conv-transpose-same-output-size", "torch")


def test_tf_transpose_odd_row_before_is_seen(monkeypatch):
    """A tf.nn.conv_transpose whose 'SAME' drops the odd row at the START makes the entry stale on tf."""
    tf = runtime.tf()
    original = tf.nn.conv_transpose

    def odd_before(x, filters, output_shape, strides, padding="SAME", data_format=None, dilations=None, name=None):
        if padding != "SAME":
            return original(x, filters, output_shape, strides, padding, data_format, dilations, name)
        (n, h, w, _), (kh, kw, out, _), (sh, sw) = x.shape, filters.shape, _two(strides)
        full = original(x, filters, [n, (h - 1) * sh + kh, (w - 1) * sw + kw, out], strides, "VALID",
                        data_format, dilations)
        H, W = (int(v) for v in np.asarray(output_shape)[1:3])
        return full[:, full.shape[1] - H:, full.shape[2] - W:, :]

    monkeypatch.setattr(tf.nn, "conv_transpose", odd_before)
    assert_stale("conv-transpose-same-output-size", "tf")


def test_torch_transpose_flipping_taps_is_seen(monkeypatch):
    """A torch conv_transpose2d that flips the kernel spatially (true convolution) makes conv-transpose-kernel-layout
    stale on torch."""
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.conv_transpose2d
    monkeypatch.setattr(F, "conv_transpose2d", lambda x, weight, *args, **kwargs: original(
        x, weight.flip(2, 3), *args, **kwargs))
    assert_stale("conv-transpose-kernel-layout", "torch")


# ------------------------------------------------------------------------------------------ depthwise convolution
def _multiplier_major(y, channels: int, axis: int):
    """Channels c*m + j re-ordered j*C + c along `axis` (a framework that stacks the multipliers outermost)."""
    shape = list(y.shape)
    m = shape[axis] // channels
    split = shape[:axis] + [channels, m] + shape[axis + 1:]
    perm = list(range(len(split)))
    perm[axis], perm[axis + 1] = axis + 1, axis
    return split, perm, shape


def test_torch_grouped_conv_multiplier_major_is_seen(monkeypatch):
    """A torch conv2d whose grouped outputs come multiplier-major (j*C + c) makes depthwise-kernel-layout stale on
    torch."""
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.conv2d

    def multiplier_major(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        y = original(x, weight, bias, stride, padding, dilation, groups)
        if groups == 1:
            return y
        split, perm, shape = _multiplier_major(y, groups, 1)
        return y.reshape(split).permute(perm).reshape(shape)

    monkeypatch.setattr(F, "conv2d", multiplier_major)
    assert_stale("depthwise-kernel-layout", "torch")


def test_tf_depthwise_multiplier_major_is_seen(monkeypatch):
    """A tf.nn.depthwise_conv2d with multiplier-major output channels makes depthwise-kernel-layout stale on tf."""
    tf = runtime.tf()
    original = tf.nn.depthwise_conv2d

    def multiplier_major(x, filter, *args, **kwargs):
        y = original(x, filter, *args, **kwargs)
        split, perm, shape = _multiplier_major(y, int(filter.shape[2]), 3)
        return tf.reshape(tf.transpose(tf.reshape(y, split), perm), shape)

    monkeypatch.setattr(tf.nn, "depthwise_conv2d", multiplier_major)
    assert_stale("depthwise-kernel-layout", "tf")


# ------------------------------------------------------------------------------------------ group normalisation
def test_torch_group_norm_interleaved_groups_is_seen(monkeypatch):
    """A torch group_norm that puts channel c in group c % G (interleaved) makes group-norm-epsilon-default stale
    on torch."""
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.group_norm

    def interleaved(x, num_groups, weight=None, bias=None, eps=1e-5):
        c = x.shape[1]
        order = torch.arange(c).reshape(c // num_groups, num_groups).T.reshape(-1)
        y = original(x[:, order], num_groups, None, None, eps)[:, torch.argsort(order)]
        return y * weight.reshape(1, -1) + bias.reshape(1, -1)

    monkeypatch.setattr(F, "group_norm", interleaved)
    assert_stale("group-norm-epsilon-default", "torch")


# ------------------------------------------------------------------------------------------ resizing
def test_tf_nearest_legacy_corner_rule_is_seen(monkeypatch):
    """A tf.image.resize whose nearest drops half-pixel centres (TF 1's rule) makes resize-nearest-coordinates
    stale on tf."""
    tf = runtime.tf()
    original = tf.image.resize

    def legacy(images, size, method="bilinear", antialias=False, **kwargs):
        if method == "nearest":
            return tf.compat.v1.image.resize_nearest_neighbor(images, size, half_pixel_centers=False)
        return original(images, size, method=method, antialias=antialias, **kwargs)

    monkeypatch.setattr(tf.image, "resize", legacy)
    assert_stale("resize-nearest-coordinates", "tf")


def _interpolate_with(monkeypatch, change):
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.interpolate
    monkeypatch.setattr(F, "interpolate", lambda x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                        **kwargs: original(x, size, scale_factor, **change(mode, align_corners), **kwargs))


def test_torch_nearest_fixed_is_seen(monkeypatch):
    """An F.interpolate whose 'nearest' is the half-pixel rule ('nearest-exact') makes resize-nearest-coordinates
    stale on torch."""
    _interpolate_with(monkeypatch, lambda mode, ac: dict(mode="nearest-exact" if mode == "nearest" else mode,
                                                         align_corners=ac))
    assert_stale("resize-nearest-coordinates", "torch")


def test_torch_bilinear_corner_aligned_is_seen(monkeypatch):
    """An F.interpolate that aligns corners whatever it is asked makes resize-bilinear-align-corners stale on
    torch."""
    _interpolate_with(monkeypatch, lambda mode, ac: dict(mode=mode, align_corners=True if mode == "bilinear" else ac))
    assert_stale("resize-bilinear-align-corners", "torch")


def test_torch_default_mode_bilinear_is_seen(monkeypatch):
    """An F.interpolate defaulting to bilinear makes resize-default-mode stale on torch."""
    _interpolate_with(monkeypatch, lambda mode, ac: dict(mode="bilinear" if mode == "nearest" else mode,
                                                         align_corners=ac))
    assert_stale("resize-default-mode", "torch")


def test_tf_antialias_by_default_is_seen(monkeypatch):
    """A tf.image.resize that always antialiases makes resize-default-mode stale on tf."""
    tf = runtime.tf()
    original = tf.image.resize
    monkeypatch.setattr(tf.image, "resize", lambda images, size, method="bilinear", antialias=False, **kwargs:
                        original(images, size, method=method, antialias=True, **kwargs))
    assert_stale("resize-default-mode", "tf")


# ------------------------------------------------------------------------------------------ padding
def test_torch_pad_first_dim_first_is_seen(monkeypatch):
    """An F.pad that reads its pairs first-dim-first (Keras' order) makes pad-argument-order stale on torch."""
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.pad

    def first_dim_first(x, pad, *args, **kwargs):
        pairs = [tuple(pad[i:i + 2]) for i in range(0, len(pad), 2)]
        return original(x, [v for p in reversed(pairs) for v in p], *args, **kwargs)

    monkeypatch.setattr(F, "pad", first_dim_first)
    assert_stale("pad-argument-order", "torch")


def test_tf_pad_swapped_axes_is_seen(monkeypatch):
    """A tf.pad that swaps the two spatial axes' widths makes pad-argument-order stale on tf."""
    tf = runtime.tf()
    original = tf.pad

    def swapped(x, paddings, *args, **kwargs):
        p = [list(map(int, row)) for row in np.asarray(paddings)]
        if len(p) == 4:
            p[1], p[2] = p[2], p[1]
        return original(x, p, *args, **kwargs)

    monkeypatch.setattr(tf, "pad", swapped)
    assert_stale("pad-argument-order", "tf")


# ------------------------------------------------------------------------------------------ depthwise unequal strides
def test_tf_depthwise_unequal_strides_call_is_seen(monkeypatch):
    """Where the entry documents the error (oneDNN off), a tf.nn.depthwise_conv2d that computes (one channel: a
    plain conv2d) makes tf-depthwise-unequal-strides stale on tf; where it documents the values, one that raises
    the Eigen kernel's error does."""
    from equivalence.differences import by_id

    tf = runtime.tf()
    errs_here = by_id("tf-depthwise-unequal-strides").expected_on()["tf"] == "raises InvalidArgumentError"

    def computes(x, filter, strides, padding, data_format=None, dilations=None, name=None):
        return tf.nn.conv2d(x, filter, strides, padding)  # C = 1, m = 1: the depthwise conv is this conv2d

    def raises(*args, **kwargs):
        raise tf.errors.InvalidArgumentError(None, None, "Current implementation only supports equal length strides")

    monkeypatch.setattr(tf.nn, "depthwise_conv2d", computes if errs_here else raises)
    assert_stale("tf-depthwise-unequal-strides", "tf")


def test_torch_conv2d_rejecting_unequal_strides_is_seen(monkeypatch):
    """A torch conv2d that raised on unequal strides (as TF's Eigen kernel does) makes the entry stale on torch."""
    F = runtime.torch().nn.functional
    original = F.conv2d

    def equal_only(x, weight, bias=None, stride=1, *args, **kwargs):
        if isinstance(stride, (tuple, list)) and len(set(stride)) > 1:
            raise RuntimeError("only equal strides are supported")
        return original(x, weight, bias, stride, *args, **kwargs)

    monkeypatch.setattr(F, "conv2d", equal_only)
    assert_stale("tf-depthwise-unequal-strides", "torch")
