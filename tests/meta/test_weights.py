"""Canonical weights: deterministic, checked against the spec, and converted to/from both frameworks exactly."""
import numpy as np
import pytest

from equivalence.catalog.layers import CASES
from equivalence.models import build_pair
from equivalence.spec import ModelSpec, layer
from equivalence.weights import (WeightError, check_weights, chw_index, from_torch, init_weights, load_keras,
                                 read_torch, to_torch)

pytestmark = pytest.mark.meta
WITH_WEIGHTS = [pytest.param(c, id=c.id) for c in CASES if init_weights(c.spec, 0)]


def _assert_same_weights(got, want, side):
    assert got.keys() == want.keys(), f"{side}: layers {sorted(got)} != {sorted(want)}"
    for name in want:
        assert got[name].keys() == want[name].keys(), f"{side} {name}: {sorted(got[name])} != {sorted(want[name])}"
        for p in want[name]:
            np.testing.assert_array_equal(got[name][p], want[name][p], err_msg=f"{side} {name}.{p} round trip")


@pytest.mark.parametrize("case", WITH_WEIGHTS)
def test_weights_round_trip_exactly(case):
    """Canonical weights loaded into Keras and torch read back bit-identical from both."""
    pair = build_pair(case.spec, seed=5)
    for side, got in pair.read_weights().items():
        _assert_same_weights(got, pair.weights, side)


@pytest.mark.parametrize("case", WITH_WEIGHTS)
def test_torch_conversion_is_invertible(case):
    """from_torch(to_torch(w)) == w for every layer kind (no model needed)."""
    w = init_weights(case.spec, 2)
    _assert_same_weights(from_torch(case.spec, to_torch(case.spec, w)), w, "to_torch/from_torch")


def test_init_weights_is_deterministic_per_seed():
    """The same seed gives identical weights; another seed gives different ones; biases are nonzero."""
    spec = ModelSpec("m", (4,), (layer("dense", units=3),))
    a, b, c = init_weights(spec, 1), init_weights(spec, 1), init_weights(spec, 2)
    _assert_same_weights(a, b, "seed 1 twice")
    assert not np.array_equal(a["dense_0"]["kernel"], c["dense_0"]["kernel"]) and np.all(a["dense_0"]["bias"] != 0)


def test_flatten_permutation_maps_nhwc_to_nchw_order():
    """chw_index((H, W, C)) lists, for torch's (c, h, w) flatten position, the canonical (h, w, c) index."""
    x = np.arange(2 * 3 * 2).reshape(1, 2, 3, 2)  # NHWC, values = canonical flat index
    torch_flat = x.transpose(0, 3, 1, 2).reshape(-1)
    np.testing.assert_array_equal(chw_index((2, 3, 2)), torch_flat)
    np.testing.assert_array_equal(chw_index((2, 3, 2)), [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])


def test_dense_after_flatten_gets_permuted_rows_in_torch():
    """The torch Linear after a Flatten of a conv map holds the canonical kernel with rows in (c, h, w) order."""
    spec = ModelSpec("m", (2, 3, 2), (layer("flatten"), layer("dense", units=4)))
    w = init_weights(spec, 0)
    got = to_torch(spec, w)["dense_1"]["weight"]
    np.testing.assert_array_equal(got, w["dense_1"]["kernel"][chw_index((2, 3, 2))].T)
    assert not np.array_equal(got, w["dense_1"]["kernel"].T)  # the permutation is not the identity here


def test_gru_gates_reordered_and_lstm_bias_split():
    """GRU blocks (z, r, h) become torch (r, z, n); LSTM's one bias becomes bias_ih with bias_hh = 0."""
    spec = ModelSpec("m", (3, 2), (layer("gru", units=1, return_sequences=True), layer("lstm", units=1)))
    w = init_weights(spec, 0)
    t = to_torch(spec, w)
    np.testing.assert_array_equal(t["gru_0"]["weight_ih_l0"][:, 0], w["gru_0"]["kernel"][0, [1, 0, 2]])
    np.testing.assert_array_equal(t["gru_0"]["bias_hh_l0"], w["gru_0"]["bias"][1, [1, 0, 2]])
    np.testing.assert_array_equal(t["lstm_1"]["bias_hh_l0"], np.zeros(4, np.float32))


@pytest.mark.parametrize(("per_channel", "alphas"), [(True, 4), (False, 1)])
def test_prelu_alpha_is_a_torch_vector(per_channel, alphas):
    """PReLU's canonical (Keras) alpha (1, 1, C) or (1, 1, 1) is torch's weight (C,) or (1,), and reads back."""
    spec = ModelSpec("m", (3, 3, 4), (layer("prelu", per_channel=per_channel),))
    w = init_weights(spec, 0)
    t = to_torch(spec, w)["prelu_0"]["weight"]
    assert w["prelu_0"]["alpha"].shape == (1, 1, alphas) and t.shape == (alphas,)
    np.testing.assert_array_equal(t, w["prelu_0"]["alpha"].ravel())
    assert from_torch(spec, {"prelu_0": {"weight": t}})["prelu_0"]["alpha"].shape == (1, 1, alphas)


def test_read_torch_sums_lstm_biases():
    """A torch LSTM with a nonzero bias_hh reads back as ONE Keras bias = bias_ih + bias_hh."""
    pair = build_pair(ModelSpec("m", (3, 2), (layer("lstm", units=2),)), seed=0)
    pair.torch.layers["lstm_0"].core.bias_hh_l0.data.fill_(0.5)
    got = read_torch(pair.torch, pair.spec)["lstm_0"]["bias"]
    np.testing.assert_array_equal(got, pair.weights["lstm_0"]["bias"] + np.float32(0.5))


@pytest.mark.parametrize(("mutate", "expect"), [
    pytest.param(lambda w: w["dense_0"].update(kernel=np.zeros((3, 4), np.float32)),
                 "dense_0.kernel: shape (3, 4), but the spec needs (4, 3)", id="wrong_shape"),
    pytest.param(lambda w: w["dense_0"].pop("bias"), "dense_0.bias: missing", id="missing_param"),
    pytest.param(lambda w: w.update(extra={"kernel": np.zeros(1)}), "unexpected layer 'extra'", id="extra_layer"),
    pytest.param(lambda w: w.pop("dense_0"), "missing layer 'dense_0'", id="missing_layer"),
])
def test_bad_weights_are_rejected_with_names(mutate, expect):
    """Weights of the wrong shape or structure raise WeightError naming the layer, parameter and shapes."""
    spec = ModelSpec("m", (4,), (layer("dense", units=3),))
    w = init_weights(spec, 0)
    mutate(w)
    with pytest.raises(WeightError, match=None) as exc:
        check_weights(spec, w)
    assert expect in str(exc.value)


def test_load_keras_rejects_wrong_shapes():
    """Loading mis-shaped weights into a model fails before any variable is assigned."""
    pair = build_pair(ModelSpec("m", (4,), (layer("dense", units=3),)), seed=0)
    bad = {"dense_0": {"kernel": np.zeros((4, 4), np.float32), "bias": np.zeros(3, np.float32)}}
    with pytest.raises(WeightError, match=r"dense_0.kernel: shape \(4, 4\), but the spec needs \(4, 3\)"):
        load_keras(pair.keras, pair.spec, bad)
