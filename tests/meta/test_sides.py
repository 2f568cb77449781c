"""The sides (equivalence.sides): named, tensors and layouts round-trip, the op VJP is exact on a product, the
accelerator sides say why they cannot run, and no gradient, optimizer-step or NHWC<->NCHW code lives anywhere else.
"""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from equivalence import devices, sides
from equivalence.strategies import np_dtype

ROOT = pathlib.Path(__file__).resolve().parents[2]
CPU_SIDES = ["tf-cpu", "torch-cpu"]
DTYPES = ["float16", "bfloat16", "float32", "float64", "int32", "bool"]


def test_every_side_is_named():
    """Four sides, each found by name and by (framework, device); an unknown name says which exist."""
    assert sorted(sides.SIDES) == ["tf-cpu", "tf-gpu", "torch-cpu", "torch-cuda"]
    for name, s in sides.SIDES.items():
        assert s.name == name == f"{s.framework}-{s.device}"
        assert sides.side(name) is s is sides.side_for(s.framework, s.device)
    with pytest.raises(KeyError, match="torch-cuda"):
        sides.side("torch-gpu")


def test_registry_imports_no_framework():
    """Building the sides imports neither torch nor TensorFlow (collection stays framework-free)."""
    code = ("import sys; from equivalence import sides; sides.side('tf-gpu'); "
            "print(sorted({'torch', 'tensorflow', 'keras'} & sys.modules.keys()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def _values(dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([[True, False, True], [False, False, True]])
    if dtype == "int32":
        return np.array([[0, -1, 2**31 - 1], [-(2**31), 7, 3]], np.int32)
    return np.array([[0.0, -0.0, 1.5], [-2.25, np.inf, np.nan]]).astype(np_dtype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CPU_SIDES)
def test_cpu_side_round_trips_every_dtype(name, dtype):
    """numpy(tensor(a)) gives a back bit for bit (zero signs included; a NaN stays NaN, its payload need not: torch's
    float32 -> bfloat16 cast writes 0xFFFF) in a tensor of a's dtype; bfloat16 comes back as float32, which holds it
    exactly."""
    s, a = sides.side(name), _values(dtype)
    t = s.tensor(a)
    assert (t.dtype.name if s.framework == "tf" else str(t.dtype).removeprefix("torch.")) == dtype
    back = s.numpy(t)
    want = a.astype(np.float32) if dtype == "bfloat16" else a
    assert back.dtype == want.dtype and back.shape == want.shape
    nan = np.isnan(want.astype(np.float64))
    np.testing.assert_array_equal(np.isnan(back.astype(np.float64)), nan)
    assert want[~nan].tobytes() == back[~nan].tobytes()
    assert s.numpy(s.tensor(a[0, 2])).shape == ()  # 0-d stays 0-d


@pytest.mark.parametrize("name", CPU_SIDES)
def test_layout_round_trip_is_identity(name):
    """from_layout(to_layout(x)) == x for every rank; torch's rank-4 layout is NCHW, TF's is the canonical one."""
    s = sides.side(name)
    rng = np.random.default_rng(0)
    for shape in [(2, 3), (2, 4, 3), (2, 4, 5, 3)]:
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(s.from_layout(s.to_layout(x)), x)
    nhwc = rng.standard_normal((2, 4, 5, 3))
    np.testing.assert_array_equal(s.to_layout(nhwc), np.moveaxis(nhwc, -1, 1) if s.framework == "torch" else nhwc)


@pytest.mark.parametrize("name", CPU_SIDES)
def test_op_vjp_of_a_product_is_analytic(name):
    """d sum(c * a * b) = (c b, c a) exactly: the float64 cotangent reaches the float32 product rounded once."""
    s = sides.side(name)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((1, 3)).astype(np.float32)
    cot = rng.standard_normal((2, 3))
    vjp = s.op_vjp(lambda x, y: x * y, (a, b), {}, cot, (0, 1))
    c32 = cot.astype(np.float32)
    np.testing.assert_array_equal(vjp.grads[0], c32 * b)
    np.testing.assert_allclose(vjp.grads[1], (c32 * a).sum(0, keepdims=True), rtol=1e-6)  # a broadcast: summed
    np.testing.assert_array_equal(vjp.outputs[0], a * b)
    ones = s.op_vjp(lambda x, y: x * y, (a, b), {}, None, (0,))  # no cotangent: d sum(out)
    np.testing.assert_array_equal(ones.grads[0], np.broadcast_to(b, a.shape))
    np.testing.assert_array_equal(s.grad(lambda x: x * x, a), 2 * a)


@pytest.mark.parametrize("name", ["tf-gpu", "torch-cuda"])
def test_accelerator_side_says_why_it_cannot_run(name):
    """An accelerator side reports devices' reason (None where it can run); the CPU sides run here."""
    s = sides.side(name)
    reason = (devices.tf_gpu_reason if s.framework == "tf" else devices.torch_gpu_reason)()
    assert s.unavailable() == reason and (reason is None or reason.strip())
    assert sides.side_for(s.framework, "cpu").unavailable() is None


# ---------------------------------------------------------------- no gradient/step/layout code outside the sides
# path -> (functions allowed to, by qualified name, or "*" for the whole file; why). A nested function is covered
# by its parent's name.
EXCEPTIONS = {
    "equivalence/differences/autograd.py": ({"_unwatched_gradient", "_integer_gradient"},
                                            "catalogue witnesses of GradientTape/autograd behaviour, verbatim"),
    "equivalence/differences/layers.py": ({"_avgpool_pad", "_pool_same", "_flatten_order"},
                                          "catalogue witnesses: a torch user's NCHW call, verbatim"),
    "equivalence/differences/masking.py": ({"_mask_zero_vs_padding_idx"},
                                           "catalogue witness: the padding row's gradient on each side, verbatim"),
    "equivalence/differences/optimizer_state.py": ("*", "catalogue witnesses: optimizers and schedulers stepped as "
                                                        "a user does, around a learning-rate change, verbatim"),
    "equivalence/differences/spatial.py": ({"_nchw"}, "catalogue witnesses: a torch user's NCHW input, verbatim"),
    "equivalence/differences/zoo_steps.py": ({"_split_bias_step", "_embedding_step"},
                                             "catalogue witnesses: one user-written training step on each side"),
    "equivalence/differences/ops.py": ({"_grouped_conv_grads"},
                                       "catalogue witness: the framework gradient calls that differ, verbatim"),
    "equivalence/differences/training.py": ({"_keras_steps", "_torch_steps", "_schedule_over_two_epochs",
                                             "_momentum_under_schedule", "_clip_norms", "_clip_tiny"},
                                            "catalogue witnesses stepping user-built optimizers and schedulers"),
    "equivalence/gotchas.py": ("*", "gotcha demonstrations: the framework call is the point"),
    "equivalence/training.py": ({"torch_loop"}, "the seed's manual torch loop: hooks sit between backward and step"),
    "tests/bench/test_bench_models.py": ("*", "benchmarks time each framework's own forward/backward/step"),
    "tests/bench/test_bench_zoo.py": ("*", "benchmarks time each framework's own forward/backward/step"),
    "equivalence/bench/steps.py": ("*", "the benchmarks' timed Keras forward/backward/step, as a user writes it"),
    "tests/meta/test_eyes_mutations.py": ("*", "mutated optimizers, stepped as a user does"),
    "tests/meta/test_selfcheck.py": ({"test_scaled_gradient_keeps_values_and_scales_gradients"},
                                     "checks a selfcheck patch of torch.exp's backward through the patched call"),
    "tests/meta/test_weights.py": ({"test_flatten_permutation_maps_nhwc_to_nchw_order"},
                                   "checks the weight converter against a hand-written NCHW flatten"),
    "tests/meta/test_witness_mutations.py": ("*", "mutated schedulers, stepped as a user does"),
    "tests/test_defaults.py": ("*", "default pins run the call whose default they pin"),
    "tests/test_gotchas.py": ("*", "gotcha demonstrations"),
    "tests/test_gpu.py": ({"test_gpu_conv_grad_with_nonfinite_weight_spreads_nan", "_sgd_step_torch",
                           "_keras_mixed_step", "test_gpu_cudnn_deterministic_conv_backward_repeats"},
                          "GPU behaviours shown with the call that has them: cuDNN's NaN spread and determinism, "
                          "AMP's GradScaler step, a Keras mixed-precision step"),
    "tests/test_training.py": ({"test_schedule_matches"}, "a torch scheduler stepped as the loop's user does"),
}
NCHW = ([0, 3, 1, 2], [0, 2, 3, 1])


def framework_calls(tree: ast.AST) -> list[tuple[str, int, str]]:
    """(enclosing function's qualified name, line, what) of every GradientTape, autograd.grad, .backward(),
    .apply_gradients(), optimizer/scheduler .step() (at most one argument: not a float64 rule's step(p, g)) and
    NHWC<->NCHW transpose/permute in a module (code only: strings and comments are not parsed)."""
    found = []

    def visit(node, where):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = f"{where}.{node.name}" if where else node.name
        if isinstance(node, ast.Attribute) and node.attr == "GradientTape":
            found.append((where, node.lineno, "GradientTape"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            owner = f.value.attr if isinstance(f.value, ast.Attribute) else getattr(f.value, "id", "")
            flat = [e for a in node.args for e in (a.elts if isinstance(a, ast.Tuple) else [a])]
            ints = [e.value for e in flat if isinstance(e, ast.Constant)]
            if ((f.attr == "grad" and owner == "autograd") or f.attr in ("backward", "apply_gradients")
                    or (f.attr == "step" and len(node.args) <= 1)
                    or (f.attr in ("transpose", "permute") and ints in NCHW)):
                found.append((where, node.lineno, f"{owner}.{f.attr}(...)"))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "")
    return found


def _allowed(path: str, where: str) -> bool:
    names, _ = EXCEPTIONS.get(path, (set(), ""))
    return names == "*" or any(where == n or where.startswith(n + ".") for n in names)


def test_framework_calls_finder_sees_each_kind():
    """The finder below catches each spelling (else the next test would pass vacuously)."""
    code = ("def f(tf, torch, x, opt, rule):\n"
            "    with tf.GradientTape() as t: pass\n    torch.autograd.grad(x, x)\n    x.sum().backward()\n"
            "    opt.apply_gradients([])\n    opt.step()\n    rule.step(x, x)\n    x.permute(0, 3, 1, 2)\n"
            "    x.transpose((0, 2, 3, 1))\n    x.transpose(1, 0)\n    s = 'x.backward()'\n")
    assert [line for _, line, _ in framework_calls(ast.parse(code))] == [2, 3, 4, 5, 6, 8, 9]


def test_no_gradient_step_or_layout_code_outside_sides():
    """Gradients, optimizer steps and NHWC<->NCHW transposes are the sides'; elsewhere only EXCEPTIONS."""
    stray = []
    for top in ("equivalence", "tests"):
        for file in sorted((ROOT / top).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            if path.startswith("equivalence/sides/"):
                continue
            stray += [f"{path}:{line} {what} in {where or '<module>'}"
                      for where, line, what in framework_calls(ast.parse(file.read_text()))
                      if not _allowed(path, where)]
    assert not stray, ("gradient/step/layout code outside equivalence/sides (use a Side method, or add an exception "
                       "with its reason):\n  " + "\n  ".join(stray))
