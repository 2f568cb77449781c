"""The models the suite ships, built through the spec, and their golden fixtures (frozen float64 reference
outputs for fixed weights, so a change in the reference or the weight init shows even where both frameworks
agree): `python -m equivalence.zoo freeze` rewrites them.
"""
from __future__ import annotations

import numpy as np

from . import reference, runtime
from .models import Pair
from .spec import ModelSpec, layer
from .weights import init_weights


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
    manifest = {"generator": "python -m equivalence.zoo freeze " + directory, "versions": runtime.versions(),
                "python": sys.version.split()[0], "weight_seed": GOLDEN_SEED, "input_seed": GOLDEN_INPUT_SEED,
                "models": {}}
    for name, spec in seed_models().items():
        weights = init_weights(spec, GOLDEN_SEED)
        x = Pair(spec, None, None, weights).sample_input(GOLDEN_INPUT_SEED, batch=GOLDEN_BATCH)
        np.savez_compressed(os.path.join(directory, f"{name}.npz"), x=x, reference=reference.forward(spec, weights, x))
        manifest["models"][name] = {"file": f"{name}.npz", "spec": repr(spec.layers), "input_shape": list(spec.input_shape),
                                    "weights_sha256": digest(weights)}
    with open(os.path.join(directory, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["freeze"]:
        sys.exit("usage: python -m equivalence.zoo freeze [DIRECTORY]")
    freeze_fixtures(*sys.argv[2:3])


__all__ = ["FIXTURES", "GOLDEN_SEED", "freeze_fixtures", "seed_models"]
