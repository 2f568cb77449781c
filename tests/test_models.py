"""The seed's models, built through the spec: forward equivalence and one training step (on every device), frozen
golden data, and what tells the CNNs apart. The verdicts are equivalence.checks.models'."""
import dataclasses
import json
import pathlib

import numpy as np
import pytest

from equivalence import assert_close
from equivalence.checks import CPU, check_model, check_model_step, on_devices, require_device
from equivalence.checks.models import PairCache
from equivalence.compare import describe
from equivalence.error_bounds import ElementBound, assert_forward_equivalent
from equivalence.zoo import FIXTURES, GOLDEN_SEED, seed_models
from equivalence.models import build_pair
from equivalence.spec import ModelSpec, layer
from equivalence.tolerances import tolerance
from equivalence.weights import digest, init_weights, param_count

pytestmark = pytest.mark.layers
SEEDS = seed_models()
GOLDEN = pathlib.Path(__file__).resolve().parents[1] / FIXTURES
REGENERATE = "regenerate with: python -m equivalence.zoo freeze"
SEED_CASES = [pytest.param(name, id=name) for name in SEEDS]


@pytest.fixture(scope="module")
def pairs():
    """One pair per seed model, built once for the module (tests must not mutate them)."""
    return PairCache(SEEDS, seed=GOLDEN_SEED)


@pytest.mark.parametrize("name,device", on_devices(SEED_CASES))
def test_seed_model_forward_matches(name, device, pairs):
    """Each seed model agrees across TF, torch and float64, in inference and training mode (no dropout/BN in them);
    on an accelerator, each framework there matches float64 and itself on the CPU."""
    if device != CPU:
        require_device(device)
    pair = pairs[name]
    check_model(pair, pair.sample_input(seed=3), device, what=name)


@pytest.mark.parametrize("name,device", on_devices(SEED_CASES))
def test_seed_model_grads_and_adam_step_match(name, device):
    """torch's weight gradients of a squared error and the weights after one Adam step, in float32, match float64
    (on an accelerator: and the CPU's float32 step)."""
    if device != CPU:
        require_device(device, ("torch",))
    check_model_step(SEEDS[name], device)


@pytest.mark.parametrize("name", SEEDS)
def test_seed_model_matches_golden(name, pairs):
    """Today's spec, weights and both frameworks still reproduce the frozen golden output (fixtures/seed_models)."""
    manifest = json.loads((GOLDEN / "MANIFEST.json").read_text())["models"][name]
    spec, pair = SEEDS[name], pairs[name]
    assert manifest["spec"] == repr(spec.layers), f"seed spec {name} changed since the golden data was frozen; {REGENERATE}"
    assert manifest["weights_sha256"] == digest(init_weights(spec, GOLDEN_SEED)), \
        f"init_weights({name}, seed={GOLDEN_SEED}) no longer reproduces the frozen weights; {REGENERATE}"
    data = np.load(GOLDEN / manifest["file"])
    x, golden = data["x"], data["reference"]
    # float64 reference vs frozen float64: only BLAS summation order may differ (depth = largest fan-in, 1024).
    assert_close(pair.reference(x), golden, tolerance("float64", depth=1024, scale=float(np.abs(golden).max())),
                 what=f"{name} float64 reference vs golden", label_a="ref64", label_b="golden")
    assert_forward_equivalent(pair.forward_tf(x), pair.forward_torch(x), golden, tol=pair.tolerance(x),
                              what=f"{name} forward vs frozen golden", context=describe("x", x))


@pytest.mark.parametrize("name", SEEDS)
def test_seed_model_param_count_matches_frameworks(name, pairs):
    """The spec's parameter count equals Keras' count_params() and torch's sum of numel()."""
    pair = pairs[name]
    torch_count = sum(p.numel() for p in pair.torch.parameters())
    assert (param_count(SEEDS[name]), pair.keras.count_params(), torch_count) == (param_count(SEEDS[name]),) * 3


def test_seed_cnns_are_not_the_same_network():
    """The seed's Keras and PyTorch CIFAR CNNs differ: 122,570 vs 282,250 parameters, 3 vs 2 convs, valid vs same."""
    keras_cnn, torch_cnn = SEEDS["seed_cnn_keras"], SEEDS["seed_cnn_torch"]
    assert (param_count(keras_cnn), param_count(torch_cnn)) == (122_570, 282_250)
    assert [l.kind for l in keras_cnn.layers].count("conv2d") == 3 and [l.kind for l in torch_cnn.layers].count("conv2d") == 2
    # Flatten sees 4x4x64 = 1024 features in the Keras CNN and 8x8x64 = 4096 in the torch one.
    assert (keras_cnn.shapes["flatten_5"], torch_cnn.shapes["flatten_4"]) == ((1024,), (4096,))


def _structure(spec: ModelSpec):
    return spec.input_shape, [(l.kind, dict(l.params)) for l in spec.layers]


def _edit(spec: ModelSpec, layers, name: str) -> ModelSpec:
    return dataclasses.replace(spec, name=name, layers=tuple(dataclasses.replace(l, name="") for l in layers))


def test_keras_cnn_becomes_torch_cnn_with_three_edits():
    """Keras CNN -> torch CNN: 'same' padding on both convs, drop the third conv, and drop the softmax (logits)."""
    k = SEEDS["seed_cnn_keras"].layers
    same = lambda l: dataclasses.replace(l, params={**l.params, "padding": "same"})
    logits = dataclasses.replace(k[7], params={**k[7].params, "activation": "linear"})
    edited = _edit(SEEDS["seed_cnn_keras"], [same(k[0]), k[1], same(k[2]), k[3], k[5], k[6], logits], "keras_as_torch")
    assert _structure(edited) == _structure(SEEDS["seed_cnn_torch"])
    assert param_count(edited) == 282_250


def test_torch_cnn_becomes_keras_cnn_with_three_edits():
    """torch CNN -> Keras CNN: 'valid' padding (padding=0), a third 64-filter 3x3 conv after the second pool, softmax."""
    t = SEEDS["seed_cnn_torch"].layers
    valid = lambda l: dataclasses.replace(l, params={**l.params, "padding": "valid"})
    conv3 = layer("conv2d", filters=64, kernel_size=3, activation="relu")
    softmax = dataclasses.replace(t[6], params={**t[6].params, "activation": "softmax"})
    edited = _edit(SEEDS["seed_cnn_torch"], [valid(t[0]), t[1], valid(t[2]), t[3], conv3, t[4], t[5], softmax],
                   "torch_as_keras")
    assert _structure(edited) == _structure(SEEDS["seed_cnn_keras"])
    assert param_count(edited) == 122_570


def test_linear_spec_builds_sequential_and_dag_builds_functional():
    """A linear spec becomes a keras.Sequential; a residual DAG becomes a Functional keras.Model."""
    linear = build_pair(SEEDS["seed_mlp"])
    dag = build_pair(ModelSpec("residual", (4,), (layer("dense", name="d", units=4),
                                                  layer("add", name="sum", inputs=("input", "d")))))
    assert type(linear.keras).__name__ == "Sequential" and type(dag.keras).__name__ == "Functional"
    assert list(linear.torch.layers) == ["dense_0", "dense_1"] and list(dag.torch.layers) == ["d", "sum"]


def test_seed_model_tolerance_rule_is_stated():
    """Seed models get the per-element bound (propagated node by node); a recurrent spec keeps the scalar rule,
    whose depth follows (sum_l sqrt K_l)^2."""
    pair = build_pair(SEEDS["seed_mlp"])
    x = pair.sample_input(seed=3)
    tol = pair.tolerance(x)
    assert isinstance(tol, ElementBound) and tol.bound.shape == (4, 10) and "per-node" in tol.reason
    rnn = build_pair(ModelSpec("rnn", (3, 2), (layer("lstm", units=4), layer("dense", units=5))))
    tol = rnn.tolerance(rnn.sample_input(seed=3))
    # LSTM K = T*(C + units) = 3*(2+4) = 18, Dense K = 4: (sqrt 18 + sqrt 4)^2 = 38.97 -> 39.
    assert "depth=(sum sqrt K_l)^2=39" in tol.reason and tol.rtol == pytest.approx(4 * 2**-23 + 4 * 2**-23 * 39**0.5)
