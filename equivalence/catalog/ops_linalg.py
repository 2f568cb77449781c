"""Linear algebra: matmul (2-D, batched with broadcast batch dims), einsum equations, tensordot, transpose.

Tolerance depth is the contraction length K (NUMERICS.md: float32 matmul error grows like sqrt(K), <= 6e-7 of
max|ref|); K = 0 (an empty contraction, result all zeros) is drawn too: the 'empty' kind, in each case's first
example. Sizes come from strategies.side(), so edge mode (strategies.edge_cases) gives operands that hold the whole
edge pool, with K >= 2.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from .opinfo import DOT_PRODUCT_ZERO_SIGN, OnDevice, OpInfo, Sample, product_terms
from .samples import call
from .ops_elementwise import FLOATS

def _contraction_sides(draw, avoid, names: str, rank: int) -> dict:
    """Sizes of the contracted dimension (the first of `names`) and the free ones, each in [0, 4] for arrays of
    `rank`. The contraction is the empty one (K = 0, a result of zeros): free sides are drawn empty only when it is
    not, so an empty example stays one empty dimension at a time. No 0 when the 'empty' edge kind is avoided."""
    k = draw(S.side(1 if "empty" in avoid else 0, 4, rank=rank), label=names[0])
    free = S.side(1 if "empty" in avoid or k == 0 else 0, 4, rank=rank)
    return {names[0]: k, **{c: draw(free, label=c) for c in names[1:]}}


def _operands(draw, dtype, avoid, shapes, desc, contraction=True, **kwargs):
    """Draw one array per shape (labelled x0, x1, ...) into a Sample.

    `huge` operands are left out of contractions: whether a sum of products near the dtype's max overflows to inf
    (or, with an inf term, to NaN) depends on the summation order, which neither framework specifies.
    """
    avoid = avoid | {"huge"} if contraction else avoid
    arrays = tuple(draw(S.arrays(dtype, shape, lo=-4, hi=4, avoid=avoid), label=f"x{i}") for i, shape in enumerate(shapes))
    return Sample(arrays, kwargs, desc)


def _tf_onednn() -> bool:
    from ..platform import observed_conditions

    return bool(observed_conditions()["tf_onednn"])


@st.composite
def _matmul(draw, dtype, avoid, batched=False):
    sides = _contraction_sides(draw, avoid, "kmn", rank=2)
    m, k, n = (sides[c] for c in "mkn")
    if not batched:
        return _operands(draw, dtype, avoid, [(m, k), (k, n)], "2d")
    # edge mode: batches of 2 (the matrices hold the edge pool themselves)
    batch = draw(S.broadcastable_shapes(2, min_dims=1, max_dims=2, min_side=1, edge_side=2), label="batch")
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
    rank = len(eq.split(",")[0])  # every operand of an equation here has the same rank
    sizes = {c: draw(S.side(1, 3, rank=rank), label=c) for c in "bhqdkij"}
    return _operands(draw, dtype, avoid, EQUATIONS[eq](sizes), eq, equation=eq)


def _einsum_depth(sample: Sample) -> int:
    ins, out = sample.kwargs["equation"].split("->")
    sizes = {c: n for term, a in zip(ins.split(","), sample.args) for c, n in zip(term, a.shape)}
    return int(np.prod([n for c, n in sizes.items() if c not in out])) if sizes else 1


@st.composite
def _tensordot(draw, dtype, avoid):
    axes = draw(st.sampled_from([1, 2]), label="axes")
    s = _contraction_sides(draw, avoid, "bacd", rank=axes + 1)  # b (and c for axes=2) contracted
    a, b, c, d = (s[n] for n in "abcd")
    shapes = [(a, b), (b, c)] if axes == 1 else [(a, b, c), (b, c, d)]
    return _operands(draw, dtype, avoid, shapes, f"axes{axes}", axes=axes)


@st.composite
def _transpose(draw, dtype, avoid):
    # 4-d shapes reach 16**4 elements under thorough: fitted to what a unique array (ties avoided) can hold
    shape = draw(S.shapes(min_dims=1, max_dims=4, max_size=S.size_limit(avoid)), label="shape")
    perm = tuple(draw(st.permutations(range(len(shape))), label="perm"))
    return _operands(draw, dtype, avoid, [shape], "permute", contraction=False, perm=perm)


def _matmul_depth(sample: Sample) -> int:
    return int(np.shape(sample.args[0])[-1])


def _tensordot_depth(sample: Sample) -> int:
    axes = sample.kwargs["axes"]
    return int(np.prod(np.shape(sample.args[1])[:axes]))


def _tensordot_ref(a, b, axes):
    """np.tensordot through einsum's own loops: np.tensordot calls np.dot, whose BLAS path for a length-1
    contraction against a 1x1 operand scales by the scalar and gives 0 for NaN * 0 (found by the per-case ci
    draws: [[nan], [nan]] . [[0]] = [[0], [0]] where both frameworks give NaN)."""
    letters = "abcdefgh"
    lhs, shared = letters[:a.ndim], letters[a.ndim - axes:a.ndim]
    rhs = shared + letters[a.ndim:a.ndim + b.ndim - axes]
    return np.einsum(f"{lhs},{rhs}->{lhs[:a.ndim - axes]}{rhs[axes:]}", a, b)


def _einsum_fn(path):
    f = call(path)
    return lambda *xs, equation: f(equation, *xs)


def _transpose_torch(x, perm):
    return x.permute(*perm)


def _op(name, torch_fn, tf_fn, ref, samples_fn, *, torch_api, tf_api, variant="", dtypes=FLOATS, depth=None,
        exact=False, grad=True, notes="", on_device=None):
    return OpInfo(name=name, family="linalg", torch_fn=torch_fn, tf_fn=tf_fn, ref=ref, dtypes=dtypes,
                  samples_fn=samples_fn, torch_api=torch_api, tf_api=tf_api, variant=variant,
                  api="keras.ops" if tf_api.startswith("keras.") else "tf", supports_grad=grad, depth=depth,
                  exact=exact, notes=notes, zero_sign="" if exact else DOT_PRODUCT_ZERO_SIGN,
                  scale=None if exact else product_terms(ref), on_device=on_device or {})


_MATMUL_DTYPES = FLOATS + ("int32",)

OPS = [
    _op("matmul", call("torch.matmul"), call("tf.linalg.matmul"), np.matmul, _matmul, torch_api="torch.matmul",
        tf_api="tf.linalg.matmul", dtypes=_MATMUL_DTYPES, depth=_matmul_depth,
        # cuBLAS has no integer GEMM behind torch.matmul (observed torch 2.11.0+cu130 on an H100): the device check
        # asserts the error, so a release that adds the kernel fails there and this override goes
        on_device={"cuda": OnDevice(unsupported={
            "int32": (NotImplementedError, "addmm_cuda\" not implemented for 'Int'")})}),
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
    _op("tensordot", lambda a, b, axes: call("torch.tensordot")(a, b, dims=axes), call("tf.tensordot"),
        _tensordot_ref, _tensordot,
        torch_api="torch.tensordot", tf_api="tf.tensordot", dtypes=("float32", "float64"), depth=_tensordot_depth),
    _op("transpose", _transpose_torch, lambda x, perm: call("tf.transpose")(x, perm=perm),
        lambda x, perm: np.transpose(x, perm), _transpose, torch_api="torch.permute", tf_api="tf.transpose",
        dtypes=FLOATS + ("int32", "int64", "bool"), exact=True),
]
