"""Tensor-op conformance: every OP_DB entry, in every dtype it declares, against a float64 reference and across.

For each drawn sample: torch vs reference, TF vs reference, torch vs TF (values, NaN/inf positions, the sign of
every zero the float64 reference makes exactly, result dtype). Where the catalogue documents a disagreement for this
op/dtype, the strategy drops the edge values that entry's witness covers (equivalence.differences.ops.NARROWS), or
only the side it documents stops meeting them (SIDE_NARROWS: TF's flush-to-zero; torch still meets subnormals and
is checked against the reference on them), or the documented per-side result dtype is asserted - never a skip or an
xfail.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st

from equivalence.catalog._samples import as_reference, to_tf, to_torch
from equivalence.catalog._opinfo import Sample
from equivalence.catalog.ops import OP_DB, by_id
from equivalence.compare import EquivalenceMismatch, assert_close, assert_equivalent, to_numpy
from equivalence.differences import lookup
from equivalence.differences.ops import NARROWS, SIDE_NARROWS, zero_sign_owners
from equivalence.strategies import EDGE_KINDS, MAX_UNIQUE_SIZE, edge_cases, fit_shape, np_dtype
from equivalence.tolerances import Tolerance, cross, dtype_name

pytestmark = pytest.mark.ops

CASES = [pytest.param(info, dtype, id=f"{info.id}-{dtype}") for info in OP_DB for dtype in info.dtypes]


def known_differences(info, dtype) -> list:
    """Catalogue entries selecting this op by id or by name (a name selector covers every variant)."""
    found = {d.id: d for d in lookup("op", info.name, dtype) + lookup("op", info.id, dtype)}
    return list(found.values())


def narrowed(known) -> frozenset:
    """Edge kinds the drawn samples leave to the catalogue witnesses of `known` (on both sides: NARROWS).

    Kinds an entry leaves to its witness on one side only (SIDE_NARROWS) are still drawn: check_sample shows that
    side the sample without them (side_views) and checks the other side on the sample as drawn.
    """
    kinds = frozenset().union(*(NARROWS.get(d.id, ()) for d in known))
    # A side's view flushes subnormals to zeros, so distinct subnormals become tied zeros: where the catalogue keeps
    # ties out of the samples (their order is its witness's, as topk-tie-order), no side may see subnormals either.
    return kinds | (TIE_MAKING_VIEWS if "ties" in kinds else frozenset())


TIE_MAKING_VIEWS = frozenset({"subnormal"})


def side_narrowed(known) -> dict[str, frozenset]:
    """{side: edge kinds only that side leaves to the witnesses of `known`} (SIDE_NARROWS), sides with none left out."""
    sides = {side: frozenset().union(*(SIDE_NARROWS.get(d.id, {}).get(side, ()) for d in known))
             for side in ("tf", "torch")}
    return {side: kinds for side, kinds in sides.items() if kinds}


def _smallest_normal(dtype: np.dtype) -> float:
    return float(np.finfo(np.float32 if dtype.name == "bfloat16" else dtype).smallest_normal)  # bfloat16: float32's


def _flush_subnormals(a: np.ndarray, avoid: frozenset) -> np.ndarray:
    """Subnormals replaced by zeros of their sign, what a CPU with denormals-are-zero computes with; by +0.0 where
    the sample avoids 'negzero' (an entry owns -0.0 for this op: the view must not bring it back)."""
    if a.dtype.kind != "f" and a.dtype.name != "bfloat16":  # ml_dtypes' bfloat16 is of kind 'V'
        return a
    wide = a.astype(np.float64)
    sub = (wide != 0) & (np.abs(wide) < _smallest_normal(a.dtype))
    zero = 0.0 if "negzero" in avoid else np.copysign(0.0, wide)
    return np.where(sub, zero, wide).astype(a.dtype) if sub.any() else a


# How a side that leaves an edge kind to its witness sees a sample: the kind taken out as that side's documented
# behaviour takes it out (tf-cpu-flushes-subnormals: TF's CPU kernels run with denormals-are-zero).
SIDE_VIEWS = {"subnormal": _flush_subnormals}


def side_view(kinds, sample: Sample, avoid=frozenset()) -> Sample:
    """`sample` as a side leaving `kinds` to its witness sees it (the other kinds in `avoid` stay out too); the same
    object when it holds none of them."""
    args = tuple(np.asarray(a) for a in sample.args)
    for kind in kinds:
        args = tuple(SIDE_VIEWS[kind](a, frozenset(avoid)) for a in args)
    if all(a is b for a, b in zip(args, map(np.asarray, sample.args))):
        return sample
    return Sample(args, sample.kwargs, sample.desc)


def _outputs(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def run_op(info, sample, sides=("tf", "torch")):
    """(tf outputs, torch outputs, reference outputs, TF-semantics reference outputs) of one sample, each a tuple;
    a side not in `sides` is not run (its outputs are None).

    Framework warnings on edge inputs (var of an empty axis, softmax over a size-1 axis) are expected: they are
    kept as hypothesis notes, shown with a falsifying example, instead of filling the run summary.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        torch_out = _outputs(info.torch_fn(*(to_torch(a) for a in sample.args), **sample.kwargs)) \
            if "torch" in sides else None
        tf_out = _outputs(info.tf_fn(*(to_tf(a) for a in sample.args), **sample.kwargs)) if "tf" in sides else None
    for w in caught:
        note(f"framework warning: {w.category.__name__}: {w.message}")
    if info.ref is None:
        n = len(tf_out or torch_out)
        return tf_out, torch_out, (None,) * n, (None,) * n
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's 'mean of empty slice': the NaN is compared
        ref = _outputs(info.ref(*(as_reference(a) for a in sample.args), **sample.kwargs))
        tf_ref = _outputs(info.tf_ref(*sample.args, **sample.kwargs)) if info.tf_ref else (None,) * len(ref)
    return tf_out, torch_out, ref, tf_ref


def _rounded_reference(ref, out_dtype: str):
    """The float64 reference rounded to the result dtype: overflow to inf and integer wrap-around as the op does."""
    with np.errstate(all="ignore"):
        return np.asarray(ref).astype(np_dtype(out_dtype))


def _sign_mismatches(a: np.ndarray, b: np.ndarray, where: np.ndarray, label_a: str, label_b: str) -> list[str]:
    """'label_a=-0.0 where label_b=0.0 at [indices] (n/total elements)' where `where` holds, both are zero and their
    signs differ."""
    a, b = np.broadcast_to(a, where.shape), np.broadcast_to(b, where.shape)
    bad = where & (a == 0) & (b == 0) & (np.signbit(a) != np.signbit(b))
    if not bad.any():
        return []
    at = [tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:5]]
    first = at[0] if at else ()
    return [f"{label_a}={a[first]!r} where {label_b}={b[first]!r} at {at} ({int(bad.sum())}/{bad.size} elements)"]


def _assert_zero_signs(info, what, outs: dict, refs: dict, context: str = "", known=()):
    """Every zero a side returns where its float64 reference is an exact zero carries the reference's sign (unless
    `info.zero_sign` says why the reference's choice is arbitrary), and TF's zeros have torch's sign wherever both
    references are zeros of one sign (every zero, for exact ops; nowhere where a ZERO_SIGNS entry of `known` owns
    the sign). compare() measures |a - b|, blind to -0 vs +0."""
    __tracebackhide__ = True
    owners = {d.id: zero_sign_owners(d.id) for d in known}
    cross_owned = [entry for entry, sides in owners.items() if sides is not None]
    owned_sides = frozenset().union(*(owners[d] for d in cross_owned))
    refs = {side: None if r is None else np.asarray(r, np.float64) for side, r in refs.items()}
    problems = []
    for side, arr in outs.items():
        if refs[side] is not None and not info.zero_sign and side not in owned_sides:
            problems += _sign_mismatches(arr, refs[side], refs[side] == 0, side, refs[side].dtype.name + " ref")
    if len(outs) == 2 and not cross_owned:
        tf_r, torch_r = refs["tf"], refs["torch"]
        same_zero = np.ones(np.shape(outs["tf"]), bool) if info.exact or tf_r is None or torch_r is None else \
            (tf_r == 0) & (torch_r == 0) & (np.signbit(tf_r) == np.signbit(torch_r))
        problems += _sign_mismatches(outs["tf"], outs["torch"], same_zero, "tf", "torch")
    if problems:
        why = f"\n  reference's sign not asserted: {info.zero_sign}" if info.zero_sign else ""
        raise EquivalenceMismatch(f"{what}: sign of zero differs: " + "; ".join(problems) + why + "\n" + context)


def _narrower(want: dict) -> str:
    """The smaller of two documented result dtypes (where TF and torch are compared when their dtypes differ)."""
    return min(want.values(), key=lambda d: (np_dtype(d).itemsize, d))


def _check_documented_tf_semantics(info, dtype, sample, what, tf_a, torch_a, ref_o, tf_ref_o, want, known, context):
    """TF against its documented formula (`tf_ref`), torch against `ref`, and the two where the formulas agree."""
    __tracebackhide__ = True
    ref_a, ref_tf = _rounded_reference(ref_o, want["torch"]), _rounded_reference(tf_ref_o, want["tf"])
    agree = (ref_a == ref_tf) | (np.isnan(ref_a) & np.isnan(ref_tf))
    assert known or agree.all(), f"{what}: TF's documented formula (tf_ref) differs from ref here, but no " \
                                 f"catalogue entry selects op:{info.id}:{dtype}"
    tol = info.tolerance(want["torch"], sample, ref_a)
    assert_close(tf_a, ref_tf, tol, what=what, label_a="tf", label_b="tf_ref64", context=context)
    assert_close(torch_a, ref_a, tol, what=what, label_a="torch", label_b="ref64", context=context)
    assert_close(tf_a[agree], torch_a[agree], cross(tol), what=what + " where ref and tf_ref agree", label_a="tf",
                 label_b="torch", context=context)


def _check_side_tolerances(what, tf_a, torch_a, ref_a, tols, context):
    """Each side within its own tolerance (OpInfo.error_bound), TF vs torch within their sum (triangle inequality)."""
    __tracebackhide__ = True
    if ref_a is not None:
        for side, arr in (("tf", tf_a), ("torch", torch_a)):
            assert_close(arr, ref_a, tols[side], what=what, label_a=side, label_b="ref64", context=context)
    both = Tolerance(tols["tf"].atol + tols["torch"].atol, tols["tf"].rtol + tols["torch"].rtol,
                     f"tf tol + torch tol ({tols['tf'].reason} | {tols['torch'].reason})")
    assert_close(tf_a, torch_a, both, what=what, label_a="tf", label_b="torch", context=context)


def check_output(info, dtype, sample, i, tf_o, torch_o, ref_o, want, known, tf_ref_o=None):
    """Compare one output on the three sides, under the entry's tolerance and documented result dtypes."""
    __tracebackhide__ = True
    what = f"{info.id}[{dtype}] output{i}"
    got = {"tf": dtype_name(tf_o.dtype), "torch": dtype_name(torch_o.dtype)}
    assert got == want, f"{what}: result dtype {got}, but should be {want} [{sample!r}]"
    context = sample.describe() + f"\n  differences consulted: {[d.id for d in known] or 'none'}"
    tf_a, torch_a = to_numpy(tf_o), to_numpy(torch_o)
    _check_values(info, dtype, sample, what, tf_a, torch_a, ref_o, want, known, tf_ref_o, context)
    if tf_a.dtype.kind == "f":
        _assert_zero_signs(info, what, {"tf": tf_a, "torch": torch_a},
                           {"tf": ref_o if tf_ref_o is None else tf_ref_o, "torch": ref_o}, context, known)


def _check_values(info, dtype, sample, what, tf_a, torch_a, ref_o, want, known, tf_ref_o, context):
    """Values, NaN/inf positions: each side against its reference, then TF against torch."""
    __tracebackhide__ = True
    if tf_ref_o is not None:
        _check_documented_tf_semantics(info, dtype, sample, what, tf_a, torch_a, ref_o, tf_ref_o, want, known, context)
        return
    if want["tf"] == want["torch"]:
        ref_a = None if ref_o is None else _rounded_reference(ref_o, want["torch"])
        tol = info.tolerance(want["torch"], sample, ref_a if ref_a is not None else torch_a)
        tols = {side: info.side_tolerance(side, want[side], sample, tol) for side in ("tf", "torch")}
        if tols["tf"] != tol or tols["torch"] != tol:
            _check_side_tolerances(what, tf_a, torch_a, ref_a, tols, context)
        else:
            assert_equivalent(tf_a, torch_a, ref_a, tol=tol, what=what, context=context, check_dtype=False)
    else:  # documented dtype difference: each side against the reference in its own dtype, then both narrowed
        assert known, f"{what}: result dtypes {want} differ but no catalogue entry selects op:{info.id}:{dtype}"
        for side, arr in (("tf", tf_a), ("torch", torch_a)):
            if ref_o is not None:
                ref_a = _rounded_reference(ref_o, want[side])
                assert_close(arr, ref_a, info.tolerance(want[side], sample, ref_a), what=what, label_a=side,
                             label_b="ref64", context=context)
        common = _narrower(want)
        tol = info.tolerance(common, sample, _rounded_reference(torch_a, common))
        assert_close(_rounded_reference(tf_a, common), _rounded_reference(torch_a, common), cross(tol), what=what,
                     label_a=f"tf->{common}", label_b=f"torch->{common}", context=context)


def check_side_output(info, dtype, sample, i, side, out, ref_o, want, known, tf_ref_o=None):
    """One side's output alone against its float64 reference: result dtype, values (that side's tolerance, as in
    check_output) and the sign of exact zeros. For the side that meets an edge kind the other leaves to a witness."""
    __tracebackhide__ = True
    what = f"{info.id}[{dtype}] output{i} ({side} alone, on the sample as drawn)"
    assert dtype_name(out.dtype) == want[side], f"{what}: result dtype {dtype_name(out.dtype)}, but should be " \
                                                 f"{want[side]} [{sample!r}]"
    ref_o = tf_ref_o if side == "tf" and tf_ref_o is not None else ref_o
    if ref_o is None:
        return
    context = sample.describe() + f"\n  differences consulted: {[d.id for d in known] or 'none'}"
    arr, ref_a = to_numpy(out), _rounded_reference(ref_o, want[side])
    tol = info.side_tolerance(side, want[side], sample, info.tolerance(want[side], sample, ref_a))
    assert_close(arr, ref_a, tol, what=what, label_a=side, label_b="ref64", context=context)
    if arr.dtype.kind == "f":
        _assert_zero_signs(info, what, {side: arr}, {side: ref_o}, context, known)


def _check_one_side(info, dtype, sample, side, known) -> None:
    """check_side_output for every output of `side` on `sample`."""
    __tracebackhide__ = True
    tf_out, torch_out, ref, tf_ref = run_op(info, sample, sides=(side,))
    outs = tf_out if side == "tf" else torch_out
    wants = info.expected_dtype(dtype)
    wants = wants if isinstance(wants, list) else [wants] * len(outs)
    for i, (out, ref_o, tf_ref_o) in enumerate(zip(outs, ref, tf_ref)):
        check_side_output(info, dtype, sample, i, side, out, ref_o, wants[i], known, tf_ref_o)


def check_sample(info, dtype, sample, known) -> None:
    """Every output of one sample: torch and TF against the reference and each other (the one assertion path).

    Where a catalogue entry leaves an edge kind to its witness on one side only (SIDE_NARROWS) and the sample holds
    it, the other side is first checked alone on the sample as drawn, then both on the view without it (side_view).
    """
    __tracebackhide__ = True
    note(sample.describe())
    for side, kinds in side_narrowed(known).items():
        view = side_view(kinds, sample, narrowed(known))
        if view is not sample:
            _check_one_side(info, dtype, sample, "torch" if side == "tf" else "tf", known)
            note(f"{side} leaves {sorted(kinds)} to its catalogue witness: both sides compared on\n{view.describe()}")
            sample = view
    tf_out, torch_out, ref, tf_ref = run_op(info, sample)
    assert len(tf_out) == len(torch_out), f"{info.id}: TF gives {len(tf_out)} outputs, torch {len(torch_out)}"
    wants = info.expected_dtype(dtype)
    wants = wants if isinstance(wants, list) else [wants] * len(tf_out)
    for i, (tf_o, torch_o, ref_o, tf_ref_o) in enumerate(zip(tf_out, torch_out, ref, tf_ref)):
        check_output(info, dtype, sample, i, tf_o, torch_o, ref_o, wants[i], known, tf_ref_o)


@pytest.mark.parametrize("info,dtype", CASES)
@given(data=st.data())
def test_op_matches(info, dtype, data):
    """TF and torch each match the float64 reference and each other, in values, NaN/inf, zero signs and dtype."""
    known = known_differences(info, dtype)
    check_sample(info, dtype, data.draw(info.samples(dtype, narrowed(known)), label="sample"), known)


@pytest.mark.parametrize("info,dtype", CASES)
@settings(max_examples=1)  # sizes and arrays are fixed; the other choices (axis, kwargs) take their simplest value
@given(data=st.data())
def test_op_matches_on_edge_values(info, dtype, data):
    """As test_op_matches, on the op's own sample builder filled with every edge value of the dtype, twice each.

    Six random examples can miss one edge kind (x.5 ties, a repeated maximum, NaN); here every case meets all the
    kinds its catalogue narrowing and its builder leave (strategies.edge_cases: 0, -0, +-0.5, 1.5, 2.5, ties, NaN,
    +-inf, huge, tiny, subnormal, negative operands; binary ops pair every value of one operand with every one of
    the other). Builders size arrays through strategies.side/shapes, so every array holds the whole pool whatever
    its sizes: contractions over K >= 2, convolutions and pools over several windows, gathers picking every index
    (tests/meta/test_edge_coverage.py counts the kinds in each case's sample).
    """
    known = known_differences(info, dtype)
    with edge_cases():
        sample = data.draw(info.samples(dtype, narrowed(known)), label="edge_sample")
    check_sample(info, dtype, sample, known)


# ---------------------------------------------------------------- pinned falsifying examples
def _var_float16_sample() -> Sample:
    x = np.zeros((4, 2, 10), np.float16)
    x[0, 0, 0] = 3.0  # the slice reduced over (2, 0) holds 3.0 and 39 zeros
    return Sample((x,), {"axis": (2, 0), "keepdims": False}, "reduce")


def _one_in_zeros(shape, value) -> Sample:
    x = np.zeros(shape)
    x.flat[0] = value
    return Sample((x,), {"axis": None, "keepdims": False}, "reduce")


# (op id, dtype, sample, catalogue id): examples the thorough profile (seed 1 unless noted) falsified. With no
# catalogue id the example must pass check_sample; with one, that entry must select the op and its NARROWS kinds
# keep the example out of the property test, which must still fail on it (the difference is real; if it goes
# upstream, this and the entry's witness both say so).
REGRESSIONS = [
    # TF's float16 var adds its squared deviations in float16: 0.22168 vs 0.219375 (1.05%, rule 0.39%); within
    # OpInfo.error_bound (tf-half-sums-accumulate-in-half)
    pytest.param("var", "float16", _var_float16_sample(), None, id="var-float16-tf-float16-accumulation"),
    # seed 2: torch sums the squared deviations of a full reduction serially: 4.5e-14 / 8.5e-14 relative off, where
    # sqrt(depth) rounding allows 2.0e-14 / 4.2e-14; within OpInfo.error_bound (n * u)
    pytest.param("var", "float64", _one_in_zeros((5, 8, 12), 1.5), None, id="var-float64-torch-serial-sum"),
    pytest.param("std", "float64", _one_in_zeros((11, 14, 14), 9.0), None, id="std-float64-torch-serial-sum"),
    # keras.ops.argmax on TF turns -0.0 into -tiny: argmax([-0., 0.]) = 1 where NumPy and torch give 0
    pytest.param("argmax-keras", "float32", Sample((np.array([-0.0, 0.0], np.float32),), {"axis": 0}, "reduce"),
                 "keras-argmax-signed-zero", id="argmax-keras-float32-signed-zero"),
    # sum/mean over one -0.0 (the whole array, or a size-1 axis): TF returns the element, -0.0; torch adds it to
    # +0.0. Found by the zero-sign check (issue 12), which compares every zero the reference makes exactly
    pytest.param("sum", "float32", Sample((np.array([-0.0], np.float32),), {"axis": None, "keepdims": False}, "reduce"),
                 "reduce-single-negative-zero", id="sum-float32-single-negative-zero"),
    pytest.param("mean", "float64", Sample((np.array([[-0.0], [-0.0]]),), {"axis": 1, "keepdims": True}, "reduce"),
                 "reduce-single-negative-zero", id="mean-float64-size1-axis-negative-zero"),
    # thorough on the AVX2-machine setting: reference bugs, both frameworks were right. NumPy's fast sqrt path also
    # takes a broadcast (stride-0) exponent: [-inf, -inf] ** 0.5 gave NaN, both sides inf.
    pytest.param("pow", "float16", Sample((np.array([-np.inf, -np.inf], np.float16), np.array(0.5, np.float16)), {},
                                          "broadcast"), None, id="pow-float16-neg-inf-sqrt-broadcast"),
    # x / 6 + 0.5 cancelled near x = -3 (43 ulps off in float64); both sides compute (x + 3) / 6
    pytest.param("hard_sigmoid", "float64", Sample((np.array(-2.984375),), {}, "unary"), None,
                 id="hard_sigmoid-float64-near-minus-3"),
]


@pytest.mark.parametrize("op_id,dtype,sample,catalogued", REGRESSIONS)
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())  # check_sample records hypothesis notes: it runs inside a test
def test_op_regression(op_id, dtype, sample, catalogued, hypothesis_context):
    """A pinned falsifying example through the property test's own check_sample (see REGRESSIONS)."""
    info = by_id(op_id)
    known = known_differences(info, dtype)
    if catalogued is None:
        check_sample(info, dtype, sample, known)
        return
    assert catalogued in [d.id for d in known], f"{catalogued} does not select op:{op_id}:{dtype}"
    assert NARROWS[catalogued] and NARROWS[catalogued] <= narrowed(known)
    with pytest.raises(EquivalenceMismatch):
        check_sample(info, dtype, sample, known)


# >= 100 examples: the wide (thorough) shapes, 4-d up to 16**4; no shrinking (a shape too large is the whole story)
@settings(max_examples=100, database=None, deadline=None, phases=(Phase.explicit, Phase.generate))
@given(data=st.data())
def test_transpose_unique_samples_fit(data):
    """thorough seed 1: tests/test_grads.py draws every op with all edge kinds but 'negative' avoided, so arrays are
    unique, and transpose's 4-d shape (6, 8, 11, 16) asked hypothesis for 8448 distinct floats: InvalidArgument
    ('min_size is larger than Hypothesis supports'). Its shape is now fitted to strategies.MAX_UNIQUE_SIZE."""
    sample = data.draw(by_id("transpose").grad_samples("float32", EDGE_KINDS - {"negative"}), label="sample")
    x = sample.args[0]
    assert x.size <= MAX_UNIQUE_SIZE and np.unique(x).size == x.size
    assert fit_shape((6, 8, 11, 16), MAX_UNIQUE_SIZE, 0) == (6, 4, 5, 4)
