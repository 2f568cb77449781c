"""Device discovery for both frameworks, and the process-default settings that GPU behaviour depends on.

Every function imports its framework lazily (torch first, through `runtime`) and never initialises TensorFlow's
runtime: `tf.config.list_physical_devices` does not, so thread settings made later (the benchmarks) still apply.
A reason string is returned wherever a device is missing, so a skip says exactly what is absent.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import subprocess
import sys
from typing import Any

from . import runtime


@dataclasses.dataclass(frozen=True)
class Device:
    """One accelerator or CPU as a framework sees it."""

    framework: str  # 'torch' or 'tf'
    name: str  # 'cuda:0', '/physical_device:GPU:0', 'cpu'
    kind: str  # 'gpu' or 'cpu'
    detail: str = ""  # model name and compute capability, where the framework reports them

    def __str__(self) -> str:
        return f"{self.framework}:{self.name}" + (f" ({self.detail})" if self.detail else "")


def torch_gpu_reason() -> str | None:
    """None when torch can run on CUDA here, else why not."""
    if not runtime.has_module("torch"):
        return "PyTorch not installed"
    t = runtime.torch()
    if not t.cuda.is_available():
        build = t.version.cuda
        return "torch sees no CUDA device" + ("" if build else f" (CPU-only build {t.__version__})")
    return None


def tf_gpu_reason() -> str | None:
    """None when TensorFlow can run on a GPU here, else why not (checked without initialising TF's runtime)."""
    if not runtime.has_module("tensorflow"):
        return "TensorFlow not installed"
    tf = runtime.tf()
    if not tf.config.list_physical_devices("GPU"):
        built = tf.test.is_built_with_cuda()
        return "TensorFlow sees no GPU" + ("" if built else f" (CPU-only build {tf.__version__})")
    return None


def torch_devices() -> list[Device]:
    """CPU plus every CUDA device torch sees, with name and compute capability."""
    if not runtime.has_module("torch"):
        return []
    t = runtime.torch()
    found = [Device("torch", "cpu", "cpu", f"{t.get_num_threads()} threads")]
    for i in range(t.cuda.device_count() if t.cuda.is_available() else 0):
        major, minor = t.cuda.get_device_capability(i)
        found.append(Device("torch", f"cuda:{i}", "gpu", f"{t.cuda.get_device_name(i)}, sm_{major}{minor}"))
    return found


def tf_devices() -> list[Device]:
    """Every physical device TensorFlow sees (CPU and GPU), without initialising its runtime."""
    if not runtime.has_module("tensorflow"):
        return []
    tf = runtime.tf()
    found = []
    for d in tf.config.list_physical_devices():
        kind = "gpu" if d.device_type == "GPU" else "cpu"
        detail = ""
        if kind == "gpu":
            info = tf.config.experimental.get_device_details(d)
            detail = f"{info.get('device_name', '?')}, cc {info.get('compute_capability', '?')}"
        found.append(Device("tf", d.name.replace("/physical_device:", ""), kind, detail))
    return found


def share_gpu_with_torch() -> None:
    """Make TensorFlow allocate GPU memory on demand instead of taking all of it at its first op (torch needs some).

    Must run before TF initialises its GPUs; the gpu plugin calls it at session start. A no-op without a TF GPU.
    """
    if not runtime.has_module("tensorflow"):
        return
    tf = runtime.tf()
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised by an earlier caller: nothing left to change
            pass


def supports_tf32(device_index: int = 0) -> bool:
    """True on CUDA devices of compute capability >= 8.0 (Ampere+), where TF32 tensor cores exist."""
    t = runtime.torch()
    return bool(t.cuda.is_available() and t.cuda.get_device_capability(device_index)[0] >= 8)


def summary() -> str:
    """One line for the pytest report header: the devices each framework sees, or why it sees none."""
    parts = []
    for framework, lister, reason in (("torch", torch_devices, torch_gpu_reason), ("tf", tf_devices, tf_gpu_reason)):
        gpus = ", ".join(str(d) for d in lister() if d.kind == "gpu")
        why = reason()
        parts.append(f"{framework}: " + (f"{gpus}" if gpus else "cpu only") + (f" [{why}]" if why else ""))
    return "devices: " + "; ".join(parts)


# --- process defaults ---------------------------------------------------------------------------------------------
# The root conftest turns TF32 off inside every test, so a test cannot read a framework's *default* directly.
# The gpu plugin snapshots the defaults once per process, before any test changes them (a session fixture runs
# before the function-scoped isolation); outside pytest the snapshot is taken in a fresh interpreter instead.

_DEFAULTS_CODE = r"""
import json, os, sys
sys.path.insert(0, os.getcwd())
from equivalence import devices
print(json.dumps(devices._read_defaults()))
"""


def _read_defaults() -> dict[str, Any]:
    """The GPU-relevant global settings as they are now (meant to run before anything changes them)."""
    t = runtime.torch()
    out: dict[str, Any] = {"torch": {
        "matmul_allow_tf32": bool(t.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(t.backends.cudnn.allow_tf32),
        "cudnn_deterministic": bool(t.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(t.backends.cudnn.benchmark),
        "deterministic_algorithms": bool(t.are_deterministic_algorithms_enabled()),
    }, "tf": None}
    if runtime.has_module("tensorflow"):
        tf, keras = runtime.tf(), runtime.keras()
        out["tf"] = {
            "tensor_float_32": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
            "dtype_policy": keras.mixed_precision.dtype_policy().name,
        }
    return out


_SNAPSHOT: dict[str, Any] = {}


def snapshot_defaults() -> dict[str, Any]:
    """Record the process defaults now (the gpu plugin calls this at session start, before any test runs)."""
    if not _SNAPSHOT:
        _SNAPSHOT.update(_read_defaults())
    return dict(_SNAPSHOT)


@functools.cache
def _defaults_in_fresh_process() -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _DEFAULTS_CODE], capture_output=True, text=True, timeout=300,
                          cwd=_repo_root())
    if proc.returncode:
        raise RuntimeError(f"reading framework defaults in a fresh interpreter failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _repo_root() -> str:
    import pathlib

    return str(pathlib.Path(__file__).resolve().parent.parent)


def framework_defaults() -> dict[str, Any]:
    """The defaults of this process's frameworks: the plugin's snapshot, else read in a fresh interpreter."""
    return dict(_SNAPSHOT) if _SNAPSHOT else _defaults_in_fresh_process()
