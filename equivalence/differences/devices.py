"""Known differences of area devices: where tensors live and what shares their memory (see __init__.py)."""
from __future__ import annotations

import numpy as np

from .. import gotchas
from ..runtime import tf, torch
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import dtype_or_error

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


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


ENTRIES.add(KnownDifference(
    id="numpy-memory-sharing",
    area="devices",
    title="torch.from_numpy and Tensor.numpy() share memory with NumPy; tf.constant copies",
    tf="tf.constant(a) copies: writing to a later leaves the tensor unchanged.",
    torch="torch.from_numpy(a) and t.numpy() are views of one buffer: a write on either side shows on the other.",
    witness=_memory_sharing,
    expected={"tf": {"tensor_after_numpy_write": [0.0, 0.0]},
              "torch": {"tensor_after_numpy_write": [5.0, 0.0], "numpy_after_tensor_write": [0.0, 7.0]}},
    snippet_tf="a = np.zeros(2, np.float32); t = tf.constant(a); a[0] = 5  # t is [0, 0]",
    snippet_torch="a = np.zeros(2, np.float32); t = torch.from_numpy(a); a[0] = 5  # t is [5, 0]",
    evidence="torch.from_numpy docs ('The returned tensor and ndarray share the same memory'); Tensor.numpy "
             "docs; tf.constant docs (creates a constant tensor from the value).",
    mapping="torch.tensor(a) (copies) or .clone() / .numpy().copy() when the data must not alias.",
))


def _default_device():
    t, tf_ = torch(), tf()
    tf_side = dict(gotchas.device_mismatch()["tf"], placed_on=tf_.constant(1.0).device.rsplit("/", 1)[-1])
    return {"tf": tf_side, "torch": {"placed_on": str(t.tensor(1.0).device),
                                     "cuda_request": dtype_or_error(lambda: t.zeros(1, device="cuda:0"))}}


ENTRIES.add(KnownDifference(
    id="default-device-placement",
    area="devices",
    title="Asking for a missing GPU: TensorFlow soft-places on the CPU, PyTorch raises",
    tf="Ops go to GPU:0 when one is visible, else CPU:0. Inside tf.device('/GPU:0') with no GPU the op runs on "
       "CPU:0 (soft placement, on by default); with soft placement off it raises InvalidArgumentError.",
    torch="Tensors start on the CPU unless device= says otherwise and never move implicitly; device='cuda:0' "
          "without CUDA raises (AssertionError on a CPU-only build, RuntimeError on a CUDA build with no GPU). "
          "Operands on two devices: entry device-mixing.",
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
    mapping="Pin devices explicitly (tf.device('/CPU:0'), torch.device('cpu')); turn soft placement off to make "
            "TF fail loudly. Observed on a CPU-only machine.",
    gotcha=True,
))
