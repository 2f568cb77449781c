"""Float64 reference gradients of registry ops, element by element, and the tolerance of each gradient element (the
verdict itself, on one drawn case: equivalence.checks.grads.check_grad, run by tests/test_grads.py and tests/meta).

The reference differentiates the op's float64 NumPy reference (`OpInfo.ref`) one input element at a time: the
five-point central difference of the whole output along e_j,

    D5 = (8 (o(x + h e_j) - o(x - h e_j)) - (o(x + 2h e_j) - o(x - 2h e_j))) / 12h,

is column j of the Jacobian J, so for a drawn cotangent c the reference gradient is g_j = sum_k c_k J_kj (a VJP),
and the same column gives the magnitude of the chain-rule terms, T_j = sum_k |c_k J_kj|, and how many there are
(n_j, the number of nonzero J_kj). Five reference evaluations per input element: the stencil and a NaN probe
(x_j = NaN) that finds the outputs x_j reaches at all; an output it does not reach is exactly 0 in the column.

Tolerance of element j (float32 gradients; `ReferenceVJP.tolerance`):

    allowed_j = rtol * max(T_j, G_j) + fd_j  (+ GRAD_ULPS x float32's smallest normal: TF flushes subnormals)
    rtol      = the accumulating rule (tolerances.tolerance) at depth max_j n_j and the op's ulps (at least 8)

A backward pass forms g_j from the terms c_k J_kj, each off by a few u of its own size, and sums n_j of them
(errors growing like sqrt(n_j)): that is rtol * T_j, with no array-wide floor, so a gradient that is exactly 0 in
the reference because no output reaches x_j (the other branch of `where`, a row a gather never reads) has
T_j = fd_j = 0 and must be exactly 0. Where a backward formula forms a local derivative from terms that cancel
(tanh' = 1 - t^2 at t ~ 1, softmax's s (c - <c, s>), layer_norm), its float32 error is ~u times those terms, not
u |J_kj|: G_j = OpInfo.grad_terms, data on the op record, derived in its docstring.

The reference bounds its own error per element, fd_j = rounding + truncation:
 * rounding: sum_k |c_k| 4 eps max(|o_k|, sum_j |J_kj x_j|) / h over the outputs x_j reaches. Each evaluation is
   ~eps off of its terms, so no difference resolves less; a reached output that did not change at all may have a
   derivative that small (erf'(7.5) = 1e-25 while erf(7.5 +- h) is 1.0; maximum's smaller operand: a flat piece).
 * truncation: sum_k |c_k| 2 max(|D3 - D5|, R), with D3 the three-point difference (|D3 - D5| bounds D5's
   truncation error, which is far smaller) and R the kink residual |(o(2h) - 2 o(0) + o(-2h)) / 2h
   - 2 (o(h) - 2 o(0) + o(-h)) / h|, ~h^3 f'''' for a smooth function but of the size of the jump for a kink
   within the stencil's reach (exactly at x_j, too, where the central differences see nothing).
An element is compared where truncation <= CERTIFY x rtol max(T_j, G_j) + 4 x rounding (R and |D3 - D5| carry
~10 eps |o| / h of rounding noise themselves) at its step or one of the RETRY steps; otherwise it sits at a kink or
a pole and is excluded (`ReferenceVJP.comparable`); kinks are asserted in tests/test_grads.py's
test_subgradient_at_kink.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .catalog.samples import as_reference
from .strategies import EDGE_KINDS
from .tolerances import Tolerance, tolerance

EPS64 = float(np.finfo(np.float64).eps)
F32_SMALLEST_NORMAL = float(np.finfo(np.float32).smallest_normal)
# Step h_j = STEP * 2**ceil(log2 max(|x_j|, FLOOR)): relative to x_j (a power of two, so x +- h, x +- 2h are exact
# for |x_j| >= FLOOR), never spanning a pole or kink at 0 for |x_j| >= FLOOR. Truncation: |D3 - D5| ~ h^2 |f'''| / 6
# relative, 4e-9 at log'(1/8) (f'''/f' = 2 / x^2, h = 2**-15); rounding 4 eps |o| / h, 3.6e-12 |o| / |x|.
STEP = 2.0**-12
FLOOR = 2.0**-3
RETRY = (2.0**-6, 2.0**6)  # steps tried, as factors of h, where h does not certify an element (pole or rounding)
CERTIFY = 0.25  # an element is compared where the truncation bound is at most this of its allowance (+ rounding)
MAX_ELEMENTS = 512  # per argument; larger arrays (thorough shapes) check a random subset (of `elements`)
GRAD_ULPS = 8.0  # a backward formula: the cotangent's rounding, a product or two and the local derivative's ulps
# Gradients are drawn where ops are smooth: kinks (zero, ties) are asserted in tests/test_grads.py's
# test_subgradient_at_kink and poles/overflow (inf, huge, tiny, subnormal) belong to the forward edge-value tests.
# Elements within the stencil's reach of a kink or pole (maximum of near-equal operands) are excluded one by one.
SMOOTH = EDGE_KINDS - {"negative"}


@dataclasses.dataclass(frozen=True)
class ReferenceVJP:
    """The float64 VJP of one argument and, per element, what its tolerance is made of (shaped like the argument)."""

    grad: np.ndarray  # g_j = sum_k c_k J_kj
    terms: np.ndarray  # T_j = sum_k |c_k J_kj|
    floor: np.ndarray  # G_j: OpInfo.grad_terms (0 where the op's backward forms no cancelling local derivative)
    count: np.ndarray  # n_j = #{k: J_kj != 0}
    rounding: np.ndarray  # the differences' rounding and resolution, sum_k |c_k| 4 eps |o_k| / h over reached k
    truncation: np.ndarray  # sum_k |c_k| 2 max(|D3 - D5|, R) (inf where no step gave finite outputs)
    evaluated: np.ndarray  # bool: the element was differentiated (all, or MAX_ELEMENTS of them)
    rtol: float  # grad_rtol at the op's ulps and the depth max_j n_j

    @property
    def scale(self) -> np.ndarray:
        """max(T_j, G_j): the magnitude of the terms gradient element j is computed from."""
        return np.maximum(self.terms, self.floor)

    @property
    def error(self) -> np.ndarray:
        """fd_j: bound on the reference's own error."""
        return self.rounding + self.truncation

    @property
    def comparable(self) -> np.ndarray:
        """Elements whose reference certifies (_certified): differentiated, no kink or pole within the stencil."""
        return self.evaluated & _certified(self.truncation, self.rounding, self.rtol * self.scale)

    def tolerance(self, why: str, *, cross: bool = False) -> Tolerance:
        """Per element: rtol x max(T_j, G_j) + fd_j against the reference, or 2 rtol x max(T_j, G_j) between TF
        and torch (each within the first of float64; the reference's own error cancels); elements that are not
        `comparable` allow anything (they are counted in the failure message's context).

        The absolute part is the float32 subnormal range, GRAD_ULPS x its smallest normal (TF's CPU kernels flush
        subnormal results to zero: catalogue tf-cpu-flushes-subnormals), far below 1e-30: an exact zero is checked.
        """
        if cross:
            terms, rtol = self.scale, 2 * self.rtol
        else:
            terms, rtol = self.scale + self.error / self.rtol, self.rtol
        terms = np.where(self.comparable, terms, np.inf)
        reason = f"{'2x ' if cross else ''}per element: rtol x max(T, G){'' if cross else ' + fd'} [{why}]"
        return Tolerance(GRAD_ULPS * F32_SMALLEST_NORMAL, rtol, reason, terms)

    def explain(self, index: tuple) -> str:
        """One line: what element `index`'s allowance is made of."""
        return (f"  at {index}: T = sum|c J| = {self.terms[index]:.3g} over n = {self.count[index]} terms, "
                f"G = {self.floor[index]:.3g}, fd error {self.error[index]:.2g}, rtol {self.rtol:.2g}; "
                f"{int(self.evaluated.sum() - self.comparable.sum())} of {int(self.evaluated.sum())} elements "
                f"excluded (kink or pole within the stencil)")


def _first(out) -> np.ndarray:
    return np.asarray(out[0] if isinstance(out, tuple) else out, np.float64)


def _outputs(ref, args, kwargs, i):
    """o(a): the reference's (first) output, flattened, with argument i replaced by a."""
    def o(a):
        call = list(args)
        call[i] = a
        with np.errstate(all="ignore"):
            return _first(ref(*call, **kwargs)).ravel()
    return o


def _step(x: float) -> float:
    return float(np.ldexp(STEP, int(np.ceil(np.log2(max(abs(x), FLOOR))))))


@dataclasses.dataclass(frozen=True)
class _Column:
    """Column j of the Jacobian at step h, from the four stencil points, per output k."""

    d5: np.ndarray  # the five-point difference (0 where x_j does not reach output k)
    size: np.ndarray  # max |o_k| over the stencil: what each evaluation rounds at, with the output's terms
    truncation: np.ndarray  # 2 max(|D3 - D5|, R): D5's truncation error, or a kink within the stencil
    h: float


def _column(o, x: np.ndarray, o0: np.ndarray, reached: np.ndarray, j: int, h: float) -> _Column | None:
    """Column j at step h (None where a stencil point is not finite)."""
    def at(s):
        xs = x.copy()
        xs.flat[j] += s * h
        return o(xs)

    p1, m1, p2, m2 = at(1), at(-1), at(2), at(-2)
    if not all(np.isfinite(v).all() for v in (p1, m1, p2, m2)):
        return None
    d5 = (8 * (p1 - m1) - (p2 - m2)) / (12 * h)
    d3 = (p1 - m1) / (2 * h)
    kink = np.abs((p2 - 2 * o0 + m2) / (2 * h) - 2 * (p1 - 2 * o0 + m1) / h)
    size = np.max(np.abs([o0, p1, m1, p2, m2]), axis=0)
    truncation = np.where(reached, 2 * np.maximum(np.abs(d3 - d5), kink), 0.0)
    return _Column(np.where(reached, d5, 0.0), size, truncation, h)


def _reached(o, x: np.ndarray, o0: np.ndarray, j: int) -> np.ndarray:
    """The outputs x_j reaches: those that change when x_j is NaN. An output that does not (the other branch of
    `where`, an element a gather or a strided window never reads, pow(1, y)) has an exactly zero derivative, which
    the reference then gives exactly; one that does may have a derivative below the differences' resolution."""
    xs = x.copy()
    xs.flat[j] = np.nan
    probe = o(xs)
    return ~((probe == o0) | (np.isnan(probe) & np.isnan(o0)))


def grad_rtol(ulps: float, depth: int) -> float:
    """rtol of a float32 gradient element summing `depth` chain-rule terms: the accumulating rule at the op's ulps
    (at least GRAD_ULPS)."""
    return tolerance("float32", depth=depth, ulps=max(ulps, GRAD_ULPS)).rtol


def reference_vjp(ref, args, kwargs, cot: np.ndarray, i: int, *, ulps: float = GRAD_ULPS, floor=0.0,
                  elements=None) -> ReferenceVJP:
    """The float64 VJP of `ref` w.r.t. argument i at cotangent `cot`, element by element (module docstring).

    `floor`: G_j (broadcast to the argument); `elements`: flat indices to differentiate (default: all). Each
    element is differentiated at its step h_j; where that does not certify, at the RETRY steps too, keeping the
    one with the smallest truncation bound.
    """
    args = [as_reference(a) for a in args]
    x = args[i]
    o = _outputs(ref, args, kwargs, i)
    o0 = o(x)
    cs = np.asarray(cot, np.float64).ravel()
    c = np.abs(cs)
    floor = np.broadcast_to(np.asarray(floor, np.float64), x.shape).ravel()
    todo = list(range(x.size) if elements is None else elements)
    reached = {j: _reached(o, x, o0, j) for j in todo}
    cols = {j: _column(o, x, o0, reached[j], j, _step(float(x.flat[j]))) for j in todo}
    # The magnitude of the terms each output is formed from, sum_j |J_kj x_j|: an output that cancels (a conv
    # summing to exactly 0.0) rounds at the size of its terms, not of its value.
    terms_k = sum((np.abs(col.d5 * x.flat[j]) for j, col in cols.items() if col is not None), np.zeros_like(o0))

    def rounding(j, col):  # each evaluation ~eps of its terms: no difference resolves less than that / h
        return float(c @ np.where(reached[j], 4 * EPS64 * np.maximum(col.size, terms_k) / col.h, 0.0))

    rtol = grad_rtol(ulps, max((np.count_nonzero(col.d5) for col in cols.values() if col is not None), default=1))
    out = np.zeros((5, x.size))  # grad, terms, count, rounding, truncation
    out[4] = np.inf
    for j in todo:
        h = _step(float(x.flat[j]))
        for factor in (1.0, *RETRY):
            col = cols[j] if factor == 1.0 else _column(o, x, o0, reached[j], j, h * factor)
            if col is not None and c @ col.truncation < out[4, j]:
                out[:, j] = (cs @ col.d5, np.abs(cs * col.d5).sum(), np.count_nonzero(col.d5), rounding(j, col),
                             c @ col.truncation)
            if _certified(out[4, j], out[3, j], rtol * max(out[1, j], floor[j])):
                break
    evaluated = np.zeros(x.size, bool)
    evaluated[todo] = True
    shaped = lambda a: a.reshape(x.shape)
    return ReferenceVJP(shaped(out[0]), shaped(out[1]), shaped(floor.copy()), shaped(out[2].astype(int)),
                        shaped(out[3]), shaped(out[4]), shaped(evaluated), rtol)


def _certified(truncation, rounding, allowance):
    """The difference is trusted: its truncation-or-kink bound is within CERTIFY of the allowance, or no more than
    rounding noise (|D3 - D5| and R hold ~10 eps |o| / h of it; `rounding` is 4 eps |o| / h)."""
    return truncation <= CERTIFY * allowance + 4 * rounding


# ---------------------------------------------------------------- what a drawn case's check differentiates
def reference_output(info, sample) -> np.ndarray:
    """The float64 reference's (first) output on the sample."""
    with np.errstate(all="ignore"):
        return _first(info.ref(*(as_reference(a) for a in sample.args), **sample.kwargs))


def cotangent(info, sample, seed: int) -> np.ndarray:
    """The cotangent the gradient check (equivalence.checks.check_grad) draws for this sample from `seed` (the
    generator's first draw)."""
    return np.random.default_rng(seed).standard_normal(reference_output(info, sample).shape)


def elements(rng, size: int):
    """Which elements the float64 reference differentiates: all, or MAX_ELEMENTS drawn (thorough's wide arrays)."""
    return None if size <= MAX_ELEMENTS else np.sort(rng.choice(size, MAX_ELEMENTS, replace=False))
