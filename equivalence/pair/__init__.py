"""Bring your own model pair: is a Keras model the same model as a torch module, and where does it first differ?

    result = equivalence.check_pair(keras_model, torch_module, x, transfer="keras_to_torch")
    result.equivalent, result.first_divergence, result.to_markdown()

structure.py matches layers by order, kind and weight shapes; transfer.py converts layouts and copies weights;
rule.py is the suite's tolerance rule per boundary; check.py runs the comparison; explain.py names structural
differences and catalogue causes; report.py renders; cli.py is `python -m equivalence check`. The framework work
lives in equivalence.sides.pair_probe. Importing this package imports no framework.
"""
from __future__ import annotations

from .check import Boundary, PairResult, assert_models_equivalent, check_pair
from .errors import MappingError, PairError

__all__ = ["Boundary", "MappingError", "PairError", "PairResult", "assert_models_equivalent", "check_pair"]
