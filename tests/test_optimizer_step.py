"""Every optimizer configuration of OPTIMIZER_DB, on every device: per-step updates match each side's float64 rule
and each other (on an accelerator: torch's float64 rule and torch on the CPU). The verdict: equivalence.checks.steps."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from equivalence.catalog.optimizers import OPTIMIZER_DB
from equivalence.checks import CPU, check_step, on_devices, require_device
from equivalence.training import TYPICAL_UPDATE_CASE

pytestmark = pytest.mark.optim
STEPS = 5


@st.composite
def cases(draw):
    """(grads, p0): (STEPS, n) gradients in units of the optimizer's grad_scale (zeros, tiny and large magnitudes of
    both signs) and float32 starting parameters in [-1, 1]. Scaled in the test, so examples serve every config."""
    n = draw(st.integers(1, 6), label="n_params")
    magnitude = st.one_of(st.just(0.0), st.floats(1e-3, 10.0))
    elems = st.tuples(magnitude, st.sampled_from([-1.0, 1.0])).map(lambda ms: ms[0] * ms[1])
    grads = draw(hnp.arrays(np.float64, (STEPS, n), elements=elems), label="grads")
    # |p| >= 1e-6 or exactly 0, like the gradients' magnitudes: Adam-family state squares the gradient, and with
    # weight decay the gradient is wd * p. Found by `thorough`: p0 = 1e-45 (subnormal) with zero gradients, where
    # torch's float32 wd * p underflows to 0 and Adam stands still while the float64 rule normalises a 1e-46
    # gradient and moves p by 4e-3; at the smallest normal p (1.2e-38) g^2 still underflows float32 (below 1e-38
    # once |g| < 1e-19) and the trajectories part by 5e-5 relative. float32 cannot express the rule there.
    magnitude = st.one_of(st.just(0.0), st.floats(float(np.float32(1e-6)), 1.0, width=32))
    signed = st.tuples(magnitude, st.sampled_from([-1.0, 1.0])).map(lambda ms: ms[0] * ms[1])
    p0 = draw(hnp.arrays(np.float32, (n,), elements=signed), label="p0")
    return grads, p0


# Found by the random `dev` profile: p0 = 0 and gradients ~ -3e-6 (rmsprop-defaults and adagrad-defaults, whose
# grad_scale is 1e-6): torch's p reached 0.097 while the Keras trajectory stayed ~1e-5; the bound takes each
# side's storage rounding from its own trajectory.
P0_ZERO_TINY_GRADS = (np.array([[0.0], [0.0], [0.0], [-3.0], [-0.03125]]), np.zeros(1, np.float32))
# The domain's edge (see cases): |p0| = 1e-6 with zero gradients, where weight decay alone drives Adam.
P0_EDGE_WEIGHT_DECAY_ONLY = (np.zeros((5, 1)), np.array([1e-6], np.float32))
# Found by `thorough` (seed 11): p0 = 1e-6, one gradient 1e-3 at step 3 (adam-weight_decay): the first steps turn p
# negative, so torch's L2 g + wd*p cancels the gradient; the bound's magnitude run reads |p| in the decay term.
L2_DECAY_CANCELS_GRADIENT = (np.array([[0.0], [0.0], [1e-3], [0.0], [0.0]]), np.array([1e-6], np.float32))
# Found by `thorough` (AVX2 setting, seed 12): the same one step earlier, where g + wd*p = 1e-3 - 0.99e-3 cancels
# to 1e-7 and Adam normalises it: float32's rounding of the sum reached the update 2.3x over the bound before the
# L2 rounding term (training.l2_rounding_bound).
L2_SUM_CANCELS_BEFORE_ADAM = (np.array([[0.0], [1e-3], [0.0], [0.0], [0.0]]), np.array([1e-6], np.float32))
# Found by `thorough` (AVX2 setting, seed 12): p0 = 1 rises above 1.0 and falls back (adamw-defaults, Keras): the
# decayed p - p*wd*lr rounds in the binade above 1.0 while p_t lies below it (the stored term's larger ulp).
P_CROSSES_ONE = (np.array([[0.0], [-0.5], [1.0], [0.0], [0.0]]), np.array([1.0], np.float32))
# Found by `thorough` (AVX2 setting, seed 15): sgd-weight_decay (Keras) with p falling from 0.73 to -0.003, whose
# earlier roundings reached a pure decay step through wd*lr*p (the reference now steps from the side's own p).
P_FALLS_THROUGH_BINADES = (np.array([[1.75], [5.5], [0.0], [0.0], [0.0]]), np.array([0.734375], np.float32))
TYPICAL = TYPICAL_UPDATE_CASE  # gradients that grow, shrink and cancel; p0 at 0 and ~1 (mutation tests use it)


@pytest.mark.parametrize("info,device", on_devices([pytest.param(i, id=i.id) for i in OPTIMIZER_DB]))
@given(case=cases())
@example(case=TYPICAL)
@example(case=P0_ZERO_TINY_GRADS)
@example(case=P0_EDGE_WEIGHT_DECAY_ONLY)
@example(case=L2_DECAY_CANCELS_GRADIENT)
@example(case=L2_SUM_CANCELS_BEFORE_ADAM)
@example(case=P_CROSSES_ONE)
@example(case=P_FALLS_THROUGH_BINADES)
def test_optimizer_step_matches(info, device, case):
    """Updates of Keras and torch each follow their framework's float64 rule; cross configurations also agree."""
    if device != CPU:
        require_device(device, ("torch",))
    unit_grads, p0 = case
    check_step(info, p0, (unit_grads * info.grad_scale).astype(np.float32), device)
