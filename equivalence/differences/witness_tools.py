"""Helpers that the witnesses of several area modules share (each module keeps its own otherwise)."""
from __future__ import annotations

from ..tolerances import dtype_name


def dtype_of(x) -> str:
    """A TF or torch tensor's dtype by name ('float32')."""
    return dtype_name(x.dtype)


def dtype_or_error(fn) -> str:
    """The dtype of fn()'s result, or the name of the exception it raises."""
    try:
        return dtype_of(fn())
    except Exception as exc:  # noqa: BLE001 - the error class is the observation
        return type(exc).__name__
