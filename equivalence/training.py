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


def canonical_torch_grads(pair) -> dict:
    """The `.grad` of every trainable torch parameter, converted to the canonical layout with the weight converter.

    Layout conversions are permutations/transposes, so they map gradients exactly like weights. Buffers (running
    statistics) get zeros and are dropped; LSTM's canonical bias is bias_ih + bias_hh, whose gradient is either
    one's, so bias_hh's gradient is zeroed before the sum. A parameter without a gradient gets zeros.
    """
    from .weights import from_torch, param_shapes, torch_core

    torch = _runtime.torch()
    raw = {}
    for name in param_shapes(pair.spec):
        core = torch_core(pair.torch, name)
        grads = {k: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().numpy().copy()
                 for k, p in core.named_parameters()}
        grads |= {k: np.zeros(b.shape, np.float32) for k, b in core.named_buffers() if b.is_floating_point()}
        if "bias_hh_l0" in grads and pair.spec.layer_by_name(name).kind == "lstm":
            grads["bias_hh_l0"] = np.zeros_like(grads["bias_hh_l0"])
        raw[name] = grads
    canonical = from_torch(pair.spec, raw)
    keep = {name: {v.name for v in pair.keras.get_layer(name).trainable_weights} for name in raw}
    return {n: {k: v for k, v in lw.items() if k in keep[n]} for n, lw in canonical.items()}


def torch_model_grads(pair, x: np.ndarray, cotangent: np.ndarray, training: bool) -> tuple[np.ndarray, dict]:
    """The same through autograd, converted back to the canonical layout (`canonical_torch_grads`)."""
    from ._torch import to_torch_layout

    torch = _runtime.torch()
    module = pair.torch
    module.train(training)
    xt = torch.tensor(to_torch_layout(x), requires_grad=True)
    module.zero_grad(set_to_none=True)
    y = module(xt)
    (y * torch.tensor(to_torch_layout(cotangent) if y.ndim == 4 else cotangent, dtype=y.dtype)).sum().backward()
    grads = canonical_torch_grads(pair)
    module.train(False)
    gx = xt.grad.numpy()
    gx = gx.transpose(0, 2, 3, 1) if gx.ndim == 4 else gx
    return gx, grads


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


def keras_fit(pair, optimizer, x, y, *, epochs: int, batch_size: int, sample_weight=None, class_weight=None,
              callbacks=()):
    """Keras model.fit with shuffle=False, sparse CE from logits, the optimizer given; returns canonical weights.

    `sample_weight` (one per sample) and `class_weight` ({class: weight}) are passed to fit as they are: Keras
    multiplies each sample's loss by its weight and divides the sum by the batch size (reduction
    'sum_over_batch_size'; fit turns class_weight into sample_weight = class_weight[y]). `callbacks` go to fit.
    The optimizer is built on the model's variables before fit: fit then traces its train step once instead of
    twice (creating the optimizer's slots inside the first trace forces a second); the weights are bit-identical.
    """
    from .weights import read_keras

    keras = _runtime.keras()
    pair.keras.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    optimizer.build(pair.keras.trainable_variables)
    pair.keras.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0, sample_weight=sample_weight,
                   class_weight=class_weight, callbacks=list(callbacks))
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


def torch_loop(pair, make_optimizer, x, y, *, epochs: int, batch_size: int, loss_fn=None, sample_weight=None,
               before_step=None, scheduler=None, scheduler_unit: str = "step", record: dict | None = None):
    """The seed's manual PyTorch loop: zero_grad, forward, loss, backward, step; returns canonical weights.

    loss_fn(logits, target, weight) -> scalar loss of one batch, `weight` the batch's slice of `sample_weight` (a
        float32 tensor) or None; default `CrossEntropyLoss()` (mean over the batch).
    before_step(params, step) runs after backward and before optimizer.step() (gradient clipping: it may change the
        `.grad`s); what it returns is recorded.
    scheduler(optimizer) -> an LRScheduler, stepped after every optimizer step (`scheduler_unit='step'`) or after
        every epoch ('epoch').
    record: a dict that receives one entry per optimizer step in the lists 'lr' (the learning rate that step used),
        'grads' (canonical gradients as step() received them) and 'hook' (before_step's return values).
    """
    from ._torch import to_torch_layout
    from .weights import read_torch

    torch = _runtime.torch()
    if scheduler_unit not in ("step", "epoch"):
        raise ValueError(f"scheduler_unit {scheduler_unit!r} is not 'step' or 'epoch'")
    module = pair.torch
    params = list(module.parameters())
    optimizer = make_optimizer(params)
    sched = scheduler(optimizer) if scheduler is not None else None
    if loss_fn is None:
        mean_ce = torch.nn.CrossEntropyLoss()
        loss_fn = lambda logits, target, weight: mean_ce(logits, target)  # noqa: E731
    log = record if record is not None else {}
    for key in ("lr", "grads", "hook"):
        log.setdefault(key, [])
    module.train()
    step = 0
    for _ in range(epochs):
        for s in batches(len(x), batch_size):
            optimizer.zero_grad()
            w = None if sample_weight is None else torch.from_numpy(np.asarray(sample_weight[s], np.float32))
            loss = loss_fn(module(torch.from_numpy(to_torch_layout(x[s]))), torch.from_numpy(y[s].astype(np.int64)), w)
            loss.backward()
            log["hook"].append(before_step(params, step) if before_step is not None else None)
            if record is not None:
                log["grads"].append(canonical_torch_grads(pair))
                log["lr"].append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            step += 1
            if sched is not None and scheduler_unit == "step":
                sched.step()
        if sched is not None and scheduler_unit == "epoch":
            sched.step()
    module.eval()
    return read_torch(module, pair.spec)


# ---------------------------------------------------------------- how far two training runs may drift apart
def sgd_weight_tolerance(lrs, grad_err, w_max: float, momentum: float = 0.0, why: str = "") -> Tolerance:
    """Weights after len(lrs) SGD steps on two sides whose step-t gradients differ by at most grad_err[t] (absolute).

    Step t moves a weight by lr_t * g_t, so the sides drift apart by at most lr_t * grad_err[t] per step; momentum
    re-applies a gradient error in every later step, by at most 1/(1 - momentum) in total; storing a weight in
    float32 rounds it by <= u/2 * max|w| per side and step. Errors add over steps.
    """
    u = eps("float32")
    amplification = 1.0 / (1.0 - momentum)
    atol = float(sum(lr * e for lr, e in zip(lrs, grad_err))) * amplification + len(lrs) * u * w_max
    return Tolerance(atol, 0.0, f"SGD drift: sum_t lr_t*err(g_t) x {amplification:g} + {len(lrs)} x u*max|w|"
                                + (f"; {why}" if why else ""))


ADAPTIVE = ("adam", "adamw", "rmsprop")


def keras_bias_correction_rtol(h: dict, t: int) -> float:
    """Relative error of Keras' Adam step size lr * sqrt(1 - b2^t) / (1 - b1^t) at step t, from float32 arithmetic.

    Keras casts beta to float32 (bf) and computes bf^t with float32 pow (correctly rounded: <= 0.51 ulp measured
    for t <= 2000; 1 ulp <= u * b^t allowed), so 1 - b^t (exact subtraction for b^t >= 1/2, else + u) is off by
    |bf^t - b^t| + u * b^t, which 1 - b^t then divides: ~u / (1 - b2) at t = 1 for b2 = 0.999 (catalogue entry
    adam-bias-correction-float32), falling like 1/t. The square root halves b2's share. torch computes these
    corrections in float64.
    """
    u = eps("float32")

    def rel(b: float) -> float:
        exact, bf = b**t, float(np.float32(b)) ** t
        return (abs(bf - exact) + u * exact) / (1 - exact) + (u if exact < 0.5 else 0.0)

    return 0.5 * rel(h["beta2"]) + rel(h["beta1"])


def adaptive_weight_bound(info, grads: list, lrs: list, grad_err: list, w_max: dict) -> dict:
    """Per weight element: how far Keras and torch may drift apart in len(grads) steps of Adam/AdamW/RMSprop.

    An adaptive step moves a weight by lr * d with d = m/s: m the (bias-corrected) EMA of the gradients, s = sqrt of
    the (bias-corrected) EMA of their squares (RMSprop: m is the current gradient). If every gradient of the history
    is off by at most E = grad_err (absolute, the model rule: rtol_g * max|g|), then |m' - m| <= E (a weighted
    mean), and |s' - s| <= E exactly (s is a weighted 2-norm of the history: triangle inequality; RMSprop's weights
    sum to 1 - rho^t < 1), so exactly, not to first order,

        |d' - d| <= (1 + |d|) E / (s - E)          while s > E,
        |d' - d| <= 2 D                            always, D = the largest |m|/s any history allows
                                                   (Adam: sqrt(sum w1^2/w2) by Cauchy-Schwarz, 1 at t = 1;
                                                   RMSprop: 1/sqrt(1 - rho)).

    The normalisation divides the gradient's error by the element's own gradient scale s, not by max|g|: an element
    whose gradient is ~E (cancelling terms, a bias feeding BatchNorm) may move by O(lr) differently on the two
    sides, and its bound says so. On top: the optimizer's own float32 arithmetic (the update rule's rtol, 16 ulps
    at depth = steps, x2 for two sides, plus Keras' float32 bias corrections per step, `keras_bias_correction_rtol`)
    times |lr d|, and storing the weight (u * max|w| per step). RMSprop momentum mu re-applies d: errors are
    summed through the same EMA. Errors add over steps. The recorded torch trajectory supplies g, m, s and d
    (float64 from float32 gradients); epsilon (1e-12 in the cross configurations; Keras adds it to the uncorrected
    sqrt(v): <= 3.2e-11 on the scale of s at b2 = 0.999) is far below E and ignored. Weight differences feeding
    back into later gradients are second order and not included (as in the SGD rule).
    """
    h = info.hyper
    unsupported = sorted(k for k in ("amsgrad", "centered", "nesterov") if h.get(k))
    if info.name not in ADAPTIVE or unsupported:
        raise NotImplementedError(f"{info.id}: adaptive_weight_bound covers {ADAPTIVE} without {unsupported}")
    u, steps = eps("float32"), len(grads)
    rtol_opt = 2 * tolerance("float32", depth=steps, ulps=info.ulps).rtol  # each side's update arithmetic
    adam, mu = info.name != "rmsprop", h.get("momentum", 0.0)
    out = {}
    for n, lw in grads[0].items():
        out[n] = {}
        for k in lw:
            history = np.stack([np.asarray(g[n][k], np.float64) for g in grads])
            m = v = buf = buf_err = np.zeros_like(history[0])
            total = np.zeros_like(history[0])
            for t in range(1, steps + 1):
                g, e = history[t - 1], max(grad_err[:t])
                if adam:
                    b1, b2 = h["beta1"], h["beta2"]
                    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
                    num, s = m / (1 - b1**t), np.sqrt(v / (1 - b2**t))
                    w1 = np.array([(1 - b1) * b1 ** (t - j) / (1 - b1**t) for j in range(1, t + 1)])
                    w2 = np.array([(1 - b2) * b2 ** (t - j) / (1 - b2**t) for j in range(1, t + 1)])
                    cap = float(np.sqrt(np.sum(w1 * w1 / w2)))
                    rtol_t = rtol_opt + keras_bias_correction_rtol(h, t)
                else:
                    v = h["rho"] * v + (1 - h["rho"]) * g * g
                    num, s, cap = g, np.sqrt(v), 1.0 / np.sqrt(1 - h["rho"])
                    rtol_t = rtol_opt
                with np.errstate(divide="ignore", invalid="ignore"):
                    d = np.where(s > 0, num / s, 0.0)
                    d_err = np.where(s > e, (1 + np.abs(d)) * e / (s - e), np.inf)
                d_err = np.minimum(d_err, 2 * cap)
                buf, buf_err = mu * buf + d, mu * buf_err + d_err
                total += lrs[t - 1] * (buf_err + rtol_t * np.abs(buf)) + u * w_max[n][k]
            out[n][k] = total
    return out
