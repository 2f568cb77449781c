"""Helpers that the witnesses of several area modules share (each module keeps its own otherwise)."""
from __future__ import annotations

import os

from ..tolerances import dtype_name

# Thread-count variables a test runner may set for itself (the root conftest gives each xdist worker one intra-op
# thread). Witnesses that run a child process observe the frameworks at their DEFAULT thread counts: a heap
# corruption in oneDNN's multi-threaded batched matmul does not happen single-threaded.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a witness's child process: this one's (TF_ENABLE_ONEDNN_OPTS, ONEDNN_MAX_CPU_ISA and
    ATEN_CPU_CAPABILITY are the platform under test) without thread-count settings, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}, **extra}


def dtype_of(x) -> str:
    """A TF or torch tensor's dtype by name ('float32')."""
    return dtype_name(x.dtype)


def dtype_or_error(fn) -> str:
    """The dtype of fn()'s result, or the name of the exception it raises."""
    try:
        return dtype_of(fn())
    except Exception as exc:  # noqa: BLE001 - the error class is the observation
        return type(exc).__name__
