"""Helpers that the witnesses of several area modules share (each module keeps its own otherwise)."""
from __future__ import annotations

import functools
import os
import re

import numpy as np

from .. import runtime
from ..tolerances import dtype_name

# Thread-count variables a test runner may set for itself (the root conftest gives each xdist worker one intra-op
# thread). Witnesses that run a child process observe the frameworks at their DEFAULT thread counts: a heap
# corruption in oneDNN's multi-threaded batched matmul does not happen single-threaded.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

ROUNDED = 2e-6  # slack of observations rounded to 6 decimals (`rounded`)


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


def raised(exc: BaseException) -> str:
    """How a witness observes an error: 'raises <ExceptionType>' (the message can change between releases)."""
    return f"raises {type(exc).__name__}"


def attempt(fn, then=None):
    """then(fn()) (fn() itself without `then`), or 'raises <ExceptionType>' when fn raises: both frameworks'
    errors are part of their API. `then` runs outside the guard, so a witness's own bug still fails loudly."""
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - the type of error is the observation
        return raised(exc)
    return out if then is None else then(out)


def as_list(out):
    """A tensor's values as a (nested) Python list; anything else as it is."""
    return out.numpy().tolist() if hasattr(out, "numpy") else out


def attempt_values(fn):
    """fn()'s values as a (nested) Python list (`as_list`), or 'raises <ExceptionType>' when it raises."""
    return attempt(fn, then=as_list)


def rounded(x, digits: int = 6):
    """Values as float64 (nested) lists rounded to `digits` decimals, so float32 noise in the last digits does
    not make an entry stale (hence `atol=ROUNDED`)."""
    return np.round(np.asarray(x, np.float64), digits).tolist()


def frameworks():
    """(torch, keras), torch imported first."""
    return runtime.torch(), runtime.keras()


def no_grad(witness):
    """Decorator: the witness reads values, never gradients, so it runs under torch.no_grad()."""

    @functools.wraps(witness)
    def run():
        with runtime.torch().no_grad():
            return witness()

    return run


def assert_stale(entry_id: str, *sides: str) -> str:
    """Entry `entry_id`'s check raises StaleDifference naming exactly `sides` ('tf', 'torch'); returns its message.

    The assertion of every witness-mutation test (tests/meta/test_*_mutations.py): after a framework call is
    replaced, the entry must go stale on the changed side and only there. Raises AssertionError (pytest shows it as
    a failure) when the entry checks clean or names other sides."""
    from . import StaleDifference, by_id  # the package imports this module

    try:
        by_id(entry_id).check()
    except StaleDifference as exc:
        message = str(exc)
    else:
        raise AssertionError(f"catalogue entry {entry_id!r} checked clean: expected {sides} to be stale")
    stale = [side for side in ("tf", "torch") if re.search(rf"^  {side}: documented ", message, re.M)]
    if f"catalogue entry {entry_id!r} is stale" not in message or stale != list(sides):
        raise AssertionError(f"expected {sides} to be stale, the message names {stale}:\n{message}")
    return message
