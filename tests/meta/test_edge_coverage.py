"""The op tests draw what they promise: edge mode meets every edge kind in every case, ci's examples are each
case's own, and no case spends more than one of them on an empty array (issue 12).

Every check runs the real test of tests/test_ops.py, seeded by the root conftest's own hook, with check_sample
replaced by a recorder: the draws measured are the draws a run makes, and no framework runs.
"""
from __future__ import annotations

import pathlib
import sys
import types

import numpy as np
import pytest
from hypothesis import settings

from equivalence import strategies as S
from equivalence.catalog.samples import as_reference

pytestmark = pytest.mark.meta

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))  # tests/, as pytest's rootdir-relative import does
import test_ops  # noqa: E402  (its known_differences/narrowed and its tests, not copies)

# Kinds a sample builder keeps out of its arrays whatever the case (the builder's comment says why); the edge
# sample must hold every other kind its catalogue narrowing leaves, and none of these (else this table is stale).
BY_DESIGN = {
    **dict.fromkeys(("sum", "mean", "cumsum"), {"huge"}),  # ops_reduction: order-dependent overflow of sums
    **dict.fromkeys(("prod", "cumprod"), {"huge", "inf", "tiny", "subnormal"}),  # ops_reduction: _PROD_AVOID
    **dict.fromkeys(("matmul", "einsum", "tensordot"), {"huge"}),  # ops_linalg._operands: contractions
    **dict.fromkeys(("conv1d", "conv2d", "avg_pool2d"), {"huge"}),  # ops_nn: windows summed
    **dict.fromkeys(("layer_norm", "batch_norm"), {"huge", "inf", "nan"}),  # ops_nn._NN_EDGES
    "scaled_dot_product_attention": {"huge", "inf", "nan"},  # ops_attention._AVOID
    "one_hot": {"huge", "negative"},  # its only array holds indices in [0, depth)
}


def _kinds(a) -> set:
    """The edge kinds (strategies.EDGE_KINDS) present among the elements of one array, classified one by one."""
    a = np.asarray(a)
    if a.dtype.kind == "b" or a.size == 0:
        return set()
    if a.dtype.kind in "iu":
        v = a.astype(np.int64).ravel()
        found = {"zero": v == 0, "negative": v < 0, "huge": np.abs(v) >= np.sqrt(np.iinfo(a.dtype).max)}
        return {k for k, hit in found.items() if hit.any()} | ({"ties"} if np.unique(v).size < v.size else set())
    info, f = S._finfo(a.dtype.name), a.astype(np.float64).ravel()
    mag, smallest, finite = np.abs(f), float(info.smallest_normal), f[np.isfinite(f)]
    found = {"zero": (f == 0) & ~np.signbit(f), "negzero": (f == 0) & np.signbit(f), "nan": np.isnan(f),
             "inf": np.isinf(f), "huge": np.isfinite(f) & (mag >= np.sqrt(float(info.max))),  # squares overflow
             "tiny": (mag >= smallest) & (mag < np.sqrt(smallest)),  # squares underflow
             "subnormal": (mag > 0) & (mag < smallest), "half": np.mod(np.abs(finite), 1) == 0.5, "negative": f < 0}
    ties = np.unique(finite).size < finite.size
    return {k for k, hit in found.items() if hit.any()} | ({"ties"} if ties else set())


def _kinds_of(dtype: str) -> set:
    """The value kinds `dtype` has: those whose removal changes its edge values ('empty' is a shape kind)."""
    every = len(S.edge_values(dtype))
    return {k for k in S.EDGE_KINDS - {"empty"} if len(S.edge_values(dtype, avoid={k})) < every}


def _root_conftest(config):
    """The root conftest module, whose pytest_runtest_call hook seeds each case."""
    path = config.rootpath / "conftest.py"
    return next(p for p in config.pluginmanager.get_plugins() if getattr(p, "__file__", None) == str(path))


def _draws(request, monkeypatch, test, info, dtype) -> list:
    """The samples `test` (of tests/test_ops.py) draws for one case in a run of the active profile: seeded by the
    root conftest's hook for that case's node id, check_sample recording instead of comparing."""
    nodeid = f"{pathlib.Path(test_ops.__file__).relative_to(request.config.rootpath).as_posix()}::" \
             f"{test.__name__}[{info.id}-{dtype}-cpu]"
    seen = []
    with monkeypatch.context() as m:
        for attr in ("_hypothesis_internal_use_seed", "_hypothesis_internal_use_settings", "_seeded_per_case"):
            m.setattr(test, attr, getattr(test, attr, None), raising=False)  # restored afterwards
        m.setattr(test_ops, "check_op", lambda info, dtype, sample, known, device: seen.append(sample))
        _root_conftest(request.config).pytest_runtest_call(
            types.SimpleNamespace(obj=test, nodeid=nodeid, config=request.config))
        test(info=info, dtype=dtype, device="cpu")
    return seen


def _windows(info, sample) -> tuple:
    """Output positions per spatial dim of a convolution or pooling sample (from the float64 reference)."""
    with np.errstate(all="ignore"):  # NaN and inf inputs
        out = info.ref(*(as_reference(a) for a in sample.args), **sample.kwargs)
    return tuple(np.shape(out)[1:-1])


OP_FAMILIES_DRAWN = sorted({p.values[0].family for p in test_ops.CASES})  # op families with test_ops cases


def _cases(family: str) -> list:
    """(info, dtype) of every case of tests/test_ops.py in one op family (one test item per family: the draws
    are measured case by case, without a test item's setup each)."""
    return [p.values for p in test_ops.CASES if p.values[0].family == family]


def _edge_gaps(info, dtype, sample) -> list:
    """What the edge sample of one case misses (empty when it meets all the case promises)."""
    by_design = BY_DESIGN.get(info.name, set())
    narrowed = test_ops.narrowed(test_ops.known_differences(info, dtype))
    want = _kinds_of(dtype) - S.kinds_left_out(narrowed | by_design)
    met = set().union(*(_kinds(a) for a in sample.args if np.asarray(a).dtype == S.np_dtype(dtype)))
    gaps = [f"lacks {sorted(want - met)}"] if want - met else []
    gaps += [f"holds {sorted(by_design & met)}: BY_DESIGN[{info.name!r}] is stale"] if by_design & met else []
    gaps += ["has an empty array"] if not all(np.size(a) for a in sample.args) else []
    if info.depth is not None and info.depth(sample) < 2:
        gaps.append(f"contracts over {info.depth(sample)} < 2 terms")
    if sample.desc in ("conv", "pool") and min(_windows(info, sample)) < 2:
        gaps.append(f"slides {_windows(info, sample)} windows")
    if sample.desc in ("gather", "take_along"):
        x, idx = sample.args
        gaps += ["leaves elements unpicked"] if np.unique(idx).size < x.shape[sample.kwargs["axis"]] else []
    return [f"{info.id}[{dtype}] {g} (narrowed: {sorted(narrowed)}; {sample!r})" for g in gaps]


@pytest.mark.parametrize("family", OP_FAMILIES_DRAWN)
def test_edge_samples_meet_every_edge_kind(family, request, monkeypatch):
    """The edge test's sample of every case holds each edge kind the case does not leave out (catalogue narrowing,
    BY_DESIGN), no empty array, and contracts over K >= 2, slides several windows and picks every index."""
    gaps = [gap for info, dtype in _cases(family) for gap in _edge_gaps(
        info, dtype, *_draws(request, monkeypatch, test_ops.test_op_matches_on_edge_values, info, dtype))]
    assert not gaps, "\n".join(gaps)


@pytest.mark.parametrize("family", OP_FAMILIES_DRAWN)
def test_ci_draws_at_most_one_empty_example_per_case(family, request, monkeypatch):
    """Under a derandomized profile (ci) every case meets the 'empty' kind in one example at most (its first):
    the others hold values."""
    if not settings.default.derandomize:
        pytest.skip(f"measures a derandomized profile's draws; {settings.get_current_profile_name()} is random")
    worst = []
    for info, dtype in _cases(family):
        samples = _draws(request, monkeypatch, test_ops.test_op_matches, info, dtype)
        empty = [s for s in samples if any(np.size(a) == 0 for a in s.args)]
        if len(empty) > 1:
            worst.append(f"{info.id}[{dtype}]: {len(empty)} of {len(samples)} examples are empty: {empty}")
    assert not worst, "\n".join(worst)


def test_ci_cases_draw_their_own_examples(request, monkeypatch):
    """Cases sharing a sample builder and dtype (the unary float32 ops) draw different examples: each case is
    seeded for itself, not from one stream per test function."""
    cases = [(info, dtype) for info, dtype in _cases("elementwise") if dtype == "float32"]
    draws = {info.id: repr([s.describe() for s in _draws(request, monkeypatch, test_ops.test_op_matches, info,
                                                         dtype)]) for info, dtype in cases}
    shared = len(draws) - len(set(draws.values()))
    assert len(cases) > 10 and not shared, f"{shared} of {len(cases)} unary float32 cases repeat another's examples"
