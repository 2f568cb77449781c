"""Spec -> Keras 3 model (Sequential for a linear spec, Functional for a DAG), as a Keras user writes it by hand.

Every parameter whose default differs between the frameworks is passed explicitly from the spec; each kind's
Keras layer is its record's `keras_layer` (equivalence.layer_kinds).
"""
from __future__ import annotations

from .. import runtime
from ..layer_kinds import KINDS
from ..spec import INPUT, LayerSpec, ModelSpec


def keras_layer(spec: ModelSpec, l: LayerSpec):
    """One Keras layer for one LayerSpec, named after it (input shape taken from the spec)."""
    return KINDS[l.kind].keras_layer(l, spec.shapes[spec.sources(l)[0]])


def build_keras(spec: ModelSpec):
    """A Keras model for `spec`: Sequential when every layer reads the previous one, Functional otherwise."""
    keras = runtime.keras()
    inp = keras.Input(shape=spec.input_shape, dtype=spec.input_dtype, name="input")
    if spec.is_linear:
        return keras.Sequential([inp] + [keras_layer(spec, l) for l in spec.layers], name=spec.name)
    nodes = {INPUT: inp}
    for l in spec.layers:
        args = [nodes[s] for s in spec.sources(l)]
        nodes[l.name] = keras_layer(spec, l)(args if KINDS[l.kind].merge else args[0])
    return keras.Model(inp, nodes[spec.layers[-1].name], name=spec.name)
