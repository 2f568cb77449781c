"""Known differences in one training step of a spec-built model, found by the zoo's step check
(tests/test_zoo.py::test_zoo_grads_and_step_match, equivalence.checks.zoo), each entry right below its witness.

lstm-split-bias-step:

torch's nn.LSTM keeps bias_ih and bias_hh where Keras' LSTM keeps one bias ('lstm-bias-count'); the spec loads
bias_ih = bias, bias_hh = 0, so the forward passes agree. Both torch biases are parameters with the SAME gradient
(the gates see their sum), so an optimizer steps each of them: the effective bias bias_ih + bias_hh moves twice
as far as Keras' bias for SGD (and Adam's first step, +-lr each), although the gradients agree. The zoo's step check
compares torch's summed update with twice Keras' for these weights (equivalence.checks.zoo.torch_parts).

embedding-sparse-gradient-step:
Keras' Embedding gradient is a tf.IndexedSlices with one row per LOOKUP (an id used k times in the batch gives k
rows), and Keras' optimizers apply it row by row (scatter ops): SGD rounds that table row k times, and Adam squares
each lookup's gradient on its own, so its second moment is sum g_j^2 instead of (sum g_j)^2 and a repeated id steps
by lr |sum g_j| / sqrt(sum g_j^2), not lr. torch's dense gradient (nn.Embedding(sparse=False), the default) sums the
lookups first and steps the row once. The zoo's step check allows Keras k roundings on such a row under SGD and
holds it to |step| <= lr sqrt(k) under Adam (equivalence.checks.zoo._sparse_bound).
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness

LR = 0.1


def _split_bias_step() -> dict:
    """One SGD(lr=0.1) step of an LSTM(4) on sum(last output) in each framework, from the same weights (torch:
    bias_ih = Keras' bias, bias_hh = 0): the trainable bias tensors, and the effective bias' move over -lr * its
    gradient (median over the 16 elements, rounded to 2 decimals)."""
    torch, keras, tf = runtime.torch(), runtime.keras(), runtime.tf()
    x = np.random.default_rng(0).standard_normal((2, 3, 2)).astype(np.float32)
    k = keras.layers.LSTM(4)
    k(x)
    kernel, recurrent, bias = (np.array(v.numpy()) for v in k.weights)  # Keras gate order i, f, c, o = torch's
    t = torch.nn.LSTM(2, 4, batch_first=True)
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
        t.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
        t.bias_ih_l0.copy_(torch.from_numpy(bias))
        t.bias_hh_l0.zero_()

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(k(x))
    grads = tape.gradient(loss, k.trainable_weights)
    keras.optimizers.SGD(learning_rate=LR).apply_gradients(zip(grads, k.trainable_weights))
    tf_move = (np.array(k.weights[2].numpy()) - bias) / (-LR * np.array(grads[2]))

    opt = torch.optim.SGD(t.parameters(), lr=LR)
    out, _ = t(torch.from_numpy(x))
    out[:, -1].sum().backward()
    g = t.bias_ih_l0.grad.detach().numpy().copy()
    opt.step()
    effective = (t.bias_ih_l0 + t.bias_hh_l0).detach().numpy()
    torch_move = (effective - bias) / (-LR * g)

    trainable = lambda named: sum(1 for n, p in named if "bias" in n and p.requires_grad)
    return {"tf": {"bias_tensors": sum(1 for v in k.trainable_weights if "bias" in v.path),
                   "effective_bias_step": round(float(np.median(tf_move)), 2)},
            "torch": {"bias_tensors": trainable(t.named_parameters()),
                      "effective_bias_step": round(float(np.median(torch_move)), 2)}}


ENTRIES.add(KnownDifference(
    id="lstm-split-bias-step",
    area="optimizers",
    title="One optimizer step moves torch's LSTM bias (bias_ih + bias_hh) twice as far as Keras' one bias",
    tf="LSTM has one trainable bias: SGD moves it by -lr * g.",
    torch="nn.LSTM has two trainable biases with the same gradient g: SGD moves each by -lr * g, so the effective "
          "bias bias_ih + bias_hh moves by -2 lr * g (Adam's first step: 2 lr instead of lr).",
    witness=_split_bias_step,
    expected={"tf": {"bias_tensors": 1, "effective_bias_step": 1.0},
              "torch": {"bias_tensors": 2, "effective_bias_step": 2.0}},
    snippet_tf="keras.optimizers.SGD(0.1).apply_gradients(zip(grads, lstm.trainable_weights))  # bias -= 0.1*g",
    snippet_torch="torch.optim.SGD(lstm.parameters(), lr=0.1).step()  # bias_ih -= 0.1*g; bias_hh -= 0.1*g",
    evidence="torch.nn.LSTM docs (bias_ih_l[k], bias_hh_l[k] are both learnable); Keras LSTMCell build() (one bias)",
    mapping="freeze bias_hh (bias_hh_l0.requires_grad_(False)) to train like Keras, or halve the bias learning rate",
    applies_to=("layers:bilstm_text", "layer:lstm", "layer:bidirectional"),
))


def _embedding_step() -> dict:
    """An Embedding(5, 1) whose row 1 is looked up twice (ids [1, 1]) with output gradients 1 and -0.5: the
    table's gradient (type, rows) and one Adam(lr=0.01, eps=1e-12) step of row 1 over lr, rounded to 2 decimals
    (the summed gradient is 0.5: Adam's first step on it is -lr)."""
    torch, keras, tf = runtime.torch(), runtime.keras(), runtime.tf()
    ids, weights = np.array([[1, 1]], np.int32), np.array([[1.0, -0.5]], np.float32)
    k = keras.layers.Embedding(5, 1)
    k(ids)
    before = np.array(k.weights[0].numpy())
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(k(ids)[..., 0] * weights)
    grads = tape.gradient(loss, k.trainable_weights)
    keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-12).apply_gradients(zip(grads, k.trainable_weights))
    tf_step = float((np.array(k.weights[0].numpy()) - before)[1, 0]) / 0.01
    g_tf = grads[0]

    t = torch.nn.Embedding(5, 1)
    opt = torch.optim.Adam(t.parameters(), lr=0.01, eps=1e-12)
    before = t.weight.detach().numpy().copy()
    (t(torch.from_numpy(ids.astype(np.int64)))[..., 0] * torch.from_numpy(weights)).sum().backward()
    g = t.weight.grad
    opt.step()
    torch_step = float((t.weight.detach().numpy() - before)[1, 0]) / 0.01
    return {"tf": {"gradient": type(g_tf).__name__, "rows": int(np.shape(getattr(g_tf, "values", g_tf))[0]),
                   "adam_step_over_lr": round(tf_step, 2)},
            "torch": {"gradient": type(g).__name__, "sparse": bool(g.is_sparse),
                      "rows": int(g._values().shape[0]) if g.is_sparse else int(g.shape[0]),
                      "adam_step_over_lr": round(torch_step, 2)}}


ENTRIES.add(KnownDifference(
    id="embedding-sparse-gradient-step",
    area="optimizers",
    title="Keras steps an Embedding row once per lookup: Adam's second moment sums the lookups' squared gradients",
    tf="The Embedding gradient is tf.IndexedSlices, one row per lookup; Keras' optimizers apply it with scatter ops "
       "and square it row by row, so a row looked up k times gets v = (1-b2) sum g_j^2 and Adam steps it by "
       "lr |sum g_j| / sqrt(sum g_j^2) (ids [1, 1], g = 1, -0.5: 0.45 lr); SGD's step is the same, rounded k times.",
    torch="nn.Embedding (sparse=False) gives a dense (vocab, dim) gradient with the lookups summed; Adam steps the "
          "row by lr once (v = (1-b2) (sum g_j)^2).",
    witness=_embedding_step,
    expected={"tf": {"gradient": "IndexedSlices", "rows": 2, "adam_step_over_lr": -0.45},
              "torch": {"gradient": "Tensor", "sparse": False, "rows": 5, "adam_step_over_lr": -1.0}},
    snippet_tf="keras.optimizers.Adam(0.01).apply_gradients(zip(tape.gradient(loss, emb.trainable_weights), "
               "emb.trainable_weights))",
    snippet_torch="torch.optim.Adam(emb.parameters(), lr=0.01).step()  # emb.weight.grad: dense, lookups summed",
    evidence="tf.gather's gradient (IndexedSlices); keras/src/optimizers/adam.py update_step (ops.square of the "
             "slices), keras/src/backend/tensorflow/optimizer.py assign_add/assign_sub -> scatter_add/scatter_sub; "
             "torch.nn.Embedding docs (sparse=False)",
    mapping="densify Keras' gradients before applying them (tf.convert_to_tensor(g) for an IndexedSlices g) to get "
            "torch's step",
    applies_to=("layers:bilstm_text", "layer:embedding"),
))
