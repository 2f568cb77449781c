"""Bitwise fingerprints of every result the suite compares, so an upgrade diff sees *every* change, not only the
ones that move an error past a tolerance.

`compare()` hands both arrays of each comparison to the recorder the report plugin opens around a test
(`compare.recording()`); the recorder's `Fingerprints` folds them, per case, into one row per output and side:
``"<what>: <label>"`` (e.g. ``"tanh: tf"``, ``"tanh: ref64"``), with

- ``side``: 'tf', 'torch', 'reference' (float64 references, finite differences, goldens) or the label itself (a
  device, 'eager', 'graph', ...);
- ``sha``: 16 hex digits of a sha256 over every array of that output in the order the test produced them (each
  array's dtype, shape and bytes), so the same deterministic computation gives the same value and any change of
  any bit (or of dtype, shape or the number of examples) gives another;
- ``n``: how many arrays (Hypothesis examples, steps) went in, ``size``: their elements in all, ``dtype``;
- ``sample``: base64 of little-endian float64 values: every element of each array of at most `WHOLE` elements,
  else `STRIDE_SAMPLE` evenly spaced ones, up to `MAX_SAMPLE` per row; ``exact``: true when the sample holds every
  element of every array (then the max ulp change between two reports is exact, else the sample's is a lower
  bound).

Size bound: WHOLE = 32 covers the suite's scalars (losses, catalogue witnesses, optimizer hyperparameters) and most
Hypothesis op samples (the `ci` profile's arrays are small); STRIDE_SAMPLE = 16 and MAX_SAMPLE = 96 keep a row at
most ~1 KiB of base64 (96 x 8 bytes x 4/3), so a row's size does not grow with a model's output. Any change is still
seen through ``sha``; only the ulp figure of a change outside the sample is a lower bound (reported as such).

An array seen twice in a row under the same key (TF's output compared with the reference, then with torch) is
folded once. Float32 values are widened to float64 exactly, so the ulp distance is computed back in the row's
dtype (`ulp_change`).
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np

WHOLE = 32  # arrays of at most this many elements are kept whole in the sample
STRIDE_SAMPLE = 16  # elements kept from a larger array (evenly spaced, first and last included)
MAX_SAMPLE = 96  # elements kept per row in all
SHA_DIGITS = 16  # hex digits of sha256 kept (64 bits: a collision between two runs is not a practical concern)
_REFERENCE_LABELS = ("ref", "fd64", "golden", "zero", "source", "float64", "numpy")


def side_of(label: str) -> str:
    """The framework a comparison label stands for: 'tf', 'torch', 'reference', or the label itself."""
    low = label.lower()
    if low.startswith(("tf", "tensorflow", "keras", "graph")):
        return "tf"
    if low.startswith(("torch", "autocast")):
        return "torch"
    if low.startswith(_REFERENCE_LABELS):
        return "reference"
    return label


class _Row:
    __slots__ = ("side", "hasher", "last", "n", "size", "dtype", "sample", "exact")

    def __init__(self, side: str):
        self.side, self.hasher, self.last = side, hashlib.sha256(), None
        self.n = self.size = 0
        self.dtype, self.sample, self.exact = "", [], True


class Fingerprints:
    """Per-case accumulator: `add(what, label, array)` for each side of each comparison; `rows()` for the report."""

    __slots__ = ("_rows",)

    def __init__(self):
        self._rows: dict[str, _Row] = {}

    def add(self, what: str, label: str, arr: np.ndarray) -> None:
        key = f"{what}: {label}"
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = _Row(side_of(label))
        head = f"{arr.dtype.str}{arr.shape}".encode()
        data = np.ascontiguousarray(arr).tobytes()
        digest = hashlib.sha256(head + data).digest()
        if digest == row.last:  # the same array compared again (vs the reference, then vs the other framework)
            return
        row.last = digest
        row.hasher.update(digest)
        row.n += 1
        row.size += arr.size
        name = arr.dtype.name
        row.dtype = name if row.dtype in ("", name) else "mixed"
        room = MAX_SAMPLE - sum(len(s) for s in row.sample)
        if arr.size > min(WHOLE, room):
            row.exact = False
        if room <= 0 or arr.size == 0 or arr.dtype.kind not in "biufc":  # strings, objects: the sha only
            row.exact = row.exact and arr.size == 0
            return
        flat = arr.reshape(-1)
        if flat.size > WHOLE:
            flat = flat[np.linspace(0, flat.size - 1, STRIDE_SAMPLE).astype(np.int64)]
        if flat.dtype.kind == "c":
            flat = flat.view(flat.real.dtype)
        row.sample.append(np.asarray(flat[:room], dtype=np.float64))

    def rows(self) -> dict[str, dict[str, Any]]:
        """JSON-able rows, one per '<what>: <label>' (see the module docstring)."""
        out = {}
        for key, row in sorted(self._rows.items()):
            sample = np.concatenate(row.sample) if row.sample else np.zeros(0)
            out[key] = {"side": row.side, "sha": row.hasher.hexdigest()[:SHA_DIGITS], "n": row.n, "size": row.size,
                        "dtype": row.dtype, "exact": row.exact,
                        "sample": base64.b64encode(sample.astype("<f8").tobytes()).decode("ascii")}
        return out

    def __bool__(self) -> bool:
        return bool(self._rows)


def fingerprint(*arrays, what: str = "result", label: str = "x") -> dict[str, Any]:
    """The report row of these arrays as one output (for tests and ad-hoc checks)."""
    fp = Fingerprints()
    for arr in arrays:
        fp.add(what, label, np.asarray(arr))
    return fp.rows()[f"{what}: {label}"]


def decode_sample(row: dict[str, Any]) -> np.ndarray:
    """A row's sample as float64 values."""
    return np.frombuffer(base64.b64decode(row["sample"]), dtype="<f8")


def ulp_change(row_a: dict[str, Any], row_b: dict[str, Any]) -> tuple[int | None, bool]:
    """(max ulp distance between the two rows' samples, whether that is exact for the whole output).

    None when the samples cannot be paired (different lengths or dtypes: the output changed shape, count or type).
    The distance is counted in the row's own dtype (float16/float32/float64 ulps; integers as integer steps). 0 with
    a changed sha: only the sign of a zero or a NaN's bits changed (or an element outside an inexact sample)."""
    from .compare import ulp_distance

    a, b = decode_sample(row_a), decode_sample(row_b)
    if a.shape != b.shape or row_a["dtype"] != row_b["dtype"]:
        return None, False
    exact = bool(row_a["exact"] and row_b["exact"])
    if a.size == 0:
        return 0, exact
    both_nan = np.isnan(a) & np.isnan(b)
    dtype = row_a["dtype"]
    if dtype == "float16":
        u = _half_ulps(a.astype(np.float16), b.astype(np.float16))
    elif dtype in ("bfloat16", "float32", "complex64"):
        u = ulp_distance(a.astype(np.float32), b.astype(np.float32), "float32")
    elif dtype.startswith(("int", "uint", "bool")):
        u = np.abs(a - b)
    else:
        u = ulp_distance(a, b, "float64")
    u = np.where(both_nan, 0, u)
    return int(np.max(u)), exact


def _half_ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units in the last place of float16 between a and b (as compare.ulp_distance does for float32/float64)."""
    ai, bi = (x.view(np.int16).astype(np.int64) for x in (a, b))
    ai = np.where(ai < 0, -32768 - ai, ai)
    bi = np.where(bi < 0, -32768 - bi, bi)
    return np.abs(ai - bi)
