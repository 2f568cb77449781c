"""equivalence: an executable conformance suite for TensorFlow (Keras 3) vs PyTorch.

Importing this package imports neither framework; builders and checks import them on first use.
"""
from .compare import (EquivalenceMismatch, EquivalenceWarning, assert_close, assert_equivalent, compare, to_numpy,
                      ulp_distance)
from .tolerances import EXACT, Tolerance, cross, for_arrays, tolerance

__version__ = "0.1.0"

__all__ = [
    "EXACT", "EquivalenceMismatch", "EquivalenceWarning", "Tolerance", "assert_close", "assert_equivalent",
    "compare", "cross", "for_arrays", "to_numpy", "tolerance", "ulp_distance",
]
