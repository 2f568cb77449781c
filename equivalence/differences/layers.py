"""Known differences: layer defaults and layouts, each entry right below its witness.

The spec builders (equivalence.sides.keras_models / torch_models) pass every one of these explicitly, so spec-built models agree; the
entries record what a user who relies on each framework's DEFAULT gets. Each witness runs both frameworks on a
tiny fixed input (under torch.no_grad(): `witness_tools.no_grad`) and returns what each observed; `expected` holds the
documented values for both sides. Selectors 'layer:<word of the test id>' name the layer kind or case variant.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, ByPlatform, KnownDifference
from .witness_tools import frameworks, no_grad

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


_X2 = np.array([[1.0], [3.0]], np.float32)  # batch mean 2, biased var 1, unbiased var 2


@no_grad
def _bn_momentum() -> dict:
    torch, keras = frameworks()
    kb = keras.layers.BatchNormalization()
    kb(_X2, training=True)
    tb = torch.nn.BatchNorm1d(1).train()
    tb(torch.from_numpy(_X2))
    return {"tf": [kb.momentum, float(kb.moving_mean.numpy()[0])],
            "torch": [tb.momentum, float(tb.running_mean[0])]}


ENTRIES.add(KnownDifference(
    id="bn-momentum-convention",
    area="layer-defaults",
    title="BatchNorm momentum means opposite things: Keras 0.99 weights the OLD statistic, torch 0.1 the NEW one",
    tf="moving = momentum*moving + (1-momentum)*batch, default momentum=0.99: one step from 0 on mean 2 -> 0.02.",
    torch="running = (1-momentum)*running + momentum*batch, default momentum=0.1: one step -> 0.2.",
    witness=_bn_momentum,
    expected={"tf": [0.99, 0.02], "torch": [0.1, 0.2]},
    snippet_tf="keras.layers.BatchNormalization()(x, training=True)",
    snippet_torch="torch.nn.BatchNorm1d(1).train()(x)",
    evidence="keras BatchNormalization docstring (momentum); torch.nn.BatchNorm1d docs (note on momentum)",
    mapping="torch momentum = 1 - Keras momentum",
    applies_to=("layer:batch_norm",),
    atol=1e-7,
    gotcha=True,
))


@no_grad
def _bn_epsilon() -> dict:
    torch, keras = frameworks()
    kb, tb = keras.layers.BatchNormalization(), torch.nn.BatchNorm1d(1).eval()
    one = np.ones((1, 1), np.float32)  # inference with fresh stats (mean 0, var 1): 1 / sqrt(1 + eps)
    return {"tf": [kb.epsilon, float(kb(one, training=False).numpy()[0, 0])],
            "torch": [tb.eps, float(tb(torch.from_numpy(one))[0, 0])]}


ENTRIES.add(KnownDifference(
    id="bn-epsilon-default",
    area="layer-defaults",
    title="BatchNorm epsilon defaults differ: Keras 1e-3, torch 1e-5",
    tf="epsilon=1e-3: inference output on x=1 with fresh stats is 1/sqrt(1.001) = 0.9995004.",
    torch="eps=1e-5: the same output is 1/sqrt(1.00001) = 0.999995.",
    witness=_bn_epsilon,
    expected={"tf": [1e-3, 0.99950037], "torch": [1e-5, 0.99999500]},
    snippet_tf="keras.layers.BatchNormalization().epsilon",
    snippet_torch="torch.nn.BatchNorm1d(1).eps",
    evidence="Keras and torch BatchNorm API docs (default arguments)",
    mapping="pass epsilon explicitly",
    applies_to=("layer:batch_norm",),
    atol=1e-7,
))


@no_grad
def _bn_running_var() -> dict:
    torch, keras = frameworks()
    kb = keras.layers.BatchNormalization(momentum=0.0)  # moving stats := this batch's
    kb(_X2, training=True)
    tb = torch.nn.BatchNorm1d(1, momentum=1.0).train()
    tb(torch.from_numpy(_X2))
    return {"tf": float(kb.moving_variance.numpy()[0]), "torch": float(tb.running_var[0])}


ENTRIES.add(KnownDifference(
    id="bn-running-var-unbiased",
    area="layer-defaults",
    title="BatchNorm moving variance: Keras stores the biased batch variance, torch the unbiased (n-1) one",
    tf="moving_variance is updated with the biased variance (divide by n): batch [1, 3] -> 1.0.",
    torch="running_var is updated with the unbiased variance (divide by n-1): batch [1, 3] -> 2.0; the "
          "normalisation itself uses the biased variance in both.",
    witness=_bn_running_var,
    expected={"tf": 1.0, "torch": 2.0},
    snippet_tf="keras.layers.BatchNormalization(momentum=0.0)(x, training=True)",
    snippet_torch="torch.nn.BatchNorm1d(1, momentum=1.0).train()(x)",
    evidence="torch.nn.BatchNorm1d docs: 'running var is calculated via the unbiased estimator'; keras "
             "batch_normalization.py uses ops.moments (biased)",
    mapping="none exact: moving variances differ by n/(n-1) per update; training-mode outputs agree",
    applies_to=("layer:batch_norm",),
    atol=1e-6,
    gotcha=True,
))


@no_grad
def _ln_epsilon() -> dict:
    torch, keras = frameworks()
    x = np.array([[1.0, -1.0]], np.float32)  # mean 0, var 1: output 1 / sqrt(1 + eps)
    kl, tl = keras.layers.LayerNormalization(), torch.nn.LayerNorm(2)
    return {"tf": [kl.epsilon, float(kl(x).numpy()[0, 0])], "torch": [tl.eps, float(tl(torch.from_numpy(x))[0, 0])]}


ENTRIES.add(KnownDifference(
    id="layer-norm-epsilon-default",
    area="layer-defaults",
    title="LayerNorm epsilon defaults differ: Keras 1e-3, torch 1e-5",
    tf="LayerNormalization(epsilon=1e-3): [1, -1] -> 1/sqrt(1.001) = 0.9995004 at the first element.",
    torch="nn.LayerNorm(eps=1e-5): the same element is 0.999995.",
    witness=_ln_epsilon,
    expected={"tf": [1e-3, 0.99950037], "torch": [1e-5, 0.99999500]},
    snippet_tf="keras.layers.LayerNormalization()(x)",
    snippet_torch="torch.nn.LayerNorm(2)(x)",
    evidence="Keras LayerNormalization and torch.nn.LayerNorm API docs",
    mapping="pass epsilon explicitly",
    applies_to=("layer:layer_norm",),
    atol=1e-7,
))


@no_grad
def _leaky_relu() -> dict:
    torch, keras = frameworks()
    x = np.array([-1.0], np.float32)
    t = torch.from_numpy(x)
    return {"tf": {"layers.LeakyReLU": float(keras.layers.LeakyReLU()(x)[0]),
                   "activations.leaky_relu": float(keras.activations.leaky_relu(x)[0]),
                   "ops.leaky_relu": float(keras.ops.leaky_relu(x)[0])},
            "torch": {"nn.LeakyReLU": float(torch.nn.LeakyReLU()(t)[0]),
                      "F.leaky_relu": float(torch.nn.functional.leaky_relu(t)[0])}}


ENTRIES.add(KnownDifference(
    id="leaky-relu-default-slope",
    area="layer-defaults",
    title="leaky_relu default slope: Keras layer 0.3, Keras function 0.2, torch 0.01",
    tf="keras.layers.LeakyReLU(negative_slope=0.3); keras.activations.leaky_relu and keras.ops.leaky_relu 0.2.",
    torch="nn.LeakyReLU and F.leaky_relu negative_slope=0.01.",
    witness=_leaky_relu,
    expected={"tf": {"layers.LeakyReLU": -0.3, "activations.leaky_relu": -0.2, "ops.leaky_relu": -0.2},
              "torch": {"nn.LeakyReLU": -0.01, "F.leaky_relu": -0.01}},
    snippet_tf="keras.layers.LeakyReLU()(-1.0)",
    snippet_torch="torch.nn.LeakyReLU()(torch.tensor([-1.0]))",
    evidence="Keras LeakyReLU / activations.leaky_relu signatures; torch.nn.LeakyReLU docs",
    mapping="pass negative_slope explicitly",
    applies_to=("layer:leaky_relu", "layer:activation", "op:leaky_relu"),
    atol=1e-7,
    gotcha=True,
))


@no_grad
def _prelu_alpha_shape() -> dict:
    torch, keras = frameworks()
    x = np.zeros((1, 3, 4, 5), np.float32)  # one sample of a (3, 4, 5) input
    per_element, per_channel = keras.layers.PReLU(), keras.layers.PReLU(shared_axes=[1, 2])
    per_element(x)
    per_channel(x)
    # per channel: Keras PReLU(shared_axes=[1, 2]) on NHWC, torch PReLU(num_parameters=C)
    return {"tf": {"PReLU()": list(per_element.alpha.shape), "per channel": list(per_channel.alpha.shape)},
            "torch": {"PReLU()": list(torch.nn.PReLU().weight.shape),
                      "per channel": list(torch.nn.PReLU(num_parameters=5).weight.shape)}}


ENTRIES.add(KnownDifference(
    id="prelu-default-alpha-shape",
    area="layer-defaults",
    title="PReLU's default alpha: Keras learns one per input ELEMENT, torch one for the whole tensor",
    tf="PReLU(shared_axes=None), the default, builds alpha with the input's shape without the batch axis: (3, 4, 5) "
       "on a (3, 4, 5) input, 60 slopes; PReLU(shared_axes=[1, 2]) shares them over H and W: one per channel, "
       "(1, 1, 5).",
    torch="nn.PReLU() has num_parameters=1: one slope, weight (1,), for every element; per channel needs "
          "nn.PReLU(num_parameters=C): weight (C,). No argument gives one slope per element.",
    witness=_prelu_alpha_shape,
    expected={"tf": {"PReLU()": [3, 4, 5], "per channel": [1, 1, 5]}, "torch": {"PReLU()": [1], "per channel": [5]}},
    snippet_tf="keras.layers.PReLU()  # alpha (3, 4, 5) on a (3, 4, 5) input",
    snippet_torch="torch.nn.PReLU()  # weight (1,); torch.nn.PReLU(num_parameters=C): (C,)",
    evidence="keras/src/layers/activations/prelu.py (shared_axes=None; build: param_shape = input_shape[1:]); "
             "torch.nn.PReLU docs (num_parameters=1)",
    mapping="per channel: Keras shared_axes = every axis but the channels <-> nn.PReLU(num_parameters=C), alpha "
            "(1, .., C) -> weight (C,); one slope: shared_axes = every axis <-> nn.PReLU(), (1, .., 1) -> (1,). "
            "Keras' per-element default has no torch form (write x.clamp(min=0) + alpha * x.clamp(max=0))",
    applies_to=("layer:prelu",),
    gotcha=True,
))


@no_grad
def _prelu_alpha_init() -> dict:
    torch, keras = frameworks()
    x = np.array([[-1.0, 2.0]], np.float32)
    k, t = keras.layers.PReLU(shared_axes=[1]), torch.nn.PReLU()
    y_k = k(x).numpy()[0]  # builds alpha
    return {"tf": {"alpha": sorted(set(k.alpha.numpy().ravel().tolist())), "y": y_k.tolist()},
            "torch": {"alpha": sorted(set(t.weight.numpy().ravel().tolist())),
                      "y": t(torch.from_numpy(x))[0].tolist()}}


ENTRIES.add(KnownDifference(
    id="prelu-alpha-init",
    area="layer-defaults",
    title="PReLU's initial slope: Keras 0 (starts as a ReLU), torch 0.25",
    tf="PReLU(alpha_initializer='Zeros'): every alpha starts at 0, so [-1, 2] -> [0, 2].",
    torch="nn.PReLU(init=0.25): weight starts at 0.25, so [-1, 2] -> [-0.25, 2].",
    witness=_prelu_alpha_init,
    expected={"tf": {"alpha": [0.0], "y": [0.0, 2.0]}, "torch": {"alpha": [0.25], "y": [-0.25, 2.0]}},
    snippet_tf="keras.layers.PReLU()(np.float32([[-1.0, 2.0]]))",
    snippet_torch="torch.nn.PReLU()(torch.tensor([[-1.0, 2.0]]))",
    evidence="keras PReLU signature (alpha_initializer='Zeros'); torch.nn.PReLU docs (init=0.25)",
    mapping="pass the initial slope on one side: PReLU(alpha_initializer=keras.initializers.Constant(0.25)) or "
            "nn.PReLU(init=0.0), or load one weight set into both (equivalence.weights)",
    applies_to=("layer:prelu",),
))


@no_grad
def _prelu_channel_axis() -> dict:
    """Per-channel slopes (0.5, 0.125, 0.75) on an (N, L, C) sequence of -1s: Keras' slopes follow the axes
    shared_axes leaves out (here the last), torch's always run along dim 1."""
    torch, keras = frameworks()
    slopes = np.array([0.5, 0.125, 0.75], np.float32)
    square, long = -np.ones((1, 3, 3), np.float32), -np.ones((1, 2, 3), np.float32)  # (N, L, C): L == C, L != C
    k = keras.layers.PReLU(shared_axes=[1])  # shared over L: one slope per channel
    k(square)
    k.set_weights([slopes[None]])
    t = torch.nn.PReLU(num_parameters=3)
    t.weight.copy_(torch.from_numpy(slopes))

    def torch_nlc(x):
        try:
            return t(torch.from_numpy(x))[0].tolist()
        except Exception as exc:  # noqa: BLE001 - the error class is the observation
            return type(exc).__name__

    return {"tf": {"slopes shape": list(k.alpha.shape), "(N, L, C), L == C": k(square).numpy()[0].tolist(),
                   "(N, L, C), L != C": k(long).numpy()[0].tolist()},
            "torch": {"slopes shape": list(t.weight.shape), "(N, L, C), L == C": torch_nlc(square),
                      "(N, L, C), L != C": torch_nlc(long),
                      "permuted to (N, C, L)": t(torch.from_numpy(long).permute(0, 2, 1)).permute(0, 2, 1)[0].tolist()}}


ENTRIES.add(KnownDifference(
    id="prelu-channel-axis",
    area="layouts",
    title="PReLU's per-channel slopes: torch applies them along dim 1, so a channels-last (N, L, C) sequence must be "
          "permuted; Keras shares along the axes shared_axes names",
    tf="PReLU(shared_axes=[1]) on (N, L, C) learns alpha (1, C) and applies slope c to channel c (the last axis), "
       "whatever L is: -1 -> [-0.5, -0.125, -0.75] at every step.",
    torch="nn.PReLU(num_parameters=C) applies weight[c] along dim 1: on (N, L, C) with L != C it raises "
          "RuntimeError (channel size mismatch); with L == C it silently gives each STEP one slope, "
          "[[-0.5]*3, [-0.125]*3, [-0.75]*3]. Permuted to (N, C, L) and back it matches Keras.",
    witness=_prelu_channel_axis,
    expected={"tf": {"slopes shape": [1, 3], "(N, L, C), L == C": [[-0.5, -0.125, -0.75]] * 3,
                     "(N, L, C), L != C": [[-0.5, -0.125, -0.75]] * 2},
              "torch": {"slopes shape": [3], "(N, L, C), L == C": [[-0.5] * 3, [-0.125] * 3, [-0.75] * 3],
                        "(N, L, C), L != C": "RuntimeError",
                        "permuted to (N, C, L)": [[-0.5, -0.125, -0.75]] * 2}},
    snippet_tf="keras.layers.PReLU(shared_axes=[1])(x_nlc)",
    snippet_torch="torch.nn.PReLU(C)(x_nlc.permute(0, 2, 1)).permute(0, 2, 1)",
    evidence="torch.nn.PReLU docs ('channel dim is the 2nd dim of input'); keras PReLU docstring (shared_axes)",
    mapping="(N, L, C): permute to (N, C, L) around nn.PReLU(C) (the spec builder wraps it); NCHW maps already have "
            "C at dim 1, with Keras shared_axes=[1, 2] on NHWC; alpha (1, .., C) -> weight (C,)",
    applies_to=("layer:prelu",),
    gotcha=True,
))


@no_grad
def _gelu() -> dict:
    torch, keras = frameworks()
    tf, x = runtime.tf(), np.array([1.0], np.float32)  # exact 0.8413447, tanh approximation 0.8411920
    return {"tf": {"activations.gelu": float(keras.activations.gelu(x)[0]), "ops.gelu": float(keras.ops.gelu(x)[0]),
                   "tf.nn.gelu": float(tf.nn.gelu(x)[0])},
            "torch": {"F.gelu": float(torch.nn.functional.gelu(torch.from_numpy(x))[0]),
                      "nn.GELU": float(torch.nn.GELU()(torch.from_numpy(x))[0])}}


ENTRIES.add(KnownDifference(
    id="gelu-approximate-default",
    area="layer-defaults",
    title="GELU: keras.ops.gelu defaults to the tanh approximation; keras.activations.gelu, tf.nn.gelu and torch are exact",
    tf="activations.gelu(approximate=False), tf.nn.gelu(approximate=False), but ops.gelu(approximate=True): "
       "gelu(1) = 0.8413447 vs 0.8411920.",
    torch="F.gelu / nn.GELU approximate='none' (exact erf form).",
    witness=_gelu,
    expected={"tf": {"activations.gelu": 0.8413447, "ops.gelu": 0.8411920, "tf.nn.gelu": 0.8413447},
              "torch": {"F.gelu": 0.8413447, "nn.GELU": 0.8413447}},
    snippet_tf="keras.ops.gelu(x)",
    snippet_torch="torch.nn.functional.gelu(x)",
    evidence="keras.ops.gelu and torch.nn.GELU signatures",
    mapping="approximate=True <-> approximate='tanh'",
    applies_to=("layer:gelu", "layer:gelu_tanh", "layer:activation", "op:gelu-exact", "op:gelu-keras"),
    atol=2e-7,
    gotcha=True,
))


@no_grad
def _elu_selu() -> dict:
    torch, keras = frameworks()
    x = np.array([-1.0, 2.0], np.float32)
    t, F = torch.from_numpy(x), torch.nn.functional
    return {"tf": [keras.activations.elu(x).numpy().tolist(), keras.activations.selu(x).numpy().tolist()],
            "torch": [F.elu(t).tolist(), F.selu(t).tolist()]}


ENTRIES.add(KnownDifference(
    id="elu-selu-constants",
    area="layer-defaults",
    title="ELU alpha (1.0) and the SELU constants agree between the frameworks (recorded so a change shows)",
    tf="elu alpha=1.0; selu scale 1.0507009873554805, alpha 1.6732632423543772.",
    torch="F.elu alpha=1.0; F.selu uses the same two constants.",
    witness=_elu_selu,
    expected={"tf": [[-0.63212055, 2.0], [-1.1113307, 2.101402]], "torch": [[-0.63212055, 2.0], [-1.1113307, 2.101402]]},
    snippet_tf="keras.activations.selu(x)",
    snippet_torch="torch.nn.functional.selu(x)",
    evidence="Klambauer et al. 2017; both API docs",
    applies_to=("layer:elu", "layer:selu", "layer:activation"),
    atol=1e-6,
))


@no_grad
def _avgpool_pad() -> dict:
    torch, keras = frameworks()
    x = np.ones((1, 3, 3, 1), np.float32)  # the corner window holds 4 real pixels and 5 padded ones
    y_tf = keras.layers.AveragePooling2D(3, strides=1, padding="same")(x)
    y_t = torch.nn.AvgPool2d(3, stride=1, padding=1)(torch.from_numpy(x).permute(0, 3, 1, 2))
    return {"tf": float(y_tf[0, 0, 0, 0]), "torch": float(y_t[0, 0, 0, 0])}


ENTRIES.add(KnownDifference(
    id="avgpool-count-include-pad",
    area="layer-defaults",
    title="Average pooling with padding: Keras 'same' averages real pixels only, torch counts the zero padding",
    tf="AveragePooling2D(3, strides=1, padding='same') on ones: 1.0 everywhere (padding excluded).",
    torch="AvgPool2d(3, stride=1, padding=1) with count_include_pad=True (default): corner = 4/9.",
    witness=_avgpool_pad,
    expected={"tf": 1.0, "torch": 4 / 9},
    snippet_tf="keras.layers.AveragePooling2D(3, 1, padding='same')(x)",
    snippet_torch="torch.nn.AvgPool2d(3, 1, padding=1)(x)",
    evidence="torch.nn.AvgPool2d docs (count_include_pad=True)",
    mapping="count_include_pad=False when the pad is symmetric; otherwise divide by a count map",
    applies_to=("layer:avg_pool2d",),
    atol=1e-7,
    gotcha=True,
))


@no_grad
def _conv_same_stride2() -> dict:
    torch, keras = frameworks()
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


ENTRIES.add(KnownDifference(
    id="conv-same-stride2-padding",
    area="layouts",
    title="'same' convolution with stride 2: TF pads asymmetrically (extra pixel after); torch cannot say 'same'",
    tf="Conv1D(k=3, strides=2, padding='same') on length 4 pads (0 before, 1 after): windows [1,2,3], [3,4,0].",
    torch="Conv1d(padding='same') raises for stride > 1; symmetric padding=1 pads (1, 1): windows [0,1,2], [2,3,4].",
    witness=_conv_same_stride2,
    expected={"tf": [6.0, 7.0], "torch": {"padding=1": [3.0, 9.0],
                                          "padding='same'": "ValueError: padding='same' is not supported for strided "
                                                            "convolutions"}},
    snippet_tf="keras.layers.Conv1D(1, 3, strides=2, padding='same')",
    snippet_torch="torch.nn.Conv1d(1, 1, 3, stride=2, padding=1)",
    evidence="tf.nn.convolution docs (SAME padding: pad_before = total // 2); torch Conv1d padding docs",
    mapping="F.pad(x, (before, after)) with TF's split, then padding=0",
    applies_to=("layer:same_stride2", "layer:conv1d", "layer:conv2d"),
    gotcha=True,
))


@no_grad
def _pool_same() -> dict:
    torch, keras = frameworks()
    x = -np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)  # all negative: padding must never win a max
    y_tf = keras.layers.MaxPooling2D(2, padding="same")(x).numpy()[0, :, :, 0]
    y_t = torch.nn.MaxPool2d(2, padding=1)(torch.from_numpy(x).permute(0, 3, 1, 2))[0, 0]
    return {"tf": y_tf.tolist(), "torch": y_t.tolist()}


ENTRIES.add(KnownDifference(
    id="pool-same-padding",
    area="layouts",
    title="'same' max pooling: TF pads after (asymmetric); torch's symmetric padding shifts every window",
    tf="MaxPooling2D(2, padding='same') on a 3x3 map pads (0, 1): windows start at rows/cols 0 and 2.",
    torch="MaxPool2d(2, padding=1) pads (1, 1): windows start at -1 and 1; padding > k/2 raises.",
    witness=_pool_same,
    expected={"tf": [[-1.0, -3.0], [-7.0, -9.0]], "torch": [[-1.0, -2.0], [-4.0, -5.0]]},
    snippet_tf="keras.layers.MaxPooling2D(2, padding='same')(x)",
    snippet_torch="torch.nn.MaxPool2d(2, padding=1)(x)",
    evidence="tf.nn.max_pool2d docs (SAME); torch.nn.MaxPool2d docs",
    mapping="F.pad with -inf, then padding=0",
    applies_to=("layer:max_pool2d", "layer:avg_pool2d"),
))


@no_grad
def _flatten_order() -> dict:
    torch, keras = frameworks()
    x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)  # NHWC
    y_t = torch.nn.Flatten()(torch.from_numpy(x).permute(0, 3, 1, 2))
    return {"tf": keras.layers.Flatten()(x).numpy()[0].tolist(), "torch": y_t[0].tolist()}


ENTRIES.add(KnownDifference(
    id="flatten-order",
    area="layouts",
    title="Flatten order: Keras flattens NHWC as (h, w, c); torch flattens NCHW as (c, h, w)",
    tf="Flatten on (1, 2, 2, 2) NHWC arange(8) -> [0..7].",
    torch="nn.Flatten on the same tensor as NCHW -> [0, 2, 4, 6, 1, 3, 5, 7]: a Dense after it needs its rows permuted.",
    witness=_flatten_order,
    expected={"tf": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], "torch": [0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]},
    snippet_tf="keras.layers.Flatten()(x_nhwc)",
    snippet_torch="torch.nn.Flatten()(x_nchw)",
    evidence="equivalence.weights.chw_index",
    mapping="permute the next Dense kernel's rows with chw_index((H, W, C))",
    applies_to=("layer:flatten",),
    gotcha=True,
))


@no_grad
def _kernel_layouts() -> dict:
    torch, keras = frameworks()
    d, c = keras.layers.Dense(3), keras.layers.Conv2D(4, 3)
    d(np.zeros((1, 2), np.float32))
    c(np.zeros((1, 5, 5, 2), np.float32))
    return {"tf": {"dense": list(d.kernel.shape), "conv2d": list(c.kernel.shape)},
            "torch": {"linear": list(torch.nn.Linear(2, 3).weight.shape),
                      "conv2d": list(torch.nn.Conv2d(2, 4, 3).weight.shape)}}


ENTRIES.add(KnownDifference(
    id="kernel-layout",
    area="layouts",
    title="Weight layouts: Dense kernel (in, out) vs Linear weight (out, in); Conv2D HWIO vs Conv2d OIHW",
    tf="Dense(3) on 2 features: kernel (2, 3); Conv2D(4, 3) on 2 channels: kernel (3, 3, 2, 4).",
    torch="Linear(2, 3).weight (3, 2); Conv2d(2, 4, 3).weight (4, 2, 3, 3).",
    witness=_kernel_layouts,
    expected={"tf": {"dense": [2, 3], "conv2d": [3, 3, 2, 4]}, "torch": {"linear": [3, 2], "conv2d": [4, 2, 3, 3]}},
    snippet_tf="keras.layers.Dense(3).kernel.shape",
    snippet_torch="torch.nn.Linear(2, 3).weight.shape",
    evidence="Keras Dense/Conv2D and torch Linear/Conv2d API docs",
    mapping="kernel.T; kernel.transpose(3, 2, 0, 1)",
    applies_to=("layer:dense", "layer:conv1d", "layer:conv2d"),
))


@no_grad
def _dense_init() -> dict:
    torch, keras = frameworks()
    d = keras.layers.Dense(50)  # fan_in 100, fan_out 50: Glorot bound sqrt(6/150) = 0.2; torch bound 1/sqrt(100) = 0.1
    d(np.zeros((1, 100), np.float32))
    lin = torch.nn.Linear(100, 50)
    facts = lambda k, b: {"bias_all_zero": bool(np.all(b == 0)), "max_abs_kernel_le_0.1": bool(np.abs(k).max() <= 0.1),
                          "max_abs_kernel_le_0.2": bool(np.abs(k).max() <= 0.2)}
    return {"tf": facts(d.kernel.numpy(), d.bias.numpy()),
            "torch": facts(lin.weight.detach().numpy(), lin.bias.detach().numpy())}


ENTRIES.add(KnownDifference(
    id="dense-default-init",
    area="layer-defaults",
    title="Default initialisers: Keras Glorot-uniform kernel and zero bias; torch Kaiming-uniform(a=sqrt 5) and a random bias",
    tf="Dense: kernel U(+-sqrt(6/(in+out))) = U(+-0.2) for 100 -> 50, bias zeros.",
    torch="Linear: weight and bias U(+-1/sqrt(in)) = U(+-0.1).",
    witness=_dense_init,
    expected={"tf": {"bias_all_zero": True, "max_abs_kernel_le_0.1": False, "max_abs_kernel_le_0.2": True},
              "torch": {"bias_all_zero": False, "max_abs_kernel_le_0.1": True, "max_abs_kernel_le_0.2": True}},
    snippet_tf="keras.layers.Dense(50)",
    snippet_torch="torch.nn.Linear(100, 50)",
    evidence="keras Dense signature (glorot_uniform, zeros); torch.nn.Linear.reset_parameters",
    mapping="load one weight set into both (equivalence.weights)",
    applies_to=("layer:dense",),
))


@no_grad
def _embedding_init() -> dict:
    torch, keras = frameworks()
    e = keras.layers.Embedding(100, 20)
    e(np.zeros((1, 1), np.int32))
    facts = lambda w: {"max_abs_le_0.05": bool(np.abs(w).max() <= 0.05), "std_gt_0.5": bool(w.std() > 0.5)}
    return {"tf": facts(e.embeddings.numpy()), "torch": facts(torch.nn.Embedding(100, 20).weight.detach().numpy())}


ENTRIES.add(KnownDifference(
    id="embedding-default-init",
    area="layer-defaults",
    title="Embedding initialisers: Keras U(-0.05, 0.05), torch N(0, 1)",
    tf="Embedding: embeddings_initializer='uniform' (U(-0.05, 0.05)).",
    torch="nn.Embedding: weight ~ N(0, 1).",
    witness=_embedding_init,
    expected={"tf": {"max_abs_le_0.05": True, "std_gt_0.5": False},
              "torch": {"max_abs_le_0.05": False, "std_gt_0.5": True}},
    snippet_tf="keras.layers.Embedding(100, 20)",
    snippet_torch="torch.nn.Embedding(100, 20)",
    evidence="both API docs (default initialisers)",
    applies_to=("layer:embedding",),
))


@no_grad
def _lstm_bias() -> dict:
    torch, keras = frameworks()
    k = keras.layers.LSTM(4)
    k(np.zeros((1, 2, 3), np.float32))
    t = torch.nn.LSTM(3, 4)
    return {"tf": {"params": int(k.count_params()), "biases": [list(k.cell.bias.shape)]},
            "torch": {"params": sum(p.numel() for p in t.parameters()),
                      "biases": [list(t.bias_ih_l0.shape), list(t.bias_hh_l0.shape)]}}


ENTRIES.add(KnownDifference(
    id="lstm-bias-count",
    area="layouts",
    title="LSTM biases: Keras has one (4u), torch two (bias_ih + bias_hh); same gate order",
    tf="LSTM(4) on 3 features: 4*4*(3+4) + 16 = 128 parameters; gate order i, f, c, o.",
    torch="nn.LSTM(3, 4): 4*4*(3+4) + 2*16 = 144 parameters; gate order i, f, g, o (the same).",
    witness=_lstm_bias,
    expected={"tf": {"params": 128, "biases": [[16]]}, "torch": {"params": 144, "biases": [[16], [16]]}},
    snippet_tf="keras.layers.LSTM(4).count_params()",
    snippet_torch="sum(p.numel() for p in torch.nn.LSTM(3, 4).parameters())",
    evidence="Keras LSTMCell build(); torch.nn.LSTM docs (variables)",
    mapping="bias_ih = bias, bias_hh = 0",
    applies_to=("layer:lstm",),
))


@no_grad
def _lstm_forget_bias() -> dict:
    torch, keras = frameworks()
    k = keras.layers.LSTM(2)
    k(np.zeros((1, 2, 3), np.float32))
    t = torch.nn.LSTM(3, 2)
    b = t.bias_ih_l0.detach().numpy()
    return {"tf": k.cell.bias.numpy().tolist(),
            "torch": {"forget_block_is_one": bool(np.all(b[2:4] == 1)), "all_within_1/sqrt(2)": bool(
                np.abs(b).max() <= 2**-0.5)}}


ENTRIES.add(KnownDifference(
    id="lstm-forget-bias-init",
    area="layer-defaults",
    title="LSTM bias init: Keras sets the forget-gate bias to 1 (unit_forget_bias), torch draws all biases uniformly",
    tf="bias = [0, 0, 1, 1, 0, 0, 0, 0] for 2 units (blocks i, f, c, o).",
    torch="bias_ih/bias_hh ~ U(+-1/sqrt(hidden)): the forget block is not 1.",
    witness=_lstm_forget_bias,
    expected={"tf": [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
              "torch": {"forget_block_is_one": False, "all_within_1/sqrt(2)": True}},
    snippet_tf="keras.layers.LSTM(2)",
    snippet_torch="torch.nn.LSTM(3, 2)",
    evidence="Keras LSTM unit_forget_bias; torch.nn.LSTM docs",
    applies_to=("layer:lstm",),
))


@no_grad
def _gru_gate_order() -> dict:
    """Only the FIRST gate block sees the input (weight 20: that gate saturates to 1); the candidate gets weight 1.
    Keras' first block is the update gate z: h = z*h0 + (1-z)*cand = h0 = 0. Torch's is the reset gate r:
    h = (1-z)*tanh(1) with z = sigmoid(0) = 0.5, i.e. 0.3808."""
    torch, keras = frameworks()
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


ENTRIES.add(KnownDifference(
    id="gru-gate-order",
    area="layouts",
    title="GRU gate blocks: Keras (z, r, h), torch (r, z, n)",
    tf="kernel columns [update z | reset r | candidate h]: saturating the FIRST block freezes h at h0 = 0.",
    torch="weight_ih rows [reset r | update z | new n]: saturating the first block opens the reset gate: "
          "h = 0.5*tanh(1) = 0.3808.",
    witness=_gru_gate_order,
    expected={"tf": 0.0, "torch": 0.38079708},
    snippet_tf="keras.layers.GRU(1)",
    snippet_torch="torch.nn.GRU(1, 1)",
    evidence="Keras GRUCell.call; torch.nn.GRU docs (weight_ih_l0: W_ir|W_iz|W_in)",
    mapping="reorder gate blocks (1, 0, 2) and transpose",
    applies_to=("layer:gru",),
    atol=1e-6,
    gotcha=True,
))


@no_grad
def _gru_reset_after() -> dict:
    """One GRU step from h0 = 1 with x = 0: every weight 0 except the recurrent candidate weight 1 and a candidate
    bias 1 (Keras reset_after=True and torch: the recurrent one, b_hn). Both gates are sigmoid(0) = 0.5, so
    h1 = 0.5*n + 0.5*h0 shows where the reset gate acts: r*(W_hn h + b_hn) gives n = tanh(0.5*(1 + 1)) = tanh(1),
    h1 = 0.8807971; (W_hn (r*h)) + b gives n = tanh(0.5 + 1) = tanh(1.5), h1 = 0.9525741."""
    torch, keras = frameworks()
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


ENTRIES.add(KnownDifference(
    id="gru-reset-after",
    area="layer-defaults",
    title="GRU reset gate: Keras 3 defaults to reset_after=True (torch's formula, two biases); reset_after=False "
          "applies r before the recurrent matmul and has no torch equivalent",
    tf="GRU(reset_after=True), the default: n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), bias shape (2, 3u). "
       "reset_after=False (the TF1 default): n = tanh(W_in x + W_hn (r*h) + b_n), one bias (3u,). One step from "
       "h0 = 1 with only W_hn = 1 and the candidate bias 1: h1 = 0.8807971 (default) vs 0.9525741.",
    torch="nn.GRU computes n = tanh(W_in x + b_in + r*(W_hn h + b_hn)) (= Keras reset_after=True) with bias_ih and "
          "bias_hh of shape (3u,); it takes no reset_after argument (TypeError). Same step: h1 = 0.8807971.",
    witness=_gru_reset_after,
    expected={"tf": {"default": {"h1": 0.88079709, "bias_shape": [2, 3]},
                     "reset_after=False": {"h1": 0.95257413, "bias_shape": [3]}},
              "torch": {"h1": 0.88079709, "biases": [[3], [3]], "reset_after=False": "raises TypeError"}},
    snippet_tf="keras.layers.GRU(1)(x, initial_state=[h0])  # reset_after=True; GRU(1, reset_after=False) differs",
    snippet_torch="torch.nn.GRU(1, 1, batch_first=True)(x, h0)",
    evidence="Keras GRUCell.call (keras/src/layers/rnn/gru.py: reset_after branches); torch.nn.GRU docs (equations: "
             "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn)))",
    mapping="reset_after=True only: bias[0] -> bias_ih, bias[1] -> bias_hh (a reset_after=False spec raises)",
    applies_to=("layer:gru",),
    atol=1e-6,
))


@no_grad
def _softmax_implicit_dim() -> dict:
    torch, keras = frameworks()
    x = np.array([[[0.0, 1.0]], [[0.0, 1.0]]], np.float32)  # (2, 1, 2): axis 0 and axis -1 give different results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that the implicit dim choice is deprecated
        y_t = torch.nn.Softmax()(torch.from_numpy(x))
    return {"tf": float(keras.layers.Softmax()(x)[0, 0, 1]), "torch": float(y_t[0, 0, 1])}


ENTRIES.add(KnownDifference(
    id="softmax-implicit-dim",
    area="layer-defaults",
    title="Softmax axis: Keras defaults to the last axis; torch's nn.Softmax() without dim picks dim 0 for 3-D input",
    tf="keras.layers.Softmax() normalises axis -1: [0, 1] -> 0.7311 at index 1.",
    torch="nn.Softmax() (dim=None, deprecated) uses dim 0 for 0/1/3-D input, else 1: over two equal rows -> 0.5.",
    witness=_softmax_implicit_dim,
    expected={"tf": 0.7310586, "torch": 0.5},
    snippet_tf="keras.layers.Softmax()(x)",
    snippet_torch="torch.nn.Softmax()(x)",
    evidence="torch.nn.functional._get_softmax_dim",
    mapping="always pass dim (-1 channels-last, 1 for NCHW)",
    applies_to=("layer:softmax",),
    atol=1e-6,
    gotcha=True,
))


@no_grad
def _norm_cancellation() -> dict:
    """A constant input normalises to exactly beta (0.1); how close each framework gets shows its formula."""
    torch, keras = frameworks()
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


ENTRIES.add(KnownDifference(
    id="norm-affine-cancellation",
    area="numerics",
    title="Normalisation of a (near-)constant input: Keras' fused formula cancels catastrophically, torch's LayerNorm does not",
    tf="LayerNormalization and BatchNormalization compute x*inv + (beta - mean*inv), inv = gamma/sqrt(var+eps): "
       "both terms are ~|x|/sqrt(eps) and cancel, so x = 100 (var 0, eps 1e-5) gives 0.099609375, not 0.1.",
    torch="nn.LayerNorm computes (x - mean)*rstd*gamma + beta: exactly 0.1. Training-mode BatchNorm1d also fuses "
          "(x*scale + shift) and cancels, and how much depends on torch's CPU capability: its AVX2/AVX512 kernels "
          "give 0.0994873, the DEFAULT (scalar) kernel 0.099609375 (ATEN_CPU_CAPABILITY=default).",
    witness=_norm_cancellation,
    expected={"tf": {"layer_norm": 0.099609375, "batch_norm_training": 0.099609375},
              "torch": ByPlatform("torch_cpu_capability", {
                  ("AVX2", "AVX512"): {"layer_norm": 0.10000000149011612, "batch_norm_training": 0.0994873046875},
                  "DEFAULT": {"layer_norm": 0.10000000149011612, "batch_norm_training": 0.099609375}})},
    snippet_tf="keras.layers.LayerNormalization(epsilon=1e-5)([[100.0]])",
    snippet_torch="torch.nn.LayerNorm(1, eps=1e-5)([[100.0]])",
    evidence="keras/src/ops/nn.py _layer_normalization (x * inv + res); tf.nn.batch_normalization; found by hypothesis "
             "(thorough profile) on dense(units=1) -> layer_norm; torch's per-capability value observed with "
             "ATEN_CPU_CAPABILITY=default|avx2|avx512 on one AVX-512 machine",
    mapping="none: the suite's model tolerance scales with max|x*gamma/sqrt(var+eps)| "
            "(equivalence.model_tolerance.error_scale)",
    applies_to=("layer:one_feature", "layer:after_elu_tiny", "layer:batch_norm", "layer:layer_norm"),
    atol=1e-7,
))


@no_grad
def _elu_near_zero() -> dict:
    torch, keras = frameworks()
    x = np.array([-1e-4, -1e-6], np.float32)  # expm1: -9.9995e-05, -9.999995e-07
    t = torch.from_numpy(x)
    return {"tf": {"elu": keras.activations.elu(x).numpy().tolist(), "selu": keras.activations.selu(x).numpy().tolist()},
            "torch": {"elu": torch.nn.functional.elu(t).tolist(), "selu": torch.nn.functional.selu(t).tolist()}}


ENTRIES.add(KnownDifference(
    id="elu-selu-near-zero",
    area="numerics",
    title="ELU/SELU just below 0: TF computes exp(x) - 1 and loses relative accuracy (1.3% at -1e-6); torch uses expm1",
    tf="tf.nn.elu / tf.nn.selu (behind keras.activations.elu/selu): elu(-1e-6) = -1.0132790e-06 (exact "
       "-9.999995e-07), elu(-1e-4) = -1.0001659e-04; absolute error ~u*alpha, relative error ~u/|x|.",
    torch="F.elu / F.selu are correctly rounded there: -9.999995e-07 and -9.9995e-05.",
    witness=_elu_near_zero,
    expected={"tf": {"elu": [-0.00010001659393310547, -1.0132789611816406e-06],
                     "selu": [-0.00017583910084795207, -1.7814450075093191e-06]},
              "torch": {"elu": [-9.999499889090657e-05, -9.999995427278918e-07],
                        "selu": [-0.00017580113490112126, -1.7580985058884835e-06]}},
    snippet_tf="keras.activations.elu(np.float32([-1e-6]))",
    snippet_torch="torch.nn.functional.elu(torch.tensor([-1e-6]))",
    evidence="keras/src/backend/tensorflow/nn.py elu -> tf.nn.elu; found by hypothesis (thorough) on dense -> elu "
             "with inputs ~0.016",
    mapping="none: the model tolerance counts alpha (SELU: scale*alpha) as a cancelling term "
            "(equivalence.model_tolerance.error_scale)",
    applies_to=("layer:elu_near_zero", "layer:selu_near_zero", "layer:activation", "op:elu", "op:selu"),
    atol=2e-9,
))


@no_grad
def _dropout_scaling() -> dict:
    torch, keras = frameworks()
    x = np.ones((1, 1000), np.float32)
    y_tf = keras.layers.Dropout(0.5)(x, training=True).numpy()
    y_t = torch.nn.Dropout(0.5).train()(torch.from_numpy(x)).numpy()
    return {"tf": sorted(set(y_tf.ravel().tolist())), "torch": sorted(set(y_t.ravel().tolist()))}


ENTRIES.add(KnownDifference(
    id="dropout-inverted-scaling",
    area="modes",
    title="Dropout: both frameworks use inverted dropout (kept values scaled by 1/(1-rate)); the masks differ",
    tf="Dropout(0.5)(ones, training=True) holds only 0 and 2.",
    torch="nn.Dropout(0.5) in train() holds only 0 and 2.",
    witness=_dropout_scaling,
    expected={"tf": [0.0, 2.0], "torch": [0.0, 2.0]},
    snippet_tf="keras.layers.Dropout(0.5)(x, training=True)",
    snippet_torch="torch.nn.Dropout(0.5).train()(x)",
    evidence="Keras Dropout and torch.nn.Dropout docs",
    mapping="none for the masks (different RNGs): compare dropout only at rate 0 or in inference",
    applies_to=("layer:dropout",),
))


@no_grad
def _bn_counts():
    t, k = frameworks()
    bn = k.layers.BatchNormalization()
    bn.build((None, 4))
    tbn = t.nn.BatchNorm1d(4)
    trainable = sum(int(np.prod(w.shape)) for w in bn.trainable_weights)
    return {"tf": {"count_params": bn.count_params(), "trainable": trainable},
            "torch": {"parameters": sum(p.numel() for p in tbn.parameters()),
                      "buffers": sum(b.numel() for b in tbn.buffers()), "state_dict_keys": sorted(tbn.state_dict())}}


ENTRIES.add(KnownDifference(
    id="bn-param-count-buffers",
    area="layer-defaults",
    title="Parameter counts: Keras counts BatchNorm's moving statistics, torch.parameters() does not",
    tf="BatchNormalization(4).count_params() is 16: gamma, beta (trainable) + moving mean/variance "
       "(non-trainable).",
    torch="BatchNorm1d(4) has 8 parameters; running_mean/var and num_batches_tracked are buffers (9 values, in "
          "state_dict but not parameters()).",
    witness=_bn_counts,
    expected={"tf": {"count_params": 16, "trainable": 8},
              "torch": {"parameters": 8, "buffers": 9,
                        "state_dict_keys": ["bias", "num_batches_tracked", "running_mean", "running_var",
                                            "weight"]}},
    snippet_tf="bn = keras.layers.BatchNormalization(); bn.build((None, 4)); bn.count_params()  # 16",
    snippet_torch="sum(p.numel() for p in torch.nn.BatchNorm1d(4).parameters())  # 8",
    evidence="keras Layer.count_params docs (all weights); torch nn.Module.register_buffer docs (buffers are "
             "not parameters); model.summary() vs sum(p.numel()).",
    mapping="Compare Keras trainable weights with torch parameters(), Keras non-trainable weights with buffers "
            "(minus num_batches_tracked).",
))
