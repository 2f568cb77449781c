"""`python -m equivalence bench-report RUN.json [--out docs/BENCHMARKS.md]`: pytest-benchmark JSON -> ratio tables.

Reads the `extra_info` each benchmark in tests/bench stores (see `equivalence.bench.BenchCase`) and writes Markdown:
per model and mode the TF/PyTorch time ratio of each Keras path against PyTorch eager, the tf.function-over-eager
and torch.compile-over-eager speed-ups; per input pipeline DataLoader and tf.data against naive slicing; on a GPU
run, autocast against float32. Ratios use the per-benchmark minimum by default: on shared cores the minimum is the
figure least disturbed by other processes (pytest-benchmark sorts by it too); `--stat median` is available.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections import defaultdict
from typing import Any

STATS = ("min", "median", "mean")

# (column title, numerator impl, denominator impl): a ratio > 1 means the numerator is slower.
MODEL_RATIOS = (
    ("Keras eager / torch eager", "keras-eager", "torch-eager"),
    ("Keras tf.function / torch eager", "keras-tf.function", "torch-eager"),
    ("Keras tf.function / torch.compile", "keras-tf.function", "torch-compile"),
    ("tf.function speed-up (Keras eager / tf.function)", "keras-eager", "keras-tf.function"),
    ("torch.compile speed-up (eager / compiled)", "torch-eager", "torch-compile"),
)
PIPELINE_RATIOS = (
    ("DataLoader / naive torch slicing", "DataLoader", "naive-torch"),
    ("DataLoader with BatchSampler / naive torch slicing", "DataLoader-batched", "naive-torch"),
    ("tf.data / naive TF slicing", "tf.data", "naive-tf"),
    ("tf.data / DataLoader", "tf.data", "DataLoader"),
)
MIXED_RATIOS = (("autocast speed-up (float32 / autocast+GradScaler)", "torch-float32", "torch-autocast"),)


class ReportError(ValueError):
    """The JSON is not a pytest-benchmark run of this suite's benchmarks; the message says what is wrong."""


def load(path: pathlib.Path) -> dict[str, Any]:
    """Parse a pytest-benchmark JSON file and check it has benchmarks carrying this suite's extra_info."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file (make one with: pytest -m benchmark --benchmark-json {path})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON ({exc})") from None
    benches = data.get("benchmarks") if isinstance(data, dict) else None
    if not benches:
        raise ReportError(f"{path}: no 'benchmarks' list; is this pytest-benchmark --benchmark-json output?")
    missing = [b.get("fullname", "?") for b in benches if not {"suite", "work", "impl"} <= set(b.get("extra_info", {}))]
    if missing:
        raise ReportError(f"{path}: {len(missing)} benchmark(s) lack extra_info suite/work/impl "
                          f"(not recorded with equivalence.bench.record): {missing[:3]}")
    return data


def timings(data: dict[str, Any], stat: str) -> dict[str, dict[str, dict[str, float]]]:
    """suite -> work -> impl -> seconds (the chosen statistic)."""
    table: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for b in data["benchmarks"]:
        info = b["extra_info"]
        table[info["suite"]][info["work"]][info["impl"]] = float(b["stats"][stat])
    return table


def _ratio(times: dict[str, float], num: str, den: str) -> str:
    if num in times and den in times and times[den] > 0:
        return f"{times[num] / times[den]:.2f}"
    return "–"


def ratio_table(works: dict[str, dict[str, float]], ratios, first: str) -> list[str]:
    """A Markdown table: one row per work, one column per ratio ('–' where a side was skipped)."""
    lines = [f"| {first} | " + " | ".join(r[0] for r in ratios) + " |", "|---" * (len(ratios) + 1) + "|"]
    for work in sorted(works):
        lines.append(f"| {work} | " + " | ".join(_ratio(works[work], num, den) for _, num, den in ratios) + " |")
    return lines


def times_table(works: dict[str, dict[str, float]], stat: str) -> list[str]:
    """Absolute times in ms (for orientation only: they depend on the machine and its load)."""
    impls = sorted({i for w in works.values() for i in w})
    lines = ["| work | " + " | ".join(impls) + " |", "|---" * (len(impls) + 1) + "|"]
    for work in sorted(works):
        cells = [f"{works[work][i] * 1e3:.3g}" if i in works[work] else "–" for i in impls]
        lines.append(f"| {work} | " + " | ".join(cells) + " |")
    return [f"{stat} time per call, ms:", ""] + lines


def _header(data: dict[str, Any], stat: str, note: str) -> list[str]:
    m = data.get("machine_info", {})
    threads = next((b["extra_info"].get("threads") for b in data["benchmarks"] if b["extra_info"].get("threads")), {})
    cpu = m.get("cpu", {}) if isinstance(m.get("cpu"), dict) else {}
    lines = [f"- run: {data.get('datetime', '?')}, pytest-benchmark {data.get('version', '?')}",
             f"- machine: {cpu.get('brand_raw', m.get('processor', '?'))}, {cpu.get('count', '?')} logical CPUs, "
             f"Python {m.get('python_version', '?')}",
             f"- threads (set on both frameworks before TF starts): {threads or 'not recorded'}",
             *[f"- accelerator: {d}" for d in sorted({b["extra_info"].get("device") for b in data["benchmarks"]} - {None})],
             f"- statistic: per-benchmark **{stat}** of the timed rounds; ratio > 1 means the first-named is slower"]
    if note:
        lines += ["", note]
    return lines


TITLE = ["# Benchmarks: TensorFlow (Keras 3) vs PyTorch", "",
         "Generated by `python -m equivalence bench-report` from `pytest -m benchmark --benchmark-json` runs; "
         "do not edit by hand. One section per run."]


def render(data: dict[str, Any], stat: str = "min", note: str = "", *, title: bool = True, label: str = "") -> str:
    """The Markdown report of one run (with the document title unless `title` is False)."""
    table = timings(data, stat)
    out = (TITLE + [""] if title else []) + ([f"## Run: {label}", ""] if label else []) + _header(data, stat, note)
    sections = (("models", "Models: seed MLP and CNN, batch 64", MODEL_RATIOS, "model / mode"),
                ("pipelines", "Input pipelines: one epoch over the same in-memory data", PIPELINE_RATIOS, "data"),
                ("mixed_precision", "Mixed precision on GPU: one training step", MIXED_RATIOS, "model"))
    for suite, heading, ratios, first in sections:
        if suite not in table:
            continue
        out += ["", f"### {heading}", ""] + ratio_table(table[suite], ratios, first) + [""]
        out += times_table(table[suite], stat)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m equivalence bench-report", description=__doc__.splitlines()[0])
    parser.add_argument("json", type=pathlib.Path, nargs="+", help="pytest-benchmark JSON file(s) (--benchmark-json "
                        "PATH); several runs (a CPU run, a GPU run) become one section each")
    parser.add_argument("--out", type=pathlib.Path, help="write Markdown here (default: stdout)")
    parser.add_argument("--stat", choices=STATS, default="min", help="statistic the ratios use (default: min)")
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph under a run's header (e.g. how loaded the machine was); repeat once per run")
    args = parser.parse_args(argv)
    notes = args.note + [""] * (len(args.json) - len(args.note))
    try:
        runs = [load(path) for path in args.json]
        text = "\n".join(render(run, args.stat, note, title=i == 0, label=path.stem if len(runs) > 1 else "")
                         for i, (run, note, path) in enumerate(zip(runs, notes, args.json)))
    except ReportError as exc:
        print(f"bench-report: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0
