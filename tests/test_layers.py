"""Layer conformance: every LAYER_DB case, and hypothesis-random specs, agree across TF, torch and float64."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from equivalence import assert_close, compare
from equivalence.catalog.layers import CASES, LAYER_DB
from equivalence.checks import check_layer, check_model
from equivalence.checks.models import check_forward
from equivalence.models import build_pair
from equivalence.spec import KINDS, layer, ModelSpec
from equivalence.strategies_spec import MODEL_FAMILIES, model_inputs, model_specs
from equivalence.tolerances import tolerance

pytestmark = pytest.mark.layers


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.id}-float32") for c in CASES])
def test_layer_forward_matches(case):
    """Each catalogued layer case gives the same forward pass in TF, torch and the float64 reference, in
    inference mode and, where it is deterministic (no dropout with rate > 0), in training mode."""
    check_layer(case)


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1 of a tensor of shape:UserWarning")
@pytest.mark.parametrize("family", MODEL_FAMILIES)
@given(data=st.data())
def test_model_forward_matches_random_spec(family, data):
    """Random valid specs of each family agree on random inputs, in inference and (when deterministic) training."""
    spec = data.draw(model_specs(family), label="spec")
    x = data.draw(model_inputs(spec), label="x")
    check_model(build_pair(spec, seed=data.draw(st.integers(0, 2**16), label="weight_seed")), x)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES if c.kind == "batch_norm"])
def test_batch_norm_training_updates_moving_stats(case):
    """One training forward moves the statistics by each framework's own rule: same mean, variance biased
    (Keras) vs unbiased (torch), with torch momentum = 1 - Keras momentum (difference bn-running-var-unbiased)."""
    pair = build_pair(case.spec, seed=0)
    x = pair.sample_input(seed=1)
    pair.forward_tf(x, training=True)
    pair.forward_torch(x, training=True)
    got = pair.read_weights()
    name, m = case.spec.layers[0].name, case.spec.layers[0]["momentum"]
    old = pair.weights[name]
    axes = tuple(range(x.ndim - 1))
    x64, n = x.astype(np.float64), x.size // x.shape[-1]
    mean, var = x64.mean(axis=axes), x64.var(axis=axes)
    expect = {"tf": var, "torch": var * n / (n - 1)}
    tol = tolerance("float32", depth=n, scale=float(np.abs(expect["torch"]).max()), reason="moments over the batch")
    for side in ("tf", "torch"):
        assert_close(got[side][name]["moving_mean"], m * old["moving_mean"] + (1 - m) * mean, tol,
                     what=f"{case.id} moving_mean after 1 step", label_a=side, label_b="ref64")
        assert_close(got[side][name]["moving_variance"], m * old["moving_variance"] + (1 - m) * expect[side], tol,
                     what=f"{case.id} moving_variance after 1 step", label_a=side, label_b="ref64")


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_dropout_training_is_inverted_scaling(rate):
    """Training-mode dropout keeps each element as x / (1 - rate) or zeroes it, on both sides, at about `rate`."""
    pair = build_pair(ModelSpec("dropout", (4000,), (layer("dropout", rate=rate),)), seed=0)
    x = pair.sample_input(seed=1, batch=2) + np.float32(5.0)  # never 0, so zeros are dropped elements
    for side, y in (("tf", pair.forward_tf(x, True)), ("torch", pair.forward_torch(x, True))):
        kept = y != 0
        assert_close(y[kept], x[kept] / np.float32(1 - rate), tolerance("float32"), what=f"dropout kept ({side})",
                     label_a=side, label_b="x/(1-rate)")
        # 8000 Bernoulli draws: the dropped fraction's sd is <= 0.0056, so 0.03 is > 5 sd.
        assert abs(1 - kept.mean() - rate) < 0.03, f"{side} dropped {1 - kept.mean():.3f}, but rate is {rate}"


def test_layer_db_covers_every_kind():
    """Every spec layer kind has a LAYER_DB entry, and every catalogue 'layer:' selector names a kind or a run of
    words of a case id (no dangling links: the kind -> entries link is derived from them, differences.for_record)."""
    from equivalence.differences import DIFFERENCES, Selector

    assert sorted(i.name for i in LAYER_DB) == sorted(KINDS)
    words = [c.id.split("-") for c in CASES]
    known = {"-".join(w[i:j]) for w in words for i in range(len(w)) for j in range(i + 1, len(w) + 1)}
    missing = {(d.id, s.name) for d in DIFFERENCES for s in map(Selector.parse, d.applies_to)
               if s.family == "layer" and s.name != "*" and s.name not in known}
    assert not missing, f"catalogue 'layer:' selectors that name no LAYER_DB kind or case: {sorted(missing)}"


def test_mismatch_message_names_layer_spec_and_input():
    """A broken conversion fails with the case id, the spec and the input summary in the message."""
    pair = build_pair(CASES[0].spec, seed=0)
    pair.torch.layers[CASES[0].spec.layers[0].name].core.bias.data += 1e-3
    with pytest.raises(AssertionError) as exc:
        check_forward(pair, pair.sample_input(seed=1), False, CASES[0].id)
    msg = str(exc.value)
    assert "dense-relu forward (inference, float32): torch != ref64" in msg and "input x: Array[(4, 8)" in msg
    assert "dense_0:dense(units=5, activation='relu')" in msg and compare(1.0, 1.0, tolerance("float32")).ok
