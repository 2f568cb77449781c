"""Gradients: GradientTape vs autograd vs float64 references, for losses, registry ops and spec-built models.

Registry ops: the VJP at a drawn cotangent, element by element, TF vs float64, torch vs float64 and TF vs torch.
The float64 reference differentiates the op's NumPy reference one input element at a time (equivalence.gradcheck:
five-point differences, which also give each element's chain-rule terms and certify their own accuracy); each
element is allowed rtol x the magnitude of the terms it is computed from, the op's cancelling terms included
(OpInfo.grad_terms). Losses and models: directional checks (as torch.autograd.gradcheck's fast mode): <grad, d> for
a random direction d against the five-point central difference of the float64 reference (h = 1e-6 along
d / max|d|: truncation ~h^4 f^(5), which stays small even for -log p at p ~ 3e-4 where the plain two-point
difference was 1.2e-5 off; rounding ~1e-16 |f| / h); elementwise, TF and torch gradients are compared with each other.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from equivalence import _runtime
from equivalence.catalog._opinfo import Sample
from equivalence.catalog.losses import LOSS_DB, grad_term_scale, reduce_ref
from equivalence.catalog.ops import OP_DB, by_id
from equivalence.compare import EquivalenceMismatch, assert_close, compare, describe
from equivalence.differences import lookup
from equivalence.differences.ops import GRAD_NARROWS
from equivalence.gradcheck import SMOOTH, check_op_grad
from equivalence.tolerances import Tolerance, cross, tolerance

pytestmark = pytest.mark.grads
H = 1e-6


def central_difference(f, x: np.ndarray, direction: np.ndarray) -> float:
    """Five-point stencil (8(f(h) - f(-h)) - (f(2h) - f(-2h))) / 12h along d, in float64.

    The stencil steps along d / max|d| and the result is scaled back by max|d| (as gradcheck's fast mode
    normalises its random vectors), so the step in x is H whatever the direction's size. Stepping H d instead,
    a tiny d (a scalar argument draws one number) made the steps only ~1e4 ulp(x): the evaluation points round by
    up to ulp(x)/2 and f by ~1e-16 |f|, so the stencil's error, ~1.5e-16 (|g x| + |f|) / H, did not shrink with d
    while the tolerance does (thorough: maximum, 6.5 broadcast against 42 elements, d = -1.7e-5: the stencil was
    1.6e-8 = 1.5e-4 relative off the exact <g, d>, both gradients 4e-8; stepping along d / max|d|, 3e-10).
    """
    x, d = np.asarray(x, np.float64), np.asarray(direction, np.float64)
    norm = float(np.max(np.abs(d))) if d.size else 0.0
    if norm == 0.0:
        return 0.0
    d = d / norm
    at = lambda s: f(x + s * H * d)
    return norm * (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * H)


def directional_tolerance(grad: np.ndarray, direction: np.ndarray, rtol: float, floor=0.0) -> Tolerance:
    """|<g_err, d>| <= rtol * sum (|g| + floor)|d|: each gradient element is within rtol of its magnitude scale.

    `floor` is the magnitude of the terms a gradient element is computed from when that exceeds |g| itself:
    tanh'(3) = 1 - tanh(3)^2 and expm1'(-6) = expm1(-6) + 1 cancel terms of size 1 (times the cotangent), so
    their float32 error is ~u * |cotangent|, not u * |g| (observed 1.2e-5 relative at tanh'(3)). A scalar or an
    array shaped like `grad` (per element: losses.grad_term_scale).
    """
    scale = float(np.sum((np.abs(grad) + floor) * np.abs(direction)))
    return Tolerance(rtol * max(scale, 1e-6) + 1e-9, rtol,
                     f"directional: rtol {rtol:.2g} x sum(|g|+floor<={np.max(floor):.2g})|d|={scale:.3g} + FD 1e-9")


# ---------------------------------------------------------------- losses
def loss_grads(info, sample):
    """d(mean loss)/d(y_pred) on each side."""
    tf, torch = _runtime.tf(), _runtime.torch()
    keras_red, torch_red = info.reductions["mean"]
    v = tf.Variable(sample.y_pred)
    with tf.GradientTape() as tape:
        loss = info.keras(sample.y_true, v, keras_red, sample.weight)
    t = torch.tensor(sample.y_pred, requires_grad=True)
    info.torch(sample.y_true, t, torch_red, sample.weight).backward()
    return tape.gradient(loss, v).numpy(), t.grad.numpy()


@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in LOSS_DB])
@given(data=st.data())
def test_loss_grad_matches(info, data):
    """The gradient of each loss (neutral 'mean') w.r.t. predictions matches finite differences on both sides."""
    sample = data.draw(info.samples(), label="sample")
    if info.kink is not None:
        assume(info.kink(sample.y_true, sample.y_pred) > 1e-3)  # kinks are asserted in test_subgradient_at_kink
    direction = data.draw(st.integers(0, 2**31 - 1), label="direction_seed")
    d = np.random.default_rng(direction).standard_normal(sample.y_pred.shape)
    g_tf, g_torch = loss_grads(info, sample)
    n, c = sample.y_pred.shape
    rtol = tolerance("float32", depth=c, ulps=8).rtol  # a loss gradient: a softmax/log over C terms, then a scale
    ctx = "\n".join([describe("y_true", np.asarray(sample.y_true, float)), describe("y_pred", sample.y_pred)])
    floor = grad_term_scale(info, sample)  # cancelling terms (p - y, cosine at p = -y): error ~u x them, not u|g|
    for side, g, ref in (("tf", g_tf, info.ref), ("torch", g_torch, info.torch_ref or info.ref)):
        f = lambda p: reduce_ref(info, ref(sample.y_true, p), sample.weight, "mean", sample.y_true)
        assert_close(float(np.sum(g * d)), central_difference(f, sample.y_pred, d),
                     directional_tolerance(g, d, rtol, floor),
                     what=f"{info.id} d(loss)/d(y_pred) . d", label_a=side, label_b="fd64", context=ctx)
    if info.torch_ref is None:  # else the two rules differ off the simplex (catalogued)
        scale = float(np.max(np.abs(g_tf) + floor))
        assert_close(g_tf, g_torch, cross(tolerance("float32", depth=c, ulps=8, scale=scale)),
                     what=f"{info.id} d(loss)/d(y_pred)", label_a="tf", label_b="torch", context=ctx)


# ---------------------------------------------------------------- registry ops
GRAD_OPS = [pytest.param(o, id=o.id) for o in OP_DB if o.supports_grad]


@pytest.mark.parametrize("info", GRAD_OPS)
@given(data=st.data())
def test_op_grad_matches(info, data):
    """TF and torch gradients (VJPs) of each differentiable registry op match the float64 reference and each other,
    element by element."""
    sample = data.draw(info.grad_samples("float32", SMOOTH), label="sample")  # the op's smooth domain, drawn
    note(sample.describe())
    # cases a catalogue witness owns on this platform (a kernel that is wrong or crashes here: GRAD_NARROWS)
    assume(not any(GRAD_NARROWS[d.id](sample) for d in lookup("grad", info.id) if d.id in GRAD_NARROWS))
    check_op_grad(info, sample, data.draw(st.integers(0, 2**31 - 1), label="cotangent_seed"))


def _f32(value):
    return np.asarray(value, np.float32)


def _pinned_sample(args) -> Sample:
    return Sample(tuple(args), {}, "broadcast" if len({np.shape(a) for a in args}) > 1 else "pinned")


# Cases the `thorough` profile found, rebuilt from their failure messages (the test draws with st.data(), so an
# @example cannot pin them): (op id, case, args, cotangent seed, "passes", or "excludes" the elements the float64
# stencil cannot differentiate).
_MAX_SCALAR_VS_42 = (_f32(6.5), (np.arange(42) % 8 + 1).astype(np.float32).reshape(7, 6, 1))
PINNED_GRAD_CASES = [
    # A scalar broadcast against float32[7, 6, 1] (the old directional check stepped a tiny scalar direction,
    # -1.66e-5, and its stencil was 1.6e-8 off <g, d>): the scalar's gradient sums 42 terms, 5 u of them off.
    ("maximum", "tiny-scalar-direction", _MAX_SCALAR_VS_42, 149050, "passes"),
    ("maximum-keras", "tiny-scalar-direction", _MAX_SCALAR_VS_42, 149050, "passes"),
    # A scalar 2e-6 with an element 1.19e-7 (a kink) 1.9e-6 away: the first step (3.1e-5) crosses it and does not
    # certify; the retry at 2**-6 of it (reach 9.5e-7) does not cross, so every element is compared.
    ("maximum", "kink-within-reach", (_f32(2e-6), _f32([1, 2, 3, 1.5, 1.25, 0.5, 0.75, 2**-23])), 0, "passes"),
    # An exact tie is a kink at the point itself (test_subgradient_at_kink's): no step certifies the tied elements,
    # the kink residual R there is the jump |c|; both operands' tied elements are excluded, the others compared.
    ("maximum", "tie", (_f32(1.5), _f32([1, 1.5, 2])), 0, "excludes"),
    # gelu-tanh' cancels in the negative tail (grad_terms): TF 16.6 u off at -4.63 (terms 15.3); TF's tanh is
    # exactly -1 at -4.875, so its gelu' is 0 where the true value is -3.4e-6 (28 u, terms 17.3).
    ("gelu-tanh", "tail-4.63", (_f32(-4.6302357),), 0, "passes"),
    ("gelu-keras", "tail-4.63", (_f32(-4.6302357),), 0, "passes"),
    ("gelu-tanh", "tail-4.875", (_f32(-4.875),), 0, "passes"),
    ("gelu-keras", "tail-4.875", (_f32(-4.875),), 0, "passes"),
]


class Filtered(Exception):
    """A pinned case failed one of check_op_grad's smooth-domain conditions (hypothesis would reject it)."""


def _strict(condition):
    if not condition:
        raise Filtered("outside the smooth domain the drawn cases are filtered to")


@pytest.mark.parametrize("op_id,case,args,seed,outcome",
                         [pytest.param(*c, id=f"{c[0]}-{c[1]}") for c in PINNED_GRAD_CASES])
def test_op_grad_pinned(op_id, case, args, seed, outcome):
    """The cases the thorough profile found, replayed through the same check (excluded elements as documented)."""
    refs = check_op_grad(by_id(op_id), _pinned_sample(args), seed, assume_=_strict)
    excluded = [int((r.evaluated & ~r.comparable).sum()) for r in refs]
    assert (sum(excluded) > 0) == (outcome == "excludes"), f"{op_id}/{case}: excluded per argument {excluded}"


# Mutation checks: each side's gradient scaled by 1 + 1e-3 (values unchanged) must fail the same check. The tail
# pins cannot show it (gelu'(-4.6) is 1e-6 of the terms it is computed from; TF's own is 0 at -4.875), so the
# gelu case sits at -2.5, where the grad_terms floor (4.6) is 120x |gelu'| and still leaves a 4x margin.
# tests/meta/test_grad_mutations.py runs such mutations over drawn cases.
MUTATION_CASES = [
    ("maximum", "tiny-scalar-direction", _MAX_SCALAR_VS_42, 149050, "tf.math.maximum", "torch.maximum"),
    ("maximum-keras", "tiny-scalar-direction", _MAX_SCALAR_VS_42, 149050, "keras.ops.maximum", "torch.maximum"),
    ("gelu-tanh", "x-2.5", (_f32(-2.5),), 0, "tf.nn.gelu", "torch.nn.functional.gelu"),
    ("gelu-keras", "x-2.5", (_f32(-2.5),), 0, "keras.ops.gelu", "torch.nn.functional.gelu"),
]


def _with_scaled_grad(fn, side: str, factor: float):
    """fn with the same values and its gradient times `factor`: y + (factor - 1) (y - stop_gradient(y))."""
    def scaled(*args, **kwargs):
        y = fn(*args, **kwargs)
        frozen = y.detach() if side == "torch" else _runtime.tf().stop_gradient(y)
        return y + (factor - 1) * (y - frozen)
    return scaled


@pytest.mark.parametrize("side", ["tf", "torch"])
@pytest.mark.parametrize("op_id,case,args,seed,tf_path,torch_path",
                         [pytest.param(*c, id=f"{c[0]}-{c[1]}") for c in MUTATION_CASES])
def test_op_grad_catches_scaled_gradient(op_id, case, args, seed, tf_path, torch_path, side, monkeypatch):
    """The rules that let the pinned cases pass still reject a gradient 1e-3 off on either side."""
    path = tf_path if side == "tf" else torch_path
    root = {"tf": _runtime.tf, "keras": _runtime.keras, "torch": _runtime.torch}[path.split(".")[0]]()
    *parents, name = path.split(".")[1:]
    owner = root
    for part in parents:
        owner = getattr(owner, part)
    monkeypatch.setattr(owner, name, _with_scaled_grad(getattr(owner, name), side, 1 + 1e-3))
    with pytest.raises(EquivalenceMismatch, match=f"{side} != ref64"):
        check_op_grad(by_id(op_id), _pinned_sample(args), seed, assume_=_strict)


# ---------------------------------------------------------------- sub-gradients at kinks (asserted where both agree)
def _k(tf_fn, torch_fn, x, want):
    return tf_fn, torch_fn, x, want


KINKS = {  # id: (tf fn of (tf, v), torch fn of (torch, v), input, documented gradient of the sum)
    "relu-at-zero": _k(lambda tf, v: tf.nn.relu(v), lambda t, v: t.relu(v), [0.0, -0.0, 1.0], [0.0, 0.0, 1.0]),
    "abs-at-zero": _k(lambda tf, v: tf.abs(v), lambda t, v: v.abs(), [0.0, -0.0], [0.0, 0.0]),
    "relu6-at-bounds": _k(lambda tf, v: tf.nn.relu6(v), lambda t, v: t.nn.functional.relu6(v), [0.0, 6.0], [0.0, 0.0]),
    "leaky_relu-at-zero": _k(lambda tf, v: tf.nn.leaky_relu(v, 0.25), lambda t, v: t.nn.functional.leaky_relu(v, 0.25),
                             [0.0], [0.25]),
    "clip-at-bounds": _k(lambda tf, v: tf.clip_by_value(v, -1.0, 1.0), lambda t, v: v.clamp(-1.0, 1.0),
                         [-1.0, 1.0, 2.0], [1.0, 1.0, 0.0]),
    "reduce_max-ties": _k(lambda tf, v: tf.reduce_max(v), lambda t, v: t.amax(v), [1.0, 1.0, 0.0], [0.5, 0.5, 0.0]),
    "reduce_min-ties": _k(lambda tf, v: tf.reduce_min(v), lambda t, v: t.amin(v), [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]),
    "max_pool-ties": _k(lambda tf, v: tf.nn.max_pool2d(tf.reshape(v, (1, 2, 2, 1)), 2, 2, "VALID"),
                        lambda t, v: t.nn.functional.max_pool2d(v.reshape(1, 1, 2, 2), 2), [1.0, 1.0, 0.0, 1.0],
                        [1.0, 0.0, 0.0, 0.0]),
    "sqrt-at-zero": _k(lambda tf, v: tf.sqrt(v), lambda t, v: v.sqrt(), [0.0], [float("inf")]),
    "hinge-at-margin": _k(lambda tf, v: tf.maximum(1.0 - v, 0.0), lambda t, v: t.clamp(1 - v, min=0), [1.0], [-1.0]),
}


@pytest.mark.parametrize("kink", list(KINKS))
def test_subgradient_at_kink(kink):
    """At a kink both frameworks pick the same documented sub-gradient (where they differ: the catalogue)."""
    tf_fn, torch_fn, x, want = KINKS[kink]
    tf, torch = _runtime.tf(), _runtime.torch()
    v = tf.Variable(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf_fn(tf, v))
    t = torch.tensor(np.asarray(x, np.float32), requires_grad=True)
    torch_fn(torch, t).sum().backward()
    got = {"tf": tape.gradient(y, v).numpy().tolist(), "torch": t.grad.numpy().tolist()}
    assert got == {"tf": want, "torch": want}, f"{kink}: sub-gradients {got}, documented {want} on both at x={x}"


# ---------------------------------------------------------------- spec-built models (inputs and weights)
def _models():
    from equivalence.spec import ModelSpec, layer

    relu = dict(activation="relu")
    return {
        "conv_pool": ModelSpec("grad_conv_pool", (6, 6, 2), (
            layer("conv2d", filters=3, kernel_size=3, padding="same", **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=2, kernel_size=2), layer("avg_pool2d", pool_size=2), layer("flatten"),
            layer("dense", units=3))),
        "batchnorm_training": ModelSpec("grad_bn", (5,), (
            layer("dense", units=4), layer("batch_norm"), layer("activation", fn="tanh"), layer("dense", units=2))),
        "lstm": ModelSpec("grad_lstm", (4, 3), (layer("lstm", units=5), layer("dense", units=2))),
        "gru": ModelSpec("grad_gru", (4, 3), (layer("gru", units=5), layer("dense", units=2))),
    }


MODEL_SPECS = _models()


@pytest.mark.parametrize("model", list(MODEL_SPECS))
def test_model_grad_matches(model):
    """Gradients w.r.t. input and every weight (training mode): TF == torch elementwise, both == float64 FD along d."""
    from equivalence.models import accumulation_depth, build_pair
    from equivalence.training import keras_model_grads, ref_directional, torch_model_grads

    spec = MODEL_SPECS[model]
    pair = build_pair(spec, seed=3)
    rng = np.random.default_rng(7)
    x = pair.sample_input(seed=5, batch=3)
    cot = rng.standard_normal((3, *spec.output_shape)).astype(np.float32)
    gx_tf, gw_tf = keras_model_grads(pair, x, cot, training=True)
    gx_t, gw_t = torch_model_grads(pair, x, cot, training=True)
    # Backward accumulates over the forward depth again and over the batch (weight gradients sum over samples).
    rtol = tolerance("float32", depth=2 * accumulation_depth(spec, batch=3) * 3).rtol
    flat = [("input", gx_tf, gx_t)] + [(f"{n}.{k}", gw_tf[n][k], gw_t[n][k]) for n in gw_tf for k in gw_tf[n]]
    # Scale: the largest gradient in the model. A bias feeding BatchNorm has an exactly-zero gradient made of
    # cancelling terms of that size (observed 2.4e-7 on both sides), so its own max|g| would demand the impossible.
    g_max = max(float(np.abs(b).max()) for _, _, b in flat)
    tol = Tolerance(rtol * g_max, rtol, f"model gradient rule: rtol {rtol:.2g}, atol rtol x max|g| over the model")
    checks = [compare(a, b, tol, what=f"{model} d/d {name}", label_a="tf", label_b="torch") for name, a, b in flat]
    dx = rng.standard_normal(x.shape)
    dw = {n: {k: rng.standard_normal(np.shape(v)) for k, v in lw.items()} for n, lw in gw_tf.items()}
    fd = ref_directional(pair, x, cot, dx, dw, training=True)
    for side, gx, gw in (("tf", gx_tf, gw_tf), ("torch", gx_t, gw_t)):
        dot = float(np.sum(gx * dx)) + sum(float(np.sum(gw[n][k] * dw[n][k])) for n in gw for k in gw[n])
        mags = np.concatenate([np.abs(gx * dx).ravel()] + [np.abs(gw[n][k] * dw[n][k]).ravel() for n in gw for k in gw[n]])
        tol = Tolerance(rtol * float(mags.sum()) + 1e-8, rtol, f"directional, rtol {rtol:.2g} x sum|g d|")
        checks.append(compare(dot, fd, tol, what=f"{model} <grad, d>", label_a=side, label_b="fd64"))
    failed = [c.render() for c in checks if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))
