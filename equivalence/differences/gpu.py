"""Known differences: GPU and mixed-precision defaults, each entry right below its witness.

Every witness runs on a CPU-only machine too: the flags and policies that decide GPU behaviour are readable
without a GPU. TF32 and determinism defaults are read from `devices.framework_defaults()`, the snapshot the gpu
plugin takes before the root conftest's isolation switches TF32 off in each test. The measured *effect* of TF32 on
a GPU lives in tests/test_gpu.py (`test_gpu_tf32_error_measured`) and docs/gpu.md.
"""
from __future__ import annotations

import numpy as np

from .. import runtime, devices
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import raised

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _tf32_defaults() -> dict:
    d = devices.framework_defaults()
    tf = d["tf"] and {"tensor_float_32": d["tf"]["tensor_float_32"]}
    torch = {k: d["torch"][k] for k in ("matmul_allow_tf32", "cudnn_allow_tf32")}
    return {"tf": tf, "torch": torch}


ENTRIES.add(KnownDifference(
    id="tf32-default",
    area="numerics",
    title="TensorFlow runs float32 matmul/conv in TF32 on Ampere+ GPUs by default; PyTorch does so only for cuDNN conv",
    tf="tf.config.experimental.tensor_float_32_execution_enabled() is True by default: float32 matmuls and "
       "convolutions on compute capability >= 8.0 round inputs to a 10-bit mantissa (~1e-3 relative error).",
    torch="torch.backends.cuda.matmul.allow_tf32 is False by default (full float32 matmul) but "
          "torch.backends.cudnn.allow_tf32 is True (cuDNN convolutions use TF32).",
    witness=_tf32_defaults,
    expected={"tf": {"tensor_float_32": True},
              "torch": {"matmul_allow_tf32": False, "cudnn_allow_tf32": True}},
    snippet_tf="tf.config.experimental.enable_tensor_float_32_execution(False)  # true float32",
    snippet_torch="torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False",
    evidence="tf.config.experimental.enable_tensor_float_32_execution docs; PyTorch notes/cuda.rst "
             "'TensorFloat-32 (TF32) on Ampere (and later) devices'; measured error: docs/gpu.md",
    mapping="Switch TF32 off on both sides for correctness runs (the root conftest does, as Keras' conftest does), "
            "or compare GPU matmul/conv at the TF32 tolerance.",
    gotcha=True,
))


def _autocast_dtypes() -> dict:
    torch, keras = runtime.torch(), runtime.keras()
    policy = keras.mixed_precision.Policy("mixed_float16")
    dense = keras.layers.Dense(2, dtype=policy)
    y_tf = dense(np.ones((1, 3), np.float32))
    linear = torch.nn.Linear(3, 2)
    with torch.autocast("cpu"):
        y_torch = linear(torch.ones(1, 3))
    return {
        "tf": {"compute": policy.compute_dtype, "variable": policy.variable_dtype,
               "dense_output_cpu": y_tf.dtype.name, "kernel": dense.kernel.dtype},
        "torch": {"autocast_cuda": str(torch.get_autocast_dtype("cuda")).removeprefix("torch."),
                  "autocast_cpu": str(torch.get_autocast_dtype("cpu")).removeprefix("torch."),
                  "linear_output_cpu": str(y_torch.dtype).removeprefix("torch."),
                  "weight": str(linear.weight.dtype).removeprefix("torch.")},
    }


ENTRIES.add(KnownDifference(
    id="mixed-precision-half-dtype",
    area="dtypes",
    title="Keras 'mixed_float16' computes in float16 on every device; torch.autocast defaults to float16 on CUDA "
          "but bfloat16 on CPU",
    tf="Policy('mixed_float16'): compute float16, variables float32, on CPU and GPU alike.",
    torch="torch.autocast(device_type) picks torch.get_autocast_dtype(device): float16 for 'cuda', bfloat16 for "
          "'cpu'; parameters stay float32.",
    witness=_autocast_dtypes,
    expected={"tf": {"compute": "float16", "variable": "float32", "dense_output_cpu": "float16",
                     "kernel": "float32"},
              "torch": {"autocast_cuda": "float16", "autocast_cpu": "bfloat16",
                        "linear_output_cpu": "bfloat16", "weight": "float32"}},
    snippet_tf="keras.mixed_precision.set_dtype_policy('mixed_float16')",
    snippet_torch="with torch.autocast('cpu'): y = model(x)  # bfloat16 unless dtype=torch.float16",
    evidence="keras.mixed_precision.Policy docs; torch.amp docs (CPU autocast 'dtype defaults to bfloat16')",
    mapping="Pass dtype explicitly: torch.autocast(dev, dtype=torch.float16) <-> 'mixed_float16', "
            "dtype=torch.bfloat16 <-> 'mixed_bfloat16'.",
    gotcha=True,
))


def _loss_scale_defaults() -> dict:
    torch, keras = runtime.torch(), runtime.keras()
    wrapper = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())
    previous = keras.mixed_precision.dtype_policy().name
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(optimizer="sgd", loss="mse")
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
    scaler = torch.amp.GradScaler("cpu")
    return {
        "tf": {"initial_scale": float(wrapper.initial_scale), "growth_steps": int(wrapper.dynamic_growth_steps),
               "compile_wraps": type(model.optimizer).__name__},
        "torch": {"init_scale": scaler.get_scale(), "growth_interval": scaler.get_growth_interval(),
                  "growth_factor": scaler.get_growth_factor(), "backoff_factor": scaler.get_backoff_factor()},
    }


ENTRIES.add(KnownDifference(
    id="loss-scale-defaults",
    area="optimizers",
    title="Dynamic loss scaling starts at 2**15 in Keras and 2**16 in PyTorch; Keras adds it automatically",
    tf="LossScaleOptimizer(initial_scale=32768.0, dynamic_growth_steps=2000), growth x2 / backoff x0.5 fixed; "
       "Model.compile wraps the optimizer in it automatically under the 'mixed_float16' global policy.",
    torch="torch.amp.GradScaler(init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000), "
          "created and called explicitly (scale / step / update).",
    witness=_loss_scale_defaults,
    expected={"tf": {"initial_scale": 32768.0, "growth_steps": 2000, "compile_wraps": "LossScaleOptimizer"},
              "torch": {"init_scale": 65536.0, "growth_interval": 2000, "growth_factor": 2.0,
                        "backoff_factor": 0.5}},
    snippet_tf="opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())",
    snippet_torch="scaler = torch.amp.GradScaler('cuda')",
    evidence="keras/src/optimizers/loss_scale_optimizer.py; keras/src/trainers/trainer.py (compile); "
             "torch/amp/grad_scaler.py",
    mapping="GradScaler(init_scale=2.0**15) or LossScaleOptimizer(initial_scale=2.0**16); the update formulas "
            "agree after that (one step compared in tests/test_gpu.py on CUDA).",
))


def _device_mixing() -> dict:
    torch, tf = runtime.torch(), runtime.tf()
    # No second real device on a CPU-only machine: the 'meta' device (shapes, no data) stands in, only partly. Its
    # bias add checks devices and raises; its matmul does not, and returns a CPU tensor nothing was written to.
    x = torch.ones(1, 2)

    def linear(bias: bool):
        try:
            y = torch.nn.Linear(2, 2, bias=bias, device="meta")(x)
        except RuntimeError as exc:
            return f"RuntimeError: {exc}"
        return {"device": str(y.device), "shape": list(y.shape)}  # not its values: uninitialised memory

    with tf.device("/CPU:0"):
        a = tf.ones((1, 2))

    def tf_matmul():
        try:
            with tf.device("/GPU:0"):  # copied to the GPU, or (no GPU) soft-placed on the CPU: no error either way
                return tf.linalg.matmul(a, tf.ones((2, 2))).numpy().tolist()
        except Exception as exc:  # noqa: BLE001 - an error here is the observation
            return raised(exc)

    return {"tf": {"soft_device_placement": bool(tf.config.get_soft_device_placement()),
                   "matmul on /GPU:0 with a CPU operand": tf_matmul()},
            "torch": {"meta Linear(bias=True)(cpu x)": linear(True), "meta Linear(bias=False)(cpu x)": linear(False)}}


ENTRIES.add(KnownDifference(
    id="device-mixing",
    area="devices",
    title="TensorFlow copies tensors between devices implicitly; PyTorch raises on CUDA/CPU operands, and its "
          "'meta' device silently does not for a matmul",
    tf="Soft device placement is on by default: an op whose inputs live on CPU and GPU runs anyway, TF copies. "
       "On a CPU-only machine a matmul requested on /GPU:0 with a CPU operand runs on CPU:0 without an error.",
    torch="A CUDA op with a CPU operand raises RuntimeError ('Expected all tensors to be on the same device'; only "
          "0-dim CPU tensors are exempt): the CUDA kernels check their operands' devices, matmul included "
          "(nn.Linear with bias: tests/test_gpu.py). The 'meta' device is no faithful stand-in: "
          "nn.Linear(2, 2, device='meta') on a CPU input raises from the bias add ('Tensor on device meta is not "
          "on the expected device cpu!'), but with bias=False the matmul returns a CPU tensor of shape (1, 2) "
          "whose memory was never written (its values differ run to run).",
    witness=_device_mixing,
    expected={"tf": {"soft_device_placement": True,
                     "matmul on /GPU:0 with a CPU operand": [[2.0, 2.0]]},
              "torch": {"meta Linear(bias=True)(cpu x)":
                        "RuntimeError: Tensor on device meta is not on the expected device cpu!",
                        "meta Linear(bias=False)(cpu x)": {"device": "cpu", "shape": [1, 2]}}},
    snippet_tf="with tf.device('/GPU:0'): y = x_on_cpu @ w  # copied implicitly",
    snippet_torch="model.to('cuda'); y = model(x.to('cuda'))  # move inputs explicitly\n"
                  "torch.nn.Linear(2, 2, bias=False, device='meta')(torch.ones(1, 2))  # a CPU tensor of garbage",
    evidence="tf.config.set_soft_device_placement docs; PyTorch CUDA semantics notes; CUDA case asserted in "
             "tests/test_gpu.py::test_gpu_device_mismatch_error; meta case observed torch 2.13 CPU",
    mapping="Move inputs to the model's device explicitly in torch (x.to(next(model.parameters()).device)); "
            "never use 'meta' modules to test device handling.",
    gotcha=True,
))
