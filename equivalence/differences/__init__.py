"""The known-differences catalogue: every behaviour difference and default, recorded once as data.

Add an entry by appending a `KnownDifference` to the list of its area module (one module per area family).
"""
from __future__ import annotations

from . import gpu, layers, ops, runtime, training
from ._entry import AREAS, ByPlatform, KnownDifference, Unsupported, MalformedDifference, StaleDifference, build_registry

DIFFERENCES: list[KnownDifference] = build_registry(
    layers.ENTRIES, ops.ENTRIES, training.ENTRIES, runtime.ENTRIES, gpu.ENTRIES
)


def lookup(family: str, name: str, dtype: str | None = None) -> list[KnownDifference]:
    """Entries whose `applies_to` selects this property-test case."""
    return [d for d in DIFFERENCES if d.matches(family, name, dtype)]


def unsupported_here(family: str, name: str, dtype: str | None = None) -> list[tuple[KnownDifference, Unsupported]]:
    """(entry, limitation) for each documented limitation selecting this test case that is active on this platform."""
    return [(d, d.unsupported) for d in lookup(family, name, dtype) if d.unsupported and d.unsupported.active()]


def by_id(entry_id: str) -> KnownDifference:
    """The entry with this id; KeyError names the unknown id."""
    for d in DIFFERENCES:
        if d.id == entry_id:
            return d
    raise KeyError(f"no catalogue entry {entry_id!r}")


__all__ = ["AREAS", "ByPlatform", "DIFFERENCES", "KnownDifference", "MalformedDifference", "StaleDifference",
           "Unsupported", "by_id", "lookup", "unsupported_here"]
