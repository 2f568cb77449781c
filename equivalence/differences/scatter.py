"""Known differences: scatter and segment ops (duplicate indices, empty segments, whether the destination takes
part in a reduction, out-of-range indices), each entry right below its witness.

An error a framework raises is observed as 'raises <ExceptionType>'. Float32 values are small integers, so sums are
exact and observations are compared exactly; float32's lowest/highest finite values are written as F32_LOWEST/MAX.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import attempt_values as _attempt

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness

F32_MAX = float(np.finfo(np.float32).max)
F32_LOWEST = -F32_MAX
INF, NAN = float("inf"), float("nan")


# Three updates to index 1; the last (7) is neither the largest (9) nor the first (5).
_DUPLICATES, _VALUES = [1, 1, 1], [5.0, 9.0, 7.0]


def _tf_duplicates() -> dict:
    tf, keras = runtime.tf(), runtime.keras()
    idx, vals = tf.constant([[i] for i in _DUPLICATES]), tf.constant(_VALUES)
    return {"tensor_scatter_nd_update": _attempt(lambda: tf.tensor_scatter_nd_update(tf.zeros(3), idx, vals)),
            "tensor_scatter_nd_add": _attempt(lambda: tf.tensor_scatter_nd_add(tf.zeros(3), idx, vals)),
            "keras.ops.scatter_update": _attempt(lambda: keras.ops.scatter_update(tf.zeros(3), idx, vals)),
            "keras.ops.scatter": _attempt(lambda: keras.ops.scatter(idx, vals, (3,)))}


def _torch_duplicates() -> dict:
    torch = runtime.torch()
    idx, vals = torch.tensor(_DUPLICATES), torch.tensor(_VALUES)
    return {"index_put_": _attempt(lambda: torch.zeros(3).index_put_((idx,), vals)),
            "index_put_(accumulate=True)": _attempt(lambda: torch.zeros(3).index_put_((idx,), vals, accumulate=True)),
            "scatter_": _attempt(lambda: torch.zeros(3).scatter_(0, idx, vals)),
            "index_add_": _attempt(lambda: torch.zeros(3).index_add_(0, idx, vals))}


ENTRIES.add(KnownDifference(
    id="scatter-duplicate-indices",
    area="op-semantics",
    title="Scatter with duplicate indices: the update forms keep the LAST value on both CPUs (order documented as "
          "undefined); the add forms accumulate. keras.ops.scatter adds, keras.ops.scatter_update replaces",
    tf="tf.tensor_scatter_nd_update (and keras.ops.scatter_update) with index 1 three times keeps the last update "
       "on the CPU (7; the docs leave the order undefined); tf.tensor_scatter_nd_add and keras.ops.scatter sum "
       "them (21).",
    torch="index_put_ and scatter_ keep the last update on the CPU (7; undefined per the docs, nondeterministic "
          "on CUDA); index_put_(accumulate=True) and index_add_ sum them (21).",
    witness=lambda: {"tf": _tf_duplicates(), "torch": _torch_duplicates()},
    expected={"tf": {"tensor_scatter_nd_update": [0.0, 7.0, 0.0], "tensor_scatter_nd_add": [0.0, 21.0, 0.0],
                     "keras.ops.scatter_update": [0.0, 7.0, 0.0], "keras.ops.scatter": [0.0, 21.0, 0.0]},
              "torch": {"index_put_": [0.0, 7.0, 0.0], "index_put_(accumulate=True)": [0.0, 21.0, 0.0],
                        "scatter_": [0.0, 7.0, 0.0], "index_add_": [0.0, 21.0, 0.0]}},
    snippet_tf="tf.tensor_scatter_nd_update(tf.zeros(3), [[1], [1], [1]], [5., 9., 7.])  # [0, 7, 0]",
    snippet_torch="torch.zeros(3).index_put_((torch.tensor([1, 1, 1]),), torch.tensor([5., 9., 7.]))  # [0, 7, 0]",
    evidence="tf.tensor_scatter_nd_update docs ('the order in which updates are applied is nondeterministic' for "
             "duplicates); torch.Tensor.index_put_ / scatter_ docs ('if indices contains duplicate elements the "
             "result is undefined'); keras/src/ops/core.py scatter ('values at duplicate indices are summed')",
    mapping="deduplicate indices before an update scatter; use the add forms (which agree) when summing is meant",
))


_DATA, _SEGMENTS, _LENGTHS = [1.0, 2.0, 3.0], [0, 0, 2], [2, 0, 1, 0]  # segments 1 and 3 are empty


def _tf_empty_segments() -> dict:
    tf, keras = runtime.tf(), runtime.keras()
    data, ids = tf.constant(_DATA), tf.constant(_SEGMENTS)
    out = {name: _attempt(lambda: getattr(tf.math, f"unsorted_segment_{name}")(data, ids, 4))
           for name in ("sum", "max", "min", "mean", "prod")}
    out["segment_max (sorted)"] = _attempt(lambda: tf.math.segment_max(data, ids))
    out["keras.ops.segment_max"] = _attempt(lambda: keras.ops.segment_max(data, ids, num_segments=4))
    return out


def _torch_empty_segments() -> dict:
    torch = runtime.torch()
    data, lengths, ids = torch.tensor(_DATA), torch.tensor(_LENGTHS), torch.tensor(_SEGMENTS)
    out = {name: _attempt(lambda: torch.segment_reduce(data, name, lengths=lengths))
           for name in ("sum", "max", "min", "mean", "prod")}
    out["scatter_reduce amax (into zeros)"] = _attempt(
        lambda: torch.zeros(4).scatter_reduce(0, ids, data, "amax", include_self=False))
    return out


ENTRIES.add(KnownDifference(
    id="segment-reduce-empty-segments",
    area="op-semantics",
    title="Empty segments: TF's unsorted segment max/min give float32's lowest/highest finite value, mean 0; torch "
          "segment_reduce gives -inf/+inf and NaN; scatter_reduce leaves the destination",
    tf="tf.math.unsorted_segment_{sum,max,min,mean,prod} fill an empty segment with 0, F32_LOWEST, F32_MAX, 0 and "
       "1; tf.math.segment_max (sorted ids) gives 0 for a missing id, keras.ops.segment_max (unsorted) F32_LOWEST.",
    torch="torch.segment_reduce fills an empty segment with 0 (sum), -inf (max), +inf (min), NaN (mean) and 1 "
          "(prod); scatter_reduce(include_self=False) leaves the destination's value there (0 in zeros).",
    witness=lambda: {"tf": _tf_empty_segments(), "torch": _torch_empty_segments()},
    expected={"tf": {"sum": [3.0, 0.0, 3.0, 0.0], "max": [2.0, F32_LOWEST, 3.0, F32_LOWEST],
                     "min": [1.0, F32_MAX, 3.0, F32_MAX], "mean": [1.5, 0.0, 3.0, 0.0], "prod": [2.0, 1.0, 3.0, 1.0],
                     "segment_max (sorted)": [2.0, 0.0, 3.0],
                     "keras.ops.segment_max": [2.0, F32_LOWEST, 3.0, F32_LOWEST]},
              "torch": {"sum": [3.0, 0.0, 3.0, 0.0], "max": [2.0, -INF, 3.0, -INF], "min": [1.0, INF, 3.0, INF],
                        "mean": [1.5, NAN, 3.0, NAN], "prod": [2.0, 1.0, 3.0, 1.0],
                        "scatter_reduce amax (into zeros)": [2.0, 0.0, 3.0, 0.0]}},
    snippet_tf="tf.math.unsorted_segment_max([1., 2., 3.], [0, 0, 2], 4)  # [2, -3.4e38, 3, -3.4e38]",
    snippet_torch="torch.segment_reduce(torch.tensor([1., 2., 3.]), 'max', lengths=torch.tensor([2, 0, 1, 0]))"
                  "  # [2, -inf, 3, -inf]",
    evidence="tf.math.unsorted_segment_max docs ('If the maximum is empty for a given segment ID i, it outputs the "
             "smallest possible value for the specific numeric type'); tf.math.segment_max docs (empty: 0); "
             "aten/src/ATen/native/SegmentReduce.cpp (initial values -inf/+inf, mean 0/0 = NaN)",
    mapping="mask empty segments explicitly (counts == 0) before comparing or feeding them on",
))


def _tf_destination() -> dict:
    tf = runtime.tf()
    return {"tensor_scatter_nd_max of [-5, -7]": _attempt(
                lambda: tf.tensor_scatter_nd_max(tf.zeros(3), [[1], [1]], tf.constant([-5.0, -7.0]))),
            "tensor_scatter_nd_min of [5, 7]": _attempt(
                lambda: tf.tensor_scatter_nd_min(tf.zeros(3), [[1], [1]], tf.constant([5.0, 7.0])))}


def _torch_destination() -> dict:
    torch = runtime.torch()
    idx = torch.tensor([1, 1])
    reduce = lambda v, how, include: torch.zeros(3).scatter_reduce(0, idx, torch.tensor(v), how,  # noqa: E731
                                                                   include_self=include)
    return {"amax of [-5, -7]": _attempt(lambda: reduce([-5.0, -7.0], "amax", True)),
            "amax of [-5, -7], include_self=False": _attempt(lambda: reduce([-5.0, -7.0], "amax", False)),
            "mean of [1, 2]": _attempt(lambda: reduce([1.0, 2.0], "mean", True)),
            "mean of [1, 2], include_self=False": _attempt(lambda: reduce([1.0, 2.0], "mean", False))}


ENTRIES.add(KnownDifference(
    id="scatter-reduce-includes-destination",
    area="op-semantics",
    title="Scatter max/min/mean into a tensor: TF always reduces with the destination's value; torch scatter_reduce "
          "does by default (include_self=True) and can leave it out",
    tf="tf.tensor_scatter_nd_max(zeros, [[1], [1]], [-5, -7]) is max(0, -5, -7) = 0 at index 1; there is no "
       "option to leave the destination out (and no scatter mean).",
    torch="scatter_reduce(..., 'amax') gives 0 the same way, but include_self=False gives -5; 'mean' with "
          "include_self=True counts the destination too ((0 + 1 + 2) / 3 = 1, not 1.5).",
    witness=lambda: {"tf": _tf_destination(), "torch": _torch_destination()},
    expected={"tf": {"tensor_scatter_nd_max of [-5, -7]": [0.0, 0.0, 0.0],
                     "tensor_scatter_nd_min of [5, 7]": [0.0, 0.0, 0.0]},
              "torch": {"amax of [-5, -7]": [0.0, 0.0, 0.0], "amax of [-5, -7], include_self=False": [0.0, -5.0, 0.0],
                        "mean of [1, 2]": [0.0, 1.0, 0.0], "mean of [1, 2], include_self=False": [0.0, 1.5, 0.0]}},
    snippet_tf="tf.tensor_scatter_nd_max(tf.zeros(3), [[1], [1]], [-5., -7.])  # [0, 0, 0]",
    snippet_torch="torch.zeros(3).scatter_reduce(0, torch.tensor([1, 1]), torch.tensor([-5., -7.]), 'amax', "
                  "include_self=False)  # [0, -5, 0]",
    evidence="tf.tensor_scatter_nd_max docs (element-wise max of tensor and updates); torch.Tensor.scatter_reduce_ "
             "docs (include_self: 'whether elements from the self tensor are included in the reduction')",
    mapping="scatter into a tensor filled with the reduction's identity (-inf for max) on the TF side to get "
            "include_self=False",
))


def _tf_out_of_range() -> dict:
    tf = runtime.tf()
    data = tf.constant(_DATA)
    return {"tensor_scatter_nd_update [[5]]": _attempt(lambda: tf.tensor_scatter_nd_update(tf.zeros(3), [[5]], [1.0])),
            "tensor_scatter_nd_update [[-1]]": _attempt(
                lambda: tf.tensor_scatter_nd_update(tf.zeros(3), [[-1]], [1.0])),
            "unsorted_segment_sum id 5": _attempt(lambda: tf.math.unsorted_segment_sum(data, [0, 5, 1], 4)),
            "unsorted_segment_sum id -1": _attempt(lambda: tf.math.unsorted_segment_sum(data, [0, -1, 1], 4))}


def _torch_out_of_range() -> dict:
    torch = runtime.torch()
    one = torch.tensor([1.0])
    return {"index_put_ [5]": _attempt(lambda: torch.zeros(3).index_put_((torch.tensor([5]),), one)),
            "index_put_ [-1]": _attempt(lambda: torch.zeros(3).index_put_((torch.tensor([-1]),), one)),
            "scatter_ [5]": _attempt(lambda: torch.zeros(3).scatter_(0, torch.tensor([5]), one)),
            "scatter_ [-1]": _attempt(lambda: torch.zeros(3).scatter_(0, torch.tensor([-1]), one)),
            "index_add_ [5]": _attempt(lambda: torch.zeros(3).index_add_(0, torch.tensor([5]), one))}


ENTRIES.add(KnownDifference(
    id="scatter-index-out-of-range",
    area="op-semantics",
    title="Out-of-range scatter indices raise on both CPUs, but a negative index is an error in TF scatter, "
          "silently DROPPED by TF segment ops, wrapped by torch index_put_ and an error in torch scatter_",
    tf="tf.tensor_scatter_nd_update raises InvalidArgumentError for index 5 and for -1 (no wrap-around); "
       "tf.math.unsorted_segment_sum raises for id 5 >= num_segments but drops an id of -1 without a word.",
    torch="index_put_ raises IndexError for 5 and wraps -1 to the last element (Python indexing); scatter_ raises "
          "RuntimeError for 5 and for -1; index_add_ raises IndexError.",
    witness=lambda: {"tf": _tf_out_of_range(), "torch": _torch_out_of_range()},
    expected={"tf": {"tensor_scatter_nd_update [[5]]": "raises InvalidArgumentError",
                     "tensor_scatter_nd_update [[-1]]": "raises InvalidArgumentError",
                     "unsorted_segment_sum id 5": "raises InvalidArgumentError",
                     "unsorted_segment_sum id -1": [1.0, 3.0, 0.0, 0.0]},
              "torch": {"index_put_ [5]": "raises IndexError", "index_put_ [-1]": [0.0, 0.0, 1.0],
                        "scatter_ [5]": "raises RuntimeError", "scatter_ [-1]": "raises RuntimeError",
                        "index_add_ [5]": "raises IndexError"}},
    snippet_tf="tf.math.unsorted_segment_sum([1., 2., 3.], [0, -1, 1], 4)  # [1, 3, 0, 0]: 2. dropped",
    snippet_torch="torch.zeros(3).index_put_((torch.tensor([-1]),), torch.tensor([1.]))  # [0, 0, 1]",
    evidence="tf.math.unsorted_segment_sum docs ('If the given segment ID i is negative, the value is dropped'); "
             "tf.tensor_scatter_nd_update docs (CPU: an error on a bad index; GPU: ignored); torch indexing "
             "semantics (negative indices count from the end) and torch.Tensor.scatter_ docs; observed on CPU",
    mapping="validate indices (0 <= i < n) before scattering on both sides; never rely on -1 either way",
))


def _rows_of_zero_size(scatter) -> dict:
    """scatter(name) -> the result of writing one row into x of shape (2, 0), or the error."""
    return {name: _attempt(lambda: scatter(name)) for name in ("update", "add")}


def _tf_zero_size_rows() -> dict:
    tf = runtime.tf()
    fns = {"update": tf.tensor_scatter_nd_update, "add": tf.tensor_scatter_nd_add}
    return _rows_of_zero_size(lambda name: fns[name](tf.zeros((2, 0)), tf.constant([[1]]), tf.zeros((1, 0))))


def _torch_zero_size_rows() -> dict:
    torch = runtime.torch()
    methods = {"update": "index_copy", "add": "index_add"}
    return _rows_of_zero_size(
        lambda name: getattr(torch.zeros(2, 0), methods[name])(0, torch.tensor([1]), torch.zeros(1, 0)))


ENTRIES.add(KnownDifference(
    id="scatter-rows-of-zero-size",
    area="op-semantics",
    title="Scattering rows of zero elements (into a (2, 0) tensor): TF raises, torch returns the empty tensor",
    tf="tf.tensor_scatter_nd_update / tensor_scatter_nd_add into a tensor of shape (2, 0) with index [[1]] and "
       "updates of shape (1, 0) raise InvalidArgumentError ('Indices and updates specified for empty output "
       "shape'); with no indices they return the input.",
    torch="index_copy / index_add of a (1, 0) source at index 1 into a (2, 0) tensor return the (2, 0) tensor: "
          "there is nothing to write.",
    witness=lambda: {"tf": _tf_zero_size_rows(), "torch": _torch_zero_size_rows()},
    expected={"tf": {"update": "raises InvalidArgumentError", "add": "raises InvalidArgumentError"},
              "torch": {"update": [[], []], "add": [[], []]}},
    snippet_tf="tf.tensor_scatter_nd_update(tf.zeros((2, 0)), [[1]], tf.zeros((1, 0)))  # InvalidArgumentError",
    snippet_torch="torch.zeros(2, 0).index_copy(0, torch.tensor([1]), torch.zeros(1, 0))  # tensor of shape (2, 0)",
    evidence="tensorflow/core/kernels/scatter_nd_op.cc (the 'Indices and updates specified for empty output "
             "shape' check); found by the scatter property tests (catalog/ops_scatter.py, dev profile); observed "
             "TF 2.21 / torch 2.13 CPU",
    mapping="skip the scatter when the tensor has no elements",
    applies_to=("op:scatter_update", "op:scatter_add"),
))
