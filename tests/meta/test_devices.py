"""Device discovery and the defaults snapshot (equivalence/devices.py), without needing a GPU."""
from __future__ import annotations

import pytest

from equivalence import runtime, devices

pytestmark = pytest.mark.meta


def test_missing_tensorflow_is_named(monkeypatch):
    """Without TensorFlow, the TF reason says so and TF lists no devices (the CUDA box's situation)."""
    real = runtime.has_module
    monkeypatch.setattr(runtime, "has_module", lambda name: False if name == "tensorflow" else real(name))
    assert devices.tf_gpu_reason() == "TensorFlow not installed"
    assert devices.tf_devices() == []
    assert "tf: cpu only [TensorFlow not installed]" in devices.summary()


def test_missing_cuda_is_named(monkeypatch):
    """Where torch sees no CUDA device, the reason says so and only the CPU is listed."""
    monkeypatch.setattr(runtime.torch().cuda, "is_available", lambda: False)
    assert devices.torch_gpu_reason().startswith("torch sees no CUDA device")
    assert [d.kind for d in devices.torch_devices()] == ["cpu"]
    assert devices.summary().startswith("devices: torch: cpu only [torch sees no CUDA device")


def test_defaults_snapshot_predates_test_isolation():
    """The snapshot holds the real defaults although the root conftest switched TF32 off for this test."""
    torch = runtime.torch()
    assert torch.backends.cudnn.allow_tf32 is False  # the isolation's setting inside every test
    defaults = devices.framework_defaults()
    assert defaults["torch"]["cudnn_allow_tf32"] is True and defaults["torch"]["matmul_allow_tf32"] is False
    if runtime.has_module("tensorflow"):
        assert runtime.tf().config.experimental.tensor_float_32_execution_enabled() is False
        assert defaults["tf"]["tensor_float_32"] is True
