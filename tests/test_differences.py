"""The executable catalogue: every known difference still reproduces exactly as documented, on both frameworks.

One test per entry (id = entry id), then checks that the machinery reports bad or outdated entries by their id.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import re

import pytest

from equivalence import runtime
from equivalence.plugins.report import OBSERVED_KEY
from equivalence.differences import DIFFERENCES, KnownDifference, MalformedDifference, StaleDifference, by_id

pytestmark = pytest.mark.catalogue


def _needs_tf():
    if not runtime.has_module("tensorflow"):
        pytest.skip("catalogue witnesses run both frameworks; TensorFlow is not installed here")


def perturbed(value, atol: float):
    """`value` changed just beyond what `same()` tolerates, at every leaf (the smallest change a check must see)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return 0.0 if math.isnan(value) else -value
        return value + 2 * atol + max(abs(value), 1.0) * 1e-6
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return [perturbed(v, atol) for v in value] if value else ["<extra>"]
    if isinstance(value, dict):
        return {k: perturbed(v, atol) for k, v in value.items()} if value else {"<extra>": 1}
    return "<not None>" if value is None else f"{value}~"


@pytest.mark.parametrize("entry", [pytest.param(d, id=d.id, marks=[pytest.mark.gotcha] if d.gotcha else [])
                                   for d in DIFFERENCES])
def test_difference_reproduces(entry, request):
    """The entry's witness gives the documented value on BOTH frameworks, and any change to either would be seen."""
    _needs_tf()
    observed = entry.observe()
    # Hand the observation to the run report (stale or not), so it need not observe the entry again at session end.
    request.node.user_properties.append((OBSERVED_KEY, {"id": entry.id, "observed": observed}))
    entry.check(observed)
    # The test can fail: documenting each side as slightly different from what was observed makes both stale.
    here = entry.expected_on()  # this platform's expectation (most entries have one for every platform)
    wrong = dataclasses.replace(entry, expected={side: perturbed(here[side], entry.atol) for side in ("tf", "torch")})
    assert wrong.stale_sides(observed) == ["tf", "torch"], f"{entry.id}: a changed expectation went unnoticed"


@pytest.mark.parametrize("entry", [pytest.param(d, id=d.id) for d in DIFFERENCES])
def test_difference_is_documented(entry):
    """Each entry states two distinct behaviours and cites evidence a reader can follow."""
    assert entry.tf.strip() != entry.torch.strip(), f"{entry.id}: tf and torch descriptions are identical"
    assert len(entry.evidence) >= 20, f"{entry.id}: evidence {entry.evidence!r} is too thin to follow"
    assert entry.expected["tf"] is not None or entry.expected["torch"] is not None, f"{entry.id}: expects nothing"
    # Witness inputs are tiny and fixed, so observations are exact up to float32 rounding (ulps of O(1) values);
    # a slack above 1e-5 would hide the small changes an upgrade check exists to catch.
    assert entry.atol <= 1e-5, f"{entry.id}: atol={entry.atol} is too loose for a fixed tiny witness"


def _fake(**overrides) -> dict:
    """Keyword arguments of a valid framework-free entry, with overrides."""
    kw = dict(id="fake-entry", area="numerics", title="t", tf="a", torch="b", witness=lambda: {"tf": 1, "torch": 2},
              expected={"tf": 1, "torch": 2}, snippet_tf="x", snippet_torch="y", evidence="made up for a test")
    return {**kw, **overrides}


def test_missing_field_names_the_entry():
    """Leaving out a required field raises MalformedDifference naming the entry, not a bare TypeError."""
    kw = _fake()
    del kw["evidence"]
    with pytest.raises(MalformedDifference, match=r"catalogue entry 'fake-entry'.*evidence"):
        KnownDifference(**kw)


@pytest.mark.parametrize("field, value, complaint", [
    ("title", "  ", "title is empty"),
    ("area", "vibes", "area 'vibes' is not one of"),
    ("id", "Bad_Id", "is not a lowercase-hyphen slug"),
    ("expected", {"tf": 1}, "exactly the keys 'tf' and 'torch'"),
    ("applies_to", ("ops",), "is not 'family:name"),
    ("witness", "not callable", "witness is not callable"),
])
def test_invalid_field_names_the_entry(field, value, complaint):
    """An invalid field is rejected at import time with the entry id and what is wrong with it."""
    with pytest.raises(MalformedDifference, match=re.escape(complaint)) as info:
        KnownDifference(**_fake(**{field: value}))
    assert "catalogue entry" in str(info.value)


def test_raising_witness_names_the_entry():
    """A witness that raises is reported as MalformedDifference with the entry id and the original error."""
    def broken():
        return {"tf": 1 / 0, "torch": 0}

    with pytest.raises(MalformedDifference, match=r"'fake-entry': witness raised ZeroDivisionError: division by zero"):
        KnownDifference(**_fake(witness=broken)).check()


def test_witness_of_wrong_shape_names_the_entry():
    """A witness that does not return {'tf', 'torch'} is reported with the entry id."""
    with pytest.raises(MalformedDifference, match=r"'fake-entry': witness must return"):
        KnownDifference(**_fake(witness=lambda: {"tf": 1})).check()


def test_stale_message_shows_both_sides_and_agreement():
    """When the frameworks start to agree, the stale message names the entry, both values and the agreement."""
    entry = KnownDifference(**_fake(witness=lambda: {"tf": 2, "torch": 2}))
    with pytest.raises(StaleDifference) as info:
        entry.check()
    message = str(info.value)
    assert "catalogue entry 'fake-entry' is stale" in message
    assert "tf: documented 1, observed 2" in message and "frameworks now AGREE" in message
    assert "torch:" not in message  # torch still gives the documented 2


def test_duplicate_id_is_rejected():
    """Two entries with one id cannot both be registered (ids are never reused)."""
    from equivalence.registry import Registry

    one = KnownDifference(**_fake())
    with pytest.raises(MalformedDifference, match="catalogue entry 'fake-entry': duplicate id"):
        Registry("catalogue", [one, KnownDifference(**_fake(title="other"))])


def test_changed_torch_default_makes_entry_stale():
    """Switching torch's default float dtype (as an upgrade could) makes the promotion entry stale, by name."""
    _needs_tf()
    torch = runtime.torch()
    torch.set_default_dtype(torch.float64)  # the conftest's isolation restores it after this test
    with pytest.raises(StaleDifference) as info:
        by_id("python-float-into-int-tensor").check()
    expected_line = "  torch: documented ['float32', [1.5, 2.5]], observed ['float64', [1.5, 2.5]]"
    assert str(info.value).splitlines()[1] == expected_line


def test_changed_keras_default_makes_entry_stale(monkeypatch):
    """A Keras upgrade that turned fit()'s shuffle default off would make the fit-defaults entry stale."""
    _needs_tf()
    keras = runtime.keras()
    original = keras.Model.fit
    params = [p.replace(default=False) if p.name == "shuffle" else p
              for p in inspect.signature(original).parameters.values()]

    def fit(*args, **kwargs):
        return original(*args, **kwargs)

    fit.__signature__ = inspect.Signature(params)
    monkeypatch.setattr(keras.Model, "fit", fit)
    stale = r"'fit-vs-dataloader-defaults' is stale(.|\n)*tf: documented \{'shuffle': True"
    with pytest.raises(StaleDifference, match=stale):
        by_id("fit-vs-dataloader-defaults").check()
