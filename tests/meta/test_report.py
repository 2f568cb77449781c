"""Run reports and their diff: stable format, clear errors, and every kind of change found (on synthetic reports)."""
from __future__ import annotations

import json
import math
import re

import pytest

from equivalence.report import diff, run, schema

pytestmark = pytest.mark.meta

PASS = {"outcome": "passed", "family": "ops", "message": "", "measurements": {}}


def measured(err_over_tol: float, max_abs: float = 1e-6, ok: bool = True) -> dict:
    """A case's measurements: one TF-vs-torch comparison with the given error as a fraction of its tolerance."""
    row = {"max_abs": max_abs, "max_rel": max_abs, "atol": 1e-5, "rtol": 1e-5, "error_over_tol": err_over_tol,
           "n": 6, "ok": ok, "dtype": "float32"}
    return {"tanh: tf vs torch": row}


def entry(tf, torch, status: str = "documented") -> dict:
    """A catalogue row observed as `tf`/`torch`."""
    return {"area": "layer-defaults", "title": "t", "status": status, "observed": {"tf": tf, "torch": torch},
            "expected": {"tf": tf, "torch": torch}, "atol": 0.0, "error": ""}


def report(cases: dict | None = None, catalogue: dict | None = None, tf: str = "2.21.0", **kw) -> dict:
    """A valid synthetic report (decoded form, as `schema.load` returns it)."""
    return schema.build(versions={"tensorflow": tf, "torch": "2.13.0", "keras": "3.15.1"}, hypothesis_profile="ci",
                        cases=cases if cases is not None else {"t.py::a": PASS},
                        catalogue=catalogue if catalogue is not None else {}, run={"started": "x"}, **kw)


def case(outcome: str = "passed", err: float = 0.1, message: str = "") -> dict:
    """One case with an outcome and one measured comparison."""
    return {"outcome": outcome, "family": "ops", "message": message, "measurements": measured(err)}


def write(tmp_path, name: str, rep: dict):
    path = tmp_path / name
    schema.write(rep, path)
    return str(path)


class TestFormat:
    def test_round_trip_keeps_non_finite_floats(self, tmp_path):
        """NaN and inf errors survive write/load, written as strings so the file is strict JSON."""
        rep = report({"t.py::a": case(err=math.inf)}, {"e": entry(math.nan, [1.0, -math.inf])})
        path = write(tmp_path, "r.json", rep)
        json.loads(open(path).read(), parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
        back = schema.load(path)
        assert back["cases"]["t.py::a"]["measurements"]["tanh: tf vs torch"]["error_over_tol"] == math.inf
        obs = back["catalogue"]["e"]["observed"]
        assert math.isnan(obs["tf"]) and obs["torch"] == [1.0, -math.inf]

    def test_output_is_sorted_and_stable(self):
        """The same results give byte-identical JSON whatever order cases were collected in."""
        one = report({"b.py::x": PASS, "a.py::y": case()})
        two = report({"a.py::y": case(), "b.py::x": PASS})
        assert schema.dumps(one) == schema.dumps(two)
        assert list(json.loads(schema.dumps(one))["cases"]) == ["a.py::y", "b.py::x"]

    @pytest.mark.parametrize("mutate, expected", [
        (lambda r: r.pop("cases"), "the report lacks the field(s) cases"),
        (lambda r: r["cases"]["t.py::a"].pop("outcome"), "cases['t.py::a'] lacks the field(s) outcome"),
        (lambda r: r["cases"]["t.py::a"].update(outcome="won"), "cases['t.py::a'].outcome is 'won', expected one of"),
        (lambda r: r["cases"]["t.py::a"]["measurements"]["tanh: tf vs torch"].update(max_abs="big"),
         "measurements['tanh: tf vs torch'].max_abs has type str, expected int or float"),
        (lambda r: r["catalogue"]["e"].update(status="meh"), "catalogue['e'].status is 'meh'"),
        (lambda r: r.update(schema_version=99), "schema_version 99 is not supported"),
        (lambda r: r.pop("schema"), "not an equivalence run report"),
    ], ids=["no-cases", "no-outcome", "bad-outcome", "bad-number", "bad-status", "future-schema", "not-a-report"])
    def test_malformed_report_names_the_field(self, tmp_path, mutate, expected):
        """A malformed report is rejected with the file and the path of the bad field, not a traceback."""
        rep = schema.encode(report({"t.py::a": case()}, {"e": entry(1, 2)}))
        mutate(rep)
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(rep))
        with pytest.raises(schema.ReportError, match="bad.json") as info:
            schema.load(path)
        assert expected in str(info.value)

    def test_unreadable_and_non_json_files_are_reported(self, tmp_path):
        """A missing file and a non-JSON file each give one clear line."""
        (tmp_path / "x.json").write_text("{not json")
        with pytest.raises(schema.ReportError, match=r"x.json: not valid JSON \(line 1, column 2"):
            schema.load(tmp_path / "x.json")
        with pytest.raises(schema.ReportError, match="cannot read the report"):
            schema.load(tmp_path / "missing.json")

    def test_different_suite_versions_are_refused(self):
        """Reports from two suite versions are not diffed unless the user insists."""
        with pytest.raises(schema.ReportError, match="different suite versions: A ran suite 0.1.0, B ran suite 0.2.0"):
            schema.check_comparable(report(suite_version="0.1.0"), report(suite_version="0.2.0"))
        assert schema.check_comparable(report(suite_version="0.1.0"), report(suite_version="0.2.0"),
                                       allow_suite_mismatch=True) == []


class TestDiff:
    def test_began_and_stopped_failing(self):
        """A case that fails only in B is a regression; one that fails only in A is listed as fixed."""
        a = report({"t.py::a": case(), "t.py::b": case("failed"), "t.py::c": case()})
        b = report({"t.py::a": case("failed", message="boom"), "t.py::b": case(), "t.py::c": case("skipped")})
        d = diff.diff_reports(a, b)
        assert [(c.nodeid, c.before, c.after, c.message) for c in d.began_failing] == [("t.py::a", "passed", "failed", "boom")]
        assert [c.nodeid for c in d.stopped_failing] == ["t.py::b"]
        assert [(c.nodeid, c.after) for c in d.outcome_changed] == [("t.py::c", "skipped")]
        assert d.regressions == ["1 case(s) began failing"]

    def test_new_failing_case_counts_and_absent_cases_are_listed(self):
        """A case only in B that fails began failing; cases only in one report are listed, not regressions."""
        d = diff.diff_reports(report({"t.py::a": case()}), report({"t.py::n": case("error")}))
        assert [(c.nodeid, c.before) for c in d.began_failing] == [("t.py::n", "absent")]
        assert (d.only_a, d.only_b) == (["t.py::a"], ["t.py::n"])

    @pytest.mark.parametrize("before, after, grew, shrank", [
        (0.1, 0.25, True, False),   # 2.5x > 2x
        (0.1, 0.19, False, False),  # 1.9x
        (0.0, 0.005, False, False),  # both below the 0.01 floor: noise
        (0.0, 0.05, True, False),   # bit-exact -> 5% of tolerance: 5x the floor
        (0.4, 0.1, False, True),
        (0.5, math.inf, True, False),
        (math.nan, 3.0, False, False),  # a NaN error has no ratio
    ])
    def test_error_growth_beyond_factor(self, before, after, grew, shrank):
        """An error (as a fraction of tolerance, floored) that grew more than the factor is a regression."""
        d = diff.diff_reports(report({"t.py::a": case(err=before)}), report({"t.py::a": case(err=after)}), factor=2)
        assert (bool(d.grew), bool(d.shrank)) == (grew, shrank)
        assert bool(d.regressions) == grew

    def test_factor_is_configurable(self):
        """--factor 3 ignores a 2.5x growth that the default factor reports."""
        a, b = report({"t.py::a": case(err=0.1)}), report({"t.py::a": case(err=0.25)})
        assert diff.diff_reports(a, b, factor=3).grew == []
        with pytest.raises(ValueError, match="factor must be > 1"):
            diff.diff_reports(a, b, factor=0.5)

    def test_catalogue_changes_are_classified(self):
        """Entries that began to differ, stopped differing, moved, broke, or were added/removed are each named."""
        a = report(catalogue={"appear": entry(1, 1), "vanish": entry(0.99, 0.1), "move": entry(0.99, 0.1),
                              "same": entry([1.0], [2.0]), "gone": entry(1, 2), "broke": entry(1, 2)})
        broken = dict(entry(1, 2), observed=None, status="error", error="ImportError: x")
        b = report(catalogue={"appear": entry(1, 2), "vanish": entry(0.1, 0.1), "move": entry(0.9, 0.1),
                              "same": entry([1.0], [2.0]), "new": entry(3, 4), "broke": broken})
        found = {c.id: (c.kind, c.sides) for c in diff.diff_catalogue(a["catalogue"], b["catalogue"])}
        assert found == {"appear": ("appeared", "torch"), "vanish": ("vanished", "tf"), "move": ("moved", "tf"),
                         "gone": ("removed", "-"), "new": ("added", "-"), "broke": ("witness broke", "-")}
        regressions = diff.diff_reports(a, b).regressions
        assert regressions == ["4 catalogue entries changed behaviour"]

    def test_catalogue_slack_applies(self):
        """Observed floats within the entry's atol are not a change."""
        e1, e2 = dict(entry(0.5, 1.0), atol=1e-6), dict(entry(0.5 + 1e-7, 1.0), atol=1e-6)
        assert diff.diff_catalogue({"e": e1}, {"e": e2}) == []


class TestCommands:
    def pair(self, tmp_path) -> tuple[str, str]:
        """Report files A (TF 2.19) and B (TF 2.21) where t.py::a began failing and its error grew 15x."""
        a = write(tmp_path, "a.json", report({"t.py::a": case(err=0.1), "t.py::b": case(err=0.2)}, tf="2.19.1"))
        b = write(tmp_path, "b.json", report({"t.py::a": case("failed", 1.5, "EquivalenceMismatch: tanh"),
                                              "t.py::b": case(err=0.2)}))
        return a, b

    def test_diff_command_exit_codes_and_markdown(self, tmp_path, capsys):
        """`diff` exits 1 on a regression, 0 without, and writes the Markdown it is asked for."""
        a, b = self.pair(tmp_path)
        md = tmp_path / "d.md"
        assert diff.main([a, b, "--markdown", str(md)]) == 1
        out = capsys.readouterr().out
        assert "Began failing (regression) (1)" in out and "tensorflow  2.19.1  2.21.0" in out
        assert re.search(r"\n  ops +2/2 +0.2x +1/2 +0.2x\n", out)  # per family: passed/cases, closest call
        assert "Verdict: REGRESSED: 1 case(s) began failing; 1 error(s) grew more than 2x" in out
        assert "| t.py::a | passed | failed | EquivalenceMismatch: tanh |" in md.read_text()
        assert diff.main([a, a]) == 0 and "Verdict: no regression" in capsys.readouterr().out

    def test_diff_command_plots_error_vs_tolerance(self, tmp_path):
        """`--plot` writes a PNG of A's against B's error/tolerance (matplotlib is the optional `plot` extra)."""
        pytest.importorskip("matplotlib")
        a, b = self.pair(tmp_path)
        png = tmp_path / "d.png"
        assert diff.main([a, b, "--plot", str(png)]) == 1
        assert png.read_bytes()[:4] == b"\x89PNG"

    def test_diff_command_reports_bad_input_in_one_line(self, tmp_path, capsys):
        """A malformed or mismatched report makes `diff` exit 2 with a message, no traceback."""
        a = write(tmp_path, "a.json", report())
        b = write(tmp_path, "b.json", report(suite_version="9.9"))
        assert diff.main([a, b]) == 2
        assert "different suite versions" in capsys.readouterr().err
        (tmp_path / "c.json").write_text("[]")
        assert diff.main([a, str(tmp_path / "c.json")]) == 2
        assert "c.json: not an equivalence run report" in capsys.readouterr().err

    def test_run_summary_groups_families_and_lists_differences(self):
        """The run summary shows agreement per family, each catalogue entry's observations, and failures."""
        rep = report({"tests/test_ops.py::test_op_matches[tanh-float32]": case(err=0.3),
                      "tests/test_losses.py::test_loss[mse]": dict(case("failed", message="EquivalenceMismatch: mse\n  max abs"), family="losses")},
                     {"bn-momentum-convention": entry(0.99, 0.1), "x": entry(1, 2, status="stale")})
        text = run.summarize(rep)
        assert re.search(r"\n  ops +1 +0 +0 +0 +1 +0.3x +test_op_matches\[tanh-float32\] tanh: tf vs torch\n", text)
        assert re.search(r"\n  losses +0 +1 ", text)
        assert "2 known differences, observed on this install (1 NOT as documented" in text
        assert re.search(r"bn-momentum-convention +documented +0.99 +0.1\n", text)
        assert "FAILED tests/test_losses.py::test_loss[mse]\n      EquivalenceMismatch: mse" in text

    def test_run_summary_only_reads_an_existing_report(self, tmp_path, capsys):
        """`run --summary-only` prints a report's summary without running; a missing report is one clear error."""
        path = write(tmp_path, "r.json", report({"tests/test_ops.py::test_op_matches[abs-int32]": case()}))
        assert run.main(["--report", path, "--summary-only"]) == 0
        assert "test_op_matches[abs-int32]" in capsys.readouterr().out
        assert run.main(["--report", str(tmp_path / "none.json"), "--summary-only"]) == 2
        assert "no report was written" in capsys.readouterr().err

    @pytest.mark.parametrize("args, workers", [([], ["-n", "2"]), (["-n", "1"], []), (["-p", "no:xdist"], []),
                                               (["-n4", "-k", "x"], [])])
    def test_run_uses_two_workers_unless_told(self, tmp_path, args, workers):
        """`run` adds `-n 2` only when the user picked no xdist mode of their own."""
        cmd = run.pytest_command(tmp_path / "r.json", args)
        assert cmd[3:] == [f"--equivalence-report={tmp_path / 'r.json'}"] + workers + args
