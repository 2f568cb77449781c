"""Framework gotchas, demonstrated on both sides: each function runs TF/Keras and PyTorch and returns what it saw.

The functions are the witnesses of `gotcha=True` catalogue entries in the area modules of equivalence/differences/
(autograd.py, devices.py, modes.py, pipelines.py) and are asserted in more detail by tests/test_gotchas.py. Each
returns ``{"tf": ..., "torch": ...}`` of plain values, so one function serves the executable catalogue, the
rendered document and the tests.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .runtime import keras, tf, torch


def _error_name(fn) -> str:
    """The exception class name `fn()` raises, or 'no error' (witnesses record errors as data)."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - which error is the observation
        return type(exc).__name__
    return "no error"


def zero_grad(lr: float = 0.1, steps: int = 2) -> dict[str, Any]:
    """Two SGD steps on loss = w**2 from w = 1: torch without zero_grad() sums the gradients of both steps.

    Step 1: g = 2, w = 0.8 on both sides. Step 2: g = 1.6, but torch's .grad still holds 2, so it steps with 3.6.
    """
    t = torch()
    runs = {}
    for clear in (True, False):
        w = t.nn.Parameter(t.tensor(1.0))
        opt = t.optim.SGD([w], lr=lr)
        grads = []
        for _ in range(steps):
            if clear:
                opt.zero_grad()
            (w * w).backward()
            grads.append(w.grad.item())
            opt.step()
        runs["with_zero_grad" if clear else "without_zero_grad"] = {"grads": grads, "w": w.item()}
    v = keras().Variable(1.0)
    opt_tf, grads_tf = keras().optimizers.SGD(learning_rate=lr), []
    for _ in range(steps):
        with tf().GradientTape() as tape:  # a fresh tape per step: nothing to clear
            loss = v * v
        (g,) = tape.gradient(loss, [v])
        grads_tf.append(float(g))
        opt_tf.apply_gradients([(g, v)])
    return {"tf": {"fresh_tape": {"grads": grads_tf, "w": float(v.numpy())}}, "torch": runs}


def device_mismatch() -> dict[str, Any]:
    """Mixing devices: TF soft-places a GPU request on the CPU; torch's 'meta' device stands in for CUDA only partly.

    A CPU-only machine has no second real device, so torch is shown with 'meta' (shapes, no data): an elementwise op
    checks devices and raises naming both, but a matmul does not, and returns a CPU tensor of the right shape that
    nothing was written to (nn.Linear(bias=False) on 'meta' hides a device mix). On CUDA both raise ('Expected all
    tensors to be on the same device'): tests/test_gpu.py under `-m gpu`. TF raises too once soft placement is off.
    """
    t, tf_ = torch(), tf()
    try:
        t.ones(2, device="meta") + t.ones(2)
        torch_msg = "no error"
    except RuntimeError as exc:
        torch_msg = str(exc)
    try:
        product = t.ones(1, 2) @ t.ones(2, 2, device="meta")
        matmul = {"device": str(product.device), "shape": list(product.shape)}  # its values: uninitialised memory
    except RuntimeError as exc:
        matmul = {"error": type(exc).__name__}
    with tf_.device("/GPU:0"):  # no GPU here: soft placement runs the op on the CPU instead
        y = tf_.constant([1.0, 2.0]) + 1.0
    soft = tf_.config.get_soft_device_placement()
    tf_.config.set_soft_device_placement(False)
    try:
        with tf_.device("/GPU:0"):
            strict = _error_name(lambda: tf_.constant([1.0]) + 1.0)
    finally:
        tf_.config.set_soft_device_placement(soft)
    return {
        "tf": {"soft_placement": soft, "placed_on": y.device.rsplit("/", 1)[-1], "value": y.numpy().tolist(),
               "without_soft_placement": strict},
        "torch": {"error": "RuntimeError" if torch_msg != "no error" else "no error",
                  "names_both_devices": "cpu" in torch_msg and "meta" in torch_msg,
                  "cpu_matmul_meta": matmul},
    }


def retracing() -> dict[str, Any]:
    """tf.function traces once per new Python scalar value but once per dtype/shape for tensors; torch runs eagerly.

    Counted by a Python side effect in the body, which runs only while tracing (TF) and on every call (torch eager).
    Both graph forms (tf.function, torch.fx) return the eager values.
    """
    tf_, t = tf(), torch()
    traced = {"scalars": 0, "tensors": 0}

    def make(key):
        def f(x):
            traced[key] += 1
            return x * 2.0 + 1.0
        return tf_.function(f)

    by_scalar, by_tensor = make("scalars"), make("tensors")
    for v in (1.0, 2.0, 3.0):
        by_scalar(v)
        by_tensor(tf_.constant(v))
    counts = dict(traced)
    x = np.array([0.5, -1.5, 3.0], np.float32)  # a new shape: one more trace
    tf_same = bool(np.array_equal(by_tensor(tf_.constant(x)).numpy(), (tf_.constant(x) * 2.0 + 1.0).numpy()))
    runs = {"n": 0}

    class Affine(t.nn.Module):
        def forward(self, x):
            runs["n"] += 1
            return x * 2.0 + 1.0

    module = Affine()
    for v in (1.0, 2.0, 3.0):
        module(t.tensor(v))
    eager_runs = runs["n"]
    graph = t.fx.symbolic_trace(module)  # runs the body once to record a graph, then replays the graph
    traced_runs = runs["n"] - eager_runs
    graph_out = graph(t.from_numpy(x))
    replay_runs = runs["n"] - eager_runs - traced_runs
    torch_same = bool(t.equal(graph_out, x_t := t.from_numpy(x) * 2.0 + 1.0)) and x_t.dtype == graph_out.dtype
    return {"tf": {"traces_python_scalars": counts["scalars"], "traces_tensors": counts["tensors"],
                   "traces_after_new_shape": traced["tensors"], "graph_equals_eager": tf_same},
            "torch": {"eager_body_runs": eager_runs, "fx_trace_body_runs": traced_runs,
                      "fx_replay_body_runs": replay_runs, "fx_graph_equals_eager": torch_same}}


def train_eval_mode() -> dict[str, Any]:
    """A layer called outside fit/training: torch modules start in training mode, Keras layers run inference.

    Dropout(0.5) on ones: torch zeroes some and scales the rest by 2 until .eval(); Keras is the identity unless
    training=True. BatchNorm on x=[[1],[3]]: torch normalises with the batch (+-1) until .eval(); Keras uses the moving
    statistics (mean 0, var 1: x / sqrt(1 + 1e-3)) unless training=True. torch's .eval() then uses the running
    statistics its training-mode call updated (mean 0.2, var 1.1: it folds in the unbiased batch variance 2).
    """
    t, k = torch(), keras()
    ones = np.ones((1, 64), np.float32)
    x = np.array([[1.0], [3.0]], np.float32)
    drop, bn = t.nn.Dropout(0.5), t.nn.BatchNorm1d(1)
    torch_side = {"starts_in_training_mode": drop.training and bn.training,
                  "dropout_values": sorted(set(drop(t.from_numpy(ones)).flatten().tolist())),
                  "batchnorm": bn(t.from_numpy(x)).detach().flatten().tolist()}
    drop.eval(), bn.eval()
    torch_side["dropout_values_eval"] = sorted(set(drop(t.from_numpy(ones)).flatten().tolist()))
    torch_side["batchnorm_eval"] = bn(t.from_numpy(x)).detach().flatten().tolist()
    kdrop, kbn = k.layers.Dropout(0.5), k.layers.BatchNormalization()
    tf_side = {"dropout_values": sorted(set(np.asarray(kdrop(ones)).flatten().tolist())),
               "dropout_values_training": sorted(set(np.asarray(kdrop(ones, training=True)).flatten().tolist())),
               "batchnorm": np.asarray(kbn(x)).flatten().tolist(),
               "batchnorm_training": np.asarray(kbn(x, training=True)).flatten().tolist()}
    return {"tf": tf_side, "torch": torch_side}


def batching(n: int = 10, batch: int = 4) -> dict[str, Any]:
    """Batch sizes from tf.data and DataLoader over range(n): both keep the partial last batch unless told not to."""
    tf_, data = tf(), torch().utils.data
    ds = tf_.data.Dataset.range(n)
    tf_side = {"sizes": [int(b.shape[0]) for b in ds.batch(batch)],
               "sizes_drop_remainder": [int(b.shape[0]) for b in ds.batch(batch, drop_remainder=True)],
               "cardinality": int(ds.batch(batch).cardinality())}
    torch_side = {"sizes": [len(b) for b in data.DataLoader(range(n), batch_size=batch)],
                  "sizes_drop_last": [len(b) for b in data.DataLoader(range(n), batch_size=batch, drop_last=True)],
                  "len": len(data.DataLoader(range(n), batch_size=batch))}
    return {"tf": tf_side, "torch": torch_side}


def shuffling(n: int = 8, seed: int = 0) -> dict[str, Any]:
    """Epoch orders: tf.data shuffles through a buffer (size 1 = no shuffle), DataLoader draws a full permutation.

    Both reshuffle every epoch by default; orders are seeded (tf: op seed, torch: a Generator), so values are exact.
    """
    tf_, t = tf(), torch()
    ds = tf_.data.Dataset.range(n)

    def epochs(d, k=2):
        return [[int(v) for v in d.as_numpy_iterator()] for _ in range(k)]

    loader = t.utils.data.DataLoader(range(n), batch_size=n, shuffle=True, generator=t.Generator().manual_seed(seed))
    return {"tf": {"buffer_1": epochs(ds.shuffle(1, seed=seed), 1)[0],
                   "buffer_2": epochs(ds.shuffle(2, seed=seed), 1)[0],
                   "full_buffer_two_epochs": epochs(ds.shuffle(n, seed=seed))},
            "torch": {"two_epochs": [next(iter(loader)).tolist() for _ in range(2)]}}


def inplace_autograd() -> dict[str, Any]:
    """Editing a tensor that autograd saved: torch raises at backward(); TF cannot edit tensors in place.

    torch: y = b * b saves b; b.add_(1) bumps b's version counter and backward() refuses. TF: tensors are immutable
    and a Variable assigned after use leaves the recorded gradient at the value read when the op ran (2 * v_old).
    """
    t, tf_ = torch(), tf()
    a = t.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    y = (b * b).sum()
    version_before = b._version
    b.add_(1.0)
    try:
        y.backward()
        torch_err = "no error"
    except RuntimeError as exc:
        torch_err = "modified by an inplace operation" if "inplace operation" in str(exc) else str(exc)
    v = tf_.Variable([1.0, 2.0])
    with tf_.GradientTape() as tape:
        z = tf_.reduce_sum(v * v)
        v.assign_add([1.0, 1.0])
    def assign_item():
        c = tf_.constant([1.0])
        c[0] = 5.0

    return {"tf": {"item_assignment": _error_name(assign_item),
                   "grad_after_assign": tape.gradient(z, v).numpy().tolist(), "variable_now": v.numpy().tolist()},
            "torch": {"version_before": version_before, "version_after": b._version, "backward": torch_err}}
