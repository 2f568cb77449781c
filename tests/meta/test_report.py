"""Run reports and their diff: stable format, clear errors, and every kind of change found (on synthetic reports)."""
from __future__ import annotations

import json
import math
import re

import pytest

from equivalence.report import diff, run, schema

pytestmark = pytest.mark.meta

PASS = {"outcome": "passed", "family": "ops", "message": "", "measurements": {}}
# A platform record as `equivalence.platform.observed()` writes it (an AVX-512 machine with TF's oneDNN on).
PLATFORM = {"arch": "x86_64", "blas": {"numpy": "scipy-openblas 0.3.31", "torch": "mkl"}, "cpu": "AMD EPYC",
            "cpus": 2, "env": {}, "isa_flags": ["avx", "avx2", "avx512_vnni", "avx512bw", "avx512dq", "avx512f",
                                                "avx512vl", "fma"],
            "onednn_cpu_isa": "AVX512", "os": "Linux 6.8.0", "python": "3.11.7", "tf_onednn": True,
            "threads": {"tf_inter_op": 0, "tf_intra_op": 0, "torch_inter_op": 2, "torch_intra_op": 2},
            "torch_cpu_capability": "AVX512", "vector_isa": "avx512"}
# The same machine told to run TF without oneDNN and torch's AVX2 kernels (TF_ENABLE_ONEDNN_OPTS=0
# ATEN_CPU_CAPABILITY=avx2), after a kernel update and with other thread counts: only the first two count.
PLATFORM_OTHER = dict(PLATFORM, tf_onednn=False, torch_cpu_capability="AVX2", os="Linux 6.18.4",
                      env={"ATEN_CPU_CAPABILITY": "avx2", "TF_ENABLE_ONEDNN_OPTS": "0"},
                      threads=dict(PLATFORM["threads"], torch_intra_op=1))


def measured(err_over_tol: float, max_abs: float = 1e-6, ok: bool = True) -> dict:
    """A case's measurements: one TF-vs-torch comparison with the given error as a fraction of its tolerance."""
    row = {"max_abs": max_abs, "max_rel": max_abs, "atol": 1e-5, "rtol": 1e-5, "error_over_tol": err_over_tol,
           "n": 6, "ok": ok, "dtype": "float32"}
    return {"tanh: tf vs torch": row}


def entry(tf, torch, status: str = "documented") -> dict:
    """A catalogue row observed as `tf`/`torch`."""
    return {"area": "layer-defaults", "title": "t", "status": status, "observed": {"tf": tf, "torch": torch},
            "expected": {"tf": tf, "torch": torch}, "atol": 0.0, "error": ""}


def report(cases: dict | None = None, catalogue: dict | None = None, tf: str = "2.21.0", platform: dict = PLATFORM,
           **kw) -> dict:
    """A valid synthetic report (decoded form, as `schema.load` returns it)."""
    return schema.build(versions={"tensorflow": tf, "torch": "2.13.0", "keras": "3.15.1"}, hypothesis_profile="ci",
                        platform=platform, cases=cases if cases is not None else {"t.py::a": PASS},
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
        (lambda r: r.update(schema_version=99),
         "schema_version 99 is not supported (this checkout reads versions 1, 2, 3)"),
        (lambda r: r.pop("schema"), "not an equivalence run report"),
        (lambda r: r.pop("platform"), "the report lacks the field(s) platform"),
        (lambda r: r.update(platform=[]), "the report.platform has type list, expected dict"),
        (lambda r: r["platform"].pop("cpu"), "platform lacks the field(s) cpu"),
        (lambda r: r["platform"].update(tf_onednn="yes"), "platform.tf_onednn has type str, expected bool or NoneType"),
        (lambda r: r["platform"].update(cpus="2"), "platform.cpus has type str, expected int"),
        (lambda r: r["platform"].update(onednn_cpu_isa="AVX9"), "platform.onednn_cpu_isa is 'AVX9', expected one of"),
        (lambda r: r["platform"]["threads"].update(torch_intra_op="2"),
         "platform.threads['torch_intra_op'] must be an integer"),
        (lambda r: r["platform"]["blas"].update(torch=None), "platform.blas['torch'] must be a string"),
        (lambda r: r["platform"].update(isa_flags=["avx", 2]), "platform.isa_flags must be a list of strings"),
    ], ids=["no-cases", "no-outcome", "bad-outcome", "bad-number", "bad-status", "future-schema", "not-a-report",
            "no-platform", "platform-not-object", "platform-no-cpu", "platform-bad-onednn", "platform-bad-cpus",
            "platform-bad-onednn-isa", "platform-bad-threads", "platform-bad-blas", "platform-bad-flags"])
    def test_malformed_report_names_the_field(self, tmp_path, mutate, expected):
        """A malformed report is rejected with the file and the path of the bad field, not a traceback."""
        rep = schema.encode(report({"t.py::a": case()}, {"e": entry(1, 2)}))
        mutate(rep)
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(rep))
        with pytest.raises(schema.ReportError, match="bad.json") as info:
            schema.load(path)
        assert expected in str(info.value)

    def test_schema_version_1_report_still_loads_with_an_unknown_platform(self, tmp_path):
        """A report written before the platform was recorded (schema version 1, no `platform`) loads, with the
        platform {} (unknown); everything else as written."""
        rep = schema.encode(report({"t.py::a": case()}, {"e": entry(1, 2)}))
        rep.update(schema_version=1)
        del rep["platform"]
        path = tmp_path / "v1.json"
        path.write_text(json.dumps(rep))
        back = schema.load(path)
        assert back["platform"] == {} and back["schema_version"] == 1
        assert back["cases"]["t.py::a"]["measurements"] == case()["measurements"]
        assert "platform: not recorded" in run.summarize(back)

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
        assert text.splitlines()[1:3] == [  # the platform, under the versions line
            "platform: AMD EPYC, x86_64 avx512, 2 cpus, Linux 6.8.0, Python 3.11.7",
            "kernels: TF oneDNN on, torch AVX512, oneDNN ISA AVX512; BLAS numpy scipy-openblas 0.3.31, torch mkl; "
            "threads tf inter_op auto, tf intra_op auto, torch inter_op 2, torch intra_op 2"]
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


class TestPlatformInDiff:
    """`diff` says when two reports come from different platforms, beside every change it lists."""

    def pair(self, tmp_path, platform_b: dict, v1_a: bool = False) -> tuple[str, str]:
        """A and B with one change of every kind `diff` lists; B on `platform_b`, A on PLATFORM (or version 1)."""
        a = report({"t.py::fails": case(), "t.py::fixed": case("failed"), "t.py::skips": case(),
                    "t.py::grows": case(err=0.1), "t.py::shrinks": case(err=0.4), "t.py::only_a": case()},
                   {"moves": entry(0.99, 0.1)})
        b = report({"t.py::fails": case("failed", message="EquivalenceMismatch: x"), "t.py::fixed": case(),
                    "t.py::skips": case("skipped"), "t.py::grows": case(err=0.5), "t.py::shrinks": case(err=0.1),
                    "t.py::only_b": case()}, {"moves": entry(0.9, 0.1)}, platform=platform_b)
        path_a = write(tmp_path, "a.json", a)
        if v1_a:
            raw = json.loads(open(path_a).read())
            raw.update(schema_version=1)
            del raw["platform"]
            open(path_a, "w").write(json.dumps(raw))
        return path_a, write(tmp_path, "b.json", b)

    def test_different_platforms_warn_and_tag_every_change(self, tmp_path, capsys):
        """A platform change (TF's oneDNN off, torch's AVX2 kernels) is named field by field, A -> B, and every
        change listed (text and Markdown) carries [platform differs]; a kernel update alone is no platform change."""
        a, b = self.pair(tmp_path, PLATFORM_OTHER)
        md = tmp_path / "d.md"
        assert diff.main([a, b, "--markdown", str(md)]) == 1
        out = capsys.readouterr().out
        warning = [line for line in out.splitlines() if line.startswith("warning: the reports come from different")]
        assert warning == ["warning: the reports come from different platforms (tf_onednn: True -> False; "
                           "torch_cpu_capability: AVX512 -> AVX2): any change listed below may be due to the platform "
                           "change rather than the framework change, and is marked [platform differs]"]
        d = diff.diff_reports(schema.load(a), schema.load(b))
        assert d.platform_changes == ["tf_onednn: True -> False", "torch_cpu_capability: AVX512 -> AVX2"]
        found = diff.sections(d, None)
        titles = [t.rsplit(" (", 1)[0] for t, _, _ in found]
        assert titles == ["Began failing (regression)", "Catalogue entries whose observed behaviour changed",
                          "Errors that grew more than 2x (error as a fraction of its tolerance, floored at 0.01)",
                          "Stopped failing", "Outcome changed (not failing in either)",
                          "Errors that shrank more than 2x", "Cases only in A", "Cases only in B",
                          # the moved entry's tf value, bitwise (listed only): per family and side, then the list
                          "Outputs whose bits changed, per family and side (listed only, never a regression)",
                          "Outputs whose bits changed, largest ulp change first (fingerprints; listed only)"]
        rows = [row for _, head, section in found for row in section]
        assert all(head[-1] == "note" for _, head, _ in found) and len(rows) == 10
        assert all(row[-1] == "[platform differs]" for row in rows)
        for name in ("t.py::fails", "t.py::fixed", "t.py::skips", "t.py::only_a", "t.py::only_b", "moves", "grows",
                     "shrinks"):  # each row of the terminal output, whatever its section
            line = next(line for line in out.splitlines() if name in line)
            assert line.endswith("[platform differs]"), line
        # one tag per row, one in the warning, one in the verdict
        assert out.count("[platform differs]") == len(rows) + 2
        assert re.search(r"Verdict: REGRESSED: .* \[platform differs\]: the platforms differ \(tf_onednn, "
                         r"torch_cpu_capability\)", out)
        text = md.read_text()
        assert text.count("[platform differs]") == len(rows) + 2
        assert "| t.py::fails | passed | failed | EquivalenceMismatch: x | [platform differs] |" in text

    def test_same_platform_is_said_once_and_tags_nothing(self, tmp_path, capsys):
        """On one platform (thread counts, environment and kernel release aside) no change is tagged."""
        same = dict(PLATFORM, os="Linux 6.9.1", threads=dict(PLATFORM["threads"], tf_intra_op=2))
        a, b = self.pair(tmp_path, same)
        md = tmp_path / "d.md"
        assert diff.main([a, b, "--markdown", str(md)]) == 1
        out = capsys.readouterr().out
        assert "[platform differs]" not in out and "[platform differs]" not in md.read_text()
        assert "platform: the same in both (AMD EPYC, x86_64 avx512, TF oneDNN on, torch AVX512, oneDNN ISA " \
               "AVX512, BLAS numpy scipy-openblas 0.3.31, torch mkl, Linux)" in out
        assert schema.check_comparable(schema.load(a), schema.load(b)) == []
        assert all(head[-1] != "note" for _, head, _ in diff.sections(diff.diff_reports(schema.load(a),
                                                                                         schema.load(b)), None))

    def test_version_1_report_warns_that_the_platform_is_unknown(self, tmp_path, capsys):
        """Against a schema version 1 report (no platform) `diff` still works, warning that it cannot tell a
        platform change from a framework change; nothing is tagged, since nothing is known."""
        a, b = self.pair(tmp_path, PLATFORM_OTHER, v1_a=True)
        assert diff.main([a, b]) == 1
        out = capsys.readouterr().out
        assert f"warning: {a} recorded no platform (a schema version 1 report), so a platform change cannot be " \
               "told from a framework change" in out
        assert "[platform differs]" not in out

    def test_plot_title_says_the_platform_differs(self, tmp_path, monkeypatch):
        """`--plot` of reports from different platforms names the differing fields in its title."""
        pytest.importorskip("matplotlib")
        import matplotlib.axes

        titles = []
        real_set = matplotlib.axes.Axes.set
        monkeypatch.setattr(matplotlib.axes.Axes, "set",
                            lambda ax, **kw: (titles.append(kw.get("title")), real_set(ax, **kw))[1])
        a, b = self.pair(tmp_path, PLATFORM_OTHER)
        assert diff.main([a, b, "--plot", str(tmp_path / "d.png")]) == 1
        assert any(t and "[platform differs] (tf_onednn, torch_cpu_capability)" in t for t in titles)
