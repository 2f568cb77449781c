"""Zoo benchmarks (marker benchmark, opt-in: `pytest -m benchmark`): each zoo model's forward pass and one SGD
training step (mean squared error against a fixed target), torch eager vs Keras eager vs Keras in tf.function.

Same rules as test_bench_models.py: one process, the same threads on both frameworks (`bench_threads`), the same
spec-built weights and input batch (converted to each framework's layout before timing), warm-up rounds, and each
path's first result checked against torch eager under the suite's tolerance rule before it is timed. The groups join
the `models` suite of `python -m equivalence bench-report` (work `zoo_<model>/<mode>`). torch.compile is left out
here: compiling five models costs minutes on the 2-core CI machine (test_bench_models times it on the seed models).
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
from equivalence.tolerances import Tolerance, cross
from equivalence.zoo import zoo_models

pytestmark = pytest.mark.benchmark

BATCH, LR = 16, 0.01
MODES = ("forward", "train_step")
IMPLS = ("torch-eager", "keras-eager", "keras-tf.function")
ROUNDS = dict(rounds=10, iterations=2, warmup_rounds=2)


class ZooJob(KerasSteps):
    """One zoo model, one batch and target, and each framework's forward and SGD step on it (weights shared)."""

    def __init__(self, name: str, seed: int = 0):
        torch, tf, keras = runtime.torch(), runtime.tf(), runtime.keras()
        from equivalence.sides import side

        self.pair = build_pair(zoo_models()[name], seed=seed)
        x = self.pair.sample_input(seed=seed + 1, batch=BATCH)
        self.target = np.random.default_rng(seed + 2).standard_normal((BATCH, *self.pair.spec.output_shape))
        self.x, self.tol = x, self.pair.tolerance(x)
        torch_side = side("torch-cpu")
        x_torch = x.astype(np.int64) if x.dtype.kind == "i" else torch_side.to_layout(x)
        self.x_torch = torch.from_numpy(np.ascontiguousarray(x_torch))
        self.t_torch = torch.from_numpy(torch_side.to_layout(self.target).astype(np.float32))
        self.x_tf, self.target_tf = tf.constant(x), tf.constant(self.target.astype(np.float32))
        self.torch_opt = torch.optim.SGD(self.pair.torch.parameters(), lr=LR)
        self.keras_opt = keras.optimizers.SGD(learning_rate=LR)
        self.keras_loss = keras.losses.MeanSquaredError()

    def torch_forward(self):
        with runtime.torch().no_grad():
            return self.pair.torch.eval()(self.x_torch)

    def torch_train_step(self):
        F = runtime.torch().nn.functional
        self.pair.torch.train()
        self.torch_opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(self.pair.torch(self.x_torch), self.t_torch)
        loss.backward()
        self.torch_opt.step()
        return loss


def check_training(job: ZooJob, ref: ZooJob, impl: str, mode: str, out, expected, what: str) -> None:
    """A train step's loss against torch eager's (verify's check of every mode but the forward)."""
    __tracebackhide__ = True
    # mean((y - t)^2) moves by <= 2 max|y - t| * (error of y): the model rule's cross tolerance on y
    y = job.pair.reference(job.x, training=True)
    slack = 2 * float(np.abs(y - job.target).max()) * cross(job.tol).atol
    assert_close(to_numpy(out), to_numpy(expected), Tolerance(slack, 0.0, "2 max|y - t| x cross model rule"),
                 what=f"{what} loss", label_a=impl, label_b="torch-eager")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(zoo_models()))
def test_bench_zoo(benchmark, bench_threads, name, mode, impl):
    """Time one zoo model's forward or SGD step in one framework path after checking it against torch eager."""
    if not runtime.has_module("tensorflow"):
        pytest.skip("TensorFlow not installed: the zoo benchmarks compare both frameworks on the same work")
    job, ref = ZooJob(name), ZooJob(name)
    framework = impl.split("-", 1)[0]
    fn = getattr(job, f"{framework}_{mode}")
    if impl == "keras-tf.function":
        fn = runtime.tf().function(fn)
    verify(job, ref, impl, mode, fn, check_training)
    benchmark.group = f"zoo_{name}/{mode}"
    record(benchmark, BenchCase("models", f"zoo_{name}/{mode}", impl, BATCH), bench_threads)
    benchmark.pedantic(fn, **ROUNDS)
