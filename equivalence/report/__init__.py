"""Run reports: run the suite into a JSON report (`run`), compare two reports (`diff`), plot them (`plot`).

The workflow for verifying a framework upgrade is in docs/upgrades.md. Nothing here imports a framework: `run`
starts pytest in a subprocess, and `diff`/`plot` read JSON only.
"""
from .schema import ReportError, load, write

__all__ = ["ReportError", "load", "write"]
