"""The known-differences catalogue: every behaviour difference and default, recorded once as data.

Add an entry as ``ENTRIES.add(KnownDifference(id=..., ...))`` in the module of its area family, right below its
witness: layers.py, ops.py, training.py, gpu.py, and one module per area of what is neither (dtypes.py,
pipelines.py, devices.py, autograd.py, modes.py, numerics.py). An entry's `applies_to` selectors are its one
link to the tests (`lookup`) and to the catalog records it concerns (`for_record`).

Witnesses run both frameworks on tiny inputs and return plain values; an error a framework raises is part of the
observation (recorded by class name, never by full message). Gotcha witnesses live in equivalence.gotchas, shared
with tests/test_gotchas.py.
"""
from __future__ import annotations

from itertools import chain

from ..registry import Registry
from . import autograd, devices, dtypes, gpu, layers, modes, numerics, ops, pipelines, training
from . import integers, loss_options, optimizer_state, rng, scatter
from . import masking
from . import spatial
from . import zoo_steps
from . import attention
from .entry import (AREAS, REGISTRY, ByPlatform, KnownDifference, MalformedDifference, Selector, StaleDifference,
                     Unsupported)

# Module order is catalogue order (the rendered document lists each area's entries in it).
DIFFERENCES: Registry[KnownDifference] = Registry(REGISTRY, chain(
    layers.ENTRIES, spatial.ENTRIES, masking.ENTRIES, ops.ENTRIES, scatter.ENTRIES, integers.ENTRIES, training.ENTRIES, loss_options.ENTRIES,
    optimizer_state.ENTRIES, zoo_steps.ENTRIES, dtypes.ENTRIES, pipelines.ENTRIES, devices.ENTRIES,
    autograd.ENTRIES, modes.ENTRIES, numerics.ENTRIES, rng.ENTRIES, gpu.ENTRIES, attention.ENTRIES))


def lookup(family: str, name: str, dtype: str | None = None) -> list[KnownDifference]:
    """Entries whose `applies_to` selects this property-test case ('*' selectors included)."""
    return [d for d in DIFFERENCES if d.matches(family, name, dtype)]


# The selector families of a catalog record kind's tests: an op's and a loss's gradient tests are 'grad:<id>'.
RECORD_FAMILIES = {"op": ("op", "grad"), "loss": ("loss", "grad"), "optimizer": ("optimizer",), "layer": ("layer",)}


def for_record(kind: str, record, dtypes=None) -> list[KnownDifference]:
    """The entries that concern one catalog record, in catalogue order: those with a selector of the record kind's
    test families (RECORD_FAMILIES) naming the record (a str id, or a record by its `id` and `name`) in one of
    `dtypes` (default: the record's own `dtypes`, else any). The record -> entries link is derived from the
    entries' selectors, never stored on the record; a selector of every name ('op:*:float16') applies to each test
    of a family but concerns no record alone."""
    names = {record} if isinstance(record, str) else {record.id, getattr(record, "name", record.id)}
    dtypes = getattr(record, "dtypes", None) if dtypes is None else dtypes
    return [d for d in DIFFERENCES if any(d.concerns(family, names, dtypes) for family in RECORD_FAMILIES[kind])]


def unsupported_here(family: str, name: str, dtype: str | None = None) -> list[tuple[KnownDifference, Unsupported]]:
    """(entry, limitation) for each documented limitation selecting this test case that is active on this platform."""
    return [(d, d.unsupported) for d in lookup(family, name, dtype) if d.unsupported and d.unsupported.active()]


def by_id(entry_id: str) -> KnownDifference:
    """The entry with this id; KeyError names the unknown id."""
    return DIFFERENCES.by_id(entry_id)


__all__ = ["AREAS", "ByPlatform", "DIFFERENCES", "KnownDifference", "MalformedDifference", "RECORD_FAMILIES",
           "Selector", "StaleDifference", "Unsupported", "by_id", "for_record", "lookup", "unsupported_here"]
