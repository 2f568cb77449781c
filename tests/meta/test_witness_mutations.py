"""Each catalogue witness observes the real framework call: change that call and the entry goes stale.

"Change the call, not only the expectation": test_differences.py perturbs an entry's `expected` values; here the
framework function or class a witness calls is replaced (monkeypatch) by a subtly different implementation, the
behaviour a plausible upgrade could bring, and `entry.check()` must raise StaleDifference naming the changed side.
A witness that computed the answer itself, or read a constant, would keep passing and fail these tests.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import pathlib

import numpy as np
import pytest

from equivalence import runtime, gotchas
from equivalence.differences import by_id
from equivalence.differences.witness_tools import assert_stale

pytestmark = [pytest.mark.catalogue, pytest.mark.usefixtures("needs_tf")]


def test_unmutated_entries_pass():
    """The baseline: without a mutation every entry below checks clean (so a failure below is the mutation's)."""
    for entry_id in ("sort-descending-nan", "topk-nan", "gru-reset-after", "hinge-binary-label-conversion",
                     "lr-schedule-step-unit", "fit-vs-dataloader-defaults", "device-mixing"):
        by_id(entry_id).check()


def test_assert_stale_fails_on_a_clean_entry():
    """The shared assertion (witness_tools.assert_stale) fails when nothing went stale: a mutation test built on it
    can fail."""
    with pytest.raises(AssertionError, match="'device-mixing' checked clean"):
        assert_stale("device-mixing", "torch")


# ------------------------------------------------------------------------------------------------ ops: zero signs
@pytest.mark.parametrize("zeros", ["positive", "negative"])
def test_batch_norm_zero_sign_call_is_seen(monkeypatch, zeros):
    """torch's batch_norm returning +0.0 (as a kernel that adds its terms separately does) or -0.0 (as a fused one
    does) for every zero: torch-batch-norm-fma-zero-sign goes stale on torch wherever that is not this platform's
    documented sign (positive: AVX2/AVX-512 capability; negative: DEFAULT), and checks clean where it is."""
    from equivalence import platform

    torch = runtime.torch()
    original = torch.nn.functional.batch_norm
    sign = {"positive": 0.0, "negative": -0.0}[zeros]

    def signed_zeros(*args, **kwargs):
        out = original(*args, **kwargs)
        return torch.where(out == 0, torch.full_like(out, sign), out)

    monkeypatch.setattr(torch.nn.functional, "batch_norm", signed_zeros)
    fused = platform.observed_conditions()["torch_cpu_capability"] in ("AVX2", "AVX512")
    if fused == (zeros == "positive"):
        assert_stale("torch-batch-norm-fma-zero-sign", "torch")
    else:
        by_id("torch-batch-norm-fma-zero-sign").check()


def test_cumprod_gradient_without_division_is_seen(monkeypatch):
    """A tf.math.cumprod built from running products (autodiff through multiplications, no y*g / x): the zero
    input gets its true gradient and no product is flushed, so cumprod-gradient-at-zero goes stale on tf."""
    tf = runtime.tf()

    def running_products(x, axis=0):
        return tf.stack([tf.reduce_prod(x[:i + 1], axis=0) for i in range(x.shape[0])])

    monkeypatch.setattr(tf.math, "cumprod", running_products)
    assert_stale("cumprod-gradient-at-zero", "tf")


# ------------------------------------------------------------------------------------------------ ops: NaN ordering
def test_sort_nan_last_tf_is_seen(monkeypatch):
    """A tf.sort that orders NaN properly (last, the entry's old claim) makes sort-descending-nan stale on tf."""
    tf = runtime.tf()

    def sort_nan_last(values, axis=-1, direction="ASCENDING", name=None):
        x = np.asarray(values, np.float32)
        numbers = np.sort(x[~np.isnan(x)])
        numbers = numbers[::-1] if direction == "DESCENDING" else numbers
        return tf.constant(np.concatenate([numbers, x[np.isnan(x)]]))

    monkeypatch.setattr(tf, "sort", sort_nan_last)
    assert_stale("sort-descending-nan", "tf")


def test_argsort_torch_nan_smallest_is_seen(monkeypatch):
    """A torch.argsort that ranks NaN as the SMALLEST value makes sort-descending-nan stale on torch."""
    torch = runtime.torch()
    original = torch.argsort

    def argsort_nan_smallest(x, dim=-1, descending=False, **kwargs):
        return original(torch.nan_to_num(x, nan=-float("inf")), dim=dim, descending=descending, **kwargs)

    monkeypatch.setattr(torch, "argsort", argsort_nan_smallest)
    assert_stale("sort-descending-nan", "torch")


def test_top_k_skipping_nan_is_seen(monkeypatch):
    """A top_k whose k=1 path returns the largest NUMBER (the entry's old claim) makes topk-nan stale on tf."""
    tf = runtime.tf()
    original = tf.math.top_k

    def top_k(x, k=1, sorted=True, index_type=tf.int32, name=None):
        if k != 1:
            return original(x, k, sorted=sorted, index_type=index_type)
        i = int(np.nanargmax(np.asarray(x)))  # the largest number, NaN skipped
        return original(tf.constant([np.asarray(x)[i]]), 1)._replace(indices=tf.constant([i], index_type))

    monkeypatch.setattr(tf.math, "top_k", top_k)
    assert_stale("topk-nan", "tf")


def test_torch_topk_nan_last_is_seen(monkeypatch):
    """A torch.topk that ranks NaN below every number makes topk-nan stale on torch."""
    torch = runtime.torch()
    original = torch.topk

    def topk_nan_last(x, k, *args, **kwargs):
        indices = original(torch.nan_to_num(x, nan=-float("inf")), k, *args, **kwargs).indices
        return torch.return_types.topk((x.gather(-1, indices), indices))

    monkeypatch.setattr(torch, "topk", topk_nan_last)
    assert_stale("topk-nan", "torch")


# --------------------------------------------------------------------------------------------------- layers: GRU
def test_gru_reset_before_matmul_is_seen(monkeypatch):
    """An nn.GRU applying the reset gate BEFORE the recurrent matmul (Keras reset_after=False) is caught on torch."""
    torch = runtime.torch()

    class ResetBeforeGRU(torch.nn.GRU):
        def forward(self, x, hx=None):  # batch_first, one layer: torch's gates, n = tanh(i_n + W_hn (r*h) + b_hn)
            h = hx[0] if hx is not None else x.new_zeros(x.shape[0], self.hidden_size)
            w_hr, w_hz, w_hn = self.weight_hh_l0.chunk(3)
            b_hr, b_hz, b_hn = self.bias_hh_l0.chunk(3)
            outs = []
            for step in range(x.shape[1]):
                i_r, i_z, i_n = (x[:, step] @ self.weight_ih_l0.T + self.bias_ih_l0).chunk(3, 1)
                r = torch.sigmoid(i_r + h @ w_hr.T + b_hr)
                z = torch.sigmoid(i_z + h @ w_hz.T + b_hz)
                n = torch.tanh(i_n + (r * h) @ w_hn.T + b_hn)
                h = (1 - z) * n + z * h
                outs.append(h)
            return torch.stack(outs, 1), h[None]

    monkeypatch.setattr(torch.nn, "GRU", ResetBeforeGRU)
    assert_stale("gru-reset-after", "torch")


def test_keras_gru_default_reset_before_is_seen(monkeypatch):
    """A Keras GRU whose default went back to reset_after=False (TF1) makes gru-reset-after stale on tf."""
    keras = runtime.keras()

    class TF1DefaultGRU(keras.layers.GRU):
        def __init__(self, units, reset_after=False, **kwargs):
            super().__init__(units, reset_after=reset_after, **kwargs)

    monkeypatch.setattr(keras.layers, "GRU", TF1DefaultGRU)
    assert_stale("gru-reset-after", "tf")


# ------------------------------------------------------------------------------------------- training: losses, LR
def test_soft_margin_loss_converting_labels_is_seen(monkeypatch):
    """A SoftMarginLoss that converted {0,1} labels to {-1,1} as Keras' Hinge does is caught on torch."""
    torch = runtime.torch()

    class ConvertingSoftMarginLoss(torch.nn.SoftMarginLoss):
        def forward(self, input, target):
            if bool(((target == 0) | (target == 1)).all()):
                target = 2 * target - 1
            return super().forward(input, target)

    monkeypatch.setattr(torch.nn, "SoftMarginLoss", ConvertingSoftMarginLoss)
    assert_stale("hinge-binary-label-conversion", "torch")


def test_keras_hinge_without_conversion_is_seen(monkeypatch):
    """A Keras Hinge that took {0,1} labels literally (no 2y-1) makes the entry stale on tf."""
    keras = runtime.keras()
    ops = keras.ops

    class LiteralHinge(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.maximum(1.0 - ops.cast(y_true, y_pred.dtype) * y_pred, 0.0), axis=-1)

    monkeypatch.setattr(keras.losses, "Hinge", LiteralHinge)
    assert_stale("hinge-binary-label-conversion", "tf")


def test_scheduler_stepping_per_batch_is_seen(monkeypatch):
    """An ExponentialLR that decayed after every optimizer step (as Keras schedules do) is caught on torch."""
    torch = runtime.torch()
    base = torch.optim.lr_scheduler.ExponentialLR

    class PerBatchExponentialLR(base):
        def __init__(self, optimizer, gamma, **kwargs):
            super().__init__(optimizer, gamma, **kwargs)  # its initial step runs as usual
            optimizer.register_step_post_hook(lambda *_: base.step(self))
            self.step = lambda epoch=None: None  # the loop's per-epoch call no longer moves the lr

    monkeypatch.setattr(torch.optim.lr_scheduler, "ExponentialLR", PerBatchExponentialLR)
    message = assert_stale("lr-schedule-step-unit", "torch")
    assert "the two frameworks now AGREE" in message


def test_keras_schedule_read_per_epoch_is_seen(monkeypatch):
    """An ExponentialDecay that counted epochs of 2 steps instead of steps makes the entry stale on tf."""
    keras = runtime.keras()
    base = keras.optimizers.schedules.ExponentialDecay

    class PerEpochDecay(base):
        def __call__(self, step):
            return super().__call__(keras.ops.floor_divide(step, 2))

    monkeypatch.setattr(keras.optimizers.schedules, "ExponentialDecay", PerEpochDecay)
    assert_stale("lr-schedule-step-unit", "tf")


# ---------------------------------------------------------------------------------------- runtime: data pipelines
def _patch_fit(monkeypatch, change_kwargs):
    """Replace keras.Model.fit by one that edits its keyword arguments, keeping the documented signature."""
    keras = runtime.keras()
    original = keras.Model.fit

    def fit(self, *args, **kwargs):
        change_kwargs(kwargs)
        return original(self, *args, **kwargs)

    fit.__signature__ = inspect.signature(original)  # still documents shuffle=True, batch_size=None
    monkeypatch.setattr(keras.Model, "fit", fit)


def test_fit_not_shuffling_is_seen(monkeypatch):
    """A fit() that stopped shuffling by default, with its signature unchanged, is caught by the observed order."""
    _patch_fit(monkeypatch, lambda kwargs: kwargs.setdefault("shuffle", False))
    message = assert_stale("fit-vs-dataloader-defaults", "tf")
    assert "'in_order': True" in message


def test_fit_batching_by_16_is_seen(monkeypatch):
    """A fit() that batched by 16 when batch_size is None makes the entry stale on tf (4 steps become 7)."""
    _patch_fit(monkeypatch, lambda kwargs: kwargs.update(batch_size=kwargs.get("batch_size") or 16))
    message = assert_stale("fit-vs-dataloader-defaults", "tf")
    assert "'batches_per_epoch': 7" in message


def test_dataloader_batching_by_2_is_seen(monkeypatch):
    """A DataLoader whose default batch_size were 2 makes the entry stale on torch."""
    torch = runtime.torch()
    base = torch.utils.data.DataLoader

    class PairLoader(base):
        def __init__(self, dataset, batch_size=2, shuffle=None, **kwargs):
            super().__init__(dataset, batch_size=batch_size, shuffle=shuffle, **kwargs)

    monkeypatch.setattr(torch.utils.data, "DataLoader", PairLoader)
    assert_stale("fit-vs-dataloader-defaults", "torch")


@pytest.mark.slow  # a child process importing both frameworks
def test_global_float_switch_runs_the_user_script(monkeypatch, tmp_path):
    """The witness runs a fresh Python: a sitecustomize making set_floatx also reset the dtype policy is seen.

    This changes the framework call inside the user's process (where a monkeypatch here could not reach), and
    proves the entry's values come from that process, not from this one's already-fixed policy.
    """
    (tmp_path / "sitecustomize.py").write_text(
        "import torch\n"
        "import keras\n"
        "_set_floatx = keras.config.set_floatx\n"
        "def set_floatx(value):\n"
        "    _set_floatx(value)\n"
        "    keras.config.set_dtype_policy(value)  # the policy follows floatx: no first-read cache\n"
        "keras.config.set_floatx = set_floatx\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    message = assert_stale("global-float-dtype-switch", "tf")
    assert "'Dense.compute_dtype': 'float32'" in message


# ------------------------------------------------------------------------------------------------- devices
def test_meta_matmul_checking_devices_is_seen(monkeypatch):
    """An F.linear that checked devices like the CUDA kernels makes device-mixing stale on torch."""
    torch = runtime.torch()
    original = torch.nn.functional.linear

    def checked_linear(input, weight, bias=None):
        if input.device != weight.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{weight.device} and {input.device}!")
        return original(input, weight, bias)

    monkeypatch.setattr(torch.nn.functional, "linear", checked_linear)
    message = assert_stale("device-mixing", "torch")
    assert "'meta Linear(bias=False)(cpu x)': 'RuntimeError: Expected all tensors" in message


def test_tf_refusing_device_mix_is_seen(monkeypatch):
    """A TF whose matmul raised on a device it cannot place (soft placement off) makes device-mixing stale on tf."""
    tf = runtime.tf()
    original = tf.linalg.matmul

    def strict_matmul(a, b, *args, **kwargs):
        soft = tf.config.get_soft_device_placement()
        tf.config.set_soft_device_placement(False)
        try:
            return original(a, b, *args, **kwargs)
        finally:
            tf.config.set_soft_device_placement(soft)

    if runtime.tf_gpu_available():
        pytest.skip("with a GPU the matmul is placed there and runs either way")
    monkeypatch.setattr(tf.linalg, "matmul", strict_matmul)
    message = assert_stale("device-mixing", "tf")
    assert "'matmul on /GPU:0 with a CPU operand': 'raises InvalidArgumentError'" in message


def test_device_mismatch_gotcha_sees_a_checking_matmul(monkeypatch):
    """The device-mismatch gotcha observes the real matmul: one that checked devices changes what it reports."""
    torch = runtime.torch()
    original = torch.Tensor.__matmul__

    def checked_matmul(self, other):
        if self.device != other.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, {self.device} and {other.device}")
        return original(self, other)

    before = gotchas.device_mismatch()["torch"]["cpu_matmul_meta"]
    monkeypatch.setattr(torch.Tensor, "__matmul__", checked_matmul)
    after = gotchas.device_mismatch()["torch"]["cpu_matmul_meta"]
    assert before == {"device": "cpu", "shape": [1, 2]} and after == {"error": "RuntimeError"}


# ------------------------------------------------------------------------------------------- gotcha: global state
def test_global_state_gotcha_fails_without_isolation(monkeypatch):
    """The global-state gotcha test fails, in this one process and order, when isolation does not restore."""
    path = pathlib.Path(__file__).resolve().parents[1] / "test_gotchas.py"
    spec = importlib.util.spec_from_file_location("_test_gotchas_under_mutation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    restore, saved = runtime.restore_state, runtime.capture_state()
    monkeypatch.setattr(runtime, "restore_state", lambda state: None)  # isolation that forgets to restore
    try:
        with pytest.raises(AssertionError):  # the bare leak is never repaired: "what the next test sees" is wrong
            module.test_gotcha_global_state_leaks_unless_isolated()
    finally:
        restore(saved)
    monkeypatch.undo()
    module.test_gotcha_global_state_leaks_unless_isolated()  # and passes with the real isolation


# ------------------------------------------------------------------------- ops: oneDNN's 1x1 conv weight gradient
_ONEDNN_1X1_MUTATIONS = {  # sitecustomize bodies for the witness's child process: (right result, wrong result)
    "torch": ("import torch\n"
              "def conv2d(input, weight, bias=None, stride=1, *args, **kwargs):  # 1x1, stride 2, as a matmul\n"
              "    return torch.einsum('nchw,oc->nohw', input[:, :, ::stride, ::stride], weight[:, :, 0, 0])\n"
              "torch.nn.functional.conv2d = conv2d\n",
              "import torch\n"
              "_conv2d = torch.nn.functional.conv2d\n"
              "def conv2d(input, weight, *args, **kwargs):  # one input element off by 1: channels-last kept\n"
              "    bump = torch.zeros_like(input)\n"
              "    bump[0, 0, 0, 0] = 1.0\n"
              "    return _conv2d(input + bump, weight, *args, **kwargs)\n"
              "torch.nn.functional.conv2d = conv2d\n"),
    "tf": ("import torch\n"
           "import tensorflow as tf\n"
           "def conv2d(input, filters, strides, padding, *args, **kwargs):  # 1x1 as a matmul\n"
           "    return tf.einsum('nhwc,co->nhwo', input[:, ::strides, ::strides], filters[0, 0])\n"
           "tf.nn.conv2d = conv2d\n",
           "import torch\n"
           "import tensorflow as tf\n"
           "_conv2d = tf.nn.conv2d\n"
           "def conv2d(input, filters, *args, **kwargs):  # one input element off by 1\n"
           "    bump = tf.scatter_nd([[0, 0, 0, 0]], [1.0], tf.shape(input))\n"
           "    return _conv2d(input + bump, filters, *args, **kwargs)\n"
           "tf.nn.conv2d = conv2d\n"),
}


@pytest.mark.slow  # child processes running 200 convolutions each
@pytest.mark.parametrize("side", ["tf", "torch"])
def test_onednn_1x1_conv_weight_grad_call_is_seen(side, monkeypatch, tmp_path):
    """The witness observes the framework's conv2d in its child process: where the entry documents the crash
    (oneDNN ISA AVX2), a conv2d giving the right gradient makes it stale; where it documents the exact gradient,
    a conv2d whose weight gradient is off (one input element changed) does."""
    entry_id = "onednn-avx2-1x1-conv-weight-grad"
    crashes_here = by_id(entry_id).expected_on()[side] == "crashes the process"
    right, wrong = _ONEDNN_1X1_MUTATIONS[side]
    (tmp_path / "sitecustomize.py").write_text(right if crashes_here else wrong)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    message = assert_stale(entry_id, side)
    assert ("[-52.0, -3.0, 41.0]" if crashes_here else "wrong weight gradient in 200 of 200 calls") in message


# ------------------------------------------------------------------------------------------------ layers: PReLU
def _torch_prelu_with(init: float | None = None, per_element: bool = False):
    """torch.nn.PReLU as a release might change it: another default slope, or one slope per channel by default."""
    real = runtime.torch().nn.PReLU

    class PReLU(real):
        def __init__(self, num_parameters=1, init_=0.25, **kw):
            super().__init__(num_parameters=(5 if per_element and num_parameters == 1 else num_parameters),
                             init=init_ if init is None else init, **kw)
    return PReLU


def test_prelu_torch_default_slope_is_seen(monkeypatch):
    """A torch PReLU starting at 0 (a ReLU, as Keras) makes prelu-alpha-init stale on torch."""
    monkeypatch.setattr(runtime.torch().nn, "PReLU", _torch_prelu_with(init=0.0))
    assert_stale("prelu-alpha-init", "torch")


def test_prelu_torch_default_shape_is_seen(monkeypatch):
    """A torch PReLU() with more than one slope by default makes prelu-default-alpha-shape stale on torch."""
    monkeypatch.setattr(runtime.torch().nn, "PReLU", _torch_prelu_with(per_element=True))
    assert_stale("prelu-default-alpha-shape", "torch")


def test_prelu_keras_channel_order_is_seen(monkeypatch):
    """A Keras PReLU that paired its slopes with the channels in another order makes prelu-channel-axis stale on
    tf: the witness reads the slope each channel gets, not only the shapes."""
    keras = runtime.keras()

    class ReversedPReLU(keras.layers.PReLU):
        def call(self, inputs):
            return keras.ops.where(inputs >= 0, inputs, keras.ops.flip(self.alpha, axis=-1) * inputs)

    monkeypatch.setattr(keras.layers, "PReLU", ReversedPReLU)
    assert_stale("prelu-channel-axis", "tf")
