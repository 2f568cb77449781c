"""The run-report format that `python -m equivalence run` writes and `python -m equivalence diff` reads.

A report is one JSON object (schema_version 3). Every top-level key except ``run`` is *compared* by ``diff`` and is
stable: keys sorted, no timestamps, no host names. ``run`` holds what changes on every run (time, duration, host,
argv, git commit, exit status) and is never compared::

    {"schema": "equivalence-report", "schema_version": 2, "suite_version": "0.1.0",
     "versions": {"keras": "3.15.1", "numpy": "2.4.6", "tensorflow": "2.21.0", "torch": "2.13.0+cpu", ...},
     "hypothesis_profile": "ci",
     "platform": {"arch": "x86_64", "blas": {"numpy": "scipy-openblas 0.3.31.188.0", "torch": "mkl"},
                  "cpu": "AMD EPYC", "cpus": 2, "env": {"OMP_NUM_THREADS": "2"},
                  "isa_flags": ["avx", "avx2", "avx512_vnni", "avx512f", ...], "onednn_cpu_isa": "AVX512",
                  "os": "Linux 6.18.44", "python": "3.11.7", "tf_onednn": true,
                  "threads": {"tf_inter_op": 0, "tf_intra_op": 0, "torch_inter_op": 2, "torch_intra_op": 2},
                  "torch_cpu_capability": "AVX512", "vector_isa": "avx512"},
     "cases": {"tests/test_ops.py::test_op_matches[tanh-float32]": {
         "outcome": "passed", "family": "ops", "message": "",
         "measurements": {"tanh: tf vs ref64": {"max_abs": 1.2e-07, "max_rel": 2.4e-07, "atol": ..., "rtol": ...,
                                                "error_over_tol": 0.31, "n": 6, "ok": true, "dtype": "float64"}},
         "fingerprints": {"tanh: tf": {"side": "tf", "sha": "9f2c...", "n": 6, "size": 48, "dtype": "float32",
                                       "exact": true, "sample": "<base64 float64>"}, "tanh: ref64": {...}}}},
     "catalogue": {"bn-momentum-convention": {"area": "layer-defaults", "title": "...", "status": "documented",
                   "observed": {"tf": 0.99, "torch": 0.1}, "expected": {"tf": 0.99, "torch": 0.1}, "atol": 0.0,
                   "error": ""}},
     "api_surface": {...},  # equivalence.api_surface.snapshot() when that module exists, else {}
     "run": {"started": "2026-11-27T21:00:00Z", "duration_s": 95.2, ...}}

Every case of a report ran under the one set of ``versions`` at its top, on the one ``platform`` beside them
(``equivalence.platform.observed()``, taken on the pytest controller at session end, whose environment the xdist
workers share: CPU and vector ISA, the kernels TF and torch chose, BLAS, threads; ``tf_onednn`` is null without
TensorFlow, thread counts of 0 mean "the framework picks"). A case's ``measurements`` aggregate the
comparisons the test made through ``equivalence.compare`` (every Hypothesis example included), one row per
``"<what>: <a> vs <b>"``, keeping the worst figures. JSON has no NaN/inf: non-finite floats are the strings
"nan", "inf" and "-inf" (``encode``/``decode``).

A case's ``fingerprints`` (``equivalence.fingerprint``) hold, per ``"<what>: <label>"``, a bitwise hash of every
array that side produced in the case and a small sample of its values, so ``diff`` lists every output that changed
at all and its max ulp change; they are stable across runs of the same deterministic computations.

Version 1 reports (before ``platform``) still load, with ``platform`` ``{}`` (unknown); ``diff`` warns about them.
Version 1 and 2 reports (before fingerprints and ``api_surface``) load with both empty; ``diff`` says it cannot list
bitwise changes against them.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .. import platform as _platform

SCHEMA = "equivalence-report"
SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # 1: no "platform" (loaded as {}, unknown); 1, 2: no fingerprints, no api_surface
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
FAILING = ("failed", "error")
STATUSES = ("documented", "stale", "error")  # catalogue entry: matches `expected`, differs from it, witness raised
PLATFORM_TAG = "[platform differs]"  # beside each change `diff` lists when the reports' platforms differ
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_NUMBER = (int, float)

# field -> accepted types, per level of the report (the order is the order errors are reported in).
_TOP = {"schema": str, "schema_version": int, "suite_version": str, "versions": dict, "hypothesis_profile": str,
        "platform": dict, "cases": dict, "catalogue": dict, "run": dict}
_CASE = {"outcome": str, "family": str, "message": str, "measurements": dict}
_FINGERPRINT = {"side": str, "sha": str, "n": int, "size": int, "dtype": str, "exact": bool, "sample": str}
_MEASUREMENT = {"max_abs": _NUMBER, "max_rel": _NUMBER, "atol": _NUMBER, "rtol": _NUMBER,
                "error_over_tol": _NUMBER, "n": int, "ok": bool}
_PLATFORM = {"cpu": str, "vector_isa": str, "isa_flags": list, "arch": str, "os": str, "python": str, "cpus": int,
             "env": dict, "tf_onednn": (bool, type(None)), "torch_cpu_capability": str, "onednn_cpu_isa": str,
             "threads": dict, "blas": dict}
_ENTRY = {"area": str, "title": str, "status": str, "observed": (dict, type(None)), "expected": dict,
          "atol": _NUMBER, "error": str}


class ReportError(ValueError):
    """A report file is unreadable, malformed or not comparable with another; the message says which and why."""


def encode(value: Any) -> Any:
    """A JSON-safe copy: non-finite floats become "nan"/"inf"/"-inf", tuples become lists, keys become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The inverse of `encode` (the strings "nan"/"inf"/"-inf" become floats again)."""
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def dumps(report: dict[str, Any]) -> str:
    """The report as stable JSON text: sorted keys, one key per line, trailing newline."""
    return json.dumps(encode(report), sort_keys=True, indent=1, allow_nan=False) + "\n"


def write(report: dict[str, Any], path: str | Path) -> Path:
    """Validate and write `report` to `path` (parent folders are created)."""
    validate(encode(report), str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(report), encoding="utf-8")
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Read and validate a report; ReportError (never a traceback) names the file and what is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read the report: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not a text file, so not a report written by `python -m equivalence run`") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    validate(data, str(path))
    data = decode(data)
    data.setdefault("platform", {})  # version 1: the platform was not recorded
    data.setdefault("api_surface", {})  # versions 1, 2: neither fingerprints nor the API surface
    for case in data["cases"].values():
        case.setdefault("fingerprints", {})
    return data


def _check_fields(obj: Any, fields: dict[str, Any], where: str, source: str) -> None:
    if not isinstance(obj, dict):
        raise ReportError(f"{source}: {where} must be a JSON object, got {type(obj).__name__}")
    missing = [name for name in fields if name not in obj]
    if missing:
        raise ReportError(f"{source}: {where} lacks the field(s) {', '.join(missing)}")
    for name, kinds in fields.items():
        value = obj[name]
        if kinds is _NUMBER and isinstance(value, str) and value in _NON_FINITE:
            continue
        kinds = _as_tuple(kinds)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # JSON true is no number
            raise ReportError(f"{source}: {where}.{name} has type {type(value).__name__}, "
                              f"expected {' or '.join(t.__name__ for t in kinds)}")


def _as_tuple(kinds) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _check_choice(value: str, choices: tuple[str, ...], where: str, source: str) -> None:
    if value not in choices:
        raise ReportError(f"{source}: {where} is {value!r}, expected one of {', '.join(choices)}")


def validate(data: Any, source: str = "report") -> None:
    """Raise ReportError naming the first malformed field (its path in the report) of `data`."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ReportError(f"{source}: not an equivalence run report (no \"schema\": \"{SCHEMA}\" field); "
                          "write one with `python -m equivalence run --report PATH`")
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version not in READABLE_VERSIONS:
        raise ReportError(f"{source}: report schema_version {version} is not supported (this checkout reads "
                          f"versions {', '.join(map(str, READABLE_VERSIONS))}); rerun the suite with this checkout")
    top = _TOP if version != 1 else {k: v for k, v in _TOP.items() if k != "platform"}
    _check_fields(data, top, "the report", source)
    if version != 1:
        _check_platform(data["platform"], source)
    for nodeid, case in data["cases"].items():
        where = f"cases[{nodeid!r}]"
        _check_fields(case, _CASE, where, source)
        _check_choice(case["outcome"], OUTCOMES, f"{where}.outcome", source)
        for key, row in case["measurements"].items():
            _check_fields(row, _MEASUREMENT, f"{where}.measurements[{key!r}]", source)
        prints = case.get("fingerprints", {})
        if not isinstance(prints, dict):
            raise ReportError(f"{source}: {where}.fingerprints must be a JSON object")
        for key, row in prints.items():
            _check_fields(row, _FINGERPRINT, f"{where}.fingerprints[{key!r}]", source)
    if not isinstance(data.get("api_surface", {}), dict):
        raise ReportError(f"{source}: the report.api_surface must be a JSON object")
    for entry_id, entry in data["catalogue"].items():
        where = f"catalogue[{entry_id!r}]"
        _check_fields(entry, _ENTRY, where, source)
        _check_choice(entry["status"], STATUSES, f"{where}.status", source)


def _check_platform(record: dict, source: str) -> None:
    _check_fields(record, _PLATFORM, "platform", source)
    # torch_cpu_capability is torch's own word (also VSX, ZVECTOR, SVE256 off x86), so only oneDNN's is a choice.
    _check_choice(record["onednn_cpu_isa"], _platform.CONDITIONS["onednn_cpu_isa"], "platform.onednn_cpu_isa", source)
    if not all(isinstance(f, str) for f in record["isa_flags"]):
        raise ReportError(f"{source}: platform.isa_flags must be a list of strings (CPU flags)")
    for name in ("env", "blas"):
        bad = [k for k, v in record[name].items() if not isinstance(v, str)]
        if bad:
            raise ReportError(f"{source}: platform.{name}[{bad[0]!r}] must be a string")
    bad = [k for k, v in record["threads"].items() if not isinstance(v, int) or isinstance(v, bool)]
    if bad:
        raise ReportError(f"{source}: platform.threads[{bad[0]!r}] must be an integer (0: the framework picks)")


def platform_warnings(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] = ("A", "B")) -> list[str]:
    """Why a diff may mix a platform change into the framework change: which identity fields differ, or that a
    report recorded no platform (schema version 1)."""
    unknown = [n for n, r in zip(names, (a, b)) if not r.get("platform")]
    if unknown:
        return [f"{' and '.join(unknown)} recorded no platform (a schema version 1 report), so a platform change "
                "cannot be told from a framework change; rerun with this checkout to record it"]
    changed = _platform.differences(a["platform"], b["platform"])
    if not changed:
        return []
    return [f"the reports come from different platforms ({'; '.join(changed)}): any change listed below may be due "
            f"to the platform change rather than the framework change, and is marked {PLATFORM_TAG}"]


def check_comparable(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] = ("A", "B"),
                     allow_suite_mismatch: bool = False) -> list[str]:
    """Raise ReportError when two reports come from different suite versions; return warnings worth printing."""
    if a["suite_version"] != b["suite_version"] and not allow_suite_mismatch:
        raise ReportError(
            f"the reports come from different suite versions: {names[0]} ran suite {a['suite_version']}, "
            f"{names[1]} ran suite {b['suite_version']}. A diff would mix suite changes with framework changes: "
            "rerun both with one checkout (or pass --allow-suite-mismatch to compare anyway)")
    warnings = []
    if a["hypothesis_profile"] != b["hypothesis_profile"]:
        warnings.append(f"hypothesis profiles differ ({a['hypothesis_profile']} vs {b['hypothesis_profile']}): "
                        "the property tests drew different examples, so measured errors may differ by chance")
    for dist in ("hypothesis", "numpy"):
        va, vb = a["versions"].get(dist), b["versions"].get(dist)
        if va != vb:
            warnings.append(f"{dist} differs ({va} vs {vb}): inputs drawn or references computed may differ too, "
                            "not only the frameworks")
    return warnings + platform_warnings(a, b, names)


def build(*, versions: dict[str, str], hypothesis_profile: str, platform: dict[str, Any], cases: dict[str, dict],
          catalogue: dict[str, dict], run: dict[str, Any], suite_version: str | None = None,
          api_surface: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble a report dict (the one place that knows the top-level layout); `platform`: `platform.observed()`,
    `api_surface`: `equivalence.api_surface.snapshot()` or {} (absent); a case without fingerprints gets {}."""
    cases = {k: dict(c, fingerprints=c.get("fingerprints", {})) for k, c in cases.items()}
    if suite_version is None:
        from ..version import __version__ as suite_version
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "suite_version": suite_version,
            "versions": dict(sorted(versions.items())), "hypothesis_profile": hypothesis_profile,
            "platform": dict(sorted(platform.items())),
            "cases": dict(sorted(cases.items())), "catalogue": dict(sorted(catalogue.items())),
            "api_surface": api_surface or {}, "run": run}

