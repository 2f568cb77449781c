"""Fixtures that several meta test modules use (hooks stay in the root conftest)."""
from __future__ import annotations

import pytest

from equivalence import runtime


@pytest.fixture
def needs_tf():
    """Skips the test where TensorFlow is not installed: catalogue witnesses run both frameworks.

    A module whose every test observes the catalogue says `pytestmark = [..., pytest.mark.usefixtures("needs_tf")]`."""
    if not runtime.has_module("tensorflow"):
        pytest.skip("catalogue witnesses run both frameworks; TensorFlow is not installed here")
