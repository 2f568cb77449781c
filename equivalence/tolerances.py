"""Tolerances that follow from dtype and problem size, not from trial and error.

Every rule is checked as ``|actual - expected| <= atol + rtol * max(|expected|, terms)`` per element (``terms``
absent: ``|expected|``), with NaN/inf positions compared exactly (NumPy-testing semantics). There are two rules.

**Elementwise results** (unary and binary/broadcast ops, activations: each output element is a function of its own
input elements) are judged element by element, in ulps of each element's own float64 reference (``elementwise()``):

    rtol   = ulps * u_out                                    u_out = machine epsilon of the result dtype
    atol   = ulps * FLUSHED_BELOW[dtype]                     only the subnormal range is judged absolutely
    terms  = per element, the magnitude of the terms the op's formula forms the result from, where they cancel

No element borrows the scale of a larger neighbour: ``log1p`` computed as ``log(1 + x)`` is 1.4e-3 relative off at
x = 1e-5 (19% at 3e-7) in float32, and that fails whatever else the array holds. The absolute floor is the subnormal
range only: TF's CPU kernels flush subnormal float32/float64 results to zero (catalogue ``tf-cpu-flushes-subnormals``),
so there (and in bfloat16, computed in float32) a result below the smallest normal number may be 0 on one side, and
``ulps`` times that covers a result a few ulps above it computed through a flushed intermediate; float16's subnormals
are normal float32 numbers that both sides round exactly, so its floor is ``ulps`` subnormal spacings.

``terms`` is data on the op record (``OpInfo.cancellation``, derived beside it): where a formula cancels (GELU's
``x * (1 + erf(x / sqrt 2)) / 2`` in the far tail, TF's ELU ``exp(x) - 1`` near 0), each term carries ~u of its
own magnitude, so the result may be ~ulps * u * terms off however small it is. ``ulps`` is 4 unless an op's
documented error bound (written beside its ``ulps_override``, with the error measured) needs more: correctly
rounded arithmetic is within 0.5 ulp, libm-grade functions within ~2 (NUMERICS.md: <= 7 ulp TF vs torch), Eigen's
float32 sigmoid within 4.5. An error one side's algorithm makes beyond this model (an absolute-error approximation)
is that side's ``OpInfo.error_bound``.

**Accumulating results** (reductions, matmul, convolutions, pooling, normalisations: an element sums ``depth``
terms; softmax, whose elements share one sum over the axis) keep an absolute floor scaled over the whole array
(``tolerance()``, ``for_arrays()``):

    u_out  = machine epsilon of the result dtype            (float32: 2**-23 = 1.19e-7)
    u_acc  = machine epsilon of the accumulation dtype      (float32 for float16/bfloat16: both frameworks
                                                              accumulate half-precision matmul/conv/sums in float32)
    rtol   = ulps * u_out + ACC_FACTOR * u_acc * sqrt(depth)
    atol   = rtol * max(scale, TINY[dtype])

``depth`` is the number of terms accumulated into one output element (K of a matmul, kh*kw*C_in/groups of a conv,
the reduced size of a sum). Rounding errors of a depth-K sum grow like sqrt(K) for random signs (NUMERICS.md: abs
error of a 64xK @ Kx64 matmul grows ~sqrt(K)). ``scale`` is max|expected| (or the op's ``scale``: the magnitude of
the terms a normalisation sums): the error of a sum scales with the magnitude of its terms, not of its result, so
a sum that cancels to ~0 is off by ~rtol * max|expected| absolutely. Here the array-wide floor is the right model.
ACC_FACTOR = 4: NUMERICS.md measured max abs / max|ref| = 5.6e-7 ~= 4.7 u at K=1024; the sqrt(K) term gives 4*u*32
= 1.5e-5 there, a ~25x margin that still catches a 1e-4 relative change.

Comparing two frameworks directly (neither is the reference) uses ``cross()``: each side is within tol of the
float64 reference, so by the triangle inequality they are within twice that of each other.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

ACC_FACTOR = 4.0
DEFAULT_ULPS = 4.0

_EPS = {
    "float16": float(np.finfo(np.float16).eps),  # 9.77e-4
    "bfloat16": 2.0**-7,  # 7.8e-3 (8 bits of mantissa incl. the implicit one)
    "float32": float(np.finfo(np.float32).eps),  # 1.19e-7
    "float64": float(np.finfo(np.float64).eps),  # 2.2e-16
}
# Half-precision kernels accumulate in float32 on both frameworks' CPU and GPU paths.
_ACC = {"float16": "float32", "bfloat16": "float32", "float32": "float32", "float64": "float64"}
# Below what magnitude a result is judged absolutely (the elementwise rule's atol is `ulps` times it): the dtype's
# smallest normal number where TF's CPU kernels flush subnormal results to zero (float32 and float64 arithmetic
# under FTZ; bfloat16, computed in float32, shares float32's exponent range), so a subnormal result may be 0 on one
# side (catalogue tf-cpu-flushes-subnormals). float16 is computed in float32, in whose normal range all of float16's
# subnormals lie, and both sides round them exactly: its floor is the subnormal spacing, the relative rule's own.
_FLUSHED_BELOW = {"float16": float(np.finfo(np.float16).smallest_subnormal), "bfloat16": 2.0**-126,
                  "float32": float(np.finfo(np.float32).smallest_normal),
                  "float64": float(np.finfo(np.float64).smallest_normal)}
# Smallest magnitude the accumulating rule's absolute floor is scaled by: below this, a result is "about zero".
_TINY = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-6, "float64": 1e-12}

EXACT_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8")


@dataclasses.dataclass(frozen=True, eq=False)
class Tolerance:
    """An atol/rtol pair and where it came from (shown in every failure message).

    `terms` (elementwise rule only): per element, the magnitude rtol applies to where it exceeds |expected| (the
    terms a cancelling formula forms the result from); None: |expected|. See `allowed`.
    """

    atol: float
    rtol: float
    reason: str = "default"
    terms: np.ndarray | None = None

    def __str__(self) -> str:
        mag = " x max(|expected|, terms)" if self.terms is not None else ""
        return f"atol={self.atol:.2g} rtol={self.rtol:.2g}{mag} [{self.reason}]"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Tolerance):
            return NotImplemented
        same_terms = (self.terms is None) == (other.terms is None) and (
            self.terms is None or np.array_equal(self.terms, other.terms))
        return (self.atol, self.rtol, self.reason) == (other.atol, other.rtol, other.reason) and same_terms

    def __hash__(self) -> int:
        return hash((self.atol, self.rtol, self.reason))

    def allowed(self, expected) -> np.ndarray:
        """Per element, the largest |actual - expected| accepted: atol + rtol * max(|expected|, terms)."""
        mag = np.abs(np.asarray(expected, np.float64))
        if self.terms is not None:
            mag = np.maximum(mag, self.terms)
        return self.atol + self.rtol * mag

    def scaled(self, factor: float, why: str) -> "Tolerance":
        """This tolerance times `factor`; `why` is appended to the reason."""
        return Tolerance(self.atol * factor, self.rtol * factor, f"{self.reason}; x{factor:g} {why}", self.terms)


EXACT = Tolerance(0.0, 0.0, "exact: integer/bool/index results and pure data movement")


def eps(dtype: str) -> float:
    """Machine epsilon of a floating dtype name."""
    try:
        return _EPS[str(dtype)]
    except KeyError:
        raise ValueError(f"no tolerance rule for dtype {dtype!r}; known: {sorted(_EPS)} (+ exact {EXACT_DTYPES})") from None


def dtype_name(dtype) -> str:
    """Normalise numpy / torch / tf dtypes and strings to a plain name ('float32')."""
    name = getattr(dtype, "name", None) or str(dtype)
    return name.replace("torch.", "").replace("tf.", "").replace("<dtype: '", "").replace("'>", "")


def tolerance(dtype, *, depth: int = 1, scale: float = 1.0, ulps: float = DEFAULT_ULPS, reason: str = "") -> Tolerance:
    """The accumulating rule for one comparison against a float64 reference (see the module docstring)."""
    name = dtype_name(dtype)
    if name in EXACT_DTYPES:
        return EXACT
    depth = max(int(depth), 1)
    u_out, u_acc = eps(name), eps(_ACC[name])
    rtol = ulps * u_out + ACC_FACTOR * u_acc * math.sqrt(depth)
    scale = float(scale) if np.isfinite(scale) else 1.0
    atol = rtol * max(scale, _TINY[name])
    why = reason or f"rule: {name} ulps={ulps:g} depth={depth} scale={scale:.3g}"
    return Tolerance(atol, rtol, why)


def elementwise(dtype, *, ulps: float = DEFAULT_ULPS, terms=None, reason: str = "") -> Tolerance:
    """The elementwise rule (module docstring): each element within `ulps` of its own reference, i.e. of
    max(|expected|, terms) where `terms` (per element, broadcast to the result) is given; absolute only in the
    subnormal range (below the smallest normal number where TF flushes it, see _FLUSHED_BELOW)."""
    name = dtype_name(dtype)
    if name in EXACT_DTYPES:
        return EXACT
    rtol = ulps * eps(name)
    if terms is not None:
        terms = np.abs(np.asarray(terms, np.float64))
        terms = np.where(np.isfinite(terms), terms, 0.0)  # NaN/inf results are compared by position
    why = reason or f"elementwise rule: {name} {ulps:g} ulps of each element"
    return Tolerance(ulps * _FLUSHED_BELOW[name], rtol, why, terms)


def cross(tol: Tolerance) -> Tolerance:
    """TF vs torch when each is within `tol` of the reference: twice `tol` (triangle inequality)."""
    if tol == EXACT:
        return EXACT
    return Tolerance(2 * tol.atol, 2 * tol.rtol, f"2x ({tol.reason}): TF vs torch, each within tol of float64",
                     tol.terms)


def for_arrays(dtype, expected, *, depth: int = 1, ulps: float = DEFAULT_ULPS, reason: str = "") -> Tolerance:
    """`tolerance()` with scale taken from max|expected| over its finite elements."""
    arr = np.asarray(expected, dtype=np.float64) if np.size(expected) else np.zeros(1)
    finite = np.abs(arr[np.isfinite(arr)])
    scale = float(finite.max()) if finite.size else 1.0
    return tolerance(dtype, depth=depth, scale=scale, ulps=ulps, reason=reason)
