"""Linear algebra: matmul (2-D, batched with broadcast batch dims), einsum equations, tensordot, transpose.

Tolerance depth is the contraction length K (NUMERICS.md: float32 matmul error grows like sqrt(K), <= 6e-7 of
max|ref|); K = 0 (an empty contraction, result all zeros) is drawn too.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from ._opinfo import OpInfo, Sample
from ._samples import call
from .ops_elementwise import FLOATS

SIDE = st.integers(0, 4)


def _side(avoid):
    """Dimension sizes: 0 included (empty operands, K = 0) unless the 'empty' edge kind is avoided."""
    return st.integers(1, 4) if "empty" in avoid else SIDE


def _operands(draw, dtype, avoid, shapes, desc, **kwargs):
    """Draw one array per shape (labelled x0, x1, ...) into a Sample.

    `huge` operands are left out of contractions: whether a sum of products near the dtype's max overflows to inf
    (or, with an inf term, to NaN) depends on the summation order, which neither framework specifies.
    """
    avoid = avoid | {"huge"}
    arrays = tuple(draw(S.arrays(dtype, shape, lo=-4, hi=4, avoid=avoid), label=f"x{i}") for i, shape in enumerate(shapes))
    return Sample(arrays, kwargs, desc)


def _tf_onednn() -> bool:
    from ..platform import observed_conditions

    return bool(observed_conditions()["tf_onednn"])


@st.composite
def _matmul(draw, dtype, avoid, batched=False):
    m, k, n = (draw(_side(avoid), label=c) for c in "mkn")
    if not batched:
        return _operands(draw, dtype, avoid, [(m, k), (k, n)], "2d")
    batch = draw(S.broadcastable_shapes(2, min_dims=1, max_dims=2, min_side=1), label="batch")
    a, b = batch.input_shapes
    if len(batch.result_shape) >= 2 and _tf_onednn():
        # TF with oneDNN corrupts the heap and aborts the process when it broadcasts two or more batch dims
        # (catalogue tf-onednn-broadcast-batch-matmul-crash, asserted there in a child process): no test survives
        # it, so on that platform such batches are drawn already broadcast; one batch dim still broadcasts.
        a = b = batch.result_shape
    return _operands(draw, dtype, avoid, [a + (m, k), b + (k, n)], "batched")


# equation -> function of (sizes dict) giving operand shapes; letters are drawn sizes.
EQUATIONS = {
    "ij,jk->ik": lambda s: [(s["i"], s["j"]), (s["j"], s["k"])],
    "bij,bjk->bik": lambda s: [(s["b"], s["i"], s["j"]), (s["b"], s["j"], s["k"])],
    "bhqd,bhkd->bhqk": lambda s: [(s["b"], s["h"], s["q"], s["d"]), (s["b"], s["h"], s["k"], s["d"])],
    "i,i->": lambda s: [(s["i"],), (s["i"],)],
    "i,j->ij": lambda s: [(s["i"],), (s["j"],)],
    "ij->ji": lambda s: [(s["i"], s["j"])],
    "ij->j": lambda s: [(s["i"], s["j"])],
}


@st.composite
def _einsum(draw, dtype, avoid):
    eq = draw(st.sampled_from(sorted(EQUATIONS)), label="equation")
    sizes = {c: draw(st.integers(1, 3), label=c) for c in "bhqdkij"}
    return _operands(draw, dtype, avoid, EQUATIONS[eq](sizes), eq, equation=eq)


def _einsum_depth(sample: Sample) -> int:
    ins, out = sample.kwargs["equation"].split("->")
    sizes = {c: n for term, a in zip(ins.split(","), sample.args) for c, n in zip(term, a.shape)}
    return int(np.prod([n for c, n in sizes.items() if c not in out])) if sizes else 1


@st.composite
def _tensordot(draw, dtype, avoid):
    axes = draw(st.sampled_from([1, 2]), label="axes")
    a, b, c, d = (draw(_side(avoid), label=n) for n in "abcd")
    shapes = [(a, b), (b, c)] if axes == 1 else [(a, b, c), (b, c, d)]
    return _operands(draw, dtype, avoid, shapes, f"axes{axes}", axes=axes)


@st.composite
def _transpose(draw, dtype, avoid):
    # 4-d shapes reach 16**4 elements under thorough: fitted to what a unique array (ties avoided) can hold
    shape = draw(S.shapes(min_dims=1, max_dims=4, max_size=S.size_limit(avoid)), label="shape")
    perm = tuple(draw(st.permutations(range(len(shape))), label="perm"))
    return _operands(draw, dtype, avoid, [shape], "permute", perm=perm)


def _matmul_depth(sample: Sample) -> int:
    return int(np.shape(sample.args[0])[-1])


def _tensordot_depth(sample: Sample) -> int:
    axes = sample.kwargs["axes"]
    return int(np.prod(np.shape(sample.args[1])[:axes]))


def _einsum_fn(path):
    f = call(path)
    return lambda *xs, equation: f(equation, *xs)


def _transpose_torch(x, perm):
    return x.permute(*perm)


def _op(name, torch_fn, tf_fn, ref, samples_fn, *, torch_api, tf_api, variant="", dtypes=FLOATS, depth=None,
        exact=False, grad=True, notes=""):
    return OpInfo(name=name, family="linalg", torch_fn=torch_fn, tf_fn=tf_fn, ref=ref, dtypes=dtypes,
                  samples_fn=samples_fn, torch_api=torch_api, tf_api=tf_api, variant=variant,
                  api="keras.ops" if tf_api.startswith("keras.") else "tf", supports_grad=grad, depth=depth,
                  exact=exact, notes=notes)


_MATMUL_DTYPES = FLOATS + ("int32",)

OPS = [
    _op("matmul", call("torch.matmul"), call("tf.linalg.matmul"), np.matmul, _matmul, torch_api="torch.matmul",
        tf_api="tf.linalg.matmul", dtypes=_MATMUL_DTYPES, depth=_matmul_depth),
    _op("matmul", call("torch.matmul"), call("keras.ops.matmul"), np.matmul, _matmul, torch_api="torch.matmul",
        tf_api="keras.ops.matmul", variant="keras", dtypes=("float32",), depth=_matmul_depth),
    _op("matmul", call("torch.matmul"), call("tf.linalg.matmul"), np.matmul,
        lambda d, a: _matmul(d, a, batched=True), torch_api="torch.matmul", tf_api="tf.linalg.matmul",
        variant="batched", dtypes=("float32", "float64", "bfloat16"), depth=_matmul_depth,
        notes="batch dims broadcast (size-1 and missing dims)"),
    _op("einsum", _einsum_fn("torch.einsum"), _einsum_fn("tf.einsum"), lambda *xs, equation: np.einsum(equation, *xs),
        _einsum, torch_api="torch.einsum", tf_api="tf.einsum", dtypes=("float32", "float64"), depth=_einsum_depth,
        notes=f"equations: {', '.join(sorted(EQUATIONS))}"),
    _op("einsum", _einsum_fn("torch.einsum"), _einsum_fn("keras.ops.einsum"),
        lambda *xs, equation: np.einsum(equation, *xs), _einsum, torch_api="torch.einsum", tf_api="keras.ops.einsum",
        variant="keras", dtypes=("float32",), depth=_einsum_depth),
    _op("tensordot", lambda a, b, axes: call("torch.tensordot")(a, b, dims=axes), call("tf.tensordot"), np.tensordot, _tensordot,
        torch_api="torch.tensordot", tf_api="tf.tensordot", dtypes=("float32", "float64"), depth=_tensordot_depth),
    _op("transpose", _transpose_torch, lambda x, perm: call("tf.transpose")(x, perm=perm),
        lambda x, perm: np.transpose(x, perm), _transpose, torch_api="torch.permute", tf_api="tf.transpose",
        dtypes=FLOATS + ("int32", "int64", "bool"), exact=True),
]
