"""equivalence: an executable conformance suite for TensorFlow (Keras 3) vs PyTorch.

Importing this package imports neither framework; builders and checks import them on first use.
"""
from .compare import (EquivalenceMismatch, EquivalenceWarning, assert_close, assert_equivalent, compare, to_numpy,
                      ulp_distance)
from .models import build_pair, seed_models
from .spec import LayerSpec, ModelSpec, SpecError, layer
from .tolerances import EXACT, Tolerance, cross, for_arrays, tolerance

__version__ = "0.1.0"

__all__ = [
    "EXACT", "EquivalenceMismatch", "EquivalenceWarning", "LayerSpec", "ModelSpec", "SpecError", "Tolerance",
    "assert_close", "assert_equivalent", "build_pair", "compare", "cross", "for_arrays", "layer", "seed_models",
    "to_numpy", "tolerance", "ulp_distance",
]
