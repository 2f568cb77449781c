"""Known differences of area numerics that belong to no op or layer: random streams, long half scans."""
from __future__ import annotations

from ..runtime import tf, torch
from ..registry import Registry
from .entry import REGISTRY, KnownDifference

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _seed_streams():
    t, tf_ = torch(), tf()
    return {"tf": tf_.random.Generator.from_seed(0).uniform([3]).numpy(),
            "torch": t.rand(3, generator=t.Generator().manual_seed(0))}


ENTRIES.add(KnownDifference(
    id="same-seed-different-streams",
    area="numerics",
    title="The same seed gives different random numbers in each framework",
    tf="tf.random.Generator.from_seed(0).uniform([3]) (Philox) gives [0.3118, 0.8263, 0.6849].",
    torch="torch.rand(3, generator=torch.Generator().manual_seed(0)) (Mersenne Twister) gives "
          "[0.4963, 0.7682, 0.0885].",
    witness=_seed_streams,
    expected={"tf": [0.31179297, 0.8263413, 0.6849456], "torch": [0.49625659, 0.76822180, 0.08847743]},
    snippet_tf="tf.random.Generator.from_seed(0).uniform([3])",
    snippet_torch="torch.rand(3, generator=torch.Generator().manual_seed(0))",
    evidence="tf.random.Generator docs (Philox default); torch.Generator docs (CPU mt19937).",
    mapping="Draw random data once in NumPy and convert it for both (the suite's weights and inputs do this).",
    atol=1e-7,  # values are exact for a fixed generator; 1e-7 only covers printing them at 8 digits
))


def _half_cumsum():
    t, tf_ = torch(), tf()
    out = {}
    for name in ("float16", "bfloat16"):
        out[name] = (float(tf_.math.cumsum(tf_.ones(5000, name))[-1]),
                     float(t.cumsum(t.ones(5000, dtype=getattr(t, name)), 0)[-1]))
    return {"tf": {k: v[0] for k, v in out.items()}, "torch": {k: v[1] for k, v in out.items()}}


ENTRIES.add(KnownDifference(
    id="half-precision-cumsum-accumulation",
    area="numerics",
    title="cumsum of float16/bfloat16 on CPU: TensorFlow accumulates in the half type, PyTorch in float32",
    tf="tf.math.cumsum over 5000 ones stops at 2048 (float16) and 256 (bfloat16): x + 1 == x beyond those.",
    torch="torch.cumsum accumulates in float32 and rounds each prefix: 5000 (float16) and 4992 (bfloat16).",
    witness=_half_cumsum,
    expected={"tf": {"float16": 2048.0, "bfloat16": 256.0}, "torch": {"float16": 5000.0, "bfloat16": 4992.0}},
    snippet_tf="tf.math.cumsum(tf.ones(5000, tf.float16))[-1]  # 2048",
    snippet_torch="torch.cumsum(torch.ones(5000, dtype=torch.float16), 0)[-1]  # 5000",
    evidence="Measured in /work/shared/NUMERICS.md ('fp16 / bf16 cumsum of 5000 ones'); torch's CPU cumsum uses "
             "an opmath (float32) accumulator (aten/src/ATen/native/cpu/ReduceOpsKernel.cpp).",
    mapping="Upcast to float32 before long cumulative sums (tf.cast(x, tf.float32)).",
))
