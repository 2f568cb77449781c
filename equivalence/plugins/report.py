"""pytest plugin (loaded from the root conftest): ``--equivalence-report PATH`` writes a run report.

What it records is described in equivalence/report/schema.py. It collects on the controller only, in
``pytest_runtest_logreport``: under pytest-xdist the measurements this plugin attaches to
``item.user_properties`` travel with each TestReport from the workers to the controller.

Per case, beside the measurements: the bitwise fingerprint of each side's result of each comparison
(``equivalence.fingerprint``, collected by the same recorder). At session end, when ``equivalence.api_surface``
exists, its ``snapshot()`` (every public layer/loss/optimizer's signature and config, per framework).

The platform (``equivalence.platform.observed()``: CPU, vector ISA, the kernels TF and torch decided on, BLAS,
threads) is recorded on the controller at session end: the workers run with its environment on its CPU.

Catalogue entries: the report holds every entry's observed values, taken from the run where possible, because
observing all witnesses again costs ~20 s (plus importing both frameworks on the controller):
- a test may hand an observation over: ``request.node.user_properties.append((OBSERVED_KEY, {"id": entry.id,
  "observed": observed}))``;
- when ``tests/test_differences.py::test_difference_reproduces[<id>]`` passed, ``entry.check()`` found the observed
  values equal to ``expected`` (exactly, for entries with atol 0), so those are the observed values;
- every other entry of ``equivalence.differences.DIFFERENCES`` (stale, not run, or with float slack) is observed here
  at session end, through ``entry.observe()`` (seeded and isolated as in the test).
Each is judged by ``equivalence.differences.observation.Observation``, the catalogue's one observation type, whose
status words ('documented', 'stale', 'error') the report stores.
"""
from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from typing import Any

import pytest

MEASUREMENTS_KEY = "equivalence_measurements"  # attached by pytest_runtest_call below (list of Comparison.record())
FINGERPRINTS_KEY = "equivalence_fingerprints"  # attached beside it: equivalence.fingerprint.Fingerprints.rows()
OBSERVED_KEY = "equivalence_observed"  # {"id": entry id, "observed": {"tf": ..., "torch": ...}}
REPRODUCES_TEST = "test_difference_reproduces["  # tests/test_differences.py, parametrized by entry id
SUITE_FAMILIES = ("ops", "layers", "losses", "grads", "optim", "catalogue", "gotcha", "meta")  # a test's family
# is its marker (else its test_<family>.py file); report/run.py FAMILY_LABELS names them in the summary
_MESSAGE_LINES = 40  # a failure message is kept whole up to this many lines (Comparison.render() is ~8 lines)


def pytest_addoption(parser):
    group = parser.getgroup("equivalence")
    group.addoption("--equivalence-report", metavar="PATH", default=None,
                    help="write a JSON run report (outcomes, measured errors vs tolerance, catalogue observations)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Attach every comparison a test made through equivalence.compare to its report (travels through xdist), when
    the run writes a report: otherwise nothing is recorded, and nothing is pickled from the workers to the
    controller per test."""
    from ..compare import recording

    if not item.config.getoption("equivalence_report", None):
        return (yield)
    with recording() as measurements:
        try:
            return (yield)
        finally:
            if measurements:
                item.user_properties.append((MEASUREMENTS_KEY, list(measurements)))
            if measurements.fingerprints:
                item.user_properties.append((FINGERPRINTS_KEY, measurements.fingerprints.rows()))


def pytest_configure(config):
    path = config.getoption("equivalence_report", None)
    if path and not hasattr(config, "workerinput"):  # xdist workers send their reports to the controller
        config.pluginmanager.register(ReportCollector(config, path), "equivalence-report-collector")


def family_of(nodeid: str, keywords) -> str:
    """The suite family of a test: its family marker, else the test file's `test_<family>` name, else 'other'."""
    for name in SUITE_FAMILIES:
        if name in keywords:
            return name
    stem = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")
    return stem if stem in SUITE_FAMILIES else "other"


def message_of(report) -> str:
    """The reason a phase did not pass: the exception message for failures, the reason for skips."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # skip: (path, lineno, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    return "\n".join(text.splitlines()[:_MESSAGE_LINES])


def aggregate(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Fold Comparison.record() rows into one worst-case row per '<what>: <a> vs <b>'."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        key = f"{rec['what']}: {rec['a']} vs {rec['b']}"
        row = out.get(key)
        if row is None:
            out[key] = dict(_row(rec), n=1, ok=bool(rec["ok"]))
            continue
        if _worse(rec["error_over_tol"], row["error_over_tol"]):
            row.update(atol=rec["atol"], rtol=rec["rtol"], error_over_tol=rec["error_over_tol"], dtype=rec["dtype"])
        row["max_abs"] = max(row["max_abs"], rec["max_abs"])
        row["max_rel"] = max(row["max_rel"], rec["max_rel"])
        row["n"] += 1
        row["ok"] = row["ok"] and bool(rec["ok"])
    return dict(sorted(out.items()))


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec[k] for k in ("max_abs", "max_rel", "atol", "rtol", "error_over_tol", "dtype")}


def _worse(x: float, y: float) -> bool:
    return (math.isnan(x) and not math.isnan(y)) or x > y


def _phase_outcome(report) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call" and report.failed:
        return "error"
    return report.outcome


class ReportCollector:
    """Gathers per-case outcomes and measurements on the controller, and writes the report at session end."""

    def __init__(self, config, path: str):
        self.config = config
        self.path = path
        self.cases: dict[str, dict[str, Any]] = {}
        self.observed: dict[str, Any] = {}
        self.reproduced: set[str] = set()
        self.started = time.time()

    def pytest_runtest_logreport(self, report):
        case = self.cases.setdefault(report.nodeid, {"outcome": "passed", "message": "", "measurements": {},
                                                     "family": family_of(report.nodeid, report.keywords)})
        outcome = _phase_outcome(report)
        # The call phase decides; setup/teardown only matter when they did not pass and nothing failed before.
        if report.when == "call" or (outcome != "passed" and case["outcome"] == "passed"):
            case["outcome"] = outcome
            if outcome != "passed":
                case["message"] = message_of(report) or (getattr(report, "wasxfail", "") or "")
        test = report.nodeid.rsplit("::", 1)[-1]
        if report.when == "call" and report.passed and test.startswith(REPRODUCES_TEST):
            self.reproduced.add(test[len(REPRODUCES_TEST):-1])
        for name, value in report.user_properties:
            if name == MEASUREMENTS_KEY:
                case["measurements"] = aggregate(value)
            elif name == FINGERPRINTS_KEY:
                case["fingerprints"] = value
            elif name == OBSERVED_KEY:
                self.observed[value["id"]] = value["observed"]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        from equivalence import runtime
        from equivalence.report import schema
        from hypothesis import settings

        catalogue = observe_catalogue(self.observed, self.reproduced)
        report = schema.build(versions=runtime.versions(), hypothesis_profile=settings.get_current_profile_name(),
                              platform=platform_record(), cases=self.cases, catalogue=catalogue,
                              run=self._run_metadata(int(exitstatus)), api_surface=api_surface_record())
        schema.write(report, self.path)

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", f"equivalence run report: {self.path}")

    def _run_metadata(self, exitstatus: int) -> dict[str, Any]:
        return {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
                "duration_s": round(time.time() - self.started, 1), "exitstatus": exitstatus,
                "argv": [str(a) for a in self.config.invocation_params.args], "host": platform.node(),
                "python": sys.version.split()[0], "platform": platform.platform(), "git_commit": _git_commit(),
                "workers": getattr(self.config.option, "numprocesses", None) or 0}


def platform_record() -> dict[str, Any]:
    """`equivalence.platform.observed()`, taken here on the controller: xdist workers are started with its
    environment (TF_ENABLE_ONEDNN_OPTS, ATEN_CPU_CAPABILITY, thread variables) on the same CPU, so they decide the
    same kernels. Imports torch and TensorFlow when the run did not (about 5 s, once per run)."""
    from equivalence import platform as _platform

    return _platform.observed()


def api_surface_record() -> dict[str, Any]:
    """`equivalence.api_surface.snapshot()` (per framework, per public layer/loss/optimizer: signature and
    get_config()) when that module exists, else {} (the report then has no API surface and `diff` says so). A
    snapshot that raises is recorded as {"error": "<exception>"} rather than losing the whole report."""
    import importlib

    try:
        module = importlib.import_module("equivalence.api_surface")
    except ModuleNotFoundError as exc:
        if exc.name != "equivalence.api_surface":
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {}
    try:
        return module.snapshot()
    except Exception as exc:  # noqa: BLE001 - the report must still be written; the error is recorded
        return {"error": f"{type(exc).__name__}: {exc}"}


def observe_catalogue(observed_in_run: dict[str, Any], reproduced: set[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """Every catalogue entry's Observation (from the run, else observed now), as the report's rows.

    `reproduced`: ids whose reproduction test passed in this run (observed == expected, exactly where atol is 0).
    """
    from equivalence import differences
    from equivalence.differences.observation import Observation

    out = {}
    for entry in differences.DIFFERENCES:
        observed = observed_in_run.get(entry.id)
        if observed is None and entry.id in reproduced and entry.atol == 0:
            observed = entry.expected_on()
        # Observation.of runs the witness (seeded and isolated, as tests/test_differences.py does) when needed
        out[entry.id] = Observation.of(entry, observed).row(entry)
    return out


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=os.path.dirname(os.path.abspath(__file__)))
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""
