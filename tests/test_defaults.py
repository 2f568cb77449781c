"""Every constructor default the suite relies on, pinned: the committed snapshot and behavioural pins.

One test per class/function of equivalence/defaults.py (test id = its qualified name) compares today's defaults
with fixtures/defaults/keras-<v>_torch-<v>.json and names each changed, added or removed parameter; mutation tests
prove that a changed Keras or torch default is reported by class and parameter. The behavioural pins run both
frameworks where a default changes the numbers (Huber delta / SmoothL1 beta, MSE and KLDiv reductions, Dropout p,
Conv/Pool padding and bias, SGD nesterov, CrossEntropy ignore_index, zero_grad(set_to_none)) and assert the
values each side gives.
"""
from __future__ import annotations

import functools
import inspect
import json
import math
import warnings

import numpy as np
import pytest

from equivalence import runtime, defaults

pytestmark = pytest.mark.catalogue


def _needs_tf():
    if not runtime.has_module("tensorflow"):
        pytest.skip("Keras defaults need TensorFlow, which is not installed here")


@functools.cache
def _committed():
    return defaults.load_committed()


def _skip_without(committed: dict | None) -> dict:
    if committed is None:
        v = defaults.snapshot_versions()
        pytest.skip(f"no committed defaults snapshot for keras {v['keras']} / torch {v['torch']} "
                    f"({defaults.snapshot_path().name}); create it with `{defaults.GENERATOR}`")
    return committed


def _committed_or_skip() -> dict:
    return _skip_without(_committed())


def _changes(qualname: str) -> list[str]:
    committed = _committed_or_skip()
    assert qualname in committed, f"{qualname}: missing from {defaults.snapshot_path()}; rewrite it with " \
                                  f"`{defaults.GENERATOR}`"
    return defaults.compare(qualname, committed[qualname], defaults.defaults_of(qualname))


# ---------------------------------------------------------------- the snapshot
@pytest.mark.parametrize("qualname", defaults.names())
def test_defaults_unchanged(qualname):
    """Every default of this class/function (signature, get_config / instance attributes) is the committed one."""
    if qualname.startswith("keras."):
        _needs_tf()
    changes = _changes(qualname)
    assert not changes, "\n".join(changes) + f"\n(if the upgrade is intended: `{defaults.GENERATOR}`, and check " \
                                             "every mapping that relies on the changed default)"


def test_snapshot_lists_exactly_the_suite_classes():
    """The committed file holds every name of equivalence.defaults and nothing else, and every instance built."""
    committed = _committed_or_skip()
    listed = set(defaults.names())
    assert sorted(listed - set(committed)) == [], "names missing from the committed snapshot"
    assert sorted(set(committed) - listed) == [], "committed names no longer in equivalence.defaults"
    failed = {n: d["<build error>"] for n, d in committed.items() if "<build error>" in d}
    assert not failed, f"instances that could not be built with defaults.REQUIRED: {failed}"
    assert len(defaults.KERAS) == len(set(defaults.KERAS)) and len(defaults.TORCH) == len(set(defaults.TORCH))


def test_other_versions_skip_saying_how_to_create_a_snapshot(monkeypatch):
    """A matrix env (another Keras) has no committed file: its tests skip with the command that writes one."""
    monkeypatch.setattr(defaults, "snapshot_versions", lambda: {"keras": "3.9.2", "torch": "2.13.0"})
    assert defaults.load_committed() is None
    with pytest.raises(pytest.skip.Exception, match=r"^no committed defaults snapshot for keras 3.9.2 / torch 2.13.0 "
                                                    r"\(keras-3.9.2_torch-2.13.0.json\); create it with "
                                                    r"`python -m equivalence defaults --write`$"):
        _skip_without(defaults.load_committed())


def test_compare_names_class_parameter_and_values():
    """The comparison's wording, and a bool is not the int it equals (True == 1 in Python)."""
    old = {"beta": 1.0, "flag": 1, "gone": None}
    new = {"beta": 0.5, "flag": True, "new": "x"}
    assert defaults.compare("torch.nn.Thing", old, new) == [
        "torch.nn.Thing: parameter beta default changed from 1.0 to 0.5",
        "torch.nn.Thing: parameter flag default changed from 1 to True",
        "torch.nn.Thing: parameter gone removed (default was None)",
        "torch.nn.Thing: parameter new added (default 'x')",
    ]
    assert defaults.compare("torch.nn.Thing", old, dict(old)) == []
    # the pins' assertion names the value that moved (pins compare floats from a float32 log within 1e-6)
    with pytest.raises(AssertionError, match=r"pin: torch KLDivLoss\(\): observed 0.0719, documented 0.036 ± "):
        _assert_observed("pin", {"torch KLDivLoss()": 0.0719}, {"torch KLDivLoss()": pytest.approx(0.036, rel=1e-6)})


def test_stable_values_are_json_and_address_free():
    torch = runtime.torch()
    assert defaults.stable((0.9, 0.999)) == [0.9, 0.999]
    assert defaults.stable(float("inf")) == "inf"
    assert defaults.stable(torch.float32) == "torch.float32"
    assert defaults.stable(object()) == "<object object>"
    json.dumps(defaults.snapshot(("torch.optim.Adam", "torch.nn.functional.gelu")), allow_nan=False)


def _with_default(func, **new_defaults):
    """A wrapper of `func` whose signature AND behaviour use `new_defaults` (an upgrade that changed them)."""
    sig = inspect.signature(func)

    def wrapper(*args, **kwargs):
        bound = sig.bind_partial(*args, **kwargs)
        for name, value in new_defaults.items():
            bound.arguments.setdefault(name, value)
        return func(*bound.args, **bound.kwargs)

    wrapper.__signature__ = sig.replace(parameters=[p.replace(default=new_defaults.get(p.name, p.default))
                                                    for p in sig.parameters.values()])
    return wrapper


def test_changed_keras_default_is_named(monkeypatch):
    """A Keras upgrade that turned Dense's use_bias off fails keras.layers.Dense's test, naming the parameter."""
    _needs_tf()
    keras = runtime.keras()
    monkeypatch.setattr(keras.layers.Dense, "__init__", _with_default(keras.layers.Dense.__init__, use_bias=False))
    changes = _changes("keras.layers.Dense")
    assert changes == ["keras.layers.Dense: parameter use_bias default changed from True to False",
                       "keras.layers.Dense: parameter config.use_bias default changed from True to False"]
    with pytest.raises(AssertionError, match="keras.layers.Dense: parameter use_bias default changed from True to"):
        test_defaults_unchanged("keras.layers.Dense")
    # and the behavioural pin sees it too: Dense(3) on 2 features has 6 parameters, not 9
    assert observe_conv_pool()["keras Dense(3) params"] == 6


def test_changed_torch_default_is_named(monkeypatch):
    """A torch upgrade that changed SmoothL1Loss's beta to 0.5 fails its test and the Huber/SmoothL1 pin."""
    torch = runtime.torch()
    monkeypatch.setattr(torch.nn.SmoothL1Loss, "__init__", _with_default(torch.nn.SmoothL1Loss.__init__, beta=0.5))
    assert _changes("torch.nn.SmoothL1Loss") == [
        "torch.nn.SmoothL1Loss: parameter beta default changed from 1.0 to 0.5",
        "torch.nn.SmoothL1Loss: parameter attr.beta default changed from 1.0 to 0.5"]
    assert observe_huber(keras_side=False)["torch SmoothL1Loss()"] == 1.0  # documented: 0.8125


def test_added_and_removed_parameters_are_named(monkeypatch):
    """zero_grad losing set_to_none and gaining a parameter: both reported under its qualified name."""
    torch = runtime.torch()

    def zero_grad(self, clear=True):
        pass

    monkeypatch.setattr(torch.optim.Optimizer, "zero_grad", zero_grad)
    assert _changes("torch.optim.Optimizer.zero_grad") == [
        "torch.optim.Optimizer.zero_grad: parameter set_to_none removed (default was True)",
        "torch.optim.Optimizer.zero_grad: parameter clear added (default True)"]


def test_cli_checks_and_writes(tmp_path, capsys):
    """`python -m equivalence defaults`: 0 against a fresh snapshot, 1 naming the change against an edited one."""
    _needs_tf()
    out = tmp_path / "snap.json"
    assert defaults.main(["--write", "--out", str(out)]) == 0
    if _committed() is not None:
        assert json.loads(out.read_text())["defaults"] == _committed(), "committed snapshot is not a fresh write"
    doc = json.loads(out.read_text())
    doc["defaults"]["torch.nn.HuberLoss"]["delta"] = 2.0
    out.write_text(json.dumps(doc))
    capsys.readouterr()
    assert defaults.main(["--out", str(out)]) == 1
    assert "torch.nn.HuberLoss: parameter delta default changed from 2.0 to 1.0" in capsys.readouterr().err
    assert defaults.main(["--out", str(tmp_path / "none.json")]) == 2


# ---------------------------------------------------------------- behavioural pins
def _assert_observed(what: str, observed: dict, expected: dict) -> None:
    diff = [f"{what}: {k}: observed {observed.get(k, '<missing>')!r}, documented {v!r}"
            for k, v in expected.items() if observed.get(k, "<missing>") != v]
    diff += [f"{what}: {k}: observed {observed[k]!r}, not documented" for k in observed if k not in expected]
    assert not diff, "\n".join(diff)


def _t(x, dtype=None):
    torch = runtime.torch()
    return torch.tensor(np.asarray(x), dtype=dtype or torch.float32)


def observe_huber(keras_side: bool = True) -> dict:
    """|error| 0.5 (inside delta 1) and 2.0 (outside): Huber(1) = mean(0.5*0.25, 2 - 0.5) = 0.8125.

    delta (or beta) 0.5 would give 0.5 (Keras Huber, torch HuberLoss) and 1.0 (SmoothL1 = Huber(beta)/beta).
    """
    torch = runtime.torch()
    F = torch.nn.functional
    y, p = np.zeros((1, 2), np.float32), np.array([[0.5, 2.0]], np.float32)
    out = {"torch HuberLoss()": torch.nn.HuberLoss()(_t(p), _t(y)).item(),
           "torch SmoothL1Loss()": torch.nn.SmoothL1Loss()(_t(p), _t(y)).item(),
           "torch F.huber_loss": F.huber_loss(_t(p), _t(y)).item(),
           "torch F.smooth_l1_loss": F.smooth_l1_loss(_t(p), _t(y)).item()}
    if keras_side:
        out["keras Huber()"] = float(runtime.keras().losses.Huber()(y, p))
    return out


def test_pin_huber_delta_and_smooth_l1_beta():
    _needs_tf()
    _assert_observed("Huber delta / SmoothL1 beta defaults (1.0)", observe_huber(),
                     {"keras Huber()": 0.8125, "torch HuberLoss()": 0.8125, "torch SmoothL1Loss()": 0.8125,
                      "torch F.huber_loss": 0.8125, "torch F.smooth_l1_loss": 0.8125})


def test_pin_mse_reduction_is_mean():
    """Squared errors 1, 4, 9, 16: 'mean' gives 7.5 on both (sum 30; 'none' a (2, 2) tensor)."""
    _needs_tf()
    torch, keras = runtime.torch(), runtime.keras()
    y, p = np.zeros((2, 2), np.float32), np.array([[1, 2], [3, 4]], np.float32)
    k = keras.losses.MeanSquaredError()(y, p)
    t, f = torch.nn.MSELoss()(_t(p), _t(y)), torch.nn.functional.mse_loss(_t(p), _t(y))
    _assert_observed("MSE reduction default", {
        "keras MeanSquaredError()": (float(k), list(k.shape)),
        "torch MSELoss()": (t.item(), list(t.shape)), "torch F.mse_loss": (f.item(), list(f.shape))},
        {"keras MeanSquaredError()": (7.5, []), "torch MSELoss()": (7.5, []), "torch F.mse_loss": (7.5, [])})


def test_pin_kl_div_reduction():
    """KL(p || q) per sample [0, ln(4/3)/2]: Keras averages over the batch (ln(4/3)/4); torch's default 'mean'
    divides by every element, N*C = 4 (ln(4/3)/8), and warns that 'batchmean' is the KL definition."""
    _needs_tf()
    torch, keras = runtime.torch(), runtime.keras()
    p = np.array([[0.5, 0.5], [0.5, 0.5]], np.float32)
    q = np.array([[0.5, 0.5], [0.25, 0.75]], np.float32)
    total = 0.5 * math.log(4 / 3)  # sum over samples and classes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = torch.nn.KLDivLoss()(_t(q).log(), _t(p)).item()
        f = torch.nn.functional.kl_div(_t(q).log(), _t(p)).item()
    warned = sum("batchmean" in str(w.message) for w in caught)
    # float32 log: observed relative errors 1.5e-7 (Keras), 5.6e-8 (torch) against the float64 value
    _assert_observed("KL divergence reduction default", {
        "keras KLDivergence()": float(keras.losses.KLDivergence()(p, q)), "torch KLDivLoss()": t,
        "torch F.kl_div": f, "torch 'mean' warnings naming batchmean": warned},
        {"keras KLDivergence()": pytest.approx(total / 2, rel=1e-6),
         "torch KLDivLoss()": pytest.approx(total / 4, rel=1e-6), "torch F.kl_div": pytest.approx(total / 4, rel=1e-6),
         "torch 'mean' warnings naming batchmean": 2})


def test_pin_dropout_default_rate():
    """torch nn.Dropout() drops with p=0.5 (kept values scaled by exactly 1/(1-p) = 2); Keras Dropout has no default."""
    _needs_tf()
    torch, keras = runtime.torch(), runtime.keras()
    out = torch.nn.Dropout().train()(torch.ones(1, 2000))
    try:
        keras.layers.Dropout()
        keras_error = None
    except TypeError as e:
        keras_error = ("TypeError", "required positional argument: 'rate'" in str(e))
    _assert_observed("Dropout default rate", {
        "torch Dropout() values": sorted(set(out.flatten().tolist())), "keras Dropout() error": keras_error},
        {"torch Dropout() values": [0.0, 2.0], "keras Dropout() error": ("TypeError", True)})


def observe_conv_pool() -> dict:
    """A 7x7x2 input: 'valid' padding gives 5x5 (conv 3) and 3x3 (pool 2, stride = pool size); bias adds out_ch."""
    torch, keras = runtime.torch(), runtime.keras()
    L, nn = keras.layers, torch.nn
    x = np.ones((1, 7, 7, 2), np.float32)
    xt = torch.ones(1, 2, 7, 7)
    out = {}
    for name, layer, inp in [("keras Conv2D(4, 3)", L.Conv2D(4, 3), x), ("keras Conv1D(4, 3)", L.Conv1D(4, 3), x[:, 0]),
                             ("keras MaxPooling2D()", L.MaxPooling2D(), x),
                             ("keras AveragePooling2D(2)", L.AveragePooling2D(2), x)]:
        out[name] = list(layer(inp).shape)
        if "Conv" in name:
            out[name + " params"] = layer.count_params()
    dense = L.Dense(3)
    dense(x[:, 0, 0])
    out["keras Dense(3) params"] = dense.count_params()
    for name, module, inp in [("torch Conv2d(2, 4, 3)", nn.Conv2d(2, 4, 3), xt),
                              ("torch Conv1d(2, 4, 3)", nn.Conv1d(2, 4, 3), xt[:, :, 0]),
                              ("torch MaxPool2d(2)", nn.MaxPool2d(2), xt), ("torch AvgPool2d(2)", nn.AvgPool2d(2), xt)]:
        out[name] = list(module(inp).shape)
        if "Conv" in name:
            out[name + " params"] = sum(p.numel() for p in module.parameters())
    out["torch Linear(2, 3) params"] = sum(p.numel() for p in nn.Linear(2, 3).parameters())
    return out


def test_pin_conv_pool_padding_and_bias():
    """Default padding 'valid' / 0 and a bias on both (Keras NHWC/NLC shapes, torch NCHW/NCL)."""
    _needs_tf()
    _assert_observed("Conv/Pool default padding and bias", observe_conv_pool(), {
        "keras Conv2D(4, 3)": [1, 5, 5, 4], "keras Conv2D(4, 3) params": 3 * 3 * 2 * 4 + 4,
        "keras Conv1D(4, 3)": [1, 5, 4], "keras Conv1D(4, 3) params": 3 * 2 * 4 + 4,
        "keras MaxPooling2D()": [1, 3, 3, 2], "keras AveragePooling2D(2)": [1, 3, 3, 2], "keras Dense(3) params": 9,
        "torch Conv2d(2, 4, 3)": [1, 4, 5, 5], "torch Conv2d(2, 4, 3) params": 76,
        "torch Conv1d(2, 4, 3)": [1, 4, 5], "torch Conv1d(2, 4, 3) params": 28,
        "torch MaxPool2d(2)": [1, 2, 3, 3], "torch AvgPool2d(2)": [1, 2, 3, 3], "torch Linear(2, 3) params": 9})


def test_pin_sgd_nesterov_off():
    """lr 0.5, momentum 0.5, gradient 1 twice from 0: classic momentum gives -0.5, -1.25 (Nesterov: -0.75, -1.625)."""
    _needs_tf()
    torch, keras, tf = runtime.torch(), runtime.keras(), runtime.tf()
    var = keras.Variable(np.zeros(1, np.float32))
    opt = keras.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    k_traj = []
    for _ in range(2):
        opt.apply_gradients([(tf.constant([1.0]), var)])
        k_traj.append(float(var.numpy()[0]))
    param = torch.nn.Parameter(torch.zeros(1))
    topt = torch.optim.SGD([param], lr=0.5, momentum=0.5)
    t_traj = []
    for _ in range(2):
        param.grad = torch.ones(1)
        topt.step()
        t_traj.append(param.item())
    _assert_observed("SGD nesterov default", {"keras SGD(momentum=0.5)": k_traj, "torch SGD(momentum=0.5)": t_traj},
                     {"keras SGD(momentum=0.5)": [-0.5, -1.25], "torch SGD(momentum=0.5)": [-0.5, -1.25]})


def test_pin_cross_entropy_ignore_index():
    """A target of -100 is ignored by torch (mean over the 2 other rows: ln 2); Keras (ignore_class=None) rejects it."""
    _needs_tf()
    torch, keras, tf = runtime.torch(), runtime.keras(), runtime.tf()
    logits = np.array([[0.0, 0.0], [9.0, -9.0], [0.0, 0.0]], np.float32)
    labels = np.array([0, -100, 1])
    t = torch.nn.CrossEntropyLoss()(_t(logits), _t(labels, torch.int64)).item()
    f = torch.nn.functional.cross_entropy(_t(logits), _t(labels, torch.int64)).item()
    try:
        keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
        keras_error = None
    except tf.errors.InvalidArgumentError as e:
        keras_error = ("InvalidArgumentError", "label value of -100" in str(e))
    _assert_observed("CrossEntropy ignore_index default", {
        "torch CrossEntropyLoss()": t, "torch F.cross_entropy": f,
        "keras SparseCategoricalCrossentropy()": keras_error},
        {"torch CrossEntropyLoss()": pytest.approx(math.log(2), rel=1e-6),  # float32 log: observed 2.7e-9 relative
         "torch F.cross_entropy": pytest.approx(math.log(2), rel=1e-6),
         "keras SparseCategoricalCrossentropy()": ("InvalidArgumentError", True)})


def test_pin_zero_grad_sets_none():
    """zero_grad() (set_to_none=True) leaves every .grad None, on the optimizer and the module; Keras has none."""
    _needs_tf()
    torch, keras = runtime.torch(), runtime.keras()
    module = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    observed = {}
    for name, clear in [("torch Optimizer.zero_grad()", opt.zero_grad), ("torch Module.zero_grad()", module.zero_grad)]:
        module(torch.ones(1, 2)).sum().backward()
        assert all(p.grad is not None for p in module.parameters())
        clear()
        observed[name] = [None if p.grad is None else p.grad.tolist() for p in module.parameters()]
    observed["keras optimizer has zero_grad"] = hasattr(keras.optimizers.SGD(), "zero_grad")
    _assert_observed("zero_grad set_to_none default", observed, {
        "torch Optimizer.zero_grad()": [None, None], "torch Module.zero_grad()": [None, None],
        "keras optimizer has zero_grad": False})
