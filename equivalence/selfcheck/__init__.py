"""Mutation self-check: small plausible framework changes the suite must catch (`python -m equivalence selfcheck`).

`mutants.MUTANTS` is the registry, `plugin` the pytest plugin that applies one mutant per process, `runner` the
command (baseline, one pytest process per mutant, score). Importing this package imports no framework.
"""
from __future__ import annotations

from .mutants import MUTANTS, NULL_ID, Mutant, by_id

__all__ = ["MUTANTS", "NULL_ID", "Mutant", "by_id"]
