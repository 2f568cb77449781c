"""The layer and model checks: spec-built forwards (check_layer, check_model, on one device) and one training step
of a spec-built torch model (check_model_step, on one device), each verdict made once.

Forward on the CPU: TF and torch against the float64 reference and each other under the model rule (Pair.tolerance:
per element where every layer has a per-element bound). On an accelerator: each framework that runs there (torch on
CUDA, Keras where TensorFlow sees a GPU) against float64 under the same rule and against itself on the CPU under
cross() of it (assert_device_agrees). With TF32 off (the root conftest) CUDA float32 kernels are IEEE float32 with
the same sqrt(depth) error growth, so a device result must be as close to float64 as a CPU result is.

One training step: gradients of 0.5*mean((y - target)^2) w.r.t. every weight and the weights after one Adam step,
torch float32 against torch float64 (on the CPU), under the gradient rule (grad_tolerance) and the Adam step's
propagated bound (assert_adam_step); on an accelerator, also against torch float32 on the CPU.
"""
from __future__ import annotations

import copy

import numpy as np
from hypothesis import currently_in_test_context, note

from .. import runtime
from ..compare import EquivalenceMismatch, assert_close, describe
from ..error_bounds import assert_forward_equivalent
from ..models import Pair, build_pair
from ..model_tolerance import accumulation_depth
from ..sides import side_for
from ..tolerances import Tolerance, eps, for_arrays
from .axes import CPU, FRAMEWORKS, device_side, unavailable
from .ops import assert_device_agrees

# ---------------------------------------------------------------- pairs
def torch_pair(spec, seed: int = 0) -> Pair:
    """A spec-built torch module with canonical weights and no Keras model (a CUDA box may have no TensorFlow)."""
    from ..sides.torch_models import build_torch
    from ..weights import init_weights, load_torch

    weights = init_weights(spec, seed)
    module = build_torch(spec)
    load_torch(module, spec, weights)
    return Pair(spec, None, module, weights)


def model_pair(spec, seed: int = 0) -> Pair:
    """build_pair where TensorFlow is installed, else the torch half alone (torch_pair)."""
    return build_pair(spec, seed=seed) if runtime.has_module("tensorflow") else torch_pair(spec, seed)


class PairCache(dict):
    """A test module's pairs by model name: `cache[name]` is model_pair(specs[name], seed), built on first use
    (the torch half alone where TF is not installed). Hold one in a module-scoped fixture."""

    def __init__(self, specs: dict, seed: int):
        super().__init__()
        self.specs, self.seed = specs, seed

    def __missing__(self, name: str) -> Pair:
        self[name] = model_pair(self.specs[name], seed=self.seed)
        return self[name]


# ---------------------------------------------------------------- forward
def check_forward(pair, x, training: bool, what: str) -> list:
    """TF and torch on the CPU against the float64 reference and each other, with the model tolerance rule."""
    __tracebackhide__ = True
    values = pair.trace(x, training)
    ref = None if values is None else values[pair.spec.layers[-1].name]
    tol = pair.tolerance(x, training, values)
    context = f"{describe('x', x)}\n{pair.describe()}"
    return assert_forward_equivalent(pair.forward_tf(x, training), pair.forward_torch(x, training), ref, tol=tol,
                                     what=f"{what} forward ({_mode(training)}, float32)", context=context)


def _mode(training: bool) -> str:
    return "training" if training else "inference"


def _on_device(pair, device: str) -> list:
    """(framework, its side on `device`, its CPU side, its model there, its model on the CPU) for each framework
    that runs on `device`; torch's module is a copy (the pair's stays on the CPU)."""
    found = []
    for framework in FRAMEWORKS:
        dev = device_side(framework, device)
        if dev.unavailable() is not None or (framework == "tf" and pair.keras is None):
            continue
        cpu_model = pair.torch if framework == "torch" else pair.keras
        model = copy.deepcopy(cpu_model).to(dev.device) if framework == "torch" else cpu_model
        found.append((framework, dev, side_for(framework, CPU), model, cpu_model))
    return found


def _check_forward_on_device(pair, x, training: bool, what: str, device: str, runs: list) -> None:
    """Each framework on `device` against float64 under the model rule and against itself on the CPU."""
    __tracebackhide__ = True
    values = pair.trace(x, training)
    ref, tol = values[pair.spec.layers[-1].name], pair.tolerance(x, training, values)
    context = f"{describe('x', x)}\n{pair.describe()}"
    for framework, dev, cpu, model, cpu_model in runs:
        got, base = dev.forward(model, pair.spec, x, training), cpu.forward(cpu_model, pair.spec, x, training)
        assert_device_agrees(f"{what} forward ({_mode(training)}, float32) ({framework} on {device})", got, ref,
                             base, tol, context, device)


def check_model(pair, x, device: str = CPU, *, modes=(False, True), what: str | None = None) -> None:
    """The forward verdict of a spec-built pair on `device`, in each of `modes` (training flags) that has a
    deterministic reference (training-mode dropout has none: that mode is left out)."""
    __tracebackhide__ = True
    what = what or pair.spec.name
    runs = _on_device(pair, device) if device != CPU else None
    assert device == CPU or runs, f"{what}: no framework runs on {device} here ({unavailable(device)})"
    for training in modes:
        if training and pair.reference(x, training) is None:
            if currently_in_test_context():
                note("training mode skipped: dropout with rate > 0 has no deterministic result")
            continue
        if device == CPU:
            check_forward(pair, x, training, what)
        else:
            _check_forward_on_device(pair, x, training, what, device, runs)


def check_layer(case) -> None:
    """A LAYER_DB case: the same forward pass in TF, torch and float64, in inference mode and, where it is
    deterministic (no dropout with rate > 0), in training mode."""
    __tracebackhide__ = True
    pair = build_pair(case.spec, seed=0)
    x = pair.sample_input(seed=1) * np.float32(case.input_scale)
    check_model(pair, x, modes=(False, True) if case.training else (False,), what=case.id)


# ---------------------------------------------------------------- one training step (gradients and Adam)
def grad_tolerance(spec, x, g_ref: np.ndarray) -> Tolerance:
    """Model rule for a weight gradient: forward depth D times the batch*pixels each weight gradient sums over."""
    pixels = int(np.prod(x.shape[1:-1])) if x.ndim == 4 else 1
    depth = accumulation_depth(spec, batch=len(x)) * len(x) * pixels
    return for_arrays("float32", g_ref, depth=depth, reason=f"gradient rule: depth=D*batch*pixels={depth}")


def assert_adam_step(what, w_got, w_ref, w0, g_ref, g_tol: Tolerance, lr, adam_eps=1e-8, factor=1.0):
    """One Adam step moves w by lr*g/(|g|+eps); an error dg in g moves it by lr*eps*dg/(|g|+eps)^2 (derivative)."""
    __tracebackhide__ = True
    w_tol = for_arrays("float32", w_ref)
    # update arithmetic: ~8 float32 roundings of a value <= lr; gradient error propagated through the derivative
    from_grad = lr * adam_eps * g_tol.atol / (np.abs(g_ref) + adam_eps) ** 2
    allowed = factor * (w_tol.atol + lr * 8 * eps("float32") + from_grad)
    allowed = np.minimum(allowed, 2 * lr * factor)
    err = np.abs(np.asarray(w_got, np.float64) - w_ref)
    if np.any(err > allowed):
        i = np.unravel_index(int(np.argmax(err - allowed)), err.shape)
        raise EquivalenceMismatch(
            f"{what}: {int((err > allowed).sum())}/{err.size} weights off after one Adam step (lr={lr})\n"
            f"  worst at {tuple(map(int, i))}: got {float(np.asarray(w_got)[i])!r} expected {float(w_ref[i])!r} "
            f"(moved from {float(w0[i])!r}); |err|={float(err[i]):.3g} > allowed {float(allowed[i]):.3g}; "
            f"g_ref={float(g_ref[i]):.3g}, gradient tol {g_tol}")


def _train_step(spec, x, target, device: str, dtype: str, lr: float):
    """Gradients of 0.5*mean((y - target)^2) and the parameters after one Adam step, as NumPy (torch names)."""
    torch, side = runtime.torch(), side_for("torch", device)
    module = torch_pair(spec).torch.to(device=side.device, dtype=getattr(torch, dtype))
    t, adam = side.tensor(target, dtype), torch.optim.Adam(module.parameters(), lr=lr)
    grads = side.train_step(module, x, lambda y: 0.5 * ((y - t) ** 2).mean(), adam, dtype=dtype)
    return grads, {k: side.numpy(p) for k, p in module.named_parameters()}


def check_model_step(spec, device: str = CPU, *, batch: int = 8, lr: float = 1e-3) -> None:
    """Weight gradients and the weights after one Adam step of a spec-built torch model in float32 on `device`
    against float64 (torch on the CPU); on an accelerator also against the CPU's float32 step (twice the bound)."""
    __tracebackhide__ = True
    pair = torch_pair(spec)
    x = pair.sample_input(seed=2, batch=batch)
    out_shape = (batch, *spec.output_shape)
    out_shape = (out_shape[0], out_shape[-1], *out_shape[1:-1]) if len(out_shape) == 4 else out_shape  # torch layout
    target = np.random.default_rng(3).standard_normal(out_shape)
    w0 = {k: side_for("torch", CPU).numpy(p) for k, p in pair.torch.named_parameters()}
    g64, w64 = _train_step(spec, x, target, CPU, "float64", lr)
    g32, w32 = _train_step(spec, x, target, CPU, "float32", lr)
    got_g, got_w = (g32, w32) if device == CPU else _train_step(spec, x, target, device, "float32", lr)
    at = "" if device == CPU else f" on {device}"
    for k in g64:
        g_tol = grad_tolerance(spec, x, g64[k])
        with np.errstate(over="ignore"):
            expected = g64[k].astype(np.float32)
        if device == CPU:
            assert_close(got_g[k], expected, g_tol, what=f"{spec.name} grad {k}", label_a="cpu", label_b="torch64")
        else:
            assert_device_agrees(f"{spec.name} grad {k}{at}", got_g[k], expected, g32[k], g_tol, "", device)
            assert_adam_step(f"{spec.name} {k}{at} vs cpu", got_w[k], w32[k].astype(np.float64), w0[k], g64[k],
                             g_tol, lr, factor=2)
        assert_adam_step(f"{spec.name} {k}{at} vs float64", got_w[k], w64[k], w0[k], g64[k], g_tol, lr)


__all__ = ["FRAMEWORKS", "assert_adam_step", "check_forward", "check_layer", "check_model", "check_model_step",
           "grad_tolerance", "model_pair", "torch_pair"]
