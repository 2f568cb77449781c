"""The training catalog (LOSS_DB, OPTIMIZER_DB, SCHEDULE_DB) is well formed and wired to the differences catalogue."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from equivalence.catalog import traininfo
from equivalence.catalog.losses import LOSS_DB, reduce_ref
from equivalence.catalog.optimizers import OPTIMIZER_DB, keras_kwargs, torch_kwargs
from equivalence.catalog.schedules import SCHEDULE_DB
from equivalence.differences import DIFFERENCES, Selector, for_record
from equivalence.registry import Registry
from equivalence.training import update_tolerance

pytestmark = pytest.mark.meta


@pytest.mark.parametrize("registry", [LOSS_DB, OPTIMIZER_DB, SCHEDULE_DB], ids=["losses", "optimizers", "schedules"])
def test_ids_are_unique_ascii_slugs(registry):
    """Every id is unique and typeable with -k (lowercase, '-' between name and variant)."""
    ids = [e.id for e in registry]
    assert len(ids) == len(set(ids)) and all(i.isascii() and i == i.lower() for i in ids), ids


@pytest.mark.parametrize("registry, family", [(LOSS_DB, "loss"), (OPTIMIZER_DB, "optimizer")],
                         ids=["losses", "optimizers"])
def test_named_differences_exist(registry, family):
    """Every record a catalogue entry names ('loss:<name or id>', 'optimizer:...') exists (no dangling links: the
    record -> entries link is derived from these selectors, differences.for_record)."""
    names = {n for e in registry for n in (e.name, e.id)}
    selectors = [(d.id, s) for d in DIFFERENCES for s in map(Selector.parse, d.applies_to) if s.family == family]
    missing = [(entry_id, s) for entry_id, s in selectors if s.name != "*" and s.name not in names]
    assert selectors and not missing, f"entries name unknown {family} records: {missing}"


def test_duplicate_ids_are_rejected():
    """A registry raises MalformedEntry naming the repeated id."""
    with pytest.raises(traininfo.MalformedEntry, match="loss registry entry 'mean_squared_error': duplicate id"):
        Registry(LOSS_DB.name, [LOSS_DB[13], LOSS_DB[13]])


@pytest.mark.parametrize("change, complaint", [
    (dict(variant="Bad Variant"), "is not lowercase snake_case"),
    (dict(reductions={"avg": ("sum", "sum")}), "reduction 'avg' is not one of"),
    (dict(weighting="row"), "weighting 'row' is not"),
    (dict(ref="not callable"), "ref is not callable"),
])
def test_malformed_loss_is_named(change, complaint):
    """A bad LossInfo field raises MalformedEntry with the entry id and what is wrong."""
    with pytest.raises(traininfo.MalformedEntry, match=complaint):
        dataclasses.replace(LOSS_DB[0], **change)


def test_cross_false_needs_a_difference():
    """An optimizer configuration that may disagree needs a catalogue entry selecting it that explains why."""
    # a cross-checked record that no entry concerns, by id or by name ('optimizer:sgd' concerns every sgd record)
    free = next(r for r in OPTIMIZER_DB if r.cross and not for_record("optimizer", r))
    with pytest.raises(traininfo.MalformedEntry, match="cross=False needs a KnownDifference that selects it"):
        dataclasses.replace(free, cross=False)


def test_hyperparameter_mapping_spells_each_api():
    """Neutral names become each API's spelling: beta1/beta2 -> betas, rho -> alpha for torch RMSprop, eps_torch."""
    h = {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-24, "eps_torch": 1e-12, "rho": 0.8}
    assert keras_kwargs(h) == {"learning_rate": 0.1, "beta_1": 0.9, "beta_2": 0.99, "epsilon": 1e-24, "rho": 0.8}
    assert torch_kwargs("RMSprop", h) == {"lr": 0.1, "eps": 1e-12, "betas": (0.9, 0.99), "alpha": 0.8}


def test_weighted_mean_divides_by_weights():
    """reduce_ref: class-weighted 'mean' divides by the weights of the labels present, sample 'mean' by N."""
    info = next(i for i in LOSS_DB if i.id == "sparse_categorical_crossentropy-class_weight")
    per = np.array([1.0, 2.0])
    assert reduce_ref(info, per, np.array([1.0, 3.0]), "mean", np.array([0, 1])) == pytest.approx(7 / 4)
    sample = next(i for i in LOSS_DB if i.id == "binary_crossentropy-sample_weight")
    assert reduce_ref(sample, per, np.array([1.0, 3.0]), "mean") == pytest.approx(7 / 2)


def test_update_tolerance_sees_a_one_percent_step_change():
    """At lr-sized updates the update tolerance is far below 1% of a step (the issue's detectability bar)."""
    tol = update_tolerance(p_max=1.0, steps=5, ulps=16, cond=1000.0)
    assert tol.atol + tol.rtol * 1e-3 < 1e-2 * 1e-3
