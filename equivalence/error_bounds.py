"""Per-element forward error bounds: how far a float32 forward pass may be from the float64 reference, element by
element, propagated node by node through the reference trace.

Each node carries an absolute bound E (same shape as its value): a ~ACC_FACTOR-sigma bound under the standard
probabilistic model of rounding (independent errors of random sign; Higham & Mary 2019, "A new approach to
probabilistic rounding error analysis"). A layer maps its inputs' bounds to its own as

    E_out = (what the layer does to its inputs' errors) + (its own float32 rounding)

with the reference values giving every magnitude. Propagation: a linear map sums independent errors, so
sqrt(W^2 E_in^2) (a lambda-sigma bound of each input stays one of the output; the worst case |W| E_in grows sqrt(K)
too fast per layer and hid a TF32 rounding 1e4-fold on the seed CNN); a local Lipschitz constant for activations,
the window maximum for max pooling, first order for softmax and normalisation (worst case: correlated errors).
Own rounding, with u = 2**-23 (float32 epsilon, as in `tolerances`):

* a K-term dot product plus bias (dense: K = fan-in; conv: kh*kw*C_in/groups): ACC_FACTOR * u * sqrt(K+1) * P,
  P = max(|W x + b|, sqrt(W^2 x^2 + b^2)) the size of the partial sums (a random walk from 0 to the result: its
  step size is the terms' 2-norm). NUMERICS.md: matmul error grows ~sqrt(K) relative to the terms. A TF32-style
  rounding of the inputs adds ~2**-11 * sqrt(sum (w_i x_i)^2), ~800/sqrt(K) times this at one layer.
* elementwise functions: DEFAULT_ULPS ulps of the result (NUMERICS.md: <= 7 ulp TF vs torch), plus an absolute
  floor where the formula cancels (GELU tails: u*|x|; ELU/SELU near 0-, alpha*(exp(x)-1): u*alpha).
* softmax: p_j * u * (ulps + |z_j - max z| + ACC_FACTOR*sqrt(C)): the rounded exponent's absolute error turns
  into a relative error of exp, the normalising sum has C terms.
* pooling/means/sums over n values: ACC_FACTOR * u * sqrt(n) * mean|x|; normalisation: the rounding of the
  moments (Keras: var = E[x^2] - E[x]^2, so relative to mean(x^2)) and of the affine terms |x*inv|, |mean*inv|,
  |beta| (difference 'norm-affine-cancellation').

Measured on the seed models and 300 random specs: TF and torch reach <= 0.2 of E (seed models <= 0.05).
The check is then |y - ref| <= E per output element (TF vs torch: 2E, the triangle inequality). Recurrent layers
(LSTM/GRU) have no per-element rule here: `node_bounds` returns None for specs that contain one and callers keep
the scalar model rule (`models.Pair.tolerance`). Each kind's rule is its record's `bound` (equivalence.layer_kinds).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .compare import EquivalenceMismatch, assert_equivalent, compare
from .layer_kinds import KINDS
from .layer_kinds.base import no_element_rule
from .layer_kinds.activation import activation_bound
from .spec import INPUT, LayerSpec, ModelSpec
from .tolerances import Tolerance

# Kinds without a per-element rule (LSTM, GRU: propagation would need the recurrence's Jacobian).
UNSUPPORTED = tuple(name for name, kind in KINDS.items() if kind.bound is no_element_rule)


@dataclasses.dataclass(frozen=True, eq=False)
class ElementBound(Tolerance):
    """A Tolerance whose allowed error is given per element (`bound`); `atol` holds its maximum (for scalar uses)."""

    bound: np.ndarray = dataclasses.field(default=None, repr=False)

    def __str__(self) -> str:
        b = self.bound
        return (f"per-element bound in [{b.min():.2g}, {b.max():.2g}] (median {np.median(b):.2g}) "
                f"[{self.reason}]")

    def allowed(self, expected) -> np.ndarray:
        """The bound itself, whatever `expected` is (compare() judges |actual - expected| <= allowed)."""
        return self.bound

    def doubled(self) -> "ElementBound":
        """TF vs torch when each is within this bound of float64 (triangle inequality)."""
        return ElementBound(2 * self.atol, 0.0, f"2x ({self.reason}): TF vs torch", bound=2 * self.bound)


def layer_bound(l: LayerSpec, args: list, errs: list, y: np.ndarray, w: dict, values: dict,
                training: bool) -> np.ndarray | None:
    """E of one layer's output from its inputs' values `args` and bounds `errs` (its kind's `bound`; module
    docstring); None for a kind without a per-element rule."""
    return KINDS[l.kind].bound(l, args, errs, y, w, values, training)


def node_bounds(spec: ModelSpec, weights, values: dict, training: bool = False) -> dict[str, np.ndarray] | None:
    """E for every node of the reference trace `values` (the float32 input is exact: E = 0); None when the spec
    holds a layer kind without a per-element rule (LSTM, GRU)."""
    if any(l.kind in UNSUPPORTED for l in spec.layers):
        return None
    w64 = {n: {k: np.asarray(v, np.float64) for k, v in lw.items()} for n, lw in weights.items()}
    bounds = {INPUT: np.zeros(np.shape(values[INPUT]))}
    for l in spec.layers:
        srcs = spec.sources(l)
        bounds[l.name] = layer_bound(l, [values[s] for s in srcs], [bounds[s] for s in srcs], values[l.name],
                                     w64.get(l.name, {}), values, training)
    return bounds


def assert_bounded(tf_out, torch_out, reference, tol: ElementBound, *, what: str, context: str = "") -> list:
    """TF and torch each within the per-element bound of float64, and within twice it of each other."""
    __tracebackhide__ = True
    results = [compare(tf_out, reference, tol, what=what, label_a="tf", label_b="ref64", context=context),
               compare(torch_out, reference, tol, what=what, label_a="torch", label_b="ref64", context=context),
               compare(tf_out, torch_out, tol.doubled(), what=what, label_a="tf", label_b="torch", context=context,
                       check_dtype=True)]
    failed = [r for r in results if not r.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(r.render() for r in failed))
    return results


def assert_forward_equivalent(tf_out, torch_out, reference, *, tol: Tolerance, what: str, context: str = "") -> list:
    """A model forward check: element by element for an ElementBound, else `compare.assert_equivalent`."""
    __tracebackhide__ = True
    if isinstance(tol, ElementBound) and reference is not None:
        return assert_bounded(tf_out, torch_out, reference, tol, what=what, context=context)
    return assert_equivalent(tf_out, torch_out, reference, tol=tol, what=what, context=context)


__all__ = ["ElementBound", "UNSUPPORTED", "activation_bound", "assert_bounded", "assert_forward_equivalent",
           "layer_bound", "node_bounds"]
