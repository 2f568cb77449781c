"""The device axis of the generic tests: every case once per device, as PyTorch's device-type tests do.

Test ids end in the device ('exp-float32-cpu', 'exp-float32-cuda'); accelerator cases carry the gpu marker, so the
default run (-m 'not gpu') runs the CPU ones and `pytest -m gpu` the accelerator ones, which skip at setup where
torch sees no CUDA (root conftest). Only ids and marks are made here: no framework is touched at collection.
"""
from __future__ import annotations

import pytest

CPU = "cpu"
ACCELERATORS = ("cuda",)
DEVICES = (CPU, *ACCELERATORS)
FRAMEWORKS = ("torch", "tf")


def on_devices(params, devices=DEVICES) -> list:
    """Each pytest.param (or tuple of values) once per device: the device appended to its values and its id."""
    out = []
    for p in params:
        values, marks, stem = (p.values, list(p.marks), p.id) if hasattr(p, "values") else (tuple(p), [], None)
        for device in devices:
            extra = [pytest.mark.gpu] if device != CPU else []
            out.append(pytest.param(*values, device, marks=marks + extra,
                                    id=f"{stem}-{device}" if stem is not None else None))
    return out


# ---------------------------------------------------------------- which frameworks run on a device
def device_side(framework: str, device: str):
    """The side of `framework` on the axis' `device` ('cpu' or 'cuda'; TF calls its accelerator 'gpu')."""
    from ..sides import side_for

    return side_for(framework, "gpu" if framework == "tf" and device != CPU else device)


def running_on(device: str, frameworks=FRAMEWORKS) -> list[str]:
    """The frameworks of `frameworks` whose side on `device` can run here."""
    return [f for f in frameworks if device_side(f, device).unavailable() is None]


def unavailable(device: str, frameworks=FRAMEWORKS) -> str | None:
    """None where one of `frameworks` runs on `device` here, else every side's reason (what a skip says)."""
    if running_on(device, frameworks):
        return None
    return "; ".join(f"{device_side(f, device).name}: {device_side(f, device).unavailable()}" for f in frameworks)


def require_device(device: str, frameworks=FRAMEWORKS) -> None:
    """Skip the running test, naming each side's reason, where none of `frameworks` runs on `device` here."""
    why = unavailable(device, frameworks)
    if why:
        pytest.skip(why)
