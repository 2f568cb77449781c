"""The errors of `check_pair`: bad arguments or inputs (PairError) and models that cannot be paired (MappingError)."""
from __future__ import annotations


class PairError(ValueError):
    """check_pair cannot run as called; the message says what to fix."""


class MappingError(PairError):
    """No mapping between the two models' layers (transfer), or a user mapping that names what does not exist."""


__all__ = ["MappingError", "PairError"]
