"""One registry base for every catalogue of the suite: ops, layers, losses, optimizers, schedules, differences.

A `Record` has an `id` (a field or a property), a short repr ``Kind<id>`` (test ids and Hypothesis' falsifying
examples print it), and `problems()`, the list of what is wrong with it; `validate()` raises them as one
`RecordError`. A `Registry` keeps records in declaration order, validates each one it is given and rejects a
repeated id, so a malformed catalogue fails at import with the registry, the record and the problem named.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar, TypeVar


class RecordError(ValueError):
    """A record is invalid or its id is taken: the message names the registry, the record and the problem."""

    def __init__(self, registry: str, record_id: str | None, problem: str):
        super().__init__(registry, record_id, problem)  # all three in args: the error pickles (xdist, Hypothesis)
        self.registry, self.record_id, self.problem = registry, record_id, problem

    def __str__(self) -> str:
        where = self.registry if self.record_id is None else f"{self.registry} entry {self.record_id!r}"
        return f"{where}: {self.problem}"


class Record:
    """Mixin of a registry record; a dataclass using it passes ``repr=False`` so the short repr stays."""

    REGISTRY: ClassVar[str] = "registry"  # the registry's name in RecordError messages ('op registry', 'catalogue')
    id: str

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.id}>"

    def _repr_pretty_(self, printer, cycle):  # IPython/Hypothesis printers would otherwise list every field
        printer.text(repr(self))

    def problems(self) -> list[str]:
        """What is wrong with this record (empty when it is valid)."""
        return []

    def validate(self) -> None:
        """Raise RecordError naming this record and every problem it has."""
        problems = self.problems()
        if problems:
            raise RecordError(self.REGISTRY, self.id, "; ".join(problems))


R = TypeVar("R", bound=Record)


class Registry(Sequence[R]):
    """Records in declaration order: each validated when added, ids unique; indexable and iterable like a list."""

    def __init__(self, name: str, records: Iterable[R] = ()):
        self.name = name
        self._records: list[R] = []
        self._by_id: dict[str, R] = {}
        for record in records:
            self.add(record)

    def add(self, record: R) -> R:
        """Validate `record` and append it; RecordError when it is invalid or its id is taken."""
        record.validate()
        if record.id in self._by_id:
            raise RecordError(self.name, record.id, "duplicate id (an id names one record and is never reused)")
        self._records.append(record)
        self._by_id[record.id] = record
        return record

    def by_id(self, record_id: str) -> R:
        """The record with this id; KeyError names the registry and the ids that start alike."""
        try:
            return self._by_id[record_id]
        except KeyError:
            alike = [i for i in self._by_id if i[:3] == str(record_id)[:3]]
            raise KeyError(f"{self.name} has no entry {record_id!r}; ids starting alike: {alike}") from None

    def ids(self) -> list[str]:
        return list(self._by_id)

    def __getitem__(self, index):
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[R]:
        return iter(self._records)

    def __repr__(self) -> str:
        return f"Registry<{self.name}: {len(self)} records>"
