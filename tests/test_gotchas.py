"""Framework gotchas shown on both sides, with the values each framework gives (`pytest -m gotcha`).

The demonstrations live in equivalence/gotchas.py (they are also the witnesses of the gotcha catalogue entries);
these tests assert their details, including properties that hold for any seed. The real CUDA device-mismatch case
is tests/test_gpu.py under `-m gpu`.
"""
from __future__ import annotations

import numpy as np
import pytest

from equivalence import runtime, gotchas
from equivalence.compare import assert_close
from equivalence.tolerances import EXACT, tolerance

pytestmark = [pytest.mark.gotcha,
              pytest.mark.skipif(not runtime.has_module("tensorflow"), reason="gotchas run both frameworks")]

# One float32 SGD update w - lr*g, rounded once per step: 4 ulp of float32 is ample for two steps.
SGD_STEP = tolerance("float32", reason="two float32 SGD steps on w**2, values <= 1")


def test_gotcha_missing_zero_grad_accumulates():
    """Without zero_grad() torch's second step uses g1 + g2 and lands 0.2 below the TF/zero_grad weight."""
    seen = gotchas.zero_grad(lr=0.1, steps=2)
    tf_run = seen["tf"]["fresh_tape"]
    torch_ok, torch_acc = seen["torch"]["with_zero_grad"], seen["torch"]["without_zero_grad"]
    assert_close(np.array(torch_ok["grads"]), np.array(tf_run["grads"]), SGD_STEP, what="grads with zero_grad vs tape")
    assert_close(np.array([torch_ok["w"]]), np.array([tf_run["w"]]), SGD_STEP, what="w with zero_grad vs Keras SGD")
    assert_close(np.array(torch_acc["grads"]), np.array([2.0, 2.0 + 1.6]), SGD_STEP, what="accumulated grads")
    # The training-step effect: the extra lr * g1 = 0.1 * 2 moves the weight by 0.2 more than intended.
    assert_close(np.array([tf_run["w"] - torch_acc["w"]]), np.array([0.2]), SGD_STEP, what="w drift from accumulation")


def test_gotcha_device_mismatch():
    """torch refuses an elementwise op mixing devices (meta vs cpu) and names both; TF soft-places a GPU request on
    the CPU. 'meta' is only a partial stand-in for CUDA: its matmul skips the device check and returns a CPU tensor."""
    torch = runtime.torch()
    with pytest.raises(RuntimeError, match=r"device (cpu|meta).*device (meta|cpu)"):
        torch.ones(2, device="meta") + torch.ones(2)
    with pytest.raises(RuntimeError, match="Tensor on device meta is not on the expected device cpu"):
        torch.nn.Linear(2, 2, device="meta")(torch.ones(1, 2))  # the bias add checks
    unchecked = torch.nn.Linear(2, 2, bias=False, device="meta")(torch.ones(1, 2))  # the matmul does not
    assert (unchecked.device.type, tuple(unchecked.shape), unchecked.is_meta) == ("cpu", (1, 2), False)
    seen = gotchas.device_mismatch()
    assert seen["torch"] == {"error": "RuntimeError", "names_both_devices": True,
                             "cpu_matmul_meta": {"device": "cpu", "shape": [1, 2]}}
    assert seen["tf"]["placed_on"] == "device:CPU:0" and seen["tf"]["value"] == [2.0, 3.0]
    assert seen["tf"]["without_soft_placement"] == "InvalidArgumentError"
    assert runtime.tf().config.get_soft_device_placement() is True, "the demo must restore soft placement"


def test_gotcha_tf_function_retracing_counts():
    """tf.function traces once per Python scalar value and once per tensor signature; torch eager never traces."""
    seen = gotchas.retracing()
    assert seen["tf"]["traces_python_scalars"] == 3 and seen["tf"]["traces_tensors"] == 1
    assert seen["tf"]["traces_after_new_shape"] == 2
    assert seen["torch"] == {"eager_body_runs": 3, "fx_trace_body_runs": 1, "fx_replay_body_runs": 0,
                             "fx_graph_equals_eager": True}


def test_gotcha_graph_mode_gives_eager_values():
    """A small dense layer gives the same float32 values eagerly and as a graph, in each framework."""
    tf, torch = runtime.tf(), runtime.torch()
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 8)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32)

    def layer_tf(a):
        return tf.tanh(tf.matmul(a, w))

    eager, graph = layer_tf(tf.constant(x)), tf.function(layer_tf)(tf.constant(x))
    tol = tolerance("float32", depth=8, reason="graph rewrites may reorder an 8-term dot product")
    assert_close(graph, eager, tol, what="tf.function vs eager", label_a="graph", label_b="eager")

    class Layer(torch.nn.Module):
        def forward(self, a):
            return torch.tanh(a @ torch.from_numpy(w))

    fx_graph = torch.fx.symbolic_trace(Layer())
    assert_close(fx_graph(torch.from_numpy(x)), Layer()(torch.from_numpy(x)), EXACT, what="torch.fx vs eager")


def test_gotcha_dropout_train_vs_eval():
    """Dropout: torch is active until .eval() (values {0, 2}); Keras is the identity unless training=True."""
    seen = gotchas.train_eval_mode()
    assert seen["torch"]["starts_in_training_mode"] is True
    assert seen["torch"]["dropout_values"] == [0.0, 2.0] and seen["torch"]["dropout_values_eval"] == [1.0]
    assert seen["tf"]["dropout_values"] == [1.0] and seen["tf"]["dropout_values_training"] == [0.0, 2.0]


def test_gotcha_batchnorm_train_vs_eval():
    """BatchNorm on [[1], [3]]: batch statistics in torch's default mode and Keras' training=True, moving ones else."""
    seen = gotchas.train_eval_mode()
    eps_tf, eps_torch = 1e-3, 1e-5  # the two default epsilons (layer-defaults entries pin them)
    expect = {
        "tf batch": (seen["tf"]["batchnorm_training"], [-1 / np.sqrt(1 + eps_tf), 1 / np.sqrt(1 + eps_tf)]),
        "tf moving": (seen["tf"]["batchnorm"], [1 / np.sqrt(1 + eps_tf), 3 / np.sqrt(1 + eps_tf)]),
        "torch batch": (seen["torch"]["batchnorm"], [-1 / np.sqrt(1 + eps_torch), 1 / np.sqrt(1 + eps_torch)]),
        # after one training call: running mean 0.9*0 + 0.1*2 = 0.2, running var 0.9*1 + 0.1*2 (unbiased) = 1.1
        "torch running": (seen["torch"]["batchnorm_eval"], [(1 - 0.2) / np.sqrt(1.1 + eps_torch),
                                                           (3 - 0.2) / np.sqrt(1.1 + eps_torch)]),
    }
    for what, (got, want) in expect.items():
        # Keras' moving variance is updated in float32 and TF's rsqrt is approximate: 8 ulp observed as 1 ulp.
        assert_close(np.array(got), np.array(want), tolerance("float32", ulps=8, scale=3.0), what=what)


def test_gotcha_batching_and_drop_remainder():
    """tf.data batch and DataLoader give the same batches, keep the partial last one, and drop it on request."""
    tf, torch = runtime.tf(), runtime.torch()
    data = np.arange(10, dtype=np.float32)
    tf_batches = [b.numpy() for b in tf.data.Dataset.from_tensor_slices(data).batch(4)]
    torch_batches = [b.numpy() for b in torch.utils.data.DataLoader(data, batch_size=4)]
    assert [b.tolist() for b in tf_batches] == [b.tolist() for b in torch_batches] == [
        [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    seen = gotchas.batching(n=10, batch=4)
    assert seen["tf"]["sizes_drop_remainder"] == seen["torch"]["sizes_drop_last"] == [4, 4]
    assert seen["tf"]["cardinality"] == seen["torch"]["len"] == 3


def test_gotcha_shuffle_buffer_vs_permutation():
    """tf.data's buffer of 1 keeps order and a buffer of 2 only moves items locally; DataLoader permutes fully."""
    seen = gotchas.shuffling(n=8, seed=0)
    assert seen["tf"]["buffer_1"] == list(range(8))
    buffer_2 = seen["tf"]["buffer_2"]
    assert sorted(buffer_2) == list(range(8))
    # A 2-slot buffer has only seen elements 0..j+1 when it emits position j: nothing jumps ahead by more than one.
    assert all(v <= j + 1 for j, v in enumerate(buffer_2)), buffer_2
    for epochs in (seen["tf"]["full_buffer_two_epochs"], seen["torch"]["two_epochs"]):
        assert all(sorted(e) == list(range(8)) for e in epochs) and epochs[0] != epochs[1], epochs


def test_gotcha_inplace_op_under_autograd():
    """torch's version counter turns an in-place edit of a saved tensor into an error; TF keeps the read value."""
    torch = runtime.torch()
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    y = (b * b).sum()
    b.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    seen = gotchas.inplace_autograd()
    assert seen["torch"]["version_before"] + 1 == seen["torch"]["version_after"]
    assert seen["tf"] == {"item_assignment": "TypeError", "grad_after_assign": [2.0, 4.0], "variable_now": [2.0, 3.0]}


def _defaults() -> tuple:
    k, t = runtime.keras(), runtime.torch()
    return (str(t.get_default_dtype()), k.config.floatx(), k.mixed_precision.dtype_policy().name,
            str(t.tensor(1.0).dtype), k.layers.Dense(1).compute_dtype)


DEFAULTS = ("torch.float32", "float32", "float32", "torch.float32", "float32")
LEAKED = ("torch.float64", "float16", "mixed_float16", "torch.float64", "float16")


def _leaky_test_body():
    """What a careless test does: change torch's default dtype, Keras floatx and the policy, and never undo them."""
    k, t = runtime.keras(), runtime.torch()
    t.set_default_dtype(t.float64)
    k.config.set_floatx("float16")
    k.mixed_precision.set_dtype_policy("mixed_float16")


def test_gotcha_global_state_leaks_unless_isolated():
    """Global settings outlive the code that set them; the isolation the conftest wraps every test in undoes them.

    Self-contained (no reliance on test order or xdist worker): a leaky step runs twice inside this test, once bare
    and once under runtime.isolated, and what the next step would see is checked after each.
    """
    assert _defaults() == DEFAULTS, f"this test must start from the defaults, got {_defaults()}"
    outer = runtime.capture_state()
    try:
        _leaky_test_body()  # bare: the next test in this process would inherit everything
        assert _defaults() == LEAKED
        assert runtime.capture_state() != outer
    finally:
        runtime.restore_state(outer)  # the repair the conftest's isolation performs
    assert _defaults() == DEFAULTS

    with runtime.isolated(runtime.seed_for("leaky step")):  # as conftest._isolated_frameworks wraps a test
        _leaky_test_body()
        assert _defaults() == LEAKED, "inside the block the change is visible"
    assert _defaults() == DEFAULTS, f"isolated() did not restore the defaults: {_defaults()}"
    assert runtime.capture_state() == outer


def test_gotcha_isolation_restores_global_state():
    """runtime.isolated(), which wraps every test, restores each global setting a block changed."""
    k, t = runtime.keras(), runtime.torch()
    before = runtime.capture_state()
    with runtime.isolated(seed=1):
        t.set_default_dtype(t.float64)
        k.config.set_floatx("float64")
        k.mixed_precision.set_dtype_policy("mixed_bfloat16")
        t.set_grad_enabled(False)
        assert runtime.capture_state() != before
    assert runtime.capture_state() == before
