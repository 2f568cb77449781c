"""The gradient checks: registry ops (check_grad, on one device), losses (check_loss_grad) and spec-built models
(check_model_grad), each verdict made once, with the catalogue's known differences applied here.

Registry ops on the CPU: the VJP at a drawn cotangent, element by element, TF vs float64, torch vs float64 and TF vs
torch. The float64 reference differentiates the op's NumPy reference one input element at a time
(equivalence.gradcheck: five-point differences, which also give each element's chain-rule terms and certify their
own accuracy); each element is allowed rtol x the magnitude of the terms it is computed from, the op's cancelling
terms included (OpInfo.grad_terms). Cases a catalogue witness owns on this platform (its grad_narrows) are left to it;
a side the catalogue documents as unable to differentiate an op here must raise its documented error.

Registry ops on an accelerator (torch): d sum(floating outputs) / d(inputs) there in float32 against torch's float64
autograd and against torch float32 on the CPU (assert_device_agrees), under the float32 rule at twice the op's ulps
and the scale max(|g|, |y|, 1): torch's derivative formulas reuse the forward result (tanh' = 1 - y*y), so their
error is a few ulps of max(|y|, 1), not of a small gradient. The samples leave out what the record's OnDevice says.

Losses and models: directional checks (as torch.autograd.gradcheck's fast mode): <grad, d> for a random direction d
against the five-point central difference of the float64 reference (h = 1e-6 along d / max|d|: truncation
~h^4 f^(5), which stays small even for -log p at p ~ 3e-4 where the plain two-point difference was 1.2e-5 off;
rounding ~1e-16 |f| / h); elementwise, TF and torch gradients are compared with each other.
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, currently_in_test_context, note

from ..catalog.losses import grad_term_scale, reduce_ref
from ..compare import EquivalenceMismatch, assert_close, compare, describe
from ..differences import lookup, unsupported_here
from ..gradcheck import SMOOTH, elements, reference_output, reference_vjp
from ..sides import side, side_for
from ..tolerances import Tolerance, cross, tolerance
from .axes import CPU
from .ops import assert_device_agrees, avoided, known_differences

H = 1e-6


# ---------------------------------------------------------------- registry ops
def grad_samples(info, device: str = CPU):
    """The strategy of samples check_grad takes for `info` on `device`: the op's smooth domain on the CPU; on an
    accelerator its forward samples without the kinds the catalogue, overflowing sums and OnDevice leave out."""
    if device == CPU:
        return info.grad_samples("float32", SMOOTH)
    return info.samples("float32", avoided(info, "float32", known_differences(info, "float32"), device, grad=True))


def owned_by_witness(info, sample) -> bool:
    """The catalogue leaves this case to a witness on this platform (a CPU kernel wrong or crashing here)."""
    return any(d.grad_narrows(sample) for d in lookup("grad", info.id) if d.grad_narrows is not None)


def op_grads(info, sample, cotangent):
    """(differentiable argument positions, TF gradients, torch gradients, unsupported sides); a side that the
    catalogue documents as unable to differentiate this op on this platform (an Unsupported limitation) must raise
    its documented error, gives None gradients and is named in the unsupported sides."""
    floating = info.differentiable(sample)  # the registry's grad_args: running statistics are not differentiated
    grads = {}
    limits = {lim.side: (entry, lim) for entry, lim in unsupported_here("grad", info.id)}
    for name, fn in (("tf", info.tf_fn), ("torch", info.torch_fn)):
        vjp = (fn, sample.args, sample.kwargs, cotangent, floating)
        if name in limits:
            entry, lim = limits[name]
            with lim.expected_error(entry.id):
                side_for(name, CPU).op_vjp(*vjp)
            grads[name] = [None] * len(floating)
        else:
            grads[name] = side_for(name, CPU).op_vjp(*vjp).grads
    return floating, grads["tf"], grads["torch"], set(limits)


def _why(info) -> str:
    """The tolerance's reason: the op's cancelling terms (first line of grad_terms' docstring), if any."""
    if info.grad_terms is None:
        return f"{info.id}: G = 0, no cancelling local derivative"
    return f"{info.id}: G = " + (info.grad_terms.__doc__ or "").strip().splitlines()[0]


def compare_arg_grads(info, sample, i: int, ref, grads: dict, cot) -> list:
    """TF vs float64, torch vs float64 and TF vs torch, element by element, for argument i."""
    ctx = "\n".join([sample.describe(), describe("cotangent", cot)])
    what = f"{info.id} d(sum c * out)/d arg{i} float32 {list(np.shape(sample.args[i]))}"
    pairs = [(g, ref.grad, name, "ref64", False) for name, g in grads.items()]
    if {"tf", "torch"} <= grads.keys():  # a side the catalogue documents as unsupported here is absent
        pairs.append((grads["tf"], grads["torch"], "tf", "torch", True))
    results = []
    for a, b, label_a, label_b, is_cross in pairs:
        c = compare(a, b, ref.tolerance(_why(info), cross=is_cross), what=what, label_a=label_a, label_b=label_b,
                    context=ctx)
        if not c.ok and c.worst_index is not None:
            c.context = ref.explain(c.worst_index) + "\n" + c.context
        results.append(c)
    return results


def _note(text: str) -> None:
    """A hypothesis note where a test is drawing (the pinned cases call the checks outside one)."""
    if currently_in_test_context():
        note(text)


def _check_grad_cpu(info, sample, cotangent_seed: int, assume_) -> list:
    """TF and torch VJPs at a cotangent drawn from `cotangent_seed`, element by element against the float64
    reference (gradcheck.reference_vjp) and each other; returns each differentiated argument's ReferenceVJP."""
    # Exact zeros are kinks or poles for many ops (abs, relu, sqrt, std of one element, pow/atan2 at the origin,
    # cumprod): their (sub-)gradients are asserted in test_subgradient_at_kink and the catalogue.
    assume_(all(np.all(np.asarray(a) != 0) for a in sample.args if np.asarray(a).dtype.kind == "f"))
    ref_out = reference_output(info, sample)
    assume_(np.all(np.isfinite(ref_out)) and ref_out.size > 0)
    rng = np.random.default_rng(cotangent_seed)
    cot = rng.standard_normal(ref_out.shape)  # as gradcheck.cotangent(): the generator's first draw
    floating, g_tf, g_torch, unsupported = op_grads(info, sample, cot)
    refs, results = [], []
    for k, i in enumerate(floating):
        # Poles and zero-variance sqrt kinks (std of equal values) give inf/NaN: the op tests' edge values own them.
        assume_((g_torch[k] is None or np.all(np.isfinite(g_torch[k])))
                and (g_tf[k] is None or np.all(np.isfinite(g_tf[k]))))
        grads = {name: g for name, g in (("tf", g_tf[k]), ("torch", g_torch[k])) if name not in unsupported}
        for name, g in grads.items():
            assert g is not None, f"{info.id}: {name} gives no gradient for argument {i} [{sample!r}]"
        ref = reference_vjp(info.ref, sample.args, sample.kwargs, cot, i, ulps=info.ulps,
                            floor=info.cancelling_terms(sample, cot, i),
                            elements=elements(rng, np.size(sample.args[i])))
        refs.append(ref)
        results += compare_arg_grads(info, sample, i, ref, grads, cot)
    assume_(any(r.comparable.any() for r in refs))  # every element at a kink: nothing was compared
    failed = [c.render() for c in results if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))
    return refs


def _finite_max(a) -> float:
    a = np.asarray(a, np.float64)
    return float(np.max(np.abs(a), initial=0.0, where=np.isfinite(a)))


def _torch_grads(info, sample, device: str, dtype: str):
    """d sum(floating outputs) / d(differentiable args) by torch on `device` in `dtype`, and max |finite output|."""
    diff = info.differentiable(sample)  # grad_args: no gradient is asked where torch has none (running statistics)
    vjp = side_for("torch", device).op_vjp(info.torch_fn, sample.args, sample.kwargs, None, diff, dtype=dtype)
    y_max = max((_finite_max(o) for o in vjp.outputs), default=0.0)
    return [np.zeros(np.shape(sample.args[i])) if g is None else g for i, g in zip(diff, vjp.grads)], y_max


def _check_grad_on_device(info, sample, device: str) -> None:
    """torch's float32 gradients on `device` against torch float64 autograd and torch float32 on the CPU."""
    try:
        ref64, y_max = _torch_grads(info, sample, CPU, "float64")
    except RuntimeError as exc:  # torch CPU's float64 slow_conv2d refuses a non-contiguous grad_weight
        _note(f"float64 reference computed on {device}: CPU float64 autograd raised {exc}")
        ref64, y_max = _torch_grads(info, sample, device, "float64")
    got, _ = _torch_grads(info, sample, device, "float32")
    try:
        cpu, _ = _torch_grads(info, sample, CPU, "float32")
    except RuntimeError as exc:  # same slow_conv2d refusal in float32 on some CPUs: the device against float64 alone
        _note(f"torch CPU float32 autograd raised {exc}; {device} compared with float64 only")
        cpu = [None] * len(got)
    for i, r, c, g in zip(info.differentiable(sample), ref64, cpu, got):  # i: the argument position (grad_args)
        with np.errstate(all="ignore"):
            expected = np.asarray(r).astype(np.float32)
        # Twice the op's ulps: the derivative formula is a second op (H100, torch 2.11: expm1' off by 2.6e-8 at
        # g=2.5e-3, tanh' 5.6e-8 at g=9.9e-3, a few ulps of max(|y|, 1)).
        scale = max(_finite_max(expected), y_max, 1.0)
        tol = tolerance("float32", depth=info.depth(sample) if info.depth else 1, ulps=2 * info.ulps, scale=scale,
                        reason=f"gradient: 2x op ulps ({info.ulps:g}), scale max(|g|, |y|, 1)={scale:.3g}")
        assert_device_agrees(f"{info.id}[float32] grad arg{i} on {device}", g, expected, c, tol, sample.describe(),
                             device)


def check_grad(info, sample, cotangent_seed: int | None = None, device: str = CPU, *, assume_=assume):
    """The gradient verdict of one drawn case of an OP_DB record on one device (module docstring). `assume_`
    rejects cases outside the checked domain (hypothesis' assume; pinned regressions assert instead). On the CPU it
    returns each differentiated argument's ReferenceVJP; an accelerator ignores `cotangent_seed` (its cotangent is
    one on every floating output, as the CPU-vs-device check was measured)."""
    __tracebackhide__ = True
    _note(sample.describe())
    if device != CPU:
        _check_grad_on_device(info, sample, device)
        return None
    assume_(not owned_by_witness(info, sample))
    return _check_grad_cpu(info, sample, cotangent_seed, assume_)


# ---------------------------------------------------------------- directional checks (losses, models)
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


def loss_grads(info, sample):
    """d(mean loss)/d(y_pred) on each side."""
    keras_red, torch_red = info.reductions["mean"]
    return (side("tf-cpu").grad(lambda v: info.keras(sample.y_true, v, keras_red, sample.weight), sample.y_pred),
            side("torch-cpu").grad(lambda t: info.torch(sample.y_true, t, torch_red, sample.weight), sample.y_pred))


def check_loss_grad(info, sample, direction_seed: int, *, assume_=assume) -> None:
    """The gradient of a LOSS_DB loss (neutral 'mean') w.r.t. predictions: each side's <g, d> against the float64
    central difference along a direction drawn from `direction_seed`, and TF vs torch elementwise where both follow
    one rule. Samples within 1e-3 of the loss's kink are left to tests/test_grads.py::test_subgradient_at_kink."""
    __tracebackhide__ = True
    if info.kink is not None:
        assume_(info.kink(sample.y_true, sample.y_pred) > 1e-3)
    d = np.random.default_rng(direction_seed).standard_normal(sample.y_pred.shape)
    g_tf, g_torch = loss_grads(info, sample)
    n, c = sample.y_pred.shape
    rtol = tolerance("float32", depth=c, ulps=8).rtol  # a loss gradient: a softmax/log over C terms, then a scale
    ctx = "\n".join([describe("y_true", np.asarray(sample.y_true, float)), describe("y_pred", sample.y_pred)])
    floor = grad_term_scale(info, sample)  # cancelling terms (p - y, cosine at p = -y): error ~u x them, not u|g|
    for name, g, ref in (("tf", g_tf, info.ref), ("torch", g_torch, info.torch_ref or info.ref)):
        f = lambda p: reduce_ref(info, ref(sample.y_true, p), sample.weight, "mean", sample.y_true)
        assert_close(float(np.sum(g * d)), central_difference(f, sample.y_pred, d),
                     directional_tolerance(g, d, rtol, floor),
                     what=f"{info.id} d(loss)/d(y_pred) . d", label_a=name, label_b="fd64", context=ctx)
    if info.torch_ref is None:  # else the two rules differ off the simplex (catalogued)
        scale = float(np.max(np.abs(g_tf) + floor))
        assert_close(g_tf, g_torch, cross(tolerance("float32", depth=c, ulps=8, scale=scale)),
                     what=f"{info.id} d(loss)/d(y_pred)", label_a="tf", label_b="torch", context=ctx)


def check_model_grad(pair, x: np.ndarray, seed: int, what: str) -> None:
    """Gradients of sum(c * model(x)) w.r.t. the input and every weight (training mode), c drawn from `seed`:
    TF == torch elementwise, both == the float64 central difference along a random direction (drawn next)."""
    __tracebackhide__ = True
    from ..model_tolerance import accumulation_depth
    from ..training import ref_directional

    spec, rng = pair.spec, np.random.default_rng(seed)
    cot = rng.standard_normal((len(x), *spec.output_shape)).astype(np.float32)
    gx_tf, gw_tf = side("tf-cpu").model_vjp(pair, x, cot, training=True)
    gx_t, gw_t = side("torch-cpu").model_vjp(pair, x, cot, training=True)
    # Backward accumulates over the forward depth again and over the batch (weight gradients sum over samples).
    rtol = tolerance("float32", depth=2 * accumulation_depth(spec, batch=len(x)) * len(x)).rtol
    flat = [("input", gx_tf, gx_t)] + [(f"{n}.{k}", gw_tf[n][k], gw_t[n][k]) for n in gw_tf for k in gw_tf[n]]
    # Scale: the largest gradient in the model. A bias feeding BatchNorm has an exactly-zero gradient made of
    # cancelling terms of that size (observed 2.4e-7 on both sides), so its own max|g| would demand the impossible.
    g_max = max(float(np.abs(b).max()) for _, _, b in flat)
    tol = Tolerance(rtol * g_max, rtol, f"model gradient rule: rtol {rtol:.2g}, atol rtol x max|g| over the model")
    checks = [compare(a, b, tol, what=f"{what} d/d {name}", label_a="tf", label_b="torch") for name, a, b in flat]
    dx = rng.standard_normal(x.shape)
    dw = {n: {k: rng.standard_normal(np.shape(v)) for k, v in lw.items()} for n, lw in gw_tf.items()}
    fd = ref_directional(pair, x, cot, dx, dw, training=True)
    for name, gx, gw in (("tf", gx_tf, gw_tf), ("torch", gx_t, gw_t)):
        dot = float(np.sum(gx * dx)) + sum(float(np.sum(gw[n][k] * dw[n][k])) for n in gw for k in gw[n])
        mags = np.concatenate([np.abs(gx * dx).ravel()]
                              + [np.abs(gw[n][k] * dw[n][k]).ravel() for n in gw for k in gw[n]])
        tol = Tolerance(rtol * float(mags.sum()) + 1e-8, rtol, f"directional, rtol {rtol:.2g} x sum|g d|")
        checks.append(compare(dot, fd, tol, what=f"{what} <grad, d>", label_a=name, label_b="fd64"))
    failed = [c.render() for c in checks if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))


__all__ = ["H", "central_difference", "check_grad", "check_loss_grad", "check_model_grad", "compare_arg_grads",
           "directional_tolerance", "grad_samples", "loss_grads", "op_grads", "owned_by_witness"]
