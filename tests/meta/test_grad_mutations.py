"""The op-gradient check (equivalence.checks.check_grad, on the CPU) catches small changes of a backward pass.

Each mutation changes only torch's backward of one registry op (the values it returns are unchanged): the OpInfo's
`torch_fn` is wrapped, through dataclasses.replace, in a custom autograd.Function that scales the gradient flowing
back from the output, or that replaces the input gradients that are exactly 0 by a tiny number. Every drawn case
where the mutation moves torch's gradient by more than twice the check's own allowance must then fail the check,
naming torch against the float64 reference (a case where it changes nothing, softmax over an axis of length 1, or
less than the float32 rounding the allowance is made of, is not counted; a run where no case counts ends
Unsatisfiable, so the test cannot pass on no evidence). The cases are those of tests/test_grads.py::test_op_grad_matches (same strategy, same smooth domain).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from equivalence import runtime, sides
from equivalence.catalog.ops import MalformedOpInfo, by_id
from equivalence.compare import EquivalenceMismatch
from equivalence.checks import check_grad
from equivalence.gradcheck import SMOOTH, cotangent, reference_vjp

pytestmark = pytest.mark.grads


def _scale_output_grad(factor: float):
    """fn(*args) with the gradient that flows back into its output multiplied by `factor`.

    The autograd.Function is made when a test wraps an op, not at import: collection imports no framework."""
    def wrap(fn):
        torch = runtime.torch()

        class ScaleGrad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, y):
                return y.clone()

            @staticmethod
            def backward(ctx, g):
                return g * factor

        return lambda *args, **kwargs: ScaleGrad.apply(fn(*args, **kwargs))
    return wrap


def _fill_zero_input_grads(value: float):
    """fn(*args) whose inputs receive `value` wherever their true gradient is exactly 0 (made lazily, as above)."""
    def wrap(fn):
        torch = runtime.torch()

        class FillZeros(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                return torch.where(g == 0, torch.full_like(g, value), g)

        nudge = lambda a: FillZeros.apply(a) if a.requires_grad else a
        return lambda *args, **kwargs: fn(*map(nudge, args), **kwargs)
    return wrap


# (op id, mutation id, wrapper of torch_fn). 1.0001: a 1e-4 relative change, ~800 float32 ulps, 40-70x the rtol
# the gradient elements of these ops get. 1e-30 where the gradient is exactly 0: `where`'s unselected branch,
# a gather's unread rows, a stride-2 1x1 convolution's skipped pixels are reached by no output (the reference
# gives exactly 0 with no allowance); maximum's smaller operand is reached (NaN propagates), its 0 is a flat
# piece the float64 differences resolve to ~4 eps |y| / h (~1e-11 |c| here), so it is nudged to 1e-9.
MUTATIONS = [
    ("softmax", "grad-x1.0001", _scale_output_grad(1.0001)),
    ("layer_norm", "grad-x1.0001", _scale_output_grad(1.0001)),
    ("where", "zero-grad-1e-30", _fill_zero_input_grads(1e-30)),
    ("gather", "zero-grad-1e-30", _fill_zero_input_grads(1e-30)),
    ("conv2d-stride2", "zero-grad-1e-30", _fill_zero_input_grads(1e-30)),
    ("maximum", "zero-grad-1e-9", _fill_zero_input_grads(1e-9)),
]


def _moves_beyond_the_tolerance(info, mutated, sample, seed, refs) -> bool:
    """The mutation moves torch's gradient by more than twice the check's own per-element allowance somewhere it
    compares (each ReferenceVJP's tolerance): the unmutated gradient is within one allowance of the reference, so
    the mutated one is then outside it and a working check must fail. A mutation below that is invisible to any
    sound check: softmax's gradient y (c - sum y c) can cancel to far less than its terms, which set the
    allowance, and 1e-4 of it is then under the float32 rounding of those terms (found by `thorough`)."""
    cot, floating = cotangent(info, sample, seed), info.differentiable(sample)
    before, after = (sides.side("torch-cpu").op_vjp(i.torch_fn, sample.args, sample.kwargs, cot, floating).grads
                     for i in (info, mutated))
    for a, b, ref in zip(before, after, refs):
        allowed = ref.tolerance("").allowed(ref.grad)
        if np.any(ref.comparable & (np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) > 2 * allowed)):
            return True
    return False


@pytest.mark.parametrize("op_id,mutation,wrap", [pytest.param(*m, id=f"{m[0]}-{m[1]}") for m in MUTATIONS])
@given(data=st.data())
def test_mutated_torch_grad_is_caught(op_id, mutation, wrap, data):
    """Every drawn case on which the mutation moves torch's gradient beyond twice the check's allowance fails the
    check on torch vs float64."""
    info = by_id(op_id)
    mutated = dataclasses.replace(info, torch_fn=wrap(info.torch_fn))
    sample = data.draw(info.grad_samples("float32", SMOOTH), label="sample")
    seed = data.draw(st.integers(0, 2**31 - 1), label="cotangent_seed")
    note(sample.describe())
    try:
        refs = check_grad(info, sample, seed)  # the unmutated case passes (else the mutation proves nothing)
    except EquivalenceMismatch as err:
        raise AssertionError(f"{op_id}: the unmutated check fails:\n{err}") from None
    assume(_moves_beyond_the_tolerance(info, mutated, sample, seed, refs))
    with pytest.raises(EquivalenceMismatch, match="torch != ref64"):
        check_grad(mutated, sample, seed)


# ---------------------------------------------------------------- the float64 reference itself (no framework)
def test_reference_vjp_matches_analytic_derivative():
    """reference_vjp of tanh is within its own error bound of c (1 - tanh^2), ~1e-10 relative off saturation."""
    x = np.array([-3.0, -0.5, 0.125, 2.0, 7.5])
    cot = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
    exact = cot * (1 - np.tanh(x) ** 2)
    ref = reference_vjp(np.tanh, (x,), {}, cot, 0, floor=np.abs(cot) * (1 + np.tanh(x) ** 2))  # tanh's G
    assert ref.comparable.all() and (np.abs(ref.grad - exact) <= ref.error).all()
    np.testing.assert_allclose(ref.grad[:4], exact[:4], rtol=1e-10, atol=0)  # 7.5: tanh' = 1.2e-6 of tanh ~ 1


def test_reference_vjp_gives_structural_zeros_exactly():
    """An element no output reads (where's other branch) has gradient, terms and error bound exactly 0."""
    cond = np.array([True, False, True])
    ref = reference_vjp(np.where, (cond, np.array([1.5, -2.0, 3.0]), np.array([0.5, 0.75, -1.25])), {},
                        np.array([0.3, -1.2, 2.0]), 1)
    assert ref.grad[1] == ref.terms[1] == ref.error[1] == 0.0 and ref.comparable.all()
    np.testing.assert_array_equal(ref.tolerance("where").allowed(ref.grad)[1], 8 * np.finfo(np.float32).tiny)


def test_reference_vjp_excludes_a_tie():
    """maximum at an exact tie is a kink at the point: no step certifies it, the element is excluded."""
    ref = reference_vjp(np.maximum, (np.array([1.0, 1.5, 2.0]), np.array([0.5, 1.5, 3.0])), {},
                        np.array([1.0, 1.0, 1.0]), 0)
    assert ref.comparable.tolist() == [True, False, True]


def test_grad_terms_need_their_derivation():
    """A grad_terms without a docstring (the derivation and the reason shown) is refused by the registry."""
    info = dataclasses.replace(by_id("tanh"), grad_terms=lambda cot, x: (np.abs(cot),))
    with pytest.raises(MalformedOpInfo, match="grad_terms without a docstring"):
        info.validate()
