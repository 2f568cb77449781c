"""Framework loading, seeding, determinism and global-state isolation.

Frameworks are imported lazily (never at import/collection time of the suite) and always torch first:
Keras' own test suite does this, and the other order has crashed in some TF/torch version pairs.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.metadata
import os
import random
import zlib
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@functools.cache
def torch():
    """The torch module (imported on first use)."""
    import torch as _torch

    return _torch


@functools.cache
def tf():
    """The tensorflow module, imported after torch."""
    torch()
    import tensorflow as _tf

    return _tf


@functools.cache
def keras():
    """The Keras 3 module, on the TensorFlow backend."""
    tf()
    import keras as _keras

    if _keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"equivalence needs KERAS_BACKEND=tensorflow, Keras runs on {_keras.backend.backend()!r}")
    return _keras


def has_module(name: str) -> bool:
    """True when `name` is importable, without importing it."""
    import importlib.util

    return importlib.util.find_spec(name) is not None


def versions() -> dict[str, str]:
    """Installed versions of everything whose behaviour the suite measures (read without importing)."""
    out = {}
    for dist in ("torch", "tensorflow-cpu", "tensorflow", "keras", "numpy", "hypothesis"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    if "tensorflow-cpu" in out:
        out["tensorflow"] = out.pop("tensorflow-cpu")
    return dict(sorted(out.items()))


def seed_for(name: str) -> int:
    """A stable 31-bit seed derived from a name (a test id), so each test is reproducible alone and in any order."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, torch and TF/Keras from one integer."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch().manual_seed(seed)
    if has_module("tensorflow"):
        keras().utils.set_random_seed(seed)


@dataclasses.dataclass(frozen=True)
class FrameworkState:
    """Process-global settings that a test may change and must not leak to the next one."""

    torch_default_dtype: Any
    torch_grad_enabled: bool
    torch_tf32_matmul: bool
    torch_tf32_cudnn: bool
    torch_deterministic: bool
    keras_floatx: str | None  # the TF fields are None where TensorFlow is not installed (the GPU box)
    keras_policy: str | None
    tf_tf32: bool | None
    tf_run_eagerly: bool | None
    tf_soft_placement: bool | None


def capture_state() -> FrameworkState:
    """Snapshot the global settings of both frameworks."""
    t = torch()
    tf_fields = dict(keras_floatx=None, keras_policy=None, tf_tf32=None, tf_run_eagerly=None, tf_soft_placement=None)
    if has_module("tensorflow"):
        k, tf_ = keras(), tf()
        tf_fields = dict(
            keras_floatx=k.config.floatx(),
            keras_policy=k.mixed_precision.dtype_policy().name,
            tf_tf32=tf_.config.experimental.tensor_float_32_execution_enabled(),
            tf_run_eagerly=tf_.config.functions_run_eagerly(),
            tf_soft_placement=tf_.config.get_soft_device_placement(),
        )
    return FrameworkState(
        torch_default_dtype=t.get_default_dtype(),
        torch_grad_enabled=t.is_grad_enabled(),
        torch_tf32_matmul=t.backends.cuda.matmul.allow_tf32,
        torch_tf32_cudnn=t.backends.cudnn.allow_tf32,
        torch_deterministic=t.are_deterministic_algorithms_enabled(),
        **tf_fields,
    )


def restore_state(state: FrameworkState) -> None:
    """Put back a snapshot taken by capture_state."""
    t = torch()
    t.set_default_dtype(state.torch_default_dtype)
    t.set_grad_enabled(state.torch_grad_enabled)
    t.backends.cuda.matmul.allow_tf32 = state.torch_tf32_matmul
    t.backends.cudnn.allow_tf32 = state.torch_tf32_cudnn
    t.use_deterministic_algorithms(state.torch_deterministic)
    if state.keras_floatx is not None:
        k, tf_ = keras(), tf()
        k.config.set_floatx(state.keras_floatx)
        k.mixed_precision.set_dtype_policy(state.keras_policy)
        tf_.config.experimental.enable_tensor_float_32_execution(state.tf_tf32)
        tf_.config.run_functions_eagerly(state.tf_run_eagerly)
        tf_.config.set_soft_device_placement(state.tf_soft_placement)


def disable_tf32() -> None:
    """Correctness runs compare true float32: TF32 off on both sides (Keras' conftest does the same on GPU)."""
    t = torch()
    t.backends.cuda.matmul.allow_tf32 = False
    t.backends.cudnn.allow_tf32 = False
    if has_module("tensorflow"):
        tf().config.experimental.enable_tensor_float_32_execution(False)


@contextlib.contextmanager
def isolated(seed: int):
    """Run a block seeded, with TF32 off, restoring every global framework setting afterwards."""
    state = capture_state()
    try:
        disable_tf32()
        seed_everything(seed)
        yield
    finally:
        restore_state(state)


def torch_cuda_available() -> bool:
    """True when torch sees a CUDA device (imports torch only)."""
    return bool(torch().cuda.is_available())


def tf_gpu_available() -> bool:
    """True when TensorFlow is installed and sees a GPU."""
    if not (has_module("tensorflow")):
        return False
    return bool(tf().config.list_physical_devices("GPU"))
