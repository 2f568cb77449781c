"""Training helpers: optimizer stepping on raw variables, Keras fit, a Keras GradientTape loop, the seed's torch loop.

Per-step UPDATES are what the optimizer tests compare (delta_t = p_t - p_{t-1}), so a 1% change in one step is
visible even when the final weights would hide it. The update tolerance (`update_tolerance`) is

    atol = u * max|p|                 storing p_t in float32 rounds the update by <= ulp(p_t)/2 <= u*|p|/2
    rtol = tolerance(float32, depth=steps, ulps=info.ulps).rtol
                                      each update is a handful of float32 operations (ulps) on optimizer state
                                      that accumulates rounding over `steps` steps (sqrt(steps) growth, the rule's
                                      depth term)

    + (cond - 1) * u                  Keras' float32 bias corrections 1 - beta2^t (see catalog/optimizers.py)

and relative to |update|, so with updates ~lr >> u*|p| a 1e-3 relative change of any step fails.
"""
from __future__ import annotations

import numpy as np

from . import _runtime
from .tolerances import Tolerance, eps, tolerance


def keras_param_trajectory(info, p0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Parameter values after each of len(grads) Keras `apply_gradients` calls, as float64 (steps+1, *shape)."""
    keras, tf = _runtime.keras(), _runtime.tf()
    var = keras.Variable(p0, dtype="float32")
    opt = info.keras(info.hyper)
    out = [np.asarray(p0, np.float64)]
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
        out.append(np.asarray(var.numpy(), np.float64))
    return np.stack(out)


def torch_param_trajectory(info, p0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Parameter values after each torch `step()` with `.grad` set to the given gradient (steps+1, *shape)."""
    torch = _runtime.torch()
    param = torch.nn.Parameter(torch.tensor(p0, dtype=torch.float32))
    opt = info.torch([param], info.hyper)
    out = [np.asarray(p0, np.float64)]
    for g in grads:
        opt.zero_grad()
        param.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        out.append(param.detach().numpy().astype(np.float64))
    return np.stack(out)


def ref_param_trajectory(rule, p0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """The float64 rule applied to the same float32 start and gradients (steps+1, *shape)."""
    out = [np.asarray(p0, np.float64)]
    for g in grads:
        out.append(rule.step(out[-1], g))
    return np.stack(out)


def updates(trajectory: np.ndarray) -> np.ndarray:
    """Per-step parameter updates delta_t = p_t - p_{t-1} (exact in float64 for float32 inputs)."""
    return np.diff(trajectory, axis=0)


def update_tolerance(p_max: float, steps: int, ulps: float, cond: float = 1.0) -> Tolerance:
    """The per-step update tolerance of the module docstring (`cond` multiplies u for amplified rounding)."""
    u = eps("float32")
    rtol = tolerance("float32", depth=steps, ulps=ulps).rtol + (cond - 1.0) * u
    why = f"update rule: atol=u*max|p|={u * p_max:.2g}, rtol={rtol:.2g} (float32 ulps={ulps:g}, {steps} steps"
    return Tolerance(u * max(p_max, 1e-6), rtol, why + (f", cond {cond:g})" if cond != 1.0 else ")"))
