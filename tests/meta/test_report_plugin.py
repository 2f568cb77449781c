"""The --equivalence-report plugin, run on a tiny suite: outcomes, measurements and catalogue land in the report."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import equivalence
from equivalence import compare, fingerprint, platform, tolerance
from equivalence.report import schema

pytestmark = [pytest.mark.meta, pytest.mark.slow]  # a pytest run with two xdist workers
pytest_plugins = ["pytester"]

# A tiny suite: a passing and a failing comparison through equivalence.compare, a skip, an xfail, a test that
# hands over a catalogue observation, a passing reproduction test, and a catalogue of three pure-Python entries
# (no framework is imported by the tests): one handed over, one reproduced, one observed by the plugin at session
# end. The controller imports both frameworks at session end to record the platform.
CONFTEST = '''
import pytest
from equivalence import differences
from equivalence.differences import KnownDifference

class PureEntry(KnownDifference):
    def observe(self):  # the real observe() seeds TF and torch (~10 s of imports); these witnesses need neither
        return self.witness()

def _entry(id, observed, expected):
    return PureEntry(id=id, area="layer-defaults", title=id, tf="t", torch="p", witness=lambda: observed,
                     expected=expected, snippet_tf="x", snippet_torch="y", evidence="docs")

differences.DIFFERENCES = [
    _entry("momentum-default", {"tf": 0.99, "torch": 0.1}, {"tf": 0.99, "torch": 0.1}),
    _entry("epsilon-default", {"tf": 1e-3, "torch": 1e-5}, {"tf": 1e-7, "torch": 1e-5}),  # stale on purpose
    _entry("reproduced", {"tf": "a", "torch": "b"}, {"tf": "a", "torch": "b"}),
]

def pytest_configure(config):
    for name in ("ops", "losses"):
        config.addinivalue_line("markers", name)
'''
SUITE = '''
import numpy as np
import pytest
from equivalence import assert_close, tolerance

@pytest.mark.ops
def test_tanh():
    for scale in (1.0, 2.0):  # two comparisons under one key: the report keeps the worst
        assert_close(np.tanh(np.float32([0.5 * scale])), np.tanh(np.float64([0.5 * scale])),
                     tolerance("float32"), what="tanh", label_a="tf", label_b="ref64")

@pytest.mark.losses
def test_mse():
    assert_close(np.float32([1.0]), np.float32([1.1]), tolerance("float32"), what="mse", label_a="tf",
                 label_b="torch")

def test_skipped():
    pytest.skip("no GPU here")

@pytest.mark.xfail(reason="known", strict=True)
def test_known():
    assert False

@pytest.mark.parametrize("entry_id", ["reproduced"])
def test_difference_reproduces(entry_id):  # passing, it stands for an observation equal to `expected`
    pass

def test_observes(request):
    request.node.user_properties.append(
        ("equivalence_observed", {"id": "momentum-default", "observed": {"tf": 0.99, "torch": 0.1}}))
'''


@pytest.fixture
def tiny_suite(pytester, monkeypatch):
    # The subprocess imports `equivalence` from this checkout, whether or not (or wherever) it is installed.
    root = str(Path(equivalence.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_tiny=SUITE)
    return pytester


def run_report(pytester, *args) -> dict:
    """Run the tiny suite in a subprocess with the plugin and return the loaded report."""
    path = pytester.path / "report.json"
    result = pytester.runpytest_subprocess("-p", "equivalence.plugins.report", f"--equivalence-report={path}",
                                           "-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=3, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines([f"*equivalence run report: {path}*"])
    return schema.load(path)


def test_report_under_xdist_records_everything_as_a_single_process_run_does(tiny_suite):
    """With xdist the controller gets every outcome, worst measurement and catalogue entry; only `run` differs."""
    rep = run_report(tiny_suite, "-n", "1")  # one worker is enough: reports still travel worker -> controller
    cases = {nodeid.split("::")[1]: c for nodeid, c in rep["cases"].items()}
    assert {n: (c["outcome"], c["family"]) for n, c in cases.items()} == {
        "test_tanh": ("passed", "ops"), "test_mse": ("failed", "losses"), "test_skipped": ("skipped", "other"),
        "test_known": ("xfailed", "other"), "test_observes": ("passed", "other"),
        "test_difference_reproduces[reproduced]": ("passed", "other")}
    tanh = cases["test_tanh"]["measurements"]["tanh: tf vs ref64"]
    worst = max((compare(np.tanh(np.float32([x])), np.tanh(np.float64([x])), tolerance("float32")).record()
                 for x in (0.5, 1.0)), key=lambda r: r["error_over_tol"])
    assert (tanh["n"], tanh["ok"], tanh["error_over_tol"], tanh["max_abs"]) == (
        2, True, worst["error_over_tol"], worst["max_abs"])  # the worst of the two comparisons is kept
    # Each side's results, fingerprinted bit for bit: both examples of each output folded into one row.
    prints = cases["test_tanh"]["fingerprints"]
    assert {k: r["side"] for k, r in prints.items()} == {"tanh: tf": "tf", "tanh: ref64": "reference"}
    assert prints["tanh: tf"] == fingerprint.fingerprint(*(np.tanh(np.float32([x])) for x in (0.5, 1.0)),
                                                         what="tanh", label="tf")
    assert set(cases["test_mse"]["fingerprints"]) == {"mse: tf", "mse: torch"}  # failing cases too
    assert cases["test_skipped"]["fingerprints"] == {}
    mse = cases["test_mse"]["measurements"]["mse: tf vs torch"]
    assert not mse["ok"] and mse["max_abs"] == pytest.approx(0.1, rel=1e-6) and mse["error_over_tol"] > 1
    assert cases["test_mse"]["message"].startswith("equivalence.compare.EquivalenceMismatch: mse: tf != torch")
    assert cases["test_skipped"]["message"] == "no GPU here"
    assert rep["catalogue"]["momentum-default"]["observed"] == {"tf": 0.99, "torch": 0.1}
    assert rep["catalogue"]["momentum-default"]["status"] == "documented"
    stale = rep["catalogue"]["epsilon-default"]
    assert (stale["status"], stale["observed"]["tf"], stale["expected"]["tf"]) == ("stale", 1e-3, 1e-7)
    assert rep["catalogue"]["reproduced"]["observed"] == {"tf": "a", "torch": "b"}
    assert rep["versions"]["numpy"] and rep.pop("run")["workers"] == 1
    # The platform, as the frameworks decided it in the controller (whose environment the workers share).
    recorded = rep["platform"]
    assert set(recorded) == set(schema._PLATFORM)
    assert {k: recorded[k] for k in ("cpu", "vector_isa", "arch", "cpus")} == {
        k: platform.static()[k] for k in ("cpu", "vector_isa", "arch", "cpus")}
    assert {k: recorded[k] for k in platform.CONDITIONS} == platform.predicted()
    assert recorded["blas"]["numpy"] == platform.numpy_blas() and recorded["blas"]["torch"]
    assert recorded["threads"]["torch_intra_op"] >= 1
    single = run_report(tiny_suite, "-p", "no:xdist")
    assert single.pop("run")["workers"] == 0
    assert schema.dumps(single) == schema.dumps(rep)  # fingerprints included: the same computations, the same bits
