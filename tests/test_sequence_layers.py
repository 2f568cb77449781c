"""Sequence kinds with masks: bidirectional, global_avg_pool1d, and Embedding(mask_zero=True) into lstm/gru.

The generic layer tests run their LAYER_DB cases (forward in both modes, the masked text classifier
`bidirectional-text_classifier` among them; tests/test_zoo.py runs the zoo's copy of it through gradients and
optimizer steps); here what is particular to them: the float64 reference ignores the padding the way Keras does,
the bidirectional weight table and gradients, and the torch modules' refusal of a mask they cannot pack.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equivalence import reference, runtime
from equivalence.layer_kinds.recurrent import GRU_TO_TORCH
from equivalence.layer_kinds.sequence import bilstm_text_classifier
from equivalence.spec import ModelSpec, layer
from equivalence.tolerances import eps
from equivalence.weights import from_torch, init_weights, to_torch

pytestmark = pytest.mark.layers

VOCAB, STEPS = 7, 5
# (id, head layer after Embedding(mask_zero=True), what Keras gives at the padded steps of a sequence output)
MASKED_HEADS = [
    pytest.param(layer("lstm", name="head", units=3), None, id="lstm-last"),
    pytest.param(layer("gru", name="head", units=2, return_sequences=True), "repeat", id="gru-sequences"),
    pytest.param(layer("bidirectional", name="head", layer="lstm", units=2, return_sequences=True), "zeros",
                 id="bidirectional-lstm-sequences"),
    pytest.param(layer("bidirectional", name="head", layer="gru", units=2, merge_mode="sum"), None,
                 id="bidirectional-gru-sum-last"),
    pytest.param(layer("global_avg_pool1d", name="head"), None, id="global_avg_pool1d"),
]


def _masked(head, steps: int) -> ModelSpec:
    return ModelSpec("masked", (steps,), (layer("embedding", name="embed", input_dim=VOCAB, output_dim=3,
                                                mask_zero=True), head), "int32")


@pytest.mark.parametrize(("head", "padded"), MASKED_HEADS)
@given(data=st.data())
def test_masked_reference_ignores_padding(head, padded, data):
    """The float64 reference of a right-padded row equals that of its valid prefix alone (Keras' masking: the
    state is kept at masked steps; the backward direction starts at the last valid id); at the padded steps of a
    sequence output it repeats the last valid output (LSTM/GRU) or gives zeros (Bidirectional)."""
    length = data.draw(st.integers(1, STEPS), label="length")
    ids = np.array([data.draw(st.lists(st.integers(1, VOCAB - 1), min_size=length, max_size=length), label="ids")
                    + [0] * (STEPS - length)], np.int32)
    spec = _masked(head, STEPS)
    w = init_weights(spec, seed=data.draw(st.integers(0, 2**16), label="weight_seed"))
    got, alone = reference.forward(spec, w, ids), reference.forward(_masked(head, length), w, ids[:, :length])
    if padded is None:  # a last state, a mean: the mean sums in another order (<= STEPS float64 roundings of ~|y|)
        np.testing.assert_allclose(got, alone, rtol=0, atol=4 * STEPS * eps("float64") * np.abs(alone).max())
        return
    np.testing.assert_array_equal(got[:, :length], alone)  # the same operations on the same values: exact
    rest = got[:, length:]
    np.testing.assert_array_equal(rest, np.zeros_like(rest) if padded == "zeros" else
                                  np.broadcast_to(alone[:, -1:], rest.shape))


def test_masked_reference_differs_from_unmasked():
    """Without mask_zero the same weights and ids give another output: the test above would catch a dropped mask."""
    head = layer("bidirectional", name="head", layer="lstm", units=2)
    ids = np.array([[3, 1, 0, 0, 0]], np.int32)
    spec = _masked(head, STEPS)
    plain = ModelSpec("plain", (STEPS,), (layer("embedding", name="embed", input_dim=VOCAB, output_dim=3), head),
                      "int32")
    w = init_weights(spec, seed=0)
    assert np.abs(reference.forward(spec, w, ids) - reference.forward(plain, w, ids)).max() > 1e-3


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bidirectional_weight_layout(cell):
    """Each direction maps as its cell does: forward_* -> *_l0, backward_* -> *_l0_reverse, kernels transposed,
    GRU gate blocks z,r,h -> r,z,n, LSTM's one bias -> bias_ih + a zero bias_hh; and back exactly."""
    spec = ModelSpec("bi", (4, 3), (layer("bidirectional", name="bi", layer=cell, units=2),))
    w = init_weights(spec, seed=0)
    t = to_torch(spec, w)["bi"]
    order = np.concatenate([np.arange(g * 2, g * 2 + 2) for g in GRU_TO_TORCH]) if cell == "gru" else np.arange(8)
    for direction, suffix in (("forward", ""), ("backward", "_reverse")):
        ours = {k: w["bi"][f"{direction}_{k}"] for k in ("kernel", "recurrent_kernel", "bias")}
        np.testing.assert_array_equal(t[f"weight_ih_l0{suffix}"], ours["kernel"][:, order].T)
        np.testing.assert_array_equal(t[f"weight_hh_l0{suffix}"], ours["recurrent_kernel"][:, order].T)
        bias_ih, bias_hh = (ours["bias"][..., order], np.zeros(8)) if cell == "lstm" else ours["bias"][:, order]
        np.testing.assert_array_equal(t[f"bias_ih_l0{suffix}"], bias_ih)
        np.testing.assert_array_equal(t[f"bias_hh_l0{suffix}"], bias_hh)
    back = from_torch(spec, {"bi": t})["bi"]
    assert sorted(back) == sorted(w["bi"]) and all(np.array_equal(back[k], w["bi"][k]) for k in back)


THOROUGH = settings.get_current_profile_name().startswith("thorough")
# the LSTM case by default: both directions' bias_hh (PlusZero) must get their gradient once; GRU under thorough
GRAD_CELLS = [pytest.param("lstm", "concat", id="lstm-concat")] + (
    [pytest.param("gru", "sum", id="gru-sum")] if THOROUGH else [])


@pytest.mark.parametrize(("cell", "merge_mode"), GRAD_CELLS)
def test_bidirectional_grads_match(cell, merge_mode):
    """Gradients w.r.t. the input and both directions' weights (training mode): TF == torch elementwise, both ==
    float64 central differences of the reference along a random direction (check_model_grad)."""
    from equivalence.checks.grads import check_model_grad
    from equivalence.models import build_pair

    spec = ModelSpec(f"bidirectional_{cell}", (4, 3), (
        layer("bidirectional", layer=cell, units=3, merge_mode=merge_mode), layer("dense", units=2)))
    pair = build_pair(spec, seed=3)
    check_model_grad(pair, pair.sample_input(seed=5, batch=3), seed=7, what=spec.name)


def test_torch_rejects_interior_padding():
    """The torch module packs by length, so a mask that is not right-padded (an id 0 between tokens, which Keras
    skips: catalogue mask-interior-padding) raises a clear error instead of a silently different result."""
    from equivalence.sides.torch_models import build_torch

    torch = runtime.torch()
    module = build_torch(_masked(layer("lstm", name="head", units=2), STEPS))
    with pytest.raises(ValueError, match="right-padded rows"):
        module(torch.tensor([[3, 0, 2, 0, 0]]))
    assert module(torch.tensor([[3, 1, 2, 0, 0]])).shape == (1, 2)


def test_text_classifier_spec_carries_the_mask_to_its_pooling():
    """bilstm_text_classifier(): the embedding's mask reaches the bidirectional LSTM and the mean (pool='mean') or
    ends at the bidirectional's last states (pool='last'); the logits carry none; a bad pool is a SpecError."""
    from equivalence.layer_kinds.sequence import masked_nodes
    from equivalence.spec import SpecError

    mean, last = bilstm_text_classifier(), bilstm_text_classifier(pool="last", cell="gru")
    assert masked_nodes(mean) == {"input": False, "embed": True, "bilstm": True, "pool": False, "logits": False}
    assert masked_nodes(last) == {"input": False, "embed": True, "bilstm": False, "logits": False}
    assert mean.output_shape == last.output_shape == (3,) and mean.input_dtype == "int32"
    with pytest.raises(SpecError, match="pool must be 'mean' or 'last'"):
        bilstm_text_classifier(pool="max")
