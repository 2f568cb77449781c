"""Spec-built model pairs: one spec -> a Keras model and a torch module holding ONE canonical weight set.

    >>> pair = build_pair(seed_models()["seed_mlp"], seed=0)
    >>> x = pair.sample_input(seed=1)
    >>> assert_forward_equivalent(pair.forward_tf(x), pair.forward_torch(x), pair.reference(x), tol=pair.tolerance(x), ...)

Tolerance of a whole model (`Pair.tolerance`):

* Per element (`error_bounds.ElementBound`), for every spec whose layers all have a per-element rule (all but
  LSTM/GRU) and that has a reference: each node's absolute error bound is propagated through the float64 trace
  from its own inputs' magnitudes and its own accumulation depth (`error_bounds.node_bounds`), and the output is
  checked element by element (`error_bounds.assert_forward_equivalent`). Measured on the seed models (3 inputs,
  oneDNN on): TF and torch use <= 5% of their bound; TF32-rounded matmul/conv inputs, float16 softmax and every
  activation x1.0001 exceed it 6-140x (tests/meta/test_model_tolerance.py).
* Otherwise the scalar rule ``tolerances.tolerance(float32, depth=D, scale=S)`` with
  D = (sum over layers of sqrt(K_l))**2, K_l = the accumulation length of one output element of layer l
      (Dense: fan-in; Conv: kh*kw*C_in/groups; pooling: window; BatchNorm/LayerNorm: the reduced count;
      LSTM/GRU: T*(C_in + units); softmax: C; elementwise: 1), because layer errors add relatively and each layer
      contributes ~ACC_FACTOR*u*sqrt(K_l), so the per-layer terms sum to ACC_FACTOR*u*sqrt(D);
  S = max |value| over every node of the float64 reference (input and dense/conv pre-activations included:
      GELU/ELU tails cancel terms of the size of their input), propagated through the layers that cancel terms
      or amplify errors (`error_scale`: alpha of ELU/SELU; BatchNorm/LayerNorm multiply by gamma/sqrt(var+eps)):
      rounding errors scale with the magnitude of the terms summed, not with a squashed or cancelled output.
  This rule is ~2e-3 relative at the seed CNN's median output, loose enough to pass TF32 rounding; it remains for
  recurrent specs and for training-mode dropout (no reference), and for the gradient/training tests' depths.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from . import _reference, _runtime, error_bounds
from .layer_kinds import KINDS
from .spec import INPUT, ModelSpec, layer
from .tolerances import Tolerance, tolerance
from .weights import Weights, init_weights, load_keras, load_torch, read_keras, read_torch


def seed_models() -> dict[str, ModelSpec]:
    """The seed's three models, built through the spec."""
    relu = dict(activation="relu")
    return {
        "seed_mlp": ModelSpec("seed_mlp", (32,), (layer("dense", units=64, **relu), layer("dense", units=10))),
        # The Keras CIFAR-10 tutorial CNN: three 3x3 VALID convs, two max-pools, softmax head.
        "seed_cnn_keras": ModelSpec("seed_cnn_keras", (32, 32, 3), (
            layer("conv2d", filters=32, kernel_size=3, **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=64, kernel_size=3, **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=64, kernel_size=3, **relu), layer("flatten"),
            layer("dense", units=64, **relu), layer("dense", units=10, activation="softmax"))),
        # The PyTorch CIFAR-10 CNN: two padded (padding=1 == 'same') 3x3 convs, pools, logits head.
        "seed_cnn_torch": ModelSpec("seed_cnn_torch", (32, 32, 3), (
            layer("conv2d", filters=32, kernel_size=3, padding="same", **relu), layer("max_pool2d", pool_size=2),
            layer("conv2d", filters=64, kernel_size=3, padding="same", **relu), layer("max_pool2d", pool_size=2),
            layer("flatten"), layer("dense", units=64, **relu), layer("dense", units=10))),
    }


def layer_depths(spec: ModelSpec, batch: int = 4) -> dict[str, int]:
    """K_l per layer: how many terms are accumulated into one output element (each kind's `depth`; see the module
    docstring)."""
    return {l.name: max(int(KINDS[l.kind].depth(l, [spec.shapes[s] for s in spec.sources(l)], batch)), 1)
            for l in spec.layers}


def error_scale(spec: ModelSpec, weights: Weights, values: dict, training: bool = False) -> float:
    """S: the magnitude that float32 rounding errors are proportional to, propagated from the input to the output.

    Per node, E = max(|value|, E of its inputs), and more where a layer cancels terms or amplifies errors (each
    kind's `scale`):
    * ELU/SELU: at least alpha (SELU: scale*alpha). TF computes alpha*(exp(x) - 1), not expm1, so near 0- its
      absolute error is ~u*alpha (difference 'elu-selu-near-zero').
    * BatchNorm/LayerNorm: max(E_in, max|x|) * max|gamma|/sqrt(var + eps). Keras computes x*inv + (beta - mean*inv),
      whose terms are |x|*inv and cancel (difference 'norm-affine-cancellation'), and any upstream absolute error
      is amplified by inv when the variance is small.
    `values` is the reference trace in the same mode (`training` picks batch or moving BatchNorm statistics).
    Returns max E over the nodes.
    """
    scales = {INPUT: float(np.max(np.abs(values[INPUT]))) if np.size(values[INPUT]) else 0.0}
    for l in spec.layers:
        srcs = spec.sources(l)
        e = KINDS[l.kind].scale(l, max(scales[s] for s in srcs), values[srcs[0]], weights.get(l.name, {}), training)
        own = [values[k] for k in (l.name, l.name + _reference.PRE) if k in values]
        scales[l.name] = max([e] + [float(np.max(np.abs(v))) for v in own if np.size(v)])
    return max(scales.values())


def accumulation_depth(spec: ModelSpec, batch: int = 4) -> int:
    """D = (sum_l sqrt(K_l))**2 (see the module docstring)."""
    return int(math.ceil(sum(math.sqrt(k) for k in layer_depths(spec, batch).values()) ** 2))


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
        return _reference.trace(self.spec, self.weights, x, training=training)

    def reference(self, x, training: bool = False) -> np.ndarray | None:
        """float64 NumPy forward (None where no deterministic reference exists, e.g. training-mode dropout)."""
        return _reference.forward(self.spec, self.weights, x, training=training)

    def sample_input(self, seed: int, batch: int = 4) -> np.ndarray:
        """A deterministic input batch: N(0, 1) float32, or token ids below the embedding's input_dim."""
        rng = np.random.default_rng(seed)
        shape = (batch, *self.spec.input_shape)
        if self.spec.input_dtype == "int32":
            return rng.integers(0, self.spec.layers[0]["input_dim"], shape).astype(np.int32)
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
    from ._tf import build_keras
    from ._torch import build_torch

    weights = init_weights(spec, seed) if weights is None else weights
    keras_model, torch_module = build_keras(spec), build_torch(spec)
    load_keras(keras_model, spec, weights)
    load_torch(torch_module, spec, weights)
    return Pair(spec, keras_model, torch_module, weights)


FIXTURES = "fixtures/seed_models"
GOLDEN_SEED, GOLDEN_INPUT_SEED, GOLDEN_BATCH = 0, 1, 2


def freeze_fixtures(directory: str = FIXTURES) -> None:
    """Write each seed model's golden data (input, float64 reference output, weight digest) and a MANIFEST.json.

    The weights themselves are not stored: they are regenerated from GOLDEN_SEED and checked against the digest.
    """
    import json
    import os
    import sys

    from .weights import digest

    os.makedirs(directory, exist_ok=True)
    manifest = {"generator": "python -m equivalence.models freeze " + directory, "versions": _runtime.versions(),
                "python": sys.version.split()[0], "weight_seed": GOLDEN_SEED, "input_seed": GOLDEN_INPUT_SEED,
                "models": {}}
    for name, spec in seed_models().items():
        weights = init_weights(spec, GOLDEN_SEED)
        x = Pair(spec, None, None, weights).sample_input(GOLDEN_INPUT_SEED, batch=GOLDEN_BATCH)
        np.savez_compressed(os.path.join(directory, f"{name}.npz"), x=x, reference=_reference.forward(spec, weights, x))
        manifest["models"][name] = {"file": f"{name}.npz", "spec": repr(spec.layers), "input_shape": list(spec.input_shape),
                                    "weights_sha256": digest(weights)}
    with open(os.path.join(directory, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["freeze"]:
        sys.exit("usage: python -m equivalence.models freeze [DIRECTORY]")
    freeze_fixtures(*sys.argv[2:3])


__all__ = ["FIXTURES", "Pair", "accumulation_depth", "build_pair", "error_scale", "freeze_fixtures", "layer_depths",
           "seed_models"]
