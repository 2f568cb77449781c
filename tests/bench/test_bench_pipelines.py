"""Input-pipeline benchmarks (marker benchmark): one epoch of batch-64 batches over the same in-memory arrays.

Group = one dataset; members: tf.data (from_tensor_slices().batch()), torch DataLoader (per-sample indexing +
collate, num_workers=0), DataLoader fed whole batches by a BatchSampler, and naive slicing of one tensor in each
framework. Every pipeline's batches are checked to concatenate back to exactly the source arrays, in order,
before timing; threads are set once for both frameworks (`bench_threads`). The seed's claim "DataLoader is slower
than naive batching for in-memory data" becomes the measured ratio in the bench report.
"""
from __future__ import annotations

import numpy as np
import pytest

from equivalence import runtime
from equivalence.bench import BenchCase, record
from equivalence.compare import assert_close, to_numpy
from equivalence.tolerances import EXACT

pytestmark = pytest.mark.benchmark

BATCH = 64
DATASETS = {  # name -> (n, feature shape): the MLP's input and a CIFAR-shaped image set
    "mlp_n16384_d32": (16384, (32,)),
    "images_n2048_32x32x3": (2048, (32, 32, 3)),
}
IMPLS = ("tf.data", "DataLoader", "DataLoader-batched", "naive-torch", "naive-tf")


def make_data(name: str):
    n, shape = DATASETS[name]
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, *shape)).astype(np.float32), rng.integers(0, 10, n).astype(np.int64)


def epoch_fn(impl: str, x: np.ndarray, y: np.ndarray):
    """A callable that runs one epoch and returns the list of (x, y) batches."""
    n = len(x)
    if impl == "tf.data":
        tf = runtime.tf()
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
        return lambda: list(ds)
    if impl == "naive-tf":
        tf = runtime.tf()
        xt, yt = tf.constant(x), tf.constant(y)
        return lambda: [(xt[i:i + BATCH], yt[i:i + BATCH]) for i in range(0, n, BATCH)]
    torch = runtime.torch()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    if impl == "naive-torch":
        return lambda: [(xt[i:i + BATCH], yt[i:i + BATCH]) for i in range(0, n, BATCH)]
    data = torch.utils.data
    dataset = data.TensorDataset(xt, yt)
    if impl == "DataLoader":
        loader = data.DataLoader(dataset, batch_size=BATCH, shuffle=False)
    else:  # whole batches by tensor indexing: TensorDataset accepts a list of indices
        sampler = data.BatchSampler(data.SequentialSampler(dataset), batch_size=BATCH, drop_last=False)
        loader = data.DataLoader(dataset, sampler=sampler, batch_size=None)
    return lambda: list(loader)


def verify(impl: str, batches, x, y) -> None:
    """The batches concatenate back to the source arrays exactly, each batch (but the last) BATCH long."""
    __tracebackhide__ = True
    sizes = [len(to_numpy(b[0])) for b in batches]
    assert sizes[:-1] == [BATCH] * (len(sizes) - 1) and sum(sizes) == len(x), f"{impl}: batch sizes {sizes[:5]}..."
    for i, src in enumerate((x, y)):
        got = np.concatenate([to_numpy(b[i]) for b in batches])
        assert_close(got, src, EXACT, what=f"{impl} epoch, component {i}", label_a=impl, label_b="source")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_bench_pipeline(benchmark, bench_threads, dataset, impl):
    """Time one epoch through one pipeline after checking it yields exactly the source data, in order."""
    if "tf" in impl and not runtime.has_module("tensorflow"):
        pytest.skip("TensorFlow not installed: no tf.data / TF side to time")
    x, y = make_data(dataset)
    fn = epoch_fn(impl, x, y)
    verify(impl, fn(), x, y)
    benchmark.group = f"pipeline/{dataset}"
    record(benchmark, BenchCase("pipelines", dataset, impl, BATCH), bench_threads)
    benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
