"""Scatter ops: rows of a tensor replaced by, or added to, rows of updates at given indices along axis 0.

Covers scatter_update (tf.tensor_scatter_nd_update vs torch.Tensor.index_copy) and scatter_add
(tf.tensor_scatter_nd_add vs torch.Tensor.index_add). Indices are DISTINCT here, the domain on which both
frameworks are deterministic and agree: which of duplicate updates wins, or in which order duplicates are summed,
is left undefined by both (catalogue scatter-duplicate-indices); empty segments, the destination's part in a
reduction and out-of-range indices are catalogue entries too (scatter.py). With distinct indices each output
element is one input element (update: bit-exact in every dtype) or one correctly rounded sum x + u (add: the
float32/float64 rule at depth 1, so an overflow to inf is the reference's too).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from .opinfo import OpInfo, Sample
from .samples import call
from .ops_shape import ALL

ADD_DTYPES = ("float32", "float64")  # half dtypes: a kernel may add in float32 and round twice; ints wrap (int64 ref)


@st.composite
def _scatter(draw, dtype, avoid):
    """x (n, ...), distinct indices (k,) in [0, n) and updates (k, ...): k drawn in [0, n] (edge mode: n, every
    row replaced). Rows of zero elements (x (2, 0)) get no index: TF raises there, torch does nothing (catalogue
    scatter-rows-of-zero-size)."""
    x = draw(S.arrays(dtype, S.shapes(min_dims=1, max_dims=3, min_side=0), avoid=avoid), label="x")
    n = x.shape[0]
    k = draw(S.amount(0, n), label="k") if x.size else 0
    order = draw(st.permutations(range(n)), label="order")
    idx = np.asarray(order[:k], np.int64).reshape(k)
    updates = draw(S.arrays(dtype, (k,) + x.shape[1:], avoid=avoid), label="updates")
    return Sample((x, idx, updates), {}, "scatter")


def _ref_update(x, idx, updates):
    out = np.array(x, copy=True)
    out[idx] = updates
    return out


def _ref_add(x, idx, updates):
    out = np.array(x, copy=True)
    np.add.at(out, idx, updates)
    return out


def _tf_scatter(name):
    fn = call(f"tf.{name}")
    return lambda x, idx, updates: fn(x, call("tf.reshape")(idx, [-1, 1]), updates)


def _torch_index(method):
    return lambda x, idx, updates: getattr(x, method)(0, idx, updates)


OPS = [
    OpInfo(name="scatter_update", family="scatter", torch_fn=_torch_index("index_copy"),
           tf_fn=_tf_scatter("tensor_scatter_nd_update"), ref=_ref_update, dtypes=ALL, samples_fn=_scatter,
           torch_api="torch.Tensor.index_copy", tf_api="tf.tensor_scatter_nd_update", exact=True,
           notes="distinct indices; duplicates, out-of-range and negative indices: catalogue"),
    OpInfo(name="scatter_add", family="scatter", torch_fn=_torch_index("index_add"),
           tf_fn=_tf_scatter("tensor_scatter_nd_add"), ref=_ref_add, dtypes=ADD_DTYPES, samples_fn=_scatter,
           torch_api="torch.Tensor.index_add", tf_api="tf.tensor_scatter_nd_add",
           notes="distinct indices (one rounding per element); summed duplicates: catalogue"),
]
