"""Root conftest: hooks only (profiles, report header, isolation, gpu gating; plugins for reports/catalogue/gpu).

Hypothesis profiles: `ci` (the default everywhere: derandomized and without an example database, so two runs of
the README's command draw the same examples and give the same verdict; each test item from its own seed, see
pytest_runtest_call), `dev` (random draws, a new search each run: for hunting false alarms), `thorough`
(exhaustive, for upgrade verification). Pick one with `--hypothesis-profile NAME` or HYPOTHESIS_PROFILE=NAME.
No framework is imported here at collection time: tests and fixtures import them.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, is_hypothesis_test, seed, settings

from equivalence import runtime, platform, strategies

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.function_scoped_fixture])
# ci: few, reproducible examples (each example runs two frameworks; the budget is < 5 min on 2 cores).
settings.register_profile("ci", max_examples=6, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=15, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=300, print_blob=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink], **_COMMON)
# The default is the reproducible profile on every machine: a verdict must not change from one run to the next.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")


def pytest_addoption(parser):
    parser.addoption("--max-examples", type=int, default=None,
                     help="override the Hypothesis profile's max_examples (e.g. 1 for a smoke run, 1000 to dig)")


@pytest.hookimpl(tryfirst=True)  # before xdist turns `-n N` into its default `--dist load`
def pytest_cmdline_main(config):
    """`-n N` distributes with work stealing: a worker that runs dry takes tests from the other's queue, so a run
    does not end on one worker's tail (an explicit --dist wins). Not in addopts: `-p no:xdist` runs would reject
    the option."""
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "no":
        config.option.dist = "worksteal"


# One intra-op thread per xdist worker: the suite's tensors are small, so two workers with two threads each only
# oversubscribe two cores. Read when a worker first imports a framework (nothing imports one earlier); witnesses'
# child processes drop these again (differences.witness_tools.child_env) and see the frameworks' defaults.
WORKER_THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
                  "TF_NUM_INTEROP_THREADS": "1"}


@pytest.hookimpl(trylast=True)  # after Hypothesis' own plugin has applied --hypothesis-profile
def pytest_configure(config):
    if hasattr(config, "workerinput"):
        for var, value in WORKER_THREADS.items():
            os.environ.setdefault(var, value)
    n = config.getoption("max_examples")
    if n is not None:
        base = settings.get_current_profile_name()
        settings.register_profile(f"{base}-max{n}", parent=settings.get_profile(base), max_examples=n)
        settings.load_profile(f"{base}-max{n}")


@pytest.hookimpl(trylast=True)  # after Hypothesis' own sessionstart: it then allows its constants cache on disk
def pytest_sessionstart(session):
    strategies.freeze_local_constants()  # the same examples whatever ran before in this process


def pytest_report_header(config):
    """Versions, profile and the platform (from /proc/cpuinfo and the environment: no framework is imported)."""
    vers = " ".join(f"{k}={v}" for k, v in runtime.versions().items())
    return [f"equivalence: {vers}", f"hypothesis profile: {settings.get_current_profile_name()}",
            f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND')} OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}",
            *platform.header_lines()]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Derandomized profiles (ci), and any profile run with --hypothesis-seed (a thorough hunt): each hypothesis
    test item draws from its own seed (strategies.case_seed), not from one stream shared by all parametrizations
    of the test (with one global seed, 32 of 34 unary float32 ops drew the same examples). An explicit @seed on a
    test wins."""
    test = getattr(item, "obj", None)
    if not is_hypothesis_test(test):
        return
    if not test._hypothesis_internal_use_settings.derandomize and item.config.getoption("hypothesis_seed") is None:
        return
    if test._hypothesis_internal_use_seed is not None and not getattr(test, "_seeded_per_case", False):
        return
    seed(strategies.case_seed(test, item.nodeid, item.config.getoption("hypothesis_seed")))(test)
    test._seeded_per_case = True


def pytest_collection_modifyitems(config, items):
    """Accelerator cases (gpu-marked: the -cuda half of the device axis) run only when the -m expression names gpu
    (`-m gpu`, `-m "ops and gpu"`); `-m ops` alone means the CPU cases, not 500 skips. Then tests marked slow (child
    processes, whole pytest runs) first: two xdist workers end together, instead of one idling while the other
    starts a 30 s test last. A stable sort: the rest keep their order."""
    if "gpu" not in (config.getoption("markexpr", "") or ""):
        accelerated = [item for item in items if item.get_closest_marker("gpu")]
        if accelerated:
            config.hook.pytest_deselected(items=accelerated)
            items[:] = [item for item in items if not item.get_closest_marker("gpu")]
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_runtest_setup(item):
    """gpu tests run only where torch sees CUDA; checked at setup, never at collection."""
    if item.get_closest_marker("gpu") and not runtime.torch_cuda_available():
        pytest.skip("gpu: torch sees no CUDA device on this machine")


@pytest.fixture(autouse=True)
def _isolated_frameworks(request):
    """Seed from the test id, TF32 off, and restore every global framework setting afterwards."""
    with runtime.isolated(runtime.seed_for(request.node.nodeid)):
        yield


# Plugins kept in the package so each concern lives in one module.
pytest_plugins = ["equivalence.plugins.report", "equivalence.plugins.differences", "equivalence.plugins.gpu"]
