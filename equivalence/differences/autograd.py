"""Known differences of area gradients: how each framework's autograd is driven (see __init__.py)."""
from __future__ import annotations

from .. import gotchas
from ..runtime import tf, torch
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import dtype_or_error

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _numpy_requires_grad():
    t, tf_ = torch(), tf()
    w = t.ones(2, requires_grad=True)
    v = tf_.Variable([1.0, 1.0])
    return {"tf": v.numpy().tolist(), "torch": dtype_or_error(lambda: w.numpy())}


ENTRIES.add(KnownDifference(
    id="numpy-of-tensor-requiring-grad",
    area="gradients",
    title="Tensor.numpy() fails on a torch tensor that requires grad; TF variables convert freely",
    tf="tf.Variable(...).numpy() always works (autodiff is recorded by a GradientTape, not on the tensor).",
    torch="A tensor with requires_grad=True raises RuntimeError on .numpy(): call .detach().numpy().",
    witness=_numpy_requires_grad,
    expected={"tf": [1.0, 1.0], "torch": "RuntimeError"},
    snippet_tf="tf.Variable([1.0, 1.0]).numpy()",
    snippet_torch="torch.ones(2, requires_grad=True).detach().numpy()",
    evidence="torch Tensor.numpy docs (force=False: 'the tensor must not require grad'); tf.Variable docs.",
    mapping="t.detach().cpu().numpy() (equivalence.compare.to_numpy does this).",
))


def _unwatched_gradient():
    t, tf_ = torch(), tf()
    c = tf_.constant([1.0, 2.0])
    with tf_.GradientTape() as tape:
        y = tf_.reduce_sum(c * c)
    x = t.tensor([1.0, 2.0])
    return {"tf": tape.gradient(y, c), "torch": dtype_or_error(lambda: t.autograd.grad((x * x).sum(), x))}


ENTRIES.add(KnownDifference(
    id="gradient-of-unwatched-tensor",
    area="gradients",
    title="Gradient w.r.t. a tensor autodiff did not track: TF returns None, PyTorch raises",
    tf="A GradientTape watches only trainable Variables unless tape.watch(x): tape.gradient(y, constant) is None.",
    torch="autograd.grad on a graph with no requires_grad input raises RuntimeError.",
    witness=_unwatched_gradient,
    expected={"tf": None, "torch": "RuntimeError"},
    snippet_tf="with tf.GradientTape() as tape:\n    y = tf.reduce_sum(c * c)\ntape.gradient(y, c)  # None",
    snippet_torch="torch.autograd.grad((x * x).sum(), x)  # RuntimeError: does not require grad",
    evidence="tf.GradientTape docs ('Trainable variables are automatically watched'; unconnected -> None); "
             "torch.autograd.grad docs.",
    mapping="tape.watch(x) in TF; x.requires_grad_() in torch.",
))


ENTRIES.add(KnownDifference(
    id="missing-zero-grad",
    area="gradients",
    title="Without zero_grad() PyTorch adds each backward() into .grad; a fresh GradientTape starts from zero",
    tf="Each GradientTape computes fresh gradients; Keras applies exactly them: w = 1 -> 0.8 -> 0.64.",
    torch="backward() accumulates into .grad: the 2nd step uses 2 + 1.6 = 3.6, so w = 1 -> 0.8 -> 0.44.",
    witness=gotchas.zero_grad,
    expected={"tf": {"fresh_tape": {"grads": [2.0, 1.6], "w": 0.64}},
              "torch": {"with_zero_grad": {"grads": [2.0, 1.6], "w": 0.64},
                        "without_zero_grad": {"grads": [2.0, 3.6], "w": 0.44}}},
    snippet_tf="with tf.GradientTape() as tape:\n    loss = w * w\n"
               "opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))",
    snippet_torch="opt.zero_grad()  # forget this and .grad keeps the previous step's gradient\n"
                  "(w * w).backward()\nopt.step()",
    evidence="torch.Tensor.backward docs ('gradients are accumulated in the leaves'); torch.optim.Optimizer."
             "zero_grad docs; tf.GradientTape docs.",
    mapping="optimizer.zero_grad() (or zero_grad(set_to_none=True)) before each backward().",
    atol=1e-6,  # float32 SGD arithmetic: 0.44 is 0.44000003 in float32
    gotcha=True,
))


ENTRIES.add(KnownDifference(
    id="inplace-op-under-autograd",
    area="gradients",
    title="In-place edits of a tensor autograd saved: PyTorch errors at backward(); TF has no in-place tensor ops",
    tf="Tensors are immutable (item assignment: TypeError). A Variable assigned after use inside a tape leaves the "
       "gradient at the value read when the op ran: d(sum v*v)/dv = [2, 4] although v is now [2, 3].",
    torch="b.add_(1) bumps b's version counter (0 -> 1); backward() through y = b * b then raises RuntimeError "
          "'... modified by an inplace operation'.",
    witness=gotchas.inplace_autograd,
    expected={"tf": {"item_assignment": "TypeError", "grad_after_assign": [2.0, 4.0], "variable_now": [2.0, 3.0]},
              "torch": {"version_before": 0, "version_after": 1, "backward": "modified by an inplace operation"}},
    snippet_tf="v = tf.Variable([1.0, 2.0])\nwith tf.GradientTape() as tape:\n    z = tf.reduce_sum(v * v)\n"
               "    v.assign_add([1.0, 1.0])\ntape.gradient(z, v)  # [2, 4]",
    snippet_torch="b = a * 1.0; y = (b * b).sum()\nb.add_(1.0)\ny.backward()  # RuntimeError",
    evidence="torch autograd mechanics docs ('In-place correctness checks', version counters); TF guide "
             "'Introduction to Tensors' (immutability).",
    mapping="Use out-of-place ops (b = b + 1) on tensors autograd needs, or .clone() before editing.",
    gotcha=True,
))


def _integer_gradient():
    t, tf_ = torch(), tf()
    v = tf_.Variable([1, 2])
    with tf_.GradientTape() as tape:
        y = tf_.reduce_sum(v * v)
    return {"tf": tape.gradient(y, v), "torch": dtype_or_error(lambda: t.tensor([1, 2]).requires_grad_())}


ENTRIES.add(KnownDifference(
    id="integer-tensor-gradient",
    area="gradients",
    title="Gradients w.r.t. integer tensors: TF silently returns None, torch refuses to track them",
    tf="tape.gradient(y, int_variable) is None (with a logged warning): integer tensors are not differentiable.",
    torch="torch.tensor([1, 2]).requires_grad_() raises RuntimeError: only floating point tensors can require "
          "gradients.",
    witness=_integer_gradient,
    expected={"tf": None, "torch": "RuntimeError"},
    snippet_tf="v = tf.Variable([1, 2])\nwith tf.GradientTape() as tape:\n    y = tf.reduce_sum(v * v)\n"
               "tape.gradient(y, v)  # None",
    snippet_torch="torch.tensor([1, 2]).requires_grad_()  # RuntimeError",
    evidence="tf.GradientTape docs ('gradients of integer tensors are None'); torch autograd docs (only "
             "floating point and complex tensors can require gradients).",
    mapping="Make trainable values floating point on both sides.",
))
