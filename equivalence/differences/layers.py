"""Known differences: layers area (one KnownDifference per entry; append to ENTRIES)."""
from __future__ import annotations

from ._entry import KnownDifference

ENTRIES: list[KnownDifference] = []
