"""Spec-built model pairs: one spec -> a Keras model and a torch module holding ONE canonical weight set.

    >>> pair = build_pair(seed_models()["seed_mlp"], seed=0)
    >>> x = pair.sample_input(seed=1)
    >>> assert_forward_equivalent(pair.forward_tf(x), pair.forward_torch(x), pair.reference(x), tol=pair.tolerance(x), ...)

How far a pair's outputs may be off: `Pair.tolerance`, from equivalence.model_tolerance (the rule, derived there).
The models the suite ships and their golden fixtures: equivalence.zoo.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import error_bounds, reference
from .model_tolerance import accumulation_depth, error_scale
from .spec import INPUT, ModelSpec
from .tolerances import Tolerance, tolerance
from .weights import Weights, init_weights, load_keras, load_torch, read_keras, read_torch


@dataclasses.dataclass(eq=False)
class Pair:
    """A Keras model and a torch module built from one spec and loaded with the same canonical weights."""

    spec: ModelSpec
    keras: Any
    torch: Any
    weights: Weights

    def __repr__(self):
        return f"Pair<{self.spec.name}>"

    def forward_tf(self, x, training: bool = False) -> np.ndarray:
        """Keras forward on canonical (channels-last) input, on the CPU."""
        from .sides import side

        return side("tf-cpu").forward(self.keras, self.spec, x, training)

    def forward_torch(self, x, training: bool = False) -> np.ndarray:
        """torch forward on canonical input (the side converts to NCHW / int64 ids and back), on the CPU."""
        from .sides import side

        return side("torch-cpu").forward(self.torch, self.spec, x, training)

    def trace(self, x, training: bool = False) -> dict[str, np.ndarray] | None:
        """Every node's float64 reference value, or None."""
        return reference.trace(self.spec, self.weights, x, training=training)

    def reference(self, x, training: bool = False) -> np.ndarray | None:
        """float64 NumPy forward (None where no deterministic reference exists, e.g. training-mode dropout)."""
        return reference.forward(self.spec, self.weights, x, training=training)

    def sample_input(self, seed: int, batch: int = 4) -> np.ndarray:
        """A deterministic input batch: N(0, 1) float32, or token ids below the embedding's input_dim; where the
        embedding masks id 0 (mask_zero), right-padded rows of 1 to T ids >= 1 (torch packs them by length)."""
        rng = np.random.default_rng(seed)
        shape = (batch, *self.spec.input_shape)
        if self.spec.input_dtype == "int32":
            first = self.spec.layers[0]
            if not first.params.get("mask_zero"):
                return rng.integers(0, first["input_dim"], shape).astype(np.int32)
            ids = rng.integers(1, first["input_dim"], shape)
            lengths = rng.integers(1, shape[1] + 1, batch)
            return np.where(np.arange(shape[1]) < lengths[:, None], ids, 0).astype(np.int32)
        return rng.standard_normal(shape).astype(np.float32)

    def tolerance(self, x, training: bool = False, values: dict | None = None) -> Tolerance:
        """Per element (an ElementBound) where every layer has a per-element rule, else the scalar rule (see the
        module docstring). `values`: the reference trace, if already computed."""
        values = values if values is not None else self.trace(x, training)
        bounds = None if values is None else error_bounds.node_bounds(self.spec, self.weights, values, training)
        if bounds is not None:
            b = bounds[self.spec.layers[-1].name]
            return error_bounds.ElementBound(float(b.max()), 0.0, "per-node float32 error propagation", bound=b)
        if values is None:  # no reference (training-mode dropout): the input's magnitude
            scale = float(np.abs(np.asarray(x, np.float64)).max())
        else:
            scale = error_scale(self.spec, self.weights, values, training)
        depth = accumulation_depth(self.spec, batch=len(x))
        return tolerance("float32", depth=depth, scale=scale,
                         reason=f"model rule: float32 depth=(sum sqrt K_l)^2={depth} error scale S={scale:.3g}")

    def read_weights(self) -> dict[str, Weights]:
        """Canonical weights read back out of both models: {'tf': ..., 'torch': ...}."""
        return {"tf": read_keras(self.keras, self.spec), "torch": read_torch(self.torch, self.spec)}

    def describe(self) -> str:
        """The spec, one layer a line, for failure messages."""
        shapes = self.spec.shapes
        lines = [f"  spec {self.spec.name}: input {shapes[INPUT]} {self.spec.input_dtype}"]
        lines += [f"    {l!r} -> {shapes[l.name]}" for l in self.spec.layers]
        return "\n".join(lines)


def build_pair(spec: ModelSpec, seed: int = 0, weights: Weights | None = None) -> Pair:
    """Build both models from `spec` and load one canonical weight set (from `seed` unless given) into both."""
    from .sides.keras_models import build_keras
    from .sides.torch_models import build_torch

    weights = init_weights(spec, seed) if weights is None else weights
    keras_model, torch_module = build_keras(spec), build_torch(spec)
    load_keras(keras_model, spec, weights)
    load_torch(torch_module, spec, weights)
    return Pair(spec, keras_model, torch_module, weights)


__all__ = ["Pair", "build_pair"]
