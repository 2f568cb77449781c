"""GPU conformance (marker gpu, opt-in: `pytest -m gpu`): CUDA vs CPU vs the float64 reference, and the GPU gotchas.

Tolerance rule on the GPU: the same `equivalence.tolerances` rule as on CPU, unchanged. With TF32 off (the root
conftest switches it off in every test) CUDA float32 kernels are IEEE float32: cuBLAS/cuDNN sums have the same
sqrt(depth) error growth, and CUDA's libm functions are within 1-4 ulp (CUDA C Programming Guide, "Mathematical
Functions"), inside the rule's 4 ulp + accumulation term. So a GPU result must be as close to float64 as a CPU
result is, and GPU vs CPU gets `cross()` of it (each within tol of float64). TF32 and mixed precision are measured
in their own tests with their own derived bounds. Test ids end in `-cuda`; TF-side tests skip with a reason where
TensorFlow is absent or CPU-only (the CUDA box this project borrows has PyTorch only).
"""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from equivalence import _runtime, devices
from equivalence.catalog._samples import as_reference, to_torch
from equivalence.catalog.ops import OP_DB
from equivalence.compare import EquivalenceMismatch, assert_close, compare, describe, to_numpy
from equivalence.differences import lookup
from equivalence.differences.ops import NARROWS
from equivalence.models import Pair, accumulation_depth, seed_models
from equivalence.strategies import np_dtype
from equivalence.tolerances import Tolerance, cross, dtype_name, eps, for_arrays, tolerance

pytestmark = pytest.mark.gpu

OP_CASES = [pytest.param(op, d, id=f"{op.id}-{d}-cuda") for op in OP_DB for d in op.dtypes]
GRAD_CASES = [pytest.param(op, id=f"{op.id}-float32-cuda") for op in OP_DB
              if op.supports_grad and "float32" in op.dtypes]
MODELS = [pytest.param(name, id=f"{name}-float32-cuda") for name in seed_models()]
TF32_EPS = 2.0**-10  # TF32 keeps 10 explicit mantissa bits: inputs of matmul/conv are rounded to u = 2**-11


def _outputs(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _rounded(ref, out_dtype: str) -> np.ndarray:
    """The float64 reference rounded to the result dtype (overflow to inf as the op does)."""
    with np.errstate(all="ignore"):
        return np.asarray(ref).astype(np_dtype(out_dtype))


def _narrowed(op, dtype) -> frozenset:
    """Edge kinds the catalogue's witnesses own for this op (as tests/test_ops.py narrows them)."""
    known = {d.id for d in lookup("op", op.name, dtype) + lookup("op", op.id, dtype)}
    return frozenset().union(*(NARROWS.get(k, ()) for k in known))


def _torch_pair(name: str, seed: int = 0) -> Pair:
    """A spec-built torch module with canonical weights, and no Keras model (the CUDA box has no TensorFlow)."""
    from equivalence._torch import build_torch
    from equivalence.weights import init_weights, load_torch

    spec = seed_models()[name]
    weights = init_weights(spec, seed)
    module = build_torch(spec)
    load_torch(module, spec, weights)
    return Pair(spec, None, module, weights)


def _forward(module, x: np.ndarray, device, dtype=None):
    """Run `module` on canonical input x on `device`; returns the torch output (graph kept for backward)."""
    from equivalence._torch import to_torch_layout

    torch = _runtime.torch()
    t = torch.from_numpy(to_torch_layout(x)).to(device=device, dtype=dtype or torch.float32)
    return module(t)


# --- op registry ----------------------------------------------------------------------------------------------


# Registry cases CUDA does not implement: the test asserts the error, so a torch that adds the kernel fails here
# and the entry is removed (observed with torch 2.11.0+cu130 on an H100).
CUDA_UNSUPPORTED = {
    "matmul-int32": (NotImplementedError, "addmm_cuda\" not implemented for 'Int'"),
}
# Sums whose terms overflow give inf - inf = NaN or +-inf depending on the summation order, which differs between
# CPU and CUDA kernels (seen: bfloat16 batched matmul, NaN on CUDA where float64 gives -inf); float64 does not
# overflow at all. Accumulating ops (those with a depth) are therefore drawn without the 'huge' edge kind here.
ACCUMULATION_AVOID = frozenset({"huge"})


def _gelu_tail(sample, expected) -> Tolerance:
    # CUDA computes 0.5*x*(1 + erf(x/sqrt2)): in the negative tail 1 + erf cancels, leaving erf's absolute error
    # (~u) times |x|/2. Observed on the H100: 8.4e-8 abs (2e-5 rel) at x=-3, where torch CPU is within 12 ulp.
    x = np.asarray(sample.args[0], np.float64)
    x_max = max(_finite_max(x), 1.0)
    return Tolerance(4 * eps("float32") * x_max, tolerance("float32", ulps=12).rtol,
                     f"CUDA gelu tail: 4u * max|x| ({x_max:.3g}), erf's absolute error times x")


def _float32_constant(sample, expected) -> Tolerance:
    # torch's CUDA hardsigmoid multiplies by a float32 1/6 even for float64 tensors: hard_sigmoid(0) = 0.5000000149
    # on the H100 (= 3 * float32(1/6)); torch CPU and float64 give 0.5. float32 accuracy is what CUDA delivers.
    return for_arrays("float32", expected, reason="CUDA kernel's float32 1/6 constant: float32 accuracy in float64")


# Per-case CUDA tolerances (PyTorch's toleranceOverride with device_type='cuda'): the observed error is in each.
CUDA_TOLERANCE = {"gelu-exact-float32": _gelu_tail, "hard_sigmoid-float64": _float32_constant}


def _assert_cuda_agrees(what, g, expected, c, tol, context):
    """CUDA matches float64 (and CPU) wherever torch CPU matches float64; elsewhere it must match one of the two.

    Where torch CPU itself misses the float64 reference (a CPU kernel bug, a formula's rounding, an overflow),
    tests/test_ops.py and tests/test_grads.py own that; the GPU claim is then "CUDA is right, or does what CPU does".
    """
    __tracebackhide__ = True
    to_ref = compare(g, expected, tol, what=what, label_a="cuda", label_b="ref64", context=context)
    if c is None and not to_ref.ok:
        raise EquivalenceMismatch(to_ref.render())
    if c is None:
        return
    if compare(c, expected, tol, what=what, label_a="cpu", label_b="ref64").ok:
        if not to_ref.ok:
            raise EquivalenceMismatch(to_ref.render())
        assert_close(g, c, cross(tol), what=what, label_a="cuda", label_b="cpu", context=context)
        return
    to_cpu = compare(g, c, cross(tol), what=what, label_a="cuda", label_b="cpu", context=context)
    if not (to_ref.ok or to_cpu.ok):
        raise EquivalenceMismatch("CUDA matches neither float64 nor torch CPU (which also misses float64)\n"
                                  + to_ref.render() + "\n" + to_cpu.render())
    note(f"{what}: torch CPU misses float64 here; CUDA matches {'float64' if to_ref.ok else 'CPU'}")


def _check_output(op, dtype, sample, i, c, g, r):
    """CUDA vs float64 under the op's rule (or its CUDA override) and vs CPU under cross() of it, same dtype."""
    __tracebackhide__ = True
    what, out_dtype = f"{op.id}[{dtype}] output{i} on cuda", dtype_name(c.dtype)
    assert dtype_name(g.dtype) == out_dtype, f"{what}: result dtype {g.dtype} on cuda, {c.dtype} on cpu"
    if r is None:
        expected = to_numpy(c)
        assert_close(g, expected, cross(op.tolerance(out_dtype, sample, expected)), what=what, label_a="cuda",
                     label_b="cpu", context=sample.describe())
        return
    expected = _rounded(r, out_dtype)
    override = CUDA_TOLERANCE.get(f"{op.id}-{dtype}")
    tol = override(sample, expected) if override else op.tolerance(out_dtype, sample, expected)
    _assert_cuda_agrees(what, g, expected, c, tol, sample.describe())


@pytest.mark.parametrize("op,dtype", OP_CASES)
@given(data=st.data())
def test_gpu_op_matches_cpu_and_reference(op, dtype, data, torch_cuda):
    """Each registry op on CUDA matches float64 under the CPU rule, and torch CPU under cross() of it, same dtype."""
    avoid = _narrowed(op, dtype) | (ACCUMULATION_AVOID if op.depth else frozenset())
    sample = data.draw(op.samples(dtype, avoid), label="sample")
    note(sample.describe())
    cpu = _outputs(op.torch_fn(*(to_torch(a) for a in sample.args), **sample.kwargs))
    if f"{op.id}-{dtype}" in CUDA_UNSUPPORTED and all(np.size(a) for a in sample.args):  # empty ones return early
        error, message = CUDA_UNSUPPORTED[f"{op.id}-{dtype}"]
        with pytest.raises(error, match=message):
            op.torch_fn(*(to_torch(a, torch_cuda) for a in sample.args), **sample.kwargs)
        return
    gpu = _outputs(op.torch_fn(*(to_torch(a, torch_cuda) for a in sample.args), **sample.kwargs))
    with np.errstate(all="ignore"):
        ref = (_outputs(op.ref(*(as_reference(a) for a in sample.args), **sample.kwargs)) if op.ref
               else (None,) * len(cpu))
    for i, (c, g, r) in enumerate(zip(cpu, gpu, ref)):
        _check_output(op, dtype, sample, i, c, g, r)


# Edge kinds whose CUDA gradient differs from CPU's in a way a dedicated test asserts exactly (see there).
CUDA_GRAD_AVOID = {"conv2d": frozenset({"inf", "nan"})}  # test_gpu_conv_grad_with_nonfinite_weight_spreads_nan


def _finite_max(a: np.ndarray) -> float:
    a = np.asarray(a, np.float64)
    return float(np.max(np.abs(a), initial=0.0, where=np.isfinite(a)))


def _grads(op, sample, device, dtype):
    torch = _runtime.torch()
    diff = op.differentiable(sample)  # grad_args: no gradient is asked where torch has none (running statistics)
    args = [to_torch(a, device) for a in sample.args]
    args = [a.to(dtype).requires_grad_() if i in diff else a.to(dtype) if a.is_floating_point() else a
            for i, a in enumerate(args)]
    outs = [o for o in _outputs(op.torch_fn(*args, **sample.kwargs)) if o.is_floating_point()]
    leaves = [a for a in args if a.requires_grad]
    grads = torch.autograd.grad(outs, leaves, grad_outputs=[torch.ones_like(o) for o in outs], allow_unused=True)
    y_max = max((_finite_max(to_numpy(o)) for o in outs), default=0.0)
    return [np.zeros(a.shape) if g is None else to_numpy(g) for a, g in zip(leaves, grads)], y_max


@pytest.mark.parametrize("op", GRAD_CASES)
@given(data=st.data())
def test_gpu_op_grad_matches_cpu_and_float64(op, data, torch_cuda):
    """d(sum op)/d(inputs) on CUDA float32 matches torch float64 autograd and CUDA matches CPU (cross)."""
    avoid = _narrowed(op, "float32") | (ACCUMULATION_AVOID if op.depth else frozenset())
    avoid |= CUDA_GRAD_AVOID.get(op.name, frozenset())
    sample = data.draw(op.samples("float32", avoid), label="sample")
    note(sample.describe())
    torch = _runtime.torch()
    try:
        ref64, y_max = _grads(op, sample, "cpu", torch.float64)
    except RuntimeError as exc:  # torch CPU's float64 slow_conv2d refuses a non-contiguous grad_weight
        note(f"float64 reference computed on CUDA: CPU float64 autograd raised {exc}")
        ref64, y_max = _grads(op, sample, torch_cuda, torch.float64)
    gpu, _ = _grads(op, sample, torch_cuda, torch.float32)
    try:
        cpu, _ = _grads(op, sample, "cpu", torch.float32)
    except RuntimeError as exc:  # same slow_conv2d refusal in float32 on some CPUs: CUDA is held to float64 alone
        note(f"torch CPU float32 autograd raised {exc}; CUDA compared with float64 only")
        cpu = [None] * len(gpu)
    for i, r, c, g in zip(op.differentiable(sample), ref64, cpu, gpu):  # i: the argument position (grad_args)
        expected = _rounded(r, "float32")
        # torch's derivative formulas reuse the forward result (tanh' = 1 - y*y, sigmoid' = y*(1 - y), expm1' = y + 1),
        # so their absolute error is a few ulps of max(|y|, 1), not of a small gradient (H100, torch 2.11: expm1'
        # off by 2.6e-8 at g=2.5e-3, tanh' 5.6e-8 at g=9.9e-3). Twice the op's ulps: the formula is a second op.
        scale = max(_finite_max(expected), y_max, 1.0)
        tol = tolerance("float32", depth=op.depth(sample) if op.depth else 1, ulps=2 * op.ulps, scale=scale,
                        reason=f"gradient: 2x op ulps ({op.ulps:g}), scale max(|g|, |y|, 1)={scale:.3g}")
        _assert_cuda_agrees(f"{op.id}[float32] grad arg{i} on cuda", g, expected, c, tol, sample.describe())


def test_gpu_conv_grad_with_nonfinite_weight_spreads_nan(torch_cuda):
    """d(sum conv(x, w))/dx with a non-finite weight: CPU keeps it where float64 does; cuDNN spreads NaN further."""
    torch = _runtime.torch()

    def grad_x(w, device):
        x = torch.zeros(1, 1, 2, 2, device=device, requires_grad=True)
        torch.nn.functional.conv2d(x, w.to(device)).sum().backward()  # 1x1 output: d/dx = w summed over outputs
        return to_numpy(x.grad)

    w_inf = torch.full((2, 1, 2, 2), float("inf"))
    cpu, cuda = grad_x(w_inf, "cpu"), grad_x(w_inf, torch_cuda)
    assert np.all(np.isposinf(cpu)), f"CPU, all-inf w: {cpu.ravel().tolist()} (documented: all +inf, as float64)"
    # Observed on the H100 (torch 2.11+cu130, cuDNN deterministic): NaN, i.e. 0 * inf inside the backward-data kernel.
    assert np.any(np.isnan(cuda)), f"CUDA, all-inf w: {cuda.ravel().tolist()} (documented: NaN where CPU gives +inf)"
    w_nan = torch.zeros(2, 1, 2, 2)  # two output channels, as in the registry sample where the spread was seen
    w_nan[0, 0, 0, 0] = float("nan")
    cpu, cuda = grad_x(w_nan, "cpu"), grad_x(w_nan, torch_cuda)
    assert np.isnan(cpu).sum() == 1, f"CPU, one NaN weight: {cpu.ravel().tolist()} (documented: NaN only there)"
    # Observed: NaN in 3 more positions than float64 (conv2d-valid grad sample with w=[nan, 0]).
    assert np.isnan(cuda).sum() > 1, f"CUDA, one NaN weight: {cuda.ravel().tolist()} (documented: NaN spreads)"


# --- spec-built models: forward, gradients, one Adam step --------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_gpu_model_forward_matches(name, torch_cuda):
    """A seed model's torch forward on CUDA matches the float64 reference under the model rule, and CPU (cross)."""
    pair = _torch_pair(name)
    x = pair.sample_input(seed=1, batch=8)
    ref, tol = pair.reference(x), pair.tolerance(x)
    torch = _runtime.torch()
    with torch.no_grad():
        cpu = _forward(pair.torch, x, "cpu")
        gpu = _forward(pair.torch.to(torch_cuda), x, torch_cuda)
    from equivalence._torch import from_torch_layout

    cpu, gpu = (from_torch_layout(to_numpy(y), pair.torch) for y in (cpu, gpu))
    context = pair.describe()
    assert_close(gpu, ref, tol, what=f"{name} forward on cuda", label_a="cuda", label_b="ref64", context=context)
    assert_close(gpu, cpu, cross(tol), what=f"{name} forward on cuda", label_a="cuda", label_b="cpu", context=context)


def _train_step(name: str, x, target, device, dtype, lr: float):
    """Gradients of 0.5*mean((y - target)^2) and the parameters after one Adam step, as NumPy (torch names)."""
    torch = _runtime.torch()
    module = _torch_pair(name).torch.to(device=device, dtype=dtype)
    y = _forward(module, x, device, dtype)
    loss = 0.5 * ((y - torch.from_numpy(target).to(device=device, dtype=dtype)) ** 2).mean()
    loss.backward()
    grads = {k: to_numpy(p.grad) for k, p in module.named_parameters()}
    torch.optim.Adam(module.parameters(), lr=lr).step()
    return grads, {k: to_numpy(p) for k, p in module.named_parameters()}, {k: to_numpy(p) for k, p in
                                                                            _torch_pair(name).torch.named_parameters()}


def _grad_tolerance(spec, x, g_ref: np.ndarray) -> Tolerance:
    """Model rule for a weight gradient: forward depth D times the batch*pixels each weight gradient sums over."""
    pixels = int(np.prod(x.shape[1:-1])) if x.ndim == 4 else 1
    depth = accumulation_depth(spec, batch=len(x)) * len(x) * pixels
    return for_arrays("float32", g_ref, depth=depth, reason=f"gradient rule: depth=D*batch*pixels={depth}")


def _assert_adam_step(what, w_got, w_ref, w0, g_ref, g_tol: Tolerance, lr, adam_eps=1e-8, factor=1.0):
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


@pytest.mark.parametrize("name", MODELS)
def test_gpu_model_grads_and_adam_step_match(name, torch_cuda):
    """Weight gradients and the weights after one Adam step on CUDA match float64 (CPU) and torch CPU float32."""
    torch = _runtime.torch()
    spec, lr = seed_models()[name], 1e-3
    x = _torch_pair(name).sample_input(seed=2, batch=8)
    out_shape = (8, *spec.shapes[spec.layers[-1].name])
    out_shape = (out_shape[0], out_shape[-1], *out_shape[1:-1]) if len(out_shape) == 4 else out_shape  # torch layout
    target = np.random.default_rng(3).standard_normal(out_shape)
    g64, w64, w0 = _train_step(name, x, target, "cpu", torch.float64, lr)
    g32, w32, _ = _train_step(name, x, target, "cpu", torch.float32, lr)
    gcu, wcu, _ = _train_step(name, x, target, torch_cuda, torch.float32, lr)
    for k in g64:
        g_tol = _grad_tolerance(spec, x, g64[k])
        assert_close(gcu[k], _rounded(g64[k], "float32"), g_tol, what=f"{name} grad {k} on cuda", label_a="cuda",
                     label_b="torch64")
        assert_close(gcu[k], g32[k], cross(g_tol), what=f"{name} grad {k} on cuda", label_a="cuda", label_b="cpu")
        _assert_adam_step(f"{name} {k} vs float64", wcu[k], w64[k], w0[k], g64[k], g_tol, lr)
        _assert_adam_step(f"{name} {k} vs cpu", wcu[k], w32[k].astype(np.float64), w0[k], g64[k], g_tol, lr, factor=2)


def _optimizer_inputs(scale: float, steps: int = 5, n: int = 8):
    """Deterministic (p0, grads): zero, tiny (1e-3) and large (10) gradient magnitudes of both signs, x `scale`."""
    rng = np.random.default_rng(0)
    magnitudes = np.array([0.0, 1e-3, 1e-2, 0.1, 1.0, 3.0, 10.0, 0.5], np.float64)[:n]
    grads = (rng.permutation(np.tile(magnitudes, (steps, 1)).T).T * rng.choice([-1.0, 1.0], (steps, n)) * scale)
    return rng.uniform(-1, 1, n).astype(np.float32), grads.astype(np.float32)


def _optimizer_params():
    from equivalence.catalog.optimizers import OPTIMIZER_DB

    return [pytest.param(info, id=f"{info.id}-float32-cuda") for info in OPTIMIZER_DB]


@pytest.mark.parametrize("info", _optimizer_params())
def test_gpu_optimizer_step_matches(info, torch_cuda):
    """Five steps of each OPTIMIZER_DB torch optimizer on CUDA follow torch's float64 rule and match CPU (2x)."""
    from equivalence.training import ref_param_trajectory, torch_param_trajectory, update_tolerance, updates

    p0, grads = _optimizer_inputs(info.grad_scale)
    cuda = updates(torch_param_trajectory(info, p0, grads, torch_cuda))
    cpu = updates(torch_param_trajectory(info, p0, grads, "cpu"))
    ref = updates(ref_param_trajectory(info.ref_torch(info.hyper), p0, grads))
    p_max = float(np.abs(p0).max()) + float(np.abs(ref).sum(0).max())  # bound on |p| along the trajectory
    tol = update_tolerance(p_max, len(grads), info.ulps)  # the CPU test's rule (tests/test_optimizer_step.py)
    context = "\n".join([describe("p0", p0), describe("grads", grads), "  rows are steps: update[t] = p[t+1] - p[t]"])
    assert_close(cuda, ref, tol, what=f"{info.id} updates on cuda", label_a="cuda", label_b="ref64_torch_rule",
                 context=context)
    assert_close(cuda, cpu, cross(tol), what=f"{info.id} updates on cuda", label_a="cuda", label_b="cpu",
                 context=context)


@pytest.mark.parametrize("name", [pytest.param("seed_mlp", id="seed_mlp-float32-cuda")])
def test_gpu_keras_forward_matches(name, tf_gpu):
    """Keras forward on the TF GPU matches float64 under the model rule, and Keras on CPU (cross)."""
    from equivalence.models import build_pair

    tf = _runtime.tf()
    pair = build_pair(seed_models()[name], seed=0)
    x = pair.sample_input(seed=1, batch=8)
    ref, tol = pair.reference(x), pair.tolerance(x)
    with tf.device("/CPU:0"):
        cpu = pair.forward_tf(x)
    with tf.device(tf_gpu):
        gpu = pair.forward_tf(x)
    assert_close(gpu, ref, tol, what=f"{name} Keras forward on GPU", label_a="tf-gpu", label_b="ref64")
    assert_close(gpu, cpu, cross(tol), what=f"{name} Keras forward on GPU", label_a="tf-gpu", label_b="tf-cpu")


# --- TF32 -------------------------------------------------------------------------------------------------------


def _tf32_errors(torch, device, a, b, x, w) -> dict[str, float]:
    """max|result - float64| / max|float64| of a matmul and a conv, with TF32 off and on."""
    ref_mm = a.double().cpu() @ b.double().cpu()
    ref_cv = torch.nn.functional.conv2d(x.double().cpu(), w.double().cpu(), padding=1)
    out = {}
    for on in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on
        mm, cv = a @ b, torch.nn.functional.conv2d(x, w, padding=1)
        tag = "on" if on else "off"
        out[f"matmul_tf32_{tag}"] = float((mm.double().cpu() - ref_mm).abs().max() / ref_mm.abs().max())
        out[f"conv_tf32_{tag}"] = float((cv.double().cpu() - ref_cv).abs().max() / ref_cv.abs().max())
    return out


def test_gpu_tf32_error_measured(torch_cuda, record_property):
    """TF32 off keeps matmul/conv within the float32 rule; on Ampere+ TF32 on costs >= 10x more, within 4*2**-10."""
    torch = _runtime.torch()
    g = torch.Generator().manual_seed(0)
    k = 1024  # matmul depth; the conv's depth is 3*3*64 = 576
    a, b = (torch.randn(s, generator=g).to(torch_cuda) for s in ((256, k), (k, 256)))
    x = torch.randn(8, 64, 32, 32, generator=g).to(torch_cuda)
    w = (0.1 * torch.randn(64, 64, 3, 3, generator=g)).to(torch_cuda)
    errors = _tf32_errors(torch, torch_cuda, a, b, x, w)
    for key, value in errors.items():
        record_property(key, value)
    for op, depth in (("matmul", k), ("conv", 576)):
        rule = tolerance("float32", depth=depth).rtol  # relative to max|ref|: the rule's atol/scale
        off = errors[f"{op}_tf32_off"]
        assert off <= rule, f"{op} TF32 off: error/max|ref| {off:.3g} > rule {rule:.3g}"
        if devices.supports_tf32():
            on = errors[f"{op}_tf32_on"]
            # inputs rounded to 2**-11 each => products off by <= 2**-10, summed with random signs: ACC_FACTOR bound
            assert 10 * off < on <= 4 * TF32_EPS, f"{op}: TF32 on {on:.3g} vs off {off:.3g} (bound 4*2**-10)"


def test_gpu_tf32_tf_default_error(tf_gpu, record_property):
    """TensorFlow's default (TF32 on) matmul on GPU is measurably less accurate than with TF32 off."""
    tf = _runtime.tf()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 1024)).astype(np.float32), rng.standard_normal((1024, 256)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    errs = {}
    for on in (False, True):
        tf.config.experimental.enable_tensor_float_32_execution(on)
        with tf.device(tf_gpu):
            errs[on] = float(np.abs(tf.linalg.matmul(a, b).numpy() - ref).max() / np.abs(ref).max())
        record_property(f"tf_matmul_tf32_{'on' if on else 'off'}", errs[on])
    assert errs[False] <= tolerance("float32", depth=1024).rtol
    assert 10 * errs[False] < errs[True] <= 4 * TF32_EPS


# --- mixed precision ----------------------------------------------------------------------------------------------


def _sgd_step_torch(name, x, labels, device, *, autocast: bool, lr: float, init_scale: float = 2.0**16):
    """One SGD step on sparse CE (from logits), float32 or autocast(float16) + GradScaler; returns (weights, scale)."""
    torch = _runtime.torch()
    module = _torch_pair(name).torch.to(device)
    opt = torch.optim.SGD(module.parameters(), lr=lr)
    scaler = torch.amp.GradScaler(device.type, init_scale=init_scale, enabled=autocast)
    with torch.autocast(device.type, dtype=torch.float16, enabled=autocast):
        logits = _forward(module, x, device)
        loss = torch.nn.functional.cross_entropy(logits.float(), torch.from_numpy(labels).to(device))
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    return {k: to_numpy(p) for k, p in module.named_parameters()}, scaler.get_scale() if autocast else None


def _half_step_tolerance(spec, x, w_ref, w0) -> Tolerance:
    """float16 compute: gradients within the float16 rule (depth D*batch) relative to max|g|, so each weight is
    within that rule times the largest step lr*max|g| = max|w_ref - w0|, plus the float32 rule on the weights."""
    g_tol = tolerance("float16", depth=accumulation_depth(spec, batch=len(x)) * len(x))
    w_tol = for_arrays("float32", w_ref)
    step = float(np.abs(np.asarray(w_ref, np.float64) - w0).max())
    return Tolerance(w_tol.atol + g_tol.rtol * step, w_tol.rtol,
                     f"float16 gradient rule rtol={g_tol.rtol:.2g} x max step {step:.3g} + {w_tol.reason}")


def test_gpu_autocast_step_matches_float32(torch_cuda):
    """One autocast(float16)+GradScaler SGD step on CUDA lands within the float16-derived bound of the float32 step."""
    name, lr = "seed_mlp", 0.1
    spec = seed_models()[name]
    x = _torch_pair(name).sample_input(seed=4, batch=64)
    labels = np.random.default_rng(5).integers(0, 10, 64)
    w32, _ = _sgd_step_torch(name, x, labels, torch_cuda, autocast=False, lr=lr)
    w16, scale = _sgd_step_torch(name, x, labels, torch_cuda, autocast=True, lr=lr)
    w0 = {k: to_numpy(p) for k, p in _torch_pair(name).torch.named_parameters()}
    assert scale == 2.0**16, f"GradScaler backed off to {scale}: the float16 step overflowed and was skipped"
    for k in w32:
        assert not np.array_equal(w16[k], w0[k]), f"{k}: the autocast step left the weights unchanged"
        assert_close(w16[k], w32[k], _half_step_tolerance(spec, x, w32[k], w0[k]), what=f"{name} {k} after one step",
                     label_a="autocast-fp16", label_b="float32")


def _keras_mixed_step(name, x, labels, tf_device, lr: float):
    """One Keras SGD step under 'mixed_float16' with a LossScaleOptimizer (initial scale 2**16 as torch's)."""
    from equivalence.models import build_pair

    keras, tf = _runtime.keras(), _runtime.tf()
    keras.mixed_precision.set_dtype_policy("mixed_float16")  # restored by the root conftest's isolation
    pair = build_pair(seed_models()[name], seed=0)
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(learning_rate=lr), initial_scale=2.0**16)
    with tf.device(tf_device):
        with tf.GradientTape() as tape:
            logits = tf.cast(pair.keras(x, training=True), tf.float32)
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
            scaled = opt.scale_loss(loss)
        opt.apply(tape.gradient(scaled, pair.keras.trainable_variables), pair.keras.trainable_variables)
    return pair.read_weights()["tf"]


def _canonical(name: str, named: dict[str, np.ndarray]):
    """torch named_parameters (as NumPy) -> canonical weights, through the spec's own reader."""
    from equivalence.weights import read_torch

    pair = _torch_pair(name)
    torch = _runtime.torch()
    with torch.no_grad():
        for k, p in pair.torch.named_parameters():
            p.copy_(torch.from_numpy(named[k]))
    return read_torch(pair.torch, pair.spec)


def check_mixed_step_matches(torch_device, tf_device, name="seed_mlp", lr=0.1):
    """Keras mixed_float16 vs torch autocast(float16)+GradScaler: one SGD step, compared in canonical layout."""
    __tracebackhide__ = True
    spec = seed_models()[name]
    x = _torch_pair(name).sample_input(seed=4, batch=64)
    labels = np.random.default_rng(5).integers(0, 10, 64)
    w_tf = _keras_mixed_step(name, x, labels, tf_device, lr)
    w_torch = _canonical(name, _sgd_step_torch(name, x, labels, torch_device, autocast=True, lr=lr)[0])
    w0 = _torch_pair(name).weights
    for layer_name, params in w_tf.items():
        for p, v in params.items():
            tol = cross(_half_step_tolerance(spec, x, v, w0[layer_name][p]))
            assert_close(v, w_torch[layer_name][p], tol, what=f"{name} {layer_name}.{p} after one mixed step",
                         label_a="keras-mixed_float16", label_b="torch-autocast")


def test_gpu_mixed_precision_step_matches_keras(torch_cuda, tf_gpu):
    """Keras mixed_float16 + LossScaleOptimizer and torch autocast + GradScaler take the same SGD step (fp16 bound)."""
    check_mixed_step_matches(torch_cuda, tf_gpu)


# --- determinism and devices ----------------------------------------------------------------------------------


def test_gpu_cudnn_deterministic_conv_backward_repeats(torch_cuda):
    """With the plugin's cuDNN flags (deterministic, no autotune), conv weight gradients repeat bit for bit."""
    torch = _runtime.torch()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 32, 28, 28, generator=g).to(torch_cuda)
    conv = torch.nn.Conv2d(32, 64, 3, padding=1).to(torch_cuda)
    runs = []
    for _ in range(3):
        conv.zero_grad()
        conv(x).square().sum().backward()
        runs.append(to_numpy(conv.weight.grad))
    for i, r in enumerate(runs[1:], 1):
        assert np.array_equal(r, runs[0]), f"run {i}: conv weight grad differs by {np.abs(r - runs[0]).max():.3g}"


def test_gpu_deterministic_algorithms_raise_on_nondeterministic_kernel(torch_cuda):
    """Under use_deterministic_algorithms(True) a CUDA kernel without a deterministic version (histc) raises."""
    torch = _runtime.torch()
    x = torch.arange(16.0, device=torch_cuda)
    assert torch.histc(x, bins=4, min=0, max=16).tolist() == [4.0, 4.0, 4.0, 4.0]
    torch.use_deterministic_algorithms(True)  # restored by the root conftest's isolation
    with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
        torch.histc(x, bins=4, min=0, max=16)


def test_gpu_device_mismatch_error(torch_cuda):
    """torch raises on operands on CPU and CUDA ('same device'), except a 0-dim CPU tensor, which broadcasts."""
    torch = _runtime.torch()
    on_gpu, on_cpu = torch.ones(2, device=torch_cuda), torch.ones(2)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        on_gpu + on_cpu
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        torch.nn.Linear(2, 2).to(torch_cuda)(on_cpu[None])
    scaled = on_gpu * torch.tensor(3.0)
    assert scaled.device.type == "cuda" and scaled.tolist() == [3.0, 3.0]


def test_gpu_tf_soft_placement_copies(tf_gpu):
    """TensorFlow runs an op on the GPU with one operand on the CPU, copying it implicitly (no error)."""
    tf = _runtime.tf()
    with tf.device("/CPU:0"):
        a = tf.ones((2, 2))
    with tf.device(tf_gpu):
        b = tf.ones((2, 2))
        c = tf.linalg.matmul(a, b)
    assert "GPU" in c.device and c.numpy().tolist() == [[2.0, 2.0], [2.0, 2.0]]
