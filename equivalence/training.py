"""Training helpers: optimizer stepping on raw variables, Keras fit, a Keras GradientTape loop, the seed's torch loop.

Per-step UPDATES are what the optimizer tests compare (delta_t = p_t - p_{t-1}), so a 1e-4 change in one step is
visible even when the final weights would hide it. The update bound (`update_bound`) is per element and step:

    n * ulp(p_t)/2                  the measured update is the difference of two stored float32 weights: storing
                                    p_t rounds it by <= ulp(p_t)/2; n = rule.p_roundings() counts the p-sized
                                    roundings of one step (1; Keras' decoupled decay p - p*wd*lr then the update:
                                    2; torch AdamW's p * float32(1 - lr*wd): 4, the cast factor is off by u/2)
    + rule.float32_rtol(t) * |D_t|  the framework's own float32 arithmetic, derived per optimizer and per side from
                                    its update formula (catalog/optimizers.py: roundings, float32 bias corrections),
                                    relative to D_t, the same float64 rule run on (|p0|, |g|): the size of the terms
                                    the update is summed from (an EMA of mixed-sign gradients cancels; its rounding
                                    does not)

`update_tolerance` is the older scalar form (u*max|p| + a fixed rtol), kept for the GPU test.
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


def update_bound(rule, trajectory: np.ndarray, magnitude: np.ndarray, why: str = ""):
    """Per element and step: n ulp(p_t)/2 + rule.float32_rtol(t) * |magnitude| (module docstring).

    rule: a fresh float64 rule of the side (its `float32_rtol`); trajectory: that side's float32 weights (steps+1,
    ...); magnitude: the rule's updates on (|p0|, |g|) (steps, ...)."""
    from .error_bounds import ElementBound

    steps = len(magnitude)
    rtol = np.array([rule.float32_rtol(t) for t in range(1, steps + 1)]).reshape((steps,) + (1,) * (magnitude.ndim - 1))
    stored = rule.p_roundings() * np.spacing(np.abs(trajectory[1:]).astype(np.float32)).astype(np.float64) / 2
    bound = stored + rtol * np.abs(magnitude)
    u = eps("float32")
    reason = (f"update rule: {rule.p_roundings()} x ulp(p_t)/2 + float32_rtol(t)*|D_t|, rtol/u per step "
              f"{'/'.join(f'{r / u:.3g}' for r in rtol.ravel())}" + (f"; {why}" if why else ""))
    return ElementBound(float(bound.max()), 0.0, reason, bound=bound)


# A typical optimizer-test case (unit gradients (steps, n), float32 p0), pinned in tests/test_optimizer_step.py and
# used by the mutation tests: gradients of both signs that grow, shrink and cancel in the moments (Adamax's
# decaying max; beta2 acts from step 2 on), weights at 0 (no storage rounding) and ~1.
TYPICAL_UPDATE_CASE = (np.array([[1.0, -0.5, 2.0, 0.01], [-2.0, 0.25, 0.5, 0.02], [0.5, -1.0, 0.1, -0.01],
                                 [3.0, 0.5, 0.05, 0.03], [-0.2, -2.0, 0.02, 0.01]]),
                       np.array([0.0, 0.0, 0.75, -0.5], np.float32))


def optimizer_update_checks(info, grads: np.ndarray, p0: np.ndarray) -> list:
    """Compare per-step updates: Keras and torch each against their framework's float64 rule under `update_bound`,
    and (cross configurations) each other under the sum of both bounds. Returns the Comparisons.

    grads (steps, ...) float32 and p0 float32.
    """
    from .compare import describe
    from .compare import compare
    from .error_bounds import ElementBound

    sides = {"tf": (keras_param_trajectory(info, p0, grads), info.ref_tf),
             "torch": (torch_param_trajectory(info, p0, grads), info.ref_torch)}
    ctx = "\n".join([describe("p0", p0), describe("grads", grads), f"  mapping: {info.mapping}",
                     "  rows are steps: update[t] = p[t+1] - p[t]"])
    got, bounds, checks = {}, {}, []
    for side, (trajectory, rule) in sides.items():
        ref = updates(ref_param_trajectory(rule(info.hyper), p0, grads))
        magnitude = updates(ref_param_trajectory(rule(info.hyper), np.abs(p0), np.abs(grads)))
        got[side], bounds[side] = updates(trajectory), update_bound(rule(info.hyper), trajectory, magnitude)
        checks.append(compare(got[side], ref, bounds[side], what=f"{info.id} updates", label_a=side,
                              label_b=f"ref64_{'keras' if side == 'tf' else 'torch'}_rule", context=ctx))
    if info.cross:
        both = bounds["tf"].bound + bounds["torch"].bound
        tol = ElementBound(float(both.max()), 0.0, "sum of both sides' update bounds", bound=both)
        checks.append(compare(got["tf"], got["torch"], tol, what=f"{info.id} updates", label_a="tf", label_b="torch",
                              context=ctx))
    return checks


def update_tolerance(p_max: float, steps: int, ulps: float, cond: float = 1.0) -> Tolerance:
    """The older scalar update tolerance: atol u*max|p|, rtol `ulps` plus the depth term (`cond` multiplies u for
    amplified rounding). The CPU optimizer test uses the per-element, per-optimizer `update_bound`."""
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
    sides, and its bound says so. On top: the optimizer's own float32 arithmetic on both sides (each side's derived `float32_rtol(t)`, catalog/optimizers.py: Keras' float32 bias corrections
    included), and storing the weight (u * max|w| per step). RMSprop momentum mu re-applies d: errors are
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
    rule_tf, rule_torch = info.ref_tf(h), info.ref_torch(h)  # their float32_rtol: each side's update arithmetic
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
                else:
                    v = h["rho"] * v + (1 - h["rho"]) * g * g
                    num, s, cap = g, np.sqrt(v), 1.0 / np.sqrt(1 - h["rho"])
                with np.errstate(divide="ignore", invalid="ignore"):
                    d = np.where(s > 0, num / s, 0.0)
                    d_err = np.where(s > e, (1 + np.abs(d)) * e / (s - e), np.inf)
                d_err = np.minimum(d_err, 2 * cap)
                rtol_t = rule_tf.float32_rtol(t) + rule_torch.float32_rtol(t)
                buf, buf_err = mu * buf + d, mu * buf_err + d_err
                total += lrs[t - 1] * (buf_err + rtol_t * np.abs(buf)) + u * w_max[n][k]
            out[n][k] = total
    return out
