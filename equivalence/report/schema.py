"""The run-report format that `python -m equivalence run` writes and `python -m equivalence diff` reads.

A report is one JSON object (schema_version 1). Every top-level key except ``run`` is *compared* by ``diff`` and is
stable: keys sorted, no timestamps, no host names. ``run`` holds what changes on every run (time, duration, host,
argv, git commit, exit status) and is never compared::

    {"schema": "equivalence-report", "schema_version": 1, "suite_version": "0.1.0",
     "versions": {"keras": "3.15.1", "numpy": "2.4.6", "tensorflow": "2.21.0", "torch": "2.13.0+cpu", ...},
     "hypothesis_profile": "ci",
     "cases": {"tests/test_ops.py::test_op_matches[tanh-float32]": {
         "outcome": "passed", "family": "ops", "message": "",
         "measurements": {"tanh: tf vs ref64": {"max_abs": 1.2e-07, "max_rel": 2.4e-07, "atol": ..., "rtol": ...,
                                                "error_over_tol": 0.31, "n": 6, "ok": true, "dtype": "float64"}}}},
     "catalogue": {"bn-momentum-convention": {"area": "layer-defaults", "title": "...", "status": "documented",
                   "observed": {"tf": 0.99, "torch": 0.1}, "expected": {"tf": 0.99, "torch": 0.1}, "atol": 0.0,
                   "error": ""}},
     "run": {"started": "2026-11-27T21:00:00Z", "duration_s": 95.2, ...}}

Every case of a report ran under the one set of ``versions`` at its top. A case's ``measurements`` aggregate the
comparisons the test made through ``equivalence.compare`` (every Hypothesis example included), one row per
``"<what>: <a> vs <b>"``, keeping the worst figures. JSON has no NaN/inf: non-finite floats are the strings
"nan", "inf" and "-inf" (``encode``/``decode``).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

SCHEMA = "equivalence-report"
SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
FAILING = ("failed", "error")
STATUSES = ("documented", "stale", "error")  # catalogue entry: matches `expected`, differs from it, witness raised
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_NUMBER = (int, float)

# field -> accepted types, per level of the report (the order is the order errors are reported in).
_TOP = {"schema": str, "schema_version": int, "suite_version": str, "versions": dict, "hypothesis_profile": str,
        "cases": dict, "catalogue": dict, "run": dict}
_CASE = {"outcome": str, "family": str, "message": str, "measurements": dict}
_MEASUREMENT = {"max_abs": _NUMBER, "max_rel": _NUMBER, "atol": _NUMBER, "rtol": _NUMBER,
                "error_over_tol": _NUMBER, "n": int, "ok": bool}
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
    return decode(data)


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
    _check_fields(data, _TOP, "the report", source)
    if data["schema_version"] != SCHEMA_VERSION:
        raise ReportError(f"{source}: report schema_version {data['schema_version']} is not supported "
                          f"(this checkout reads version {SCHEMA_VERSION}); rerun the suite with this checkout")
    for nodeid, case in data["cases"].items():
        where = f"cases[{nodeid!r}]"
        _check_fields(case, _CASE, where, source)
        _check_choice(case["outcome"], OUTCOMES, f"{where}.outcome", source)
        for key, row in case["measurements"].items():
            _check_fields(row, _MEASUREMENT, f"{where}.measurements[{key!r}]", source)
    for entry_id, entry in data["catalogue"].items():
        where = f"catalogue[{entry_id!r}]"
        _check_fields(entry, _ENTRY, where, source)
        _check_choice(entry["status"], STATUSES, f"{where}.status", source)


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
    return warnings


def build(*, versions: dict[str, str], hypothesis_profile: str, cases: dict[str, dict], catalogue: dict[str, dict],
          run: dict[str, Any], suite_version: str | None = None) -> dict[str, Any]:
    """Assemble a report dict (the one place that knows the top-level layout)."""
    if suite_version is None:
        from .. import __version__ as suite_version
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "suite_version": suite_version,
            "versions": dict(sorted(versions.items())), "hypothesis_profile": hypothesis_profile,
            "cases": dict(sorted(cases.items())), "catalogue": dict(sorted(catalogue.items())), "run": run}

