"""equivalence: an executable conformance suite for TensorFlow (Keras 3) vs PyTorch.

Importing this package imports neither framework, nor the model stack: the spec and model names below load on
first use (PEP 562), so `equivalence.report` or `equivalence.version` read without building anything.
"""
from __future__ import annotations

import importlib

from .compare import (EquivalenceMismatch, EquivalenceWarning, assert_close, assert_equivalent, compare, to_numpy,
                      ulp_distance)
from .tolerances import EXACT, Tolerance, cross, for_arrays, tolerance
from .version import __version__

_LAZY = {"build_pair": ".models", "seed_models": ".zoo", "LayerSpec": ".spec", "ModelSpec": ".spec",
         "SpecError": ".spec", "layer": ".spec", "check_pair": ".pair", "assert_models_equivalent": ".pair"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXACT", "EquivalenceMismatch", "EquivalenceWarning", "LayerSpec", "ModelSpec", "SpecError", "Tolerance",
    "__version__", "assert_close", "assert_equivalent", "assert_models_equivalent", "build_pair", "check_pair",
    "compare", "cross", "for_arrays", "layer", "seed_models", "to_numpy", "tolerance", "ulp_distance",
]
