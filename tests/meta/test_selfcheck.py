"""The mutation self-check's machinery (`python -m equivalence selfcheck`): registry, selections, scoring, and
one real mutant and the null control run end to end through pytest subprocesses and the plugin.

The end-to-end test runs torch-only device-move tests with `--confcutdir=tests` (the root conftest, whose
isolation fixture imports TensorFlow, is left out), so each subprocess costs ~3 s of CPU instead of ~10 s; the
full self-check (`python -m equivalence selfcheck`) runs every mutant through the whole conftest.
"""
from __future__ import annotations

import inspect
import re

import pytest

from equivalence import runtime
from equivalence.selfcheck import MUTANTS, NULL_ID, Mutant, by_id
from equivalence.selfcheck import patches, selection, runner
from equivalence.selfcheck.mutants import AREAS

pytestmark = pytest.mark.meta


def test_mutant_ids_are_unique_slugs():
    """Every mutant id is unique, a lowercase ASCII slug, and starts with its framework side."""
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    prefixes = {"tf": ("tf-", "keras-"), "torch": ("torch-",), "none": (NULL_ID,)}
    wrong = [m.id for m in MUTANTS if not m.id.startswith(prefixes[m.side])]
    assert not wrong, f"ids not prefixed with their side: {wrong}"


def test_registry_spans_areas_and_sides():
    """At least 40 mutants besides the control, on both frameworks, in every area; exactly one null control."""
    real = [m for m in MUTANTS if m.id != NULL_ID]
    assert len(real) >= 40, len(real)
    assert {m.area for m in real} == set(AREAS) - {"control"}
    assert {m.side for m in real} == {"tf", "torch"}
    assert [m.id for m in MUTANTS if m.side == "none"] == [NULL_ID] and by_id(NULL_ID).area == "control"


def test_every_selection_names_existing_tests():
    """Each selection's files, test functions and parametrization ids exist (read from the test modules' marks)."""
    problems = [p for m in MUTANTS for p in selection.selection_problems(m)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("node, problem", [
    ("tests/test_nope.py::test_x", "tests/test_nope.py does not exist"),
    ("tests/test_ops.py::test_op_matchez[exp-float32]", "defines no test 'test_op_matchez'"),
    ("tests/test_ops.py::test_op_matches[exp-float33]", "has no parametrization id 'exp-float33'"),
    ("tests/test_device_moves.py::test_tensor_to_moves_to_the_device[x]", "is not parametrized"),
])
def test_selection_check_names_what_is_missing(node, problem):
    """A selection naming a missing file, test or parametrization id is reported with the mutant and the node."""
    mutant = Mutant("torch-fake", "torch", "ops", "nothing", "none", (node,), patches.nothing)
    assert [f"torch-fake: {node}: " in p and problem in p for p in selection.selection_problems(mutant)] == [True]


def test_k_expression_words_must_match_an_id():
    """-k words are checked against the selection's test names and parametrization ids."""
    ok = Mutant("torch-k", "torch", "ops", "nothing", "none", ("tests/test_ops.py",), patches.nothing,
                k="test_op_matches and (exp or log1p) and float32 and not keras")
    assert selection.selection_problems(ok) == []
    bad = Mutant("torch-k", "torch", "ops", "nothing", "none", ("tests/test_ops.py",), patches.nothing, k="expp")
    assert selection.selection_problems(bad) == [
        "torch-k: -k 'expp': 'expp' matches no test or parametrization id of the selection"]


def test_param_ids_follow_pytest_for_stacked_marks():
    """Stacked parametrize marks join bottom-up, as pytest names the collected tests."""
    ids = selection.param_ids(selection.ROOT / "tests/test_grads.py", "test_op_grad_catches_scaled_gradient")
    assert "maximum-tiny-scalar-direction-tf" in ids and "gelu-keras-x-2.5-torch" in ids and len(ids) == 8


def test_invalid_record_is_rejected_naming_it():
    with pytest.raises(ValueError, match=r"^mutant 'torch-x': side 'jax' not in .*; empty selection$"):
        Mutant("torch-x", "jax", "ops", "w", "s", (), patches.nothing)


def test_null_mutant_patches_nothing():
    """The control's patch sets no attribute at all."""
    mp = pytest.MonkeyPatch()
    by_id(NULL_ID).patch(mp)
    assert mp._setattr == [] and by_id(NULL_ID).patch.paths == ()


def test_scaled_gradient_keeps_values_and_scales_gradients():
    """scale_grad leaves torch.exp's values bit for bit and multiplies its gradient by the factor; undo restores."""
    torch = runtime.torch()
    original = torch.exp
    x = torch.tensor([-1.5, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    with pytest.MonkeyPatch.context() as mp:
        patches.scale_grad("torch.exp", 1 + 1e-4)(mp)
        y = torch.exp(x)
        y.sum().backward()
    assert torch.exp is original
    assert torch.equal(y.detach(), original(x.detach()))
    assert torch.allclose(x.grad, (1 + 1e-4) * original(x.detach()), rtol=1e-15, atol=0)


def test_with_defaults_changes_signature_and_behaviour():
    """A default mutant is what an upgrade looks like: inspect.signature and an omitted argument both see it."""
    torch = runtime.torch()
    with pytest.MonkeyPatch.context() as mp:
        by_id("torch-dropout-p-default").patch(mp)
        assert inspect.signature(torch.nn.Dropout.__init__).parameters["p"].default == 0.5001
        assert torch.nn.Dropout().p == 0.5001 and torch.nn.Dropout(0.25).p == 0.25
    assert torch.nn.Dropout().p == 0.5


def _run(mutant_id: str, failed: list, problem=None, applied=True) -> runner.Run:
    return runner.Run(("tests/test_x.py::test_a",), None, mutant_id, returncode=1 if failed else 0,
                      passed=0 if failed else 1, failed=failed, applied=mutant_id if applied else None,
                      problem=problem)


def test_summary_scores_caught_over_scored():
    """Tests failing without a mutant leave its selection (none left: invalid, out of the score), errors count as
    not caught, a failing baseline or a caught control fails the run."""
    a, b = "tests/test_x.py::test_a", "tests/test_y.py::test_b"
    mk = lambda i, *sel: Mutant(i, "torch", "ops", "w", "s", sel or (a,), patches.nothing)
    mutants = [mk("torch-a"), mk("torch-b"), mk("torch-c"), mk("torch-d", b + "[r]"), mk("torch-e", a, "tests/test_y.py"),
               mk(NULL_ID)]
    fail = [{"nodeid": a + "[p]", "when": "call", "message": "equivalence.compare.EquivalenceMismatch: off"}]
    baseline = runner.Run((a, b), None, None, returncode=1, passed=2, passed_ids=[a + "[p]", b + "[q]"],
                          failed=[{"nodeid": b + "[r]", "when": "call", "message": "in progress"}])
    assert runner.usable_selection(mutants[4], [baseline]) == ((a, b + "[q]"), [b + "[r]"], None)
    runs = {i: _run(i, f) for i, f in (("torch-a", fail), ("torch-b", []), ("torch-e", fail), (NULL_ID, []))}
    runs["torch-c"] = _run("torch-c", [], problem="timed out")
    report = runner.summarise(mutants, runs, [baseline], min_score=30)
    assert (report["caught"], report["scored"], report["missed"]) == (2, 4, ["torch-b"])
    assert report["invalid"] == ["torch-d"] and report["errors"] == ["torch-c"] and report["control"] == "missed"
    assert report["ok"] is False  # the baseline failed and a run errored
    table = runner.render_table(report)
    assert "2/4 caught = 50.0%" in table and "1 failed, e.g. test_a[p]: EquivalenceMismatch: off" in table
    runs[NULL_ID] = _run(NULL_ID, fail)
    assert runner.summarise(mutants[:2] + [mutants[-1]], runs, [], min_score=0)["control"] == "caught"


def test_cli_lists_and_rejects_unknown_ids(capsys):
    assert runner.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(m.id in out for m in MUTANTS) and f"{len(MUTANTS) - 1} mutants and the null control" in out
    assert runner.main(["--only", "torch-nope"]) == 2
    assert "no self-check mutant 'torch-nope'" in capsys.readouterr().err


@pytest.mark.slow  # two pytest runs in child processes
def test_end_to_end_mutant_caught_and_null_missed():
    """Two pytest subprocesses with the plugin: Tensor.to ignoring its device fails the device-move tests with the
    suite's own message, and the null control on a selection of the same file passes (reported missed)."""
    report = runner.run_selfcheck([by_id("torch-tensor-to-ignores-device"), by_id(NULL_ID)], jobs=2,
                                  baseline=False, pytest_args=["--confcutdir=tests"], timeout=120)
    rows = {r["id"]: r for r in report["mutants"]}
    caught = rows["torch-tensor-to-ignores-device"]
    assert caught["outcome"] == "caught", caught
    assert caught["run"]["applied"] == "torch-tensor-to-ignores-device"
    messages = [f["message"] for f in caught["run"]["failed"]]
    assert any(re.search(r"Tensor\.to\('meta'\) gave a tensor on cpu", m) for m in messages), messages
    assert rows[NULL_ID]["outcome"] == "missed" and rows[NULL_ID]["run"]["passed"] == 2
    assert (report["score"], report["control"], report["ok"]) == (100.0, "missed", True)
