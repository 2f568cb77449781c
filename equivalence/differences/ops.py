"""Known differences: tensor-op semantics and dtype rules (one KnownDifference per entry; append to ENTRIES).

Each witness runs both frameworks on a tiny input and returns what each did (an exception is observed as the
string 'raises <Type>'). Entries whose `applies_to` selects an op of the registry (selector 'op:<id or name>[:dtype]')
are looked up by tests/test_ops.py; ``NARROWS`` says which edge kinds (equivalence.strategies.EDGE_KINDS) that
property test then leaves to the witness here, so the behaviour is asserted once, exactly, instead of skipped.
"""
from __future__ import annotations

import numpy as np

from .. import _runtime
from ._entry import KnownDifference

NAN, INF = float("nan"), float("inf")


def _attempt(fn):
    """fn() normalised, or 'raises <ExceptionType>' when it raises (both frameworks' errors are part of the API)."""
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - the type of error is the observation
        return f"raises {type(exc).__name__}"
    return out


def _dtype(x) -> str:
    return str(x.dtype).removeprefix("torch.").replace("<dtype: '", "").replace("'>", "")


def _both(tf_fn, torch_fn) -> dict:
    """Run one callable per framework (each receives its module) and return {'tf': ..., 'torch': ...}."""
    torch, tf = _runtime.torch(), _runtime.tf()
    return {"tf": _attempt(lambda: tf_fn(tf)), "torch": _attempt(lambda: torch_fn(torch))}


def _entry(id, title, tf, torch, witness, expected, snippet_tf, snippet_torch, evidence, *, area="op-semantics",
           mapping="", applies_to=(), atol=0.0, gotcha=False):
    """KnownDifference with this module's defaults (keeps the table below readable)."""
    return KnownDifference(id=id, area=area, title=title, tf=tf, torch=torch, witness=witness, expected=expected,
                           snippet_tf=snippet_tf, snippet_torch=snippet_torch, evidence=evidence, mapping=mapping,
                           applies_to=tuple(applies_to), atol=atol, gotcha=gotcha)


# Which edge kinds the op property test stops drawing because the entry's witness pins them down exactly.
NARROWS: dict[str, frozenset] = {
    "sign-nan": frozenset({"nan"}),
    "argmax-nan": frozenset({"nan"}),
    "softplus-threshold": frozenset(),
    "tf-cpu-flushes-subnormals": frozenset({"subnormal"}),
    "floordiv-float-inf": frozenset({"inf"}),
}

ENTRIES: list[KnownDifference] = [
    _entry(
        "sign-nan", "sign(NaN) is NaN in TensorFlow but 0 in PyTorch",
        tf="tf.math.sign propagates NaN (as NumPy does).",
        torch="torch.sign returns 0 for NaN inputs (the sign of NaN is taken as neither > 0 nor < 0).",
        witness=lambda: _both(lambda tf: tf.math.sign(tf.constant([NAN, -0.0, -2.0])),
                              lambda t: t.sign(t.tensor([NAN, -0.0, -2.0]))),
        expected={"tf": [NAN, 0.0, -1.0], "torch": [0.0, 0.0, -1.0]},
        snippet_tf="tf.math.sign(tf.constant([float('nan')]))  # [nan]",
        snippet_torch="torch.sign(torch.tensor([float('nan')]))  # tensor([0.])",
        evidence="observed on TF 2.21 / torch 2.13 CPU; torch.sign docs define only the signs of non-NaN values",
        mapping="torch.where(x.isnan(), x, torch.sign(x))", applies_to=("op:sign",),
    ),
    _entry(
        "truediv-int-result-dtype", "int / int true division: TF returns float64, PyTorch float32",
        tf="tf.math.truediv casts int32/int64 operands to float64 (and int8/int16 to float32).",
        torch="torch.div on integer tensors returns torch.get_default_dtype() (float32).",
        witness=lambda: _both(lambda tf: _dtype(tf.math.truediv(tf.constant([1, 2]), tf.constant([2, 2]))),
                              lambda t: _dtype(t.div(t.tensor([1, 2], dtype=t.int32), t.tensor([2, 2], dtype=t.int32)))),
        expected={"tf": "float64", "torch": "float32"},
        snippet_tf="tf.math.truediv(tf.constant([1]), tf.constant([2])).dtype  # float64",
        snippet_torch="torch.div(torch.tensor([1]), torch.tensor([2])).dtype  # float32",
        evidence="tf.math.truediv docstring ('int32 and int64 are cast to float64'); torch.div docs (true division "
                 "promotes integers to the default scalar type)",
        area="dtypes", mapping="cast the TF result to float32 (or torch.div(..).double())",
        applies_to=("op:div:int32", "op:div:int64"),
    ),
    _entry(
        "softplus-threshold", "torch softplus returns x itself above threshold=20; TF computes log1p(exp(x)) + x",
        tf="tf.math.softplus is accurate to the last bit for all x (float64 softplus(25) = 25 + 1.4e-11).",
        torch="torch.nn.functional.softplus(x, beta=1, threshold=20) returns x unchanged where x*beta > 20, an "
              "absolute error of up to log1p(exp(-20)) = 2.1e-9: invisible in float32, 1e4 ulp in float64.",
        witness=lambda: _both(lambda tf: float(tf.math.softplus(tf.constant(25.0, tf.float64)) - 25.0),
                              lambda t: float(t.nn.functional.softplus(t.tensor(25.0, dtype=t.float64)) - 25.0)),
        expected={"tf": 1.3887557770431158e-11, "torch": 0.0}, atol=1e-14,  # 1e-14: ~3 ulp of 25.0
        snippet_tf="tf.math.softplus(tf.constant(25.0, tf.float64)) - 25  # 1.39e-11",
        snippet_torch="F.softplus(torch.tensor(25.0, dtype=torch.float64)) - 25  # 0.0",
        evidence="torch.nn.functional.softplus docs: 'reverts to the linear function when input x beta > threshold'",
        area="numerics", mapping="pass a larger threshold to torch (e.g. threshold=40 for float64)",
        applies_to=("op:softplus",),
    ),
    _entry(
        "tf-cpu-flushes-subnormals", "TensorFlow on CPU flushes subnormal inputs and results to zero; PyTorch keeps them",
        tf="TF's CPU kernels run with flush-to-zero and denormals-are-zero set (tensorflow/core/platform/"
           "denormal.h, ScopedFlushDenormal in the executor): 1e-45 * 2 is 0 and log(4e-323) is -inf in float64.",
        torch="torch keeps IEEE subnormals unless torch.set_flush_denormal(True) is called (off by default).",
        witness=lambda: _both(
            lambda tf: [float((tf.constant(np.float32(1e-45)) * 2).numpy()),
                        float(tf.math.log(tf.constant(np.float64(4e-323))).numpy())],
            lambda t: [float(t.tensor(np.float32(1e-45)) * 2),  # 4e-323 is the float64 subnormal 3.95e-323
                       float(t.log(t.tensor(np.float64(4e-323))))]),
        expected={"tf": [0.0, -INF], "torch": [2.802596928649634e-45, -742.3606303797014]}, atol=1e-12,
        snippet_tf="tf.constant(1e-45) * 2  # 0.0",
        snippet_torch="torch.tensor(1e-45) * 2  # tensor(2.8026e-45)",
        evidence="tensorflow/core/platform/denormal.h (ScopedFlushDenormal, set for every op on CPU); "
                 "torch.set_flush_denormal docs (default: off)",
        area="numerics", mapping="torch.set_flush_denormal(True) makes torch flush too (x86 with SSE3)",
        applies_to=("op:*",),
    ),
    _entry(
        "floordiv-float-inf", "float floor division by/of inf: TF computes floor(x / y), PyTorch follows Python's divmod",
        tf="tf.math.floordiv on floats is floor(x / y): inf // 1 = inf, -1 // inf = floor(-0.0) = -0.0.",
        torch="torch.floor_divide matches Python and NumPy (x - fmod(x, y)) / y: inf // 1 = nan, -1 // inf = -1.0.",
        witness=lambda: _both(lambda tf: tf.math.floordiv(tf.constant([INF, -1.0, 1.0]), tf.constant([1.0, INF, -INF])),
                              lambda t: t.floor_divide(t.tensor([INF, -1.0, 1.0]), t.tensor([1.0, INF, -INF]))),
        expected={"tf": [INF, -0.0, -0.0], "torch": [NAN, -1.0, -1.0]},
        snippet_tf="tf.math.floordiv(tf.constant([-1.0]), tf.constant([float('inf')]))  # [-0.]",
        snippet_torch="torch.floor_divide(torch.tensor([-1.0]), torch.tensor([float('inf')]))  # tensor([-1.])",
        evidence="TF FloorDiv kernel (cwise_ops.h google_floor_div_real: floor(x / y)); torch div_floor "
                 "(aten/src/ATen/native/BinaryOps, mirrors Python's float floordiv); Python: -1.0 // inf == -1.0",
        mapping="none for infinite operands; identical for finite ones",
        applies_to=("op:floor_divide:float32", "op:floor_divide:float64", "op:floor_divide:float16",
                    "op:floor_divide:bfloat16"),
    ),
]
