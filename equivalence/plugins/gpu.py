"""pytest plugin: devices, GPU fixtures and benchmark fairness (loaded from the root conftest).

- Report header: the devices each framework sees (probed only when the run selects gpu or benchmark tests, so the
  default run does not pay for importing both frameworks in the xdist controller).
- `torch_cuda` / `tf_gpu`: the device to run on, or a skip naming what is missing ("TensorFlow not installed",
  "TensorFlow sees no GPU"). The root conftest already skips every gpu test where torch sees no CUDA.
- gpu tests run with cuDNN deterministic and autotuning off, restored afterwards (their results must repeat).
- A session snapshot of the frameworks' defaults, taken before any test's isolation turns TF32 off, so the
  catalogue's GPU entries can assert the real defaults (`equivalence.devices.framework_defaults`); TF is also told
  to grow its GPU memory on demand so that torch and TF can share one GPU in a process.
- `bench_threads`: one thread count set on both frameworks before TensorFlow starts its runtime, and recorded.
"""
from __future__ import annotations

import os

import pytest

from .. import runtime, devices

DEFAULT_BENCH_THREADS = 1  # one intra-op thread each: the ratio measures kernels + dispatch, not who grabs more cores


def pytest_addoption(parser):
    group = parser.getgroup("equivalence")
    group.addoption("--bench-threads", type=int, default=None,
                    help=f"intra-op threads for both frameworks in benchmarks (default {DEFAULT_BENCH_THREADS}, "
                         "or EQUIVALENCE_BENCH_THREADS)")


def pytest_report_header(config):
    markexpr = config.getoption("markexpr", "") or ""
    if "gpu" in markexpr.replace("not gpu", "") or "benchmark" in markexpr.replace("not benchmark", ""):
        return [devices.summary()]
    return ["devices: not probed in this run (pytest -m gpu / -m benchmark lists them)"]


@pytest.fixture(scope="session", autouse=True)
def _framework_defaults_snapshot():
    """Record TF32/cuDNN/policy defaults before the first test's isolation changes them; let TF share the GPU."""
    devices.snapshot_defaults()
    devices.share_gpu_with_torch()


@pytest.fixture
def torch_cuda():
    """torch.device('cuda'), or skip naming why torch cannot use CUDA here."""
    reason = devices.torch_gpu_reason()
    if reason:
        pytest.skip(f"torch GPU side: {reason}")
    return runtime.torch().device("cuda")


@pytest.fixture
def tf_gpu():
    """The TensorFlow GPU device name ('/GPU:0'), or skip naming why TensorFlow cannot use a GPU here."""
    reason = devices.tf_gpu_reason()
    if reason:
        pytest.skip(f"TensorFlow GPU side: {reason}")
    return "/GPU:0"


@pytest.fixture(autouse=True)
def _cudnn_deterministic(request):
    """gpu tests: cuDNN picks deterministic algorithms and no autotuning; the previous flags come back after."""
    if request.node.get_closest_marker("gpu") is None or not runtime.has_module("torch"):
        yield
        return
    cudnn = runtime.torch().backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = saved


def _wanted_threads(config) -> int:
    value = config.getoption("--bench-threads") or os.environ.get("EQUIVALENCE_BENCH_THREADS") or DEFAULT_BENCH_THREADS
    try:
        n = int(value)
    except ValueError:
        raise pytest.UsageError(f"--bench-threads / EQUIVALENCE_BENCH_THREADS must be an integer, got {value!r}") from None
    if n < 1:
        raise pytest.UsageError(f"--bench-threads must be >= 1, got {n}")
    return n


@pytest.fixture(scope="session")
def bench_threads(pytestconfig) -> dict:
    """Set the same intra-op thread count on torch and TF (TF inter-op 1), before TF's runtime starts; record it."""
    n = _wanted_threads(pytestconfig)
    torch = runtime.torch()
    torch.set_num_threads(n)
    recorded = {"threads": n, "torch_intra_op": torch.get_num_threads()}
    if runtime.has_module("tensorflow"):
        threading = runtime.tf().config.threading
        try:
            threading.set_intra_op_parallelism_threads(n)
            threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            got = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
            if got != (n, 1):
                pytest.skip(f"TensorFlow's runtime started before its threads could be set (intra/inter={got}, "
                            f"wanted ({n}, 1)); run benchmarks in their own process: pytest -m benchmark")
        recorded.update(tf_intra_op=threading.get_intra_op_parallelism_threads(),
                        tf_inter_op=threading.get_inter_op_parallelism_threads())
    return recorded
