"""Training-loop equivalence: Keras fit, a Keras GradientTape loop and the seed's manual torch loop, from the same
weights, data and optimizer, end at the same weights (and BatchNorm running statistics); dropout statistics agree.
Beyond SGD: Adam / AdamW / RMSprop over several epochs, schedules inside fit, gradient clipping, class and sample
weights; and what differs (momentum under a schedule, clipnorm vs clip_grad_norm_, CrossEntropyLoss(weight=)'s mean).

Tolerance (weights after k steps of SGD with learning rate lr, `training_tolerance`): every step moves a weight by
lr * g, and g carries the backward pass's rounding, rtol_g * max|g| with rtol_g the model rule at twice the forward
depth (the backward pass accumulates over the same layers again, plus the batch); errors add over k steps, momentum
multiplies them by at most 1/(1 - momentum); storing the weight rounds by u * max|w| per step. The tests added for
schedules, clipping and weights use the same rule on the torch loop's recorded trajectory
(`training.sgd_weight_tolerance`: sum_t lr_t * err_t), with err_t = rtol_g * max|g_t| plus, where it applies:
16 u * max|g_t| (Keras evaluates the schedule in float32), or the clipped gradient's error (`clipped_gradient_error`:
a norm-clipped group of P elements with norm N > c: c/N * rtol_g max|g| * (1 + sqrt(P)), plus the norm's rounding
and torch's c/(N + 1e-6) against Keras' c/N; clipvalue is 1-Lipschitz).

Adaptive optimizers (`training.adaptive_weight_bound`, per weight element): the update lr * m/s divides the
gradient's error E = rtol_g * max|g| by the element's own gradient scale s = sqrt(v_hat), not by max|g|, so
|d' - d| <= (1 + |d|) E / (s - E) (exact, since m and s are a weighted mean and a weighted 2-norm of the gradient
history), capped at 2 max|m/s|; plus each side's update arithmetic (16 ulps at depth = steps, x2) and Keras' float32
bias corrections at step t, relative to |lr d|; u * max|w| per step; summed over steps. An element whose gradient is
~E gets a bound of O(lr) per step, which is honest (Adam turns rounding noise into +-lr steps), so the power check
asks that at least half of the weights moved by > 100x their own bound. Observed: error/bound <= 0.12 (Adam), a
torch beta2 of 0.998 instead of 0.999 is 4x the bound.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from equivalence import runtime, sides
from equivalence.catalog.optimizers import by_id
from equivalence.catalog.schedules import SCHEDULE_DB
from equivalence.compare import EquivalenceMismatch, assert_equivalent, compare
from equivalence.model_tolerance import accumulation_depth
from equivalence.models import build_pair
from equivalence.spec import ModelSpec, layer
from equivalence.tolerances import Tolerance, eps, tolerance
from equivalence.weights import init_weights
from equivalence.training import (adaptive_weight_bound, keras_fit, keras_tape_loop, sgd_weight_tolerance,
                                  torch_loop)

pytestmark = pytest.mark.optim
EPOCHS, BATCH, N = 2, 4, 12  # 3 batches per epoch, 6 optimizer steps
RELU = dict(activation="relu")
MODELS = {
    "mlp": ModelSpec("train_mlp", (6,), (layer("dense", units=8, **RELU), layer("dense", units=3))),
    "mlp_batchnorm": ModelSpec("train_mlp_bn", (6,), (
        layer("dense", units=8), layer("batch_norm", momentum=0.8), layer("activation", fn="relu"),
        layer("dense", units=3))),
    "cnn_batchnorm": ModelSpec("train_cnn_bn", (6, 6, 2), (
        layer("conv2d", filters=3, kernel_size=3), layer("batch_norm", momentum=0.8), layer("activation", fn="relu"),
        layer("max_pool2d", pool_size=2), layer("flatten"), layer("dense", units=3))),
    # The conventional BatchNorm block: no bias before the normalisation, which would cancel it (its true gradient
    # is exactly 0, so Adam turns its float32 noise into +-lr steps that move the running mean; see docs/training.md).
    "mlp_batchnorm_nobias": ModelSpec("train_mlp_bn_nobias", (6,), (
        layer("dense", units=8, use_bias=False), layer("batch_norm", momentum=0.8), layer("activation", fn="relu"),
        layer("dense", units=3))),
    "mlp_dropout_off": ModelSpec("train_mlp_do", (6,), (
        layer("dense", units=8, **RELU), layer("dropout", rate=0.0), layer("dense", units=3))),
}
# Each model with one optimizer (both optimizers on the MLP): the optimizers themselves are covered step by step
# in test_optimizer_step.py, so the loop test spends its time on the models (BatchNorm, conv, dropout).
CASES = [("mlp", "sgd-plain"), ("mlp", "sgd-momentum"), ("mlp_batchnorm", "sgd-momentum"),
         ("cnn_batchnorm", "sgd-plain"), ("mlp_dropout_off", "sgd-plain")]


def data(spec: ModelSpec, seed: int):
    """N samples N(0,1) and integer labels for 3 classes (deterministic)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, *spec.input_shape)).astype(np.float32), rng.integers(0, 3, N).astype(np.int32)


def training_tolerance(pair, x, info, g_max: float, w_max: float) -> Tolerance:
    """The module docstring's rule for weights after EPOCHS * N / BATCH steps."""
    steps = EPOCHS * -(-N // BATCH)
    depth = 2 * accumulation_depth(pair.spec, batch=BATCH) * BATCH
    rtol_g = tolerance("float32", depth=depth).rtol
    amplification = 1.0 / (1.0 - info.hyper.get("momentum", 0.0))
    atol = steps * (info.hyper["lr"] * rtol_g * g_max * amplification + eps("float32") * w_max)
    return Tolerance(atol, rtol_g, f"training rule: {steps} steps x (lr*rtol_g*max|g|*{amplification:g} + u*max|w|), "
                                   f"rtol_g={rtol_g:.2g} (depth {depth})")


def first_gradient_max(pair, x, y) -> float:
    """max|g| of the first batch's loss gradient (torch), the scale the per-step errors are relative to."""
    torch = runtime.torch()
    saved = {k: v.clone() for k, v in pair.torch.state_dict().items()}  # a training forward moves running stats
    labels = torch.from_numpy(y[:BATCH].astype(np.int64))
    grads = sides.side("torch-cpu").param_grads(
        pair.torch, x[:BATCH], lambda logits: torch.nn.functional.cross_entropy(logits, labels))
    pair.torch.eval()
    pair.torch.load_state_dict(saved)
    return max(float(np.abs(g).max()) for g in grads.values())


def compare_weights(label_a, wa, label_b, wb, tol, what) -> list:
    """Comparisons of every canonical parameter (trainable weights and running statistics)."""
    return [compare(wa[n][k], wb[n][k], tol, what=f"{what} {n}.{k}", label_a=label_a, label_b=label_b)
            for n in wa for k in wa[n] if not k.startswith("moving_")]


def bn_running_var_check(init, w_keras, w_torch, spec, tol, steps: int = EPOCHS * -(-N // BATCH)) -> list:
    """torch's running variance is the EMA of UNBIASED batch variances, Keras' of biased ones (catalogue entry
    bn-running-var-unbiased): with m = Keras momentum, k steps and n values per channel and batch,
    torch_var - m^k v0 == n/(n-1) * (keras_var - m^k v0) exactly in real arithmetic; running means agree."""
    out = []
    for l in spec.layers:
        if l.kind != "batch_norm":
            continue
        mapped = keras_var_as_torch(spec, l, init, w_keras, steps)
        out.append(compare(w_torch[l.name]["moving_variance"], mapped, tol, what=f"{l.name}.moving_variance",
                           label_a="torch", label_b="keras_mapped_unbiased"))
        out.append(compare(w_torch[l.name]["moving_mean"], w_keras[l.name]["moving_mean"], tol,
                           what=f"{l.name}.moving_mean", label_a="torch", label_b="keras"))
    return out


def keras_var_as_torch(spec, l, init, w_keras, steps: int) -> np.ndarray:
    """Keras' running variance of BatchNorm `l` mapped to torch's (bn_running_var_check's docstring)."""
    shape = spec.shapes[spec.sources(l)[0]]
    n = BATCH * int(np.prod(shape[:-1]))
    decayed = l["momentum"] ** steps * np.asarray(init[l.name]["moving_variance"], np.float64)
    return decayed + n / (n - 1) * (np.asarray(w_keras[l.name]["moving_variance"], np.float64) - decayed)


@pytest.mark.parametrize("model, opt_id", [pytest.param(m, o, id=f"{m}-{o}") for m, o in CASES])
def test_training_loops_match(model, opt_id):
    """Keras fit, a Keras GradientTape loop and the torch loop reach the same weights and running statistics."""
    spec, info = MODELS[model], by_id(opt_id)
    x, y = data(spec, seed=1)
    pairs = [build_pair(spec, seed=0) for _ in range(3)]
    init = pairs[0].weights
    tol = training_tolerance(pairs[0], x, info, first_gradient_max(pairs[2], x, y),
                             max(float(np.abs(v).max()) for lw in init.values() for v in lw.values()))
    kw = dict(epochs=EPOCHS, batch_size=BATCH)
    fit = keras_fit(pairs[0], info.keras(info.hyper), x, y, **kw)
    tape = keras_tape_loop(pairs[1], info.keras(info.hyper), x, y, **kw)
    torch = torch_loop(pairs[2], lambda params: info.torch(params, info.hyper), x, y, **kw)
    checks = compare_weights("keras_fit", fit, "torch_loop", torch, tol, f"{model}/{opt_id}")
    checks += compare_weights("keras_fit", fit, "keras_tape", tape, tol, f"{model}/{opt_id}")
    checks += bn_running_var_check(init, fit, torch, spec, tol)
    moved = max(float(np.abs(fit[n][k] - init[n][k]).max()) for n in fit for k in fit[n])
    assert moved > 100 * tol.atol, f"{model}/{opt_id}: training moved weights by only {moved:.3g} (tolerance {tol})"
    failed = [c.render() for c in checks if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_dropout_statistics(rate):
    """In training mode both drop a fraction ~rate (5-sigma binomial bound) and scale kept values by 1/(1-rate)."""
    keras, torch = runtime.keras(), runtime.torch()
    n = 200_000
    ones = np.ones((1, n), np.float32)
    tf_out = keras.layers.Dropout(rate, seed=1)(ones, training=True).numpy()
    torch_out = torch.nn.Dropout(rate).train()(torch.from_numpy(ones)).numpy()
    sigma = np.sqrt(rate * (1 - rate) / n)
    for side, out in (("tf", tf_out), ("torch", torch_out)):
        dropped = float(np.mean(out == 0))
        assert abs(dropped - rate) < 5 * sigma, f"{side}: dropped {dropped:.4f}, expected {rate} +- {5 * sigma:.4f}"
        kept = np.unique(out[out != 0])
        assert kept.tolist() == [np.float32(1 / (1 - rate))], f"{side}: kept values {kept[:5]}, expected 1/(1-{rate})"


@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in SCHEDULE_DB])
def test_schedule_matches(info):
    """The Keras schedule at iteration t and the torch scheduler after t steps give the float64 reference's lr."""
    torch = runtime.torch()
    keras_schedule = info.keras()
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=info.lr)
    scheduler = info.torch(opt)
    tf_lr, torch_lr = [], []
    for t in range(info.steps):
        tf_lr.append(float(keras_schedule(t)))
        torch_lr.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradient: a no-op, but torch expects optimizer.step() before scheduler.step()
        scheduler.step()
    ref = np.array([info.ref(t) for t in range(info.steps)])
    # Keras evaluates in float32 (pow/cos of t/T: a few ulps), torch in Python floats (recursive forms: ~steps u64).
    tol = tolerance("float32", ulps=16, scale=info.lr, reason="float32 schedule arithmetic, 16 ulps of lr")
    assert_equivalent(np.float32(tf_lr), np.float32(torch_lr), ref, tol=tol, what=f"{info.id} lr per step",
                      context=f"  mapping: {info.mapping}\n  rows are iterations 0..{info.steps - 1}")


# ================================================================ adaptive optimizers, schedules, clipping, weights
# Each compares Keras fit with the torch loop from the same weights and data; the torch loop records its gradient
# trajectory, from which the tolerance is computed (see the module docstring). Keras results that several tests
# compare against (the mutation checks change the torch side only) are computed once per process.
LONG_EPOCHS = 3  # 3 epochs x 3 batches = 9 steps: optimizer state, bias corrections and schedules evolve over 9 steps
STEPS_PER_EPOCH = -(-N // BATCH)


def gradient_rtol(spec: ModelSpec) -> float:
    """rtol_g of the module docstring: the model rule at twice the forward depth times the batch."""
    return tolerance("float32", depth=2 * accumulation_depth(spec, batch=BATCH) * BATCH).rtol


def grad_max(grads: dict) -> float:
    """max|g| over every trainable weight of one canonical gradient dict."""
    return max(float(np.abs(g).max()) for lw in grads.values() for g in lw.values())


def max_abs_per_weight(*weight_sets) -> dict:
    """Per weight array: the largest |w| over the given canonical weight sets."""
    first = weight_sets[0]
    return {n: {k: max(float(np.abs(w[n][k]).max()) for w in weight_sets) for k in lw} for n, lw in first.items()}


def raise_failed(checks, context: str = "") -> None:
    failed = [c.render() for c in checks if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed) + (f"\n{context}" if context else ""))


_KERAS_CACHE: dict = {}


def keras_once(key: str, run):
    """run() once per process for this key (Keras fit is deterministic: the same data, weights and settings give
    the same weights); the torch-side mutation checks reuse the unmutated Keras result."""
    if key not in _KERAS_CACHE:
        _KERAS_CACHE[key] = run()
    return _KERAS_CACHE[key]


def compare_within(a, b, bound, what: str, label_a: str = "keras_fit", label_b: str = "torch_loop"):
    """|a - b| <= bound elementwise (bound an array): compared as (a - b) / bound within 1."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ratio = (a - b) / bound
    i = np.unravel_index(int(np.argmax(np.abs(ratio))), ratio.shape)
    ctx = (f"  worst element {tuple(int(j) for j in i)}: {label_a}={a[i]!r} {label_b}={b[i]!r} "
           f"|diff|={abs(a[i] - b[i]):.3g} bound={np.broadcast_to(bound, a.shape)[i]:.3g}")
    return compare(ratio, np.zeros_like(ratio), Tolerance(1.0, 0.0, "per-element bound: |a - b| / bound <= 1"),
                   what=f"{what} ({label_a} - {label_b}) / bound", label_a="ratio", label_b="zero", context=ctx)


def compare_bounded(fit, torch_w, bound, what) -> list:
    """Every trainable weight within its per-element bound (training.adaptive_weight_bound)."""
    return [compare_within(fit[n][k], torch_w[n][k], bound[n][k], f"{what} {n}.{k}") for n in bound for k in bound[n]]


# ---------------------------------------------------------------- adaptive optimizers over several epochs
ADAPTIVE_CASES = [("mlp", "adam-tiny_eps"), ("mlp", "adamw-tiny_eps"), ("mlp", "rmsprop-tiny_eps"),
                  ("mlp", "rmsprop-momentum"), ("mlp_batchnorm_nobias", "adam-tiny_eps")]


def bn_stats_within(spec, x, init, fit, torch_w, bound, steps: int) -> list:
    """Running statistics of a BatchNorm fed by a Dense of the input, z = x W, per channel j. They are EMAs
    (weights summing to <= 1) of batch means / variances of z; a kernel drift of at most bound_ij (the weights'
    cumulative bound covers every step) moves z_bj by <= X_j = max_b sum_i |x_bi| bound_ij, a mean by as much and a
    (biased) variance by <= 2 max_b|z_bj - mean_j| X_j; torch's unbiased mapping multiplies by n/(n-1). On top, the
    forward pass's float32 rounding: rtol_g (the model rule) relative to the statistic."""
    (bn,) = [l for l in spec.layers if l.kind == "batch_norm"]
    src = spec.layer_by_name(spec.sources(bn)[0])
    assert src.kind == "dense" and spec.sources(src) == ("input",), f"{spec.name}: BatchNorm must read Dense(input)"
    x64 = np.asarray(x, np.float64)
    drift = (np.abs(x64) @ bound[src.name]["kernel"]).max(axis=0)  # X_j
    z = x64 @ np.asarray(init[src.name]["kernel"], np.float64)
    spread = np.abs(z - z.mean(axis=0)).max(axis=0)
    n = BATCH * int(np.prod(spec.shapes[src.name][:-1]))
    rtol_g = gradient_rtol(spec)
    mean_k, mean_t = fit[bn.name]["moving_mean"], torch_w[bn.name]["moving_mean"]
    var_k, var_t = keras_var_as_torch(spec, bn, init, fit, steps), torch_w[bn.name]["moving_variance"]
    what = f"{spec.name} {bn.name}"
    return [compare_within(mean_k, mean_t, drift + rtol_g * np.abs(mean_t), f"{what}.moving_mean"),
            compare_within(var_k, var_t, n / (n - 1) * 2 * spread * drift + rtol_g * np.abs(var_t),
                           f"{what}.moving_variance (keras mapped to unbiased)", label_a="keras_mapped")]


def run_adaptive(model: str, opt_id: str, torch_changes: dict | None = None) -> list:
    """Keras fit vs the torch loop, LONG_EPOCHS epochs of an adaptive optimizer; returns the comparisons."""
    spec, info = MODELS[model], by_id(opt_id)
    x, y = data(spec, seed=1)
    kw = dict(epochs=LONG_EPOCHS, batch_size=BATCH)
    init = init_weights(spec, seed=0)
    fit = keras_once(f"adaptive-{model}-{opt_id}",
                     lambda: keras_fit(build_pair(spec, seed=0), info.keras(info.hyper), x, y, **kw))
    hyper, rec = {**info.hyper, **(torch_changes or {})}, {}
    torch_w = torch_loop(build_pair(spec, seed=0), lambda params: info.torch(params, hyper), x, y, record=rec, **kw)
    rtol_g = gradient_rtol(spec)
    bound = adaptive_weight_bound(info, rec["grads"], rec["lr"], [rtol_g * grad_max(g) for g in rec["grads"]],
                                  max_abs_per_weight(init, fit, torch_w))
    what = f"{model}/{opt_id} {LONG_EPOCHS} epochs" + (f" (torch {torch_changes})" if torch_changes else "")
    checks = compare_bounded(fit, torch_w, bound, what)
    if any(l.kind == "batch_norm" for l in spec.layers):
        checks += bn_stats_within(spec, x, init, fit, torch_w, bound, LONG_EPOCHS * STEPS_PER_EPOCH)
    # Power: the comparison means something only where training moved a weight far beyond its bound.
    power = np.concatenate([(np.abs(fit[n][k] - init[n][k]) / bound[n][k]).ravel() for n in bound for k in bound[n]])
    assert np.mean(power > 100) >= 0.5, (f"{what}: only {np.mean(power > 100):.0%} of the weights moved by more "
                                         f"than 100x their bound (median ratio {np.median(power):.3g})")
    return checks


@pytest.mark.parametrize("model, opt_id", [pytest.param(m, o, id=f"{m}-{o}-{LONG_EPOCHS}epochs")
                                           for m, o in ADAPTIVE_CASES])
def test_adaptive_loop_matches(model, opt_id):
    """Adam / AdamW / RMSprop state over several epochs: Keras fit and the torch loop end at the same weights
    (and BatchNorm running statistics) within the per-element adaptive bound."""
    raise_failed(run_adaptive(model, opt_id))


# ---------------------------------------------------------------- learning-rate schedules inside fit
def schedule_by_id(sid: str):
    return next(i for i in SCHEDULE_DB if i.id == sid)


SCHEDULE_UNIT_ERR = 16 * eps("float32")  # Keras evaluates a schedule in float32 (16 ulps of lr, as in
# test_schedule_matches) and keeps the lr in a float32 variable; torch's is a Python float: lr_t * 16u * |g| per step


def sgd_trajectory_tolerance(spec, rec, weight_sets, *, lr_rel_err: float = 0.0, grad_err=None, momentum: float = 0.0,
                             why: str = "") -> Tolerance:
    """sgd_weight_tolerance on the torch loop's recorded trajectory: per step lr_t and the gradient error
    rtol_g * max|g_t| (or grad_err[t]), plus lr_rel_err * lr_t * max|g_t| for an lr both sides round differently;
    max|w| over `weight_sets` (the initial and the trained weights)."""
    gmax = [grad_max(g) for g in rec["grads"]]
    err = grad_err if grad_err is not None else [gradient_rtol(spec) * g for g in gmax]
    err = [e + lr_rel_err * g for e, g in zip(err, gmax)]
    w_max = max(v for lw in max_abs_per_weight(*weight_sets).values() for v in lw.values())
    return sgd_weight_tolerance(rec["lr"], err, w_max, momentum,
                                why or f"rtol_g={gradient_rtol(spec):.2g}, lr rounding {lr_rel_err:.2g}")


def run_schedule(case: str) -> list:
    """Keras fit with a schedule vs the torch loop stepping the matching scheduler (SGD, MLP); the comparisons."""
    keras, torch = runtime.keras(), runtime.torch()
    spec = MODELS["mlp"]
    x, y = data(spec, seed=1)
    kw = dict(epochs=LONG_EPOCHS, batch_size=BATCH)
    if case == "exponential-per_step":  # LearningRateSchedule, evaluated at every optimizer step
        info, unit = schedule_by_id("exponential-per_step"), "step"
        make_keras = lambda: keras.optimizers.SGD(learning_rate=info.keras())  # noqa: E731
        callbacks, torch_scheduler = (), info.torch
    elif case == "step-per_epoch_callback":  # LearningRateScheduler callback, setting the lr at each epoch's start
        info, unit = schedule_by_id("step"), "epoch"  # halves every 3 steps: every epoch of 3 batches
        assert STEPS_PER_EPOCH == 3
        make_keras = lambda: keras.optimizers.SGD(learning_rate=info.lr)  # noqa: E731
        callbacks = (keras.callbacks.LearningRateScheduler(lambda epoch, lr: info.ref(epoch * STEPS_PER_EPOCH)),)
        torch_scheduler = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # noqa: E731
    else:
        raise KeyError(case)
    init = init_weights(spec, seed=0)
    fit = keras_once(f"schedule-{case}",
                     lambda: keras_fit(build_pair(spec, seed=0), make_keras(), x, y, callbacks=callbacks, **kw))
    rec = {}
    torch_w = torch_loop(build_pair(spec, seed=0), lambda params: torch.optim.SGD(params, lr=info.lr), x, y,
                         scheduler=torch_scheduler, scheduler_unit=unit, record=rec, **kw)
    expected = [info.ref(t if unit == "step" else t // STEPS_PER_EPOCH * STEPS_PER_EPOCH)
                for t in range(LONG_EPOCHS * STEPS_PER_EPOCH)]
    np.testing.assert_allclose(rec["lr"], expected, rtol=1e-12, err_msg=f"{case}: the torch scheduler's lr per step")
    tol = sgd_trajectory_tolerance(spec, rec, (init, fit), lr_rel_err=SCHEDULE_UNIT_ERR)
    moved = max(float(np.abs(fit[n][k] - init[n][k]).max()) for n in fit for k in fit[n])
    assert moved > 100 * tol.atol, f"{case}: training moved weights by only {moved:.3g} (tolerance {tol})"
    return compare_weights("keras_fit", fit, "torch_loop", torch_w, tol, f"mlp/sgd schedule {case}")


@pytest.mark.parametrize("case", ["exponential-per_step", "step-per_epoch_callback"])
def test_schedule_in_fit_matches(case):
    """A schedule applied inside Keras fit (LearningRateSchedule per step, LearningRateScheduler callback per
    epoch) and the torch loop stepping the matching scheduler end at the same weights (SGD, the SGD rule)."""
    raise_failed(run_schedule(case))


def test_schedule_with_momentum_differs():
    """SGD momentum under a schedule: Keras keeps each gradient's lr in the velocity (v = mu v - lr_t g_t, so
    p_t = p - sum_s mu^(t-s) lr_s g_s), torch multiplies the whole buffer by the CURRENT lr (buf = mu buf + g_t,
    p -= lr_t buf). With a decaying lr Keras takes larger steps. A torch loop that feeds lr_t / lr_0 * g to a
    constant-lr SGD (Keras' convention) matches Keras fit; the plain mapping (ExponentialLR) does not."""
    keras, torch = runtime.keras(), runtime.torch()
    spec, info, momentum = MODELS["mlp"], schedule_by_id("exponential-per_step"), 0.9
    x, y = data(spec, seed=1)
    kw = dict(epochs=LONG_EPOCHS, batch_size=BATCH)
    init = init_weights(spec, seed=0)
    fit = keras_fit(build_pair(spec, seed=0), keras.optimizers.SGD(learning_rate=info.keras(), momentum=momentum),
                    x, y, **kw)
    make_sgd = lambda params: torch.optim.SGD(params, lr=info.lr, momentum=momentum)  # noqa: E731

    def keras_convention(params, step):  # the gradient carries its step's lr factor into the buffer
        for p in params:
            p.grad.mul_(info.ref(step) / info.lr)

    rec_k, rec_t = {}, {}
    torch_k = torch_loop(build_pair(spec, seed=0), make_sgd, x, y, before_step=keras_convention, record=rec_k, **kw)
    torch_t = torch_loop(build_pair(spec, seed=0), make_sgd, x, y, scheduler=info.torch, record=rec_t, **kw)
    tol = sgd_trajectory_tolerance(spec, rec_k, (init, fit), lr_rel_err=SCHEDULE_UNIT_ERR, momentum=momentum)
    raise_failed(compare_weights("keras_fit", fit, "torch_keras_convention", torch_k, tol,
                                 "mlp/sgd-momentum ExponentialDecay"))
    diff = max(float(np.abs(fit[n][k] - torch_t[n][k]).max()) for n in fit for k in fit[n])
    assert diff > 100 * tol.atol, (f"mlp/sgd-momentum ExponentialDecay vs ExponentialLR: expected the lr-in-velocity "
                                   f"difference, got max|keras_fit - torch_loop| = {diff:.3g} (tolerance {tol})")


# ---------------------------------------------------------------- gradient clipping
# id: (Keras optimizer argument, what the torch loop does between backward and step, threshold). Thresholds sit
# below the MLP's unclipped gradient norms on these data (global ~0.9-1.0, per variable 0.13-0.76, max|g| >= 0.1).
CLIP_CASES = {
    "global_clipnorm": ("global_clipnorm", "global", 0.5),  # clip_grad_norm_(all parameters, c)
    "clipnorm": ("clipnorm", "per_variable", 0.4),  # clip_grad_norm_(p, c) for each parameter p
    "clipvalue": ("clipvalue", "value", 0.15),  # clip_grad_value_(all parameters, c)
}


def clip_hook(kind: str, c: float):
    """torch clipping between backward and step; returns the unclipped gradients' norms, sizes and max|g|."""
    torch = runtime.torch()

    def hook(params, step):
        grads = [p.grad for p in params]
        stats = dict(norms=[float(torch.linalg.vector_norm(g.double())) for g in grads],
                     sizes=[g.numel() for g in grads], gmax=[float(g.abs().max()) for g in grads])
        if kind == "global":
            torch.nn.utils.clip_grad_norm_(params, c)
        elif kind == "per_variable":
            for p in params:
                torch.nn.utils.clip_grad_norm_(p, c)
        else:
            torch.nn.utils.clip_grad_value_(params, c)
        return stats

    return hook


def clipped_gradient_error(kind: str, stats: dict, c: float, e: float) -> float:
    """The largest elementwise difference of the clipped gradients when the raw ones differ by <= e.

    value: clipping is 1-Lipschitz elementwise: e.
    norm, per group (all parameters for 'global', each variable for 'per_variable') of P elements and norm N:
      clipped on both sides (N - sqrt(P) e > c): g c/N moves by c/N (e + |g_i| |dN|/N) <= c/N e (1 + sqrt(P)),
        |dN| <= ||dg||_2 <= sqrt(P) e; plus N's own float32 rounding (a sum of P squares: the rule at depth P) and
        torch's clip_coef = c/(N + 1e-6) against Keras' c/N, both relative to the clipped values (<= max|g| c/N);
      unclipped on both sides (N + sqrt(P) e <= c): e;
      in between: clipping is the projection onto the ball of radius c, which is nonexpansive: sqrt(P) e.
    """
    if kind == "value":
        return e
    groups = ([(float(np.sqrt(np.sum(np.square(stats["norms"])))), sum(stats["sizes"]), max(stats["gmax"]))]
              if kind == "global" else list(zip(stats["norms"], stats["sizes"], stats["gmax"])))
    worst = e
    for norm, size, gmax in groups:
        spread = np.sqrt(size) * e
        if norm - spread > c:
            rel = tolerance("float32", depth=size).rtol + 1e-6 / norm
            worst = max(worst, c / norm * (e * (1 + np.sqrt(size)) + gmax * rel))
        elif norm + spread > c:
            worst = max(worst, spread)
    return worst


def run_clipping(keras_arg: str, torch_kind: str, c: float, *, torch_scale: float = 1.0):
    """Keras SGD(**{keras_arg: c}) fit vs the torch loop clipping with `torch_kind` at c * torch_scale.
    Returns (Keras weights, torch weights, tolerance, the torch loop's clipping statistics per step)."""
    keras, torch = runtime.keras(), runtime.torch()
    spec, lr = MODELS["mlp"], by_id("sgd-plain").hyper["lr"]
    x, y = data(spec, seed=1)
    kw = dict(epochs=LONG_EPOCHS, batch_size=BATCH)
    init = init_weights(spec, seed=0)
    fit = keras_once(f"clip-{keras_arg}-{c}", lambda: keras_fit(
        build_pair(spec, seed=0), keras.optimizers.SGD(learning_rate=lr, **{keras_arg: c}), x, y, **kw))
    rec = {}
    torch_w = torch_loop(build_pair(spec, seed=0), lambda params: torch.optim.SGD(params, lr=lr), x, y,
                         before_step=clip_hook(torch_kind, c * torch_scale), record=rec, **kw)
    rtol_g = gradient_rtol(spec)
    err = [clipped_gradient_error(torch_kind, st, c, rtol_g * max(st["gmax"])) for st in rec["hook"]]
    tol = sgd_trajectory_tolerance(spec, rec, (init, fit), grad_err=err,
                                   why=f"clipped gradient error (clipped_gradient_error, {torch_kind}, c={c:g})")
    return fit, torch_w, tol, rec["hook"]


def assert_clipping_active(case: str, kind: str, c: float, stats: list) -> None:
    """Clipping changed the gradient at every step (else the comparison would not test it)."""
    for t, st in enumerate(stats):
        if kind == "global":
            norm = float(np.sqrt(np.sum(np.square(st["norms"]))))
            assert norm > c, f"{case} step {t}: unclipped global norm {norm:.3g} <= threshold {c}"
        elif kind == "per_variable":
            clipped = sum(n > c for n in st["norms"])
            assert clipped >= 2, f"{case} step {t}: only {clipped} variables above clipnorm {c} ({st['norms']})"
        else:
            assert max(st["gmax"]) > c, f"{case} step {t}: max|g| {max(st['gmax']):.3g} <= clipvalue {c}"


@pytest.mark.parametrize("case", list(CLIP_CASES))
def test_clipping_matches(case):
    """Keras optimizer clipping and its torch counterpart (global_clipnorm = clip_grad_norm_ over all parameters,
    clipnorm = clip_grad_norm_ per parameter, clipvalue = clip_grad_value_) end at the same weights (SGD)."""
    keras_arg, kind, c = CLIP_CASES[case]
    fit, torch_w, tol, stats = run_clipping(keras_arg, kind, c)
    assert_clipping_active(case, kind, c, stats)
    raise_failed(compare_weights("keras_fit", fit, "torch_loop", torch_w, tol, f"mlp/sgd-plain {keras_arg}={c}"))


def test_clipnorm_is_per_variable():
    """Keras clipnorm clips each variable to norm c; torch clip_grad_norm_ clips the norm over ALL parameters:
    with several variables above c they scale differently, and the weights part by far more than the tolerance."""
    keras_arg, _, c = CLIP_CASES["clipnorm"]
    fit, torch_w, tol, stats = run_clipping(keras_arg, "global", c)
    assert_clipping_active("clipnorm", "per_variable", c, stats)
    diff = max(float(np.abs(fit[n][k] - torch_w[n][k]).max()) for n in fit for k in fit[n])
    assert diff > 100 * tol.atol, (f"mlp/sgd-plain clipnorm={c} vs clip_grad_norm_(all, {c}): expected per-variable "
                                   f"vs global clipping to differ, max|diff| = {diff:.3g} (tolerance {tol})")


# ---------------------------------------------------------------- class and sample weights
CLASS_WEIGHT = {0: 1.0, 1: 3.0, 2: 0.5}


def sample_weights() -> np.ndarray:
    return np.random.default_rng(2).uniform(0.25, 2.0, N).astype(np.float32)


def weighted_ce(kind: str, class_weight: dict | None = None):
    """torch losses for the batch (logits, target, per-sample weight):
    'class_weight'  Keras' sum_b cw[y_b] l_b / B  = CrossEntropyLoss(weight=cw, reduction='sum') / B
    'sample_weight' Keras' sum_b w_b l_b / B      = (w * CrossEntropyLoss(reduction='none')).sum() / B
    'naive'         CrossEntropyLoss(weight=cw) (reduction 'mean': sum_b cw[y_b] l_b / sum_b cw[y_b])."""
    torch = runtime.torch()
    f = torch.nn.functional
    cw = torch.tensor([(class_weight or CLASS_WEIGHT)[i] for i in range(3)], dtype=torch.float32)
    return {"class_weight": lambda z, t, w: f.cross_entropy(z, t, weight=cw, reduction="sum") / len(t),
            "sample_weight": lambda z, t, w: (w * f.cross_entropy(z, t, reduction="none")).sum() / len(t),
            "naive": lambda z, t, w: f.cross_entropy(z, t, weight=cw)}[kind]


def run_weights(case: str, torch_loss: str | None = None, torch_class_weight: dict | None = None):
    """Keras fit(class_weight= / sample_weight=) vs the torch loop with the weighted loss `torch_loss` (default:
    the matching one). Returns (Keras weights, torch weights, tolerance)."""
    spec, info = MODELS["mlp"], by_id("sgd-plain")
    x, y = data(spec, seed=1)
    kw = dict(epochs=LONG_EPOCHS, batch_size=BATCH)
    weighting = {"class_weight": CLASS_WEIGHT} if case == "class_weight" else {"sample_weight": sample_weights()}
    init = init_weights(spec, seed=0)
    fit = keras_once(f"weights-{case}", lambda: keras_fit(build_pair(spec, seed=0), info.keras(info.hyper), x, y,
                                                          **weighting, **kw))
    rec = {}
    torch_w = torch_loop(build_pair(spec, seed=0), lambda params: info.torch(params, info.hyper), x, y,
                         loss_fn=weighted_ce(torch_loss or case, torch_class_weight),
                         sample_weight=weighting.get("sample_weight"), record=rec, **kw)
    return fit, torch_w, sgd_trajectory_tolerance(spec, rec, (init, fit))


@pytest.mark.parametrize("case", ["class_weight", "sample_weight"])
def test_loss_weights_match(case):
    """Keras fit(class_weight=...) / fit(sample_weight=...) and the torch loop with the same weighted mean over
    the batch size end at the same weights (SGD, the SGD rule on the weighted loss's gradients)."""
    fit, torch_w, tol = run_weights(case)
    raise_failed(compare_weights("keras_fit", fit, "torch_loop", torch_w, tol, f"mlp/sgd-plain {case}"))


def test_class_weight_naive_mapping_differs():
    """CrossEntropyLoss(weight=cw) divides by sum cw[y] (catalogue: ce-class-weight-mean-normalisation), Keras
    fit(class_weight=cw) by the batch size: with these weights the trained weights part by far more than the
    tolerance."""
    fit, torch_w, tol = run_weights("class_weight", torch_loss="naive")
    diff = max(float(np.abs(fit[n][k] - torch_w[n][k]).max()) for n in fit for k in fit[n])
    assert diff > 100 * tol.atol, (f"mlp/sgd-plain class_weight vs CrossEntropyLoss(weight=cw): expected the "
                                   f"normalisation difference, max|diff| = {diff:.3g} (tolerance {tol})")


# ---------------------------------------------------------------- mutation checks: a small change is caught
def _mutated_schedule_decay(monkeypatch):
    """Keras ExponentialDecay with decay_rate x 1.01 (the torch scheduler unchanged)."""
    schedules = runtime.keras().optimizers.schedules
    original = schedules.ExponentialDecay

    class Drifted(original):
        def __init__(self, initial_learning_rate, decay_steps, decay_rate, **kw):
            super().__init__(initial_learning_rate, decay_steps, decay_rate * 1.01, **kw)

    monkeypatch.setattr(schedules, "ExponentialDecay", Drifted)
    monkeypatch.setattr(sys.modules[__name__], "_KERAS_CACHE", {})  # the mutated Keras run is not reused
    return run_schedule("exponential-per_step")


def _mutated_clip(monkeypatch):
    keras_arg, kind, c = CLIP_CASES["global_clipnorm"]
    fit, torch_w, tol, _ = run_clipping(keras_arg, kind, c, torch_scale=1.01)
    return compare_weights("keras_fit", fit, "torch_loop", torch_w, tol, f"mlp/sgd-plain {keras_arg}={c} (torch x1.01)")


def _mutated_class_weight(monkeypatch):
    fit, torch_w, tol = run_weights("class_weight", torch_class_weight={**CLASS_WEIGHT, 1: CLASS_WEIGHT[1] * 1.01})
    return compare_weights("keras_fit", fit, "torch_loop", torch_w, tol,
                           "mlp/sgd-plain class_weight (torch cw[1] x1.01)")


MUTATIONS = {
    "torch_adam_beta2_0.998": lambda mp: run_adaptive("mlp", "adam-tiny_eps", torch_changes={"beta2": 0.998}),
    "keras_exponential_decay_rate_x1.01": _mutated_schedule_decay,
    "torch_clip_grad_norm_x1.01": _mutated_clip,
    "torch_class_weight_x1.01": _mutated_class_weight,
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_mutation_is_caught(mutation, monkeypatch):
    """Each comparison above fails when one side changes slightly (so none of them can pass vacuously)."""
    with pytest.raises(EquivalenceMismatch):
        raise_failed(MUTATIONS[mutation](monkeypatch))
