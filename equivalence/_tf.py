"""Spec -> Keras 3 model (Sequential for a linear spec, Functional for a DAG), as a Keras user writes it by hand.

Every parameter whose default differs between the frameworks is passed explicitly from the spec.
"""
from __future__ import annotations

from . import _runtime
from .spec import INPUT, LayerSpec, ModelSpec


def activation(name: str, *, negative_slope: float = 0.2, alpha: float = 1.0):
    """The Keras activation for a neutral name (None for 'linear'); parameters are explicit, never defaulted."""
    keras = _runtime.keras()
    act = keras.activations
    table = {
        "linear": None, "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax",
        "selu": "selu", "silu": "silu",
        "gelu": lambda x: act.gelu(x, approximate=False),
        "gelu_tanh": lambda x: act.gelu(x, approximate=True),
        "leaky_relu": lambda x: act.leaky_relu(x, negative_slope=negative_slope),
        "elu": lambda x: act.elu(x, alpha=alpha),
    }
    return table[name]


def keras_layer(l: LayerSpec):
    """One Keras layer for one LayerSpec, named after it."""
    L, p, kw = _runtime.keras().layers, l.params, {"name": l.name}
    k = l.kind
    if k == "dense":
        return L.Dense(p["units"], activation=activation(p["activation"]), use_bias=p["use_bias"], **kw)
    if k in ("conv1d", "conv2d"):
        cls = L.Conv1D if k == "conv1d" else L.Conv2D
        return cls(p["filters"], p["kernel_size"], strides=p["strides"], padding=p["padding"],
                   dilation_rate=p["dilation"], groups=p["groups"], activation=activation(p["activation"]),
                   use_bias=p["use_bias"], **kw)
    if k in ("max_pool2d", "avg_pool2d"):
        cls = L.MaxPooling2D if k == "max_pool2d" else L.AveragePooling2D
        return cls(pool_size=p["pool_size"], strides=p["strides"], padding=p["padding"], **kw)
    simple = {"global_avg_pool2d": L.GlobalAveragePooling2D, "flatten": L.Flatten, "add": L.Add}
    if k in simple:
        return simple[k](**kw)
    if k == "concat":
        return L.Concatenate(axis=-1, **kw)
    if k == "batch_norm":
        return L.BatchNormalization(momentum=p["momentum"], epsilon=p["epsilon"], **kw)
    if k == "layer_norm":
        return L.LayerNormalization(axis=-1, epsilon=p["epsilon"], **kw)
    if k == "dropout":
        return L.Dropout(p["rate"], **kw)
    if k == "embedding":
        return L.Embedding(p["input_dim"], p["output_dim"], **kw)
    if k == "lstm":
        return L.LSTM(p["units"], return_sequences=p["return_sequences"], **kw)
    if k == "gru":
        return L.GRU(p["units"], return_sequences=p["return_sequences"], reset_after=p["reset_after"], **kw)
    fn = activation(p["fn"], negative_slope=p["negative_slope"], alpha=p["alpha"])
    return L.Activation(fn or "linear", **kw)


def build_keras(spec: ModelSpec):
    """A Keras model for `spec`: Sequential when every layer reads the previous one, Functional otherwise."""
    keras = _runtime.keras()
    inp = keras.Input(shape=spec.input_shape, dtype=spec.input_dtype, name="input")
    if spec.is_linear:
        return keras.Sequential([inp] + [keras_layer(l) for l in spec.layers], name=spec.name)
    nodes = {INPUT: inp}
    for l in spec.layers:
        args = [nodes[s] for s in spec.sources(l)]
        nodes[l.name] = keras_layer(l)(args if l.kind in ("add", "concat") else args[0])
    return keras.Model(inp, nodes[spec.layers[-1].name], name=spec.name)
