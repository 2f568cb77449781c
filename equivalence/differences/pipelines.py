"""Known differences of area data-pipelines: what feeding data to each framework does (see __init__.py)."""
from __future__ import annotations

import inspect

import numpy as np

from .. import gotchas
from ..runtime import keras, tf, torch
from ..tolerances import dtype_name
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import dtype_of, dtype_or_error

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _numpy_into_module():
    t, k = torch(), keras()
    x = np.ones((1, 2), np.float32)
    return {"tf": dtype_of(k.layers.Dense(2)(x)), "torch": dtype_or_error(lambda: t.nn.Linear(2, 2)(x))}


ENTRIES.add(KnownDifference(
    id="numpy-input-to-model",
    area="data-pipelines",
    title="NumPy arrays can be fed to Keras layers and models directly, not to torch modules",
    tf="Keras layers and Model.predict/fit accept NumPy arrays and convert them.",
    torch="nn.Module calls need tensors: nn.Linear(2, 2)(ndarray) raises TypeError.",
    witness=_numpy_into_module,
    expected={"tf": "float32", "torch": "TypeError"},
    snippet_tf="keras.layers.Dense(2)(np.ones((1, 2), np.float32))",
    snippet_torch="torch.nn.Linear(2, 2)(torch.from_numpy(np.ones((1, 2), np.float32)))",
    evidence="keras Layer.__call__ converts array-likes (keras/src/layers/layer.py); torch.nn.functional.linear "
             "signature requires Tensor.",
    mapping="torch.from_numpy(x) (shares memory) or torch.as_tensor(x) before the call.",
))


def _collate_dtypes():
    tf_, collate = tf(), torch().utils.data.default_collate
    spec = lambda v: dtype_name(tf_.data.Dataset.from_tensor_slices(v).element_spec.dtype)  # noqa: E731
    return {"tf": {"floats": spec([0.5, 1.5]), "ints": spec([1, 2])},
            "torch": {"floats": dtype_of(collate([0.5, 1.5])), "ints": dtype_of(collate([1, 2]))}}


ENTRIES.add(KnownDifference(
    id="collate-python-scalar-dtype",
    area="data-pipelines",
    title="Batches of Python floats/ints: DataLoader collates to float64/int64, tf.data to float32/int32",
    tf="tf.data.Dataset.from_tensor_slices([0.5, 1.5]) yields float32; Python ints yield int32.",
    torch="DataLoader's default_collate turns Python floats into a float64 tensor and ints into int64.",
    witness=_collate_dtypes,
    expected={"tf": {"floats": "float32", "ints": "int32"}, "torch": {"floats": "float64", "ints": "int64"}},
    snippet_tf="tf.data.Dataset.from_tensor_slices([0.5, 1.5]).element_spec.dtype  # float32",
    snippet_torch="torch.utils.data.default_collate([0.5, 1.5]).dtype  # float64",
    evidence="torch/utils/data/_utils/collate.py (collate_float_fn: torch.tensor(batch, dtype=torch.float64)); "
             "tf.data from_tensor_slices converts with tf.constant rules.",
    mapping="Store data as float32 NumPy arrays (both keep the array dtype), or pass a collate_fn.",
))


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


ENTRIES.add(KnownDifference(
    id="fit-vs-dataloader-defaults",
    area="data-pipelines",
    title="Keras fit() shuffles and batches by 32 by default; a DataLoader neither shuffles nor batches",
    tf="Model.fit(shuffle=True, batch_size=None -> 32): 100 samples are 4 steps of 32, 32, 32, 4, in a shuffled "
       "order (a new one every epoch).",
    torch="DataLoader(shuffle=None -> SequentialSampler, batch_size=1): 100 samples are 100 batches of 1, in order.",
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
    mapping="fit(..., shuffle=False, batch_size=B) and DataLoader(..., batch_size=B) to compare step by step.",
))


ENTRIES.add(KnownDifference(
    id="partial-last-batch",
    area="data-pipelines",
    title="Both keep the partial last batch by default; drop_remainder=True and drop_last=True drop it",
    tf="Dataset.range(10).batch(4): sizes [4, 4, 2]; batch(4, drop_remainder=True): [4, 4].",
    torch="DataLoader(range(10), batch_size=4): sizes [4, 4, 2]; drop_last=True: [4, 4].",
    witness=gotchas.batching,
    expected={"tf": {"sizes": [4, 4, 2], "sizes_drop_remainder": [4, 4], "cardinality": 3},
              "torch": {"sizes": [4, 4, 2], "sizes_drop_last": [4, 4], "len": 3}},
    snippet_tf="tf.data.Dataset.range(10).batch(4, drop_remainder=True)",
    snippet_torch="torch.utils.data.DataLoader(range(10), batch_size=4, drop_last=True)",
    evidence="tf.data.Dataset.batch docs (drop_remainder=False); torch DataLoader docs (drop_last=False).",
    mapping="drop_remainder (tf.data) <-> drop_last (DataLoader). The frameworks agree; this entry pins it.",
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="shuffle-buffer-vs-permutation",
    area="data-pipelines",
    title="tf.data shuffles through a finite buffer; DataLoader(shuffle=True) draws a full permutation",
    tf="Dataset.shuffle(buffer_size) picks each element from a buffer: buffer_size=1 does not shuffle and a small "
       "buffer only shuffles locally. Reshuffled each epoch (reshuffle_each_iteration=True).",
    torch="RandomSampler draws a uniform permutation of the whole dataset every epoch.",
    witness=gotchas.shuffling,
    # tf orders also depend on the global seed, which observe() derives from this entry's id
    expected={"tf": {"buffer_1": [0, 1, 2, 3, 4, 5, 6, 7], "buffer_2": [1, 2, 0, 4, 3, 6, 5, 7],
                     "full_buffer_two_epochs": [[1, 7, 4, 5, 6, 2, 3, 0], [0, 1, 4, 5, 3, 7, 6, 2]]},
              "torch": {"two_epochs": [[5, 3, 1, 7, 2, 6, 4, 0], [2, 0, 5, 6, 4, 1, 3, 7]]}},
    snippet_tf="tf.data.Dataset.range(8).shuffle(buffer_size=8, seed=0)",
    snippet_torch="DataLoader(range(8), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))",
    evidence="tf.data.Dataset.shuffle docs ('fills a buffer with buffer_size elements, then randomly samples'); "
             "torch.utils.data.RandomSampler (torch.randperm).",
    mapping="shuffle(buffer_size=len(dataset)) is a full shuffle; orders never match across frameworks "
            "(different RNGs): compare with shuffling off.",
    gotcha=True,
))
