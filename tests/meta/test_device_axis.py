"""The device axis (issue 11): every op case once per device, the device verdict made by the engine, and the
per-device overrides as fields on the records.

No CUDA machine runs the default suite, so the device check's logic is exercised here on a stand-in accelerator:
the CPU itself, which must pass, and a CPU with a mutated kernel, which must fail naming the device.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equivalence import runtime
from equivalence.catalog.opinfo import OnDevice, Sample
from equivalence.catalog.ops import OP_DB, by_id
from equivalence.checks import ACCELERATORS, DEVICES, axes, ops as op_check
from equivalence.compare import EquivalenceMismatch
from equivalence.sides import side_for

pytestmark = pytest.mark.meta


def test_every_op_case_runs_on_every_device_and_accelerators_are_gpu_marked(request):
    """test_op_matches has one case per record x dtype x device; the accelerator ones carry the gpu marker."""
    params = axes.on_devices([pytest.param(info, d, id=f"{info.id}-{d}") for info in OP_DB for d in info.dtypes])
    ids = [p.id for p in params]
    assert len(ids) == len(set(ids)) == sum(len(i.dtypes) for i in OP_DB) * len(DEVICES)
    for p in params:
        gpu = any(m.name == "gpu" for m in p.marks)
        assert gpu == (p.values[-1] != "cpu"), p.id
        assert p.id.endswith(f"-{p.values[-1]}")


def test_device_overrides_name_known_devices_and_dtypes():
    """OpInfo.on_device: keys are accelerators the axis knows, per-dtype entries name dtypes the record runs in."""
    found = [info for info in OP_DB if info.on_device]
    assert {"matmul", "gelu-exact", "hard_sigmoid", "conv2d-valid"} <= {i.id for i in found}
    for info in found:
        for device, over in info.on_device.items():
            assert device in ACCELERATORS and isinstance(over, OnDevice), info.id
            assert set(over.unsupported) | set(over.tolerance) <= set(info.dtypes), info.id


def _cpu_as_accelerator(monkeypatch, mutate=None):
    """The engine's device path with torch on the CPU standing in for CUDA (optionally with a mutated kernel)."""
    def on_device(fn, side, device, args, kwargs):
        out = side_for("torch", "cpu").call(fn, *args, **kwargs)
        return tuple(mutate(o) for o in out) if mutate else out
    monkeypatch.setattr(op_check, "running_on", lambda device: ["torch"])
    monkeypatch.setattr(op_check, "_on_device", on_device)


_X = Sample((np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6),), {}, "unary")
_AB = Sample((np.arange(12, dtype=np.float32).reshape(3, 4) / 7, np.arange(8, dtype=np.float32).reshape(4, 2) - 3),
             {}, "matmul")


@pytest.mark.parametrize("op_id,sample", [("exp", _X), ("tanh", _X), ("matmul", _AB)])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())  # the engine records hypothesis notes: it runs inside a test
def test_device_check_passes_where_the_device_computes_what_the_cpu_does(op_id, sample, hypothesis_context,
                                                                          monkeypatch):
    _cpu_as_accelerator(monkeypatch)
    op_check.check_op(by_id(op_id), "float32", sample, device="cuda")


@pytest.mark.parametrize("op_id,sample", [("exp", _X), ("matmul", _AB)])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_device_check_fails_on_a_kernel_off_by_1e_4(op_id, sample, hypothesis_context, monkeypatch):
    """A device kernel 1e-4 relative off fails against float64 and the CPU, and the message names the device."""
    _cpu_as_accelerator(monkeypatch, mutate=lambda o: o * (1 + 1e-4))
    with pytest.raises(EquivalenceMismatch, match=r"on cuda"):
        op_check.check_op(by_id(op_id), "float32", sample, device="cuda")


@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_documented_missing_kernel_that_runs_fails_naming_the_override(hypothesis_context, monkeypatch):
    """An OnDevice.unsupported entry is asserted, not skipped: a device that runs the op fails, naming the override."""
    _cpu_as_accelerator(monkeypatch)
    info = dataclasses.replace(by_id("exp"), on_device={"cuda": OnDevice(unsupported={
        "float32": (NotImplementedError, "no kernel")})})
    with pytest.raises(AssertionError, match=r"documented as raising NotImplementedError.*remove the override"):
        op_check.check_op(info, "float32", _X, device="cuda")


def test_accelerator_samples_leave_out_overflowing_sums_and_the_records_grad_kinds():
    """On an accelerator: 'huge' out of accumulating ops (summation order decides inf vs NaN), the record's
    grad_avoid out of its gradient samples; on the CPU neither."""
    matmul, conv = by_id("matmul"), by_id("conv2d-valid")
    assert "huge" in op_check.avoided(matmul, "float32", [], "cuda") - op_check.avoided(matmul, "float32", [], "cpu")
    assert {"inf", "nan"} <= op_check.avoided(conv, "float32", [], "cuda", grad=True)
    assert not {"inf", "nan"} & op_check.avoided(conv, "float32", [], "cpu", grad=True)


def test_device_sides_are_empty_without_an_accelerator():
    """Where torch sees no CUDA (this CI machine), the engine finds no framework to run there."""
    if runtime.torch_cuda_available():
        pytest.skip("this machine has CUDA: the device tests themselves run here (-m gpu)")
    assert "torch" not in op_check.running_on("cuda")


# ---------------------------------------------------------------- the other checks' device paths (grads, models, steps)
# The same trick one level down: a CPU side registered as the accelerator's (sides.SIDES), so the engine's device
# code runs whole - placement by the side's device, the device verdict, the messages - with a correct stand-in
# (must pass) and a mutated one (must fail naming the device).
def _stand_in(monkeypatch, framework: str, **overrides):
    """A CPU side of `framework`, with methods `overrides`, standing in as its accelerator side."""
    from equivalence import sides

    base = sides.TorchSide if framework == "torch" else sides.TFSide
    standing = type(f"StandIn{base.__name__}", (base,), overrides)("cpu")
    monkeypatch.setitem(sides.SIDES, "torch-cuda" if framework == "torch" else "tf-gpu", standing)
    return standing


def _grads_x(factor: float):
    """op_vjp whose gradients are `factor` times the CPU's (values unchanged)."""
    def op_vjp(self, *args, **kwargs):
        from equivalence.sides import TorchSide, Vjp

        vjp = TorchSide.op_vjp(self, *args, **kwargs)
        return Vjp([None if g is None else g * factor for g in vjp.grads], vjp.outputs)
    return op_vjp


def _outputs_x(base_name: str, factor: float):
    """call whose outputs are `factor` times the CPU's."""
    def call(self, fn, *args, **kwargs):
        from equivalence import sides

        return tuple(y * factor for y in getattr(sides, base_name).call(self, fn, *args, **kwargs))
    return call


KERAS_ADAM_EPS = 1e-7  # a plausible wrong epsilon: Keras' default where torch's (1e-8) is asked for


def _wrong_eps(optimizer, eps=KERAS_ADAM_EPS):
    for group in optimizer.param_groups:
        group["eps"] = eps if group["eps"] != eps else 10 * eps
    return optimizer


def _train_step_wrong_eps(self, model, x, loss, optimizer, **kwargs):
    from equivalence.sides import TorchSide

    return TorchSide.train_step(self, model, x, loss, _wrong_eps(optimizer), **kwargs)


def _trajectory_wrong_eps(self, info, p0, grads):
    from equivalence.sides import TorchSide

    wrong = dataclasses.replace(info, torch=lambda params, hyper: _wrong_eps(info.torch(params, hyper)))
    return TorchSide.optimizer_trajectory(self, wrong, p0, grads)


@pytest.mark.parametrize("op_id,sample", [("exp", _X), ("tanh", _X), ("matmul", _AB)])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_grad_device_check_passes_on_a_cpu_stand_in(op_id, sample, hypothesis_context, monkeypatch):
    from equivalence.checks import check_grad

    _stand_in(monkeypatch, "torch")
    check_grad(by_id(op_id), sample, device="cuda")


@pytest.mark.parametrize("op_id,sample", [("exp", _X), ("matmul", _AB)])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_grad_device_check_fails_on_gradients_off_by_1e_4(op_id, sample, hypothesis_context, monkeypatch):
    """Device gradients 1e-4 relative off fail against float64 and the CPU, and the message names the device."""
    from equivalence.checks import check_grad

    _stand_in(monkeypatch, "torch", op_vjp=_grads_x(1 + 1e-4))
    with pytest.raises(EquivalenceMismatch, match=r"grad arg\d on cuda"):
        check_grad(by_id(op_id), sample, device="cuda")


@pytest.fixture(scope="module")
def seed_mlp():
    from equivalence.models import build_pair
    from equivalence.zoo import seed_models

    return build_pair(seed_models()["seed_mlp"], seed=0)


@pytest.mark.parametrize("mutated", [None, "torch", "tf"])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_model_forward_device_check_on_cpu_stand_ins(mutated, hypothesis_context, monkeypatch, seed_mlp):
    """Both frameworks stand in on the accelerator: as the CPU they pass; one with outputs x(1 + 1e-4) fails,
    naming that framework and the device."""
    from equivalence.checks import check_model

    for framework, base in (("torch", "TorchSide"), ("tf", "TFSide")):
        _stand_in(monkeypatch, framework, **({"call": _outputs_x(base, 1 + 1e-4)} if framework == mutated else {}))
    x = seed_mlp.sample_input(seed=3)
    if mutated is None:
        check_model(seed_mlp, x, "cuda")
        return
    with pytest.raises(EquivalenceMismatch, match=rf"\({mutated} on cuda\)"):
        check_model(seed_mlp, x, "cuda")


@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_model_step_device_check_passes_on_a_cpu_stand_in(hypothesis_context, monkeypatch):
    from equivalence.checks import check_model_step
    from equivalence.zoo import seed_models

    _stand_in(monkeypatch, "torch")
    check_model_step(seed_models()["seed_mlp"], "cuda")


@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_model_step_device_check_fails_on_adam_with_the_wrong_epsilon(hypothesis_context, monkeypatch):
    """The device's Adam with Keras' epsilon (1e-7 for torch's 1e-8): gradients agree, the step fails, on cuda."""
    from equivalence.checks import check_model_step
    from equivalence.zoo import seed_models

    _stand_in(monkeypatch, "torch", train_step=_train_step_wrong_eps)
    with pytest.raises(EquivalenceMismatch, match=r"on cuda vs (float64|cpu): \d+/\d+ weights off after one Adam"):
        check_model_step(seed_models()["seed_mlp"], "cuda")


def _typical(info):
    from equivalence.training import TYPICAL_UPDATE_CASE

    unit, p0 = TYPICAL_UPDATE_CASE
    return p0, (unit * info.grad_scale).astype(np.float32)


@pytest.mark.parametrize("opt_id", ["adam-defaults", "adam-tiny_eps", "sgd-momentum"])
@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_step_device_check_passes_on_a_cpu_stand_in(opt_id, hypothesis_context, monkeypatch):
    from equivalence.catalog.optimizers import by_id as optimizer
    from equivalence.checks import check_step

    _stand_in(monkeypatch, "torch")
    check_step(optimizer(opt_id), *_typical(optimizer(opt_id)), device="cuda")


@settings(max_examples=1, database=None)
@given(hypothesis_context=st.none())
def test_step_device_check_fails_on_adam_with_the_wrong_epsilon(hypothesis_context, monkeypatch):
    """adam-defaults (eps 1e-7, gradients ~1e-6) stepped on the device with eps 1e-6 fails, naming the device."""
    from equivalence.catalog.optimizers import by_id as optimizer
    from equivalence.checks import check_step

    _stand_in(monkeypatch, "torch", optimizer_trajectory=_trajectory_wrong_eps)
    info = optimizer("adam-defaults")
    with pytest.raises(EquivalenceMismatch, match=r"adam-defaults updates on cuda"):
        check_step(info, *_typical(info), device="cuda")
