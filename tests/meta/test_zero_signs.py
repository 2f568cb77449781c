"""The op tests see the sign of zero and subnormals (issue 12, items 4 and 5).

compare() measures |a - b|, blind to -0.0 vs +0.0, so tests/test_ops.py checks zero signs on its own: these tests
inject a flipped zero and a flushing torch and require check_sample to fail. TF's flush-to-zero is documented for
the TF side only (SIDE_NARROWS): torch's samples must still hold subnormals, counted from the drawn arrays.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from equivalence import runtime
from equivalence.catalog.opinfo import Sample
from equivalence.catalog.ops import OP_DB, by_id
from equivalence.checks import ops as op_check  # the op tests' own assertion path, not a copy
from equivalence.compare import EquivalenceMismatch
from equivalence.differences import DIFFERENCES
from equivalence.differences.entry import ByPlatform
from equivalence.differences.ops import NARROWS, SIDE_NARROWS, ZERO_SIGNS
from equivalence.strategies import EDGE_KINDS, FLOAT_DTYPES, edge_cases

pytestmark = pytest.mark.meta


FLOAT_CASES = [pytest.param(info, d, id=f"{info.id}-{d}") for info in OP_DB for d in info.dtypes if d in FLOAT_DTYPES]
# Sample builders that keep subnormals out whatever the catalogue says (the builder's comment says why).
BUILDER_AVOIDS = {"prod": "ops_reduction._PROD_AVOID: products under/overflow part-way in an unspecified order",
                  "cumprod": "ops_reduction._PROD_AVOID: products under/overflow part-way in an unspecified order"}
# Edge mode fixes the arrays (every edge value of the dtype the case does not leave out), so a few draws decide it.
_SEARCH = settings(max_examples=5, database=None, derandomize=True, deadline=None, phases=(Phase.generate,))


def _has_subnormal(sample: Sample, dtype: str) -> bool:
    for a in map(np.asarray, sample.args):
        if a.dtype.name == dtype and a.size:
            wide = np.abs(a.astype(np.float64))
            if ((wide > 0) & (wide < op_check._smallest_normal(a.dtype))).any():
                return True
    return False


def test_side_narrowings_are_catalogue_entries_with_views():
    """SIDE_NARROWS and ZERO_SIGNS name catalogue entries; every kind a side leaves out has a view of the sample."""
    ids = {d.id for d in DIFFERENCES}
    assert set(SIDE_NARROWS) <= ids and set(ZERO_SIGNS) <= ids
    for entry, owners in ZERO_SIGNS.items():  # a set, or a ByPlatform of sets and None (owns nothing there)
        per_platform = [v for _, v in owners.variants()] if isinstance(owners, ByPlatform) else [owners]
        assert all(v is None or v <= {"tf", "torch"} for v in per_platform), entry
        assert any(v is not None for v in per_platform), f"{entry}: owns no zero sign on any platform"
    for entry, sides in SIDE_NARROWS.items():
        assert set(sides) <= {"tf", "torch"} and all(kinds <= EDGE_KINDS for kinds in sides.values()), entry
        assert all(kinds <= set(op_check.SIDE_VIEWS) for kinds in sides.values()), f"{entry}: no SIDE_VIEWS entry"
    assert "subnormal" not in set().union(*NARROWS.values()) - set(NARROWS["mod-float-overflowing-quotient"])


@pytest.mark.parametrize("info,dtype", FLOAT_CASES)
def test_torch_side_draws_subnormals(info, dtype):
    """Every float op case draws subnormal inputs for torch (in the edge-mode sample of its strategy), unless a
    catalogue entry leaves them out on torch's side (NARROWS, or SIDE_NARROWS['torch']) or its builder does by
    design (BUILDER_AVOIDS)."""
    known = op_check.known_differences(info, dtype)
    owners = [d.id for d in known if "subnormal" in NARROWS.get(d.id, frozenset()) | SIDE_NARROWS.get(d.id, {})
              .get("torch", frozenset())]
    # an entry keeping ties out keeps subnormals out too: a side's flushed view would tie them (op_check.narrowed)
    owners += [d.id for d in known if "ties" in NARROWS.get(d.id, frozenset()) and "subnormal" in
               op_check.TIE_MAKING_VIEWS]
    try:
        with edge_cases():  # the builders read the mode when they build their strategies
            find(info.samples(dtype, op_check.narrowed(known)), lambda s: _has_subnormal(s, dtype), settings=_SEARCH)
    except NoSuchExample:
        assert owners or info.name in BUILDER_AVOIDS, \
            f"{info.id}[{dtype}]: no subnormal in its edge samples, and no entry narrows torch's side"
    else:
        assert not owners and info.name not in BUILDER_AVOIDS, \
            f"{info.id}[{dtype}] draws subnormals although {owners or BUILDER_AVOIDS[info.name]} leaves them out"


def _with_torch(info, wrap):
    """`info` with its torch callable wrapped: the mutated framework a test must catch."""
    return dataclasses.replace(info, torch_fn=wrap(info.torch_fn))


def _negative_zeros(fn):
    """torch results with every +0.0 turned into -0.0 (a sum that starts from -0.0)."""
    def call(*args, **kwargs):
        out = fn(*args, **kwargs)
        return runtime.torch().where(out == 0, runtime.torch().full_like(out, -0.0), out)
    return call


def _flushing(fn):
    """torch computing with flush-to-zero and denormals-are-zero set, only around the op (hypothesis refuses FTZ)."""
    def call(*args, **kwargs):
        runtime.torch().set_flush_denormal(True)
        try:
            return fn(*args, **kwargs)
        finally:
            runtime.torch().set_flush_denormal(False)
    return call


@pytest.mark.parametrize("op_id,sample", [
    pytest.param("sum", Sample((np.array([1.0, -1.0], np.float32),), {"axis": None, "keepdims": False}, "reduce"),
                 id="sum-cancelling"),
    pytest.param("neg", Sample((np.array([0.0, -0.0, 2.0], np.float32),), {}, "unary"), id="neg-zeros"),
])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())  # check_sample records hypothesis notes: it runs inside a test
def test_flipped_zero_sign_is_caught(op_id, sample, hypothesis_context):
    """A torch op returning -0.0 where the reference's exact zero is +0.0 fails check_sample, naming the sign."""
    info = _with_torch(by_id(op_id), _negative_zeros)
    flipped = r"sign of zero differs: torch=np.float32\(-0.0\) where float64 ref=np.float64\(0.0\)"
    with pytest.raises(EquivalenceMismatch, match=flipped):
        op_check.check_sample(info, "float32", sample, op_check.known_differences(info, "float32"))


def _positive_zeros(fn):
    """torch results with every -0.0 turned into +0.0 (as oneDNN's AVX2 gelu kernel does)."""
    def call(*args, **kwargs):
        out = fn(*args, **kwargs)
        return runtime.torch().where(out == 0, runtime.torch().zeros_like(out), out)
    return call


@pytest.mark.parametrize("isa,caught", [("AVX512", True), ("AVX2", False), ("SSE41", False)])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_gelu_zero_sign_left_to_the_witness_only_where_documented(isa, caught, hypothesis_context):
    """gelu-onednn-zero-sign owns torch's gelu zero signs only on the oneDNN ISAs whose kernel gives +0.0: on an
    AVX-512 platform a torch gelu turning -0.0 into +0.0 still fails check_sample."""
    from equivalence import platform

    here = platform.observed_conditions()
    info = _with_torch(by_id("gelu-exact"), _positive_zeros)
    sample = Sample((np.array([-0.0, 1.0, -8.5e37, -0.0], np.float32),), {}, "unary")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(platform, "observed_conditions", lambda: {**here, "onednn_cpu_isa": isa})
        known = op_check.known_differences(info, "float32")
        assert "gelu-onednn-zero-sign" in [d.id for d in known]
        if caught:
            with pytest.raises(EquivalenceMismatch, match=r"sign of zero differs: torch=np.float32\(0.0\)"):
                op_check.check_sample(info, "float32", sample, known)
        else:
            op_check.check_sample(info, "float32", sample, known)


@pytest.mark.parametrize("capability,caught", [("DEFAULT", True), ("AVX2", False), ("AVX512", False)])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_batch_norm_zero_sign_left_to_the_witness_only_where_torch_fuses(capability, caught, hypothesis_context):
    """torch-batch-norm-fma-zero-sign owns TF's batch-norm zero signs against torch's only where torch's kernel
    fuses (AVX2, AVX-512): on the scalar kernel's platform a torch batch_norm turning +0.0 into -0.0 still fails
    check_sample (the reference's sign is not asserted for this op: OpInfo.zero_sign)."""
    from equivalence import platform

    here = platform.observed_conditions()
    info = _with_torch(by_id("batch_norm-inference"), _negative_zeros)
    # gamma 0, beta +0: every kernel, fused or not, gives +0.0 on the first feature
    sample = Sample(tuple(np.array(v, np.float32) for v in ([[1.5, 2.0]], [0.5, 1.0], [1.0, 1.0], [0.0, 0.5],
                                                           [0.0, 0.25])), {}, "batch_norm")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(platform, "observed_conditions", lambda: {**here, "torch_cpu_capability": capability})
        known = op_check.known_differences(info, "float32")
        assert "torch-batch-norm-fma-zero-sign" in [d.id for d in known]
        if caught:
            with pytest.raises(EquivalenceMismatch, match=r"sign of zero differs: tf=np.float32\(0.0\) where "
                                                          r"torch=np.float32\(-0.0\)"):
                op_check.check_sample(info, "float32", sample, known)
        else:
            op_check.check_sample(info, "float32", sample, known)


@pytest.mark.parametrize("op_id,args", [
    pytest.param("sign", (np.array([1e-45, -3e-45, 1.0], np.float32),), id="sign"),
    pytest.param("mul", (np.array([1e-45, 2.0], np.float32), np.array([2.0 ** 100, 1.0], np.float32)), id="mul"),
])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_torch_flushing_subnormals_is_caught(op_id, args, hypothesis_context):
    """torch with flush-to-zero fails the torch-alone check on subnormal inputs (TF's own flushing is catalogued
    for TF's side only)."""
    info = _with_torch(by_id(op_id), _flushing)
    sample = Sample(args, {}, "unary" if len(args) == 1 else "same-shape")
    with pytest.raises(EquivalenceMismatch, match=r"\(torch alone, on the sample as drawn\): torch != ref64"):
        op_check.check_sample(info, "float32", sample, op_check.known_differences(info, "float32"))
    op_check.check_sample(by_id(op_id), "float32", sample, op_check.known_differences(info, "float32"))  # unmutated
