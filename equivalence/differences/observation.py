"""What running a catalogue entry's witness showed, judged against its documented values: one `Observation`.

The one type and vocabulary for every place that observes the catalogue: the rendered document and its CLI
(render.py), the run report (equivalence/plugins/report.py writes `row()`, report/run.py reads `from_row()`), and
the reproduction tests, whose observed values the report plugin judges here. The status words are the run
report's (report/schema.py STATUSES): 'documented' (both sides as documented on this platform), 'stale' (a side
observed otherwise) and 'error' (the witness raised, or returned something other than {'tf', 'torch'}).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..report.schema import STATUSES

DOCUMENTED, STALE, ERROR = STATUSES


@dataclasses.dataclass(frozen=True)
class Observation:
    entry_id: str
    status: str  # one of STATUSES
    observed: dict[str, Any] | None  # {'tf': ..., 'torch': ...} normalised; None when the witness failed
    stale_sides: tuple[str, ...] = ()  # the sides observed otherwise than documented ('stale')
    error: str = ""  # what went wrong ('error')

    @classmethod
    def of(cls, entry, observed: dict[str, Any] | None = None) -> Observation:
        """Judge `observed` (the witness is run now when None) against `entry`'s documented values on this platform;
        a failing witness gives an 'error' observation, never an exception."""
        if observed is None:
            try:
                observed = entry.observe()  # seeded and isolated, errors named by the entry (KnownDifference.observe)
            except Exception as exc:  # noqa: BLE001 - a broken witness is an observation, not fatal to the caller
                return cls(entry.id, ERROR, None, error=str(exc))
        stale = tuple(entry.stale_sides(observed))
        return cls(entry.id, STALE if stale else DOCUMENTED, observed, stale)

    @property
    def detail(self) -> str:
        """'stale sides: tf, torch' or the error; '' when documented."""
        return f"stale sides: {', '.join(self.stale_sides)}" if self.stale_sides else self.error

    def describe(self) -> str:
        """One line naming the entry: what is wrong with it, or that it is as documented."""
        if self.status == ERROR:
            return f"catalogue entry {self.entry_id!r} could not be observed: {self.error}"
        return f"catalogue entry {self.entry_id!r} is {self.status}" + (f" ({self.detail})" if self.detail else "")

    def row(self, entry) -> dict[str, Any]:
        """The run report's record of this observation (report/schema.py `catalogue` values)."""
        return {"area": entry.area, "title": entry.title, "status": self.status, "observed": self.observed,
                "expected": entry.expected_on(), "atol": entry.atol, "error": self.error}

    @classmethod
    def from_row(cls, entry_id: str, row: dict[str, Any]) -> Observation:
        """An observation read back from a run report's `catalogue` row (which keeps no stale sides)."""
        return cls(entry_id, row["status"], row.get("observed"), error=row.get("error", ""))


def observe_all(entries, cache: dict[str, Observation] | None = None) -> dict[str, Observation]:
    """An Observation per entry, by id; ids already in `cache` are not run again."""
    cache = {} if cache is None else cache
    for entry in entries:
        if entry.id not in cache:
            cache[entry.id] = Observation.of(entry)
    return cache


def as_documented(entries) -> dict[str, Observation]:
    """Each entry observed exactly as documented on this platform, without running a witness: what a render shows
    when every witness agrees, which tests/test_differences.py::test_difference_reproduces checks entry by entry
    (so a test of the rendered text need not run all witnesses again)."""
    return {e.id: Observation(e.id, DOCUMENTED, e.expected_on()) for e in entries}
