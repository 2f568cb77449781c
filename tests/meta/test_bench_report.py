"""The benchmark report generator on a small synthetic pytest-benchmark JSON (fast; no benchmark runs)."""
from __future__ import annotations

import json

import pytest

from equivalence.bench import BenchCase
from equivalence.bench import report

pytestmark = pytest.mark.meta

THREADS = {"threads": 1, "torch_intra_op": 1, "tf_intra_op": 1, "tf_inter_op": 1}


def _bench(suite, work, impl, minimum, median=None):
    info = BenchCase(suite, work, impl, batch=64).extra_info(THREADS)
    stats = {"min": minimum, "median": median or minimum * 1.5, "mean": minimum * 2}
    return {"fullname": f"tests/bench/x.py::t[{work}-{impl}]", "extra_info": info, "stats": stats}


@pytest.fixture
def run_json(tmp_path):
    data = {"datetime": "2026-11-27T22:00:00", "version": "5.3.1",
            "machine_info": {"python_version": "3.11", "cpu": {"brand_raw": "Test CPU", "count": 2}},
            "benchmarks": [
                _bench("models", "seed_mlp/forward", "torch-eager", 0.001),
                _bench("models", "seed_mlp/forward", "keras-eager", 0.004),
                _bench("models", "seed_mlp/forward", "keras-tf.function", 0.002),
                _bench("pipelines", "n=512", "naive-torch", 0.010),
                _bench("pipelines", "n=512", "DataLoader", 0.030),
            ]}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    return path


def test_report_ratios_from_min(run_json):
    """Ratios are numerator/denominator of the chosen statistic, and a skipped impl shows as a dash."""
    text = report.render(report.load(run_json))
    row = next(line for line in text.splitlines() if line.startswith("| seed_mlp/forward |"))
    # keras-eager/torch-eager = 4.00, tf.function/torch-eager = 2.00, vs compile = -, tf.function speed-up = 2.00
    assert row == "| seed_mlp/forward | 4.00 | 2.00 | – | 2.00 | – |"
    assert "| n=512 | 3.00 | – | – | – |" in text
    assert "Test CPU, 2 logical CPUs" in text and "'tf_inter_op': 1" in text


def test_report_stat_choice_changes_ratios(run_json):
    """--stat median uses the medians (here equal ratios, since each median is 1.5x its min) and says so."""
    text = report.render(report.load(run_json), stat="median")
    assert "per-benchmark **median**" in text
    assert "| seed_mlp/forward | 4.00 | 2.00 |" in text


def test_report_several_runs_one_section_each(run_json, tmp_path):
    """Several JSON files (a CPU run and a GPU run) give one titled document with one section per run."""
    out = tmp_path / "B.md"
    assert report.main([str(run_json), str(run_json), "--out", str(out), "--note", "first", "--note", "second"]) == 0
    text = out.read_text()
    assert text.count("# Benchmarks: TensorFlow") == 1 and text.count("## Run: run") == 2
    assert text.index("first") < text.index("second")


def test_report_main_writes_file(run_json, tmp_path, capsys):
    """main(argv) writes the Markdown to --out and returns 0, as `python -m equivalence bench-report` does."""
    out = tmp_path / "B.md"
    assert report.main([str(run_json), "--out", str(out), "--note", "Load: shared."]) == 0
    assert out.read_text().startswith("# Benchmarks: TensorFlow (Keras 3) vs PyTorch")
    assert "Load: shared." in out.read_text()


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ('{"benchmarks": []}', "no 'benchmarks' list"),
    ('{"benchmarks": [{"fullname": "t", "extra_info": {}, "stats": {}}]}', "lack extra_info suite/work/impl"),
], ids=["missing", "not-json", "empty", "foreign-benchmarks"])
def test_report_rejects_bad_input(tmp_path, capsys, content, message):
    """Bad input exits 2 with a message naming the problem, never a traceback."""
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    assert report.main([str(path)]) == 2
    assert message in capsys.readouterr().err


def test_bench_case_validates():
    """A BenchCase with an unknown suite is rejected with the allowed names."""
    with pytest.raises(ValueError, match="not one of"):
        BenchCase("speed", "w", "i", batch=1)
