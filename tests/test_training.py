"""Training-loop equivalence: Keras fit, a Keras GradientTape loop and the seed's manual torch loop, from the same
weights, data and optimizer, end at the same weights (and BatchNorm running statistics); dropout statistics agree.

Tolerance (weights after k steps of SGD with learning rate lr, `training_tolerance`): every step moves a weight by
lr * g, and g carries the backward pass's rounding, rtol_g * max|g| with rtol_g the model rule at twice the forward
depth (the backward pass accumulates over the same layers again, plus the batch); errors add over k steps, momentum
multiplies them by at most 1/(1 - momentum); storing the weight rounds by u * max|w| per step.
"""
from __future__ import annotations

import numpy as np
import pytest

from equivalence import _runtime
from equivalence.catalog.optimizers import by_id
from equivalence.catalog.schedules import SCHEDULE_DB
from equivalence.compare import EquivalenceMismatch, assert_equivalent, compare
from equivalence.models import accumulation_depth, build_pair
from equivalence.spec import ModelSpec, layer
from equivalence.tolerances import Tolerance, eps, tolerance
from equivalence.training import keras_fit, keras_tape_loop, torch_loop

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
    torch = _runtime.torch()
    from equivalence._torch import to_torch_layout

    saved = {k: v.clone() for k, v in pair.torch.state_dict().items()}  # a training forward moves running stats
    pair.torch.train()
    loss = torch.nn.functional.cross_entropy(pair.torch(torch.from_numpy(to_torch_layout(x[:BATCH]))),
                                             torch.from_numpy(y[:BATCH].astype(np.int64)))
    grads = torch.autograd.grad(loss, list(pair.torch.parameters()))
    pair.torch.eval()
    pair.torch.load_state_dict(saved)
    return max(float(g.abs().max()) for g in grads)


def compare_weights(label_a, wa, label_b, wb, tol, what) -> list:
    """Comparisons of every canonical parameter (trainable weights and running statistics)."""
    return [compare(wa[n][k], wb[n][k], tol, what=f"{what} {n}.{k}", label_a=label_a, label_b=label_b)
            for n in wa for k in wa[n] if not k.startswith("moving_")]


def bn_running_var_check(init, w_keras, w_torch, spec, tol) -> list:
    """torch's running variance is the EMA of UNBIASED batch variances, Keras' of biased ones (catalogue entry
    bn-running-var-unbiased): with m = Keras momentum, k steps and n values per channel and batch,
    torch_var - m^k v0 == n/(n-1) * (keras_var - m^k v0) exactly in real arithmetic; running means agree."""
    out, steps = [], EPOCHS * -(-N // BATCH)
    for l in spec.layers:
        if l.kind != "batch_norm":
            continue
        shape = spec.shapes[spec.sources(l)[0]]
        n = BATCH * int(np.prod(shape[:-1]))
        decayed = l["momentum"] ** steps * np.asarray(init[l.name]["moving_variance"], np.float64)
        mapped = decayed + n / (n - 1) * (w_keras[l.name]["moving_variance"] - decayed)
        out.append(compare(w_torch[l.name]["moving_variance"], mapped, tol, what=f"{l.name}.moving_variance",
                           label_a="torch", label_b="keras_mapped_unbiased"))
        out.append(compare(w_torch[l.name]["moving_mean"], w_keras[l.name]["moving_mean"], tol,
                           what=f"{l.name}.moving_mean", label_a="torch", label_b="keras"))
    return out


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
    keras, torch = _runtime.keras(), _runtime.torch()
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
    torch = _runtime.torch()
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
