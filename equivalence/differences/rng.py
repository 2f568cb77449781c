"""Known differences: random-number generation and seeding, each entry right below its witness.

What each framework's seeding call seeds, whether re-seeding reproduces a draw, where a layer takes its randomness
from (Keras: a SeedGenerator made when the layer is built; torch: the global generator at call time), and the
default ranges and dtypes of the draw functions. The streams themselves differ (same-seed-different-streams in
numerics.py): the witnesses below observe reproducibility within one framework, never equal numbers across them.
Observed floats are rounded to 6 decimals (`rounded`, hence `atol=ROUNDED`); booleans and dtypes are exact.
"""
from __future__ import annotations

import random

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import ROUNDED, dtype_of, rounded

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness
SEED = 7


def _draw_every_stream() -> dict:
    """One draw from each process-global stream: Python `random`, NumPy's legacy global, TF's op-level seeded ops,
    Keras' global SeedGenerator (keras.random without a seed) and torch's default CPU generator."""
    tf, keras, torch = runtime.tf(), runtime.keras(), runtime.torch()
    return {"random": random.random(), "numpy": float(np.random.rand()), "tf.random": float(tf.random.uniform([])),
            "keras.random": float(keras.random.uniform(())), "torch": float(torch.rand(()))}


def _reseeded(seed_fn) -> dict:
    """{stream: True when seed_fn(SEED) twice reproduces the stream's draw}: a stream the call does not seed goes
    on from where it was, so its second draw differs."""
    seed_fn(SEED)
    first = _draw_every_stream()
    seed_fn(SEED)
    second = _draw_every_stream()
    return {name: first[name] == second[name] for name in first}


def _global_seed_scope() -> dict:
    return {"tf": _reseeded(lambda s: runtime.keras().utils.set_random_seed(s)),
            "torch": _reseeded(lambda s: runtime.torch().manual_seed(s))}


ENTRIES.add(KnownDifference(
    id="global-seed-scope",
    area="numerics",
    title="keras.utils.set_random_seed seeds Python, NumPy, TF and Keras (not torch); torch.manual_seed seeds torch "
          "only",
    tf="keras.utils.set_random_seed(s) calls random.seed, np.random.seed and tf.random.set_seed and resets Keras' "
       "global SeedGenerator; under the TensorFlow backend it leaves torch's generator alone (it seeds torch only "
       "when Keras runs ON torch).",
    torch="torch.manual_seed(s) seeds torch's default generators (CPU and every CUDA device) and nothing else: "
          "Python's random, NumPy and TF continue their streams.",
    witness=_global_seed_scope,
    expected={"tf": {"random": True, "numpy": True, "tf.random": True, "keras.random": True, "torch": False},
              "torch": {"random": False, "numpy": False, "tf.random": False, "keras.random": False, "torch": True}},
    snippet_tf="keras.utils.set_random_seed(7)  # random, numpy, tf.random, keras.random; not torch",
    snippet_torch="torch.manual_seed(7)  # torch only: also call random.seed(7); np.random.seed(7)",
    evidence="keras/src/utils/rng_utils.py set_random_seed (Keras 3.15: 'torch.manual_seed only if the backend is "
             "torch'); torch.manual_seed docs ('Sets the seed for generating random numbers on all devices')",
    mapping="seed every stream yourself (equivalence.runtime.seed_everything calls all four)",
    atol=0.0,
))


def _keras_seed_argument() -> dict:
    keras = runtime.keras()
    uniform = lambda seed: rounded(keras.random.uniform((3,), seed=seed))  # noqa: E731
    generator = keras.random.SeedGenerator(0)
    return {"seed=0": uniform(0), "seed=0 again": uniform(0), "SeedGenerator(0)": uniform(generator),
            "same SeedGenerator again": uniform(generator),
            "new SeedGenerator(0)": uniform(keras.random.SeedGenerator(0))}


def _torch_generator_argument() -> dict:
    torch = runtime.torch()
    generator = torch.Generator().manual_seed(0)
    uniform = lambda g: rounded(torch.rand(3, generator=g))  # noqa: E731
    return {"Generator().manual_seed(0)": uniform(generator), "same Generator again": uniform(generator),
            "new Generator().manual_seed(0)": uniform(torch.Generator().manual_seed(0))}


ENTRIES.add(KnownDifference(
    id="keras-random-int-seed-is-stateless",
    area="numerics",
    title="keras.random.uniform(seed=0) gives the same numbers on every call; a SeedGenerator or a torch.Generator "
          "advances",
    tf="keras.random.* with an int seed is stateless (same draw each call); with a SeedGenerator it advances the "
       "generator's state, and a new SeedGenerator(0) starts over, so int seed 0 and the first draw of "
       "SeedGenerator(0) coincide.",
    torch="torch draw functions take no int seed: they always advance a Generator (the global one, or "
          "generator=...); a new Generator().manual_seed(0) starts over.",
    witness=lambda: {"tf": _keras_seed_argument(), "torch": _torch_generator_argument()},
    expected={"tf": {"seed=0": [0.211015, 0.70601, 0.800063], "seed=0 again": [0.211015, 0.70601, 0.800063],
                     "SeedGenerator(0)": [0.211015, 0.70601, 0.800063],
                     "same SeedGenerator again": [0.082166, 0.40928, 0.393185],
                     "new SeedGenerator(0)": [0.211015, 0.70601, 0.800063]},
              "torch": {"Generator().manual_seed(0)": [0.496257, 0.768222, 0.088477],
                        "same Generator again": [0.13203, 0.307423, 0.634079],
                        "new Generator().manual_seed(0)": [0.496257, 0.768222, 0.088477]}},
    snippet_tf="keras.random.uniform((3,), seed=0)  # the same 3 numbers on every call",
    snippet_torch="g = torch.Generator().manual_seed(0); torch.rand(3, generator=g)  # advances g",
    evidence="keras.random.uniform docs ('seed: ... an integer ... or a keras.random.SeedGenerator instance'; an "
             "int seed makes the call stateless); keras/src/random/seed_generator.py draw_seed; torch.Generator docs",
    mapping="pass a SeedGenerator in a loop on the Keras side (an int seed repeats the same numbers each step)",
    atol=ROUNDED,
))


def _mask(values) -> list:
    return (np.asarray(values) != 0).astype(int).ravel().tolist()


def _keras_dropout_masks() -> dict:
    keras = runtime.keras()
    ones = np.ones((1, 8), np.float32)
    keras.utils.set_random_seed(SEED)
    layer = keras.layers.Dropout(0.5)
    first = _mask(layer(ones, training=True))
    keras.utils.set_random_seed(SEED)
    again = _mask(layer(ones, training=True))
    keras.utils.set_random_seed(SEED)
    fresh = _mask(keras.layers.Dropout(0.5)(ones, training=True))
    return {"mask": first, "re-seeded, same layer": again, "re-seeded, new layer": fresh}


def _torch_dropout_masks() -> dict:
    torch = runtime.torch()
    ones, layer = torch.ones(1, 8), torch.nn.Dropout(0.5)
    torch.manual_seed(SEED)
    first = _mask(layer(ones))
    torch.manual_seed(SEED)
    again = _mask(layer(ones))
    torch.manual_seed(SEED)
    fresh = _mask(torch.nn.Dropout(0.5)(ones))
    return {"mask": first, "re-seeded, same layer": again, "re-seeded, new layer": fresh}


ENTRIES.add(KnownDifference(
    id="dropout-seed-source",
    area="numerics",
    title="Re-seeding does not reproduce a Keras Dropout layer's next mask (its SeedGenerator was made at "
          "construction); torch dropout draws from the global generator at call time",
    tf="keras.layers.Dropout(rate, seed=None) makes its own SeedGenerator when constructed, seeded from the "
       "global seed then; set_random_seed afterwards does not rewind it, so the same layer draws a new mask. A "
       "layer constructed after the re-seed repeats the first mask.",
    torch="nn.Dropout / F.dropout draw from torch's default generator when called: torch.manual_seed before the "
          "call reproduces the mask with the same module or a new one.",
    witness=lambda: {"tf": _keras_dropout_masks(), "torch": _torch_dropout_masks()},
    expected={"tf": {"mask": [0, 1, 1, 0, 0, 1, 0, 1], "re-seeded, same layer": [0, 1, 1, 1, 0, 1, 1, 1],
                     "re-seeded, new layer": [0, 1, 1, 0, 0, 1, 0, 1]},
              "torch": {"mask": [1, 1, 0, 0, 0, 0, 1, 0], "re-seeded, same layer": [1, 1, 0, 0, 0, 0, 1, 0],
                        "re-seeded, new layer": [1, 1, 0, 0, 0, 0, 1, 0]}},
    snippet_tf="keras.utils.set_random_seed(7); d = Dropout(.5); d(x, training=True)  # re-seed + d(x): new mask",
    snippet_torch="torch.manual_seed(7); F.dropout(x, .5)  # re-seeding repeats the mask",
    evidence="keras/src/layers/regularization/dropout.py (self.seed_generator = SeedGenerator(seed) in __init__); "
             "keras/src/random/seed_generator.py (seed=None draws a seed from Python random); torch.nn.Dropout docs",
    mapping="re-seed BEFORE building the Keras model (or pass Dropout(seed=...)); masks never match across "
            "frameworks: compare dropout models in inference mode",
    atol=0.0,
))


def _keras_defaults() -> dict:
    keras = runtime.keras()
    u, n = keras.random.uniform((4096,), seed=1), keras.random.normal((4096,), seed=2)
    i = keras.random.randint((4096,), 0, 3, seed=3)
    return _ranges(u, n, i)


def _torch_defaults() -> dict:
    torch = runtime.torch()
    g = torch.Generator().manual_seed(1)
    return _ranges(torch.rand(4096, generator=g), torch.randn(4096, generator=g),
                   torch.randint(0, 3, (4096,), generator=g))


def _ranges(u, n, i) -> dict:
    """dtype and the properties of the default distributions: U[0, 1), N(0, 1) within 4 standard errors of the
    4096-draw mean (4/64 = 0.0625), randint's high bound exclusive."""
    un, nn, ii = np.asarray(u), np.asarray(n, np.float64), np.asarray(i)
    return {"uniform": [dtype_of(u), bool(un.min() >= 0.0 and un.max() < 1.0)],
            "normal": [dtype_of(n), bool(abs(nn.mean()) < 0.0625 and abs(nn.std() - 1.0) < 0.0625)],
            "randint(0, 3)": [dtype_of(i), sorted(set(ii.tolist()))]}


ENTRIES.add(KnownDifference(
    id="random-draw-defaults",
    area="numerics",
    title="Default random draws: the same U[0, 1) and N(0, 1) in float32, but randint is int32 in Keras and int64 "
          "in torch",
    tf="keras.random.uniform draws U[minval=0, maxval=1) and normal N(mean=0, stddev=1) in floatx (float32); "
       "keras.random.randint(shape, minval, maxval) excludes maxval and returns int32.",
    torch="torch.rand draws U[0, 1), torch.randn N(0, 1) in the default dtype (float32); torch.randint(low, high, "
          "size) excludes high and returns int64.",
    witness=lambda: {"tf": _keras_defaults(), "torch": _torch_defaults()},
    expected={"tf": {"uniform": ["float32", True], "normal": ["float32", True], "randint(0, 3)": ["int32", [0, 1, 2]]},
              "torch": {"uniform": ["float32", True], "normal": ["float32", True],
                        "randint(0, 3)": ["int64", [0, 1, 2]]}},
    snippet_tf="keras.random.randint((4,), 0, 3)  # int32, values 0..2",
    snippet_torch="torch.randint(0, 3, (4,))  # int64, values 0..2",
    evidence="keras/src/random/random.py (uniform minval=0.0 maxval=1.0, normal mean=0.0 stddev=1.0, randint "
             "dtype='int32'); torch.rand / torch.randn / torch.randint docs (randint dtype default torch.int64)",
    mapping="keras.random.randint(..., dtype='int64') to match torch's index dtype",
    atol=0.0,
))
