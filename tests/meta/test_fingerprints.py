"""Bitwise fingerprints of compared results (equivalence.fingerprint): stable across runs of the same computations,
and every change, down to one ulp of one element, listed by `diff` (never as a regression); the API surface
snapshot in the report and its diff; the version ladder that names the release of each change."""
from __future__ import annotations

import contextvars

import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equivalence import compare, fingerprint
from equivalence.compare import recording
from equivalence.plugins import report as plugin
from equivalence.report import diff, ladder, schema
from equivalence.tolerances import tolerance

# A platform record as `equivalence.platform.observed()` writes it (as in test_report.py).
PLATFORM = {"arch": "x86_64", "blas": {"numpy": "scipy-openblas 0.3.31", "torch": "mkl"}, "cpu": "AMD EPYC",
            "cpus": 2, "env": {}, "isa_flags": ["avx", "avx2", "avx512f"], "onednn_cpu_isa": "AVX512",
            "os": "Linux 6.8.0", "python": "3.11.7", "tf_onednn": True,
            "threads": {"tf_inter_op": 0, "tf_intra_op": 0, "torch_inter_op": 2, "torch_intra_op": 2},
            "torch_cpu_capability": "AVX512", "vector_isa": "avx512"}


def entry(tf, torch) -> dict:
    """A documented catalogue row observed as `tf`/`torch`."""
    return {"area": "layer-defaults", "title": "t", "status": "documented", "observed": {"tf": tf, "torch": torch},
            "expected": {"tf": tf, "torch": torch}, "atol": 0.0, "error": ""}

pytestmark = pytest.mark.meta


def report(cases: dict, catalogue: dict | None = None, api: dict | None = None, **versions) -> dict:
    vers = {"tensorflow": "2.21.0", "torch": "2.13.0", "keras": "3.15.1", **versions}
    return schema.build(versions=vers, hypothesis_profile="ci", platform=PLATFORM, cases=cases,
                        catalogue=catalogue or {}, run={}, api_surface=api)


def case_with(*outputs: np.ndarray, label: str = "tf", what: str = "tanh[float32] output0") -> dict:
    """A passing ops case whose fingerprints hold `outputs` under '<what>: <label>' (as compare() records them)."""
    fp = fingerprint.Fingerprints()
    for out in outputs:
        fp.add(what, label, out)
    return {"outcome": "passed", "family": "ops", "message": "", "measurements": {}, "fingerprints": fp.rows()}


def one_ulp_up(x: np.ndarray, index: int) -> np.ndarray:
    y = x.copy()
    y.flat[index] = np.nextafter(y.flat[index], np.inf, dtype=y.dtype)
    return y


# ---------------------------------------------------------------- stable for the same computations
def _real_checks():
    """Deterministic computations of the suite: an op through Hypothesis (derandomized as the `ci` profile is), a
    layer's forward passes in TF, torch and float64, and an optimizer's steps."""
    from equivalence.catalog.layers import CASES
    from equivalence.catalog.ops import by_id
    from equivalence.catalog.optimizers import OPTIMIZER_DB
    from equivalence.checks import check_layer, check_op
    from equivalence.checks.ops import avoided, known_differences
    from equivalence.checks.steps import check_step
    from equivalence.runtime import isolated, seed_for
    from equivalence.training import TYPICAL_UPDATE_CASE

    info = by_id("tanh")
    known = known_differences(info, "float32")

    @settings(max_examples=4, derandomize=True, database=None)
    @given(data=st.data())
    def op(data):
        check_op(info, "float32", data.draw(info.samples("float32", avoided(info, "float32", known)), label="s"),
                 known)

    with isolated(seed_for("fingerprints")):
        op()
        check_layer(next(c for c in CASES if c.id == "dense-relu"))
        info_opt = OPTIMIZER_DB[0]
        unit_grads, p0 = TYPICAL_UPDATE_CASE
        check_step(info_opt, p0, (unit_grads * info_opt.grad_scale).astype(np.float32))


def test_the_same_computations_give_identical_fingerprints():
    """Two recordings of the same deterministic computations (an op under a derandomized Hypothesis test, a layer
    in TF, torch and float64, an optimizer's steps) give byte-identical fingerprints, for every side."""
    with recording() as first:
        _real_checks()
    with recording() as second:
        _real_checks()
    rows = first.fingerprints.rows()
    assert rows == second.fingerprints.rows()
    sides = {r["side"] for r in rows.values()}
    assert {"tf", "torch", "reference"} <= sides, sides
    assert all(len(r["sha"]) == fingerprint.SHA_DIGITS and r["n"] >= 1 for r in rows.values())
    assert any(r["n"] >= 2 for r in rows.values())  # the Hypothesis examples fold into one row per output


def test_fingerprints_are_recorded_only_inside_a_recording():
    """Outside a recording compare() hashes nothing (the default run without --equivalence-report pays nothing)."""
    called = []
    real = fingerprint.Fingerprints.add
    try:
        fingerprint.Fingerprints.add = lambda self, *a: called.append(a)
        # in an empty context: under --equivalence-report the report plugin records around this very test
        contextvars.Context().run(compare, np.float32([1.0]), np.float32([1.0]), tolerance("float32"))
        assert called == []
        with recording() as rec:
            compare(np.float32([1.0]), np.float64([1.0]), tolerance("float32"), what="w", label_a="tf",
                    label_b="ref64")
        assert [(w, label) for w, label, _ in called] == [("w", "tf"), ("w", "ref64")] and len(rec) == 1
    finally:
        fingerprint.Fingerprints.add = real


@pytest.mark.parametrize("label, side", [("tf", "tf"), ("keras_mapped", "tf"), ("torch-eager", "torch"),
                                         ("ref64", "reference"), ("fd64", "reference"), ("golden", "reference"),
                                         ("cpu", "cpu")])
def test_labels_map_to_sides(label, side):
    assert fingerprint.side_of(label) == side


def test_a_row_folds_examples_in_order_and_skips_a_repeat():
    """The same array compared twice in a row (vs the reference, then vs torch) is folded once; order matters."""
    x, y = np.float32([1, 2]), np.float32([3, 4])
    assert fingerprint.fingerprint(x, x, y) == fingerprint.fingerprint(x, y)
    assert fingerprint.fingerprint(x, y)["sha"] != fingerprint.fingerprint(y, x)["sha"]
    assert fingerprint.fingerprint(x)["sha"] != fingerprint.fingerprint(x.astype(np.float64))["sha"]  # dtype counts
    assert fingerprint.fingerprint(x)["sha"] != fingerprint.fingerprint(x.reshape(2, 1))["sha"]  # shape counts


def test_sample_size_is_bounded():
    """Small arrays are kept whole (exact ulp); large ones contribute a strided sample; a row never exceeds
    MAX_SAMPLE values."""
    small = fingerprint.fingerprint(np.arange(fingerprint.WHOLE, dtype=np.float32))
    assert small["exact"] and fingerprint.decode_sample(small).size == fingerprint.WHOLE
    big = fingerprint.fingerprint(*[np.full(1000, i, np.float32) for i in range(20)])
    assert not big["exact"] and fingerprint.decode_sample(big).size == fingerprint.MAX_SAMPLE
    assert len(big["sample"]) <= 4 * (fingerprint.MAX_SAMPLE * 8 + 2) // 3 + 4


# ---------------------------------------------------------------- every change is seen
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_diff_sees_a_one_ulp_change_of_one_element(tmp_path, capsys, dtype):
    """np.nextafter on one element of one output: the diff lists that output, side and family with max ulp 1, and
    does not count it as a regression (exit 0)."""
    x = np.linspace(-3, 3, 24, dtype=dtype).reshape(4, 6)
    a = report({"t.py::op": case_with(np.tanh(x))})
    b = report({"t.py::op": case_with(one_ulp_up(np.tanh(x), 7))})
    d = diff.diff_reports(a, b)
    assert [(c.nodeid, c.key, c.side, c.family, c.kind, c.ulp, c.exact) for c in d.bits] == [
        ("t.py::op", "tanh[float32] output0: tf", "tf", "ops", "changed", 1, True)]
    assert d.regressions == []
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    schema.write(a, pa), schema.write(b, pb)
    assert diff.main([str(pa), str(pb)]) == 0
    out = capsys.readouterr().out
    assert "Outputs whose bits changed, largest ulp change first (fingerprints; listed only) (1)" in out
    assert "Verdict: no regression (listed only: 1 output(s) changed bits)" in out
    assert diff.main([str(pa), str(pa)]) == 0 and "bits changed" not in capsys.readouterr().out


def test_a_zero_sign_change_is_listed_with_zero_ulps():
    """-0.0 for +0.0 changes the bits (sha) but no value: listed, with 0 ulps named as such."""
    x = np.float32([0.0, 1.0])
    d = diff.diff_reports(report({"t.py::op": case_with(x)}), report({"t.py::op": case_with(np.float32([-0.0, 1.0]))}))
    assert [(c.ulp, c.exact, c.ulp_text) for c in d.bits] == [(0, True, "0 (zero sign / NaN bits)")]


def test_non_numeric_results_are_hashed_without_a_sample():
    """A comparison of strings (or objects) is fingerprinted by its sha alone, never an error on the hot path."""
    row = fingerprint.fingerprint(np.array(["a", "b"]))
    assert row["sample"] == "" and not row["exact"]
    assert row["sha"] != fingerprint.fingerprint(np.array(["a", "c"]))["sha"]


def test_a_change_outside_the_sample_is_still_listed_as_a_lower_bound():
    """In a large output the changed element may not be sampled: the sha still differs; the ulp says '>=1'."""
    x = np.linspace(0, 1, 1000, dtype=np.float32)
    d = diff.diff_reports(report({"t.py::op": case_with(x)}), report({"t.py::op": case_with(one_ulp_up(x, 3))}))
    assert [(c.ulp, c.exact, c.ulp_text) for c in d.bits] == [(0, False, ">=1")]


def test_bit_changes_are_grouped_per_family_and_side_largest_first():
    """Several changed outputs: sorted by max ulp (dtype/shape changes first), summarized per family and side."""
    x = np.linspace(1, 2, 8, dtype=np.float32)
    far = x.copy()
    far[0] = np.float32(1.5)
    cases_a = {"t.py::small": case_with(x), "t.py::big": case_with(x, label="torch"),
               "t.py::shape": case_with(x, label="ref64"), "t.py::same": case_with(x)}
    cases_b = {"t.py::small": case_with(one_ulp_up(x, 0)), "t.py::big": case_with(far, label="torch"),
               "t.py::shape": case_with(x[:4], label="ref64"), "t.py::same": case_with(x)}
    d = diff.diff_reports(report(cases_a), report(cases_b))
    assert [(c.nodeid, c.side, c.ulp_text) for c in d.bits] == [
        ("t.py::shape", "reference", "n/a (dtype/shape/count)"), ("t.py::big", "torch", "4194304"),
        ("t.py::small", "tf", "1")]
    assert diff.bit_summary(d.bits) == [["ops", "reference", 1, 1, "n/a (dtype/shape/count)"],
                                        ["ops", "torch", 1, 1, "4194304"], ["ops", "tf", 1, 1, "1"]]
    # a changed float64 reference means other inputs, not another framework: the diff says so
    assert [n for n in d.notes if "1 float64 reference output(s) changed bits" in n]


def test_catalogue_value_changes_within_the_entrys_slack_are_listed_bitwise_only():
    """A witness value that moved by one float32 ulp, inside the entry's atol: not a behaviour change (exit 0),
    but listed among the changed bits with its ulp distance."""
    v = 0.1
    moved = float(np.nextafter(np.float32(v), np.float32(1)))
    a = report({}, {"e": dict(entry(float(np.float32(v)), 1.0), atol=1e-6)})
    b = report({}, {"e": dict(entry(moved, 1.0), atol=1e-6)})
    d = diff.diff_reports(a, b)
    assert d.catalogue == [] and d.regressions == []
    assert [(c.nodeid, c.side, c.ulp) for c in d.bits] == [("catalogue:e", "tf", 1)]


def test_old_reports_without_fingerprints_load_and_say_so(tmp_path):
    """A schema version 2 report (no fingerprints, no API surface) still loads; the diff notes that bitwise changes
    cannot be listed against it."""
    old = schema.encode(report({"t.py::op": case_with(np.float32([1.0]))}))
    old["schema_version"] = 2
    del old["api_surface"]
    for c in old["cases"].values():
        del c["fingerprints"]
    path = tmp_path / "v2.json"
    path.write_text(schema.dumps(old))
    back = schema.load(path)
    assert back["cases"]["t.py::op"]["fingerprints"] == {} and back["api_surface"] == {}
    d = diff.diff_reports(back, report({"t.py::op": case_with(np.float32([2.0]))}))
    assert d.bits == [] and any("recorded no fingerprints" in n for n in d.notes)


def test_malformed_fingerprint_row_names_the_field(tmp_path):
    rep = schema.encode(report({"t.py::op": case_with(np.float32([1.0]))}))
    rep["cases"]["t.py::op"]["fingerprints"]["tanh[float32] output0: tf"]["sha"] = 5
    path = tmp_path / "bad.json"
    path.write_text(schema.dumps(rep))
    with pytest.raises(schema.ReportError, match=r"fingerprints\['tanh\[float32\] output0: tf'\].sha has type int"):
        schema.load(path)


# ---------------------------------------------------------------- the API surface
SURFACE = {"keras": {"layers": {"Dense": {"signature": "(units, activation=None, use_bias=True)",
                                          "config": {"use_bias": True}}}},
           "torch": {"optim": {"Adam": {"signature": "(params, lr=0.001, eps=1e-08)"}}}}


def test_api_surface_is_recorded_when_the_module_exists(monkeypatch):
    """The report takes equivalence.api_surface.snapshot() when the module is there, {} when it is absent, and
    records the error (not a crash of the whole report) when the snapshot raises."""
    monkeypatch.setitem(sys.modules, "equivalence.api_surface", None)  # absent: import raises ModuleNotFoundError
    assert plugin.api_surface_record() == {}
    fake = types.ModuleType("equivalence.api_surface")
    fake.snapshot = lambda: SURFACE
    monkeypatch.setitem(sys.modules, "equivalence.api_surface", fake)
    assert plugin.api_surface_record() == SURFACE

    def boom():
        raise RuntimeError("no keras")

    fake.snapshot = boom
    assert plugin.api_surface_record() == {"error": "RuntimeError: no keras"}


def test_diff_lists_every_changed_signature_and_default_per_side():
    import copy

    after = copy.deepcopy(SURFACE)
    after["keras"]["layers"]["Dense"]["signature"] = "(units, activation=None, use_bias=False)"
    after["keras"]["layers"]["Dense"]["config"]["use_bias"] = False
    after["torch"]["optim"]["AdamW"] = {"signature": "(params, lr=0.001)"}
    d = diff.diff_reports(report({}, api=SURFACE), report({}, api=after))
    assert [(c.side, c.item, c.kind) for c in d.api] == [
        ("tf", "keras/layers/Dense/config/use_bias", "changed"), ("tf", "keras/layers/Dense/signature", "changed"),
        ("torch", "torch/optim/AdamW/signature", "added")]
    assert d.regressions == []
    one_sided = diff.diff_reports(report({}, api=SURFACE), report({}))
    assert one_sided.api == [] and any("recorded no API surface" in n for n in one_sided.notes)


# ---------------------------------------------------------------- the ladder
def test_ladder_names_the_release_that_introduced_each_change(tmp_path, capsys):
    """Four Keras rungs: a bit change that 3.10 introduced, none in 3.11, a catalogue move in 3.12 (exit 1 there
    only); each change is listed under the step whose release made it."""
    x = np.linspace(-1, 1, 6, dtype=np.float32)
    rungs = [report({"t.py::op": case_with(x)}, {"e": entry(0.99, 0.1)}, keras="3.9.2"),
             report({"t.py::op": case_with(one_ulp_up(x, 2))}, {"e": entry(0.99, 0.1)}, keras="3.10.0"),
             report({"t.py::op": case_with(one_ulp_up(x, 2))}, {"e": entry(0.99, 0.1)}, keras="3.11.3"),
             report({"t.py::op": case_with(one_ulp_up(x, 2))}, {"e": entry(0.9, 0.1)}, keras="3.12.4")]
    found = ladder.steps(rungs)
    assert [name for name, _ in found] == ["keras 3.9.2 -> 3.10.0", "keras 3.10.0 -> 3.11.3",
                                           "keras 3.11.3 -> 3.12.4"]
    assert ladder.first_appearance(found) == {
        "bits changed op tanh[float32] output0: tf tf": "keras 3.9.2 -> 3.10.0",
        "catalogue moved e tf": "keras 3.11.3 -> 3.12.4",
        "bits changed catalogue:e e tf": "keras 3.11.3 -> 3.12.4"}  # the witness's value, bitwise
    paths = []
    for i, r in enumerate(rungs):
        paths.append(str(tmp_path / f"r{i}.json"))
        schema.write(r, paths[-1])
    md = tmp_path / "ladder.md"
    assert ladder.main(paths + ["--markdown", str(md)]) == 1
    out = capsys.readouterr().out
    assert "keras 3.10.0 -> 3.11.3\nnone: no case, catalogue entry, measured error, output bit or API item changed" \
        in out
    assert "Verdict: REGRESSED in 1 step(s): keras 3.11.3 -> 3.12.4" in out
    assert "| catalogue moved | e | tf |" in md.read_text()
    assert ladder.main(paths[:3]) == 0
    capsys.readouterr()
    assert ladder.main(paths[:1]) == 2
