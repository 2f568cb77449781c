"""Tolerances that follow from dtype and problem size, not from trial and error.

The rule (checked as ``|actual - expected| <= atol + rtol * |expected|``, NaN/inf positions compared exactly):

    u_out  = machine epsilon of the result dtype            (float32: 2**-23 = 1.19e-7)
    u_acc  = machine epsilon of the accumulation dtype      (float32 for float16/bfloat16: both frameworks
                                                              accumulate half-precision matmul/conv/sums in float32)
    rtol   = ulps * u_out + ACC_FACTOR * u_acc * sqrt(depth)
    atol   = rtol * max(scale, TINY[dtype])

``depth`` is the number of terms accumulated into one output element (K of a matmul, kh*kw*C_in/groups of a conv,
the reduced size of a sum; 1 for elementwise ops). Rounding errors of a depth-K sum grow like sqrt(K) for random
signs (NUMERICS.md: abs error of a 64xK @ Kx64 matmul grows ~sqrt(K)). ``scale`` is max|expected|: errors of sums
scale with the magnitude of the terms, and an absolute floor of ``rtol * max|expected|`` keeps values that cancel
to ~0 from demanding impossible relative accuracy (NUMERICS.md: GELU/erf tails, where 1.2e-6 absolute is 27% relative).

``ulps`` is how many result-ulps an op may be off: 4 for correctly rounded arithmetic and libm-grade functions
(NUMERICS.md observed <=7 ulp between TF and torch for exp/tanh/sigmoid/erf on 2e5 points, which is <=3.8 u_out
relative, i.e. each side is within ~2 u of float64), raised per entry with the observed error written beside it.
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
# Smallest magnitude the absolute floor is scaled by: below this, a result is "about zero".
_TINY = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-6, "float64": 1e-12}

EXACT_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8")


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """An atol/rtol pair and where it came from (shown in every failure message)."""

    atol: float
    rtol: float
    reason: str = "default"

    def __str__(self) -> str:
        return f"atol={self.atol:.2g} rtol={self.rtol:.2g} [{self.reason}]"

    def scaled(self, factor: float, why: str) -> "Tolerance":
        """This tolerance times `factor`; `why` is appended to the reason."""
        return Tolerance(self.atol * factor, self.rtol * factor, f"{self.reason}; x{factor:g} {why}")


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
    """The module rule for one comparison against a float64 reference (see the module docstring)."""
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


def cross(tol: Tolerance) -> Tolerance:
    """TF vs torch when each is within `tol` of the reference: twice `tol` (triangle inequality)."""
    if tol == EXACT:
        return EXACT
    return Tolerance(2 * tol.atol, 2 * tol.rtol, f"2x ({tol.reason}): TF vs torch, each within tol of float64")


def for_arrays(dtype, expected, *, depth: int = 1, ulps: float = DEFAULT_ULPS, reason: str = "") -> Tolerance:
    """`tolerance()` with scale taken from max|expected| over its finite elements."""
    arr = np.asarray(expected, dtype=np.float64) if np.size(expected) else np.zeros(1)
    finite = np.abs(arr[np.isfinite(arr)])
    scale = float(finite.max()) if finite.size else 1.0
    return tolerance(dtype, depth=depth, scale=scale, ulps=ulps, reason=reason)
