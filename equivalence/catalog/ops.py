"""OP_DB: every tensor op of the registry, concatenated from the family modules and validated at import.

Add an op by appending one OpInfo to the OPS list of its family module (ops_<family>.py); the generic tests in
tests/test_ops.py and the coverage table (python -m equivalence coverage) pick it up.
"""
from __future__ import annotations

from . import ops_binary, ops_elementwise, ops_linalg, ops_nn, ops_reduction, ops_shape
from ._opinfo import MalformedOpInfo, OpInfo, Sample


def build_op_db(*groups: list[OpInfo]) -> list[OpInfo]:
    """Concatenate family lists; raise MalformedOpInfo naming the entry on a duplicate id or an invalid field."""
    seen: dict[str, OpInfo] = {}
    for group in groups:
        for info in group:
            info.validate()
            if info.id in seen:
                raise MalformedOpInfo(f"duplicate op registry id {info.id!r} ({info.tf_api} and {seen[info.id].tf_api})")
            seen[info.id] = info
    return list(seen.values())


OP_DB: list[OpInfo] = build_op_db(ops_elementwise.OPS, ops_binary.OPS, ops_reduction.OPS, ops_linalg.OPS, ops_shape.OPS, ops_nn.OPS)


def by_id(op_id: str) -> OpInfo:
    """The entry with this id; KeyError lists close ids."""
    for info in OP_DB:
        if info.id == op_id:
            return info
    raise KeyError(f"no op {op_id!r} in OP_DB; ids starting alike: {[i.id for i in OP_DB if i.id[:3] == op_id[:3]]}")


__all__ = ["OP_DB", "MalformedOpInfo", "OpInfo", "Sample", "build_op_db", "by_id"]
