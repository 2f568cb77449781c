"""check_pair on users' own models (equivalence.pair): the examples' faithful ports are equivalent, each planted
bug is localized to its layer with its catalogue entry, layers pair by structure whatever their names, bad calls
fail with a message that says what to fix, and the command line and the pytest plugin work."""
import importlib.util
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from equivalence import assert_models_equivalent, check_pair
from equivalence.compare import EquivalenceMismatch
from equivalence.pair import MappingError, PairError
from equivalence.plugins import user

pytestmark = pytest.mark.layers
ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _example(name: str):
    """An example script as a module (its import runs no framework: the models are built by its functions)."""
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RESNET, CIFAR = _example("resnet_block_port"), _example("cifar_cnns")
STEP = {"training": True, "step": ("adam", {"learning_rate": 1e-3})}


# ------------------------------------------------------------------------------------------------ the examples
@pytest.mark.parametrize("which,kw", [
    pytest.param(None, dict(transfer="keras_to_torch", **STEP), id="resnet_block-keras_to_torch-training-adam-float32"),
    pytest.param(None, dict(transfer="torch_to_keras"), id="resnet_block-torch_to_keras-float32"),
    pytest.param("convert", {}, id="resnet_block-own_converter-float32"),
])
def test_faithful_port_is_equivalent(which, kw):
    """The correct port, whichever way its weights got there, is judged equivalent at every boundary, gradient and
    step value, with every layer paired although no name matches."""
    km, tm = RESNET.build(which)
    r = check_pair(km, tm, RESNET.sample(), **kw)
    assert r.equivalent, r.summary()
    assert r.first_divergence is None and r.structure.complete
    assert [(b.keras_layer, b.torch_module) for b in r.layers] == [
        ("stem_conv", "stem.conv"), ("stem_bn", "stem.bn"), ("stem_gelu", "stem.act"),
        ("block_conv1", "block.conv_a"), ("block_bn1", "block.bn_a"), ("block_relu1", "block.act"),
        ("block_conv2", "block.conv_b"), ("block_bn2", "block.bn_b"), ("block_relu", "block.out"),
        ("flatten", "head.flatten"), ("logits", "head.fc")]
    assert len(r.grads) == 11 and len(r.step) == (17 if "step" in kw else 0)
    # values and gradients sit far inside the rule (the bugs below exceed it 5x to 1e5x); after a step two weights
    # may differ by the one ulp their rounding allows, which the step rule includes
    assert max(b.over for b in r.layers + r.grads) < 0.25


BUGS = [  # (bug, stage, Keras layer, torch module, catalogue entry, check_pair arguments)
    ("same_padding", "forward", "stem_conv", "stem.conv", "conv-same-stride2-padding", {"transfer": "keras_to_torch"}),
    ("bn_epsilon", "forward", "stem_bn", "stem.bn", "bn-epsilon-default", {"transfer": "keras_to_torch"}),
    ("gelu", "forward", "stem_gelu", "stem.act", "gelu-approximate-default", {"transfer": "keras_to_torch"}),
    ("flatten_order", "forward", "logits", "head.fc", "flatten-order", {}),
    ("bn_momentum", "step", "stem_bn", "stem.bn", "bn-momentum-convention", {"transfer": "keras_to_torch", **STEP}),
]


@pytest.mark.parametrize("bug,stage,keras_layer,torch_module,cause,kw",
                         [pytest.param(*b, id=f"resnet_block-{b[0]}-float32") for b in BUGS])
def test_planted_bug_is_localized(bug, stage, keras_layer, torch_module, cause, kw):
    """Each classic porting bug is the first divergence, at the layer it was planted in, by a clear margin, and the
    catalogue entry that documents it is named as the likely cause."""
    km, tm = RESNET.build(bug)
    r = check_pair(km, tm, RESNET.sample(), grads=stage != "forward", **kw)
    fd = r.first_divergence
    assert not r.equivalent and fd is not None, r.summary()
    assert (fd.stage, fd.keras_layer, fd.torch_module) == (stage, keras_layer, torch_module), r.summary()
    assert fd.over > 2, r.summary()
    assert cause in [c for c, _ in fd.causes], r.summary()
    assert f"{fd.where}" in r.summary() and f"[{cause}]" in r.summary()


def test_cifar_cnns_are_not_the_same_model():
    """The seed article's 'mirrors' differ in structure: the check says where (parameter counts, the third
    convolution, the Dense widths, the padding, the softmax head) and no weight mapping exists between them."""
    km, tm, x = CIFAR.keras_cnn(), CIFAR.torch_cnn(), CIFAR.sample()
    r = check_pair(km, tm, x, grads=False)
    assert not r.equivalent and not r.structure.complete
    assert (r.structure.keras_params, r.structure.torch_params) == (122_570, 282_250)
    lines = r.structure.lines()
    assert "Keras conv2d_2 (conv2d: kernel (3, 3, 64, 64), bias (64,), 36,928 parameters): no torch counterpart" in lines
    assert ("Keras dense (dense: kernel (1024, 64), bias (64,)) vs torch fc1 (dense: weight (64, 4096), bias (64,)): "
            "weight shapes differ") in lines
    assert "Keras conv2d vs torch conv1: padding: Keras 'valid' does not pad, torch pads [(1, 1), (1, 1)] " \
           "symmetrically" in lines
    assert any("dense_1 (activation) (activation:softmax)" in line for line in lines)
    fd = r.first_divergence
    assert (fd.keras_layer, fd.torch_module, fd.note) == (
        "conv2d", "conv1", "shapes differ: Keras (2, 30, 30, 32), torch (in Keras layout) (2, 32, 32, 32)")
    with pytest.raises(MappingError) as e:
        check_pair(km, tm, x, transfer="keras_to_torch")
    assert str(e.value) == (
        "no weight mapping between the models: 2 Keras and 1 torch parameterised layers have no counterpart\n"
        "  Keras dense (dense: kernel (1024, 64), bias (64,)) vs torch fc1 (dense: weight (64, 4096), bias (64,)): "
        "weight shapes do not convert\n"
        "  Keras conv2d_2 (conv2d: kernel (3, 3, 64, 64), bias (64,)): no torch counterpart\n"
        "  pass mapping={keras_layer_name: torch_module_path} to pair layers by hand")


def test_named_causes_are_catalogue_entries():
    """Every catalogue id a check can name as a likely cause exists in the catalogue (a renamed entry fails here)."""
    from equivalence.differences import DIFFERENCES
    from equivalence.pair.explain import ENTRIES

    assert set(ENTRIES) <= set(DIFFERENCES.ids())


# ------------------------------------------------------------------------------------------------ mapping
def test_mapping_pins_pairs_by_hand():
    """A mapping pins the layers it names and the rest is aligned around them; a wrong pin is obeyed, so the
    transfer then finds layers without a counterpart and says which."""
    km, tm = RESNET.build(None)
    pins = {"stem_conv": "stem.conv", "block_bn2": "block.bn_b", "logits": "head.fc"}
    r = check_pair(km, tm, RESNET.sample(), transfer="keras_to_torch", mapping=pins, grads=False)
    assert r.equivalent, r.summary()
    assert {(b.keras_layer, b.torch_module) for b in r.layers} >= set(pins.items())
    with pytest.raises(MappingError) as e:
        check_pair(km, tm, RESNET.sample(), transfer="keras_to_torch", mapping={"block_conv1": "block.conv_b"})
    assert str(e.value) == (
        "no weight mapping between the models: 2 Keras and 2 torch parameterised layers have no counterpart\n"
        "  Keras block_conv2 (conv2d: kernel (3, 3, 6, 6)): no torch counterpart\n"
        "  Keras block_bn2 (batch_norm: gamma (6,), beta (6,), moving_mean (6,), moving_variance (6,)): no torch "
        "counterpart\n"
        "  torch block.conv_a (conv2d: weight (6, 6, 3, 3)): no Keras counterpart\n"
        "  torch block.bn_a (batch_norm: weight (6,), bias (6,), running_mean (6,), running_var (6,)): no Keras "
        "counterpart\n"
        "  pass mapping={keras_layer_name: torch_module_path} to pair layers by hand")


# ------------------------------------------------------------------------------------------------ bad calls
def _tiny(out_units: int = 2, gelu: str = "none"):
    """Keras Dense(3, gelu) -> Dense(2) and its torch port (names '0', '1', '2'); `gelu`: torch's approximation."""
    from equivalence import runtime

    torch, keras = runtime.torch(), runtime.keras()
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="gelu", name="d1"),
                           keras.layers.Dense(2, name="d2")])
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.GELU(approximate=gelu), torch.nn.Linear(3, out_units))
    return km, tm


X4 = 3 * np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)  # pre-activations ~ +-3: GELU tails


@pytest.mark.parametrize("call,message", [
    pytest.param(lambda km, tm: check_pair(km, [tm], X4), "torch_module: expected a torch.nn.Module, got list",
                 id="torch_module-not_a_module"),
    pytest.param(lambda km, tm: check_pair("model.keras", tm, X4), "keras_model: expected a keras.Model, got str",
                 id="keras_model-not_a_model"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4[:, :3]), "inputs: shape (2, 3) does not fit the Keras model's "
                 "input shape (None, 4) (None: any size)", id="inputs-wrong_shape"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4.astype(np.float64)), "inputs: dtype float64, but the Keras "
                 "model's input takes float32; convert with x.astype('float32')", id="inputs-wrong_dtype"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4.tolist()), "inputs: expected a NumPy array (or a tuple of "
                 "arrays) in the Keras model's layout, got list, list", id="inputs-not_arrays"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4, mapping={"nope": "0"}), "mapping names Keras layer 'nope', "
                 "which the Keras model does not have; its layers: d1, d2", id="mapping-unknown_keras_layer"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4, mapping={"d1": "fc"}), "mapping names torch module 'fc', "
                 "which the torch module does not have; its modules: 0, 1, 2", id="mapping-unknown_torch_module"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4, transfer="sideways"), "transfer='sideways': use "
                 "'keras_to_torch', 'torch_to_keras' or None", id="transfer-unknown"),
    pytest.param(lambda km, tm: check_pair(km, tm, X4, step=("rmsprop", {})), "step: optimizer 'rmsprop' is not "
                 "supported; use 'adam' or 'sgd'", id="step-unknown_optimizer"),
])
def test_bad_call_says_what_to_fix(call, message):
    """Each misuse raises PairError (MappingError for mappings) with exactly this message."""
    km, tm = _tiny()
    with pytest.raises(PairError) as e:
        call(km, tm)
    assert str(e.value) == message


def test_forced_layout_the_module_rejects_is_reported():
    """torch_layout='channels_last' feeds a convolutional port NHWC: the module's own error is reported as a
    PairError naming the shape and layout it was given."""
    km, tm = RESNET.build(None)
    with pytest.raises(PairError, match=r"^the torch module failed on the inputs \(given to it as \(2, 16, 16, 3\), "
                                        r"channels_last\): RuntimeError: "):
        check_pair(km, tm, RESNET.sample(), torch_layout="channels_last")


def test_different_output_shapes_are_refused():
    """Models whose outputs differ in shape cannot be the same model: a PairError says so, with both shapes."""
    km, tm = _tiny(out_units=5)
    with pytest.raises(PairError) as e:
        check_pair(km, tm, X4)
    assert str(e.value) == ("the models' outputs differ in shape: Keras (2, 2), torch (2, 5); they cannot be the "
                            "same model")


def test_assert_models_equivalent_fails_with_the_localized_divergence():
    """The pytest helper passes a faithful tiny port and fails a GELU-approximation bug with the first divergent
    layer on both sides and the catalogue entry in its message."""
    km, tm = _tiny()
    assert assert_models_equivalent(km, tm, X4, transfer="keras_to_torch").equivalent
    km, tm = _tiny(gelu="tanh")
    with pytest.raises(EquivalenceMismatch) as e:
        assert_models_equivalent(km, tm, X4, transfer="keras_to_torch")
    msg = str(e.value)
    assert msg.startswith("NOT EQUIVALENT"), msg
    assert "first divergence (forward activation:gelu): Keras 'd1' activation <-> torch '1'" in msg
    assert "likely cause [gelu-approximate-default]: GELU: Keras exact (erf), torch approximate='tanh'" in msg


# ------------------------------------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def saved_resnet(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "resnet_block.keras"
    RESNET.keras_model().save(path)
    return path


def _cli(monkeypatch, *argv):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # FACTORY modules are found as the current directory's would be
    from equivalence.__main__ import main

    return main(["check", *map(str, argv)])


def test_cli_exit_0_and_reports_when_equivalent(saved_resnet, monkeypatch, tmp_path, capsys):
    """Exit 0 for the faithful port; the JSON report has the documented top-level keys, the Markdown a verdict."""
    rc = _cli(monkeypatch, "--keras", saved_resnet, "--torch", "resnet_block_port:faithful_port", "--transfer",
              "keras-to-torch", "--input-shape", "2,16,16,3", "--no-grads", "--report", tmp_path / "r.json",
              "--markdown", tmp_path / "r.md")
    assert rc == 0, capsys.readouterr()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["equivalent"] is True and report["first_divergence"] is None
    assert {"layers", "grads", "step", "structure", "settings"} <= set(report)
    assert (tmp_path / "r.md").read_text().startswith("# check_pair: equivalent")


def test_cli_exit_1_prints_the_first_divergence(saved_resnet, monkeypatch, tmp_path, capsys):
    """Exit 1 for a divergent port, printing the first divergent layer on both sides; the JSON report names it."""
    np.save(tmp_path / "x.npy", RESNET.sample())
    rc = _cli(monkeypatch, "--keras", saved_resnet, "--torch", "resnet_block_port:gelu_port", "--transfer",
              "keras-to-torch", "--inputs", tmp_path / "x.npy", "--no-grads", "--report", tmp_path / "r.json")
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "first divergence (forward activation:gelu): Keras 'stem_gelu' <-> torch 'stem.act'" in out
    fd = json.loads((tmp_path / "r.json").read_text())["first_divergence"]
    assert (fd["keras_layer"], fd["torch_module"]) == ("stem_gelu", "stem.act")
    assert fd["likely_causes"][0]["id"] == "gelu-approximate-default"
    assert set(fd["tolerance"]) == {"atol", "rtol", "reason"} and set(fd["element"]) == {"index", "keras", "torch",
                                                                                       "allowed"}


@pytest.mark.parametrize("argv,line", [
    pytest.param(["--torch", "resnet_block_port:sample"], "error: --torch 'resnet_block_port:sample': the factory "
                 "returned ndarray, not a torch.nn.Module", id="factory-not_a_module"),
    pytest.param(["--torch", "resnet_block_port"], "error: --torch 'resnet_block_port': expected PKG.MODULE:FACTORY, "
                 "e.g. mymodels.net:make_model", id="factory-no_colon"),
    pytest.param(["--torch", "resnet_block_port:faithful_port", "--input-shape", "2,8,8,3"], "error: inputs: shape "
                 "(2, 8, 8, 3) does not fit the Keras model's input shape (None, 16, 16, 3) (None: any size)",
                 id="inputs-wrong_shape"),
    pytest.param(["--torch", "resnet_block_port:faithful_port", "--map", "stem=stem.conv"], "error: mapping names "
                 "Keras layer 'stem', which the Keras model does not have; its layers: stem_conv, stem_bn, ",
                 id="mapping-unknown_keras_layer"),
])
def test_cli_exit_2_one_line_saying_what_to_fix(saved_resnet, monkeypatch, capsys, argv, line):
    """Usage and mapping errors exit 2 with one line on stderr that says what to fix."""
    assert _cli(monkeypatch, "--keras", saved_resnet, *argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(line), err


def test_cli_refuses_a_keras_file_that_does_not_load(monkeypatch, tmp_path, capsys):
    """A .keras file Keras cannot read exits 2 naming the file."""
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip archive")
    assert _cli(monkeypatch, "--keras", bad, "--torch", "resnet_block_port:faithful_port") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --keras {str(bad)!r} does not load as a Keras model: ") and err.count("\n") == 1


def test_cli_usage_error_in_a_child_process(tmp_path):
    """`python -m equivalence check` itself: a missing file exits 2 with one line, before any framework loads."""
    run = subprocess.run([sys.executable, "-m", "equivalence", "check", "--keras", "missing.keras", "--torch",
                          "pkg.mod:make"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr) == (2, "error: --keras 'missing.keras': no such file\n")


# ------------------------------------------------------------------------------------------------ pytest plugin
def test_plugin_markers_and_profiles_are_the_suites():
    """The plugin gives users the suite's own markers (as pyproject.toml declares them) and Hypothesis profiles
    (as the root conftest registers them), not copies that drift."""
    import tomllib

    from hypothesis import settings

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert set(user.MARKERS) <= set(declared)
    for name, kw in user.profiles().items():
        profile = settings.get_profile(name)
        for key, value in kw.items():
            got = getattr(profile, key)
            assert (set(got) if isinstance(value, list) else got) == (set(value) if isinstance(value, list)
                                                                       else value), (name, key)
    toml = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert toml["project"]["entry-points"]["pytest11"] == {"equivalence": "equivalence.plugins.user"}


def test_plugin_adds_nothing_to_this_suite(request):
    """In the project's own run (markers in pyproject, profiles in the conftest) the plugin registers nothing
    twice: the profiles stay the conftest's objects and the marker lines are unchanged."""
    from hypothesis import settings

    before = {name: settings.get_profile(name) for name in user.profiles()}
    markers = list(request.config.getini("markers"))
    user.pytest_configure(request.config)
    assert all(settings.get_profile(name) is p for name, p in before.items())
    assert list(request.config.getini("markers")) == markers


@pytest.mark.slow
def test_plugin_serves_a_users_suite(tmp_path):
    """A user's suite with the plugin (as the pytest11 entry point loads it) gets the fixture, the suite's markers
    under --strict-markers and its Hypothesis profiles, with warnings as errors."""
    (tmp_path / "test_mine.py").write_text(
        "import pytest\nfrom hypothesis import settings\n\n"
        "@pytest.mark.slow\n@pytest.mark.layers\n"
        "def test_uses_plugin(assert_models_equivalent):\n"
        "    import equivalence\n"
        "    assert assert_models_equivalent is equivalence.assert_models_equivalent\n"
        "    assert settings.get_current_profile_name() == 'thorough'\n"
        "    assert settings().max_examples == 300\n")
    from importlib.metadata import entry_points

    installed = any(ep.value == "equivalence.plugins.user" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "equivalence.plugins.user"]  # what the entry point does once installed
    run = subprocess.run([sys.executable, "-m", "pytest", *load, "-p", "no:cacheprovider", "-p", "no:xdist",
                          "--strict-markers", "-W", "error", "--hypothesis-profile", "thorough", "-q", "test_mine.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


# ------------------------------------------------------------------------------------------------ other kinds
def _attention(heads: int = 2):
    """Self-attention (2 heads of 4) -> LayerNorm -> Flatten -> Dense, and its torch port (torch.flatten: no
    module)."""
    from equivalence import runtime

    torch, keras = runtime.torch(), runtime.keras()
    keras.utils.set_random_seed(0)
    L = keras.layers
    inp = keras.Input((5, 8))
    y = L.LayerNormalization(epsilon=1e-5, name="ln")(L.MultiHeadAttention(num_heads=2, key_dim=4, name="attn")(inp, inp))
    km = keras.Model(inp, L.Dense(3, name="head")(L.Flatten(name="flat")(y)))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = torch.nn.MultiheadAttention(8, heads, batch_first=True)
            self.norm, self.fc = torch.nn.LayerNorm(8), torch.nn.Linear(40, 3)

        def forward(self, x):
            return self.fc(torch.flatten(self.norm(self.mha(x, x, x, need_weights=False)[0]), 1))

    return km, Net().eval()


@pytest.mark.parametrize("transfer", ["keras_to_torch", "torch_to_keras"])
def test_attention_projections_transfer(transfer):
    """Keras' per-head query/key/value/output kernels map onto torch's packed in_proj_weight and out_proj both ways
    (forward and every gradient agree, the key bias's ~0 gradient included); a head count that differs is the
    first divergence, at the attention layer."""
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    km, tm = _attention()
    r = check_pair(km, tm, x, transfer=transfer)
    assert r.equivalent, r.summary()
    assert [b.part for b in r.grads[:8]] == ["query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel",
                                            "value/bias", "attention_output/kernel", "attention_output/bias"]
    km, tm = _attention(heads=4)
    fd = check_pair(km, tm, x, transfer=transfer, grads=False).first_divergence
    assert (fd.keras_layer, fd.torch_module, fd.causes) == ("attn", "mha", [(None, "attention heads: Keras 2, torch 4")])


def test_recurrent_gates_and_split_bias():
    """A GRU's gate order and bias split and an LSTM's one bias map onto torch (forward and gradients agree in
    training mode); after one SGD step torch's two LSTM biases have both moved, so the bias they sum to moved twice
    as far: the step diverges there and names 'lstm-bias-count'."""
    from equivalence import runtime

    torch, keras = runtime.torch(), runtime.keras()
    keras.utils.set_random_seed(0)
    inp = keras.Input((5, 4))
    y = keras.layers.LSTM(2, name="lstm")(keras.layers.GRU(3, return_sequences=True, name="gru")(inp))
    km = keras.Model(inp, keras.layers.Dense(2, name="out")(y))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn1, self.rnn2 = torch.nn.GRU(4, 3, batch_first=True), torch.nn.LSTM(3, 2, batch_first=True)
            self.fc = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(self.rnn2(self.rnn1(x)[0])[0][:, -1])

    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype(np.float32)
    r = check_pair(km, Net().eval(), x, transfer="keras_to_torch", training=True, step=("sgd", {"learning_rate": 0.1}))
    assert all(b.ok for b in r.layers + r.grads), r.summary()
    assert [(b.keras_layer, b.part) for b in r.step if not b.ok] == [("lstm", "bias")]
    assert r.first_divergence.causes[0][0] == "lstm-bias-count"
    assert r.structure.lines()[0].endswith("(-8 [lstm-bias-count])")
