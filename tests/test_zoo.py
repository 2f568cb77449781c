"""The zoo (equivalence.zoo.zoo_models): real architectures built through the spec, each in inference ('eval') and
training ('train') mode: forward TF == torch == float64 under the model rule, gradients of a loss w.r.t. every
parameter, one SGD and one Adam step, parameter counts on both sides, and frozen golden outputs.

The verdicts are the engine's: equivalence.checks.models.check_model (forward, every device) and
equivalence.checks.zoo (gradients and steps). The default run uses the small variants; the `thorough` Hypothesis
profile adds the large ones (`<model>_large`).
"""
import json
import pathlib

import numpy as np
import pytest
from hypothesis import settings

from equivalence import assert_close
from equivalence.catalog.optimizers import by_id
from equivalence.checks import CPU, check_model, on_devices, require_device
from equivalence.checks.models import PairCache
from equivalence.checks.zoo import check_zoo_on_device, check_zoo_training, reset
from equivalence.models import Pair
from equivalence.tolerances import tolerance
from equivalence.weights import digest, init_weights, param_count, param_shapes
from equivalence.zoo import GOLDEN_BATCH, GOLDEN_INPUT_SEED, GOLDEN_SEED, ZOO_FIXTURES, zoo_models

pytestmark = pytest.mark.layers
THOROUGH = settings.get_current_profile_name().startswith("thorough")
SMALL = zoo_models("small")
MODELS = {**SMALL, **({f"{n}_large": s for n, s in zoo_models("large").items()} if THOROUGH else {})}
GOLDEN = pathlib.Path(__file__).resolve().parents[1] / ZOO_FIXTURES
REGENERATE = "regenerate with: python -m equivalence.zoo freeze zoo"
MODES = {"eval": False, "train": True}
OPTIMIZERS = {"sgd": "sgd-plain", "adam": "adam-tiny_eps"}  # cross configurations: both APIs express the same rule
# The golden input (batch 2) is every test's input. BatchNorm in training mode normalises over batch*pixels:
# >= 2*2*2 values per channel at the smallest map.
BATCH = GOLDEN_BATCH
CASES = [pytest.param(name, mode, id=f"{name}-{mode}") for name in MODELS for mode in MODES]
STEP_CASES = [pytest.param(name, mode, opt, id=f"{name}-{mode}-{opt}") for name in MODELS for mode in MODES
              for opt in OPTIMIZERS]


@pytest.fixture(scope="module")
def pairs():
    """One pair per model for the module; every check loads the canonical weights back first (`_pair`)."""
    return PairCache(MODELS, seed=GOLDEN_SEED)


def _pair(pairs, name):
    return reset(pairs[name])  # the canonical weights back (checks.zoo.reset)


def _x(pair):
    return pair.sample_input(seed=GOLDEN_INPUT_SEED, batch=BATCH)


@pytest.mark.parametrize("name,mode,device", on_devices(CASES))
def test_zoo_forward_matches(name, mode, device, pairs):
    """TF, torch and the float64 reference agree on the model's output (on an accelerator: each framework there
    against float64 and against itself on the CPU)."""
    if device != CPU:
        require_device(device)
    pair = _pair(pairs, name)
    check_model(pair, _x(pair), device, modes=(MODES[mode],), what=name)


@pytest.mark.parametrize("name,mode,opt,device", on_devices(STEP_CASES))
def test_zoo_grads_and_step_match(name, mode, opt, device, pairs):
    """One training step (mean squared error, SGD or Adam): the gradients w.r.t. every parameter agree (TF, torch
    float32, torch float64, and the float64 reference's central difference along a direction), each side's weights
    after the step follow its framework's float64 rule applied to its own gradient, and TF and torch agree
    (equivalence.checks.zoo). On an accelerator: torch there against float64 and against torch on the CPU."""
    if device != CPU:
        require_device(device, ("torch",))
        pair = _pair(pairs, name)
        if pair.keras is None:  # canonical_grads names the weights after the Keras model's
            pytest.skip("TensorFlow is not installed: the gradients are mapped through the Keras model's weights")
        check_zoo_on_device(pair, _x(pair), MODES[mode], by_id(OPTIMIZERS[opt]), device)
        return
    pair = _pair(pairs, name)
    check_zoo_training(pair, _x(pair), MODES[mode], by_id(OPTIMIZERS[opt]))


def _torch_counts(module) -> tuple[int, int]:
    """(sum of numel over parameters(), over floating buffers: BatchNorm running statistics; num_batches_tracked,
    an int64 step counter, is not a statistic and is left out)."""
    return (sum(p.numel() for p in module.parameters()),
            sum(b.numel() for b in module.buffers() if b.is_floating_point()))


def torch_only_params(spec) -> int:
    """Scalars torch holds that the canonical weights do not: torch's recurrent layers keep two biases (bias_ih,
    bias_hh) where Keras keeps one (the builders load bias_hh = 0), 4*units per LSTM direction."""
    from equivalence.weights import to_torch

    canonical = sum(np.size(v) for lw in init_weights(spec, 0).values() for v in lw.values())
    mapped = sum(np.size(v) for lw in to_torch(spec, init_weights(spec, 0)).values() for v in lw.values())
    return mapped - canonical


@pytest.mark.parametrize("name", MODELS)
def test_zoo_param_count_matches_frameworks(name, pairs):
    """Keras' count_params() counts every weight, BatchNorm's moving mean and variance included (non-trainable
    variables); torch's parameters() leaves BatchNorm's running_mean/running_var out (they are buffers): so
    Keras == the spec's count, torch parameters == the spec's trainable count (+ torch-only recurrent biases), and
    torch's floating buffers == the BatchNorm statistics."""
    spec, pair = MODELS[name], _pair(pairs, name)
    stats = param_count(spec) - param_count(spec, trainable_only=True)
    assert stats == sum(2 * s["gamma"][0] for s in param_shapes(spec).values() if "moving_mean" in s)
    params, buffers = _torch_counts(pair.torch)
    assert (pair.keras.count_params(), params, buffers) == (
        param_count(spec), param_count(spec, trainable_only=True) + torch_only_params(spec), stats)
    trainable = sum(int(np.prod(v.shape)) for v in pair.keras.trainable_weights)
    assert trainable == param_count(spec, trainable_only=True)


@pytest.mark.parametrize("name", SMALL)
def test_zoo_model_matches_golden(name):
    """Today's spec, weights and float64 reference reproduce the frozen outputs (fixtures/zoo), in inference and
    training mode. The golden input is the forward test's input (checked here), so TF and torch, which that test
    holds to today's reference, are held to the frozen outputs too."""
    manifest = json.loads((GOLDEN / "MANIFEST.json").read_text())["models"][name]
    spec = SMALL[name]
    assert manifest["spec"] == repr(spec.layers), f"zoo spec {name} changed since the golden data was frozen; {REGENERATE}"
    weights = init_weights(spec, GOLDEN_SEED)
    assert manifest["weights_sha256"] == digest(weights), \
        f"init_weights({name}, seed={GOLDEN_SEED}) no longer reproduces the frozen weights; {REGENERATE}"
    data = np.load(GOLDEN / manifest["file"])
    pair = Pair(spec, None, None, weights)
    np.testing.assert_array_equal(data["x"], _x(pair), err_msg=f"{name}: the golden input is not the forward test's")
    for training, key in ((False, "reference"), (True, "reference_training")):
        golden = data[key]
        # float64 reference vs frozen float64: only the summation order may differ (depth 4096 >= every layer's K
        # in the small zoo: the largest is a BatchNorm's batch*H*W = 128 in training mode)
        assert_close(pair.reference(data["x"], training), golden,
                     tolerance("float64", depth=4096, scale=float(np.abs(golden).max())),
                     what=f"{name} float64 reference ({key}) vs golden", label_a="ref64", label_b="golden")


def test_zoo_models_are_their_architectures():
    """Each model has the structure its docs/models.md row names (kinds and shapes), so a zoo edit shows."""
    resnet = SMALL["resnet"]
    kinds = [l.kind for l in resnet.layers]
    assert kinds.count("add") == 2 and kinds[-2:] == ["global_avg_pool2d", "dense"]
    proj = resnet.layer_by_name("block1_proj_conv")
    assert (proj["kernel_size"], proj["strides"]) == (1, 2) and resnet.shapes["block1_add"] == (4, 4, 8)
    assert resnet.layer_by_name("block0_add").inputs == ("stem_relu", "block0b_bn")  # identity shortcut
    mobilenet = SMALL["mobilenet"]
    kinds = [l.kind for l in mobilenet.layers]
    assert kinds.count("depthwise_conv2d") == 2 and "separable_conv2d" in kinds
    assert mobilenet.shapes["pw1_relu"] == (2, 2, 8) and mobilenet.output_shape == (5,)
    unet = SMALL["unet"]
    assert unet.shapes["up0"] == unet.shapes["enc0b"] == (8, 8, 4) and unet.shapes["skip0"] == (8, 8, 8)
    assert unet.layer_by_name("skip0").inputs == ("enc0b", "up0") and unet.output_shape == (8, 8, 2)
    vit = SMALL["vit"]
    # 8x8 image, 4x4 patches: 4 tokens + the class token, dim 8
    assert (vit.shapes["tokens"], vit.shapes["pos"], vit.output_shape) == ((4, 8), (5, 8), (5,))
    text = SMALL["bilstm_text"]
    assert text.input_dtype == "int32" and text.layers[0]["mask_zero"] and text.shapes["bilstm"] == (6, 8)


def test_torch_parts_count_the_split_recurrent_biases(pairs):
    """torch keeps an LSTM's one canonical bias as bias_ih + bias_hh (2 parts, each stepped: catalogue
    lstm-split-bias-step); every other canonical weight of the zoo is one torch parameter."""
    from equivalence.checks.zoo import torch_parts

    parts = {name: torch_parts(_pair(pairs, name)) for name in ("bilstm_text", "vit")}
    split = {(n, k) for lw in parts.values() for n, ws in lw.items() for k, v in ws.items() if np.any(v != 1)}
    assert split == {("bilstm", "forward_bias"), ("bilstm", "backward_bias")}
    assert all(np.all(parts["bilstm_text"]["bilstm"][k] == 2) for _, k in split)
