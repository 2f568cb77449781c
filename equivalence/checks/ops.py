"""The op check: one drawn sample of an OP_DB record, on one device, against the float64 reference and across.

On the CPU: torch vs reference, TF vs reference, torch vs TF (values, NaN/inf positions, the sign of every zero
the float64 reference makes exactly, result dtype). Where the catalogue documents a disagreement for this op/dtype,
the strategy drops the edge values that entry's witness covers (equivalence.differences.ops.NARROWS), or only the
side it documents stops meeting them (SIDE_NARROWS: TF's flush-to-zero; torch still meets subnormals and is checked
against the reference on them), or the documented per-side result dtype is asserted - never a skip or an xfail.

On an accelerator (`device="cuda"`): each framework's result there against the float64 reference under the same
rule (or the record's per-device override, OpInfo.on_device) and against the same framework on the CPU under
cross() of it; where the CPU side itself misses the reference, the accelerator must match one of the two.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
from hypothesis import currently_in_test_context, note

from ..catalog.opinfo import Sample
from ..catalog.samples import as_reference
from ..compare import EquivalenceMismatch, assert_close, assert_equivalent, compare, to_numpy
from ..differences import lookup
from ..differences.ops import NARROWS, SIDE_NARROWS, zero_sign_owners
from ..sides import side_for
from ..sides.base import as_outputs
from ..strategies import np_dtype
from ..tolerances import Tolerance, cross, dtype_name
from .axes import CPU, device_side, running_on


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


def run_op(info, sample, sides=("tf", "torch")):
    """(tf outputs, torch outputs, reference outputs, TF-semantics reference outputs) of one sample, each a tuple;
    a side not in `sides` is not run (its outputs are None).

    Framework warnings on edge inputs (var of an empty axis, softmax over a size-1 axis) are expected: they are
    kept as hypothesis notes, shown with a falsifying example, instead of filling the run summary.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        torch_out = side_for("torch", CPU).call(info.torch_fn, *sample.args, **sample.kwargs) \
            if "torch" in sides else None
        tf_out = side_for("tf", CPU).call(info.tf_fn, *sample.args, **sample.kwargs) if "tf" in sides else None
    for w in caught:
        note(f"framework warning: {w.category.__name__}: {w.message}")
    if info.ref is None:
        n = len(tf_out or torch_out)
        return tf_out, torch_out, (None,) * n, (None,) * n
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's 'mean of empty slice': the NaN is compared
        ref = as_outputs(info.ref(*(as_reference(a) for a in sample.args), **sample.kwargs))
        tf_ref = as_outputs(info.tf_ref(*sample.args, **sample.kwargs)) if info.tf_ref else (None,) * len(ref)
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




# ---------------------------------------------------------------- the device axis
# Sums whose terms overflow give inf - inf = NaN or +-inf depending on the summation order, which differs between
# CPU and accelerator kernels (seen: bfloat16 batched matmul, NaN on CUDA where float64 gives -inf); float64 does
# not overflow at all. On an accelerator, accumulating ops (those with a depth) are drawn without 'huge'.
ACCELERATOR_AVOID = frozenset({"huge"})


def avoided(info, dtype, known, device: str = CPU, *, grad: bool = False) -> frozenset:
    """Edge kinds the samples of `info` leave out on `device`: the catalogue's (narrowed), plus on an accelerator
    the overflowing sums' and the record's own per-device ones (OpInfo.on_device)."""
    kinds = narrowed(known)
    if device != CPU:
        kinds |= (ACCELERATOR_AVOID if info.depth else frozenset()) | info.device_avoid(device, grad=grad)
    return kinds


def _on_device(fn, framework: str, device: str, args, kwargs) -> tuple:
    return device_side(framework, device).call(fn, *args, **kwargs)


def assert_device_agrees(what, got, expected, cpu, tol, context, device: str = "cuda"):
    """The accelerator matches float64 (and its CPU side) wherever the CPU side matches float64; elsewhere it must
    match one of the two. Where the CPU itself misses float64 (a CPU kernel bug, a formula's rounding, an overflow),
    the CPU check owns that; the device claim is then "right, or what the CPU does"."""
    __tracebackhide__ = True
    to_ref = compare(got, expected, tol, what=what, label_a=device, label_b="ref64", context=context)
    if cpu is None and not to_ref.ok:
        raise EquivalenceMismatch(to_ref.render())
    if cpu is None:
        return
    if compare(cpu, expected, tol, what=what, label_a="cpu", label_b="ref64").ok:
        if not to_ref.ok:
            raise EquivalenceMismatch(to_ref.render())
        assert_close(got, cpu, cross(tol), what=what, label_a=device, label_b="cpu", context=context)
        return
    to_cpu = compare(got, cpu, cross(tol), what=what, label_a=device, label_b="cpu", context=context)
    if not (to_ref.ok or to_cpu.ok):
        raise EquivalenceMismatch(f"{device} matches neither float64 nor the CPU (which also misses float64)\n"
                                  + to_ref.render() + "\n" + to_cpu.render())
    if currently_in_test_context():  # the model checks run outside Hypothesis
        note(f"{what}: the CPU misses float64 here; {device} matches {'float64' if to_ref.ok else 'the CPU'}")


def _check_device_output(info, dtype, sample, i, side, device, cpu_o, dev_o, ref_o):
    """One output on the device: same dtype as on the CPU; against float64 under the op's rule (or its per-device
    override) and against the CPU under cross() of it; ops without a reference against the CPU alone."""
    __tracebackhide__ = True
    what, out_dtype = f"{info.id}[{dtype}] output{i} ({side} on {device})", dtype_name(cpu_o.dtype)
    assert dtype_name(dev_o.dtype) == out_dtype, f"{what}: result dtype {dev_o.dtype} on {device}, {cpu_o.dtype} " \
                                                 "on the CPU"
    if ref_o is None:
        expected = to_numpy(cpu_o)
        assert_close(dev_o, expected, cross(info.tolerance(out_dtype, sample, expected)), what=what,
                     label_a=device, label_b="cpu", context=sample.describe())
        return
    expected = _rounded_reference(ref_o, out_dtype)
    tol = info.device_tolerance(device, dtype, sample, expected) or info.tolerance(out_dtype, sample, expected)
    assert_device_agrees(what, dev_o, expected, cpu_o, tol, sample.describe(), device)


def check_sample_on_device(info, dtype, sample, device: str) -> None:
    """Every framework that runs on `device`, on one sample: against float64 and against itself on the CPU; where
    the record says the device lacks the kernel (OpInfo.on_device), the documented error instead."""
    __tracebackhide__ = True
    note(sample.describe())
    for side in running_on(device):
        fn = info.torch_fn if side == "torch" else info.tf_fn
        unsupported = info.device_unsupported(device, dtype, side)
        if unsupported and all(np.size(a) for a in sample.args):  # empty operands return before the kernel
            error, message = unsupported
            try:
                _on_device(fn, side, device, sample.args, sample.kwargs)
            except error as exc:
                assert re.search(message, str(exc)), f"{info.id}[{dtype}] on {device}: {exc!r}, documented {message!r}"
                continue
            raise AssertionError(f"{info.id}[{dtype}] ran on {device} ({side}), documented as raising "
                                 f"{error.__name__}: {message!r} (OpInfo.on_device): remove the override")
        cpu = run_op(info, sample, sides=(side,))
        cpu_out, ref = (cpu[0] if side == "tf" else cpu[1]), cpu[2]
        dev_out = _on_device(fn, side, device, sample.args, sample.kwargs)
        for i, (c, g, r) in enumerate(zip(cpu_out, dev_out, ref)):
            _check_device_output(info, dtype, sample, i, side, device, c, g, r)


def check_op(info, dtype, sample, known=None, device: str = CPU) -> None:
    """The op verdict for one sample on one device (the one entry point the tests call)."""
    __tracebackhide__ = True
    known = known_differences(info, dtype) if known is None else known
    if device == CPU:
        check_sample(info, dtype, sample, known)
    else:
        check_sample_on_device(info, dtype, sample, device)
