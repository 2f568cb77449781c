"""Benchmark support: the record each benchmark attaches, and the report that turns a run into ratios.

Benchmarks live in tests/bench (marker `benchmark`, opt-in: `pytest -m benchmark`). Each one stores a `BenchCase`
in pytest-benchmark's `extra_info`, so `python -m equivalence bench-report run.json` can pair the frameworks on the
same work without parsing test names. Ratios, not absolute times, are the claim: both frameworks ran in one process,
with the same threads, data and warm-up, so machine load shifts them together far more than it shifts their ratio.
"""
from __future__ import annotations

import dataclasses
from typing import Any

SUITES = ("models", "pipelines", "mixed_precision")


@dataclasses.dataclass(frozen=True)
class BenchCase:
    """What one benchmark measured; `work` names the shared job, `impl` the framework path that did it."""

    suite: str  # one of SUITES
    work: str  # the job every impl of the group does: 'seed_mlp/forward', 'n=8192,d=32,batch=64'
    impl: str  # 'torch-eager', 'torch-compile', 'keras-eager', 'keras-tf.function', 'DataLoader', ...
    batch: int

    def __post_init__(self):
        if self.suite not in SUITES:
            raise ValueError(f"BenchCase suite {self.suite!r} is not one of {SUITES}")
        if not self.work or not self.impl:
            raise ValueError(f"BenchCase needs a work and an impl name, got work={self.work!r} impl={self.impl!r}")

    def extra_info(self, threads: dict[str, Any]) -> dict[str, Any]:
        """The dict stored in pytest-benchmark's JSON for this benchmark."""
        return {"suite": self.suite, "work": self.work, "impl": self.impl, "batch": self.batch, "threads": threads}


def record(benchmark, case: BenchCase, threads: dict[str, Any]) -> None:
    """Attach `case` and the thread settings to a pytest-benchmark fixture's JSON record."""
    benchmark.extra_info.update(case.extra_info(threads))
