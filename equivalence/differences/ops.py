"""Known differences: tensor-op semantics and dtype rules, each entry right below its witness.

Each witness runs both frameworks on a tiny input and returns what each did (an exception is observed as the
string 'raises <Type>'). Entries whose `applies_to` selects an op of the registry (selector 'op:<id or name>[:dtype]')
are looked up by the op property test (equivalence/checks/ops.py); an entry's `narrows` says which edge kinds
(equivalence.strategies.EDGE_KINDS) that test then leaves to its witness, so the behaviour is asserted once,
exactly, instead of skipped. NARROWS, SIDE_NARROWS and ZERO_SIGNS at the end are those fields by id (a grad_narrows
is read from its entry by checks.grads.owned_by_witness, whatever module holds the entry).
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, ByPlatform, KnownDifference, Unsupported
from .witness_tools import attempt as _attempt, child_env, dtype_or_error

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


NAN, INF = float("nan"), float("inf")


def _dtype(x) -> str:
    return str(x.dtype).removeprefix("torch.").replace("<dtype: '", "").replace("'>", "")


def _both(tf_fn, torch_fn) -> dict:
    """Run one callable per framework (each receives its module) and return {'tf': ..., 'torch': ...}."""
    torch, tf = runtime.torch(), runtime.tf()
    return {"tf": _attempt(lambda: tf_fn(tf)), "torch": _attempt(lambda: torch_fn(torch))}


_NAN_ROW = [1.0, 4.0, NAN, 2.0, 0.5, 3.0]  # a NaN mid-row, numbers in no order on either side of it


def _signbits(x) -> list:
    """1 where an element's sign bit is set (-0.0 included), else 0: how a witness observes the sign of zero."""
    from ..compare import to_numpy

    return np.signbit(to_numpy(x)).astype(int).ravel().tolist()


def _reduce_negative_zeros(sum_, mean) -> dict:
    """Sign bits of sum/mean over one -0.0, over a size-1 axis of -0.0s, and over two -0.0s (sum_(x, axis))."""
    one, column, two = [-0.0], [[-0.0], [-0.0]], [-0.0, -0.0]
    return {"sum([-0.])": _signbits(sum_(one, None)), "mean([-0.])": _signbits(mean(one, None)),
            "sum([[-0.], [-0.]], axis=1)": _signbits(sum_(column, 1)), "sum([-0., -0.])": _signbits(sum_(two, None))}


def _tf_reduce_negative_zeros(tf) -> dict:
    keras = runtime.keras()
    out = _reduce_negative_zeros(lambda x, a: tf.reduce_sum(tf.constant(x), axis=a),
                                 lambda x, a: tf.reduce_mean(tf.constant(x), axis=a))
    out["keras.ops.sum([-0.])"] = _signbits(keras.ops.sum(tf.constant([-0.0])))
    return out


def _torch_reduce_negative_zeros(t) -> dict:
    dims = lambda a: () if a is None else a  # noqa: E731 - dim=() reduces every axis
    out = _reduce_negative_zeros(lambda x, a: t.sum(t.tensor(x), dim=dims(a)),
                                 lambda x, a: t.mean(t.tensor(x), dim=dims(a)))
    out["keras.ops.sum([-0.])"] = out["sum([-0.])"]  # the torch side of keras.ops.sum is torch.sum
    return out


ENTRIES.add(KnownDifference(
    id="reduce-single-negative-zero",
    area="op-semantics",
    title="sum/mean over a single -0.0: TF returns -0.0 (the element), PyTorch +0.0",
    tf="tf.reduce_sum / tf.reduce_mean (and keras.ops.sum/mean) of one element return it: sum([-0.]) = -0.0, "
       "and a reduction over a size-1 axis of -0.0s gives -0.0s. Over two or more -0.0s the sum is +0.0 on "
       "both sides.",
    torch="torch.sum / torch.mean add to a +0.0 accumulator, one element too: sum([-0.]) = +0.0, as NumPy "
          "(and +0.0 over two or more -0.0s, as TF).",
    witness=lambda: _both(_tf_reduce_negative_zeros, _torch_reduce_negative_zeros),
    expected={"tf": {"sum([-0.])": [1], "mean([-0.])": [1], "sum([[-0.], [-0.]], axis=1)": [1, 1],
                     "sum([-0., -0.])": [0], "keras.ops.sum([-0.])": [1]},
              "torch": {"sum([-0.])": [0], "mean([-0.])": [0], "sum([[-0.], [-0.]], axis=1)": [0, 0],
                        "sum([-0., -0.])": [0], "keras.ops.sum([-0.])": [0]}},
    snippet_tf="tf.reduce_sum(tf.constant([-0.]))  # -0.0",
    snippet_torch="torch.sum(torch.tensor([-0.]))  # tensor(0.)",
    evidence="observed TF 2.21 / Keras 3.15 / torch 2.13 CPU in every dtype, with TF oneDNN on and off and torch "
             "at DEFAULT/AVX2/AVX512; IEEE 754 defines no reduction, so either zero is a correct sum of {-0}. "
             "Found by the zero-sign check of tests/test_ops.py (issue 12)",
    mapping="add 0.0 to the result (x + 0.0 turns -0.0 into +0.0) where the sign of a zero sum matters",
    applies_to=("op:sum", "op:mean"),
    narrows=frozenset({"negzero"}),
))


ENTRIES.add(KnownDifference(
    id="dot-product-zero-sign",
    area="op-semantics",
    title="The sign of a zero dot product whose products are all -0.0 differs: matmul over K=1 gives +0.0 in TF and "
          "-0.0 in PyTorch; a float64 einsum dot of -0.0 products the other way round",
    tf="tf.linalg.matmul adds the products to a +0.0 accumulator: [[-0.], [-0.]] @ [[1., 1.]] (K = 1) is +0.0. "
       "tf.einsum "
       "'i,i->' of float64 [-0., -0.] and [1., 1.] sums the products alone: -0.0 (in float32 it is +0.0 with "
       "oneDNN on and -0.0 off).",
    torch="torch.matmul over K = 1 returns the products: [[-0.], [-0.]] @ [[1., 1.]] is all -0.0 (any CPU "
          "capability; a 1 x 1 result is +0.0); "
          "torch.einsum 'i,i->' of the float64 vectors above is +0.0. NumPy/BLAS give +0.0 in both.",
    witness=lambda: _both(
        lambda tf: [_signbits(tf.linalg.matmul(tf.constant([[-0.0], [-0.0]]), tf.constant([[1.0, 1.0]]))),
                    _signbits(tf.einsum("i,i->", tf.constant([-0.0, -0.0], tf.float64),
                                        tf.constant([1.0, 1.0], tf.float64)))],
        lambda t: [_signbits(t.matmul(t.tensor([[-0.0], [-0.0]]), t.tensor([[1.0, 1.0]]))),
                   _signbits(t.einsum("i,i->", t.tensor([-0.0, -0.0], dtype=t.float64),
                                      t.tensor([1.0, 1.0], dtype=t.float64)))]),
    expected={"tf": [[0, 0, 0, 0], [1]], "torch": [[1, 1, 1, 1], [0]]},
    snippet_tf="tf.linalg.matmul([[-0.], [-0.]], [[1., 1.]])  # [[0., 0.], [0., 0.]]",
    snippet_torch="torch.matmul(torch.tensor([[-0.], [-0.]]), torch.tensor([[1., 1.]]))  # all -0.",
    evidence="observed TF 2.21 / torch 2.13 CPU with TF oneDNN on and off and torch at DEFAULT/AVX2/AVX512; "
             "IEEE 754 rounds an exact zero sum of -0 terms to -0 but a sum started from +0 to +0, and defines "
             "no dot product. Found by the zero-sign check of tests/test_ops.py (einsum, tensordot, conv over "
             "one term)",
    mapping="add 0.0 to the result where the sign of a zero matters",
    applies_to=("op:matmul", "op:einsum", "op:tensordot", "op:conv1d", "op:conv2d",
                "op:scaled_dot_product_attention"),  # its weighted sum of v: tf.einsum in Keras' TF backend
    zero_signs=frozenset(),  # the ops' records say why the reference's sign is no authority
))


_BROADCAST_BMM = """
import torch  # the suite's import order
import tensorflow as tf
a, b = tf.ones([16, 1, 2, 2]), tf.ones([1, 1, 2, 2])  # batch dims (16, 1) against (1, 1)
for _ in range(50):  # one call already corrupts the heap; repeating makes the abort certain
    r = tf.linalg.matmul(a, b)
print(float(tf.reduce_sum(r)))
"""


def _tf_broadcast_batch_matmul() -> object:
    """Run TF's broadcast batch matmul in a child process (it may crash) and report how it ended."""
    import subprocess
    import sys

    env = child_env(TF_CPP_MIN_LOG_LEVEL="3")  # inherits TF_ENABLE_ONEDNN_OPTS: the platform under test
    proc = subprocess.run([sys.executable, "-c", _BROADCAST_BMM], capture_output=True, text=True, env=env, timeout=300)
    if proc.returncode < 0:  # killed by a signal: SIGABRT from glibc's heap check, or SIGSEGV
        return "crashes the process"
    if proc.returncode != 0:
        return f"exits {proc.returncode}: {proc.stderr.strip().splitlines()[-1][:120]}"
    return float(proc.stdout.strip().splitlines()[-1])


ENTRIES.add(KnownDifference(
    id="tf-onednn-broadcast-batch-matmul-crash",
    area="numerics",
    title="Batched matmul broadcasting two batch dims: TF with oneDNN's AVX-512 kernels corrupts the heap and "
          "crashes; PyTorch computes it",
    tf="tf.linalg.matmul (BatchMatMulV2) with oneDNN on, when it broadcasts a result with two or more batch "
       "dims, writes outside its buffers and glibc aborts the process ('free(): invalid pointer', SIGABRT) at "
       "that call or at a later, unrelated allocation. Seen for float32 and bfloat16: [16, 1, 2, 2] @ "
       "[1, 1, 2, 2] (and @ [1, 2, 2]) forward, [9, 1, 2, 2] @ [1, 1, 2, 2], and in the gradients of "
       "[8, 1, 3, 3] @ [1, 1, 3, 3] and [7, 1, 3, 1] @ [1, 1, 3]; whether a given shape crashes depends on the "
       "sizes ([8, 1, 2, 2] @ [1, 1, 2, 2] forward runs). One broadcast batch dim ([16, 2, 4] @ [1, 4, 4]) and "
       "equal batch dims run fine. With oneDNN off (Eigen), or its ISA capped at AVX2 or SSE4.1 "
       "(ONEDNN_MAX_CPU_ISA), every case is correct.",
    torch="torch.matmul broadcasts batch dims on every CPU: ones([16, 1, 2, 2]) @ ones([1, 1, 2, 2]) sums to 128.",
    witness=lambda: {"tf": _tf_broadcast_batch_matmul(),
                     "torch": float(runtime.torch().matmul(runtime.torch().ones(16, 1, 2, 2),
                                                            runtime.torch().ones(1, 1, 2, 2)).sum())},
    # Only oneDNN's AVX-512 kernels crash: capped at AVX2 or SSE4.1 (ONEDNN_MAX_CPU_ISA) the result is 128.
    expected={"tf": ByPlatform("tf_onednn", {
                  True: ByPlatform("onednn_cpu_isa", {"AVX512": "crashes the process", ("AVX2", "SSE41"): 128.0}),
                  False: 128.0}),
              "torch": 128.0},
    snippet_tf="tf.linalg.matmul(tf.ones([16, 1, 2, 2]), tf.ones([1, 1, 2, 2]))  # aborts with oneDNN on",
    snippet_torch="torch.matmul(torch.ones(16, 1, 2, 2), torch.ones(1, 1, 2, 2)).sum()  # 128",
    evidence="found by the thorough profile (tests/test_ops.py and tests/test_grads.py matmul-batched crashed "
             "their xdist workers); reproduced in a child process on TF 2.21.0, TF_ENABLE_ONEDNN_OPTS=1 "
             "(aborts) and =0 (128.0); the witness runs it in a child process so the catalogue survives it",
    mapping="with oneDNN on, materialise the broadcast (tf.broadcast_to(b, [16, 1, 2, 2])) before tf.matmul, or "
            "set TF_ENABLE_ONEDNN_OPTS=0; with oneDNN on the property tests draw two-dim batches already "
            "broadcast (equivalence.catalog.ops_linalg) so they cannot crash",
    applies_to=("op:matmul-batched",),
))


_ONEDNN_1X1_GRAD = """
import json, sys
import numpy as np
import torch  # the suite's import order
side, calls = sys.argv[1], 200
# NHWC integer data (every sum exact in float32): x [4, 8, 8, 3], a 1x1 kernel with 5 filters, stride 2, cotangent g.
x = ((np.arange(4 * 8 * 8 * 3) * 7) % 5 - 2).reshape(4, 8, 8, 3).astype(np.float32)
g = ((np.arange(4 * 4 * 4 * 5) * 3) % 7 - 3).reshape(4, 4, 4, 5).astype(np.float32)
w = ((np.arange(15) % 3) - 1).reshape(5, 3).astype(np.float32)  # (out, in)
exact = np.einsum("nhwc,nhwo->oc", x[:, ::2, ::2].astype(np.float64), g.astype(np.float64))
if side == "torch":
    torch.set_num_threads(1)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)  # NCHW view of NHWC data: channels-last strides
    gt = torch.from_numpy(g).permute(0, 3, 1, 2).contiguous()
    def dw():
        wt = torch.from_numpy(w.reshape(5, 3, 1, 1).copy()).requires_grad_(True)
        torch.nn.functional.conv2d(xt, wt, stride=2).backward(gt)
        return wt.grad.numpy()[:, :, 0, 0]
else:
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    xv, gv = tf.constant(x), tf.constant(g)
    def dw():
        wv = tf.Variable(w.T.reshape(1, 1, 3, 5))
        with tf.GradientTape() as tape:
            y = tf.nn.conv2d(xv, wv, 2, "VALID")
        return tape.gradient(y, wv, output_gradients=gv).numpy()[0, 0].T
grads = [dw() for _ in range(calls)]  # one call may corrupt the heap without its abort; repeating makes it certain
bad = sum(not np.array_equal(d, exact) for d in grads)
print(json.dumps(grads[0][0].tolist() if bad == 0 else f"wrong weight gradient in {bad} of {calls} calls"))
"""


def _onednn_1x1_weight_grad(side: str) -> object:
    """One framework's 1x1 stride-2 conv weight gradient (output channel 0) over 200 calls, single-threaded, in a
    child process (it may crash): the exact values, 'wrong weight gradient in k of 200 calls' or 'crashes the
    process'. The child inherits TF_ENABLE_ONEDNN_OPTS and ONEDNN_MAX_CPU_ISA: the platform under test."""
    import json
    import subprocess
    import sys

    env = child_env(TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", _ONEDNN_1X1_GRAD, side], capture_output=True, text=True, env=env,
                          timeout=300)
    if proc.returncode < 0:  # killed by a signal: SIGABRT from glibc's heap check, or SIGSEGV
        return "crashes the process"
    if proc.returncode != 0:
        return f"exits {proc.returncode}: {proc.stderr.strip().splitlines()[-1][:120]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


_ONEDNN_1X1_EXACT = [-52.0, -3.0, 41.0]  # d/dw of output channel 0, exact (integer data)


def _reaches_onednn_1x1_avx2(sample) -> bool:
    """A drawn conv2d-stride2 case reaches oneDNN's broken jit_1x1 AVX2 backward-weights kernel on a side that
    entry onednn-avx2-1x1-conv-weight-grad documents as crashing on this platform: a 1x1 kernel, and torch (whose
    input is channels-last only with one channel) or TF (NHWC always) expected to crash here."""
    x, w = sample.args
    if w.shape[0] != 1 or w.shape[1] != 1:
        return False
    here = ENTRIES.by_id("onednn-avx2-1x1-conv-weight-grad").expected_on()
    wrong = {side for side, value in here.items() if value == "crashes the process"}
    return "tf" in wrong or ("torch" in wrong and x.shape[-1] == 1)


ENTRIES.add(KnownDifference(
    id="onednn-avx2-1x1-conv-weight-grad",
    area="gradients",
    title="The weight gradient of a 1x1, stride-2 convolution on channels-last data is wrong, or crashes the process, "
          "where oneDNN runs its AVX2 kernels: in PyTorch always, in TF with oneDNN on",
    tf="tf.nn.conv2d's filter gradient (Conv2DBackpropFilter) is exact with oneDNN off (Eigen) at any ISA, and "
       "with oneDNN on at AVX-512 or SSE4.1. With oneDNN on and its ISA AVX2 (a CPU with AVX-VNNI but no "
       "AVX-512, or ONEDNN_MAX_CPU_ISA=AVX2/AVX2_VNNI) it runs the same broken oneDNN kernel as torch: the "
       "witness's single-threaded calls crash the process; with 2 threads [4, 8, 8, 3] x 1x1x3x5 gave wrong "
       "gradients on 13 of 30 calls, and the property test's own shapes ([1-2, 4, 6, 1] NHWC) on a few calls.",
    torch="torch.nn.functional.conv2d's weight gradient, for an input torch lays out channels-last (an NHWC "
          "tensor permuted to NCHW, or NCHW with one channel after .movedim(-1, 1).contiguous(), whose strides "
          "stay channels-last), a 1x1 kernel and stride 2, runs oneDNN's jit_1x1 AVX2 backward-weights kernel "
          "wherever oneDNN's ISA is AVX2 (an AVX2 CPU, or ONEDNN_MAX_CPU_ISA=AVX2/AVX2_VNNI on an AVX-512 "
          "one; ATEN_CPU_CAPABILITY makes no difference): with 1 thread every run of 20 or more calls aborted "
          "('double free or corruption', 'corrupted size vs. prev_size') or segfaulted; with 2 threads "
          "25 of 50 calls gave a wrong output-channel-0 gradient for [4, 3, 8, 8] (the suite's [2, 1, 4, 6]: "
          "2-7 of 50). Exact at oneDNN ISA AVX-512 (default here, AVX512_CORE) and SSE41/AVX, with a 1x1 "
          "stride-1 or 3x3 stride-2 kernel, for NCHW-contiguous input with C > 1, for a "
          "torch.contiguous_format copy, and with torch.backends.mkldnn disabled.",
    witness=lambda: {"tf": _onednn_1x1_weight_grad("tf"), "torch": _onednn_1x1_weight_grad("torch")},
    # The child inherits ONEDNN_MAX_CPU_ISA and TF_ENABLE_ONEDNN_OPTS, so `onednn_cpu_isa`/`tf_onednn` are
    # the child's. Single-threaded, 200 calls: the crash was certain in every run measured (>= 20 calls).
    expected={"tf": ByPlatform("tf_onednn", {
                  True: ByPlatform("onednn_cpu_isa", {"AVX2": "crashes the process",
                                                      ("AVX512", "SSE41"): _ONEDNN_1X1_EXACT}),
                  False: _ONEDNN_1X1_EXACT}),
              "torch": ByPlatform("onednn_cpu_isa", {"AVX2": "crashes the process",
                                                     ("AVX512", "SSE41"): _ONEDNN_1X1_EXACT})},
    snippet_tf="with tf.GradientTape() as t: y = tf.nn.conv2d(x_nhwc, w_11io, 2, 'VALID')\n"
               "t.gradient(y, w_11io, output_gradients=g)  # wrong/aborts with oneDNN on at ISA AVX2",
    snippet_torch="x = torch.randn(4, 8, 8, 3).permute(0, 3, 1, 2)  # channels-last strides\n"
                  "w = torch.randn(5, 3, 1, 1, requires_grad=True)\n"
                  "F.conv2d(x, w, stride=2).backward(g)  # w.grad wrong or heap corruption at oneDNN ISA AVX2",
    evidence="measured torch 2.13 CPU / TF 2.21 on a Xeon with AVX-512, oneDNN capped by ONEDNN_MAX_CPU_ISA "
             "(default, AVX512_CORE, AVX2_VNNI, AVX2, AVX, SSE41; 1 and 2 threads; each in a child process): "
             "only the AVX2 classes fail. Found by tests/test_grads.py conv2d-stride2 under "
             "TF_ENABLE_ONEDNN_OPTS=0 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 (FlakyFailure: torch "
             "2.3275208 where TF and float64 give -5.8720355). A oneDNN bug, not a framework difference: the "
             "witness runs each framework in a child process so the catalogue survives the crash",
    mapping="torch: differentiate under torch.backends.mkldnn.flags(enabled=False), or pass the input as "
            "x.clone(memory_format=torch.contiguous_format) (NCHW strides; .contiguous() keeps a one-channel "
            "channels-last tensor as it is); TF: TF_ENABLE_ONEDNN_OPTS=0. Where this entry expects the crash "
            "(oneDNN ISA AVX2), tests/test_grads.py leaves the conv2d-stride2 cases that reach the kernel "
            "(1x1 kernel: torch with one input channel, TF with oneDNN on any) to this witness (grad_narrows) "
            "and still draws every other kernel size and channel count there; elsewhere it draws them all",
    applies_to=("grad:conv2d-stride2",),
    grad_narrows=_reaches_onednn_1x1_avx2,
))


def _grouped_conv_grads(tf, torch_side: bool = False):
    """d sum(conv2d(x, w, groups=2)) / d(x, w) on a 3x3x2 input with a 2x2 kernel per group (channels-last lists)."""
    x = np.arange(18, dtype=np.float32).reshape(1, 3, 3, 2) / 8  # exact in binary
    w = np.arange(8, dtype=np.float32).reshape(2, 2, 1, 2) / 4 - 0.5  # HWIO with I = C/groups = 1: grouped
    if torch_side:
        t = tf  # the torch module
        xt = t.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
        wt = t.tensor(w.transpose(3, 2, 0, 1), requires_grad=True)
        t.nn.functional.conv2d(xt, wt, groups=2).sum().backward()
        return [xt.grad.numpy().transpose(0, 2, 3, 1).ravel(), wt.grad.numpy().transpose(2, 3, 1, 0).ravel()]
    xv, wv = tf.Variable(x), tf.Variable(w)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.conv2d(xv, wv, 1, "VALID"))
    return [g.numpy().ravel() for g in tape.gradient(y, [xv, wv])]


_GROUPED_CONV_GRADS = [[-0.5, -0.25, -0.5, 0.0, 0.0, 0.25, 0.0, 0.5, 1.0, 2.0, 1.0, 1.5, 0.5, 0.75, 1.5, 2.0, 1.0, 1.25],
                       [2.0, 2.5, 3.0, 3.5, 5.0, 5.5, 6.0, 6.5]]  # (d/dx, d/dw), exact: inputs are multiples of 1/8


ENTRIES.add(KnownDifference(
    id="tf-grouped-conv-grad-needs-onednn",
    area="gradients",
    title="Gradients of a grouped convolution: TF on CPU computes them only with oneDNN on; PyTorch always",
    tf="tf.nn.conv2d / keras Conv2D(groups>1) run forward on any CPU, but the backward kernels "
       "(Conv2DBackpropInput/Filter) of TF's Eigen path raise InvalidArgumentError 'Gradients for grouped "
       "convolutions are not supported on CPU'. With oneDNN on (the default only on CPUs with AVX512-VNNI/BF16, "
       "AVX-VNNI or AMX, or TF_ENABLE_ONEDNN_OPTS=1) the gradient is computed and equals torch's.",
    torch="torch.nn.functional.conv2d(groups=2) differentiates on every CPU.",
    witness=lambda: {"tf": _attempt(lambda: _grouped_conv_grads(runtime.tf())),
                     "torch": _grouped_conv_grads(runtime.torch(), torch_side=True)},
    expected={"tf": ByPlatform("tf_onednn", {True: _GROUPED_CONV_GRADS, False: "raises InvalidArgumentError"}),
              "torch": _GROUPED_CONV_GRADS},
    snippet_tf="with tf.GradientTape() as t: y = tf.reduce_sum(tf.nn.conv2d(x, w_hw1c, 1, 'VALID'))  # x: 2 channels\n"
               "t.gradient(y, x)  # InvalidArgumentError where TF runs without oneDNN",
    snippet_torch="F.conv2d(x, w, groups=2).sum().backward()  # works on any CPU",
    evidence="tensorflow/core/kernels/conv_grad_input_ops.h ('Gradients for grouped convolutions are not supported "
             "on CPU'); observed TF 2.21 with TF_ENABLE_ONEDNN_OPTS=0 and =1 on one machine; reported on an AMD "
             "EPYC AVX2 CI machine where oneDNN is off by default",
    mapping="train grouped convolutions with TF_ENABLE_ONEDNN_OPTS=1 (x86), on a GPU, or as "
"`groups` separate convolutions concatenated",
    applies_to=("grad:conv2d-groups2",),
    unsupported=Unsupported("tf", {"tf_onednn": (False,)}, "InvalidArgumentError",
                            "Gradients for grouped convolutions are not supported on CPU"),
))


ENTRIES.add(KnownDifference(
    id="sign-nan",
    area="op-semantics",
    title="sign(NaN) is NaN in TensorFlow but 0 in PyTorch",
    tf="tf.math.sign propagates NaN (as NumPy does).",
    torch="torch.sign returns 0 for NaN inputs (the sign of NaN is taken as neither > 0 nor < 0).",
    witness=lambda: _both(lambda tf: tf.math.sign(tf.constant([NAN, -0.0, -2.0])),
                          lambda t: t.sign(t.tensor([NAN, -0.0, -2.0]))),
    expected={"tf": [NAN, 0.0, -1.0], "torch": [0.0, 0.0, -1.0]},
    snippet_tf="tf.math.sign(tf.constant([float('nan')]))  # [nan]",
    snippet_torch="torch.sign(torch.tensor([float('nan')]))  # tensor([0.])",
    evidence="observed on TF 2.21 / torch 2.13 CPU; torch.sign docs define only the signs of non-NaN values",
    mapping="torch.where(x.isnan(), x, torch.sign(x))",
    applies_to=("op:sign",),
    narrows=frozenset({"nan"}),
))


ENTRIES.add(KnownDifference(
    id="truediv-int-result-dtype",
    area="dtypes",
    title="int / int true division: TF returns float64, PyTorch float32",
    tf="tf.math.truediv casts int32/int64 operands to float64 (and int8/int16 to float32).",
    torch="torch.div on integer tensors returns torch.get_default_dtype() (float32).",
    witness=lambda: _both(lambda tf: _dtype(tf.math.truediv(tf.constant([1, 2]), tf.constant([2, 2]))),
                          lambda t: _dtype(t.div(t.tensor([1, 2], dtype=t.int32), t.tensor([2, 2], dtype=t.int32)))),
    expected={"tf": "float64", "torch": "float32"},
    snippet_tf="tf.math.truediv(tf.constant([1]), tf.constant([2])).dtype  # float64",
    snippet_torch="torch.div(torch.tensor([1]), torch.tensor([2])).dtype  # float32",
    evidence="tf.math.truediv docstring ('int32 and int64 are cast to float64'); torch.div docs (true division "
             "promotes integers to the default scalar type)",
    mapping="cast the TF result to float32 (or torch.div(..).double())",
    applies_to=("op:div:int32", "op:div:int64"),
))


ENTRIES.add(KnownDifference(
    id="softplus-threshold",
    area="numerics",
    title="torch softplus returns x itself above threshold=20; TF computes log1p(exp(x)) + x",
    tf="tf.math.softplus is accurate to the last bit for all x (float64 softplus(25) = 25 + 1.4e-11).",
    torch="torch.nn.functional.softplus(x, beta=1, threshold=20) returns x unchanged where x*beta > 20, an "
          "absolute error of up to log1p(exp(-20)) = 2.1e-9: invisible in float32, 1e4 ulp in float64.",
    witness=lambda: _both(lambda tf: float(tf.math.softplus(tf.constant(25.0, tf.float64)) - 25.0),
                          lambda t: float(t.nn.functional.softplus(t.tensor(25.0, dtype=t.float64)) - 25.0)),
    expected={"tf": 1.3887557770431158e-11, "torch": 0.0},
    snippet_tf="tf.math.softplus(tf.constant(25.0, tf.float64)) - 25  # 1.39e-11",
    snippet_torch="F.softplus(torch.tensor(25.0, dtype=torch.float64)) - 25  # 0.0",
    evidence="torch.nn.functional.softplus docs: 'reverts to the linear function when input x beta > threshold'",
    mapping="pass a larger threshold to torch (e.g. threshold=40 for float64)",
    applies_to=("op:softplus",),
    atol=1e-14,  # 1e-14: ~3 ulp of 25.0
    narrows=frozenset(),
))


ENTRIES.add(KnownDifference(
    id="tf-cpu-flushes-subnormals",
    area="numerics",
    title="TensorFlow on CPU flushes subnormal inputs and results to zero; PyTorch keeps them",
    tf="TF's CPU kernels run with flush-to-zero and denormals-are-zero set (tensorflow/core/platform/"
       "denormal.h, ScopedFlushDenormal in the executor): 1e-45 * 2 is 0 and log(4e-323) is -inf in float64, "
       "and bfloat16 (float32's exponent range) flushes alike. float16 subnormals are normal float32 numbers, "
       "which TF's float16 kernels compute in: 6e-8 * 2 = 1.2e-7 is kept.",
    torch="torch keeps IEEE subnormals unless torch.set_flush_denormal(True) is called (off by default).",
    witness=lambda: _both(
        lambda tf: [float((tf.constant(np.float32(1e-45)) * 2).numpy()),
                    float(tf.math.log(tf.constant(np.float64(4e-323))).numpy()),
                    float(tf.constant(9.2e-41, tf.bfloat16) * 2), float(tf.constant(6e-8, tf.float16) * 2)],
        lambda t: [float(t.tensor(np.float32(1e-45)) * 2),  # 4e-323 is the float64 subnormal 3.95e-323
                   float(t.log(t.tensor(np.float64(4e-323)))),
                   float(t.tensor(9.2e-41, dtype=t.bfloat16) * 2), float(t.tensor(6e-8, dtype=t.float16) * 2)]),
    expected={"tf": [0.0, -INF, 0.0, 1.1920928955078125e-07],
              "torch": [2.802596928649634e-45, -742.3606303797014, 1.8367099231598242e-40,
                        1.1920928955078125e-07]},
    snippet_tf="tf.constant(1e-45) * 2  # 0.0",
    snippet_torch="torch.tensor(1e-45) * 2  # tensor(2.8026e-45)",
    evidence="tensorflow/core/platform/denormal.h (ScopedFlushDenormal, set for every op on CPU); "
             "torch.set_flush_denormal docs (default: off)",
    mapping="torch.set_flush_denormal(True) makes torch flush too (x86 with SSE3)",
    applies_to=("op:*:float32", "op:*:float64", "op:*:bfloat16"),  # float16: not flushed (witness)
    atol=1e-12,
    side_narrows={"tf": frozenset({"subnormal"})},
))


ENTRIES.add(KnownDifference(
    id="floordiv-float-inf",
    area="op-semantics",
    title="float floor division: TF floors the rounded quotient, PyTorch is exact (Python's divmod)",
    tf="tf.math.floordiv on floats is floor(x / y) with x / y rounded first: inf // 1 = inf, -1 // inf = "
       "floor(-0.0) = -0.0, and -0.5 // 0.02 = -25 in float32 (the quotient -25.0000006 rounds to -25.0).",
    torch="torch.floor_divide matches Python and NumPy ((x - fmod(x, y)) / y, exact): inf // 1 = nan, "
          "-1 // inf = -1.0, -0.5 // 0.02 = -26.",
    witness=lambda: _both(
        lambda tf: tf.math.floordiv(tf.constant([INF, -1.0, 1.0, -0.5]), tf.constant([1.0, INF, -INF, 0.02])),
        lambda t: t.floor_divide(t.tensor([INF, -1.0, 1.0, -0.5]), t.tensor([1.0, INF, -INF, 0.02]))),
    expected={"tf": [INF, -0.0, -0.0, -25.0], "torch": [NAN, -1.0, -1.0, -26.0]},
    snippet_tf="tf.math.floordiv(tf.constant([-1.0]), tf.constant([float('inf')]))  # [-0.]",
    snippet_torch="torch.floor_divide(torch.tensor([-1.0]), torch.tensor([float('inf')]))  # tensor([-1.])",
    evidence="TF FloorDiv kernel (cwise_ops.h google_floor_div_real: floor(x / y)); torch div_floor "
             "(aten/src/ATen/native/BinaryOps, mirrors Python's float floordiv); Python: -1.0 // inf == -1.0",
    mapping="none for infinite operands; identical for finite ones",
    applies_to=("op:floor_divide:float32", "op:floor_divide:float64", "op:floor_divide:float16",
                "op:floor_divide:bfloat16"),
    narrows=frozenset(),  # asserted instead: the registry's tf_ref is TF's floor(x / y)
))


ENTRIES.add(KnownDifference(
    id="argmax-nan",
    area="op-semantics",
    title="argmax/argmin with NaN: PyTorch returns the NaN's index, TensorFlow skips NaN",
    tf="tf.math.argmax/argmin (and keras.ops.argmax on TF) compare with > / <, which is false for NaN: the NaN "
       "is never selected unless it comes first.",
    torch="torch.argmax/argmin treat NaN as the extreme value (NaN propagates, as torch.max does) and return "
          "the index of the first NaN.",
    witness=lambda: _both(
        lambda tf: [int(tf.math.argmax(tf.constant([0.0, NAN, 1.0]))), int(tf.math.argmin(tf.constant([0.0, NAN])))],
        lambda t: [int(t.argmax(t.tensor([0.0, NAN, 1.0]))), int(t.argmin(t.tensor([0.0, NAN])))]),
    expected={"tf": [2, 0], "torch": [1, 1]},
    snippet_tf="tf.math.argmax([0., float('nan'), 1.])  # 2",
    snippet_torch="torch.argmax(torch.tensor([0., float('nan'), 1.]))  # tensor(1)",
    evidence="torch.argmax docs ('If there are multiple maximal values then the indices of the first maximal "
             "value are returned'; NaN is maximal as in torch.max); TF ArgMax kernel uses Eigen argmax (> compare)",
    mapping="mask NaN explicitly: tf.where(tf.math.is_nan(x), inf, x) before argmax to get torch's answer",
    applies_to=("op:argmax", "op:argmin"),
    gotcha=True,
    narrows=frozenset({"nan"}),
))


ENTRIES.add(KnownDifference(
    id="argmax-default-axis",
    area="op-semantics",
    title="argmax without an axis: TF reduces axis 0, PyTorch the flattened tensor",
    tf="tf.math.argmax(x) defaults to axis=0 and returns one index per column.",
    torch="torch.argmax(x) with dim=None returns one index into x.flatten() (keras.ops.argmax(axis=None) too).",
    witness=lambda: _both(lambda tf: tf.math.argmax(tf.constant([[1.0, 5.0], [3.0, 2.0]])),
                          lambda t: t.argmax(t.tensor([[1.0, 5.0], [3.0, 2.0]]))),
    expected={"tf": [1, 0], "torch": 1},
    snippet_tf="tf.math.argmax([[1., 5.], [3., 2.]])  # [1, 0]",
    snippet_torch="torch.argmax(torch.tensor([[1., 5.], [3., 2.]]))  # tensor(1)",
    evidence="tf.math.argmax docs (axis defaults to 0); torch.argmax docs (dim=None: flattened input)",
    mapping="always pass the axis explicitly",
    applies_to=("op:argmax:float32",),
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="keras-argmax-int32",
    area="dtypes",
    title="keras.ops.argmax/argmin return int32 on TensorFlow; tf.math.argmax and torch int64",
    tf="keras.ops.argmax casts the index to int32 (Keras' index dtype); tf.math.argmax returns int64.",
    torch="torch.argmax returns int64.",
    witness=lambda: _both(lambda tf: _dtype(runtime.keras().ops.argmax(tf.constant([1.0, 2.0]))),
                          lambda t: _dtype(t.argmax(t.tensor([1.0, 2.0])))),
    expected={"tf": "int32", "torch": "int64"},
    snippet_tf="keras.ops.argmax(tf.constant([1., 2.])).dtype  # int32",
    snippet_torch="torch.argmax(torch.tensor([1., 2.])).dtype  # torch.int64",
    evidence="keras/src/backend/tensorflow/numpy.py argmax (casts to 'int32')",
    mapping="cast (indices fit int32 for any tensor under 2**31 elements)",
    applies_to=("op:argmax-keras",),
))


ENTRIES.add(KnownDifference(
    id="reduce-int32-result-dtype",
    area="dtypes",
    title="sum/prod/cumsum/cumprod of int32: TF keeps int32 (wraps), PyTorch returns int64",
    tf="tf.math.reduce_sum / reduce_prod / cumsum / cumprod and keras.ops.sum return the input dtype: int32 "
       "overflow wraps around.",
    torch="torch.sum / prod / cumsum / cumprod promote integer (and bool) inputs to int64.",
    witness=lambda: _both(
        lambda tf: [_dtype(tf.math.reduce_sum(tf.constant([1, 2]))), int(tf.math.reduce_sum(tf.constant([2**31 - 1, 1])))],
        lambda t: [_dtype(t.sum(t.tensor([1, 2], dtype=t.int32))),
                   int(t.sum(t.tensor([2**31 - 1, 1], dtype=t.int32)))]),
    expected={"tf": ["int32", -2**31], "torch": ["int64", 2**31]},
    snippet_tf="tf.math.reduce_sum(tf.constant([2**31 - 1, 1]))  # -2147483648 (int32)",
    snippet_torch="torch.sum(torch.tensor([2**31 - 1, 1], dtype=torch.int32))  # 2147483648 (int64)",
    evidence="torch.sum docs ('If dtype is None ... integral inputs are promoted to int64'); tf.math.reduce_sum "
             "docs (result has the input dtype)",
    mapping="torch.sum(x, dtype=torch.int32), or tf.math.reduce_sum(tf.cast(x, tf.int64))",
    applies_to=("op:sum:int32", "op:sum-keras:int32", "op:prod:int32", "op:cumsum:int32", "op:cumprod:int32"),
))


ENTRIES.add(KnownDifference(
    id="reduce-max-empty",
    area="op-semantics",
    title="max/min over an empty axis: TF returns -inf/+inf (the identity), PyTorch raises",
    tf="tf.math.reduce_max of a zero-size axis returns the identity (-inf for floats, the dtype minimum for "
       "integers); reduce_min returns +inf / the maximum.",
    torch="torch.amax / torch.max raise RuntimeError ('Expected reduction dim to be specified for "
          "input.numel() == 0').",
    witness=lambda: _both(lambda tf: float(tf.math.reduce_max(tf.zeros([0]))),
                          lambda t: float(t.amax(t.zeros(0)))),
    expected={"tf": -INF, "torch": "raises RuntimeError"},
    snippet_tf="tf.math.reduce_max(tf.zeros([0]))  # -inf",
    snippet_torch="torch.amax(torch.zeros(0))  # RuntimeError",
    evidence="observed TF 2.21 / torch 2.13; torch/_refs reductions ('Expected reduction dim ...')",
    mapping="check x.numel() before reducing in torch",
    applies_to=("op:max", "op:min"),
    narrows=frozenset({"empty"}),
))


ENTRIES.add(KnownDifference(
    id="var-default-correction",
    area="op-semantics",
    title="var/std default estimator: TF/Keras population (ddof=0), PyTorch unbiased (ddof=1)",
    tf="tf.math.reduce_variance / reduce_std and keras.ops.var / std divide by N.",
    torch="torch.var / torch.std default to correction=1 (divide by N-1, Bessel's correction).",
    witness=lambda: _both(lambda tf: float(tf.math.reduce_variance(tf.constant([1.0, 2.0, 3.0, 4.0]))),
                          lambda t: float(t.var(t.tensor([1.0, 2.0, 3.0, 4.0])))),
    expected={"tf": 1.25, "torch": 1.6666666269302368},
    snippet_tf="tf.math.reduce_variance([1., 2., 3., 4.])  # 1.25",
    snippet_torch="torch.var(torch.tensor([1., 2., 3., 4.]))  # 1.6667",
    evidence="torch.var docs (correction defaults to 1); tf.math.reduce_variance docs (population variance)",
    mapping="torch.var(x, correction=0) == tf.math.reduce_variance(x)",
    applies_to=("op:var", "op:std"),
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="squares-overflow",
    area="numerics",
    title="norm/var/std of large float32 values overflow to inf on both sides (no rescaling)",
    tf="tf.math.reduce_euclidean_norm and reduce_variance square in the input dtype: norm([1e20, 1e20]) = inf.",
    torch="torch.linalg.vector_norm and torch.var square in the input dtype too: the same inf, although the "
          "exact result (1.4e20) is representable; NumPy in float64 gives it.",
    witness=lambda: _both(
        lambda tf: [float(tf.math.reduce_euclidean_norm(tf.constant([1e20, 1e20]))),
                    float(tf.math.reduce_variance(tf.constant([0.0, 3e38])))],
        lambda t: [float(t.linalg.vector_norm(t.tensor([1e20, 1e20]))), float(t.var(t.tensor([0.0, 3e38]), correction=0))]),
    expected={"tf": [INF, INF], "torch": [INF, INF]},
    snippet_tf="tf.norm(tf.constant([1e20, 1e20]))  # inf",
    snippet_torch="torch.linalg.vector_norm(torch.tensor([1e20, 1e20]))  # inf",
    evidence="observed TF 2.21 / torch 2.13 CPU; LAPACK's snrm2 rescales, neither framework's reduction does",
    mapping="scale by max|x| first (x / m, then multiply the norm by m)",
    applies_to=("op:norm", "op:var", "op:std"),
    narrows=frozenset({"huge"}),
))


ENTRIES.add(KnownDifference(
    id="floordiv-flushed-quotient",
    area="numerics",
    title="floor division whose quotient is subnormal: TF gives -0.0, PyTorch -1.0",
    tf="tf.math.floordiv(-1.2e-38, 2.0): the quotient -5.9e-39 is subnormal, TF's CPU flush-to-zero makes it "
       "-0.0 and floor(-0.0) = -0.0 (see tf-cpu-flushes-subnormals).",
    torch="torch.floor_divide keeps the subnormal quotient and floors it to -1.0 (as Python and NumPy do).",
    witness=lambda: _both(lambda tf: tf.math.floordiv(tf.constant([-1.1754944e-38]), tf.constant([2.0])),
                          lambda t: t.floor_divide(t.tensor([-1.1754944e-38]), t.tensor([2.0]))),
    expected={"tf": [-0.0], "torch": [-1.0]},
    snippet_tf="tf.math.floordiv(tf.constant([-1.1754944e-38]), 2.0)  # [-0.]",
    snippet_torch="torch.floor_divide(torch.tensor([-1.1754944e-38]), 2.0)  # tensor([-1.])",
    evidence="consequence of tensorflow/core/platform/denormal.h flush-to-zero; Python: -1.1754944e-38 // 2 == -1.0",
    mapping="none short of torch.set_flush_denormal(True)",
    applies_to=("op:floor_divide:float32", "op:floor_divide:float64", "op:floor_divide:float16",
                "op:floor_divide:bfloat16"),
    narrows=frozenset({"tiny", "huge"}),
))


ENTRIES.add(KnownDifference(
    id="topk-tie-order",
    area="op-semantics",
    title="topk among equal values: TF returns the lowest indices first, PyTorch does not",
    tf="tf.math.top_k is stable: equal values come in index order (documented: 'If two elements are equal, "
       "the lower-index element appears first').",
    torch="torch.topk gives no order among ties: on CPU, topk(zeros(4), 2) returns indices [2, 3].",
    witness=lambda: _both(lambda tf: tf.math.top_k(tf.zeros([4]), 2).indices,
                          lambda t: t.topk(t.zeros(4), 2).indices),
    expected={"tf": [0, 1], "torch": [2, 3]},
    snippet_tf="tf.math.top_k(tf.zeros([4]), 2).indices  # [0, 1]",
    snippet_torch="torch.topk(torch.zeros(4), 2).indices  # tensor([2, 3])",
    evidence="tf.math.top_k docs (stability sentence); torch.topk docs make no ordering promise for ties",
    mapping="torch.sort(x, descending=True, stable=True)[..., :k] reproduces TF's order",
    applies_to=("op:topk",),
    gotcha=True,
    narrows=frozenset({"ties"}),
    zero_signs=frozenset(),  # which of a tied +0 / -0 TF and torch pick is their tie order (the record: why)
))


# Rows shorter than 8 (one AVX float32 packet): TF's k=1 max-reduction runs scalar on them, so the result is exact.
_TOPK_NAN_CASES = (([1.0, 3.0, NAN], 1), ([5.0, NAN, 1.0, 2.0], 1), (_NAN_ROW, 3), (_NAN_ROW, 4))


def _row(x) -> str:
    return "[" + ", ".join(f"{v:g}" for v in x) + "]"


def _topk_nan(top_k) -> dict:
    """{'k=<k> of <row>': [values, indices]} for each case; top_k(row, k) is one framework's call."""
    return {f"k={k} of {_row(x)}": [out[0], out[1]] for x, k in _TOPK_NAN_CASES for out in [top_k(x, k)]}


ENTRIES.add(KnownDifference(
    id="topk-nan",
    area="op-semantics",
    title="top_k with NaN: PyTorch ranks NaN above every number; TF's answer depends on where the NaN sits",
    tf="tf.math.top_k on CPU never ranks NaN first. k = 1 takes an Eigen max-reduction and returns the first "
       "element equal to it; on a row shorter than 8 (one AVX float32 packet) that scan restarts at every NaN, so "
       "it returns the largest number AFTER the last NaN ([5, nan, 1, 2] -> 2, index 3), and when the NaN is the "
       "last element nothing equals the NaN maximum and it returns element 0 ([1, 3, nan] -> 1, index 0). Longer "
       "rows mix a NaN-skipping vector max with that scalar tail. For 1 < k < n a heap ordered by x[b] < x[a] "
       "(ties by index) treats NaN as equal to every number: the NaN lands anywhere and true top values can be "
       "left out (top_k([1, 4, nan, 2, 0.5, 3], 4) = [4, 2, 1, nan], without the 3).",
    torch="torch.topk orders NaN above every number for every k: [1, 3, nan] -> nan (index 2); "
          "[1, 4, nan, 2, 0.5, 3], k=4 -> [nan, 4, 3, 2].",
    witness=lambda: _both(lambda tf: _topk_nan(lambda x, k: tf.math.top_k(tf.constant(x), k)),
                          lambda t: _topk_nan(lambda x, k: t.topk(t.tensor(x), k))),
    expected={"tf": {"k=1 of [1, 3, nan]": [[1.0], [0]], "k=1 of [5, nan, 1, 2]": [[2.0], [3]],
                     "k=3 of [1, 4, nan, 2, 0.5, 3]": [[4.0, NAN, 3.0], [1, 2, 5]],
                     "k=4 of [1, 4, nan, 2, 0.5, 3]": [[4.0, 2.0, 1.0, NAN], [1, 3, 0, 2]]},
              "torch": {"k=1 of [1, 3, nan]": [[NAN], [2]], "k=1 of [5, nan, 1, 2]": [[NAN], [1]],
                        "k=3 of [1, 4, nan, 2, 0.5, 3]": [[NAN, 4.0, 3.0], [2, 1, 5]],
                        "k=4 of [1, 4, nan, 2, 0.5, 3]": [[NAN, 4.0, 3.0, 2.0], [2, 1, 5, 3]]}},
    snippet_tf="tf.math.top_k([1., 3., float('nan')], 1)  # values [1.], indices [0]\n"
               "tf.math.top_k([5., float('nan'), 1., 2.], 1)  # values [2.], indices [3]",
    snippet_torch="torch.topk(torch.tensor([1., 3., float('nan')]), 1)  # values [nan], indices [2]",
    evidence="tensorflow/core/kernels/topk_op.cc (k == 1: input.maximum() then the first c with "
             "values == input(r, c), index 0 when none; k < n: gtl::TopN with the comparator "
             "x[b] < x[a], ties by index); torch aten/src/ATen/native/TopKImpl.h ('we want nan to be sorted as "
             "top for numpy compatibility'); observed TF 2.21 / torch 2.13 CPU",
    mapping="replace NaN before top_k (tf.where(tf.math.is_nan(x), np.inf, x) ranks it like torch when the row "
            "holds no +inf), or test tf.reduce_any(tf.math.is_nan(x)) first",
    applies_to=("op:topk",),
    narrows=frozenset({"nan"}),
))


def _sort_nan(sort, argsort) -> dict:
    """sort(row, descending) / argsort(row, descending) of _NAN_ROW in both directions."""
    return {f"{name}_{'descending' if desc else 'ascending'}": fn(_NAN_ROW, desc)
            for desc in (True, False) for name, fn in (("sort", sort), ("argsort", argsort))}


ENTRIES.add(KnownDifference(
    id="sort-descending-nan",
    area="op-semantics",
    title="sort with NaN: PyTorch orders NaN as the largest value; TF's result is not sorted",
    tf="tf.sort / tf.argsort are tf.math.top_k(k=n) (ascending: top_k of -x), whose CPU kernel std::sorts with "
       "x[b] < x[a]. NaN compares false both ways, so it is 'equal' to every number and the comparator is no "
       "strict weak order: in either direction the NaN stays mid-array and the numbers around it are not in "
       "order. [1, 4, nan, 2, 0.5, 3] DESCENDING -> [4, 1, nan, 3, 2, 0.5]; ASCENDING -> [0.5, 1, 4, nan, 2, 3].",
    torch="torch.sort / torch.argsort treat NaN as larger than every number: first when descending, last when "
          "ascending, the numbers fully sorted ([nan, 4, 3, 2, 1, 0.5] and [0.5, 1, 2, 3, 4, nan]).",
    witness=lambda: _both(lambda tf: _sort_nan(
                              lambda x, desc: tf.sort(tf.constant(x), direction="DESCENDING" if desc else "ASCENDING"),
                              lambda x, desc: tf.argsort(tf.constant(x), direction="DESCENDING" if desc else "ASCENDING")),
                          lambda t: _sort_nan(lambda x, desc: t.sort(t.tensor(x), descending=desc).values,
                                              lambda x, desc: t.argsort(t.tensor(x), descending=desc))),
    expected={"tf": {"sort_descending": [4.0, 1.0, NAN, 3.0, 2.0, 0.5], "argsort_descending": [1, 0, 2, 5, 3, 4],
                     "sort_ascending": [0.5, 1.0, 4.0, NAN, 2.0, 3.0], "argsort_ascending": [4, 0, 1, 2, 3, 5]},
              "torch": {"sort_descending": [NAN, 4.0, 3.0, 2.0, 1.0, 0.5], "argsort_descending": [2, 1, 5, 3, 0, 4],
                        "sort_ascending": [0.5, 1.0, 2.0, 3.0, 4.0, NAN], "argsort_ascending": [4, 0, 3, 5, 1, 2]}},
    snippet_tf="tf.sort([1., 4., float('nan'), 2., .5, 3.], direction='DESCENDING')  # [4, 1, nan, 3, 2, 0.5]",
    snippet_torch="torch.sort(torch.tensor([1., 4., float('nan'), 2., .5, 3.]), descending=True).values  "
                  "# [nan, 4, 3, 2, 1, 0.5]",
    evidence="tensorflow/python/ops/sort_ops.py (_descending_sort = nn_ops.top_k(values, k=n); _ascending_sort "
             "sorts -values); tensorflow/core/kernels/topk_op.cc (k == num_cols: std::sort with comparator "
             "input[b] < input[a]); torch aten/src/ATen/native/cpu/SortingKernel.cpp (NaN-aware comparators); "
             "observed TF 2.21 / torch 2.13 CPU",
    mapping="replace NaN by +inf before tf.sort / tf.argsort (torch's descending order when the data holds no "
            "+inf; -inf for its ascending order), then restore NaN at those positions",
    applies_to=("op:sort", "op:argsort"),
    narrows=frozenset({"nan"}),
))


ENTRIES.add(KnownDifference(
    id="argsort-index-dtype",
    area="dtypes",
    title="argsort/top_k indices: TF returns int32, PyTorch int64",
    tf="tf.argsort and tf.math.top_k return int32 indices.",
    torch="torch.argsort and torch.topk return int64 indices.",
    witness=lambda: _both(lambda tf: [_dtype(tf.argsort(tf.constant([2.0, 1.0]))),
                                      _dtype(tf.math.top_k(tf.constant([2.0, 1.0]), 1).indices)],
                          lambda t: [_dtype(t.argsort(t.tensor([2.0, 1.0]))),
                                     _dtype(t.topk(t.tensor([2.0, 1.0]), 1).indices)]),
    expected={"tf": ["int32", "int32"], "torch": ["int64", "int64"]},
    snippet_tf="tf.argsort([2., 1.]).dtype  # int32",
    snippet_torch="torch.argsort(torch.tensor([2., 1.])).dtype  # int64",
    evidence="tf.math.top_k docs (indices: int32 by default, index_type argument); torch.argsort docs (LongTensor)",
    mapping="tf.math.top_k(..., index_type=tf.int64); cast argsort",
    applies_to=("op:argsort", "op:topk"),
))


ENTRIES.add(KnownDifference(
    id="one-hot-result-dtype",
    area="dtypes",
    title="one_hot: TF returns float32, PyTorch int64",
    tf="tf.one_hot(indices, depth) returns float32 (dtype argument, default tf.float32).",
    torch="torch.nn.functional.one_hot returns int64 (no dtype argument).",
    witness=lambda: _both(lambda tf: _dtype(tf.one_hot(tf.constant([1]), 3)),
                          lambda t: _dtype(t.nn.functional.one_hot(t.tensor([1]), 3))),
    expected={"tf": "float32", "torch": "int64"},
    snippet_tf="tf.one_hot([1], 3).dtype  # float32",
    snippet_torch="F.one_hot(torch.tensor([1]), 3).dtype  # int64",
    evidence="tf.one_hot docs (dtype defaults to tf.float32); torch.nn.functional.one_hot docs (LongTensor)",
    mapping="F.one_hot(i, n).float()",
    applies_to=("op:one_hot",),
))


ENTRIES.add(KnownDifference(
    id="one-hot-out-of-range",
    area="op-semantics",
    title="one_hot of an index outside [0, depth): TF gives an all-zero row, PyTorch raises",
    tf="tf.one_hot maps indices < 0 or >= depth to a row of off_value (zeros).",
    torch="torch.nn.functional.one_hot raises RuntimeError ('Class values must be smaller than num_classes').",
    witness=lambda: _both(lambda tf: tf.one_hot(tf.constant([5, -1]), 3),
                          lambda t: t.nn.functional.one_hot(t.tensor([5, -1]), 3)),
    expected={"tf": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], "torch": "raises RuntimeError"},
    snippet_tf="tf.one_hot([5, -1], 3)  # two zero rows",
    snippet_torch="F.one_hot(torch.tensor([5]), 3)  # RuntimeError",
    evidence="tf.one_hot docs ('If indices is ... outside [0, depth), the output is off_value'); torch raises",
    mapping="mask invalid labels before torch one_hot",
    applies_to=("op:one_hot",),
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="gather-out-of-range",
    area="op-semantics",
    title="gather with an out-of-range index: both raise on CPU, with different error types",
    tf="tf.gather on CPU raises InvalidArgumentError ('indices[0] = 5 is not in [0, 2)'); on GPU it returns 0 "
       "for the bad index instead (documented).",
    torch="torch.index_select raises IndexError ('index out of range in self') on CPU (a device assert on CUDA).",
    witness=lambda: _both(lambda tf: tf.gather(tf.constant([1.0, 2.0]), tf.constant([5])),
                          lambda t: t.index_select(t.tensor([1.0, 2.0]), 0, t.tensor([5]))),
    expected={"tf": "raises InvalidArgumentError", "torch": "raises IndexError"},
    snippet_tf="tf.gather([1., 2.], [5])  # InvalidArgumentError on CPU, 0. on GPU",
    snippet_torch="torch.index_select(torch.tensor([1., 2.]), 0, torch.tensor([5]))  # IndexError",
    evidence="tf.gather docs ('On CPU, if an out of bound index is found, an error is returned. On GPU, ... a 0 "
             "is stored'); torch.index_select docs",
    mapping="validate indices; catch both exception types",
    applies_to=("op:gather",),
))


ENTRIES.add(KnownDifference(
    id="softmax-nan",
    area="op-semantics",
    title="softmax with NaN or +inf in the row: PyTorch returns NaN for the whole row; TF keeps the rest "
"only with oneDNN",
    tf="With oneDNN on (the default on CPUs with AVX512-VNNI/BF16, AVX-VNNI or AMX), tf.nn.softmax / log_softmax "
       "take the row max ignoring NaN, so other entries stay numbers: softmax([0, nan]) = [0, nan], "
       "softmax([0, inf]) = [0, nan]. With oneDNN off (TF_ENABLE_ONEDNN_OPTS=0, or any CPU without those "
       "features, e.g. AVX2-only AMD EPYC) the Eigen kernel propagates NaN to the whole row, as torch does.",
    torch="torch.softmax / log_softmax propagate NaN (and inf - inf) to every entry of the row.",
    witness=lambda: _both(lambda tf: [tf.nn.softmax(tf.constant([0.0, NAN])), tf.nn.softmax(tf.constant([0.0, INF]))],
                          lambda t: [t.softmax(t.tensor([0.0, NAN]), dim=0), t.softmax(t.tensor([0.0, INF]), dim=0)]),
    expected={"tf": ByPlatform("tf_onednn", {True: [[0.0, NAN], [0.0, NAN]], False: [[NAN, NAN], [NAN, NAN]]}),
              "torch": [[NAN, NAN], [NAN, NAN]]},
    snippet_tf="tf.nn.softmax([0., float('nan')])  # [0., nan] with oneDNN, [nan, nan] without",
    snippet_torch="torch.softmax(torch.tensor([0., float('nan')]), 0)  # [nan, nan]",
    evidence="observed TF 2.21 / torch 2.13 CPU with TF_ENABLE_ONEDNN_OPTS=1 and =0 (oneDNN's softmax primitive "
             "takes a max that skips NaN; TF's Eigen SoftmaxOp does not); reported first from an AVX2-only CI machine",
    applies_to=("op:softmax", "op:log_softmax"),
    narrows=frozenset({"nan", "inf"}),
))


ENTRIES.add(KnownDifference(
    id="conv-same-padding-nan",
    area="numerics",
    title="'same' convolution with a NaN/inf weight: PyTorch may skip the padded taps, TF does not",
    tf="tf.nn.convolution(padding='SAME') multiplies the zero padding by every weight: a NaN weight makes every "
       "output it touches NaN, border outputs included.",
    torch="torch conv1d/conv2d(padding='same') with batch > 1 runs oneDNN, whose AVX2/AVX-512 kernels skip "
          "padded positions: 0 * NaN never happens there, so border outputs stay 0. With oneDNN limited to "
          "SSE4.1 (ONEDNN_MAX_CPU_ISA=SSE41, or a CPU without AVX2) and with batch 1, every output is NaN as in TF.",
    witness=lambda: _both(
        lambda tf: tf.reshape(tf.nn.convolution(tf.zeros([2, 3, 1]), tf.constant([[[NAN]], [[0.0]]]), padding="SAME",
                                                dilations=2), [-1]),
        lambda t: t.nn.functional.conv1d(t.zeros(2, 1, 3), t.tensor([[[NAN, 0.0]]]), padding="same", dilation=2).reshape(-1)),
    expected={"tf": [NAN] * 6,
              "torch": ByPlatform("onednn_cpu_isa", {("AVX2", "AVX512"): [0.0, NAN, NAN, 0.0, NAN, NAN],
                                                     "SSE41": [NAN] * 6})},
    snippet_tf="tf.nn.convolution(tf.zeros([2, 3, 1]), [[[nan]], [[0.]]], padding='SAME', dilations=2)  # all nan",
    snippet_torch="F.conv1d(torch.zeros(2, 1, 3), torch.tensor([[[nan, 0.]]]), padding='same', dilation=2)  # 0 at borders",
    evidence="observed TF 2.21 / torch 2.13 CPU under ONEDNN_MAX_CPU_ISA=AVX512_CORE|AVX2|SSE41 (batch 1 gives "
             "NaN on both sides)",
    applies_to=("op:conv1d-same_dilation2", "op:conv2d-same"),
    narrows=frozenset({"nan", "inf"}),
))


ENTRIES.add(KnownDifference(
    id="relu6-negative-zero",
    area="op-semantics",
    title="relu6(-0.0) on vectorised paths: PyTorch keeps -0.0, TF returns +0.0",
    tf="tf.nn.relu6 returns +0.0 for -0.0 inputs in its vectorised kernel (float32 tensors of >= 16 elements, "
       "float64 of >= 4); short tensors keep -0.0.",
    torch="torch.nn.functional.relu6 (hardtanh, a clamp) keeps -0.0 for any size.",
    witness=lambda: _both(lambda tf: np.signbit(tf.nn.relu6(tf.fill([16], -0.0)).numpy()).astype(int),
                          lambda t: t.signbit(t.nn.functional.relu6(t.full((16,), -0.0))).int()),
    expected={"tf": [0] * 16, "torch": [1] * 16},
    snippet_tf="tf.nn.relu6(tf.fill([16], -0.0))  # +0.0 ...",
    snippet_torch="F.relu6(torch.full((16,), -0.0))  # -0.0 ...",
    evidence="observed TF 2.21 / torch 2.13 CPU; torch implements relu6 as hardtanh(0, 6)",
    applies_to=("op:relu6",),
    narrows=frozenset({"negzero"}),
))


ENTRIES.add(KnownDifference(
    id="gelu-inf",
    area="op-semantics",
    title="exact gelu(+inf) in float32 tensors: TF returns inf; PyTorch NaN where oneDNN runs AVX-512 code",
    tf="tf.nn.gelu(inf) = inf (exact and tanh forms; keras.ops.gelu too).",
    torch="torch.nn.functional.gelu (exact) hands contiguous float32 tensors of >= 2 elements to oneDNN "
          "(eltwise_gelu_erf). oneDNN's AVX-512 JIT kernel (CPUs with AVX-512, the default there) returns NaN "
          "for +inf; its AVX2 and SSE4.1 kernels (AVX2-only CPUs, or ONEDNN_MAX_CPU_ISA=AVX2) return inf. "
          "ATEN_CPU_CAPABILITY does not change it. Scalars, float64, torch.backends.mkldnn disabled, and the "
          "tanh form give inf.",
    witness=lambda: _both(lambda tf: [tf.nn.gelu(tf.fill([4], INF)), tf.nn.gelu(tf.fill([4], INF), approximate=True)],
                          lambda t: [t.nn.functional.gelu(t.full((4,), INF)),
                                     t.nn.functional.gelu(t.full((4,), INF), approximate="tanh")]),
    expected={"tf": [[INF] * 4, [INF] * 4],
              "torch": ByPlatform("onednn_cpu_isa", {"AVX512": [[NAN] * 4, [INF] * 4],
                                                     ("AVX2", "SSE41"): [[INF] * 4, [INF] * 4]})},
    snippet_tf="tf.nn.gelu(tf.fill([4], float('inf')))  # [inf, inf, inf, inf]",
    snippet_torch="F.gelu(torch.full((4,), float('inf')))  # [nan, ...] on AVX-512 CPUs, [inf, ...] on AVX2",
    evidence="observed TF 2.21 / torch 2.13 CPU under ONEDNN_MAX_CPU_ISA=AVX512_CORE|AVX2|SSE41 and with "
             "torch.backends.mkldnn.flags(enabled=False) (aten/src/ATen/native/Activation.cpp: gelu_out_cpu uses "
             "ideep eltwise_gelu_erf when use_mkldnn(self)); reported first from an AVX2-only CI machine",
    applies_to=("op:gelu-exact",),
    narrows=frozenset({"inf"}),
))


# batch_norm(x, mean, var, gamma, beta) in inference, float32 and float64, where x * gamma / sqrt(var + eps) cancels
# mean's term exactly (float32) or underflows (float64): rounded once (FMA) the result keeps the product's sign
_BN_FOLD_ZERO = {"float32": ([1.5], [1.5], [0.33203125], [1.1754944e-38], [0.0]),
                 "float64": ([-2.22507386e-308], [0.0], [1.0], [2.21275108e-260], [0.0])}


def _batch_norm_fold_zero_signs() -> dict:
    """{side: [signbit float32, signbit float64]} of inference batch norm on _BN_FOLD_ZERO (eps 1e-5, (1, 1) x)."""
    t, tf = runtime.torch(), runtime.tf()
    out = {"tf": [], "torch": []}
    for dtype, (x, mean, var, gamma, beta) in _BN_FOLD_ZERO.items():
        x = np.array([x], dtype)
        stats = [np.array(v, dtype) for v in (mean, var, gamma, beta)]
        out["tf"] += _signbits(tf.nn.batch_normalization(tf.constant(x), *map(tf.constant, stats[:2]),
                                                         tf.constant(stats[3]), tf.constant(stats[2]), 1e-5))
        out["torch"] += _signbits(t.nn.functional.batch_norm(t.tensor(x), *map(t.tensor, stats), training=False,
                                                             eps=1e-5))
    return out


ENTRIES.add(KnownDifference(
    id="torch-batch-norm-fma-zero-sign",
    area="numerics",
    title="inference batch norm whose folded terms cancel or underflow: -0.0 from torch's vectorised CPU kernel "
          "(one rounding, FMA), +0.0 from TF and from torch's scalar kernel",
    tf="tf.nn.batch_normalization computes x * a + (beta - mean * a), a = gamma / sqrt(var + eps), as separate "
       "multiply and add: a product that underflows is -0.0, and -0.0 + +0.0 = +0.0; two equal products cancel "
       "to +0.0 (oneDNN on or off).",
    torch="F.batch_norm(training=False) on the CPU folds the same alpha = a, beta' = beta - mean * a, and its AVX2 "
          "and AVX-512 kernels evaluate x * alpha + beta' with one rounding (fused multiply-add): the exact result "
          "is a tiny negative number, rounded to -0.0. The DEFAULT (scalar) kernel (ATEN_CPU_CAPABILITY=default) "
          "rounds the product first and gives +0.0, as TF does.",
    witness=_batch_norm_fold_zero_signs,
    expected={"tf": [0, 0],
              "torch": ByPlatform("torch_cpu_capability", {"DEFAULT": [0, 0], ("AVX2", "AVX512"): [1, 1]})},
    snippet_tf="tf.nn.batch_normalization(tf.constant([[-2.2e-308]]), 0., 1., 0., 2.2e-260, 1e-5)  # [[0.0]]",
    snippet_torch="F.batch_norm(torch.tensor([[-2.2e-308]]), *[torch.tensor([v]) for v in (0., 1., 2.2e-260, 0.)])"
                  "  # [[-0.0]] on AVX2/AVX-512",
    evidence="observed TF 2.21 (TF_ENABLE_ONEDNN_OPTS=0|1) / torch 2.13 CPU under ATEN_CPU_CAPABILITY="
             "default|avx2|avx512; found by tests/test_ops.py's zero-sign check under thorough (AVX2 setting, "
             "seed 12); aten/src/ATen/native/cpu/batch_norm_kernel.cpp (Vectorized fmadd)",
    mapping="none for the values (both zeros lie within the rounding of the folded terms); code that reads the "
            "sign of a normalised zero gets platform-dependent answers from torch",
    applies_to=("op:batch_norm-inference",),
    # Where torch fuses, TF's and torch's zero signs disagree; against the reference neither is asserted (the
    # op's zero_sign: the reference computes (x - mean) * a + beta, not the folded form)
    zero_signs=ByPlatform("torch_cpu_capability", {"DEFAULT": None, ("AVX2", "AVX512"): frozenset()}),
))


_GELU_NEGATIVE = [-0.0, -8.5e37, -7.0]  # gelu: -0.0, Phi underflowing to 0, and an exact result of -9.0e-12


ENTRIES.add(KnownDifference(
    id="gelu-onednn-zero-sign",
    area="numerics",
    title="exact gelu of -0.0 and of large negative float32 inputs: +0.0 in PyTorch where "
"oneDNN runs AVX2 or SSE4.1 code, -0.0 in TF",
    tf="tf.nn.gelu(x, approximate=False) = 0.5 x (1 + erf(x / sqrt 2)) keeps the sign of x: gelu(-0.0) = -0.0, "
       "and where Phi(x) underflows (x = -8.5e37) -x * 0 = -0.0 (keras.ops.gelu too; oneDNN on or off).",
    torch="torch.nn.functional.gelu (exact) on contiguous float32 tensors of >= 2 elements runs oneDNN's "
          "eltwise_gelu_erf. Its AVX2 and SSE4.1 kernels (AVX2-only CPUs, or ONEDNN_MAX_CPU_ISA=AVX2) return "
          "+0.0 for -0.0, for -8.5e37 and for -7.0 (whose exact result, -9.0e-12, is a normal float32); the "
          "AVX-512 kernel returns -0.0 for all three. Scalars, float64, float16, bfloat16, the tanh form and "
          "torch.backends.mkldnn disabled keep -0.0. ATEN_CPU_CAPABILITY does not change it.",
    witness=lambda: _both(lambda tf: _signbits(tf.nn.gelu(tf.constant(_GELU_NEGATIVE), approximate=False)),
                          lambda t: _signbits(t.nn.functional.gelu(t.tensor(_GELU_NEGATIVE)))),
    expected={"tf": [1, 1, 1],
              "torch": ByPlatform("onednn_cpu_isa", {"AVX512": [1, 1, 1], ("AVX2", "SSE41"): [0, 0, 0]})},
    snippet_tf="tf.nn.gelu(tf.constant([-0.0, -8.5e37]), approximate=False)  # [-0.0, -0.0]",
    snippet_torch="F.gelu(torch.tensor([-0.0, -8.5e37]))  # [0.0, 0.0] on AVX2 CPUs, [-0.0, -0.0] on AVX-512",
    evidence="observed TF 2.21 / torch 2.13 CPU under ONEDNN_MAX_CPU_ISA=AVX512_CORE|AVX2|SSE41 and "
             "ATEN_CPU_CAPABILITY=default|avx2|avx512; found by the suite's zero-sign check under "
             "ONEDNN_MAX_CPU_ISA=AVX2. Where the entry expects +0.0, tests/test_ops.py leaves torch's zero signs "
             "(against the reference and TF's) to this witness (ZERO_SIGNS); elsewhere it checks them all",
    mapping="none for the values (the +0.0 results lie within 9e-12 of the exact ones); code that reads the "
            "sign of gelu's zeros (np.signbit, copysign, 1 / x) gets platform-dependent answers from torch",
    applies_to=("op:gelu-exact:float32",),
    # oneDNN's AVX2/SSE4.1 gelu_erf kernel returns +0 for -0 and for the underflowing negative tail; AVX-512's keeps -0
    zero_signs=ByPlatform("onednn_cpu_isa", {"AVX512": None, ("AVX2", "SSE41"): frozenset({"torch"})}),
))


_LOG_SIGMOID_TAIL = [8.5e37, float("inf")]  # exp(-x) underflows: log(sigmoid(x)) is a negative number rounding to 0


ENTRIES.add(KnownDifference(
    id="log-sigmoid-underflow-zero-sign",
    area="numerics",
    title="log_sigmoid of large positive inputs: -0.0 in Keras/TF, +0.0 in PyTorch",
    tf="keras.ops.log_sigmoid(x) is -softplus(-x) on TF: where exp(-x) underflows (x = 8.5e37, +inf) the result, a "
       "negative number too small for float32, is -0.0.",
    torch="torch.nn.functional.logsigmoid computes min(x, 0) - log1p(exp(-|x|)): 0 - 0 = +0.0 there, on every CPU "
          "capability (DEFAULT, AVX2, AVX512) and for scalars alike.",
    witness=lambda: _both(lambda tf: _signbits(runtime.keras().ops.log_sigmoid(tf.constant(_LOG_SIGMOID_TAIL))),
                          lambda t: _signbits(t.nn.functional.logsigmoid(t.tensor(_LOG_SIGMOID_TAIL)))),
    expected={"tf": [1, 1], "torch": [0, 0]},
    snippet_tf="keras.ops.log_sigmoid(tf.constant([8.5e37, float('inf')]))  # [-0.0, -0.0]",
    snippet_torch="F.logsigmoid(torch.tensor([8.5e37, float('inf')]))  # [0.0, 0.0]",
    evidence="observed TF 2.21 / Keras 3.15 / torch 2.13 CPU under ATEN_CPU_CAPABILITY=default|avx2|avx512; found by "
             "the suite's zero-sign check when log_sigmoid joined OP_DB as one record (issue 11's example); "
             "aten/src/ATen/native/cpu/Activation.cpp log_sigmoid_cpu_kernel (min(x, 0) - log1p(exp(-|x|)))",
    mapping="none for the values (both are within the smallest subnormal of the exact result); code that reads the "
            "sign of the zero (np.signbit, copysign, 1 / x) gets +0.0 from torch",
    applies_to=("op:log_sigmoid",),
    zero_signs=frozenset({"torch"}),  # the witness owns torch's zero sign against the reference, and TF's against torch's
))


ENTRIES.add(KnownDifference(
    id="tf-float64-activation-constants",
    area="numerics",
    title="TF's leaky_relu alpha and gelu constants are float32 even for float64",
    tf="tf.nn.leaky_relu(alpha=0.2) stores alpha as a float32 attribute (0.20000000298); tf.nn.gelu's float64 "
       "result is only float32-accurate: gelu(1.0) = 0.84134474192739 (exact 0.84134474606854).",
    torch="torch.nn.functional.leaky_relu / gelu compute in float64 throughout.",
    witness=lambda: _both(
        lambda tf: [float(tf.nn.leaky_relu(tf.constant(-1.0, tf.float64), alpha=0.2)),
                    float(tf.nn.gelu(tf.constant(1.0, tf.float64)))],
        lambda t: [float(t.nn.functional.leaky_relu(t.tensor(-1.0, dtype=t.float64), 0.2)),
                   float(t.nn.functional.gelu(t.tensor(1.0, dtype=t.float64)))]),
    expected={"tf": [-0.20000000298023224, 0.8413447419273903], "torch": [-0.2, 0.841344746068543]},
    snippet_tf="tf.nn.leaky_relu(tf.constant(-1.0, tf.float64), alpha=0.2)  # -0.20000000298023224",
    snippet_torch="F.leaky_relu(torch.tensor(-1.0, dtype=torch.float64), 0.2)  # -0.2",
    evidence="tf.raw_ops.LeakyRelu (alpha: float attribute); observed TF 2.21 / torch 2.13 CPU",
    mapping="none in TF: write the float64 formula by hand",
    applies_to=("op:leaky_relu", "op:gelu"),
    atol=1e-15,
))


ENTRIES.add(KnownDifference(
    id="max-pool-nan",
    area="op-semantics",
    title="max pooling over NaN or -inf: TF returns the lowest finite float, PyTorch NaN / -inf",
    tf="tf.nn.max_pool2d starts from lowest() and ignores NaN: a window of only NaN, or only -inf, returns "
       "-3.4e38 (float32 lowest).",
    torch="torch.nn.functional.max_pool2d returns NaN for any window containing NaN and -inf for an all -inf one.",
    witness=lambda: _both(
        lambda tf: [tf.reshape(tf.nn.max_pool2d(tf.fill([1, 1, 2, 1], NAN), 1, 1, "VALID"), [-1]),
                    tf.reshape(tf.nn.max_pool2d(tf.fill([1, 1, 1, 1], -INF), 1, 1, "VALID"), [-1])],
        lambda t: [t.nn.functional.max_pool2d(t.full((1, 1, 1, 2), NAN), 1, 1).reshape(-1),
                   t.nn.functional.max_pool2d(t.full((1, 1, 1, 1), -INF), 1, 1).reshape(-1)]),
    expected={"tf": [[-3.4028234663852886e38] * 2, [-3.4028234663852886e38]], "torch": [[NAN, NAN], [-INF]]},
    snippet_tf="tf.nn.max_pool2d(tf.fill([1, 1, 2, 1], float('nan')), 1, 1, 'VALID')  # -3.4e38",
    snippet_torch="F.max_pool2d(torch.full((1, 1, 1, 2), float('nan')), 1)  # nan",
    evidence="observed TF 2.21 / torch 2.13 CPU (oneDNN/Eigen max pooling initialises with lowest())",
    applies_to=("op:max_pool2d",),
    gotcha=True,
    narrows=frozenset({"nan", "inf"}),
))


ENTRIES.add(KnownDifference(
    id="keras-layer-norm-cancellation",
    area="numerics",
    title="Keras layer_normalization loses precision when the variance is << epsilon, "
"and the sign of its zero results follows its fused form",
    tf="keras.ops.layer_normalization computes x * inv + (beta - mean * inv) with inv = gamma / sqrt(var + eps); "
       "for a constant row inv ~ 316 and the two terms cancel: [[1.]] with beta 1.8490777 gives 1.8490906. With "
       "gamma = 0 and beta = -0 that form gives +0 (x * 0 + (-0 - mean * 0) = +0 + -0).",
    torch="torch.nn.functional.layer_norm computes (x - mean) * rstd * gamma + beta: exactly beta here, and "
          "-0 where (x - mean) < 0, gamma = 0 and beta = -0 (as the float64 reference does).",
    witness=lambda: _both(
        lambda tf: [runtime.keras().ops.layer_normalization(tf.constant([[1.0]]), tf.constant([1.0]),
                                                             tf.constant([1.8490777]), epsilon=1e-5),
                    _signbits(runtime.keras().ops.layer_normalization(
                        tf.constant([[1.0, 7.5]]), tf.constant([0.0, 1.0]), tf.constant([-0.0, 1.0]),
                        epsilon=1e-5)[0, :1])],
        lambda t: [t.nn.functional.layer_norm(t.tensor([[1.0]]), (1,), t.tensor([1.0]), t.tensor([1.8490777]),
                                              eps=1e-5),
                   _signbits(t.nn.functional.layer_norm(t.tensor([[1.0, 7.5]]), (2,), t.tensor([0.0, 1.0]),
                                                        t.tensor([-0.0, 1.0]), eps=1e-5)[0, :1])]),
    expected={"tf": [[[1.849090576171875]], [0]], "torch": [[[1.8490777015686035]], [1]]},
    snippet_tf="keras.ops.layer_normalization([[1.]], [1.], [1.8490777], epsilon=1e-5)  # [[1.8490906]]",
    snippet_torch="F.layer_norm(torch.tensor([[1.]]), (1,), torch.ones(1), torch.tensor([1.8490777]))  # 1.8490777",
    evidence="keras/src/ops/nn.py layer_normalization -> tf.nn.batch_normalization (fused x*inv + offset form); "
             "the zero sign found by the suite's zero-sign check (gamma flushed to 0, beta -0)",
    mapping="none; the error is ~eps(float32) * |x| / sqrt(eps)",
    applies_to=("op:layer_norm",),
    narrows=frozenset({"ties"}),
    zero_signs=frozenset({"tf"}),
))


ENTRIES.add(KnownDifference(
    id="mod-float-overflowing-quotient",
    area="numerics",
    title="float remainder/fmod when x / y overflows: PyTorch's vectorised kernels give NaN",
    tf="tf.math.floormod(4.49e307, 2.2e-308) = 0.0 in float64 and tf.truncatemod(5, 1.2e-38) = 0.0 in float32 "
       "(fmod-based, exact), like NumPy.",
    torch="torch.remainder and torch.fmod compute through x / y in vectorised tensors (float64 >= 8, float32 "
          ">= 16 elements) with the AVX2/AVX512 kernels: the quotient overflows to inf and the result is NaN "
          "(scalars, fmod with a scalar divisor, and the DEFAULT capability's scalar loop give 0.0).",
    witness=lambda: _both(
        lambda tf: [tf.math.floormod(tf.fill([8], np.float64(4.49e307)), tf.constant(2.2250738585072014e-308, tf.float64)),
                    tf.truncatemod(tf.fill([16], 5.0), tf.fill([16], 1.1754944e-38))],
        lambda t: [t.remainder(t.full((8,), 4.49e307, dtype=t.float64), t.tensor(2.2250738585072014e-308, dtype=t.float64)),
                   t.fmod(t.full((16,), 5.0), t.full((16,), 1.1754944e-38))]),
    expected={"tf": [[0.0] * 8, [0.0] * 16],
              "torch": ByPlatform("torch_cpu_capability", {("AVX2", "AVX512"): [[NAN] * 8, [NAN] * 16],
                                                           "DEFAULT": [[0.0] * 8, [0.0] * 16]})},
    snippet_tf="tf.math.floormod(tf.fill([8], 4.49e307), 2.2e-308)  # zeros (float64)",
    snippet_torch="torch.remainder(torch.full((8,), 4.49e307, dtype=torch.float64), 2.2e-308)  # nan",
    evidence="observed TF 2.21 / torch 2.13 CPU under ATEN_CPU_CAPABILITY=default|avx2|avx512; torch remainder "
             "formula in aten/src/ATen/native/cpu/BinaryOpsKernel.cpp",
    applies_to=("op:mod:float64", "op:mod:float32", "op:mod:float16", "op:mod:bfloat16", "op:fmod:float32",
                "op:fmod:float64"),
    narrows=frozenset({"huge", "tiny", "subnormal"}),  # a subnormal divisor overflows x / y as a tiny one does:
    # torch's vectorised remainder/fmod give NaN there (AVX2/AVX512), NumPy 0.0
))


ENTRIES.add(KnownDifference(
    id="max-signed-zero",
    area="op-semantics",
    title="max over {0.0, -0.0}: TF may return -0.0, PyTorch +0.0",
    tf="tf.math.reduce_max([0., -0.]) returns -0.0 (IEEE leaves the choice open).",
    torch="torch.amax([0., -0.]) returns +0.0.",
    witness=lambda: _both(lambda tf: float(np.signbit(tf.math.reduce_max(tf.constant([0.0, -0.0], tf.bfloat16)).numpy())),
                          lambda t: float(t.signbit(t.amax(t.tensor([0.0, -0.0], dtype=t.bfloat16))))),
    expected={"tf": 1.0, "torch": 0.0},
    snippet_tf="tf.math.reduce_max(tf.constant([0., -0.], tf.bfloat16))  # -0.0",
    snippet_torch="torch.amax(torch.tensor([0., -0.], dtype=torch.bfloat16))  # 0.0",
    evidence="IEEE 754-2019 maximum(+0, -0) is +0 only for the new maximum operation; both libraries use >",
    applies_to=("op:max", "op:min"),
    narrows=frozenset({"negzero"}),
))


ENTRIES.add(KnownDifference(
    id="maximum-signed-zero",
    area="op-semantics",
    title="elementwise maximum/minimum of 0.0 and -0.0: which zero comes back depends on the "
"kernel path (broadcast, vector width), differently on each side",
    tf="tf.math.maximum([[-0.]], [0., -0.] * 4) returns the second operand's zero (+0, -0, ...); with both "
       "operands of 8 elements it returns the first.",
    torch="torch.maximum on the same (1, 1) x (8,) broadcast returns the first operand's -0.0 everywhere; at 16 "
          "elements it returns the second. minimum behaves the same on both sides.",
    witness=lambda: _both(
        lambda tf: np.signbit(tf.math.maximum(tf.constant([[-0.0]]), tf.constant([0.0, -0.0] * 4))).astype(int)
        .ravel().tolist(),
        lambda t: t.maximum(t.tensor([[-0.0]]), t.tensor([0.0, -0.0] * 4)).signbit().int().ravel().tolist()),
    expected={"tf": [0, 1] * 4, "torch": [1] * 8},
    snippet_tf="tf.math.maximum([[-0.]], [0., -0.] * 4)  # [[0., -0., 0., -0., ...]]",
    snippet_torch="torch.maximum(torch.tensor([[-0.]]), torch.tensor([0., -0.] * 4))  # [[-0., -0., ...]]",
    evidence="observed TF 2.21 / torch 2.13 CPU (test_op_matches_on_edge_values[maximum-float32]); IEEE 754 "
             "leaves maxNum(+0, -0) open",
    applies_to=("op:maximum", "op:minimum"),
    narrows=frozenset({"negzero"}),
))


ENTRIES.add(KnownDifference(
    id="relu-negative-zero",
    area="op-semantics",
    title="relu(-0.0) on vectorised paths: PyTorch keeps -0.0, TF returns +0.0",
    tf="tf.nn.relu returns +0.0 for -0.0 inputs in tensors of >= 16 float32 elements.",
    torch="torch.relu keeps -0.0 (a clamp_min).",
    witness=lambda: _both(lambda tf: np.signbit(tf.nn.relu(tf.fill([16], -0.0)).numpy()).astype(int),
                          lambda t: t.signbit(t.relu(t.full((16,), -0.0))).int()),
    expected={"tf": [0] * 16, "torch": [1] * 16},
    snippet_tf="tf.nn.relu(tf.fill([16], -0.0))  # +0.0 ...",
    snippet_torch="torch.relu(torch.full((16,), -0.0))  # -0.0 ...",
    evidence="observed TF 2.21 / torch 2.13 CPU",
    applies_to=("op:relu",),
    narrows=frozenset({"negzero"}),
))


ENTRIES.add(KnownDifference(
    id="tf-half-flushes-intermediates",
    area="numerics",
    title="TF's float16/bfloat16 activations compute intermediates in half precision "
"(flushing tiny ones); PyTorch computes in float32 and rounds once",
    tf="float16 selu / gelu on CPU compute intermediates in float16 under flush-to-zero: selu(-6.1e-05) = 0.0, "
       "tanh-gelu(-4) = -0.0 (1 + tanh(...) = 3.5e-5 is subnormal in float16); bfloat16 tanh-gelu(-3) = "
       "-0.00586 where the exact value is -0.00363 (1 + tanh cancels in 8 bits).",
    torch="torch computes half-precision activations in float32 and rounds once: selu(-6.1e-05) = -1.07e-04, "
          "tanh-gelu(-4) = -7.0e-05 (float16), tanh-gelu(-3) = -0.00363 (bfloat16).",
    witness=lambda: _both(
        lambda tf: [float(tf.nn.selu(tf.constant(-6.104e-05, tf.float16))),
                    float(tf.nn.gelu(tf.constant(-4.0, tf.float16), approximate=True)),
                    float(tf.nn.gelu(tf.constant(-3.0, tf.bfloat16), approximate=True))],
        lambda t: [float(t.nn.functional.selu(t.tensor(-6.104e-05, dtype=t.float16))),
                   float(t.nn.functional.gelu(t.tensor(-4.0, dtype=t.float16), approximate="tanh")),
                   float(t.nn.functional.gelu(t.tensor(-3.0, dtype=t.bfloat16), approximate="tanh"))]),
    expected={"tf": [0.0, -0.0, -0.005859375],
              "torch": [-0.00010728836059570312, -7.021427154541016e-05, -0.003631591796875]},
    snippet_tf="tf.nn.selu(tf.constant(-6.104e-05, tf.float16))  # 0.0",
    snippet_torch="F.selu(torch.tensor(-6.104e-05, dtype=torch.float16))  # -1.073e-04",
    evidence="observed TF 2.21 / torch 2.13 CPU; see tf-cpu-flushes-subnormals",
    applies_to=("op:*:float16", "op:*:bfloat16", "op:norm:bfloat16"),  # norm named: a record it concerns
    narrows=frozenset({"tiny"}),
))


ENTRIES.add(KnownDifference(
    id="tf-erf-float64-inf",
    area="numerics",
    title="erf of +-inf or of huge float64 values: TF returns NaN, PyTorch +-1",
    tf="tf.math.erf on float64 returns NaN for +-inf and for huge finite inputs such as 1e200 (its float64 "
       "kernel evaluates terms that become inf / inf); float16/bfloat16/float32 give +-1.",
    torch="torch.erf(+-inf) = +-1 in every dtype, as C's erf and NumPy/math.erf.",
    witness=lambda: _both(lambda tf: tf.math.erf(tf.constant([INF, -INF, 1e200, 30.0], tf.float64)),
                          lambda t: t.erf(t.tensor([INF, -INF, 1e200, 30.0], dtype=t.float64))),
    expected={"tf": [NAN, NAN, NAN, 1.0], "torch": [1.0, -1.0, 1.0, 1.0]},
    snippet_tf="tf.math.erf(tf.constant([float('inf')], tf.float64))  # [nan]",
    snippet_torch="torch.erf(torch.tensor([float('inf')], dtype=torch.float64))  # tensor([1.])",
    evidence="observed TF 2.21 / torch 2.13 CPU; C99 erf(+-inf) = +-1",
    mapping="tf.where(tf.math.is_inf(x), tf.sign(x), tf.math.erf(x))",
    applies_to=("op:erf:float64",),
    gotcha=True,
    narrows=frozenset({"inf", "huge"}),
))


ENTRIES.add(KnownDifference(
    id="keras-add-bias-broadcast",
    area="op-semantics",
    title="keras.ops.add on TF treats a bias-like second operand as a bias (tf.nn.bias_add), not by broadcasting: "
          "wrong shapes, wrong axes, and MultiHeadAttention with key_dim 1 and T == num_heads is wrong",
    tf="keras.ops.add(x1, x2) calls tf.nn.bias_add when x2 squeezes to one non-unit dim equal to x1's dim 1 or -1 "
       "('NCHW' for dim 1). So (1, 2) + (2, 1) returns [[0, 11]] (shape (1, 2)) instead of the (2, 2) broadcast; "
       "(0, 2, 0) + (2, 0) raises InvalidArgumentError ('Biases must be 1D'); and (1, 2, 2, 1) + (2, 1) adds b[t] "
       "along axis 1 instead of b[h] along axis 2: [1, 1, 2, 2]. EinsumDense adds its (H, dk) bias with "
       "keras.ops.add, so MultiHeadAttention's q/k/v projections with key_dim = 1 (or value_dim = 1) use the "
       "wrong bias whenever the sequence length equals num_heads.",
    torch="torch.add broadcasts by the trailing axes (NumPy's rule): (1, 2) + (2, 1) is [[0, 1], [10, 11]], "
          "(1, 2, 2, 1) + (2, 1) is [1, 2, 1, 2]; tf.math.add and NumPy agree with torch.",
    witness=lambda: _both(
        lambda tf: [runtime.keras().ops.add(tf.constant([[0, 1]]), tf.constant([[0], [10]])),
                    _attempt(lambda: list(runtime.keras().ops.add(tf.zeros([0, 2, 0]), tf.zeros([2, 0])).shape)),
                    tf.reshape(runtime.keras().ops.add(tf.zeros([1, 2, 2, 1]), tf.constant([[1.0], [2.0]])), [-1])],
        lambda t: [t.add(t.tensor([[0, 1]]), t.tensor([[0], [10]])), list(t.add(t.zeros(0, 2, 0), t.zeros(2, 0)).shape),
                   t.add(t.zeros(1, 2, 2, 1), t.tensor([[1.0], [2.0]])).flatten()]),
    expected={"tf": [[[0, 11]], "raises InvalidArgumentError", [1.0, 1.0, 2.0, 2.0]],
              "torch": [[[0, 1], [10, 11]], [0, 2, 0], [1.0, 2.0, 1.0, 2.0]]},
    snippet_tf="keras.ops.add(tf.constant([[0, 1]]), tf.constant([[0], [10]]))  # [[0, 11]]: wrong",
    snippet_torch="torch.add(torch.tensor([[0, 1]]), torch.tensor([[0], [10]]))  # [[0, 1], [10, 11]]",
    evidence="keras/src/backend/tensorflow/numpy.py add ('Special case of tf.add: tf.nn.bias_add'); observed "
             "Keras 3.15 / TF 2.21; the attention case found by tests/test_layers.py's random seq specs "
             "(multi_head_attention num_heads=2, key_dim=1 on length 2)",
    mapping="use tf.math.add or the + operator when operands broadcast both ways; MultiHeadAttention: key_dim (and "
            "value_dim) >= 2 with more than one head, or use_bias=False (the random specs draw so, "
            "layer_kinds/attention.py; tests/test_attention.py pins the failing case)",
    applies_to=("op:add-keras", "layer:multi_head_attention", "layer:cross_attention", "layer:transformer_encoder"),
    gotcha=True,
))


_TINY32 = float(np.finfo(np.float32).tiny)  # Keras' stand-in for -0.0 is -tiny


def _keras_argmax_signed_zero(tf) -> dict:
    """keras.ops.argmax/argmin on TF where -0.0 meets +0.0 or -tiny, and tf.math.argmax on the first input."""
    ops = runtime.keras().ops
    return {"argmax([-0., 0.])": int(ops.argmax(tf.constant([-0.0, 0.0]))),
            "argmin([0., -0.])": int(ops.argmin(tf.constant([0.0, -0.0]))),
            "argmax([-tiny, -0.])": int(ops.argmax(tf.constant([-_TINY32, -0.0]))),
            "argmax([-0., 0.]) without keras": int(tf.math.argmax(tf.constant([-0.0, 0.0])))}


def _torch_argmax_signed_zero(t) -> dict:
    return {"argmax([-0., 0.])": int(t.argmax(t.tensor([-0.0, 0.0]))),
            "argmin([0., -0.])": int(t.argmin(t.tensor([0.0, -0.0]))),
            "argmax([-tiny, -0.])": int(t.argmax(t.tensor([-_TINY32, -0.0]))),
            "argmax([-0., 0.]) without keras": int(t.argmax(t.tensor([-0.0, 0.0])))}


ENTRIES.add(KnownDifference(
    id="keras-argmax-signed-zero",
    area="op-semantics",
    title="keras.ops.argmax/argmin on TF order -0.0 below +0.0 (so argmax([-0., 0.]) is 1); torch and tf.math: 0",
    tf="keras.ops.argmax/argmin with the TensorFlow backend replace every -0.0 of a float tensor (ndim >= 1) by "
       "-finfo.tiny (-1.18e-38 for float32) before tf.argmax (a workaround for JAX's flush-to-zero, "
       "jax-ml/jax#24280): argmax([-0., 0.]) = 1, argmin([0., -0.]) = 1, and -0.0 now ties with -tiny: "
       "argmax([-tiny, -0.]) = 0. tf.math.argmax itself compares -0.0 == 0.0 and returns the first index, 0.",
    torch="torch.argmax/argmin (and keras.ops.argmax with the torch backend, and NumPy) compare -0.0 == 0.0 and "
          "return the first maximal index: 0, 0, and argmax([-tiny, -0.]) = 1.",
    witness=lambda: _both(_keras_argmax_signed_zero, _torch_argmax_signed_zero),
    expected={"tf": {"argmax([-0., 0.])": 1, "argmin([0., -0.])": 1, "argmax([-tiny, -0.])": 0,
                     "argmax([-0., 0.]) without keras": 0},
              "torch": {"argmax([-0., 0.])": 0, "argmin([0., -0.])": 0, "argmax([-tiny, -0.])": 1,
                        "argmax([-0., 0.]) without keras": 0}},
    snippet_tf="keras.ops.argmax(tf.constant([-0., 0.]))  # 1 (tf.math.argmax: 0)",
    snippet_torch="torch.argmax(torch.tensor([-0., 0.]))  # tensor(0)",
    evidence="keras/src/backend/tensorflow/numpy.py argmax/argmin ('Fix the flush-to-zero (FTZ) issue', "
             "tf.where(is_negative_zero, -np.finfo(dtype).tiny, x)); the torch backend calls torch.argmax as is. "
             "Found by the thorough profile (argmax-keras[float32] on [-0., 0.]); observed Keras 3.15 / TF 2.21 / "
             "torch 2.13 CPU",
    mapping="tf.math.argmax(x, axis) (cast to int32 if needed), or x + 0.0 first (turns -0.0 into +0.0)",
    applies_to=("op:argmax-keras",),
    gotcha=True,
    narrows=frozenset({"negzero"}),
))


def _var_sample() -> np.ndarray:
    """The thorough profile's falsifying var[float16] input: 3.0 and 39 zeros in the slice reduced over (2, 0)."""
    x = np.zeros((4, 2, 10), np.float16)
    x[0, 0, 0] = 3.0
    return x


_HALF_COL = [1024.0, 0.5, 0.5, 0.5, 0.5]  # 1024 + 0.5 is a float16 tie: rounds back to 1024 (ulp 1)
_BF16_COL = [256.0] + [0.5] * 8  # bfloat16 ulp at 256 is 2: 256 + 0.5 rounds back to 256


def _tf_half_sums(tf) -> dict:
    f16 = tf.float16
    return {"sum([1024, 0.5 x4]) f16": float(tf.reduce_sum(tf.constant(_HALF_COL, f16))),
            "mean(ones(4096, 2), axis=0) f16": float(tf.reduce_mean(tf.ones([4096, 2], f16), axis=0)[0]),
            "var(3 and 39 zeros) f16": float(tf.math.reduce_variance(tf.constant(_var_sample()), axis=[2, 0])[0]),
            "cumsum([1024, 0.5 x4])[-1] f16": float(tf.math.cumsum(tf.constant(_HALF_COL, f16))[-1]),
            "cumsum([256, 0.5 x8])[-1] bf16": float(tf.math.cumsum(tf.constant(_BF16_COL, tf.bfloat16))[-1]),
            "sum([256, 0.5 x8]) bf16": float(tf.reduce_sum(tf.constant(_BF16_COL, tf.bfloat16)))}


def _torch_half_sums(t) -> dict:
    f16 = t.float16
    return {"sum([1024, 0.5 x4]) f16": float(t.tensor(_HALF_COL, dtype=f16).sum()),
            "mean(ones(4096, 2), axis=0) f16": float(t.ones(4096, 2, dtype=f16).mean(0)[0]),
            "var(3 and 39 zeros) f16": float(t.var(t.from_numpy(_var_sample()), dim=(2, 0), correction=0)[0]),
            "cumsum([1024, 0.5 x4])[-1] f16": float(t.tensor(_HALF_COL, dtype=f16).cumsum(0)[-1]),
            "cumsum([256, 0.5 x8])[-1] bf16": float(t.tensor(_BF16_COL, dtype=t.bfloat16).cumsum(0)[-1]),
            "sum([256, 0.5 x8]) bf16": float(t.tensor(_BF16_COL, dtype=t.bfloat16).sum())}


ENTRIES.add(KnownDifference(
    id="tf-half-sums-accumulate-in-half",
    area="numerics",
    title="TF's float16 sums, means, variances and float16/bfloat16 cumsums add in half precision; PyTorch in float32",
    tf="On CPU tf.reduce_sum/reduce_mean of float16 accumulate in float16 (Eigen SumReducer<half>; only "
       "bfloat16 sums are cast to float32), so a term under half an ulp of the running sum is lost: "
       "sum([1024, 0.5 x4]) = 1024, and the mean of ones(4096, 2) over axis 0 is 0.5 (the running sum stops "
       "at 2048). reduce_variance/reduce_std = mean(square(x - mean(x))) round the mean, each deviation, its "
       "square and every partial sum to float16: var of 3.0 and 39 zeros is 0.22168 (39 squares 0.0056 added "
       "to 8.5625, each rounding up), 1% over the exact 0.219375. tf.math.cumsum scans float16 and bfloat16 in "
       "the input dtype. Inner-axis float16 sums are split over vector lanes and lose less.",
    torch="torch.sum/mean/var/std/cumsum of float16 and bfloat16 accumulate in float32 and round once: 1026, "
          "1.0, 0.21936 (the exact value in float16), 1026 and 260.",
    witness=lambda: _both(_tf_half_sums, _torch_half_sums),
    expected={"tf": {"sum([1024, 0.5 x4]) f16": 1024.0, "mean(ones(4096, 2), axis=0) f16": 0.5,
                     "var(3 and 39 zeros) f16": 0.2216796875, "cumsum([1024, 0.5 x4])[-1] f16": 1024.0,
                     "cumsum([256, 0.5 x8])[-1] bf16": 256.0, "sum([256, 0.5 x8]) bf16": 260.0},
              "torch": {"sum([1024, 0.5 x4]) f16": 1026.0, "mean(ones(4096, 2), axis=0) f16": 1.0,
                        "var(3 and 39 zeros) f16": 0.2193603515625, "cumsum([1024, 0.5 x4])[-1] f16": 1026.0,
                        "cumsum([256, 0.5 x8])[-1] bf16": 260.0, "sum([256, 0.5 x8]) bf16": 260.0}},
    snippet_tf="tf.reduce_mean(tf.ones([4096, 2], tf.float16), axis=0)  # [0.5, 0.5]",
    snippet_torch="torch.ones(4096, 2, dtype=torch.float16).mean(0)  # tensor([1., 1.])",
    evidence="tensorflow/core/kernels/reduction_ops.h (CASTING_SPECIALIZATION(SumReducer, bfloat16, float) only; "
             "MeanReducer sums in the Scalar type) and math_ops.py reduce_variance; the var value is reproduced "
             "exactly by float16 rounding of every step in float64. Found by the thorough profile "
             "(var[float16], 1.05% off where the float32-accumulation rule allows 0.39%); observed TF 2.21 / "
             "torch 2.13 CPU, oneDNN on and off",
    mapping="cast to float32 before reducing (keras.ops.sum/mean/var do) and back after",
    applies_to=("op:sum:float16", "op:mean:float16", "op:var:float16", "op:std:float16", "op:cumsum:float16",
                "op:cumsum:bfloat16"),
    gotcha=True,
    narrows=frozenset(),  # asserted instead: TF's tolerance adds the bound of float16 summation
    # (OpInfo.error_bound, equivalence.catalog.ops_reduction._accumulation_bound), torch keeps the rule's
))


def _item_assignment():
    t, tf_ = runtime.torch(), runtime.tf()
    x = t.zeros(3)
    x[1] = 5.0

    def tf_assign():
        y = tf_.zeros(3)
        y[1] = 5.0

    return {"tf": dtype_or_error(tf_assign), "torch": x.tolist()}


ENTRIES.add(KnownDifference(
    id="tensor-item-assignment",
    area="op-semantics",
    title="Tensors are mutable in PyTorch (x[1] = 5) and immutable in TensorFlow",
    tf="tf.Tensor does not support item assignment (TypeError); use tf.tensor_scatter_nd_update or a Variable.",
    torch="x[1] = 5.0 writes in place.",
    witness=_item_assignment,
    expected={"tf": "TypeError", "torch": [0.0, 5.0, 0.0]},
    snippet_tf="y = tf.tensor_scatter_nd_update(tf.zeros(3), [[1]], [5.0])",
    snippet_torch="x = torch.zeros(3); x[1] = 5.0",
    evidence="TF guide 'Introduction to Tensors' ('All tensors are immutable like Python numbers'); torch "
             "indexing docs.",
    mapping="tf.tensor_scatter_nd_update(x, [[1]], [5.0]) returns the updated copy.",
))


# The op-test fields of the entries above, by id, for the op and gradient tests (equivalence/checks/ops.py,
# tests/test_grads.py) and the meta tests. Only op entries set them (tests/meta/test_op_registry.py checks).
NARROWS: dict[str, frozenset] = {e.id: e.narrows for e in ENTRIES if e.narrows is not None}
SIDE_NARROWS: dict[str, dict[str, frozenset]] = {e.id: e.side_narrows for e in ENTRIES if e.side_narrows is not None}
ZERO_SIGNS: dict[str, frozenset | ByPlatform] = {e.id: e.zero_signs for e in ENTRIES if e.zero_signs is not None}


def zero_sign_owners(entry_id: str, conditions: dict | None = None) -> frozenset | None:
    """The sides whose zero signs against the reference entry `entry_id`'s witness owns on this platform (or on
    `conditions`), frozenset() when it owns TF's sign against torch's only, None when it owns no zero sign here."""
    owners = ZERO_SIGNS.get(entry_id)
    if isinstance(owners, ByPlatform):
        if conditions is None:
            from ..platform import observed_conditions

            conditions = observed_conditions()
        owners = owners.select(conditions)
    return owners
