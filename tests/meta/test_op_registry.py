"""The op registry validates itself, links only to real catalogue entries, and its coverage table is current."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from equivalence.catalog import coverage
from equivalence.catalog.opinfo import REGISTRY, MalformedOpInfo, Sample
from equivalence.catalog.ops import OP_DB, by_id
from equivalence.differences import DIFFERENCES, Selector, for_record, lookup
from equivalence.differences import ops as op_differences
from equivalence.registry import Registry
from equivalence.tolerances import EXACT

pytestmark = pytest.mark.meta
ROOT = Path(__file__).resolve().parents[2]
DIFFERENCE_IDS = {d.id for d in DIFFERENCES}


def _exp():
    return by_id("exp")


def test_registry_is_large_and_ids_are_unique_ascii():
    """OP_DB holds >= 80 distinct ops with unique ASCII ids that read name[-variant]."""
    ids = [i.id for i in OP_DB]
    assert len(set(ids)) == len(ids)
    assert len({i.name for i in OP_DB}) >= 80
    assert all(i.isascii() and " " not in i for i in ids)


def test_float_ops_are_tested_in_float32():
    """Every op that takes floating inputs is tested in float32."""
    missing = [i.id for i in OP_DB if any(d.startswith(("float", "bfloat")) for d in i.dtypes) and "float32" not in i.dtypes]
    assert not missing


def test_duplicate_id_is_rejected_naming_it():
    """The op registry raises MalformedOpInfo naming a repeated id."""
    with pytest.raises(MalformedOpInfo, match="op registry entry 'exp': duplicate id"):
        Registry(REGISTRY, [_exp(), _exp()])


@pytest.mark.parametrize("change, message", [
    (dict(dtypes=()), "dtypes is empty"),
    (dict(ulps_override={"int32": 8}), "ulps_override for 'int32', which is not in dtypes"),
    (dict(dtypes=("float32", "complex64")), "unknown dtype 'complex64'"),
    (dict(family="misc"), "family 'misc'"),
    (dict(name="Exp op"), "not an ASCII snake_case name"),
])
def test_invalid_entries_raise_naming_the_entry(change, message):
    """A malformed field raises at registry build time with the entry id and the problem."""
    bad = dataclasses.replace(_exp(), **change)
    with pytest.raises(MalformedOpInfo, match=f"op registry entry '{bad.id}'.*{message}"):
        Registry(REGISTRY, [bad])


def test_samples_reject_undeclared_dtype():
    """Asking for samples in a dtype the op does not declare is an error naming op and dtypes."""
    with pytest.raises(MalformedOpInfo, match="'logical_and': not tested in 'float32'"):
        by_id("logical_and").samples("float32")


@pytest.mark.parametrize("info", [i for i in OP_DB if for_record("op", i)], ids=lambda i: i.id)
def test_linked_differences_exist_and_select_the_op(info):
    """Each entry linked to an op (for_record: its selectors name the op) selects the op's tests where they look
    it up: the op test (lookup, in a declared dtype) or its gradient test ('grad:<id>')."""
    selected = {d.id for dt in info.dtypes for d in lookup("op", info.name, dt) + lookup("op", info.id, dt)}
    selected |= {d.id for name in (info.name, info.id) for d in lookup("grad", name)}
    for entry in for_record("op", info):
        assert entry.id in DIFFERENCE_IDS and entry.id in selected, \
            f"{info.id} is linked to {entry.id!r} but its applies_to never selects op:{info.id} or grad:{info.id}"


def test_every_op_catalogue_selector_matches_a_registry_case():
    """No stale selectors: each 'op:' selector of the catalogue matches at least one op-dtype case."""
    cases = [(i, d) for i in OP_DB for d in i.dtypes]
    for entry in DIFFERENCES:
        for sel in (Selector.parse(s) for s in entry.applies_to if s.startswith("op:")):
            assert any(sel.matches(("op",), (i.name, i.id), (d,)) for i, d in cases), \
                f"catalogue entry {entry.id!r}: selector {sel!r} matches no op test case"


def test_narrows_name_real_entries_and_edge_kinds():
    """NARROWS keys are catalogue ids and their values are edge kinds the strategies know."""
    from equivalence.strategies import EDGE_KINDS

    assert set(op_differences.NARROWS) <= DIFFERENCE_IDS
    assert all(kinds <= EDGE_KINDS for kinds in op_differences.NARROWS.values())
    # the views are of differences/ops.py's entries: an op-test field set elsewhere would be left out of them
    # (grad_narrows has no view: checks.grads.owned_by_witness reads it from each selected entry)
    fields = ("narrows", "side_narrows", "zero_signs")
    elsewhere = [e.id for e in DIFFERENCES if e not in op_differences.ENTRIES and any(getattr(e, f) for f in fields)]
    assert not elsewhere, f"entries outside differences/ops.py set op-test fields: {elsewhere}"


def test_tolerance_is_exact_for_integer_outputs_and_scaled_for_reductions():
    """Integer/bool outputs compare exactly; a sum over n terms gets a sqrt(n)-wider float32 rtol."""
    sample = Sample((np.zeros((4, 100), np.float32),), {"axis": 1, "keepdims": False})
    s = by_id("sum")
    assert s.tolerance("int64", sample, np.zeros(4)) == EXACT
    one = by_id("exp").tolerance("float32", Sample((np.zeros(3, np.float32),)), np.ones(3))
    wide = s.tolerance("float32", sample, np.ones(4))
    assert wide.rtol > 2 * one.rtol and wide.rtol < 1e-4


def test_coverage_table_is_generated_and_committed():
    """docs/COVERAGE.md equals `python -m equivalence coverage` output (regenerate with --out)."""
    assert (ROOT / "docs" / "COVERAGE.md").read_text() == coverage.render()
    assert coverage.main(["--check", str(ROOT / "docs" / "COVERAGE.md")]) == 0


def test_every_registry_entry_is_in_the_coverage_table():
    """Each op id has a row in the generated table."""
    text = coverage.render()
    assert all(f"| `{i.id}` |" in text for i in OP_DB)


@pytest.mark.parametrize("x, y, drawn", [
    ((1, 2, 1), (2,), False),    # axis 1, not last: keras.ops.add adds along axis 1 (thorough seed 11)
    ((1, 2, 2), (2,), True),     # matches the last axis: bias_add 'NHWC' is broadcasting
    ((3, 2), (1, 2), False),     # rank-2 bias: keras-add-bias-broadcast
    ((2, 3), (3,), True),        # a plain bias
    ((2, 3), (2, 1), True),      # 2 matches neither axis 1 nor the last of x: plain tf.add
])
def test_keras_add_samples_avoid_the_bias_add_path(x, y, drawn):
    """add-keras draws no operand pair for which keras.ops.add (TF) leaves broadcasting for tf.nn.bias_add; the
    catalogue's keras-add-bias-broadcast owns those."""
    from equivalence.catalog.ops_binary import _not_keras_bias_path

    assert _not_keras_bias_path(Sample((np.zeros(x, np.float32), np.zeros(y, np.float32)))) == drawn
