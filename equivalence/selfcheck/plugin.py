"""pytest plugin for the self-check: ``pytest -p equivalence.selfcheck.plugin`` with EQUIVALENCE_MUTANT=<id>.

At session start (after the root conftest's configuration, before collection) it imports the framework the
mutant changes (torch first, then TensorFlow/Keras for a tf-side mutant) and applies the mutant's patch; the
patch is undone at session end. With EQUIVALENCE_SELFCHECK_RESULTS=<path> it writes what ran to that JSON file
(the mutant applied, outcome counts, the passing node ids, each failing test's node id and message), which the
runner reads.
Without EQUIVALENCE_MUTANT it changes nothing (the runner's clean baseline).

While a mutant is applied Hypothesis does not shrink: the first failing example already answers "caught", and
shrinking a two-framework test can take minutes. Passing runs draw the same examples either way.
"""
from __future__ import annotations

import json
import os

import pytest

MUTANT_ENV = "EQUIVALENCE_MUTANT"
RESULTS_ENV = "EQUIVALENCE_SELFCHECK_RESULTS"
_STATE = pytest.StashKey[dict]()
_MESSAGE_CHARS = 1500  # the first lines of a comparison report: what, where, worst element, tolerance
_CONFIG: list = []  # the active config (hooks without a config argument read the state through it)


def _import_frameworks(side: str) -> None:
    from .. import runtime

    if side in ("torch", "tf"):
        runtime.torch()
    if side == "tf":
        runtime.keras()


def _without_shrinking() -> None:
    from hypothesis import Phase, settings

    base = settings.get_current_profile_name()
    phases = tuple(p for p in settings.get_profile(base).phases if p != Phase.shrink)
    settings.register_profile(f"{base}-selfcheck", parent=settings.get_profile(base), phases=phases)
    settings.load_profile(f"{base}-selfcheck")


def pytest_configure(config):
    config.stash[_STATE] = {"mutant": None, "passed": 0, "failed": [], "skipped": 0, "passed_ids": []}
    _CONFIG.append(config)


def pytest_unconfigure(config):
    if config in _CONFIG:
        _CONFIG.remove(config)


def pytest_report_header(config):
    return [f"selfcheck mutant: {os.environ.get(MUTANT_ENV) or 'none (clean baseline)'}"]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    name = os.environ.get(MUTANT_ENV)
    if not name:
        return
    from .mutants import by_id

    try:
        mutant = by_id(name)
    except KeyError as e:
        raise pytest.UsageError(str(e.args[0])) from None
    _import_frameworks(mutant.side)
    patcher = pytest.MonkeyPatch()
    mutant.patch(patcher)
    _without_shrinking()
    session.config.stash[_STATE].update(mutant=mutant.id, _patcher=patcher)


def pytest_runtest_logreport(report):
    """Outcomes as the controller sees them (under xdist the workers' reports arrive here)."""
    if not _CONFIG:
        return
    state = _CONFIG[-1].stash[_STATE]
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)
        state["failed"].append({"nodeid": report.nodeid, "when": report.when, "message": message[:_MESSAGE_CHARS]})
    elif report.when == "call" and report.passed:
        state["passed"] += 1
        state["passed_ids"].append(report.nodeid)
    elif report.skipped:
        state["skipped"] += 1


def pytest_sessionfinish(session, exitstatus):
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    patcher = state.pop("_patcher", None)
    if patcher is not None:
        patcher.undo()
    path = os.environ.get(RESULTS_ENV)
    if path and not hasattr(session.config, "workerinput"):
        state["exitstatus"] = int(exitstatus)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(state, f)
