"""OP_DB: every tensor op of the registry, concatenated from the family modules and validated at import.

Add an op by appending one OpInfo to the OPS list of its family module (ops_<family>.py); the generic tests in
tests/test_ops.py and the coverage table (python -m equivalence coverage) pick it up.
"""
from __future__ import annotations

from itertools import chain

from ..registry import Registry
from . import ops_attention, ops_binary, ops_elementwise, ops_linalg, ops_nn, ops_reduction, ops_shape
from . import ops_scatter
from .opinfo import REGISTRY, MalformedOpInfo, OpInfo, Sample

OP_DB: Registry[OpInfo] = Registry(REGISTRY, chain(
    ops_elementwise.OPS, ops_binary.OPS, ops_reduction.OPS, ops_linalg.OPS, ops_shape.OPS, ops_nn.OPS,
    ops_attention.OPS, ops_scatter.OPS))


def by_id(op_id: str) -> OpInfo:
    """The entry with this id; KeyError lists close ids."""
    return OP_DB.by_id(op_id)


__all__ = ["OP_DB", "MalformedOpInfo", "OpInfo", "Sample", "by_id"]
