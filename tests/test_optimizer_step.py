"""Every optimizer configuration of OPTIMIZER_DB: per-step updates match each side's float64 rule and each other."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from equivalence.catalog.optimizers import OPTIMIZER_DB
from equivalence.compare import EquivalenceMismatch, compare, describe
from equivalence.tolerances import Tolerance
from equivalence.training import (keras_param_trajectory, ref_param_trajectory, torch_param_trajectory,
                                  update_tolerance, updates)

pytestmark = pytest.mark.optim
STEPS = 5


@st.composite
def gradients(draw, scale: float):
    """(STEPS, n) float32 gradients: zeros, tiny and large magnitudes (relative to `scale`) of both signs."""
    n = draw(st.integers(1, 6), label="n_params")
    magnitude = st.one_of(st.just(0.0), st.floats(1e-3, 10.0)).map(lambda m: np.float32(m * scale))
    elems = st.tuples(magnitude, st.sampled_from([-1.0, 1.0])).map(lambda ms: float(ms[0] * ms[1]))
    return draw(hnp.arrays(np.float32, (STEPS, n), elements=elems), label="grads")


@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in OPTIMIZER_DB])
@given(data=st.data())
def test_optimizer_step_matches(info, data):
    """Updates of Keras and torch each follow their framework's float64 rule; cross configurations also agree."""
    grads = data.draw(gradients(info.grad_scale))
    p0 = data.draw(hnp.arrays(np.float32, grads.shape[1:], elements=st.floats(-1, 1, width=32)), label="p0")
    tf_up = updates(keras_param_trajectory(info, p0, grads))
    torch_up = updates(torch_param_trajectory(info, p0, grads))
    ref_tf = updates(ref_param_trajectory(info.ref_tf(info.hyper), p0, grads))
    ref_torch = updates(ref_param_trajectory(info.ref_torch(info.hyper), p0, grads))
    p_max = float(np.abs(p0).max()) + float(np.abs(ref_tf).sum(0).max())  # bound on |p| along the trajectory
    tol_tf = update_tolerance(p_max, STEPS, info.ulps, info.keras_cond)
    tol_torch = update_tolerance(p_max, STEPS, info.ulps)
    ctx = "\n".join([describe("p0", p0), describe("grads", grads), f"  mapping: {info.mapping}",
                     "  rows are steps: update[t] = p[t+1] - p[t]"])
    checks = [compare(tf_up, ref_tf, tol_tf, what=f"{info.id} updates", label_a="tf", label_b="ref64_keras_rule", context=ctx),
              compare(torch_up, ref_torch, tol_torch, what=f"{info.id} updates", label_a="torch", label_b="ref64_torch_rule",
                      context=ctx)]
    if info.cross:
        both = Tolerance(tol_tf.atol + tol_torch.atol, tol_tf.rtol + tol_torch.rtol, "sum of both sides' tolerances")
        checks.append(compare(tf_up, torch_up, both, what=f"{info.id} updates", label_a="tf", label_b="torch",
                              context=ctx))
    failed = [c.render() for c in checks if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))
