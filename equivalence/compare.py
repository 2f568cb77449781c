"""Compare arrays from TF, torch and a float64 reference; explain a mismatch so it can be acted on.

Every comparison made through this module inside ``recording()`` is also handed to that recorder (the report
plugin opens one per test), which the run report (``python -m equivalence run``) stores per test case: max errors
vs tolerance, and a bitwise fingerprint of each side's result (``equivalence.fingerprint``). Outside a recording
nothing is kept (and nothing is hashed).
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Any, Iterator

import numpy as np

from .tolerances import EXACT, Tolerance, cross, dtype_name

_RECORDER: contextvars.ContextVar["Recording | None"] = contextvars.ContextVar("equivalence_recorder", default=None)


class Recording(list):
    """The record() of every comparison made in a `recording()` block, in order; `fingerprints` holds the bitwise
    fingerprint of each side's result (`equivalence.fingerprint.Fingerprints`)."""

    def __init__(self):
        super().__init__()
        from .fingerprint import Fingerprints

        self.fingerprints = Fingerprints()


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Collect the record() of every comparison made in this block (nested blocks collect their own)."""
    sink = Recording()
    token = _RECORDER.set(sink)
    try:
        yield sink
    finally:
        _RECORDER.reset(token)


def _record(c: "Comparison", a: np.ndarray, b: np.ndarray) -> None:
    sink = _RECORDER.get()
    if sink is not None:
        sink.append(c.record())
        sink.fingerprints.add(c.what, c.label_a, a)
        sink.fingerprints.add(c.what, c.label_b, b)


class EquivalenceWarning(UserWarning):
    """Warnings of the suite itself (turned into errors by the pytest config)."""


class EquivalenceMismatch(AssertionError):
    """Two results differ beyond tolerance; the message is a full `Comparison.render()`."""


def to_numpy(x) -> np.ndarray:
    """A NumPy copy of a torch tensor, TF tensor, Keras variable, scalar or array (bfloat16 -> float32)."""
    if hasattr(x, "detach"):  # torch
        t = x.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        return t.numpy().copy()
    if hasattr(x, "numpy"):  # tf.Tensor / tf.Variable / Keras variable
        x = x.numpy()
    arr = np.array(x, copy=True)
    if arr.dtype.name == "bfloat16":  # ml_dtypes bfloat16 from TF
        arr = arr.astype(np.float32)
    return arr


def ulp_distance(a: np.ndarray, b: np.ndarray, dtype: str = "float32") -> np.ndarray:
    """Units in the last place between a and b, as the integer distance of their float32/float64 bit patterns."""
    ftype, itype = (np.float64, np.int64) if dtype == "float64" else (np.float32, np.int32)
    ai = np.asarray(a, ftype).view(itype).astype(np.int64)
    bi = np.asarray(b, ftype).view(itype).astype(np.int64)
    # Map sign-magnitude to a monotonic integer line so -0 and +0 are 0 ulp apart.
    top = np.int64(np.iinfo(itype).min)
    ai = np.where(ai < 0, top - ai, ai)
    bi = np.where(bi < 0, top - bi, bi)
    return np.abs(ai - bi)


def _summary(x: np.ndarray) -> str:
    if x.size == 0:
        return f"Array[{x.shape} {x.dtype} empty]"
    if x.dtype.kind in "fc":
        f = x[np.isfinite(x)]
        rng = f"min={f.min():.4g} max={f.max():.4g}" if f.size else "no finite values"
        extra = f" nan={int(np.isnan(x).sum())}" if np.isnan(x).any() else ""
        return f"Array[{x.shape} {x.dtype} {rng}{extra}]"
    return f"Array[{x.shape} {x.dtype} min={x.min()} max={x.max()}]"


@dataclasses.dataclass
class Comparison:
    """The outcome of comparing `actual` (label_a) with `expected` (label_b) under `tol`."""

    what: str
    label_a: str
    label_b: str
    tol: Tolerance
    shape_a: tuple
    shape_b: tuple
    dtype_a: str
    dtype_b: str
    n_bad: int = 0
    n_total: int = 0
    max_abs: float = 0.0
    max_abs_index: tuple | None = None
    value_a: float | None = None
    value_b: float | None = None
    max_rel: float = 0.0
    max_rel_index: tuple | None = None
    max_ulp: int | None = None
    worst_over_tol: float = 0.0  # max over elements of |a - b| / allowed (> 1: outside the tolerance)
    worst_index: tuple | None = None  # where that is, with the values and the tolerance there
    worst_a: float | None = None
    worst_b: float | None = None
    worst_diff: float = 0.0
    allowed_at_worst: float = 0.0
    nan_mismatch: int = 0
    inf_mismatch: int = 0
    shape_mismatch: bool = False
    dtype_mismatch: bool = False
    context: str = ""

    @property
    def ok(self) -> bool:
        return not (self.n_bad or self.nan_mismatch or self.inf_mismatch or self.shape_mismatch or self.dtype_mismatch)

    def record(self) -> dict[str, Any]:
        """The measured figures as plain JSON-able data (for run reports)."""
        return {
            "what": self.what, "a": self.label_a, "b": self.label_b, "ok": self.ok,
            "max_abs": float(self.max_abs), "max_rel": float(self.max_rel),
            "atol": self.tol.atol, "rtol": self.tol.rtol, "error_over_tol": float(self.worst_over_tol),
            "n_bad": int(self.n_bad), "n_total": int(self.n_total), "dtype": self.dtype_b,
        }

    def render(self) -> str:
        """A multi-line explanation: where, how much, under which tolerance, on what inputs."""
        head = f"{self.what}: {self.label_a} != {self.label_b}"
        if self.shape_mismatch:
            return f"{head}\n  shape {self.shape_a} vs {self.shape_b}\n{self.context}".rstrip()
        lines = [head, f"  shape {self.shape_b}  dtype {self.label_a}={self.dtype_a} {self.label_b}={self.dtype_b}"]
        if self.dtype_mismatch:
            lines.append(f"  result dtype differs: {self.label_a} gives {self.dtype_a}, {self.label_b} gives {self.dtype_b}")
        pct = 100.0 * self.n_bad / max(self.n_total, 1)
        lines.append(f"  {self.n_bad}/{self.n_total} elements ({pct:.1f}%) outside {self.tol}")
        if self.max_abs_index is not None:
            lines.append(
                f"  max abs err {self.max_abs:.3g} at {self.max_abs_index}: "
                f"{self.label_a}={self.value_a!r} {self.label_b}={self.value_b!r}"
            )
            lines.append(f"  max rel err {self.max_rel:.3g} at {self.max_rel_index}" + (f"; max ULP {self.max_ulp}" if self.max_ulp is not None else ""))
        if self.n_bad and self.worst_index is not None:
            lines.append(
                f"  worst against its tolerance at {self.worst_index}: {self.label_a}={self.worst_a!r} "
                f"{self.label_b}={self.worst_b!r}, |diff| {self.worst_diff:.3g} > allowed "
                f"{self.allowed_at_worst:.3g} there ({self.worst_over_tol:.3g}x)")
        lines.append(f"  nan mismatch: {self.nan_mismatch}  inf mismatch: {self.inf_mismatch}")
        if self.context:
            lines.append(self.context)
        return "\n".join(lines)


def compare(actual, expected, tol: Tolerance, *, what: str = "result", label_a: str = "actual",
            label_b: str = "expected", check_dtype: bool = False, context: str = "") -> Comparison:
    """Compare elementwise: |a-b| <= atol + rtol*max(|b|, tol.terms), NaN where NaN, same infinities; record the
    figures (the tolerance is per element when `tol.terms` is, and the report shows it at the worst element)."""
    a, b = to_numpy(actual), to_numpy(expected)
    c = Comparison(what, label_a, label_b, tol, a.shape, b.shape, dtype_name(a.dtype), dtype_name(b.dtype), context=context)
    c.dtype_mismatch = check_dtype and a.dtype != b.dtype
    if a.shape != b.shape:
        c.shape_mismatch = True
        _record(c, a, b)
        return c
    c.n_total = int(a.size)
    if a.size == 0:
        _record(c, a, b)
        return c
    if a.dtype.kind in "biu" and b.dtype.kind in "biu" and tol == EXACT:
        diff = np.abs(a.astype(np.int64) - b.astype(np.int64)).astype(np.float64)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
    else:
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(invalid="ignore"):
            diff = np.abs(a64 - b64)
    nan_a, nan_b = np.isnan(a64), np.isnan(b64)
    c.nan_mismatch = int((nan_a != nan_b).sum())
    inf_a, inf_b = np.isinf(a64), np.isinf(b64)
    c.inf_mismatch = int(((inf_a | inf_b) & ~(nan_a | nan_b) & (a64 != b64)).sum())
    finite = np.isfinite(a64) & np.isfinite(b64)
    diff = np.where(finite, diff, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(finite & (b64 != 0), diff / np.abs(b64), np.where(diff > 0, np.inf, 0.0))
    allowed = np.broadcast_to(tol.allowed(np.where(finite, b64, 0.0)), diff.shape)
    bad = diff > allowed
    c.n_bad = int(bad.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        over = np.where(diff > 0, diff / allowed, 0.0)
    k = np.unravel_index(int(np.argmax(over)), over.shape)
    c.worst_over_tol, c.worst_index, c.allowed_at_worst = float(over[k]), tuple(int(v) for v in k), float(allowed[k])
    c.worst_a, c.worst_b, c.worst_diff = a[k].item(), b[k].item(), float(diff[k])
    i = np.unravel_index(int(np.argmax(diff)), diff.shape)
    c.max_abs, c.max_abs_index = float(diff[i]), tuple(int(v) for v in i)
    c.value_a, c.value_b = a[i].item(), b[i].item()
    j = np.unravel_index(int(np.argmax(rel)), rel.shape)
    c.max_rel, c.max_rel_index = float(rel[j]), tuple(int(v) for v in j)
    if a.dtype == b.dtype and a.dtype.name in ("float32", "float64"):
        u = np.where(finite, ulp_distance(a, b, a.dtype.name), 0)
        c.max_ulp = int(u.max())
    _record(c, a, b)
    return c


def assert_close(actual, expected, tol: Tolerance, **kw) -> Comparison:
    """`compare`, raising EquivalenceMismatch with the rendered report when it fails."""
    __tracebackhide__ = True
    c = compare(actual, expected, tol, **kw)
    if not c.ok:
        raise EquivalenceMismatch(c.render())
    return c


def assert_equivalent(tf_out, torch_out, reference=None, *, tol: Tolerance, what: str, context: str = "",
                      check_dtype: bool = True) -> list[Comparison]:
    """The suite's central check: TF vs float64 reference, torch vs reference (when given), then TF vs torch.

    `tol` is the tolerance against the reference; the direct TF-vs-torch check uses `cross(tol)`.
    All failing comparisons are reported together, so one message shows whether one side or both drifted.
    """
    __tracebackhide__ = True
    results = []
    if reference is not None:
        results.append(compare(tf_out, reference, tol, what=what, label_a="tf", label_b="ref64", context=context))
        results.append(compare(torch_out, reference, tol, what=what, label_a="torch", label_b="ref64", context=context))
    results.append(compare(tf_out, torch_out, cross(tol), what=what, label_a="tf", label_b="torch",
                           check_dtype=check_dtype, context=context))
    failed = [r for r in results if not r.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(r.render() for r in failed))
    return results


def describe(name: str, x) -> str:
    """One line naming an input: `x: Array[(2, 8) float32 min=-3.1 max=2.9]`."""
    return f"  input {name}: {_summary(to_numpy(x))}"
