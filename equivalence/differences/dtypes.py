"""Known differences of area dtypes: default dtypes, promotion and dtype switches (see __init__.py)."""
from __future__ import annotations

import numpy as np

from ..runtime import keras, tf, torch
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import child_env, dtype_of, dtype_or_error

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _python_int_dtype():
    return {"tf": dtype_of(tf().constant([1, 2])), "torch": dtype_of(torch().tensor([1, 2]))}


ENTRIES.add(KnownDifference(
    id="python-int-default-dtype",
    area="dtypes",
    title="A list of Python ints becomes int32 in TensorFlow but int64 in PyTorch",
    tf="tf.constant([1, 2]) is int32 (Keras' keras.ops.convert_to_tensor also gives int32).",
    torch="torch.tensor([1, 2]) is int64 (torch.long), the dtype torch indexing and losses expect.",
    witness=_python_int_dtype,
    expected={"tf": "int32", "torch": "int64"},
    snippet_tf="tf.constant([1, 2]).dtype",
    snippet_torch="torch.tensor([1, 2]).dtype",
    evidence="tf.constant docs (dtype inferred: Python int -> int32); torch.tensor docs and "
             "torch/csrc/utils/tensor_new.cpp (Python int -> torch.int64).",
    mapping="Pass the dtype explicitly on both sides (tf.constant(v, tf.int64) / "
            "torch.tensor(v, dtype=torch.int64)).",
))


def _int_float_mix():
    t, tf_ = torch(), tf()
    a, b = tf_.constant([1, 2], tf_.int32), tf_.constant([0.5, 0.5])
    return {"tf": {"tf": dtype_or_error(lambda: a + b), "keras.ops": dtype_or_error(lambda: keras().ops.add(a, b))},
            "torch": dtype_or_error(lambda: t.tensor([1, 2], dtype=t.int32) + t.tensor([0.5, 0.5]))}


ENTRIES.add(KnownDifference(
    id="int-float-tensor-mix",
    area="dtypes",
    title="Adding an int32 tensor to a float32 tensor: PyTorch promotes, TensorFlow raises",
    tf="tf ops never promote between tensors: int32 + float32 raises InvalidArgumentError (keras.ops.add "
       "promotes to float32, like torch).",
    torch="PyTorch applies type promotion: int32 + float32 -> float32.",
    witness=_int_float_mix,
    expected={"tf": {"tf": "InvalidArgumentError", "keras.ops": "float32"}, "torch": "float32"},
    snippet_tf="tf.constant([1, 2], tf.int32) + tf.constant([0.5, 0.5])  # InvalidArgumentError",
    snippet_torch="torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([0.5, 0.5])  # float32",
    evidence="torch docs 'Tensor Attributes: Type promotion'; TF guide 'Tensors' (no implicit casting between "
             "tensor dtypes); tf.experimental.numpy.experimental_enable_numpy_behavior is opt-in.",
    mapping="Cast first: tf.cast(a, tf.float32) + b (keras.ops.add promotes like torch).",
))


def _python_float_into_int():
    t, tf_ = torch(), tf()
    out = t.tensor([1, 2], dtype=t.int32) + 0.5
    return {"tf": dtype_or_error(lambda: tf_.constant([1, 2], tf_.int32) + 0.5), "torch": [dtype_of(out), out.tolist()]}


ENTRIES.add(KnownDifference(
    id="python-float-into-int-tensor",
    area="dtypes",
    title="int32 tensor + 0.5: PyTorch promotes to float32, TensorFlow raises",
    tf="A Python float is converted to the int32 tensor's dtype, which fails: InvalidArgumentError.",
    torch="A Python float operand makes the result the default float dtype: [1.5, 2.5] float32.",
    witness=_python_float_into_int,
    expected={"tf": "InvalidArgumentError", "torch": ["float32", [1.5, 2.5]]},
    snippet_tf="tf.constant([1, 2], tf.int32) + 0.5  # InvalidArgumentError",
    snippet_torch="torch.tensor([1, 2], dtype=torch.int32) + 0.5  # tensor([1.5, 2.5])",
    evidence="torch docs 'Type promotion' (a Python scalar of a higher category promotes to the default "
             "dtype); TF tensor_conversion: Python scalars take the other operand's dtype.",
    mapping="Cast the integer tensor to float first on the TF side.",
))


def _numpy_float64_promotion():
    t, tf_ = torch(), tf()
    arr, scalar = np.array([2.0, 4.0]), np.float64(2.0)
    return {"tf": {"array": dtype_of(tf_.ones(2) * arr), "scalar": dtype_of(tf_.ones(2) * scalar)},
            "torch": {"array": dtype_of(t.ones(2) * t.as_tensor(arr)), "scalar": dtype_of(t.ones(2) * scalar)}}


ENTRIES.add(KnownDifference(
    id="numpy-float64-array-promotion",
    area="dtypes",
    title="float32 tensor * float64 NumPy array: float64 in PyTorch, float32 in TensorFlow",
    tf="TF converts the NumPy operand to the tensor's dtype: float32 * float64 array -> float32 (scalar too).",
    torch="torch.as_tensor keeps float64 and promotion gives float64; a NumPy float64 *scalar* acts like a "
          "Python float and keeps float32.",
    witness=_numpy_float64_promotion,
    expected={"tf": {"array": "float32", "scalar": "float32"}, "torch": {"array": "float64", "scalar": "float32"}},
    snippet_tf="(tf.ones(2) * np.array([2.0, 4.0])).dtype  # float32",
    snippet_torch="(torch.ones(2) * torch.as_tensor(np.array([2.0, 4.0]))).dtype  # float64",
    evidence="torch docs 'Type promotion' (tensors of the same category promote to the wider dtype; "
             "zero-dim NumPy scalars are treated like Python scalars); TF convert_to_tensor dtype_hint.",
    mapping="Convert NumPy data with an explicit dtype (np.float32 / torch.from_numpy(a).float()).",
))


def _int_mean():
    t, tf_ = torch(), tf()
    m, km = tf_.reduce_mean(tf_.constant([1, 2])), keras().ops.mean(tf_.constant([1, 2]))
    return {"tf": {"tf": [dtype_of(m), int(m)], "keras.ops": [dtype_of(km), float(km)]},
            "torch": dtype_or_error(lambda: t.mean(t.tensor([1, 2])))}


ENTRIES.add(KnownDifference(
    id="integer-mean",
    area="dtypes",
    title="Mean of an integer tensor: TensorFlow truncates to an integer, PyTorch refuses",
    tf="tf.reduce_mean([1, 2]) is 1: integer division of the sum, in the input dtype (keras.ops.mean gives 1.5).",
    torch="torch.mean on an integer tensor raises RuntimeError (needs a floating dtype).",
    witness=_int_mean,
    expected={"tf": {"tf": ["int32", 1], "keras.ops": ["float32", 1.5]}, "torch": "RuntimeError"},
    snippet_tf="tf.reduce_mean(tf.constant([1, 2]))  # 1",
    snippet_torch="torch.mean(torch.tensor([1, 2]))  # RuntimeError",
    evidence="tf.math.reduce_mean docs (output has the input dtype; the docs warn about integer inputs); "
             "torch.mean docs (input must be floating point or complex).",
    mapping="Cast to float first on both sides (keras.ops.mean also returns a float).",
))


def _bool_arithmetic():
    t, tf_ = torch(), tf()
    both = t.tensor([True, True])
    return {"tf": {"add": dtype_or_error(lambda: tf_.constant([True]) + tf_.constant([True])),
                   "sum": dtype_or_error(lambda: tf_.reduce_sum(tf_.constant([True, True])))},
            "torch": {"add": (both + both).tolist(), "sum": [dtype_of(both.sum()), int(both.sum())]}}


ENTRIES.add(KnownDifference(
    id="bool-arithmetic",
    area="dtypes",
    title="Arithmetic on bool tensors: PyTorch allows it (True + True is True, sum counts), TensorFlow raises",
    tf="tf.add and tf.reduce_sum reject bool tensors (InvalidArgumentError); cast to int first.",
    torch="bool + bool stays bool (logical or); bool.sum() counts the Trues as int64.",
    witness=_bool_arithmetic,
    expected={"tf": {"add": "InvalidArgumentError", "sum": "InvalidArgumentError"},
              "torch": {"add": [True, True], "sum": ["int64", 2]}},
    snippet_tf="tf.reduce_sum(tf.cast(mask, tf.int32))  # tf.reduce_sum(mask) raises",
    snippet_torch="mask.sum()  # counts Trues; mask + mask is a logical or",
    evidence="TF op registrations (AddV2/Sum type constraints exclude bool); torch docs 'Type promotion' "
             "(bool + bool -> bool) and torch.sum docs (bool promoted to int64).",
    mapping="Cast to an integer dtype before arithmetic on both sides.",
))


def _float64_into_layer():
    t, k = torch(), keras()
    x = np.ones((1, 2))  # numpy's default float64
    return {"tf": dtype_of(k.layers.Dense(2)(x)), "torch": dtype_or_error(lambda: t.nn.Linear(2, 2)(t.from_numpy(x)))}


ENTRIES.add(KnownDifference(
    id="float64-input-to-layer",
    area="dtypes",
    title="float64 input to a float32 layer: Keras casts it, PyTorch raises",
    tf="Keras layers autocast floating inputs to the layer's compute dtype (float32): "
       "Dense(2)(np.ones((1, 2))) works.",
    torch="nn.Linear has float32 weights and raises RuntimeError on a float64 input (mat1 and mat2 dtypes).",
    witness=_float64_into_layer,
    expected={"tf": "float32", "torch": "RuntimeError"},
    snippet_tf="keras.layers.Dense(2)(np.ones((1, 2)))  # float32 output",
    snippet_torch="torch.nn.Linear(2, 2)(torch.from_numpy(np.ones((1, 2))))  # RuntimeError",
    evidence="keras Layer docs (autocast: 'inputs are cast to the layer's compute dtype'); torch matmul dtype "
             "check in aten (no implicit casting inside modules).",
    mapping="Feed float32 (x.astype(np.float32), torch.from_numpy(x).float()), or .double() the torch module.",
))


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
    import subprocess
    import sys

    env = child_env(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"user script exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _global_float_dtype():
    out = run_user_script(GLOBAL_FLOAT_SNIPPET)
    strip = lambda d: {k: v.removeprefix("torch.") for k, v in d.items()}  # noqa: E731
    return {"tf": out["tf"], "torch": {step: strip(d) for step, d in out["torch"].items()}}


ENTRIES.add(KnownDifference(
    id="global-float-dtype-switch",
    area="dtypes",
    title="Switching the global float dtype reaches different places in each framework, and Keras only once",
    tf="In a fresh program keras.config.set_floatx('float64') changes keras.ops.ones and new layers "
       "(Dense(1).compute_dtype float64) but not tf.constant(1.0) (float32). Layers follow the global dtype "
       "policy, which Keras fixes from floatx the first time anything reads it (the first layer built), so a later "
       "set_floatx('float32') changes keras.ops.ones back but new layers stay float64 "
       "(keras.config.set_dtype_policy reaches them).",
    torch="torch.set_default_dtype(torch.float64) changes torch.tensor(1.0), torch.ones and new module weights; "
          "setting float32 again changes them all back.",
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
             "GLOBAL_FLOAT_SNIPPET (equivalence/differences/dtypes.py) in a fresh Python process.",
    mapping="Set dtypes per tensor/layer rather than globally, or set floatx before building any layer; the suite "
            "restores both settings after every test.",
    gotcha=True,
))


def _variable_dtype_from_python():
    t, tf_ = torch(), tf()
    return {"tf": {"float64_numpy": dtype_of(tf_.constant(np.array([0.1]))),
                   "python_float": dtype_of(tf_.constant([0.1]))},
            "torch": {"float64_numpy": dtype_of(t.tensor(np.array([0.1]))), "python_float": dtype_of(t.tensor([0.1]))}}


ENTRIES.add(KnownDifference(
    id="float64-numpy-conversion",
    area="dtypes",
    title="Converting NumPy float64 data keeps float64 in both; Python floats become float32 in both",
    tf="tf.constant(np.array([0.1])) is float64; tf.constant([0.1]) is float32.",
    torch="torch.tensor(np.array([0.1])) is float64; torch.tensor([0.1]) is float32 (the default dtype).",
    witness=_variable_dtype_from_python,
    expected={"tf": {"float64_numpy": "float64", "python_float": "float32"},
              "torch": {"float64_numpy": "float64", "python_float": "float32"}},
    snippet_tf="tf.constant(np.array([0.1])).dtype  # float64",
    snippet_torch="torch.tensor(np.array([0.1])).dtype  # float64",
    evidence="tf.constant docs; torch.tensor docs (NumPy dtype preserved).",
    mapping="The frameworks agree; NumPy's float64 default is what surprises. Cast with np.float32 at the source.",
))
