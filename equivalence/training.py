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


def torch_param_trajectory(info, p0: np.ndarray, grads: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Parameter values after each torch `step()` on `device` with `.grad` set to the given gradient (steps+1, *shape)."""
    torch = _runtime.torch()
    param = torch.nn.Parameter(torch.tensor(p0, dtype=torch.float32, device=device))
    opt = info.torch([param], info.hyper)
    out = [np.asarray(p0, np.float64)]
    for g in grads:
        opt.zero_grad()
        param.grad = torch.tensor(g, dtype=torch.float32, device=device)
        opt.step()
        out.append(param.detach().cpu().numpy().astype(np.float64))
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


# ---------------------------------------------------------------- gradients of spec-built models
def keras_model_grads(pair, x: np.ndarray, cotangent: np.ndarray, training: bool) -> tuple[np.ndarray, dict]:
    """d sum(cotangent * model(x)) / d(x, trainable weights), via GradientTape; weights in canonical layout."""
    from .weights import param_shapes

    tf = _runtime.tf()
    xv = tf.Variable(x)
    layers = {name: pair.keras.get_layer(name).trainable_weights for name in param_shapes(pair.spec)}
    with tf.GradientTape() as tape:
        y = pair.keras(xv, training=training)
        loss = tf.reduce_sum(y * tf.constant(cotangent))
    flat = [v for vs in layers.values() for v in vs]
    gx, *gw = tape.gradient(loss, [xv, *flat])
    it = iter(gw)
    return gx.numpy(), {name: {v.name: next(it).numpy() for v in vs} for name, vs in layers.items()}


def torch_model_grads(pair, x: np.ndarray, cotangent: np.ndarray, training: bool) -> tuple[np.ndarray, dict]:
    """The same through autograd, converted back to the canonical layout with the weight converter.

    Layout conversions are permutations/transposes, so they map gradients exactly like weights. Buffers (running
    statistics) get zeros and are dropped; LSTM's canonical bias is bias_ih + bias_hh, whose gradient is either
    one's, so bias_hh's gradient is zeroed before the sum.
    """
    from ._torch import from_torch_layout, to_torch_layout
    from .weights import from_torch, param_shapes, torch_core

    torch = _runtime.torch()
    module = pair.torch
    module.train(training)
    xt = torch.tensor(to_torch_layout(x), requires_grad=True)
    module.zero_grad(set_to_none=True)
    y = module(xt)
    (y * torch.tensor(to_torch_layout(cotangent) if y.ndim == 4 else cotangent, dtype=y.dtype)).sum().backward()
    raw = {}
    for name in param_shapes(pair.spec):
        core = torch_core(module, name)
        grads = {k: (p.grad if p.grad is not None else torch.zeros_like(p)).numpy() for k, p in core.named_parameters()}
        grads |= {k: np.zeros(b.shape, np.float32) for k, b in core.named_buffers() if b.is_floating_point()}
        if "bias_hh_l0" in grads and pair.spec.layer_by_name(name).kind == "lstm":
            grads["bias_hh_l0"] = np.zeros_like(grads["bias_hh_l0"])
        raw[name] = grads
    module.train(False)
    gx = xt.grad.numpy()
    canonical = from_torch(pair.spec, raw)
    keep = {name: {k for k in (v.name for v in pair.keras.get_layer(name).trainable_weights)} for name in raw}
    gx = gx.transpose(0, 2, 3, 1) if gx.ndim == 4 else gx
    return gx, {n: {k: v for k, v in lw.items() if k in keep[n]} for n, lw in canonical.items()}


def ref_directional(pair, x, cotangent, direction_x, direction_w, training: bool, h: float = 1e-6) -> float:
    """Central finite difference, in float64, of sum(cotangent * reference(x, W)) along (direction_x, direction_w)."""
    from . import _reference

    def loss(s):
        w = {n: {k: np.asarray(v, np.float64) + s * direction_w.get(n, {}).get(k, 0.0) for k, v in lw.items()}
             for n, lw in pair.weights.items()}
        return float((cotangent * _reference.forward(pair.spec, w, np.asarray(x, np.float64) + s * direction_x,
                                                     training=training)).sum())

    return (loss(h) - loss(-h)) / (2 * h)


# ---------------------------------------------------------------- training loops (fixed batches, no shuffling)
def batches(n: int, batch_size: int):
    """Consecutive index slices, in order (Keras fit(shuffle=False) and an unshuffled DataLoader do the same)."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def keras_fit(pair, optimizer, x, y, *, epochs: int, batch_size: int):
    """Keras model.fit with shuffle=False, sparse CE from logits, the optimizer given; returns canonical weights."""
    from .weights import read_keras

    keras = _runtime.keras()
    pair.keras.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pair.keras.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return read_keras(pair.keras, pair.spec)


def keras_tape_loop(pair, optimizer, x, y, *, epochs: int, batch_size: int):
    """A custom Keras loop: GradientTape forward/loss/gradient, then optimizer.apply_gradients, batch by batch."""
    from .weights import read_keras

    keras, tf = _runtime.keras(), _runtime.tf()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = pair.keras
    for _ in range(epochs):
        for s in batches(len(x), batch_size):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[s], model(tf.constant(x[s]), training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return read_keras(model, pair.spec)


def torch_loop(pair, make_optimizer, x, y, *, epochs: int, batch_size: int):
    """The seed's manual PyTorch loop: zero_grad, forward, loss, backward, step; returns canonical weights."""
    from ._torch import to_torch_layout
    from .weights import read_torch

    torch = _runtime.torch()
    module = pair.torch
    optimizer = make_optimizer(list(module.parameters()))
    loss_fn = torch.nn.CrossEntropyLoss()
    module.train()
    for _ in range(epochs):
        for s in batches(len(x), batch_size):
            optimizer.zero_grad()
            loss = loss_fn(module(torch.from_numpy(to_torch_layout(x[s]))), torch.from_numpy(y[s].astype(np.int64)))
            loss.backward()
            optimizer.step()
    module.eval()
    return read_torch(module, pair.spec)
