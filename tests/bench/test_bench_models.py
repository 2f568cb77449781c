"""Model benchmarks (marker benchmark, opt-in: `pytest -m benchmark`): same work, both frameworks, grouped.

Each pytest-benchmark group is one model and one mode (forward, forward+backward, one SGD training step, batch 64);
its members are the framework paths: torch eager, torch.compile, Keras eager, Keras inside tf.function.
Fair by construction: one process, the same thread count on both frameworks (`bench_threads`, set before TF
starts and stored in the JSON), the same spec-built weights and the same input batch (converted to each
framework's layout before timing), warm-up rounds before the timed ones, and each path's result checked against
torch eager under the suite's tolerance rule before it is timed. `python -m equivalence bench-report` turns the
JSON into ratios.
"""
from __future__ import annotations

import numpy as np
import pytest

from equivalence import runtime
from equivalence.bench import BenchCase, record
from equivalence.bench.steps import KerasSteps
from equivalence.bench.verify import verify
from equivalence.compare import assert_close, to_numpy
from equivalence.models import build_pair
from equivalence.zoo import seed_models
from equivalence.model_tolerance import accumulation_depth
from equivalence.tolerances import Tolerance, cross, for_arrays, tolerance

pytestmark = pytest.mark.benchmark

BATCH, LR = 64, 0.01
MODELS = ("seed_mlp", "seed_cnn_torch")  # the seed's MLP and its logits-headed CNN (cross-entropy from logits)
MODES = ("forward", "forward_backward", "train_step")
IMPLS = ("torch-eager", "torch-compile", "keras-eager", "keras-tf.function")
# Rounds keep `pytest -m benchmark` under 5 minutes on 2 shared cores; the MLP is ~100x cheaper, so it gets more.
ROUNDS = {"seed_mlp": dict(rounds=30, iterations=10, warmup_rounds=3),
          "seed_cnn_torch": dict(rounds=8, iterations=1, warmup_rounds=2)}


class Job(KerasSteps):
    """One model, one batch, and the step functions of both frameworks on it (weights shared at start)."""

    def __init__(self, name: str, seed: int = 0):
        torch, tf, keras = runtime.torch(), runtime.tf(), runtime.keras()
        from equivalence.sides import side

        self.pair = build_pair(seed_models()[name], seed=seed)
        x = self.pair.sample_input(seed=seed + 1, batch=BATCH)
        labels = np.random.default_rng(seed + 2).integers(0, 10, BATCH)
        self.x, self.tol = x, self.pair.tolerance(x)
        self.x_torch, self.y_torch = torch.from_numpy(side("torch-cpu").to_layout(x)), torch.from_numpy(labels)
        self.x_tf, self.target_tf = tf.constant(x), tf.constant(labels)
        self.torch_opt = torch.optim.SGD(self.pair.torch.parameters(), lr=LR)
        self.keras_opt = keras.optimizers.SGD(learning_rate=LR)
        self.keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.torch_model = self.pair.torch

    # torch ------------------------------------------------------------------------------------------------------
    def torch_forward(self):
        with runtime.torch().no_grad():
            return self.torch_model(self.x_torch)

    def torch_forward_backward(self):
        F = runtime.torch().nn.functional
        self.torch_opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.torch_model(self.x_torch), self.y_torch)
        loss.backward()
        return loss

    def torch_train_step(self):
        loss = self.torch_forward_backward()
        self.torch_opt.step()
        return loss

    # keras: KerasSteps


def step_fn(job: Job, impl: str, mode: str):
    """The callable timed for one impl and mode; torch.compile and tf.function wrap the eager paths."""
    framework, style = impl.split("-", 1)
    if impl == "torch-compile":
        torch = runtime.torch()
        if not hasattr(torch, "compile"):
            pytest.skip("torch.compile: not in this torch build")
        job.torch_model = torch.compile(job.pair.torch)
    fn = getattr(job, f"{framework}_{mode}")
    if impl == "keras-tf.function":
        fn = runtime.tf().function(fn)
    return fn


def _grad_sq_norm_torch(job) -> float:
    return float(sum((p.grad.double() ** 2).sum() for p in job.pair.torch.parameters()))


def check_training(job: Job, ref: Job, impl: str, mode: str, out, expected, what: str) -> None:
    """The loss, gradients or stepped weights against torch eager's (verify's check of every mode but the forward)."""
    __tracebackhide__ = True
    loss = out[0] if mode == "forward_backward" and impl.startswith("keras") else out
    # the loss is a mean over the batch of log-softmax terms of the logits: the model rule's scale applies
    assert_close(to_numpy(loss), to_numpy(expected), cross(job.tol), what=f"{what} loss", label_a=impl,
                 label_b="torch-eager")
    if mode == "forward_backward":
        got = (float(sum(float(np.sum(to_numpy(g).astype(np.float64) ** 2)) for g in out[1]))
               if impl.startswith("keras") else _grad_sq_norm_torch(job))
        want = _grad_sq_norm_torch(ref)
        # sum of squared gradients is layout-free; relative error of a sum of squares <= 2x that of its terms. The
        # terms' relative rule: the scalar model rule at the forward depth plus the batch (a weight gradient sums
        # over the batch), never the forward's per-element bound (absolute, on the logits: rtol 0 for the MLP).
        depth = accumulation_depth(job.pair.spec, batch=len(job.x)) + len(job.x)
        rel = cross(tolerance("float32", depth=depth, reason="")).rtol
        tol = Tolerance(2 * rel * abs(want), 0.0, f"2x cross scalar model rule (depth {depth}), relative to |g|^2")
        assert_close(np.float64(got), np.float64(want), tol, what=f"{what} sum g^2", label_a=impl,
                     label_b="torch-eager")
    else:
        side = "tf" if impl.startswith("keras") else "torch"
        got_w, want_w = job.pair.read_weights()[side], ref.pair.read_weights()["torch"]
        for layer, params in want_w.items():
            for p, w in params.items():
                w_tol = for_arrays("float32", w)
                tol = Tolerance(w_tol.atol + LR * cross(job.tol).atol, w_tol.rtol,
                                "float32 weights + lr * cross model rule")
                assert_close(got_w[layer][p], w, tol, what=f"{what} {layer}.{p} after one step", label_a=impl,
                             label_b="torch-eager")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", MODELS)
def test_bench_model(benchmark, bench_threads, name, mode, impl):
    """Time one model/mode in one framework path after checking it computes what torch eager computes."""
    if not runtime.has_module("tensorflow"):
        pytest.skip("TensorFlow not installed: the model benchmarks compare both frameworks on the same work")
    job, ref = Job(name), Job(name)
    fn = step_fn(job, impl, mode)
    try:
        verify(job, ref, impl, mode, fn, check_training)
    except Exception as exc:  # torch.compile without a working C++ toolchain fails here, not as a benchmark
        if impl == "torch-compile" and "EquivalenceMismatch" not in type(exc).__name__:
            pytest.skip(f"torch.compile does not work on this machine: {type(exc).__name__}: {str(exc)[:200]}")
        raise
    benchmark.group = f"{name}/{mode}"
    record(benchmark, BenchCase("models", f"{name}/{mode}", impl, BATCH), bench_threads)
    benchmark.pedantic(fn, **ROUNDS[name])


def _cuda_step(device, autocast: bool):
    """One SGD training step of the seed CNN on CUDA, float32 or autocast(float16) + GradScaler, synchronised."""
    torch = runtime.torch()
    from equivalence.sides.torch_models import build_torch
    from equivalence.sides import side
    from equivalence.weights import init_weights, load_torch

    spec = seed_models()["seed_cnn_torch"]
    module = build_torch(spec)
    load_torch(module, spec, init_weights(spec, 0))
    module.to(device)
    x = np.random.default_rng(1).standard_normal((BATCH, *spec.input_shape)).astype(np.float32)
    xt, yt = torch.from_numpy(side("torch-cpu").to_layout(x)).to(device), torch.randint(0, 10, (BATCH,), device=device)
    opt = torch.optim.SGD(module.parameters(), lr=LR)
    scaler = torch.amp.GradScaler("cuda", enabled=autocast)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.float16, enabled=autocast):
            loss = torch.nn.functional.cross_entropy(module(xt), yt)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        torch.cuda.synchronize()
        return loss

    return step


@pytest.mark.gpu
@pytest.mark.parametrize("impl", ("torch-float32", "torch-autocast"))
def test_bench_mixed_precision_step(benchmark, bench_threads, impl, torch_cuda):
    """Time one CUDA training step of the seed CNN in float32 and in autocast(float16) (loss finite in both)."""
    fn = _cuda_step(torch_cuda, autocast=impl == "torch-autocast")
    loss = float(fn())
    assert np.isfinite(loss), f"{impl}: first step loss {loss}"
    benchmark.group = "seed_cnn_torch/train_step-cuda"
    record(benchmark, BenchCase("mixed_precision", "seed_cnn_torch/train_step-cuda", impl, BATCH), bench_threads)
    benchmark.extra_info["device"] = runtime.torch().cuda.get_device_name(torch_cuda)
    benchmark.pedantic(fn, rounds=20, iterations=5, warmup_rounds=5)
