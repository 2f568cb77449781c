"""GPU-only behaviour (marker gpu, opt-in: `pytest -m gpu`): what exists on an accelerator alone.

The device conformance of the generic checks (op gradients, seed-model forwards, a model's gradients and one Adam
step, optimizer steps, Keras forwards on a GPU) is the device axis of the generic tests themselves (their `-cuda`
cases, equivalence.checks). Here: cuDNN's NaN spread from a non-finite conv weight, TF32 (error measured with its
own derived bound), mixed precision (autocast + GradScaler, Keras mixed_float16), cuDNN determinism, device mismatch
errors and TF's soft placement. TF-side tests skip with a reason where TensorFlow is absent or CPU-only (the CUDA box
this project borrows has PyTorch only).
"""
from __future__ import annotations


import numpy as np
import pytest

from equivalence import runtime, devices, sides
from equivalence.checks.models import torch_pair
from equivalence.compare import assert_close, to_numpy
from equivalence.model_tolerance import accumulation_depth
from equivalence.zoo import seed_models
from equivalence.tolerances import Tolerance, cross, for_arrays, tolerance

pytestmark = pytest.mark.gpu

TF32_EPS = 2.0**-10  # TF32 keeps 10 explicit mantissa bits: inputs of matmul/conv are rounded to u = 2**-11


def _torch_pair(name: str, seed: int = 0):
    """A seed model's torch module with canonical weights, and no Keras model (the CUDA box has no TensorFlow)."""
    return torch_pair(seed_models()[name], seed)


def _torch_side(device):
    """The torch side of `device` ('cpu' or a torch.device)."""
    return sides.side_for("torch", runtime.torch().device(device).type)


def _forward(module, x: np.ndarray, device, dtype=None):
    """Run `module` on canonical input x on `device`; returns the torch output (graph kept for backward)."""
    side = _torch_side(device)
    (y,) = side.call(module, side.tensor(side.to_layout(x), dtype or "float32"))
    return y


# --- cuDNN's backward with non-finite weights (left out of the op-gradient check there: OnDevice.grad_avoid) -----


def test_gpu_conv_grad_with_nonfinite_weight_spreads_nan(torch_cuda):
    """d(sum conv(x, w))/dx with a non-finite weight: CPU keeps it where float64 does; cuDNN spreads NaN further."""
    torch = runtime.torch()

    def grad_x(w, device):
        x = torch.zeros(1, 1, 2, 2, device=device, requires_grad=True)
        torch.nn.functional.conv2d(x, w.to(device)).sum().backward()  # 1x1 output: d/dx = w summed over outputs
        return to_numpy(x.grad)

    w_inf = torch.full((2, 1, 2, 2), float("inf"))
    cpu, cuda = grad_x(w_inf, "cpu"), grad_x(w_inf, torch_cuda)
    assert np.all(np.isposinf(cpu)), f"CPU, all-inf w: {cpu.ravel().tolist()} (documented: all +inf, as float64)"
    # Observed on the H100 (torch 2.11+cu130, cuDNN deterministic): NaN, i.e. 0 * inf inside the backward-data kernel.
    assert np.any(np.isnan(cuda)), f"CUDA, all-inf w: {cuda.ravel().tolist()} (documented: NaN where CPU gives +inf)"
    w_nan = torch.zeros(2, 1, 2, 2)  # two output channels, as in the registry sample where the spread was seen
    w_nan[0, 0, 0, 0] = float("nan")
    cpu, cuda = grad_x(w_nan, "cpu"), grad_x(w_nan, torch_cuda)
    assert np.isnan(cpu).sum() == 1, f"CPU, one NaN weight: {cpu.ravel().tolist()} (documented: NaN only there)"
    # Observed: NaN in 3 more positions than float64 (conv2d-valid grad sample with w=[nan, 0]).
    assert np.isnan(cuda).sum() > 1, f"CUDA, one NaN weight: {cuda.ravel().tolist()} (documented: NaN spreads)"


# --- TF32 -------------------------------------------------------------------------------------------------------


def _tf32_errors(torch, device, a, b, x, w) -> dict[str, float]:
    """max|result - float64| / max|float64| of a matmul and a conv, with TF32 off and on."""
    ref_mm = a.double().cpu() @ b.double().cpu()
    ref_cv = torch.nn.functional.conv2d(x.double().cpu(), w.double().cpu(), padding=1)
    out = {}
    for on in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on
        mm, cv = a @ b, torch.nn.functional.conv2d(x, w, padding=1)
        tag = "on" if on else "off"
        out[f"matmul_tf32_{tag}"] = float((mm.double().cpu() - ref_mm).abs().max() / ref_mm.abs().max())
        out[f"conv_tf32_{tag}"] = float((cv.double().cpu() - ref_cv).abs().max() / ref_cv.abs().max())
    return out


def test_gpu_tf32_error_measured(torch_cuda, record_property):
    """TF32 off keeps matmul/conv within the float32 rule; on Ampere+ TF32 on costs >= 10x more, within 4*2**-10."""
    torch = runtime.torch()
    g = torch.Generator().manual_seed(0)
    k = 1024  # matmul depth; the conv's depth is 3*3*64 = 576
    a, b = (torch.randn(s, generator=g).to(torch_cuda) for s in ((256, k), (k, 256)))
    x = torch.randn(8, 64, 32, 32, generator=g).to(torch_cuda)
    w = (0.1 * torch.randn(64, 64, 3, 3, generator=g)).to(torch_cuda)
    errors = _tf32_errors(torch, torch_cuda, a, b, x, w)
    for key, value in errors.items():
        record_property(key, value)
    for op, depth in (("matmul", k), ("conv", 576)):
        rule = tolerance("float32", depth=depth).rtol  # relative to max|ref|: the rule's atol/scale
        off = errors[f"{op}_tf32_off"]
        assert off <= rule, f"{op} TF32 off: error/max|ref| {off:.3g} > rule {rule:.3g}"
        if devices.supports_tf32():
            on = errors[f"{op}_tf32_on"]
            # inputs rounded to 2**-11 each => products off by <= 2**-10, summed with random signs: ACC_FACTOR bound
            assert 10 * off < on <= 4 * TF32_EPS, f"{op}: TF32 on {on:.3g} vs off {off:.3g} (bound 4*2**-10)"


def test_gpu_tf32_tf_default_error(tf_gpu, record_property):
    """TensorFlow's default (TF32 on) matmul on GPU is measurably less accurate than with TF32 off."""
    tf = runtime.tf()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 1024)).astype(np.float32), rng.standard_normal((1024, 256)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    errs = {}
    for on in (False, True):
        tf.config.experimental.enable_tensor_float_32_execution(on)
        with tf.device(tf_gpu):
            errs[on] = float(np.abs(tf.linalg.matmul(a, b).numpy() - ref).max() / np.abs(ref).max())
        record_property(f"tf_matmul_tf32_{'on' if on else 'off'}", errs[on])
    assert errs[False] <= tolerance("float32", depth=1024).rtol
    assert 10 * errs[False] < errs[True] <= 4 * TF32_EPS


# --- mixed precision ----------------------------------------------------------------------------------------------


def _sgd_step_torch(name, x, labels, device, *, autocast: bool, lr: float, init_scale: float = 2.0**16):
    """One SGD step on sparse CE (from logits), float32 or autocast(float16) + GradScaler; returns (weights, scale)."""
    torch = runtime.torch()
    module = _torch_pair(name).torch.to(device)
    opt = torch.optim.SGD(module.parameters(), lr=lr)
    scaler = torch.amp.GradScaler(device.type, init_scale=init_scale, enabled=autocast)
    with torch.autocast(device.type, dtype=torch.float16, enabled=autocast):
        logits = _forward(module, x, device)
        loss = torch.nn.functional.cross_entropy(logits.float(), torch.from_numpy(labels).to(device))
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    return {k: to_numpy(p) for k, p in module.named_parameters()}, scaler.get_scale() if autocast else None


def _half_step_tolerance(spec, x, w_ref, w0) -> Tolerance:
    """float16 compute: gradients within the float16 rule (depth D*batch) relative to max|g|, so each weight is
    within that rule times the largest step lr*max|g| = max|w_ref - w0|, plus the float32 rule on the weights."""
    g_tol = tolerance("float16", depth=accumulation_depth(spec, batch=len(x)) * len(x))
    w_tol = for_arrays("float32", w_ref)
    step = float(np.abs(np.asarray(w_ref, np.float64) - w0).max())
    return Tolerance(w_tol.atol + g_tol.rtol * step, w_tol.rtol,
                     f"float16 gradient rule rtol={g_tol.rtol:.2g} x max step {step:.3g} + {w_tol.reason}")


def test_gpu_autocast_step_matches_float32(torch_cuda):
    """One autocast(float16)+GradScaler SGD step on CUDA lands within the float16-derived bound of the float32 step."""
    name, lr = "seed_mlp", 0.1
    spec = seed_models()[name]
    x = _torch_pair(name).sample_input(seed=4, batch=64)
    labels = np.random.default_rng(5).integers(0, 10, 64)
    w32, _ = _sgd_step_torch(name, x, labels, torch_cuda, autocast=False, lr=lr)
    w16, scale = _sgd_step_torch(name, x, labels, torch_cuda, autocast=True, lr=lr)
    w0 = {k: to_numpy(p) for k, p in _torch_pair(name).torch.named_parameters()}
    assert scale == 2.0**16, f"GradScaler backed off to {scale}: the float16 step overflowed and was skipped"
    for k in w32:
        assert not np.array_equal(w16[k], w0[k]), f"{k}: the autocast step left the weights unchanged"
        assert_close(w16[k], w32[k], _half_step_tolerance(spec, x, w32[k], w0[k]), what=f"{name} {k} after one step",
                     label_a="autocast-fp16", label_b="float32")


def _keras_mixed_step(name, x, labels, tf_device, lr: float):
    """One Keras SGD step under 'mixed_float16' with a LossScaleOptimizer (initial scale 2**16 as torch's)."""
    from equivalence.models import build_pair

    keras, tf = runtime.keras(), runtime.tf()
    keras.mixed_precision.set_dtype_policy("mixed_float16")  # restored by the root conftest's isolation
    pair = build_pair(seed_models()[name], seed=0)
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(learning_rate=lr), initial_scale=2.0**16)
    with tf.device(tf_device):
        with tf.GradientTape() as tape:
            logits = tf.cast(pair.keras(x, training=True), tf.float32)
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
            scaled = opt.scale_loss(loss)
        opt.apply(tape.gradient(scaled, pair.keras.trainable_variables), pair.keras.trainable_variables)
    return pair.read_weights()["tf"]


def _canonical(name: str, named: dict[str, np.ndarray]):
    """torch named_parameters (as NumPy) -> canonical weights, through the spec's own reader."""
    from equivalence.weights import read_torch

    pair = _torch_pair(name)
    torch = runtime.torch()
    with torch.no_grad():
        for k, p in pair.torch.named_parameters():
            p.copy_(torch.from_numpy(named[k]))
    return read_torch(pair.torch, pair.spec)


def check_mixed_step_matches(torch_device, tf_device, name="seed_mlp", lr=0.1):
    """Keras mixed_float16 vs torch autocast(float16)+GradScaler: one SGD step, compared in canonical layout."""
    __tracebackhide__ = True
    spec = seed_models()[name]
    x = _torch_pair(name).sample_input(seed=4, batch=64)
    labels = np.random.default_rng(5).integers(0, 10, 64)
    w_tf = _keras_mixed_step(name, x, labels, tf_device, lr)
    w_torch = _canonical(name, _sgd_step_torch(name, x, labels, torch_device, autocast=True, lr=lr)[0])
    w0 = _torch_pair(name).weights
    for layer_name, params in w_tf.items():
        for p, v in params.items():
            tol = cross(_half_step_tolerance(spec, x, v, w0[layer_name][p]))
            assert_close(v, w_torch[layer_name][p], tol, what=f"{name} {layer_name}.{p} after one mixed step",
                         label_a="keras-mixed_float16", label_b="torch-autocast")


def test_gpu_mixed_precision_step_matches_keras(torch_cuda, tf_gpu):
    """Keras mixed_float16 + LossScaleOptimizer and torch autocast + GradScaler take the same SGD step (fp16 bound)."""
    check_mixed_step_matches(torch_cuda, tf_gpu)


# --- determinism and devices ----------------------------------------------------------------------------------


def test_gpu_cudnn_deterministic_conv_backward_repeats(torch_cuda):
    """With the plugin's cuDNN flags (deterministic, no autotune), conv weight gradients repeat bit for bit."""
    torch = runtime.torch()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 32, 28, 28, generator=g).to(torch_cuda)
    conv = torch.nn.Conv2d(32, 64, 3, padding=1).to(torch_cuda)
    runs = []
    for _ in range(3):
        conv.zero_grad()
        conv(x).square().sum().backward()
        runs.append(to_numpy(conv.weight.grad))
    for i, r in enumerate(runs[1:], 1):
        assert np.array_equal(r, runs[0]), f"run {i}: conv weight grad differs by {np.abs(r - runs[0]).max():.3g}"


def test_gpu_deterministic_algorithms_raise_on_nondeterministic_kernel(torch_cuda):
    """Under use_deterministic_algorithms(True) a CUDA kernel without a deterministic version (histc) raises."""
    torch = runtime.torch()
    x = torch.arange(16.0, device=torch_cuda)
    assert torch.histc(x, bins=4, min=0, max=16).tolist() == [4.0, 4.0, 4.0, 4.0]
    torch.use_deterministic_algorithms(True)  # restored by the root conftest's isolation
    with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
        torch.histc(x, bins=4, min=0, max=16)


def test_gpu_device_mismatch_error(torch_cuda):
    """torch raises on operands on CPU and CUDA ('same device'), except a 0-dim CPU tensor, which broadcasts."""
    torch = runtime.torch()
    on_gpu, on_cpu = torch.ones(2, device=torch_cuda), torch.ones(2)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        on_gpu + on_cpu
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        torch.nn.Linear(2, 2).to(torch_cuda)(on_cpu[None])
    scaled = on_gpu * torch.tensor(3.0)
    assert scaled.device.type == "cuda" and scaled.tolist() == [3.0, 3.0]


def test_gpu_tf_soft_placement_copies(tf_gpu):
    """TensorFlow runs an op on the GPU with one operand on the CPU, copying it implicitly (no error)."""
    tf = runtime.tf()
    with tf.device("/CPU:0"):
        a = tf.ones((2, 2))
    with tf.device(tf_gpu):
        b = tf.ones((2, 2))
        c = tf.linalg.matmul(a, b)
    assert "GPU" in c.device and c.numpy().tolist() == [[2.0, 2.0], [2.0, 2.0]]
