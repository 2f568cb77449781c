"""How the suite spreads over xdist workers (issue 11's scaling figure depends on it)."""
from __future__ import annotations

import types

import pytest

pytestmark = pytest.mark.meta


def _root_conftest(config):
    path = config.rootpath / "conftest.py"
    return next(p for p in config.pluginmanager.get_plugins() if getattr(p, "__file__", None) == str(path))


@pytest.mark.parametrize("numprocesses,dist,want", [
    (2, "no", "worksteal"),  # `pytest -n 2`: work stealing, not xdist's default 'load'
    ("auto", "no", "worksteal"),
    (2, "loadfile", "loadfile"),  # an explicit --dist wins
    (None, "no", "no"),  # no -n: nothing is distributed
])
def test_xdist_runs_steal_work(request, numprocesses, dist, want):
    """`pytest -n N` distributes with work stealing (root conftest's pytest_cmdline_main; xdist workers see their
    own options reset, so the hook itself is exercised here), so a run does not end on one worker's tail."""
    option = types.SimpleNamespace(numprocesses=numprocesses, dist=dist)
    _root_conftest(request.config).pytest_cmdline_main(types.SimpleNamespace(option=option))
    assert option.dist == want
    no_xdist = types.SimpleNamespace(option=types.SimpleNamespace())  # `-p no:xdist`: the options do not exist
    _root_conftest(request.config).pytest_cmdline_main(no_xdist)


def test_slow_tests_are_collected_first(request):
    """Tests marked slow come before every other test in the run's order (root conftest), so the workers that
    take them first end with the rest instead of after it."""
    items = request.session.items
    slow = [i for i, item in enumerate(items) if item.get_closest_marker("slow")]
    if not slow:
        pytest.skip("no slow test selected in this run")
    assert slow == list(range(len(slow))), [items[i].nodeid for i in slow if i >= len(slow)][:3]


def test_witness_children_see_default_threads_and_the_platform(monkeypatch):
    """The worker's own thread limits (root conftest WORKER_THREADS) do not reach a witness's child process, the
    platform settings do: a oneDNN heap corruption that needs threads is observed as on a user's default setup."""
    from equivalence.differences.witness_tools import THREAD_VARIABLES, child_env

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    env = child_env(TF_CPP_MIN_LOG_LEVEL="3")
    assert not set(THREAD_VARIABLES) & set(env)
    assert env["TF_ENABLE_ONEDNN_OPTS"] == "0" and env["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_worker_thread_limits_are_ones_the_witnesses_drop(request):
    """Every variable the root conftest sets in xdist workers is one child_env removes."""
    from equivalence.differences.witness_tools import THREAD_VARIABLES

    assert set(_root_conftest(request.config).WORKER_THREADS) <= set(THREAD_VARIABLES)


@pytest.mark.parametrize("markexpr,kept", [
    ("ops", ["a-cpu"]),  # -m ops: the CPU cases, not the accelerator ones as skips
    ("ops and gpu", ["a-cpu", "a-cuda"]),  # the expression names gpu: pytest's own -m selection decides
    ("", ["a-cpu"]),
])
def test_accelerator_cases_run_only_when_gpu_is_asked_for(request, markexpr, kept):
    gpu = types.SimpleNamespace(name="gpu")
    items = [types.SimpleNamespace(name=n, get_closest_marker=lambda m, g=(n == "a-cuda"): gpu if g and m == "gpu"
                                   else None) for n in ("a-cpu", "a-cuda")]
    deselected = []
    config = types.SimpleNamespace(getoption=lambda name, default=None: markexpr,
                                   hook=types.SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))
    _root_conftest(request.config).pytest_collection_modifyitems(config, items)
    assert [i.name for i in items] == kept and len(deselected) == 2 - len(kept)
