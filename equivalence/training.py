"""Training helpers: optimizer update rules and bounds, Keras fit, a Keras GradientTape loop, the seed's torch loop
(the stepping and gradients themselves are the sides', equivalence.sides; the optimizer verdict is
equivalence.checks.steps).

Per-step UPDATES are what the optimizer tests compare (delta_t = p_t - p_{t-1}), so a 1e-4 change in one step is
visible even when the final weights would hide it. The update bound (`update_bound`) is per element and step:

    n * ulp(p)/2                    the measured update is the difference of two stored float32 weights: storing
                                    p_t rounds it by <= ulp(p_t)/2 (ulp of the larger of |p_t-1|, |p_t|: the
                                    intermediate lies between them); n = rule.p_roundings() counts the p-sized
                                    roundings of one step (1; Keras' decoupled decay p - p*wd*lr then the update:
                                    2; torch AdamW's p * float32(1 - lr*wd): 4, the cast factor is off by u/2)
    + rule.float32_rtol(t) * |D_t|  the framework's own float32 arithmetic, derived per optimizer and per side from
                                    its update formula (catalog/optimizers.py: roundings, float32 bias corrections),
                                    relative to D_t, the same float64 rule run on (|p0|, |g|) with weight decay
                                    reading |p| (`magnitude_updates`): the size of the terms the update is summed
                                    from (an EMA of mixed-sign gradients cancels, and so does torch's L2 g + wd*p
                                    once p turns negative; their rounding does not)
    + l2_rounding_bound             torch's coupled L2 only: the float32 sum g + wd*p rounds by u(|g| + |wd p|),
                                    which Adam's normalisation carries into the update even where g + wd*p cancels;
                                    measured by nudging each step's sum in a float64 run

`update_tolerance` is the older scalar form (u*max|p| + a fixed rtol), kept for the accelerator step check.
"""
from __future__ import annotations

import copy

import numpy as np

from . import runtime, sides
from .tolerances import Tolerance, eps, tolerance


def ref_param_trajectory(rule, p0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """The float64 rule applied to the same float32 start and gradients (steps+1, *shape)."""
    out = [np.asarray(p0, np.float64)]
    for g in grads:
        out.append(rule.step(out[-1], g))
    return np.stack(out)


def ref_updates_from(rule, trajectory: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """The float64 rule's update of each step taken from where a side's float32 weights stand (trajectory[t-1]),
    with the rule's own state (moments) run on the float64 path; shape (steps, ...).

    Weight decay reads p, so a side's earlier roundings (ulps of a larger |p|) would otherwise reach a later update
    through wd*lr*(p_side - p_ref): thorough (AVX2 setting, seed 15) drew sgd-weight_decay with p falling from
    0.73 to -0.003, where that carried 1.5 ulp(p) into a pure decay step."""
    p, out = np.asarray(trajectory[0], np.float64), []
    for t, g in enumerate(grads):
        probe = copy.deepcopy(rule)
        out.append(probe.step(np.asarray(trajectory[t], np.float64), g) - np.asarray(trajectory[t], np.float64))
        p = rule.step(p, g)
    return np.stack(out)


def updates(trajectory: np.ndarray) -> np.ndarray:
    """Per-step parameter updates delta_t = p_t - p_{t-1} (exact in float64 for float32 inputs)."""
    return np.diff(trajectory, axis=0)


def magnitude_updates(rule, p0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """|D_t|: `rule` (a fresh float64 rule) run on (|p0|, |g|) with weight decay reading |p|, so that no term of an
    update cancels another (module docstring)."""
    rule.magnitude = True
    return np.abs(updates(ref_param_trajectory(rule, np.abs(p0), np.abs(grads))))


def l2_rounding_bound(make_rule, p0: np.ndarray, grads: np.ndarray):
    """Per element and step (steps, ...): what rounding torch's L2 gradient g + wd*p costs the updates, or 0.0 for
    a rule without coupled L2 (module docstring).

    float32 rounds the sum by <= u (|g| + |wd p|), which can be far more than u |g + wd p| when the two cancel (p
    turned negative under a positive gradient); Adam then normalises the cancelled gradient, so that rounding
    reaches the update almost undamped. Each step's sum is nudged by that much either way in a float64 run of the
    rule (later steps follow through p and the moments); the bound adds up the largest change of each update."""
    rule = make_rule()
    if not rule.coupled_l2:
        return 0.0
    wd, u = rule.h["wd"], eps("float32")
    base = ref_param_trajectory(rule, p0, grads)
    reference, total = updates(base), np.zeros(np.shape(grads), np.float64)
    for t in range(1, len(grads) + 1):
        err = u * (np.abs(grads[t - 1]) + wd * np.abs(base[t - 1]))
        worst = 0.0
        for sign in (1.0, -1.0):
            rule = make_rule()
            rule.nudge = {t: sign * err}
            worst = np.maximum(worst, np.abs(updates(ref_param_trajectory(rule, p0, grads)) - reference))
        total += worst
    return total


def rule_bound(make_rule, p0: np.ndarray, grads: np.ndarray):
    """trajectory -> `update_bound` for one side's steps from (p0, grads): the parts that depend only on the rule
    and its inputs (`magnitude_updates`, `l2_rounding_bound`) computed once. make_rule: a fresh float64 rule."""
    magnitude = magnitude_updates(make_rule(), p0, grads)
    extra = l2_rounding_bound(make_rule, p0, grads)
    return lambda trajectory: update_bound(make_rule(), trajectory, magnitude, extra=extra)


def update_bound(rule, trajectory: np.ndarray, magnitude: np.ndarray, why: str = "", extra=0.0):
    """Per element and step: n ulp(max(|p_t-1|, |p_t|))/2 + rule.float32_rtol(t) * |magnitude| + extra (module
    docstring).

    rule: a fresh float64 rule of the side (its `float32_rtol`); trajectory: that side's float32 weights (steps+1,
    ...); magnitude: `magnitude_updates` (steps, ...); extra: `l2_rounding_bound` (steps, ...) or 0."""
    from .error_bounds import ElementBound

    steps = len(magnitude)
    rtol = np.array([rule.float32_rtol(t) for t in range(1, steps + 1)]).reshape((steps,) + (1,) * (magnitude.ndim - 1))
    # The roundings of one step land on values between p_t-1 and p_t (Keras' decayed p - p*wd*lr, then the update):
    # thorough found p crossing 1.0 downwards, where the decay's rounding is half an ulp of the larger binade.
    largest = np.maximum(np.abs(trajectory[1:]), np.abs(trajectory[:-1])).astype(np.float32)
    stored = rule.p_roundings() * np.spacing(largest).astype(np.float64) / 2
    bound = stored + rtol * np.abs(magnitude) + extra
    u = eps("float32")
    reason = (f"update rule: {rule.p_roundings()} x ulp(p)/2 + float32_rtol(t)*|D_t|"
              f"{' + L2 sum rounding' if np.any(extra) else ''}, rtol/u per step "
              f"{'/'.join(f'{r / u:.3g}' for r in rtol.ravel())}" + (f"; {why}" if why else ""))
    return ElementBound(float(bound.max()), 0.0, reason, bound=bound)


# A typical optimizer-test case (unit gradients (steps, n), float32 p0), pinned in tests/test_optimizer_step.py and
# used by the mutation tests: gradients of both signs that grow, shrink and cancel in the moments (Adamax's
# decaying max; beta2 acts from step 2 on), weights at 0 (no storage rounding) and ~1.
TYPICAL_UPDATE_CASE = (np.array([[1.0, -0.5, 2.0, 0.01], [-2.0, 0.25, 0.5, 0.02], [0.5, -1.0, 0.1, -0.01],
                                 [3.0, 0.5, 0.05, 0.03], [-0.2, -2.0, 0.02, 0.01]]),
                       np.array([0.0, 0.0, 0.75, -0.5], np.float32))


def update_tolerance(p_max: float, steps: int, ulps: float, cond: float = 1.0) -> Tolerance:
    """The older scalar update tolerance: atol u*max|p|, rtol `ulps` plus the depth term (`cond` multiplies u for
    amplified rounding). The CPU optimizer check uses the per-element, per-optimizer `update_bound`."""
    u = eps("float32")
    rtol = tolerance("float32", depth=steps, ulps=ulps).rtol + (cond - 1.0) * u
    why = f"update rule: atol=u*max|p|={u * p_max:.2g}, rtol={rtol:.2g} (float32 ulps={ulps:g}, {steps} steps"
    return Tolerance(u * max(p_max, 1e-6), rtol, why + (f", cond {cond:g})" if cond != 1.0 else ")"))


# ---------------------------------------------------------------- float64 directional derivative of spec-built models
def ref_directional(pair, x, cotangent, direction_x, direction_w, training: bool, h: float = 1e-6) -> float:
    """Central finite difference, in float64, of sum(cotangent * reference(x, W)) along (direction_x, direction_w)."""
    from . import reference

    def loss(s):
        w = {n: {k: np.asarray(v, np.float64) + s * direction_w.get(n, {}).get(k, 0.0) for k, v in lw.items()}
             for n, lw in pair.weights.items()}
        return float((cotangent * reference.forward(pair.spec, w, np.asarray(x, np.float64) + s * direction_x,
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

    keras = runtime.keras()
    pair.keras.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    optimizer.build(pair.keras.trainable_variables)
    pair.keras.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0, sample_weight=sample_weight,
                   class_weight=class_weight, callbacks=list(callbacks))
    return read_keras(pair.keras, pair.spec)


def keras_tape_loop(pair, optimizer, x, y, *, epochs: int, batch_size: int):
    """A custom Keras loop, batch by batch: the TF side's train_step (GradientTape forward/loss/gradient, then
    optimizer.apply_gradients)."""
    from .weights import read_keras

    loss_fn = runtime.keras().losses.SparseCategoricalCrossentropy(from_logits=True)
    tf_cpu = sides.side("tf-cpu")
    for _ in range(epochs):
        for s in batches(len(x), batch_size):
            tf_cpu.train_step(pair.keras, x[s], lambda logits: loss_fn(y[s], logits), optimizer)
    return read_keras(pair.keras, pair.spec)


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
    from .weights import read_torch

    torch, torch_cpu = runtime.torch(), sides.side("torch-cpu")
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
            logits = module(torch_cpu.tensor(torch_cpu.to_layout(x[s])))
            loss = loss_fn(logits, torch.from_numpy(y[s].astype(np.int64)), w)
            loss.backward()
            log["hook"].append(before_step(params, step) if before_step is not None else None)
            if record is not None:
                log["grads"].append(torch_cpu.canonical_grads(pair))
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
