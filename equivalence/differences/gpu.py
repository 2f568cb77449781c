"""Known differences: gpu area (one KnownDifference per entry; append to ENTRIES)."""
from __future__ import annotations

from ._entry import KnownDifference

ENTRIES: list[KnownDifference] = []
