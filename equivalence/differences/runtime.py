"""Known differences: runtime area (dtypes, devices, modes, data pipelines, numerics not specific to one op/layer).

One KnownDifference per entry; append to ENTRIES. Witnesses run both frameworks on tiny inputs and return plain
values; errors a framework raises are part of the observation (recorded by class name, never by full message).
Gotcha witnesses live in equivalence.gotchas, shared with tests/test_gotchas.py.
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import gotchas
from .._runtime import keras, tf, torch
from ..tolerances import dtype_name
from ._entry import KnownDifference


def _dt(x) -> str:
    return dtype_name(x.dtype)


def _raises(fn) -> str:
    """The dtype of fn()'s result, or the name of the exception it raises."""
    try:
        return _dt(fn())
    except Exception as exc:  # noqa: BLE001 - the error class is the observation
        return type(exc).__name__


def _python_int_dtype():
    return {"tf": _dt(tf().constant([1, 2])), "torch": _dt(torch().tensor([1, 2]))}


def _int_float_mix():
    t, tf_ = torch(), tf()
    a, b = tf_.constant([1, 2], tf_.int32), tf_.constant([0.5, 0.5])
    return {"tf": {"tf": _raises(lambda: a + b), "keras.ops": _raises(lambda: keras().ops.add(a, b))},
            "torch": _raises(lambda: t.tensor([1, 2], dtype=t.int32) + t.tensor([0.5, 0.5]))}


def _python_float_into_int():
    t, tf_ = torch(), tf()
    out = t.tensor([1, 2], dtype=t.int32) + 0.5
    return {"tf": _raises(lambda: tf_.constant([1, 2], tf_.int32) + 0.5), "torch": [_dt(out), out.tolist()]}


def _numpy_float64_promotion():
    t, tf_ = torch(), tf()
    arr, scalar = np.array([2.0, 4.0]), np.float64(2.0)
    return {"tf": {"array": _dt(tf_.ones(2) * arr), "scalar": _dt(tf_.ones(2) * scalar)},
            "torch": {"array": _dt(t.ones(2) * t.as_tensor(arr)), "scalar": _dt(t.ones(2) * scalar)}}


def _int_mean():
    t, tf_ = torch(), tf()
    m, km = tf_.reduce_mean(tf_.constant([1, 2])), keras().ops.mean(tf_.constant([1, 2]))
    return {"tf": {"tf": [_dt(m), int(m)], "keras.ops": [_dt(km), float(km)]},
            "torch": _raises(lambda: t.mean(t.tensor([1, 2])))}


def _bool_arithmetic():
    t, tf_ = torch(), tf()
    both = t.tensor([True, True])
    return {"tf": {"add": _raises(lambda: tf_.constant([True]) + tf_.constant([True])),
                   "sum": _raises(lambda: tf_.reduce_sum(tf_.constant([True, True])))},
            "torch": {"add": (both + both).tolist(), "sum": [_dt(both.sum()), int(both.sum())]}}


def _float64_into_layer():
    t, k = torch(), keras()
    x = np.ones((1, 2))  # numpy's default float64
    return {"tf": _dt(k.layers.Dense(2)(x)), "torch": _raises(lambda: t.nn.Linear(2, 2)(t.from_numpy(x)))}


def _numpy_into_module():
    t, k = torch(), keras()
    x = np.ones((1, 2), np.float32)
    return {"tf": _dt(k.layers.Dense(2)(x)), "torch": _raises(lambda: t.nn.Linear(2, 2)(x))}


# What a user's script does, run as a fresh process: the harness reads Keras' dtype policy (capture_state) before any
# witness, which fixes the policy at float32 and would hide what set_floatx does to layers in a new program.
GLOBAL_FLOAT_SNIPPET = """\
import json
import torch
import tensorflow as tf
import keras

keras.config.set_floatx("float64")
torch.set_default_dtype(torch.float64)
tf_first = {"tf.constant": tf.constant(1.0).dtype.name, "keras.ops.ones": keras.ops.ones(1).dtype.name,
            "Dense.compute_dtype": keras.layers.Dense(1).compute_dtype}
torch_first = {"torch.tensor": str(torch.tensor(1.0).dtype), "torch.ones": str(torch.ones(1).dtype),
               "nn.Linear.weight": str(torch.nn.Linear(1, 1).weight.dtype)}
keras.config.set_floatx("float32")
torch.set_default_dtype(torch.float32)
tf_then = {"keras.ops.ones": keras.ops.ones(1).dtype.name, "Dense.compute_dtype": keras.layers.Dense(1).compute_dtype}
torch_then = {"torch.tensor": str(torch.tensor(1.0).dtype), "nn.Linear.weight": str(torch.nn.Linear(1, 1).weight.dtype)}
print(json.dumps({"tf": {"set float64": tf_first, "then float32": tf_then},
                  "torch": {"set float64": torch_first, "then float32": torch_then}}))
"""


def run_user_script(code: str, timeout: float = 300.0) -> dict:
    """Run `code` in a fresh Python (this interpreter, Keras on TensorFlow) and parse the JSON its last line prints."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"user script exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _global_float_dtype():
    out = run_user_script(GLOBAL_FLOAT_SNIPPET)
    strip = lambda d: {k: v.removeprefix("torch.") for k, v in d.items()}  # noqa: E731
    return {"tf": out["tf"], "torch": {step: strip(d) for step, d in out["torch"].items()}}


def _collate_dtypes():
    tf_, collate = tf(), torch().utils.data.default_collate
    spec = lambda v: dtype_name(tf_.data.Dataset.from_tensor_slices(v).element_spec.dtype)  # noqa: E731
    return {"tf": {"floats": spec([0.5, 1.5]), "ints": spec([1, 2])},
            "torch": {"floats": _dt(collate([0.5, 1.5])), "ints": _dt(collate([1, 2]))}}


def _fit_defaults():
    """100 samples through Keras fit() and a DataLoader, each with its defaults: batches, their sizes, the order."""
    import collections

    k, t = keras(), torch()
    fit = inspect.signature(k.Model.fit).parameters
    loader = inspect.signature(t.utils.data.DataLoader).parameters
    x = np.arange(100, dtype=np.float32)[:, None]
    seen, begun = [], []

    class Recording(k.Sequential):
        def train_step(self, data):  # eager (run_eagerly=True): sees each batch fit() feeds
            seen.append(k.ops.convert_to_numpy(data[0])[:, 0].astype(int).tolist())
            return super().train_step(data)

    class CountBatches(k.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            begun.append(batch)

    model = Recording([k.Input((1,)), k.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    model.fit(x, np.zeros_like(x), epochs=1, verbose=0, callbacks=[CountBatches()])
    batches = list(t.utils.data.DataLoader(x[:, 0]))

    def summary(sizes, order):
        return {"batches_per_epoch": len(sizes), "batch_sizes": dict(collections.Counter(sizes)),
                "in_order": order == list(range(100))}

    return {"tf": {"shuffle": fit["shuffle"].default, "batch_size": fit["batch_size"].default,
                   **summary([len(b) for b in seen], [v for b in seen for v in b]), "callback_batches": len(begun)},
            "torch": {"shuffle": bool(loader["shuffle"].default), "batch_size": loader["batch_size"].default,
                      **summary([len(b) for b in batches], [int(v) for b in batches for v in b]),
                      "len(DataLoader)": len(t.utils.data.DataLoader(x[:, 0]))}}


def _memory_sharing():
    t, tf_ = torch(), tf()
    a = np.zeros(2, np.float32)
    shared, copied = t.from_numpy(a), tf_.constant(a)
    a[0] = 5.0
    back = t.zeros(2)
    view = back.numpy()
    back[1] = 7.0
    return {"tf": {"tensor_after_numpy_write": copied.numpy().tolist()},
            "torch": {"tensor_after_numpy_write": shared.tolist(), "numpy_after_tensor_write": view.tolist()}}


def _numpy_requires_grad():
    t, tf_ = torch(), tf()
    w = t.ones(2, requires_grad=True)
    v = tf_.Variable([1.0, 1.0])
    return {"tf": v.numpy().tolist(), "torch": _raises(lambda: w.numpy())}


def _unwatched_gradient():
    t, tf_ = torch(), tf()
    c = tf_.constant([1.0, 2.0])
    with tf_.GradientTape() as tape:
        y = tf_.reduce_sum(c * c)
    x = t.tensor([1.0, 2.0])
    return {"tf": tape.gradient(y, c), "torch": _raises(lambda: t.autograd.grad((x * x).sum(), x))}


def _item_assignment():
    t, tf_ = torch(), tf()
    x = t.zeros(3)
    x[1] = 5.0

    def tf_assign():
        y = tf_.zeros(3)
        y[1] = 5.0

    return {"tf": _raises(tf_assign), "torch": x.tolist()}


def _seed_streams():
    t, tf_ = torch(), tf()
    return {"tf": tf_.random.Generator.from_seed(0).uniform([3]).numpy(),
            "torch": t.rand(3, generator=t.Generator().manual_seed(0))}


def _half_cumsum():
    t, tf_ = torch(), tf()
    out = {}
    for name in ("float16", "bfloat16"):
        out[name] = (float(tf_.math.cumsum(tf_.ones(5000, name))[-1]),
                     float(t.cumsum(t.ones(5000, dtype=getattr(t, name)), 0)[-1]))
    return {"tf": {k: v[0] for k, v in out.items()}, "torch": {k: v[1] for k, v in out.items()}}


def _default_device():
    t, tf_ = torch(), tf()
    tf_side = dict(gotchas.device_mismatch()["tf"], placed_on=tf_.constant(1.0).device.rsplit("/", 1)[-1])
    return {"tf": tf_side, "torch": {"placed_on": str(t.tensor(1.0).device),
                                     "cuda_request": _raises(lambda: t.zeros(1, device="cuda:0"))}}


def _variable_dtype_from_python():
    t, tf_ = torch(), tf()
    return {"tf": {"float64_numpy": _dt(tf_.constant(np.array([0.1]))), "python_float": _dt(tf_.constant([0.1]))},
            "torch": {"float64_numpy": _dt(t.tensor(np.array([0.1]))), "python_float": _dt(t.tensor([0.1]))}}


def _lazy_weights():
    t, k = torch(), keras()
    dense = k.layers.Dense(3)
    before = len(dense.weights)
    dense(np.ones((1, 2), np.float32))
    return {"tf": {"weights_before_call": before, "weights_after_call": [list(w.shape) for w in dense.weights]},
            "torch": {"weights_at_construction": [list(p.shape) for p in t.nn.Linear(2, 3).parameters()]}}


def _bn_counts():
    t, k = torch(), keras()
    bn = k.layers.BatchNormalization()
    bn.build((None, 4))
    tbn = t.nn.BatchNorm1d(4)
    trainable = sum(int(np.prod(w.shape)) for w in bn.trainable_weights)
    return {"tf": {"count_params": bn.count_params(), "trainable": trainable},
            "torch": {"parameters": sum(p.numel() for p in tbn.parameters()),
                      "buffers": sum(b.numel() for b in tbn.buffers()), "state_dict_keys": sorted(tbn.state_dict())}}


def _frozen_batchnorm():
    t, k = torch(), keras()
    x = np.array([[1.0], [3.0]], np.float32)
    bn = k.layers.BatchNormalization()
    bn.build((None, 1))
    bn.trainable = False  # since TF 2.0 this also switches the layer to inference mode
    tbn = t.nn.BatchNorm1d(1).requires_grad_(False).train()
    return {"tf": np.asarray(bn(x, training=True)).ravel(), "torch": tbn(t.from_numpy(x)).detach().ravel()}


def _integer_gradient():
    t, tf_ = torch(), tf()
    v = tf_.Variable([1, 2])
    with tf_.GradientTape() as tape:
        y = tf_.reduce_sum(v * v)
    return {"tf": tape.gradient(y, v), "torch": _raises(lambda: t.tensor([1, 2]).requires_grad_())}


ENTRIES: list[KnownDifference] = [
    KnownDifference(
        id="python-int-default-dtype", area="dtypes",
        title="A list of Python ints becomes int32 in TensorFlow but int64 in PyTorch",
        tf="tf.constant([1, 2]) is int32 (Keras' keras.ops.convert_to_tensor also gives int32).",
        torch="torch.tensor([1, 2]) is int64 (torch.long), the dtype torch indexing and losses expect.",
        mapping="Pass the dtype explicitly on both sides (tf.constant(v, tf.int64) / "
                "torch.tensor(v, dtype=torch.int64)).",
        witness=_python_int_dtype, expected={"tf": "int32", "torch": "int64"},
        snippet_tf="tf.constant([1, 2]).dtype", snippet_torch="torch.tensor([1, 2]).dtype",
        evidence="tf.constant docs (dtype inferred: Python int -> int32); torch.tensor docs and "
                 "torch/csrc/utils/tensor_new.cpp (Python int -> torch.int64).",
    ),
    KnownDifference(
        id="int-float-tensor-mix", area="dtypes",
        title="Adding an int32 tensor to a float32 tensor: PyTorch promotes, TensorFlow raises",
        tf="tf ops never promote between tensors: int32 + float32 raises InvalidArgumentError (keras.ops.add "
           "promotes to float32, like torch).",
        torch="PyTorch applies type promotion: int32 + float32 -> float32.",
        mapping="Cast first: tf.cast(a, tf.float32) + b (keras.ops.add promotes like torch).",
        witness=_int_float_mix,
        expected={"tf": {"tf": "InvalidArgumentError", "keras.ops": "float32"}, "torch": "float32"},
        snippet_tf="tf.constant([1, 2], tf.int32) + tf.constant([0.5, 0.5])  # InvalidArgumentError",
        snippet_torch="torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([0.5, 0.5])  # float32",
        evidence="torch docs 'Tensor Attributes: Type promotion'; TF guide 'Tensors' (no implicit casting between "
                 "tensor dtypes); tf.experimental.numpy.experimental_enable_numpy_behavior is opt-in.",
    ),
    KnownDifference(
        id="python-float-into-int-tensor", area="dtypes",
        title="int32 tensor + 0.5: PyTorch promotes to float32, TensorFlow raises",
        tf="A Python float is converted to the int32 tensor's dtype, which fails: InvalidArgumentError.",
        torch="A Python float operand makes the result the default float dtype: [1.5, 2.5] float32.",
        mapping="Cast the integer tensor to float first on the TF side.",
        witness=_python_float_into_int, expected={"tf": "InvalidArgumentError", "torch": ["float32", [1.5, 2.5]]},
        snippet_tf="tf.constant([1, 2], tf.int32) + 0.5  # InvalidArgumentError",
        snippet_torch="torch.tensor([1, 2], dtype=torch.int32) + 0.5  # tensor([1.5, 2.5])",
        evidence="torch docs 'Type promotion' (a Python scalar of a higher category promotes to the default "
                 "dtype); TF tensor_conversion: Python scalars take the other operand's dtype.",
    ),
    KnownDifference(
        id="numpy-float64-array-promotion", area="dtypes",
        title="float32 tensor * float64 NumPy array: float64 in PyTorch, float32 in TensorFlow",
        tf="TF converts the NumPy operand to the tensor's dtype: float32 * float64 array -> float32 (scalar too).",
        torch="torch.as_tensor keeps float64 and promotion gives float64; a NumPy float64 *scalar* acts like a "
              "Python float and keeps float32.",
        mapping="Convert NumPy data with an explicit dtype (np.float32 / torch.from_numpy(a).float()).",
        witness=_numpy_float64_promotion,
        expected={"tf": {"array": "float32", "scalar": "float32"}, "torch": {"array": "float64", "scalar": "float32"}},
        snippet_tf="(tf.ones(2) * np.array([2.0, 4.0])).dtype  # float32",
        snippet_torch="(torch.ones(2) * torch.as_tensor(np.array([2.0, 4.0]))).dtype  # float64",
        evidence="torch docs 'Type promotion' (tensors of the same category promote to the wider dtype; "
                 "zero-dim NumPy scalars are treated like Python scalars); TF convert_to_tensor dtype_hint.",
    ),
    KnownDifference(
        id="integer-mean", area="dtypes",
        title="Mean of an integer tensor: TensorFlow truncates to an integer, PyTorch refuses",
        tf="tf.reduce_mean([1, 2]) is 1: integer division of the sum, in the input dtype (keras.ops.mean gives 1.5).",
        torch="torch.mean on an integer tensor raises RuntimeError (needs a floating dtype).",
        mapping="Cast to float first on both sides (keras.ops.mean also returns a float).",
        witness=_int_mean,
        expected={"tf": {"tf": ["int32", 1], "keras.ops": ["float32", 1.5]}, "torch": "RuntimeError"},
        snippet_tf="tf.reduce_mean(tf.constant([1, 2]))  # 1",
        snippet_torch="torch.mean(torch.tensor([1, 2]))  # RuntimeError",
        evidence="tf.math.reduce_mean docs (output has the input dtype; the docs warn about integer inputs); "
                 "torch.mean docs (input must be floating point or complex).",
    ),
    KnownDifference(
        id="bool-arithmetic", area="dtypes",
        title="Arithmetic on bool tensors: PyTorch allows it (True + True is True, sum counts), TensorFlow raises",
        tf="tf.add and tf.reduce_sum reject bool tensors (InvalidArgumentError); cast to int first.",
        torch="bool + bool stays bool (logical or); bool.sum() counts the Trues as int64.",
        mapping="Cast to an integer dtype before arithmetic on both sides.",
        witness=_bool_arithmetic,
        expected={"tf": {"add": "InvalidArgumentError", "sum": "InvalidArgumentError"},
                  "torch": {"add": [True, True], "sum": ["int64", 2]}},
        snippet_tf="tf.reduce_sum(tf.cast(mask, tf.int32))  # tf.reduce_sum(mask) raises",
        snippet_torch="mask.sum()  # counts Trues; mask + mask is a logical or",
        evidence="TF op registrations (AddV2/Sum type constraints exclude bool); torch docs 'Type promotion' "
                 "(bool + bool -> bool) and torch.sum docs (bool promoted to int64).",
    ),
    KnownDifference(
        id="float64-input-to-layer", area="dtypes",
        title="float64 input to a float32 layer: Keras casts it, PyTorch raises",
        tf="Keras layers autocast floating inputs to the layer's compute dtype (float32): "
           "Dense(2)(np.ones((1, 2))) works.",
        torch="nn.Linear has float32 weights and raises RuntimeError on a float64 input (mat1 and mat2 dtypes).",
        mapping="Feed float32 (x.astype(np.float32), torch.from_numpy(x).float()), or .double() the torch module.",
        witness=_float64_into_layer, expected={"tf": "float32", "torch": "RuntimeError"},
        snippet_tf="keras.layers.Dense(2)(np.ones((1, 2)))  # float32 output",
        snippet_torch="torch.nn.Linear(2, 2)(torch.from_numpy(np.ones((1, 2))))  # RuntimeError",
        evidence="keras Layer docs (autocast: 'inputs are cast to the layer's compute dtype'); torch matmul dtype "
                 "check in aten (no implicit casting inside modules).",
    ),
    KnownDifference(
        id="numpy-input-to-model", area="data-pipelines",
        title="NumPy arrays can be fed to Keras layers and models directly, not to torch modules",
        tf="Keras layers and Model.predict/fit accept NumPy arrays and convert them.",
        torch="nn.Module calls need tensors: nn.Linear(2, 2)(ndarray) raises TypeError.",
        mapping="torch.from_numpy(x) (shares memory) or torch.as_tensor(x) before the call.",
        witness=_numpy_into_module, expected={"tf": "float32", "torch": "TypeError"},
        snippet_tf="keras.layers.Dense(2)(np.ones((1, 2), np.float32))",
        snippet_torch="torch.nn.Linear(2, 2)(torch.from_numpy(np.ones((1, 2), np.float32)))",
        evidence="keras Layer.__call__ converts array-likes (keras/src/layers/layer.py); torch.nn.functional.linear "
                 "signature requires Tensor.",
    ),
    KnownDifference(
        id="global-float-dtype-switch", area="dtypes",
        title="Switching the global float dtype reaches different places in each framework, and Keras only once",
        tf="In a fresh program keras.config.set_floatx('float64') changes keras.ops.ones and new layers "
           "(Dense(1).compute_dtype float64) but not tf.constant(1.0) (float32). Layers follow the global dtype "
           "policy, which Keras fixes from floatx the first time anything reads it (the first layer built), so a later "
           "set_floatx('float32') changes keras.ops.ones back but new layers stay float64 "
           "(keras.config.set_dtype_policy reaches them).",
        torch="torch.set_default_dtype(torch.float64) changes torch.tensor(1.0), torch.ones and new module weights; "
              "setting float32 again changes them all back.",
        mapping="Set dtypes per tensor/layer rather than globally, or set floatx before building any layer; the suite "
                "restores both settings after every test.",
        witness=_global_float_dtype,
        expected={"tf": {"set float64": {"tf.constant": "float32", "keras.ops.ones": "float64",
                                         "Dense.compute_dtype": "float64"},
                         "then float32": {"keras.ops.ones": "float32", "Dense.compute_dtype": "float64"}},
                  "torch": {"set float64": {"torch.tensor": "float64", "torch.ones": "float64",
                                            "nn.Linear.weight": "float64"},
                            "then float32": {"torch.tensor": "float32", "nn.Linear.weight": "float32"}}},
        snippet_tf="keras.config.set_floatx('float64')\ntf.constant(1.0).dtype  # float32\n"
                   "keras.layers.Dense(1).compute_dtype  # float64 (fresh program)\n"
                   "keras.config.set_floatx('float32'); keras.layers.Dense(1).compute_dtype  # still float64",
        snippet_torch="torch.set_default_dtype(torch.float64); torch.tensor(1.0).dtype  # float64",
        evidence="keras.config.set_floatx docs; keras/src/dtype_policies/dtype_policy.py dtype_policy() (caches "
                 "DTypePolicy(floatx()) on first read); torch.set_default_dtype docs. Observed by running "
                 "GLOBAL_FLOAT_SNIPPET (equivalence/differences/runtime.py) in a fresh Python process.", gotcha=True,
    ),
    KnownDifference(
        id="collate-python-scalar-dtype", area="data-pipelines",
        title="Batches of Python floats/ints: DataLoader collates to float64/int64, tf.data to float32/int32",
        tf="tf.data.Dataset.from_tensor_slices([0.5, 1.5]) yields float32; Python ints yield int32.",
        torch="DataLoader's default_collate turns Python floats into a float64 tensor and ints into int64.",
        mapping="Store data as float32 NumPy arrays (both keep the array dtype), or pass a collate_fn.",
        witness=_collate_dtypes,
        expected={"tf": {"floats": "float32", "ints": "int32"}, "torch": {"floats": "float64", "ints": "int64"}},
        snippet_tf="tf.data.Dataset.from_tensor_slices([0.5, 1.5]).element_spec.dtype  # float32",
        snippet_torch="torch.utils.data.default_collate([0.5, 1.5]).dtype  # float64",
        evidence="torch/utils/data/_utils/collate.py (collate_float_fn: torch.tensor(batch, dtype=torch.float64)); "
                 "tf.data from_tensor_slices converts with tf.constant rules.",
    ),
    KnownDifference(
        id="fit-vs-dataloader-defaults", area="data-pipelines",
        title="Keras fit() shuffles and batches by 32 by default; a DataLoader neither shuffles nor batches",
        tf="Model.fit(shuffle=True, batch_size=None -> 32): 100 samples are 4 steps of 32, 32, 32, 4, in a shuffled "
           "order (a new one every epoch).",
        torch="DataLoader(shuffle=None -> SequentialSampler, batch_size=1): 100 samples are 100 batches of 1, in order.",
        mapping="fit(..., shuffle=False, batch_size=B) and DataLoader(..., batch_size=B) to compare step by step.",
        witness=_fit_defaults,
        expected={"tf": {"shuffle": True, "batch_size": None, "batches_per_epoch": 4, "batch_sizes": {32: 3, 4: 1},
                         "in_order": False, "callback_batches": 4},
                  "torch": {"shuffle": False, "batch_size": 1, "batches_per_epoch": 100, "batch_sizes": {1: 100},
                            "in_order": True, "len(DataLoader)": 100}},
        snippet_tf="model.fit(x, y, epochs=1)  # 100 samples: 4 batches (32, 32, 32, 4), shuffled",
        snippet_torch="DataLoader(ds)  # 100 samples: 100 batches of 1, in order",
        evidence="keras Model.fit docs ('batch_size ... will default to 32'; 'shuffle: Boolean ... default True'); "
                 "torch.utils.data.DataLoader docs (batch_size=1, shuffle=False). Observed by fitting 100 samples "
                 "(on_train_batch_begin count, train_step contents) and iterating a DataLoader.",
    ),
    KnownDifference(
        id="partial-last-batch", area="data-pipelines",
        title="Both keep the partial last batch by default; drop_remainder=True and drop_last=True drop it",
        tf="Dataset.range(10).batch(4): sizes [4, 4, 2]; batch(4, drop_remainder=True): [4, 4].",
        torch="DataLoader(range(10), batch_size=4): sizes [4, 4, 2]; drop_last=True: [4, 4].",
        mapping="drop_remainder (tf.data) <-> drop_last (DataLoader). The frameworks agree; this entry pins it.",
        witness=gotchas.batching,
        expected={"tf": {"sizes": [4, 4, 2], "sizes_drop_remainder": [4, 4], "cardinality": 3},
                  "torch": {"sizes": [4, 4, 2], "sizes_drop_last": [4, 4], "len": 3}},
        snippet_tf="tf.data.Dataset.range(10).batch(4, drop_remainder=True)",
        snippet_torch="torch.utils.data.DataLoader(range(10), batch_size=4, drop_last=True)",
        evidence="tf.data.Dataset.batch docs (drop_remainder=False); torch DataLoader docs (drop_last=False).",
        gotcha=True,
    ),
    KnownDifference(
        id="shuffle-buffer-vs-permutation", area="data-pipelines",
        title="tf.data shuffles through a finite buffer; DataLoader(shuffle=True) draws a full permutation",
        tf="Dataset.shuffle(buffer_size) picks each element from a buffer: buffer_size=1 does not shuffle and a small "
           "buffer only shuffles locally. Reshuffled each epoch (reshuffle_each_iteration=True).",
        torch="RandomSampler draws a uniform permutation of the whole dataset every epoch.",
        mapping="shuffle(buffer_size=len(dataset)) is a full shuffle; orders never match across frameworks "
                "(different RNGs): compare with shuffling off.",
        witness=gotchas.shuffling,
        # tf orders also depend on the global seed, which observe() derives from this entry's id
        expected={"tf": {"buffer_1": [0, 1, 2, 3, 4, 5, 6, 7], "buffer_2": [1, 2, 0, 4, 3, 6, 5, 7],
                         "full_buffer_two_epochs": [[1, 7, 4, 5, 6, 2, 3, 0], [0, 1, 4, 5, 3, 7, 6, 2]]},
                  "torch": {"two_epochs": [[5, 3, 1, 7, 2, 6, 4, 0], [2, 0, 5, 6, 4, 1, 3, 7]]}},
        snippet_tf="tf.data.Dataset.range(8).shuffle(buffer_size=8, seed=0)",
        snippet_torch="DataLoader(range(8), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))",
        evidence="tf.data.Dataset.shuffle docs ('fills a buffer with buffer_size elements, then randomly samples'); "
                 "torch.utils.data.RandomSampler (torch.randperm).", gotcha=True,
    ),
    KnownDifference(
        id="numpy-memory-sharing", area="devices",
        title="torch.from_numpy and Tensor.numpy() share memory with NumPy; tf.constant copies",
        tf="tf.constant(a) copies: writing to a later leaves the tensor unchanged.",
        torch="torch.from_numpy(a) and t.numpy() are views of one buffer: a write on either side shows on the other.",
        mapping="torch.tensor(a) (copies) or .clone() / .numpy().copy() when the data must not alias.",
        witness=_memory_sharing,
        expected={"tf": {"tensor_after_numpy_write": [0.0, 0.0]},
                  "torch": {"tensor_after_numpy_write": [5.0, 0.0], "numpy_after_tensor_write": [0.0, 7.0]}},
        snippet_tf="a = np.zeros(2, np.float32); t = tf.constant(a); a[0] = 5  # t is [0, 0]",
        snippet_torch="a = np.zeros(2, np.float32); t = torch.from_numpy(a); a[0] = 5  # t is [5, 0]",
        evidence="torch.from_numpy docs ('The returned tensor and ndarray share the same memory'); Tensor.numpy "
                 "docs; tf.constant docs (creates a constant tensor from the value).",
    ),
    KnownDifference(
        id="numpy-of-tensor-requiring-grad", area="gradients",
        title="Tensor.numpy() fails on a torch tensor that requires grad; TF variables convert freely",
        tf="tf.Variable(...).numpy() always works (autodiff is recorded by a GradientTape, not on the tensor).",
        torch="A tensor with requires_grad=True raises RuntimeError on .numpy(): call .detach().numpy().",
        mapping="t.detach().cpu().numpy() (equivalence.compare.to_numpy does this).",
        witness=_numpy_requires_grad, expected={"tf": [1.0, 1.0], "torch": "RuntimeError"},
        snippet_tf="tf.Variable([1.0, 1.0]).numpy()",
        snippet_torch="torch.ones(2, requires_grad=True).detach().numpy()",
        evidence="torch Tensor.numpy docs (force=False: 'the tensor must not require grad'); tf.Variable docs.",
    ),
    KnownDifference(
        id="gradient-of-unwatched-tensor", area="gradients",
        title="Gradient w.r.t. a tensor autodiff did not track: TF returns None, PyTorch raises",
        tf="A GradientTape watches only trainable Variables unless tape.watch(x): tape.gradient(y, constant) is None.",
        torch="autograd.grad on a graph with no requires_grad input raises RuntimeError.",
        mapping="tape.watch(x) in TF; x.requires_grad_() in torch.",
        witness=_unwatched_gradient, expected={"tf": None, "torch": "RuntimeError"},
        snippet_tf="with tf.GradientTape() as tape:\n    y = tf.reduce_sum(c * c)\ntape.gradient(y, c)  # None",
        snippet_torch="torch.autograd.grad((x * x).sum(), x)  # RuntimeError: does not require grad",
        evidence="tf.GradientTape docs ('Trainable variables are automatically watched'; unconnected -> None); "
                 "torch.autograd.grad docs.",
    ),
    KnownDifference(
        id="tensor-item-assignment", area="op-semantics",
        title="Tensors are mutable in PyTorch (x[1] = 5) and immutable in TensorFlow",
        tf="tf.Tensor does not support item assignment (TypeError); use tf.tensor_scatter_nd_update or a Variable.",
        torch="x[1] = 5.0 writes in place.",
        mapping="tf.tensor_scatter_nd_update(x, [[1]], [5.0]) returns the updated copy.",
        witness=_item_assignment, expected={"tf": "TypeError", "torch": [0.0, 5.0, 0.0]},
        snippet_tf="y = tf.tensor_scatter_nd_update(tf.zeros(3), [[1]], [5.0])",
        snippet_torch="x = torch.zeros(3); x[1] = 5.0",
        evidence="TF guide 'Introduction to Tensors' ('All tensors are immutable like Python numbers'); torch "
                 "indexing docs.",
    ),
    KnownDifference(
        id="same-seed-different-streams", area="numerics",
        title="The same seed gives different random numbers in each framework",
        tf="tf.random.Generator.from_seed(0).uniform([3]) (Philox) gives [0.3118, 0.8263, 0.6849].",
        torch="torch.rand(3, generator=torch.Generator().manual_seed(0)) (Mersenne Twister) gives "
              "[0.4963, 0.7682, 0.0885].",
        mapping="Draw random data once in NumPy and convert it for both (the suite's weights and inputs do this).",
        witness=_seed_streams,
        expected={"tf": [0.31179297, 0.8263413, 0.6849456], "torch": [0.49625659, 0.76822180, 0.08847743]},
        atol=1e-7,  # values are exact for a fixed generator; 1e-7 only covers printing them at 8 digits
        snippet_tf="tf.random.Generator.from_seed(0).uniform([3])",
        snippet_torch="torch.rand(3, generator=torch.Generator().manual_seed(0))",
        evidence="tf.random.Generator docs (Philox default); torch.Generator docs (CPU mt19937).",
    ),
    KnownDifference(
        id="half-precision-cumsum-accumulation", area="numerics",
        title="cumsum of float16/bfloat16 on CPU: TensorFlow accumulates in the half type, PyTorch in float32",
        tf="tf.math.cumsum over 5000 ones stops at 2048 (float16) and 256 (bfloat16): x + 1 == x beyond those.",
        torch="torch.cumsum accumulates in float32 and rounds each prefix: 5000 (float16) and 4992 (bfloat16).",
        mapping="Upcast to float32 before long cumulative sums (tf.cast(x, tf.float32)).",
        witness=_half_cumsum,
        expected={"tf": {"float16": 2048.0, "bfloat16": 256.0}, "torch": {"float16": 5000.0, "bfloat16": 4992.0}},
        snippet_tf="tf.math.cumsum(tf.ones(5000, tf.float16))[-1]  # 2048",
        snippet_torch="torch.cumsum(torch.ones(5000, dtype=torch.float16), 0)[-1]  # 5000",
        evidence="Measured in /work/shared/NUMERICS.md ('fp16 / bf16 cumsum of 5000 ones'); torch's CPU cumsum uses "
                 "an opmath (float32) accumulator (aten/src/ATen/native/cpu/ReduceOpsKernel.cpp).",
    ),
    KnownDifference(
        id="default-device-placement", area="devices",
        title="Asking for a missing GPU: TensorFlow soft-places on the CPU, PyTorch raises",
        tf="Ops go to GPU:0 when one is visible, else CPU:0. Inside tf.device('/GPU:0') with no GPU the op runs on "
           "CPU:0 (soft placement, on by default); with soft placement off it raises InvalidArgumentError.",
        torch="Tensors start on the CPU unless device= says otherwise and never move implicitly; device='cuda:0' "
              "without CUDA raises (AssertionError on a CPU-only build, RuntimeError on a CUDA build with no GPU). "
              "Operands on two devices: entry device-mixing.",
        mapping="Pin devices explicitly (tf.device('/CPU:0'), torch.device('cpu')); turn soft placement off to make "
                "TF fail loudly. Observed on a CPU-only machine.",
        witness=_default_device,
        expected={"tf": {"placed_on": "device:CPU:0", "soft_placement": True, "value": [2.0, 3.0],
                         "without_soft_placement": "InvalidArgumentError"},
                  "torch": {"placed_on": "cpu", "cuda_request": "AssertionError"}},
        snippet_tf="with tf.device('/GPU:0'):\n    y = tf.constant([1.0, 2.0]) + 1.0\ny.device  # ...device:CPU:0 "
                   "when there is no GPU",
        snippet_torch="torch.tensor(1.0).device  # cpu, even with a GPU\ntorch.zeros(1, device='cuda:0')  # raises "
                      "without CUDA",
        evidence="TF guide 'Use a GPU' (automatic placement; tf.config.set_soft_device_placement); torch docs "
                 "'CUDA semantics' (tensors are created on the CPU by default; torch/cuda/__init__.py _lazy_init).",
        gotcha=True,
    ),
    KnownDifference(
        id="float64-numpy-conversion", area="dtypes",
        title="Converting NumPy float64 data keeps float64 in both; Python floats become float32 in both",
        tf="tf.constant(np.array([0.1])) is float64; tf.constant([0.1]) is float32.",
        torch="torch.tensor(np.array([0.1])) is float64; torch.tensor([0.1]) is float32 (the default dtype).",
        mapping="The frameworks agree; NumPy's float64 default is what surprises. Cast with np.float32 at the source.",
        witness=_variable_dtype_from_python,
        expected={"tf": {"float64_numpy": "float64", "python_float": "float32"},
                  "torch": {"float64_numpy": "float64", "python_float": "float32"}},
        snippet_tf="tf.constant(np.array([0.1])).dtype  # float64",
        snippet_torch="torch.tensor(np.array([0.1])).dtype  # float64",
        evidence="tf.constant docs; torch.tensor docs (NumPy dtype preserved).",
    ),
    KnownDifference(
        id="missing-zero-grad", area="gradients",
        title="Without zero_grad() PyTorch adds each backward() into .grad; a fresh GradientTape starts from zero",
        tf="Each GradientTape computes fresh gradients; Keras applies exactly them: w = 1 -> 0.8 -> 0.64.",
        torch="backward() accumulates into .grad: the 2nd step uses 2 + 1.6 = 3.6, so w = 1 -> 0.8 -> 0.44.",
        mapping="optimizer.zero_grad() (or zero_grad(set_to_none=True)) before each backward().",
        witness=gotchas.zero_grad, atol=1e-6,  # float32 SGD arithmetic: 0.44 is 0.44000003 in float32
        expected={"tf": {"fresh_tape": {"grads": [2.0, 1.6], "w": 0.64}},
                  "torch": {"with_zero_grad": {"grads": [2.0, 1.6], "w": 0.64},
                            "without_zero_grad": {"grads": [2.0, 3.6], "w": 0.44}}},
        snippet_tf="with tf.GradientTape() as tape:\n    loss = w * w\n"
                   "opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))",
        snippet_torch="opt.zero_grad()  # forget this and .grad keeps the previous step's gradient\n"
                      "(w * w).backward()\nopt.step()",
        evidence="torch.Tensor.backward docs ('gradients are accumulated in the leaves'); torch.optim.Optimizer."
                 "zero_grad docs; tf.GradientTape docs.", gotcha=True,
    ),
    KnownDifference(
        id="tf-function-retracing", area="modes",
        title="tf.function retraces for every new Python scalar value; torch runs the Python body on every call",
        tf="A tf.function traces its Python body once per new Python argument value (3 floats: 3 traces) but once per "
           "dtype/shape for tensors (3 scalar tensors: 1 trace; a new shape: 1 more). Graph and eager values match.",
        torch="Eager modules run forward() every call (3 calls: 3 runs); torch.fx.symbolic_trace runs it once and "
              "replays the graph with the eager values.",
        mapping="Pass tensors, not Python numbers, into tf.function (or reduce_retracing=True).",
        witness=gotchas.retracing,
        expected={"tf": {"traces_python_scalars": 3, "traces_tensors": 1, "traces_after_new_shape": 2,
                         "graph_equals_eager": True},
                  "torch": {"eager_body_runs": 3, "fx_trace_body_runs": 1, "fx_replay_body_runs": 0,
                            "fx_graph_equals_eager": True}},
        snippet_tf="f = tf.function(lambda x: x * 2.0)\nf(1.0); f(2.0)  # two traces\nf(tf.constant(1.0)); "
                   "f(tf.constant(2.0))  # one",
        snippet_torch="m = Affine(); m(torch.tensor(1.0))  # eager: forward() runs each call\n"
                      "g = torch.fx.symbolic_trace(m)  # forward() runs once",
        evidence="TF guide 'Better performance with tf.function' (Rules of tracing: Python scalars are part of the "
                 "trace key); torch.fx docs.", gotcha=True,
    ),
    KnownDifference(
        id="layer-call-training-mode", area="modes",
        title="Calling a layer directly: torch modules start in training mode, Keras layers run in inference mode",
        tf="Dropout(0.5)(x) is the identity and BatchNormalization uses its moving statistics unless training=True "
           "(fit() passes it).",
        torch="A new module has .training = True: Dropout zeroes/scales (values {0, 2}) and BatchNorm normalises with "
              "the batch until module.eval().",
        mapping="model.eval() <-> training=False (the Keras default outside fit); model.train() <-> training=True.",
        witness=gotchas.train_eval_mode, atol=1e-6,  # BatchNorm outputs: float32 rsqrt, a few ulp
        expected={"tf": {"dropout_values": [1.0], "dropout_values_training": [0.0, 2.0],
                         "batchnorm": [0.9995004, 2.9985013], "batchnorm_training": [-0.9995004, 0.9995005]},
                  "torch": {"starts_in_training_mode": True, "dropout_values": [0.0, 2.0],
                            "batchnorm": [-0.999995, 0.999995], "dropout_values_eval": [1.0],
                            "batchnorm_eval": [0.7627667, 2.6696832]}},
        snippet_tf="keras.layers.Dropout(0.5)(x)  # identity\nkeras.layers.Dropout(0.5)(x, training=True)",
        snippet_torch="drop = torch.nn.Dropout(0.5)  # drop.training is True\ndrop.eval(); drop(x)  # identity",
        evidence="torch nn.Module.train/eval docs; Keras Layer docs ('training' argument; BatchNormalization "
                 "'During inference ... uses a moving average').", gotcha=True,
    ),
    KnownDifference(
        id="inplace-op-under-autograd", area="gradients",
        title="In-place edits of a tensor autograd saved: PyTorch errors at backward(); TF has no in-place tensor ops",
        tf="Tensors are immutable (item assignment: TypeError). A Variable assigned after use inside a tape leaves the "
           "gradient at the value read when the op ran: d(sum v*v)/dv = [2, 4] although v is now [2, 3].",
        torch="b.add_(1) bumps b's version counter (0 -> 1); backward() through y = b * b then raises RuntimeError "
              "'... modified by an inplace operation'.",
        mapping="Use out-of-place ops (b = b + 1) on tensors autograd needs, or .clone() before editing.",
        witness=gotchas.inplace_autograd,
        expected={"tf": {"item_assignment": "TypeError", "grad_after_assign": [2.0, 4.0], "variable_now": [2.0, 3.0]},
                  "torch": {"version_before": 0, "version_after": 1, "backward": "modified by an inplace operation"}},
        snippet_tf="v = tf.Variable([1.0, 2.0])\nwith tf.GradientTape() as tape:\n    z = tf.reduce_sum(v * v)\n"
                   "    v.assign_add([1.0, 1.0])\ntape.gradient(z, v)  # [2, 4]",
        snippet_torch="b = a * 1.0; y = (b * b).sum()\nb.add_(1.0)\ny.backward()  # RuntimeError",
        evidence="torch autograd mechanics docs ('In-place correctness checks', version counters); TF guide "
                 "'Introduction to Tensors' (immutability).", gotcha=True,
    ),
    KnownDifference(
        id="lazy-weight-creation", area="modes",
        title="Keras creates a layer's weights at its first call (build); torch modules create them in __init__",
        tf="Dense(3) has no weights until it sees an input (or build(shape)); then kernel (2, 3) and bias (3,).",
        torch="nn.Linear(2, 3) needs in_features and owns weight (3, 2) and bias (3,) at once (nn.LazyLinear defers).",
        mapping="Build the Keras model (model.build / one call / keras.Input) before set_weights; transpose Dense "
                "kernels to Linear weights.",
        witness=_lazy_weights,
        expected={"tf": {"weights_before_call": 0, "weights_after_call": [[2, 3], [3]]},
                  "torch": {"weights_at_construction": [[3, 2], [3]]}},
        snippet_tf="d = keras.layers.Dense(3); d.weights  # []\nd(np.ones((1, 2))); d.kernel.shape  # (2, 3)",
        snippet_torch="torch.nn.Linear(2, 3).weight.shape  # (3, 2)",
        evidence="Keras guide 'Making new layers and models via subclassing' (deferred weight creation in build()); "
                 "torch.nn.Linear docs.",
    ),
    KnownDifference(
        id="bn-param-count-buffers", area="layer-defaults",
        title="Parameter counts: Keras counts BatchNorm's moving statistics, torch.parameters() does not",
        tf="BatchNormalization(4).count_params() is 16: gamma, beta (trainable) + moving mean/variance "
           "(non-trainable).",
        torch="BatchNorm1d(4) has 8 parameters; running_mean/var and num_batches_tracked are buffers (9 values, in "
              "state_dict but not parameters()).",
        mapping="Compare Keras trainable weights with torch parameters(), Keras non-trainable weights with buffers "
                "(minus num_batches_tracked).",
        witness=_bn_counts,
        expected={"tf": {"count_params": 16, "trainable": 8},
                  "torch": {"parameters": 8, "buffers": 9,
                            "state_dict_keys": ["bias", "num_batches_tracked", "running_mean", "running_var",
                                                "weight"]}},
        snippet_tf="bn = keras.layers.BatchNormalization(); bn.build((None, 4)); bn.count_params()  # 16",
        snippet_torch="sum(p.numel() for p in torch.nn.BatchNorm1d(4).parameters())  # 8",
        evidence="keras Layer.count_params docs (all weights); torch nn.Module.register_buffer docs (buffers are "
                 "not parameters); model.summary() vs sum(p.numel()).",
    ),
    KnownDifference(
        id="frozen-batchnorm-mode", area="modes",
        title="Freezing BatchNorm: Keras trainable=False also switches it to inference; torch requires_grad_(False) "
              "does not",
        tf="bn.trainable = False makes BatchNormalization use its moving statistics even when called with "
           "training=True (x / sqrt(1 + 1e-3) on fresh statistics), and stops their update.",
        torch="requires_grad_(False) only stops gradients: in train() mode BatchNorm still normalises with batch "
              "statistics ([-1, 1]) and updates running stats; call .eval() to freeze it.",
        mapping="Keras trainable=False <-> torch bn.eval() plus requires_grad_(False).",
        witness=_frozen_batchnorm, atol=1e-6,  # float32 rsqrt: 1 ulp observed
        expected={"tf": [0.9995004, 2.9985013], "torch": [-0.999995, 0.999995]},
        snippet_tf="bn.trainable = False\nbn(x, training=True)  # still inference mode",
        snippet_torch="bn.requires_grad_(False)\nbn.eval()  # needed as well to use running statistics",
        evidence="Keras BatchNormalization docs ('About setting layer.trainable = False on a BatchNormalization "
                 "layer'); torch nn.Module.eval docs.", gotcha=True,
    ),
    KnownDifference(
        id="integer-tensor-gradient", area="gradients",
        title="Gradients w.r.t. integer tensors: TF silently returns None, torch refuses to track them",
        tf="tape.gradient(y, int_variable) is None (with a logged warning): integer tensors are not differentiable.",
        torch="torch.tensor([1, 2]).requires_grad_() raises RuntimeError: only floating point tensors can require "
              "gradients.",
        mapping="Make trainable values floating point on both sides.",
        witness=_integer_gradient, expected={"tf": None, "torch": "RuntimeError"},
        snippet_tf="v = tf.Variable([1, 2])\nwith tf.GradientTape() as tape:\n    y = tf.reduce_sum(v * v)\n"
                   "tape.gradient(y, v)  # None",
        snippet_torch="torch.tensor([1, 2]).requires_grad_()  # RuntimeError",
        evidence="tf.GradientTape docs ('gradients of integer tensors are None'); torch autograd docs (only "
                 "floating point and complex tensors can require gradients).",
    ),
]
