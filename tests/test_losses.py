"""Every loss x reduction of LOSS_DB: Keras and torch agree with each other and with a float64 reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from equivalence.catalog.traininfo import LossSample
from equivalence.catalog.losses import LOSS_DB, reduce_ref
from equivalence.checks import check_loss
from equivalence.checks.losses import run_both

pytestmark = pytest.mark.losses

CASES = [pytest.param(info, red, id=f"{info.id}-{red}") for info in LOSS_DB for red in info.reductions]


@pytest.mark.parametrize("info, reduction", CASES)
@given(data=st.data())
def test_loss_matches(info, reduction, data):
    """Keras and torch give the float64 reference's loss, per sample and reduced, for drawn inputs."""
    check_loss(info, reduction, data.draw(info.samples(), label="sample"))


# Falsifying examples found by `thorough`, pinned: (loss id, reduction, sample).
REGRESSIONS = [
    pytest.param("binary_crossentropy-from_probs", "mean",
                 LossSample(np.zeros((1, 2), np.float32), np.full((1, 2), 0.006692850962281227, np.float32)),
                 id="binary_crossentropy-from_probs-mean-small-p"),
]


@pytest.mark.parametrize("loss_id, reduction, sample", REGRESSIONS)
def test_loss_regression(loss_id, reduction, sample):
    """A pinned falsifying example through the property test's own check (see REGRESSIONS)."""
    check_loss(next(i for i in LOSS_DB if i.id == loss_id), reduction, sample)


@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in LOSS_DB if i.weighting])
@given(data=st.data())
def test_loss_weights_scale_per_sample_values(info, data):
    """Weighted 'none' output is the unweighted per-sample loss times each sample's (or label's) weight."""
    sample = data.draw(info.samples(), label="sample")
    weighted = run_both(info, sample, "none")
    plain = run_both(info, type(sample)(sample.y_true, sample.y_pred, None), "none")
    w = reduce_ref(info, np.ones(len(sample.y_pred)), sample.weight, "none", sample.y_true)
    for side, (a, b) in zip(("tf", "torch"), zip(weighted, plain)):
        # One float32 product (loss * weight, weight cast to float32): <= 1 ulp each; 4e-7 = ~3.4 u.
        np.testing.assert_allclose(np.asarray(a), np.asarray(b) * w, rtol=4e-7, atol=0,
                                   err_msg=f"{info.id} {side}: weights must multiply the per-sample loss exactly")
