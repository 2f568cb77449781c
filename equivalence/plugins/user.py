"""pytest plugin for users' own suites (entry point `pytest11: equivalence`): installing the package gives a suite

- `equivalence.assert_models_equivalent(keras_model, torch_module, x, ...)` (also as the fixture
  `assert_models_equivalent`), failing with the localized divergence as its message;
- the suite's markers (`slow`, `gpu`, `layers`, ...) and Hypothesis profiles (`ci`: few derandomized examples,
  `dev`, `thorough`; pick one with `--hypothesis-profile NAME`), without copying a conftest.

It registers only what the running suite does not define itself (a user's own `ci` profile or `slow` marker
wins), in `pytest_configure` before Hypothesis' own plugin applies `--hypothesis-profile`; the project's own
conftest.py defines all of them, so in the project's own runs this plugin adds nothing. It loads no profile and
imports no framework.
"""
from __future__ import annotations

import pytest

# The suite's markers as pyproject.toml declares them (tests/test_check_pair.py checks they stay the same lines).
MARKERS = (
    "gpu: needs a CUDA device (skips with a reason when none); run with -m gpu",
    "slow: long-running (child processes, whole pytest runs); collected first so xdist workers end together; still "
    "part of the default run",
    "layers: layer and spec-built model conformance",
    "grads: gradient conformance",
    "optim: optimizer-step and training-loop conformance",
    "catalogue: executable known-differences catalogue entries",
)


def profiles() -> dict:
    """The suite's Hypothesis profiles as the root conftest registers them (checked equal in the tests)."""
    from hypothesis import HealthCheck, Phase

    common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                        HealthCheck.function_scoped_fixture])
    return {"ci": dict(max_examples=6, derandomize=True, print_blob=True, **common),
            "dev": dict(max_examples=15, print_blob=True, **common),
            "thorough": dict(max_examples=300, print_blob=True, phases=[Phase.explicit, Phase.reuse, Phase.generate,
                                                                        Phase.target, Phase.shrink], **common)}


def _has_profile(settings, name: str) -> bool:
    try:
        settings.get_profile(name)
        return True
    except Exception:  # noqa: BLE001 - hypothesis raises InvalidArgument for an unknown profile
        return False


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' plugin loads --hypothesis-profile
def pytest_configure(config):
    have = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    for line in MARKERS:
        if line.split(":")[0] not in have:
            config.addinivalue_line("markers", line)
    try:
        from hypothesis import settings
    except ImportError:  # hypothesis is optional for users
        return
    for name, kw in profiles().items():
        if not _has_profile(settings, name):
            settings.register_profile(name, **kw)


@pytest.fixture
def assert_models_equivalent():
    """equivalence.assert_models_equivalent, as a fixture."""
    from ..pair import assert_models_equivalent as check

    return check
