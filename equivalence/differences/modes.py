"""Known differences of area modes: train/inference mode, tracing, lazy building (see __init__.py)."""
from __future__ import annotations

import numpy as np

from .. import gotchas
from ..runtime import keras, torch
from ..registry import Registry
from .entry import REGISTRY, KnownDifference

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


ENTRIES.add(KnownDifference(
    id="tf-function-retracing",
    area="modes",
    title="tf.function retraces for every new Python scalar value; torch runs the Python body on every call",
    tf="A tf.function traces its Python body once per new Python argument value (3 floats: 3 traces) but once per "
       "dtype/shape for tensors (3 scalar tensors: 1 trace; a new shape: 1 more). Graph and eager values match.",
    torch="Eager modules run forward() every call (3 calls: 3 runs); torch.fx.symbolic_trace runs it once and "
          "replays the graph with the eager values.",
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
             "trace key); torch.fx docs.",
    mapping="Pass tensors, not Python numbers, into tf.function (or reduce_retracing=True).",
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="layer-call-training-mode",
    area="modes",
    title="Calling a layer directly: torch modules start in training mode, Keras layers run in inference mode",
    tf="Dropout(0.5)(x) is the identity and BatchNormalization uses its moving statistics unless training=True "
       "(fit() passes it).",
    torch="A new module has .training = True: Dropout zeroes/scales (values {0, 2}) and BatchNorm normalises with "
          "the batch until module.eval().",
    witness=gotchas.train_eval_mode,
    expected={"tf": {"dropout_values": [1.0], "dropout_values_training": [0.0, 2.0],
                     "batchnorm": [0.9995004, 2.9985013], "batchnorm_training": [-0.9995004, 0.9995005]},
              "torch": {"starts_in_training_mode": True, "dropout_values": [0.0, 2.0],
                        "batchnorm": [-0.999995, 0.999995], "dropout_values_eval": [1.0],
                        "batchnorm_eval": [0.7627667, 2.6696832]}},
    snippet_tf="keras.layers.Dropout(0.5)(x)  # identity\nkeras.layers.Dropout(0.5)(x, training=True)",
    snippet_torch="drop = torch.nn.Dropout(0.5)  # drop.training is True\ndrop.eval(); drop(x)  # identity",
    evidence="torch nn.Module.train/eval docs; Keras Layer docs ('training' argument; BatchNormalization "
             "'During inference ... uses a moving average').",
    mapping="model.eval() <-> training=False (the Keras default outside fit); model.train() <-> training=True.",
    atol=1e-6,  # BatchNorm outputs: float32 rsqrt, a few ulp
    gotcha=True,
))


def _lazy_weights():
    t, k = torch(), keras()
    dense = k.layers.Dense(3)
    before = len(dense.weights)
    dense(np.ones((1, 2), np.float32))
    return {"tf": {"weights_before_call": before, "weights_after_call": [list(w.shape) for w in dense.weights]},
            "torch": {"weights_at_construction": [list(p.shape) for p in t.nn.Linear(2, 3).parameters()]}}


ENTRIES.add(KnownDifference(
    id="lazy-weight-creation",
    area="modes",
    title="Keras creates a layer's weights at its first call (build); torch modules create them in __init__",
    tf="Dense(3) has no weights until it sees an input (or build(shape)); then kernel (2, 3) and bias (3,).",
    torch="nn.Linear(2, 3) needs in_features and owns weight (3, 2) and bias (3,) at once (nn.LazyLinear defers).",
    witness=_lazy_weights,
    expected={"tf": {"weights_before_call": 0, "weights_after_call": [[2, 3], [3]]},
              "torch": {"weights_at_construction": [[3, 2], [3]]}},
    snippet_tf="d = keras.layers.Dense(3); d.weights  # []\nd(np.ones((1, 2))); d.kernel.shape  # (2, 3)",
    snippet_torch="torch.nn.Linear(2, 3).weight.shape  # (3, 2)",
    evidence="Keras guide 'Making new layers and models via subclassing' (deferred weight creation in build()); "
             "torch.nn.Linear docs.",
    mapping="Build the Keras model (model.build / one call / keras.Input) before set_weights; transpose Dense "
            "kernels to Linear weights.",
))


def _frozen_batchnorm():
    t, k = torch(), keras()
    x = np.array([[1.0], [3.0]], np.float32)
    bn = k.layers.BatchNormalization()
    bn.build((None, 1))
    bn.trainable = False  # since TF 2.0 this also switches the layer to inference mode
    tbn = t.nn.BatchNorm1d(1).requires_grad_(False).train()
    return {"tf": np.asarray(bn(x, training=True)).ravel(), "torch": tbn(t.from_numpy(x)).detach().ravel()}


ENTRIES.add(KnownDifference(
    id="frozen-batchnorm-mode",
    area="modes",
    title="Freezing BatchNorm: Keras trainable=False also switches it to inference; torch requires_grad_(False) "
          "does not",
    tf="bn.trainable = False makes BatchNormalization use its moving statistics even when called with "
       "training=True (x / sqrt(1 + 1e-3) on fresh statistics), and stops their update.",
    torch="requires_grad_(False) only stops gradients: in train() mode BatchNorm still normalises with batch "
          "statistics ([-1, 1]) and updates running stats; call .eval() to freeze it.",
    witness=_frozen_batchnorm,
    expected={"tf": [0.9995004, 2.9985013], "torch": [-0.999995, 0.999995]},
    snippet_tf="bn.trainable = False\nbn(x, training=True)  # still inference mode",
    snippet_torch="bn.requires_grad_(False)\nbn.eval()  # needed as well to use running statistics",
    evidence="Keras BatchNormalization docs ('About setting layer.trainable = False on a BatchNormalization "
             "layer'); torch nn.Module.eval docs.",
    mapping="Keras trainable=False <-> torch bn.eval() plus requires_grad_(False).",
    atol=1e-6,  # float32 rsqrt: 1 ulp observed
    gotcha=True,
))
