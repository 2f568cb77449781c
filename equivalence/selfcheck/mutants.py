"""MUTANTS: one Mutant record per small, plausible change to one framework, and the tests that must catch it.

Each record is data: its id, the framework side it changes, what it changes (the public entry point it patches,
in words), how small the change is, the tests selected to catch it (pytest node ids, optionally a -k expression)
and the patch (equivalence.selfcheck.patches builders). The plugin applies one patch per pytest process, at
session start; the runner reports a mutant caught when its selection fails with the patch and passes without.

Sizes. Numerical mutants change values or gradients by 1e-5 to 1e-4 relative (float32 resolves 6e-8); where a
change is bigger it says why (a rounding or tie rule, a formula variant or a layout is as big as it is; TF32 rounds
operands by up to 2^-11). `float64` cases are selected where the float32 tolerance would hide a 1e-5 change
but the op is also declared for float64.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

from . import custom as C
from .patches import (combine, nothing, rebind, replace, scale_grad, scale_output, with_defaults, wrap_args)

SIDES = ("tf", "torch", "none")  # tf: TensorFlow or Keras; none: the null control
AREAS = ("ops", "grads", "layers", "losses", "optim", "defaults", "devices", "control")
NULL_ID = "null"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


@dataclasses.dataclass(frozen=True)
class Mutant:
    id: str                       # stable slug, <side>-<entry point>-<change>
    side: str                     # one of SIDES: which framework the patch changes
    area: str                     # one of AREAS
    what: str                     # the change, naming the public entry point
    size: str                     # how small: relative size, or why it is bigger
    select: tuple[str, ...]       # pytest node ids (path, path::test or path::test[param id])
    patch: Callable = dataclasses.field(repr=False, compare=False)  # patch(mp: pytest.MonkeyPatch)
    k: str | None = None          # optional -k expression applied to `select`

    def __post_init__(self):
        problems = [f"side {self.side!r} not in {SIDES}"] * (self.side not in SIDES)
        problems += [f"area {self.area!r} not in {AREAS}"] * (self.area not in AREAS)
        problems += ["id is not a lowercase ascii slug"] * (not _SLUG.match(self.id))
        problems += ["empty selection"] * (not self.select)
        problems += ["what/size must say what changes and how much"] * (not (self.what and self.size))
        if problems:
            raise ValueError(f"mutant {self.id!r}: " + "; ".join(problems))


def _nodes(test: str, *ids: str) -> tuple[str, ...]:
    """Node ids of one parametrized test ('tests/test_ops.py::test_op_matches', 'exp-float32', ...)."""
    return tuple(f"{test}[{i}]" for i in ids)


OPS, EDGE = "tests/test_ops.py::test_op_matches", "tests/test_ops.py::test_op_matches_on_edge_values"
GRAD, MODEL_GRAD = "tests/test_grads.py::test_op_grad_matches", "tests/test_grads.py::test_model_grad_matches"
LOSS_GRAD, LOSS = "tests/test_grads.py::test_loss_grad_matches", "tests/test_losses.py::test_loss_matches"
LAYER, SEED = "tests/test_layers.py::test_layer_forward_matches", "tests/test_models.py::test_seed_model_forward_matches"
BN_STATS = "tests/test_layers.py::test_batch_norm_training_updates_moving_stats"
STEP, LOOP = "tests/test_optimizer_step.py::test_optimizer_step_matches", "tests/test_training.py::test_training_loops_match"
ADAPTIVE, SCHEDULE = "tests/test_training.py::test_adaptive_loop_matches", "tests/test_training.py::test_schedule_matches"
SNAPSHOT, PINS = "tests/test_defaults.py::test_defaults_unchanged", "tests/test_defaults.py::test_pin_"
MOVES = "tests/test_device_moves.py::test_"
E5, E4 = 1 + 1e-5, 1 + 1e-4


def _cpu(test: str, *ids: str) -> tuple[str, ...]:
    """Node ids of a test on the device axis (equivalence.checks.on_devices), its CPU cases: the mutants patch CPU
    frameworks, so those are the ones that must fail."""
    return _nodes(test, *(f"{i}-cpu" for i in ids))


def _ops(*ids: str, edge: bool = True) -> tuple[str, ...]:
    """test_op_matches on each id on the CPU, and its edge-value twin (where ties, NaN, +-0.5 and tiny values are
    drawn)."""
    return _cpu(OPS, *ids) + (_cpu(EDGE, *ids) if edge else ())


def _set(**values) -> Callable[[dict], None]:
    return lambda arguments: arguments.update(values)


def _times(name: str, factor: float, when=lambda arguments: True) -> Callable[[dict], None]:
    def change(arguments):
        if when(arguments) and arguments.get(name) is not None:
            arguments[name] = arguments[name] * factor
    return change


def _adam_beta2(arguments):  # 0.999 -> 0.9985 wherever 0.999 is asked for (the default and the suite's configs)
    b1, b2 = arguments["betas"]
    arguments["betas"] = (b1, 0.9985 if b2 == 0.999 else b2)


def _dampened(arguments):  # SGD with classic momentum: dampening 0 -> 1e-4 (Nesterov requires 0: left alone)
    if arguments["momentum"] and not arguments["nesterov"]:
        arguments["dampening"] = 1e-4


def _momentum_as_keras(arguments):  # F.batch_norm reading momentum as the weight of the OLD statistic
    if arguments["training"] and arguments["momentum"] is not None:
        arguments["momentum"] = 1.0 - arguments["momentum"]


def _batchmean_as_mean(arguments):
    if arguments["reduction"] == "batchmean":
        arguments["reduction"] = "mean"


def _softmax_logits(logits, axis=None, name=None):  # tf.nn.softmax(x * (1 + 1e-5))
    return (logits * E5,), {"axis": axis, "name": name}


# ---------------------------------------------------------------- ops: values, ties, rounding, reductions
_OPS = [
    Mutant("tf-exp-x1e-5", "tf", "ops", "tf.math.exp returns exp(x) * (1 + 1e-5)", "1e-5 relative",
           _ops("exp-float32", "exp-float64", edge=False), scale_output("tf.math.exp", E5)),
    Mutant("torch-tanh-x1e-5", "torch", "ops", "torch.tanh returns tanh(x) * (1 - 1e-5)", "1e-5 relative",
           _ops("tanh-float32", "tanh-float64", edge=False), scale_output("torch.tanh", 1 - 1e-5)),
    Mutant("tf-softmax-logits-x1e-5", "tf", "ops", "tf.nn.softmax computes softmax(x * (1 + 1e-5))",
           "1e-5 relative on the logits: <= 1e-5 * |x_i - mean x| relative on the output",
           _ops("softmax-float32", "softmax-float64", edge=False), wrap_args("tf.nn.softmax", _softmax_logits)),
    Mutant("torch-log1p-as-log", "torch", "ops", "torch.log1p(x) computed as log(1 + x)",
           "<= 1 ulp for |x| >~ 1; relative error ~u/|x| below (all digits for |x| < u/2)",
           _ops("log1p-float32", "log1p-float64"), replace("torch.log1p", C.torch_log1p_naive)),
    Mutant("tf-expm1-as-exp-minus-1", "tf", "ops", "tf.math.expm1(x) computed as exp(x) - 1",
           "<= 1 ulp for |x| >~ 1; relative error ~u/|x| below", _ops("expm1-float32", "expm1-float64"),
           replace("tf.math.expm1", C.tf_expm1_naive)),
    Mutant("tf-round-half-away", "tf", "ops", "tf.math.round rounds halves away from zero, not to even",
           "a tie rule: 1 at x.5 only", _ops("round-float32", "round-float64"),
           replace("tf.math.round", C.tf_round_half_away)),
    Mutant("torch-round-half-up", "torch", "ops", "torch.round(x) computed as floor(x + 0.5)",
           "a tie rule: 1 at x.5 (and 0.49999997 -> 1)", _ops("round-float32", "round-keras-float32"),
           replace("torch.round", C.torch_round_half_up)),
    Mutant("keras-floor-divide-truncates", "tf", "ops", "keras.ops.floor_divide rounds toward zero, not -inf",
           "a rounding rule: 1 where the quotient is negative and inexact",
           _ops("floor_divide-keras-float32", "floor_divide-keras-int32"),
           replace("keras.ops.floor_divide", C.keras_floor_divide_truncating)),
    Mutant("torch-remainder-as-fmod", "torch", "ops", "torch.remainder takes the dividend's sign (fmod)",
           "a sign rule: |divisor| where the operands' signs differ", _ops("mod-float32", "mod-int32"),
           replace("torch.remainder", C.torch_remainder_as_fmod)),
    Mutant("tf-argmax-last-tie", "tf", "ops", "tf.math.argmax returns the last of tied maxima", "a tie rule",
           _ops("argmax-float32", "argmax-int32"), replace("tf.math.argmax", C.tf_argmax_last_tie)),
    Mutant("torch-maximum-ignores-nan", "torch", "ops", "torch.maximum ignores NaN (fmax) instead of propagating",
           "a NaN rule", _ops("maximum-float32"), replace("torch.maximum", C.torch_maximum_ignoring_nan)),
    Mutant("torch-sum-x1e-5", "torch", "ops", "torch.sum returns sum * (1 + 1e-5)", "1e-5 relative",
           _ops("sum-float32", "sum-float64", edge=False), scale_output("torch.sum", E5)),
    Mutant("keras-mean-x1e-5", "tf", "ops", "keras.ops.mean returns mean * (1 + 1e-5)", "1e-5 relative",
           _ops("mean-keras-float32", edge=False), scale_output("keras.ops.mean", E5)),
    Mutant("tf-cumsum-exclusive-default", "tf", "defaults", "tf.math.cumsum defaults to exclusive=True",
           "a default: every prefix sum shifts by one element", _ops("cumsum-float32", "cumsum-float64", edge=False),
           with_defaults("tf.math.cumsum", exclusive=True)),
    Mutant("torch-var-drops-correction", "torch", "ops", "torch.var ignores correction=0 (Bessel's n - 1 always)",
           "a reduction rule: n / (n - 1) - 1 relative (>= 1e-3 for the drawn sizes <= 1000)",
           _ops("var-float32", "var-float64", edge=False), replace("torch.var", C.torch_var_ignoring_correction)),
    Mutant("torch-matmul-tf32", "torch", "ops", "torch.matmul reads float32 operands as TF32",
           "<= 2^-11 = 4.9e-4 relative per operand: what TF32 does (10 mantissa bits)",
           _ops("matmul-float32", "matmul-batched-float32", edge=False), replace("torch.matmul", C.torch_matmul_tf32)),
]

# ---------------------------------------------------------------- gradients (values unchanged bit for bit)
_GRADS = [
    Mutant("torch-softmax-grad-x1e-4", "torch", "grads", "F.softmax and torch.softmax gradients times 1 + 1e-4",
           "1e-4 relative", _cpu(GRAD, "softmax", "softmax-keras"),
           combine(scale_grad("torch.nn.functional.softmax", E4), scale_grad("torch.softmax", E4))),
    Mutant("tf-tanh-grad-x1e-4", "tf", "grads", "tf.math.tanh gradient times 1 + 1e-4", "1e-4 relative",
           _cpu(GRAD, "tanh"), scale_grad("tf.math.tanh", E4)),
    Mutant("torch-exp-grad-x1e-4", "torch", "grads", "torch.exp gradient times 1 + 1e-4", "1e-4 relative",
           _cpu(GRAD, "exp", "exp-keras"), scale_grad("torch.exp", E4)),
    Mutant("tf-matmul-grad-x1e-4", "tf", "grads", "tf.linalg.matmul gradients times 1 + 1e-4", "1e-4 relative",
           _cpu(GRAD, "matmul", "matmul-batched"), scale_grad("tf.linalg.matmul", E4)),
    Mutant("keras-mean-grad-x1e-4", "tf", "grads", "keras.ops.mean gradient times 1 + 1e-4", "1e-4 relative",
           _cpu(GRAD, "mean-keras"), scale_grad("keras.ops.mean", E4)),
    Mutant("torch-conv2d-grad-x1e-4", "torch", "grads", "F.conv2d gradients times 1 + 1e-4 (nn.Conv2d included)",
           "1e-4 relative", _cpu(GRAD, "conv2d-same", "conv2d-valid", "conv2d-stride2") + _nodes(MODEL_GRAD, "conv_pool"),
           scale_grad("torch.nn.functional.conv2d", E4)),
    Mutant("torch-lstm-grad-x1e-4", "torch", "grads", "nn.LSTM.forward gradients times 1 + 1e-4", "1e-4 relative",
           _nodes(MODEL_GRAD, "lstm"), scale_grad("torch.nn.LSTM.forward", E4)),
    Mutant("keras-dense-grad-x1e-4", "tf", "grads", "keras.layers.Dense.call gradients times 1 + 1e-4",
           "1e-4 relative", _nodes(MODEL_GRAD, "conv_pool", "batchnorm_training"),
           scale_grad("keras.layers.Dense.call", E4)),
    Mutant("torch-cross-entropy-grad-x1e-4", "torch", "grads", "F.cross_entropy gradient times 1 + 1e-4",
           "1e-4 relative", _nodes(LOSS_GRAD, "sparse_categorical_crossentropy-from_logits",
                                   "categorical_crossentropy-from_logits"),
           scale_grad("torch.nn.functional.cross_entropy", E4)),
]

# ---------------------------------------------------------------- layers and models
_LAYERS = [
    Mutant("keras-dense-x1e-5", "tf", "layers", "keras.layers.Dense.call output times 1 + 1e-5", "1e-5 relative",
           _nodes(LAYER, "dense-relu-float32", "dense-no_bias-float32", "dense-rank3-float32") + _cpu(SEED, "seed_mlp"),
           scale_output("keras.layers.Dense.call", E5)),
    Mutant("torch-linear-tf32", "torch", "layers", "nn.Linear.forward reads input and weight as TF32",
           "<= 2^-11 = 4.9e-4 relative per operand: what TF32 does",
           _nodes(LAYER, "dense-relu-float32", "dense-no_bias-float32", "dense-rank3-float32") + _cpu(SEED, "seed_mlp"),
           replace("torch.nn.Linear.forward", C.torch_linear_tf32)),
    Mutant("keras-conv2d-x1e-5", "tf", "layers", "keras.layers.Conv2D.call output times 1 + 1e-5", "1e-5 relative",
           _nodes(LAYER, "conv2d-valid-float32", "conv2d-same-float32", "conv2d-groups2-float32"),
           scale_output("keras.layers.Conv2D.call", E5)),
    Mutant("keras-flatten-channels-first", "tf", "layers",
           "keras.layers.Flatten defaults to data_format='channels_first' (flattens C, H, W)",
           "a layout: the same values in another order", _nodes(LAYER, "flatten-conv_dense-float32",
                                                                 "flatten-output-float32"),
           with_defaults("keras.layers.Flatten.__init__", data_format="channels_first")),
    Mutant("torch-layer-norm-eps-outside-root", "torch", "layers",
           "F.layer_norm divides by sqrt(var) + eps instead of sqrt(var + eps)",
           "~eps / (2 var) relative: 5e-4 at var = 1 with the spec's eps 1e-3 (a formula variant)",
           _nodes(LAYER, "layer_norm-rank2-float32", "layer_norm-rank3-float32") + _ops("layer_norm-float32", edge=False),
           replace("torch.nn.functional.layer_norm", C.torch_layer_norm_eps_outside_root)),
    Mutant("torch-batchnorm-momentum-convention", "torch", "layers",
           "F.batch_norm reads momentum as Keras does (weight of the old running statistic)",
           "a convention flip: running statistics move by m instead of 1 - m",
           _nodes(BN_STATS, "batch_norm-rank2", "batch_norm-rank4"),
           rebind("torch.nn.functional.batch_norm", _momentum_as_keras)),
    Mutant("torch-maxpool-ceil-mode-default", "torch", "defaults", "nn.MaxPool2d defaults to ceil_mode=True",
           "a default: an extra output row/column on odd maps",
           _nodes(LAYER, "max_pool2d-valid-float32", "max_pool2d-overlap_valid-float32")
           + (f"{SNAPSHOT}[torch.nn.MaxPool2d]",), with_defaults("torch.nn.MaxPool2d.__init__", ceil_mode=True)),
]

# ---------------------------------------------------------------- losses
_LOSSES = [
    Mutant("torch-mse-x1e-5", "torch", "losses", "F.mse_loss returns loss * (1 + 1e-5)", "1e-5 relative",
           _nodes(LOSS, "mean_squared_error-none", "mean_squared_error-sum", "mean_squared_error-mean"),
           scale_output("torch.nn.functional.mse_loss", E5)),
    Mutant("keras-bce-x1e-5", "tf", "losses", "keras.losses.BinaryCrossentropy returns loss * (1 + 1e-5)",
           "1e-5 relative", _nodes(LOSS, "binary_crossentropy-from_logits-mean", "binary_crossentropy-from_logits-sum",
                                   "binary_crossentropy-sample_weight-mean"),
           scale_output("keras.losses.BinaryCrossentropy.__call__", E5)),
    Mutant("torch-tensor-sum-x1e-5", "torch", "losses", "torch.Tensor.sum returns sum * (1 + 1e-5)", "1e-5 relative",
           _nodes(LOSS, "cosine_similarity-sum", "hinge-sum", "squared_hinge-sum"),
           scale_output("torch.Tensor.sum", E5)),
    Mutant("torch-kl-div-batchmean-as-mean", "torch", "losses", "F.kl_div's 'batchmean' divides by N*C ('mean')",
           "a reduction: 1/C of the loss", _nodes(LOSS, "kl_divergence-mean"),
           rebind("torch.nn.functional.kl_div", _batchmean_as_mean)),
    Mutant("keras-cce-label-smoothing-x1.001", "tf", "losses",
           "keras.losses.CategoricalCrossentropy uses label_smoothing * (1 + 1e-3)",
           "1e-3 of the constant: ~1e-4 of the loss (0.1 smoothing moves the loss by O(0.1) * log C)",
           _nodes(LOSS, "categorical_crossentropy-label_smoothing-mean", "categorical_crossentropy-label_smoothing-none"),
           rebind("keras.losses.CategoricalCrossentropy.__init__", _times("label_smoothing", 1 + 1e-3))),
    Mutant("torch-huber-delta-x1e-4", "torch", "losses", "F.huber_loss uses delta * (1 + 1e-4)",
           "1e-4 of the constant: <= 1e-4 relative where |error| > delta",
           _nodes(LOSS, "huber-delta_1-mean", "huber-delta_1-none", "huber-delta_0_5-mean"),
           rebind("torch.nn.functional.huber_loss", _times("delta", E4))),
    Mutant("keras-huber-delta-default", "tf", "defaults", "keras.losses.Huber defaults to delta=1.0001",
           "a default, 1e-4 relative", (f"{PINS}huber_delta_and_smooth_l1_beta", f"{SNAPSHOT}[keras.losses.Huber]"),
           with_defaults("keras.losses.Huber.__init__", delta=1.0001)),
    Mutant("torch-cross-entropy-ignore-index-default", "torch", "defaults",
           "F.cross_entropy and nn.CrossEntropyLoss default to ignore_index=-1", "a default",
           (f"{PINS}cross_entropy_ignore_index", f"{SNAPSHOT}[torch.nn.CrossEntropyLoss]",
            f"{SNAPSHOT}[torch.nn.functional.cross_entropy]"),
           combine(with_defaults("torch.nn.functional.cross_entropy", ignore_index=-1),
                   with_defaults("torch.nn.CrossEntropyLoss.__init__", ignore_index=-1))),
    Mutant("torch-cross-entropy-label-smoothing-default", "torch", "defaults",
           "nn.CrossEntropyLoss defaults to label_smoothing=1e-4", "a default: 1e-4 of the targets",
           _nodes(LOOP, "mlp-sgd-plain") + (f"{SNAPSHOT}[torch.nn.CrossEntropyLoss]",),
           with_defaults("torch.nn.CrossEntropyLoss.__init__", label_smoothing=1e-4)),
]

# ---------------------------------------------------------------- optimizers and schedules
_OPTIM = [
    Mutant("torch-adam-beta2-0.9985", "torch", "optim", "torch.optim.Adam uses beta2 0.9985 where 0.999 is passed",
           "5e-4 relative in beta2 (1.5 x 1 - beta2): the smallest change of that constant a user would write",
           _cpu(STEP, "adam-tiny_eps", "adam-amsgrad", "adam-defaults") + _nodes(ADAPTIVE, "mlp-adam-tiny_eps-3epochs"),
           rebind("torch.optim.Adam.__init__", _adam_beta2)),
    Mutant("torch-adam-beta2-default", "torch", "defaults", "torch.optim.Adam defaults to betas=(0.9, 0.9985)",
           "a default, 5e-4 relative in beta2", _cpu(STEP, "adam-defaults") + (f"{SNAPSHOT}[torch.optim.Adam]",),
           with_defaults("torch.optim.Adam.__init__", betas=(0.9, 0.9985))),
    Mutant("keras-adam-epsilon-default", "tf", "defaults", "keras.optimizers.Adam defaults to epsilon=1.0001e-7",
           "a default, 1e-4 relative", _cpu(STEP, "adam-defaults") + (f"{SNAPSHOT}[keras.optimizers.Adam]",),
           with_defaults("keras.optimizers.Adam.__init__", epsilon=1.0001e-7)),
    Mutant("keras-rmsprop-rho-x1e-4", "tf", "optim", "keras.optimizers.RMSprop uses rho * (1 + 1e-4)",
           "1e-4 relative in rho (9e-4 in 1 - rho)",
           _cpu(STEP, "rmsprop-tiny_eps", "rmsprop-centered", "rmsprop-momentum", "rmsprop-centered_momentum"),
           rebind("keras.optimizers.RMSprop.__init__", _times("rho", E4))),
    Mutant("torch-sgd-dampening-1e-4", "torch", "optim", "torch.optim.SGD with momentum uses dampening 1e-4, not 0",
           "1e-4 of each new gradient in the momentum buffer",
           _cpu(STEP, "sgd-momentum", "sgd-momentum_weight_decay") + _nodes(LOOP, "mlp-sgd-momentum"),
           rebind("torch.optim.SGD.__init__", _dampened)),
    Mutant("torch-adamw-weight-decay-x1e-3", "torch", "optim", "torch.optim.AdamW uses weight_decay * (1 + 1e-3)",
           "1e-3 of the constant, ~1e-4 of the update (lr * wd * p against lr)",
           _cpu(STEP, "adamw-tiny_eps", "adamw-amsgrad", "adamw-defaults"),
           rebind("torch.optim.AdamW.__init__", _times("weight_decay", 1 + 1e-3))),
    Mutant("keras-sgd-nesterov-default", "tf", "defaults", "keras.optimizers.SGD defaults to nesterov=True",
           "a default", (f"{PINS}sgd_nesterov_off", f"{SNAPSHOT}[keras.optimizers.SGD]"),
           with_defaults("keras.optimizers.SGD.__init__", nesterov=True)),
    Mutant("torch-exponential-lr-gamma-x1e-5", "torch", "optim", "ExponentialLR uses gamma * (1 + 1e-5)",
           "1e-5 relative per step", _nodes(SCHEDULE, "exponential-per_step", "exponential-continuous"),
           rebind("torch.optim.lr_scheduler.ExponentialLR.__init__", _times("gamma", E5))),
]

# ---------------------------------------------------------------- defaults only the snapshot and the pins see
_DEFAULTS = [
    Mutant("torch-zero-grad-keeps-zeros", "torch", "defaults",
           "Optimizer.zero_grad and Module.zero_grad default to set_to_none=False", "a default",
           (f"{PINS}zero_grad_sets_none", f"{SNAPSHOT}[torch.optim.Optimizer.zero_grad]"),
           combine(with_defaults("torch.optim.Optimizer.zero_grad", set_to_none=False),
                   with_defaults("torch.nn.Module.zero_grad", set_to_none=False))),
    Mutant("keras-layer-norm-epsilon-default", "tf", "defaults", "keras.layers.LayerNormalization defaults to "
           "epsilon=1e-5", "a default (the suite passes epsilon: only the snapshot sees it)",
           (f"{SNAPSHOT}[keras.layers.LayerNormalization]",),
           with_defaults("keras.layers.LayerNormalization.__init__", epsilon=1e-5)),
    Mutant("torch-dropout-p-default", "torch", "defaults", "nn.Dropout defaults to p=0.5001", "a default, 2e-4 relative",
           (f"{PINS}dropout_default_rate", f"{SNAPSHOT}[torch.nn.Dropout]"),
           with_defaults("torch.nn.Dropout.__init__", p=0.5001)),
    Mutant("keras-gelu-approximate-default", "tf", "defaults", "keras.activations.gelu defaults to approximate=True",
           "a default (the suite passes approximate: only the snapshot sees it)",
           (f"{SNAPSHOT}[keras.activations.gelu]",), with_defaults("keras.activations.gelu", approximate=True)),
    Mutant("torch-leaky-relu-slope-default", "torch", "defaults", "F.leaky_relu defaults to negative_slope=0.010001",
           "a default, 1e-4 relative", (f"{SNAPSHOT}[torch.nn.functional.leaky_relu]",),
           with_defaults("torch.nn.functional.leaky_relu", negative_slope=0.010001)),
]

# ---------------------------------------------------------------- device moves (torch's meta device)
_DEVICES = [
    Mutant("torch-tensor-to-ignores-device", "torch", "devices", "Tensor.to ignores its device argument",
           "a device move", (f"{MOVES}tensor_to_moves_to_the_device", f"{MOVES}module_to_moves_parameters_and_buffers"),
           replace("torch.Tensor.to", C.torch_tensor_to_ignoring_device)),
    Mutant("torch-module-to-skips-buffers", "torch", "devices", "nn.Module.to moves parameters but no buffers",
           "a device move", (f"{MOVES}module_to_moves_parameters_and_buffers",),
           replace("torch.nn.Module.to", C.torch_module_to_keeping("all"))),
    Mutant("torch-module-to-skips-nonpersistent-buffers", "torch", "devices",
           "nn.Module.to leaves non-persistent buffers (outside state_dict) behind", "a device move",
           (f"{MOVES}module_to_moves_parameters_and_buffers", f"{MOVES}suite_model_moves_every_parameter_and_buffer"),
           replace("torch.nn.Module.to", C.torch_module_to_keeping("non-persistent"))),
    Mutant("torch-module-to-returns-copy", "torch", "devices", "nn.Module.to moves and returns a copy, not self",
           "a device move", (f"{MOVES}module_to_moves_parameters_and_buffers",),
           replace("torch.nn.Module.to", C.torch_module_to_returning_copy)),
]

# The control: changes nothing, so its selection passes and it must be reported missed (a caught null mutant
# means the runner or the plugin, not the suite, made the tests fail).
NULL = Mutant(NULL_ID, "none", "control", "nothing (the control)", "none",
              (f"{MOVES}tensor_to_moves_to_the_device", f"{MOVES}module_to_moves_parameters_and_buffers"), nothing)

MUTANTS: list[Mutant] = _OPS + _GRADS + _LAYERS + _LOSSES + _OPTIM + _DEFAULTS + _DEVICES + [NULL]


def by_id(mutant_id: str) -> Mutant:
    """The mutant with this id; KeyError lists the known ids."""
    for m in MUTANTS:
        if m.id == mutant_id:
            return m
    raise KeyError(f"no self-check mutant {mutant_id!r}; known: {[m.id for m in MUTANTS]}")
