"""Known differences: layer defaults and layouts (one KnownDifference per entry; append to ENTRIES).

The spec builders (equivalence._tf / _torch) pass every one of these explicitly, so spec-built models agree; the
entries record what a user who relies on each framework's DEFAULT gets. Each witness runs both frameworks on a
tiny fixed input and returns what each observed; `expected` holds the documented values for both sides.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .. import _runtime
from ._entry import ByPlatform, KnownDifference

_X2 = np.array([[1.0], [3.0]], np.float32)  # batch mean 2, biased var 1, unbiased var 2


def _frameworks():
    return _runtime.torch(), _runtime.keras()


def _bn_momentum() -> dict:
    torch, keras = _frameworks()
    kb = keras.layers.BatchNormalization()
    kb(_X2, training=True)
    tb = torch.nn.BatchNorm1d(1).train()
    tb(torch.from_numpy(_X2))
    return {"tf": [kb.momentum, float(kb.moving_mean.numpy()[0])],
            "torch": [tb.momentum, float(tb.running_mean[0])]}


def _bn_epsilon() -> dict:
    torch, keras = _frameworks()
    kb, tb = keras.layers.BatchNormalization(), torch.nn.BatchNorm1d(1).eval()
    one = np.ones((1, 1), np.float32)  # inference with fresh stats (mean 0, var 1): 1 / sqrt(1 + eps)
    return {"tf": [kb.epsilon, float(kb(one, training=False).numpy()[0, 0])],
            "torch": [tb.eps, float(tb(torch.from_numpy(one))[0, 0])]}


def _bn_running_var() -> dict:
    torch, keras = _frameworks()
    kb = keras.layers.BatchNormalization(momentum=0.0)  # moving stats := this batch's
    kb(_X2, training=True)
    tb = torch.nn.BatchNorm1d(1, momentum=1.0).train()
    tb(torch.from_numpy(_X2))
    return {"tf": float(kb.moving_variance.numpy()[0]), "torch": float(tb.running_var[0])}


def _ln_epsilon() -> dict:
    torch, keras = _frameworks()
    x = np.array([[1.0, -1.0]], np.float32)  # mean 0, var 1: output 1 / sqrt(1 + eps)
    kl, tl = keras.layers.LayerNormalization(), torch.nn.LayerNorm(2)
    return {"tf": [kl.epsilon, float(kl(x).numpy()[0, 0])], "torch": [tl.eps, float(tl(torch.from_numpy(x))[0, 0])]}


def _leaky_relu() -> dict:
    torch, keras = _frameworks()
    x = np.array([-1.0], np.float32)
    t = torch.from_numpy(x)
    return {"tf": {"layers.LeakyReLU": float(keras.layers.LeakyReLU()(x)[0]),
                   "activations.leaky_relu": float(keras.activations.leaky_relu(x)[0]),
                   "ops.leaky_relu": float(keras.ops.leaky_relu(x)[0])},
            "torch": {"nn.LeakyReLU": float(torch.nn.LeakyReLU()(t)[0]),
                      "F.leaky_relu": float(torch.nn.functional.leaky_relu(t)[0])}}


def _gelu() -> dict:
    torch, keras = _frameworks()
    tf, x = _runtime.tf(), np.array([1.0], np.float32)  # exact 0.8413447, tanh approximation 0.8411920
    return {"tf": {"activations.gelu": float(keras.activations.gelu(x)[0]), "ops.gelu": float(keras.ops.gelu(x)[0]),
                   "tf.nn.gelu": float(tf.nn.gelu(x)[0])},
            "torch": {"F.gelu": float(torch.nn.functional.gelu(torch.from_numpy(x))[0]),
                      "nn.GELU": float(torch.nn.GELU()(torch.from_numpy(x))[0])}}


def _elu_selu() -> dict:
    torch, keras = _frameworks()
    x = np.array([-1.0, 2.0], np.float32)
    t, F = torch.from_numpy(x), torch.nn.functional
    return {"tf": [keras.activations.elu(x).numpy().tolist(), keras.activations.selu(x).numpy().tolist()],
            "torch": [F.elu(t).tolist(), F.selu(t).tolist()]}


def _avgpool_pad() -> dict:
    torch, keras = _frameworks()
    x = np.ones((1, 3, 3, 1), np.float32)  # the corner window holds 4 real pixels and 5 padded ones
    y_tf = keras.layers.AveragePooling2D(3, strides=1, padding="same")(x)
    y_t = torch.nn.AvgPool2d(3, stride=1, padding=1)(torch.from_numpy(x).permute(0, 3, 1, 2))
    return {"tf": float(y_tf[0, 0, 0, 0]), "torch": float(y_t[0, 0, 0, 0])}


def _conv_same_stride2() -> dict:
    torch, keras = _frameworks()
    x = np.array([[[1.0], [2.0], [3.0], [4.0]]], np.float32)  # (N, L, C); kernel of ones, k=3, stride 2
    conv = keras.layers.Conv1D(1, 3, strides=2, padding="same", use_bias=False, kernel_initializer="ones")
    tconv = torch.nn.Conv1d(1, 1, 3, stride=2, padding=1, bias=False)
    torch.nn.init.ones_(tconv.weight)
    try:
        torch.nn.Conv1d(1, 1, 3, stride=2, padding="same")
        same = "accepted"
    except ValueError as exc:
        same = f"ValueError: {exc}"
    return {"tf": conv(x).numpy().ravel().tolist(),
            "torch": {"padding=1": tconv(torch.from_numpy(x).permute(0, 2, 1)).detach().ravel().tolist(),
                      "padding='same'": same}}


def _pool_same() -> dict:
    torch, keras = _frameworks()
    x = -np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)  # all negative: padding must never win a max
    y_tf = keras.layers.MaxPooling2D(2, padding="same")(x).numpy()[0, :, :, 0]
    y_t = torch.nn.MaxPool2d(2, padding=1)(torch.from_numpy(x).permute(0, 3, 1, 2))[0, 0]
    return {"tf": y_tf.tolist(), "torch": y_t.tolist()}


def _flatten_order() -> dict:
    torch, keras = _frameworks()
    x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)  # NHWC
    y_t = torch.nn.Flatten()(torch.from_numpy(x).permute(0, 3, 1, 2))
    return {"tf": keras.layers.Flatten()(x).numpy()[0].tolist(), "torch": y_t[0].tolist()}


def _kernel_layouts() -> dict:
    torch, keras = _frameworks()
    d, c = keras.layers.Dense(3), keras.layers.Conv2D(4, 3)
    d(np.zeros((1, 2), np.float32))
    c(np.zeros((1, 5, 5, 2), np.float32))
    return {"tf": {"dense": list(d.kernel.shape), "conv2d": list(c.kernel.shape)},
            "torch": {"linear": list(torch.nn.Linear(2, 3).weight.shape),
                      "conv2d": list(torch.nn.Conv2d(2, 4, 3).weight.shape)}}


def _dense_init() -> dict:
    torch, keras = _frameworks()
    d = keras.layers.Dense(50)  # fan_in 100, fan_out 50: Glorot bound sqrt(6/150) = 0.2; torch bound 1/sqrt(100) = 0.1
    d(np.zeros((1, 100), np.float32))
    lin = torch.nn.Linear(100, 50)
    facts = lambda k, b: {"bias_all_zero": bool(np.all(b == 0)), "max_abs_kernel_le_0.1": bool(np.abs(k).max() <= 0.1),
                          "max_abs_kernel_le_0.2": bool(np.abs(k).max() <= 0.2)}
    return {"tf": facts(d.kernel.numpy(), d.bias.numpy()),
            "torch": facts(lin.weight.detach().numpy(), lin.bias.detach().numpy())}


def _embedding_init() -> dict:
    torch, keras = _frameworks()
    e = keras.layers.Embedding(100, 20)
    e(np.zeros((1, 1), np.int32))
    facts = lambda w: {"max_abs_le_0.05": bool(np.abs(w).max() <= 0.05), "std_gt_0.5": bool(w.std() > 0.5)}
    return {"tf": facts(e.embeddings.numpy()), "torch": facts(torch.nn.Embedding(100, 20).weight.detach().numpy())}


def _lstm_bias() -> dict:
    torch, keras = _frameworks()
    k = keras.layers.LSTM(4)
    k(np.zeros((1, 2, 3), np.float32))
    t = torch.nn.LSTM(3, 4)
    return {"tf": {"params": int(k.count_params()), "biases": [list(k.cell.bias.shape)]},
            "torch": {"params": sum(p.numel() for p in t.parameters()),
                      "biases": [list(t.bias_ih_l0.shape), list(t.bias_hh_l0.shape)]}}


def _lstm_forget_bias() -> dict:
    torch, keras = _frameworks()
    k = keras.layers.LSTM(2)
    k(np.zeros((1, 2, 3), np.float32))
    t = torch.nn.LSTM(3, 2)
    b = t.bias_ih_l0.detach().numpy()
    return {"tf": k.cell.bias.numpy().tolist(),
            "torch": {"forget_block_is_one": bool(np.all(b[2:4] == 1)), "all_within_1/sqrt(2)": bool(
                np.abs(b).max() <= 2**-0.5)}}


def _gru_gate_order() -> dict:
    """Only the FIRST gate block sees the input (weight 20: that gate saturates to 1); the candidate gets weight 1.
    Keras' first block is the update gate z: h = z*h0 + (1-z)*cand = h0 = 0. Torch's is the reset gate r:
    h = (1-z)*tanh(1) with z = sigmoid(0) = 0.5, i.e. 0.3808."""
    torch, keras = _frameworks()
    kernel = np.array([[20.0, 0.0, 1.0]], np.float32)  # one input, one unit; blocks (gate1, gate2, candidate)
    k = keras.layers.GRU(1)
    k(np.zeros((1, 1, 1), np.float32))
    k.set_weights([kernel, np.zeros((1, 3), np.float32), np.zeros((2, 3), np.float32)])
    t = torch.nn.GRU(1, 1, batch_first=True)
    with torch.no_grad():
        for p in t.parameters():
            p.zero_()
        t.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
    x = np.ones((1, 1, 1), np.float32)
    return {"tf": float(k(x)[0, 0]), "torch": float(t(torch.from_numpy(x))[0][0, 0, 0])}


def _gru_reset_after() -> dict:
    """One GRU step from h0 = 1 with x = 0: every weight 0 except the recurrent candidate weight 1 and a candidate
    bias 1 (Keras reset_after=True and torch: the recurrent one, b_hn). Both gates are sigmoid(0) = 0.5, so
    h1 = 0.5*n + 0.5*h0 shows where the reset gate acts: r*(W_hn h + b_hn) gives n = tanh(0.5*(1 + 1)) = tanh(1),
    h1 = 0.8807971; (W_hn (r*h)) + b gives n = tanh(0.5 + 1) = tanh(1.5), h1 = 0.9525741."""
    torch, keras = _frameworks()
    x, h0 = np.zeros((1, 1, 1), np.float32), np.ones((1, 1), np.float32)
    recurrent = np.array([[0.0, 0.0, 1.0]], np.float32)  # Keras blocks [z | r | h]: only the candidate's

    def keras_step(**kwargs):
        g = keras.layers.GRU(1, **kwargs)
        g.build((1, 1, 1))
        bias = np.array([0.0, 0.0, 1.0], np.float32)  # reset_after=False: the one bias
        if g.cell.reset_after:  # rows (input bias, recurrent bias): the 1 goes to the recurrent candidate bias
            bias = np.stack([np.zeros(3, np.float32), bias])
        g.set_weights([np.zeros((1, 3), np.float32), recurrent, bias])
        return {"h1": float(g(x, initial_state=[h0])[0, 0]), "bias_shape": list(g.cell.bias.shape)}

    t = torch.nn.GRU(1, 1, batch_first=True)
    with torch.no_grad():
        for p in t.parameters():
            p.zero_()
        t.weight_hh_l0[2, 0] = 1.0  # rows [r | z | n]: W_hn
        t.bias_hh_l0[2] = 1.0  # b_hn
    out, _ = t(torch.from_numpy(x), torch.from_numpy(h0)[None])

    def torch_reset_after_argument():
        try:
            torch.nn.GRU(1, 1, reset_after=False)
        except TypeError:
            return "raises TypeError"
        return "accepted"

    return {"tf": {"default": keras_step(), "reset_after=False": keras_step(reset_after=False)},
            "torch": {"h1": float(out[0, 0, 0]), "biases": [list(t.bias_ih_l0.shape), list(t.bias_hh_l0.shape)],
                      "reset_after=False": torch_reset_after_argument()}}


def _softmax_implicit_dim() -> dict:
    torch, keras = _frameworks()
    x = np.array([[[0.0, 1.0]], [[0.0, 1.0]]], np.float32)  # (2, 1, 2): axis 0 and axis -1 give different results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that the implicit dim choice is deprecated
        y_t = torch.nn.Softmax()(torch.from_numpy(x))
    return {"tf": float(keras.layers.Softmax()(x)[0, 0, 1]), "torch": float(y_t[0, 0, 1])}


def _dropout_scaling() -> dict:
    torch, keras = _frameworks()
    x = np.ones((1, 1000), np.float32)
    y_tf = keras.layers.Dropout(0.5)(x, training=True).numpy()
    y_t = torch.nn.Dropout(0.5).train()(torch.from_numpy(x)).numpy()
    return {"tf": sorted(set(y_tf.ravel().tolist())), "torch": sorted(set(y_t.ravel().tolist()))}


def _no_grad(witness):
    """Witnesses read values, never gradients: run them under torch.no_grad()."""

    @functools.wraps(witness)
    def run():
        with _runtime.torch().no_grad():
            return witness()

    return run


def _norm_cancellation() -> dict:
    """A constant input normalises to exactly beta (0.1); how close each framework gets shows its formula."""
    torch, keras = _frameworks()
    beta = keras.initializers.Constant(0.1)
    x1, x2 = np.array([[100.0]], np.float32), np.array([[100.0], [100.0]], np.float32)
    kl, kb = keras.layers.LayerNormalization(epsilon=1e-5, beta_initializer=beta), keras.layers.BatchNormalization(
        epsilon=1e-5, beta_initializer=beta)
    tl, tb = torch.nn.LayerNorm(1, eps=1e-5), torch.nn.BatchNorm1d(1, eps=1e-5).train()
    torch.nn.init.constant_(tl.bias, 0.1)
    torch.nn.init.constant_(tb.bias, 0.1)
    return {"tf": {"layer_norm": float(kl(x1)[0, 0]), "batch_norm_training": float(kb(x2, training=True)[0, 0])},
            "torch": {"layer_norm": float(tl(torch.from_numpy(x1))[0, 0]),
                      "batch_norm_training": float(tb(torch.from_numpy(x2))[0, 0])}}


# Which property tests each entry explains ('layer:<word of the test id>'; the pytest plugin flags stale ones).
SELECTORS: dict[str, tuple[str, ...]] = {
    "bn-momentum-convention": ("layer:batch_norm",),
    "bn-epsilon-default": ("layer:batch_norm",),
    "bn-running-var-unbiased": ("layer:batch_norm",),
    "layer-norm-epsilon-default": ("layer:layer_norm",),
    "leaky-relu-default-slope": ("layer:leaky_relu",),
    "gelu-approximate-default": ("layer:gelu", "layer:gelu_tanh"),
    "elu-selu-constants": ("layer:elu", "layer:selu"),
    "avgpool-count-include-pad": ("layer:avg_pool2d",),
    "conv-same-stride2-padding": ("layer:same_stride2",),
    "pool-same-padding": ("layer:max_pool2d",),
    "flatten-order": ("layer:flatten",),
    "kernel-layout": ("layer:dense", "layer:conv1d", "layer:conv2d"),
    "lstm-bias-count": ("layer:lstm",),
    "gru-gate-order": ("layer:gru",),
    "gru-reset-after": ("layer:gru",),
    "softmax-implicit-dim": ("layer:softmax",),
    "norm-affine-cancellation": ("layer:one_feature", "layer:after_elu_tiny"),
    "elu-selu-near-zero": ("layer:elu_near_zero", "layer:selu_near_zero"),
    "dropout-inverted-scaling": ("layer:dropout",),
}


def _elu_near_zero() -> dict:
    torch, keras = _frameworks()
    x = np.array([-1e-4, -1e-6], np.float32)  # expm1: -9.9995e-05, -9.999995e-07
    t = torch.from_numpy(x)
    return {"tf": {"elu": keras.activations.elu(x).numpy().tolist(), "selu": keras.activations.selu(x).numpy().tolist()},
            "torch": {"elu": torch.nn.functional.elu(t).tolist(), "selu": torch.nn.functional.selu(t).tolist()}}


def _entry(id, area, title, tf, torch, witness, expected, snippet_tf, snippet_torch, evidence, mapping="", atol=0.0,
           gotcha=False):
    return KnownDifference(id=id, area=area, title=title, tf=tf, torch=torch, witness=_no_grad(witness), expected=expected,
                           snippet_tf=snippet_tf, snippet_torch=snippet_torch, evidence=evidence, mapping=mapping,
                           atol=atol, gotcha=gotcha, applies_to=SELECTORS.get(id, ()))


ENTRIES: list[KnownDifference] = [
    _entry("bn-momentum-convention", "layer-defaults",
           "BatchNorm momentum means opposite things: Keras 0.99 weights the OLD statistic, torch 0.1 the NEW one",
           "moving = momentum*moving + (1-momentum)*batch, default momentum=0.99: one step from 0 on mean 2 -> 0.02.",
           "running = (1-momentum)*running + momentum*batch, default momentum=0.1: one step -> 0.2.",
           _bn_momentum, {"tf": [0.99, 0.02], "torch": [0.1, 0.2]},
           "keras.layers.BatchNormalization()(x, training=True)", "torch.nn.BatchNorm1d(1).train()(x)",
           "keras BatchNormalization docstring (momentum); torch.nn.BatchNorm1d docs (note on momentum)",
           mapping="torch momentum = 1 - Keras momentum", atol=1e-7, gotcha=True),
    _entry("bn-epsilon-default", "layer-defaults", "BatchNorm epsilon defaults differ: Keras 1e-3, torch 1e-5",
           "epsilon=1e-3: inference output on x=1 with fresh stats is 1/sqrt(1.001) = 0.9995004.",
           "eps=1e-5: the same output is 1/sqrt(1.00001) = 0.999995.", _bn_epsilon,
           {"tf": [1e-3, 0.99950037], "torch": [1e-5, 0.99999500]},
           "keras.layers.BatchNormalization().epsilon", "torch.nn.BatchNorm1d(1).eps",
           "Keras and torch BatchNorm API docs (default arguments)", mapping="pass epsilon explicitly", atol=1e-7),
    _entry("bn-running-var-unbiased", "layer-defaults",
           "BatchNorm moving variance: Keras stores the biased batch variance, torch the unbiased (n-1) one",
           "moving_variance is updated with the biased variance (divide by n): batch [1, 3] -> 1.0.",
           "running_var is updated with the unbiased variance (divide by n-1): batch [1, 3] -> 2.0; the "
           "normalisation itself uses the biased variance in both.", _bn_running_var, {"tf": 1.0, "torch": 2.0},
           "keras.layers.BatchNormalization(momentum=0.0)(x, training=True)",
           "torch.nn.BatchNorm1d(1, momentum=1.0).train()(x)",
           "torch.nn.BatchNorm1d docs: 'running var is calculated via the unbiased estimator'; keras "
           "batch_normalization.py uses ops.moments (biased)",
           mapping="none exact: moving variances differ by n/(n-1) per update; training-mode outputs agree",
           atol=1e-6, gotcha=True),
    _entry("layer-norm-epsilon-default", "layer-defaults", "LayerNorm epsilon defaults differ: Keras 1e-3, torch 1e-5",
           "LayerNormalization(epsilon=1e-3): [1, -1] -> 1/sqrt(1.001) = 0.9995004 at the first element.",
           "nn.LayerNorm(eps=1e-5): the same element is 0.999995.", _ln_epsilon,
           {"tf": [1e-3, 0.99950037], "torch": [1e-5, 0.99999500]},
           "keras.layers.LayerNormalization()(x)", "torch.nn.LayerNorm(2)(x)",
           "Keras LayerNormalization and torch.nn.LayerNorm API docs", mapping="pass epsilon explicitly", atol=1e-7),
    _entry("leaky-relu-default-slope", "layer-defaults",
           "leaky_relu default slope: Keras layer 0.3, Keras function 0.2, torch 0.01",
           "keras.layers.LeakyReLU(negative_slope=0.3); keras.activations.leaky_relu and keras.ops.leaky_relu 0.2.",
           "nn.LeakyReLU and F.leaky_relu negative_slope=0.01.", _leaky_relu,
           {"tf": {"layers.LeakyReLU": -0.3, "activations.leaky_relu": -0.2, "ops.leaky_relu": -0.2},
            "torch": {"nn.LeakyReLU": -0.01, "F.leaky_relu": -0.01}},
           "keras.layers.LeakyReLU()(-1.0)", "torch.nn.LeakyReLU()(torch.tensor([-1.0]))",
           "Keras LeakyReLU / activations.leaky_relu signatures; torch.nn.LeakyReLU docs",
           mapping="pass negative_slope explicitly", atol=1e-7, gotcha=True),
    _entry("gelu-approximate-default", "layer-defaults",
           "GELU: keras.ops.gelu defaults to the tanh approximation; keras.activations.gelu, tf.nn.gelu and torch are exact",
           "activations.gelu(approximate=False), tf.nn.gelu(approximate=False), but ops.gelu(approximate=True): "
           "gelu(1) = 0.8413447 vs 0.8411920.",
           "F.gelu / nn.GELU approximate='none' (exact erf form).", _gelu,
           {"tf": {"activations.gelu": 0.8413447, "ops.gelu": 0.8411920, "tf.nn.gelu": 0.8413447},
            "torch": {"F.gelu": 0.8413447, "nn.GELU": 0.8413447}},
           "keras.ops.gelu(x)", "torch.nn.functional.gelu(x)", "keras.ops.gelu and torch.nn.GELU signatures",
           mapping="approximate=True <-> approximate='tanh'", atol=2e-7, gotcha=True),
    _entry("elu-selu-constants", "layer-defaults",
           "ELU alpha (1.0) and the SELU constants agree between the frameworks (recorded so a change shows)",
           "elu alpha=1.0; selu scale 1.0507009873554805, alpha 1.6732632423543772.",
           "F.elu alpha=1.0; F.selu uses the same two constants.", _elu_selu,
           {"tf": [[-0.63212055, 2.0], [-1.1113307, 2.101402]], "torch": [[-0.63212055, 2.0], [-1.1113307, 2.101402]]},
           "keras.activations.selu(x)", "torch.nn.functional.selu(x)", "Klambauer et al. 2017; both API docs",
           atol=1e-6),
    _entry("avgpool-count-include-pad", "layer-defaults",
           "Average pooling with padding: Keras 'same' averages real pixels only, torch counts the zero padding",
           "AveragePooling2D(3, strides=1, padding='same') on ones: 1.0 everywhere (padding excluded).",
           "AvgPool2d(3, stride=1, padding=1) with count_include_pad=True (default): corner = 4/9.", _avgpool_pad,
           {"tf": 1.0, "torch": 4 / 9}, "keras.layers.AveragePooling2D(3, 1, padding='same')(x)",
           "torch.nn.AvgPool2d(3, 1, padding=1)(x)", "torch.nn.AvgPool2d docs (count_include_pad=True)",
           mapping="count_include_pad=False when the pad is symmetric; otherwise divide by a count map", atol=1e-7,
           gotcha=True),
    _entry("conv-same-stride2-padding", "layouts",
           "'same' convolution with stride 2: TF pads asymmetrically (extra pixel after); torch cannot say 'same'",
           "Conv1D(k=3, strides=2, padding='same') on length 4 pads (0 before, 1 after): windows [1,2,3], [3,4,0].",
           "Conv1d(padding='same') raises for stride > 1; symmetric padding=1 pads (1, 1): windows [0,1,2], [2,3,4].",
           _conv_same_stride2,
           {"tf": [6.0, 7.0], "torch": {"padding=1": [3.0, 9.0],
                                        "padding='same'": "ValueError: padding='same' is not supported for strided "
                                                          "convolutions"}},
           "keras.layers.Conv1D(1, 3, strides=2, padding='same')", "torch.nn.Conv1d(1, 1, 3, stride=2, padding=1)",
           "tf.nn.convolution docs (SAME padding: pad_before = total // 2); torch Conv1d padding docs",
           mapping="F.pad(x, (before, after)) with TF's split, then padding=0", gotcha=True),
    _entry("pool-same-padding", "layouts",
           "'same' max pooling: TF pads after (asymmetric); torch's symmetric padding shifts every window",
           "MaxPooling2D(2, padding='same') on a 3x3 map pads (0, 1): windows start at rows/cols 0 and 2.",
           "MaxPool2d(2, padding=1) pads (1, 1): windows start at -1 and 1; padding > k/2 raises.", _pool_same,
           {"tf": [[-1.0, -3.0], [-7.0, -9.0]], "torch": [[-1.0, -2.0], [-4.0, -5.0]]},
           "keras.layers.MaxPooling2D(2, padding='same')(x)", "torch.nn.MaxPool2d(2, padding=1)(x)",
           "tf.nn.max_pool2d docs (SAME); torch.nn.MaxPool2d docs", mapping="F.pad with -inf, then padding=0"),
    _entry("flatten-order", "layouts",
           "Flatten order: Keras flattens NHWC as (h, w, c); torch flattens NCHW as (c, h, w)",
           "Flatten on (1, 2, 2, 2) NHWC arange(8) -> [0..7].",
           "nn.Flatten on the same tensor as NCHW -> [0, 2, 4, 6, 1, 3, 5, 7]: a Dense after it needs its rows permuted.",
           _flatten_order, {"tf": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], "torch": [0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]},
           "keras.layers.Flatten()(x_nhwc)", "torch.nn.Flatten()(x_nchw)", "equivalence.weights.chw_index",
           mapping="permute the next Dense kernel's rows with chw_index((H, W, C))", gotcha=True),
    _entry("kernel-layout", "layouts",
           "Weight layouts: Dense kernel (in, out) vs Linear weight (out, in); Conv2D HWIO vs Conv2d OIHW",
           "Dense(3) on 2 features: kernel (2, 3); Conv2D(4, 3) on 2 channels: kernel (3, 3, 2, 4).",
           "Linear(2, 3).weight (3, 2); Conv2d(2, 4, 3).weight (4, 2, 3, 3).", _kernel_layouts,
           {"tf": {"dense": [2, 3], "conv2d": [3, 3, 2, 4]}, "torch": {"linear": [3, 2], "conv2d": [4, 2, 3, 3]}},
           "keras.layers.Dense(3).kernel.shape", "torch.nn.Linear(2, 3).weight.shape",
           "Keras Dense/Conv2D and torch Linear/Conv2d API docs", mapping="kernel.T; kernel.transpose(3, 2, 0, 1)"),
    _entry("dense-default-init", "layer-defaults",
           "Default initialisers: Keras Glorot-uniform kernel and zero bias; torch Kaiming-uniform(a=sqrt 5) and a random bias",
           "Dense: kernel U(+-sqrt(6/(in+out))) = U(+-0.2) for 100 -> 50, bias zeros.",
           "Linear: weight and bias U(+-1/sqrt(in)) = U(+-0.1).", _dense_init,
           {"tf": {"bias_all_zero": True, "max_abs_kernel_le_0.1": False, "max_abs_kernel_le_0.2": True},
            "torch": {"bias_all_zero": False, "max_abs_kernel_le_0.1": True, "max_abs_kernel_le_0.2": True}},
           "keras.layers.Dense(50)", "torch.nn.Linear(100, 50)",
           "keras Dense signature (glorot_uniform, zeros); torch.nn.Linear.reset_parameters",
           mapping="load one weight set into both (equivalence.weights)"),
    _entry("embedding-default-init", "layer-defaults",
           "Embedding initialisers: Keras U(-0.05, 0.05), torch N(0, 1)",
           "Embedding: embeddings_initializer='uniform' (U(-0.05, 0.05)).", "nn.Embedding: weight ~ N(0, 1).",
           _embedding_init, {"tf": {"max_abs_le_0.05": True, "std_gt_0.5": False},
                             "torch": {"max_abs_le_0.05": False, "std_gt_0.5": True}},
           "keras.layers.Embedding(100, 20)", "torch.nn.Embedding(100, 20)", "both API docs (default initialisers)"),
    _entry("lstm-bias-count", "layouts", "LSTM biases: Keras has one (4u), torch two (bias_ih + bias_hh); same gate order",
           "LSTM(4) on 3 features: 4*4*(3+4) + 16 = 128 parameters; gate order i, f, c, o.",
           "nn.LSTM(3, 4): 4*4*(3+4) + 2*16 = 144 parameters; gate order i, f, g, o (the same).", _lstm_bias,
           {"tf": {"params": 128, "biases": [[16]]}, "torch": {"params": 144, "biases": [[16], [16]]}},
           "keras.layers.LSTM(4).count_params()", "sum(p.numel() for p in torch.nn.LSTM(3, 4).parameters())",
           "Keras LSTMCell build(); torch.nn.LSTM docs (variables)", mapping="bias_ih = bias, bias_hh = 0"),
    _entry("lstm-forget-bias-init", "layer-defaults",
           "LSTM bias init: Keras sets the forget-gate bias to 1 (unit_forget_bias), torch draws all biases uniformly",
           "bias = [0, 0, 1, 1, 0, 0, 0, 0] for 2 units (blocks i, f, c, o).",
           "bias_ih/bias_hh ~ U(+-1/sqrt(hidden)): the forget block is not 1.", _lstm_forget_bias,
           {"tf": [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            "torch": {"forget_block_is_one": False, "all_within_1/sqrt(2)": True}},
           "keras.layers.LSTM(2)", "torch.nn.LSTM(3, 2)", "Keras LSTM unit_forget_bias; torch.nn.LSTM docs"),
    _entry("gru-gate-order", "layouts", "GRU gate blocks: Keras (z, r, h), torch (r, z, n)",
           "kernel columns [update z | reset r | candidate h]: saturating the FIRST block freezes h at h0 = 0.",
           "weight_ih rows [reset r | update z | new n]: saturating the first block opens the reset gate: "
           "h = 0.5*tanh(1) = 0.3808.", _gru_gate_order, {"tf": 0.0, "torch": 0.38079708},
           "keras.layers.GRU(1)", "torch.nn.GRU(1, 1)", "Keras GRUCell.call; torch.nn.GRU docs (weight_ih_l0: W_ir|W_iz|W_in)",
           mapping="reorder gate blocks (1, 0, 2) and transpose", atol=1e-6, gotcha=True),
    _entry("gru-reset-after", "layer-defaults",
           "GRU reset gate: Keras 3 defaults to reset_after=True (torch's formula, two biases); reset_after=False "
           "applies r before the recurrent matmul and has no torch equivalent",
           "GRU(reset_after=True), the default: n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), bias shape (2, 3u). "
           "reset_after=False (the TF1 default): n = tanh(W_in x + W_hn (r*h) + b_n), one bias (3u,). One step from "
           "h0 = 1 with only W_hn = 1 and the candidate bias 1: h1 = 0.8807971 (default) vs 0.9525741.",
           "nn.GRU computes n = tanh(W_in x + b_in + r*(W_hn h + b_hn)) (= Keras reset_after=True) with bias_ih and "
           "bias_hh of shape (3u,); it takes no reset_after argument (TypeError). Same step: h1 = 0.8807971.",
           _gru_reset_after,
           {"tf": {"default": {"h1": 0.88079709, "bias_shape": [2, 3]},
                   "reset_after=False": {"h1": 0.95257413, "bias_shape": [3]}},
            "torch": {"h1": 0.88079709, "biases": [[3], [3]], "reset_after=False": "raises TypeError"}},
           "keras.layers.GRU(1)(x, initial_state=[h0])  # reset_after=True; GRU(1, reset_after=False) differs",
           "torch.nn.GRU(1, 1, batch_first=True)(x, h0)",
           "Keras GRUCell.call (keras/src/layers/rnn/gru.py: reset_after branches); torch.nn.GRU docs (equations: "
           "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn)))",
           mapping="reset_after=True only: bias[0] -> bias_ih, bias[1] -> bias_hh (a reset_after=False spec raises)",
           atol=1e-6),
    _entry("softmax-implicit-dim", "layer-defaults",
           "Softmax axis: Keras defaults to the last axis; torch's nn.Softmax() without dim picks dim 0 for 3-D input",
           "keras.layers.Softmax() normalises axis -1: [0, 1] -> 0.7311 at index 1.",
           "nn.Softmax() (dim=None, deprecated) uses dim 0 for 0/1/3-D input, else 1: over two equal rows -> 0.5.",
           _softmax_implicit_dim, {"tf": 0.7310586, "torch": 0.5},
           "keras.layers.Softmax()(x)", "torch.nn.Softmax()(x)", "torch.nn.functional._get_softmax_dim",
           mapping="always pass dim (-1 channels-last, 1 for NCHW)", atol=1e-6, gotcha=True),
    _entry("norm-affine-cancellation", "numerics",
           "Normalisation of a (near-)constant input: Keras' fused formula cancels catastrophically, torch's LayerNorm does not",
           "LayerNormalization and BatchNormalization compute x*inv + (beta - mean*inv), inv = gamma/sqrt(var+eps): "
           "both terms are ~|x|/sqrt(eps) and cancel, so x = 100 (var 0, eps 1e-5) gives 0.099609375, not 0.1.",
           "nn.LayerNorm computes (x - mean)*rstd*gamma + beta: exactly 0.1. Training-mode BatchNorm1d also fuses "
           "(x*scale + shift) and cancels, and how much depends on torch's CPU capability: its AVX2/AVX512 kernels "
           "give 0.0994873, the DEFAULT (scalar) kernel 0.099609375 (ATEN_CPU_CAPABILITY=default).",
           _norm_cancellation,
           {"tf": {"layer_norm": 0.099609375, "batch_norm_training": 0.099609375},
            "torch": ByPlatform("torch_cpu_capability", {
                ("AVX2", "AVX512"): {"layer_norm": 0.10000000149011612, "batch_norm_training": 0.0994873046875},
                "DEFAULT": {"layer_norm": 0.10000000149011612, "batch_norm_training": 0.099609375}})},
           "keras.layers.LayerNormalization(epsilon=1e-5)([[100.0]])", "torch.nn.LayerNorm(1, eps=1e-5)([[100.0]])",
           "keras/src/ops/nn.py _layer_normalization (x * inv + res); tf.nn.batch_normalization; found by hypothesis "
           "(thorough profile) on dense(units=1) -> layer_norm; torch's per-capability value observed with "
           "ATEN_CPU_CAPABILITY=default|avx2|avx512 on one AVX-512 machine",
           mapping="none: the suite's model tolerance scales with max|x*gamma/sqrt(var+eps)| "
                   "(equivalence.models.cancelling_terms)", atol=1e-7),
    _entry("elu-selu-near-zero", "numerics",
           "ELU/SELU just below 0: TF computes exp(x) - 1 and loses relative accuracy (1.3% at -1e-6); torch uses expm1",
           "tf.nn.elu / tf.nn.selu (behind keras.activations.elu/selu): elu(-1e-6) = -1.0132790e-06 (exact "
           "-9.999995e-07), elu(-1e-4) = -1.0001659e-04; absolute error ~u*alpha, relative error ~u/|x|.",
           "F.elu / F.selu are correctly rounded there: -9.999995e-07 and -9.9995e-05.", _elu_near_zero,
           {"tf": {"elu": [-0.00010001659393310547, -1.0132789611816406e-06],
                   "selu": [-0.00017583910084795207, -1.7814450075093191e-06]},
            "torch": {"elu": [-9.999499889090657e-05, -9.999995427278918e-07],
                      "selu": [-0.00017580113490112126, -1.7580985058884835e-06]}},
           "keras.activations.elu(np.float32([-1e-6]))", "torch.nn.functional.elu(torch.tensor([-1e-6]))",
           "keras/src/backend/tensorflow/nn.py elu -> tf.nn.elu; found by hypothesis (thorough) on dense -> elu "
           "with inputs ~0.016",
           mapping="none: the model tolerance counts alpha (SELU: scale*alpha) as a cancelling term "
                   "(equivalence.models.cancelling_terms)", atol=2e-9),
    _entry("dropout-inverted-scaling", "modes",
           "Dropout: both frameworks use inverted dropout (kept values scaled by 1/(1-rate)); the masks differ",
           "Dropout(0.5)(ones, training=True) holds only 0 and 2.", "nn.Dropout(0.5) in train() holds only 0 and 2.",
           _dropout_scaling, {"tf": [0.0, 2.0], "torch": [0.0, 2.0]},
           "keras.layers.Dropout(0.5)(x, training=True)", "torch.nn.Dropout(0.5).train()(x)",
           "Keras Dropout and torch.nn.Dropout docs",
           mapping="none for the masks (different RNGs): compare dropout only at rate 0 or in inference"),
]
