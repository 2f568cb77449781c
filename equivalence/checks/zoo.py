"""The zoo's training checks (equivalence.zoo.zoo_models): gradients of a loss with respect to every parameter, and
one optimizer step, in inference or training mode, TF and torch against float64 and against each other.

One step on each side (`Side.train_step`: the loss, its gradient and the optimizer step are the sides' work) from
the same canonical weights and batch, the mean squared error of the model output against a fixed target
(LOSS_DB `mean_squared_error`, spelled for each framework by its record); gradients come back in the canonical
layout (Keras' own layout on the TF side, `TorchSide.canonical_grads` on the torch side), weights through
`Pair.read_weights`.

Gradients. Each side's float32 gradient against torch's float64 gradient (the same module in float64) and TF
against torch, element by element, under the gradient rule: float32 at depth D*batch*pixels (the forward depth of
the model rule, times the batch*pixels each weight gradient sums over, as `checks.models.grad_tolerance`), scaled
by the largest gradient of the model: a parameter's gradient is summed from backpropagated terms of the model's
gradient scale, which cancel (a BatchNorm beta's gradient in training mode is the sum of an upstream gradient that
the normalisation centres), so its own max|g| would ask for more than float32 can give. Independently of either
framework, <g, d> along a random direction over every parameter against the five-point central difference of the
float64 NumPy reference (equivalence.reference) of the same loss.

Step. Each framework's parameters after one step, in its own names and layout, against its framework's float64
update rule (OPTIMIZER_DB: `ref_tf`, `ref_torch`) applied to the same start and that framework's own float32
gradient, under the rule's per-element update bound (`training.update_bound`, as the optimizer-step tests use): the
optimizer arithmetic, given the gradient. Keras steps an embedding row once per lookup (catalogue
'embedding-sparse-gradient-step'): k roundings under SGD, and |step| <= lr sqrt(k) under Adam for a row looked up
k > 1 times. For a cross configuration, TF against torch in the canonical layout: both sides' bounds plus the rule's
spread over the gradient rule's interval around the float64 gradient (both gradients lie in it), where torch's
update of a canonical weight it keeps as k parameters (an LSTM's bias_ih + bias_hh) is k times Keras' (catalogue
'lstm-split-bias-step', `torch_parts`).

On an accelerator (torch): the gradients there against torch float64 on the CPU and against torch float32 on the
CPU (assert_device_agrees) under the same rule, and the step there against torch's float64 rule on its own gradient.
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from .. import reference
from ..catalog.losses import LOSS_DB
from ..compare import EquivalenceMismatch, compare, describe
from ..model_tolerance import accumulation_depth
from ..models import Pair
from ..sides import side_for
from ..tolerances import Tolerance, cross, tolerance
from ..training import ref_param_trajectory, rule_bound, updates
from ..weights import load_keras, load_torch, read_torch
from .axes import CPU
from .grads import central_difference, directional_tolerance
from .ops import assert_device_agrees

LOSS = "mean_squared_error"


def reset(pair: Pair) -> Pair:
    """Load the pair's canonical weights (BatchNorm statistics included) back into both models: a cached pair is
    as built again after a training-mode forward or a step moved them."""
    if pair.keras is not None:
        load_keras(pair.keras, pair.spec, pair.weights)
    load_torch(pair.torch, pair.spec, pair.weights)
    return pair


def target_for(pair: Pair, batch: int, seed: int = 3) -> np.ndarray:
    """A fixed N(0, 1) regression target shaped like the output (canonical layout)."""
    return np.random.default_rng(seed).standard_normal((batch, *pair.spec.output_shape))


def _losses(target: np.ndarray):
    """(TF loss, torch loss, float64 loss) of the model output: the mean squared error against `target`."""
    info = LOSS_DB.by_id(LOSS)
    keras_red, torch_red = info.reductions["mean"]
    torch_target = side_for("torch", CPU).to_layout(target)
    tf_loss = lambda y: info.keras(target, y, keras_red, None)
    # the record builds its target tensor on the CPU: an accelerator's output is moved there (differentiably)
    torch_loss = lambda y: info.torch(torch_target, y.cpu(), torch_red, None)
    return tf_loss, torch_loss, lambda y: float(np.mean((np.asarray(y, np.float64) - target) ** 2))


def _tf_canonical(pair: Pair, by_path: dict) -> dict:
    """TF gradients by variable path -> {layer: {weight: gradient}} (Keras' layout is the canonical one)."""
    out = {}
    for l in pair.spec.layers:
        try:
            variables = pair.keras.get_layer(l.name).trainable_weights
        except ValueError:
            continue
        if variables:
            out[l.name] = {v.name: by_path[v.path] for v in variables}
    return out


def _raw(side, variables) -> dict:
    """{name: NumPy copy} of a framework's own parameters (Keras variables by path, torch by parameter name)."""
    return {name: np.array(side.numpy(v), np.float64) for name, v in variables}


def _optimizer_steps(pair: Pair, x, target, training: bool, info, frameworks=("tf", "torch"), device: str = CPU):
    """{framework: Run} of one step from the pair's weights: canonical gradients and weights after the step, and
    the framework's own parameters before, their gradients and after (by the framework's names)."""
    tf_loss, torch_loss, _ = _losses(target)
    out = {}
    for framework in frameworks:
        reset(pair)
        if framework == "tf":
            side = side_for("tf", CPU)
            named = lambda: [(v.path, v) for v in pair.keras.trainable_variables]
            before = _raw(side, named())
            by_path = side.train_step(pair.keras, x, tf_loss, info.keras(info.hyper), training=training)
            grads, after = _tf_canonical(pair, by_path), pair.read_weights()["tf"]
        else:
            side = side_for("torch", device)
            module = pair.torch if device == CPU else copy.deepcopy(pair.torch).to(side.device)
            named = lambda: list(module.named_parameters())
            before = _raw(side, named())
            by_path = side.train_step(module, x, torch_loss, info.torch(module.parameters(), info.hyper),
                                      training=training)
            grads = side.canonical_grads(Pair(pair.spec, pair.keras, module, pair.weights))
            after = read_torch(module, pair.spec)
        out[framework] = Run(grads, {n: {k: after[n][k] for k in lw} for n, lw in grads.items()}, before,
                             {k: np.asarray(g, np.float64) for k, g in by_path.items()}, _raw(side, named()))
    reset(pair)
    return out


@dataclasses.dataclass
class Run:
    """One framework's step: canonical gradients and weights after it; its own parameters before, gradients, after."""

    grads: dict
    after: dict
    raw_before: dict
    raw_grads: dict
    raw_after: dict


def torch_parts(pair: Pair) -> dict:
    """{layer: {weight: k}}: of how many torch parameters each canonical element is the sum (1 but for torch's
    recurrent biases, bias_ih + bias_hh: 2), from the layer's own weight table (weights.from_torch of ones on
    every parameter and zeros on every buffer)."""
    from ..weights import from_torch, param_shapes, torch_core

    raw = {}
    for name in param_shapes(pair.spec):
        core = torch_core(pair.torch, name)
        raw[name] = {k: np.ones(tuple(p.shape)) for k, p in core.named_parameters()}
        raw[name] |= {k: np.zeros(tuple(b.shape)) for k, b in core.named_buffers() if k != "num_batches_tracked"}
    return from_torch(pair.spec, raw)


def reference_grads(pair: Pair, x, target, training: bool) -> dict:
    """torch's float64 gradients of the loss (the pair's module in float64 on the CPU), canonical layout."""
    from .. import runtime
    from ..catalog.optimizers import by_id

    torch = runtime.torch()
    reset(pair)
    module = copy.deepcopy(pair.torch).to(dtype=torch.float64)
    _, torch_loss, _ = _losses(target)
    side = side_for("torch", CPU)
    dtype = None if pair.spec.input_dtype == "int32" else "float64"  # token ids stay integers
    side.train_step(module, x, torch_loss, by_id("sgd-plain").torch(module.parameters(), {"lr": 0.0}),
                    training=training, dtype=dtype)
    return side.canonical_grads(Pair(pair.spec, pair.keras, module, pair.weights))


def grad_rule(pair: Pair, x, g64: dict) -> Tolerance:
    """The gradient rule of the module docstring (one tolerance for every parameter of the model)."""
    pixels = int(np.prod(x.shape[1:-1])) if x.ndim == 4 else 1
    depth = accumulation_depth(pair.spec, batch=len(x)) * len(x) * pixels
    g_max = max(float(np.abs(g).max()) for lw in g64.values() for g in lw.values())
    rtol = tolerance("float32", depth=depth).rtol
    return Tolerance(rtol * g_max, rtol, f"gradient rule: float32 depth=D*batch*pixels={depth}, "
                                         f"atol rtol x max|g| over the model ({g_max:.3g})")


def _flat(grads: dict) -> list:
    return [(f"{n}.{k}", n, k) for n in sorted(grads) for k in sorted(grads[n])]


def directional_check(pair: Pair, x, target, training: bool, grads: dict, label: str, seed: int, rtol: float):
    """<g, d> over every parameter against the float64 reference's central difference of the loss along d."""
    rng = np.random.default_rng(seed)
    d = {n: {k: rng.standard_normal(np.shape(g)) for k, g in lw.items()} for n, lw in grads.items()}
    _, _, loss64 = _losses(target)

    def loss_along(s):
        w = {n: {k: np.asarray(v, np.float64) + s[0] * d.get(n, {}).get(k, 0.0) for k, v in lw.items()}
             for n, lw in pair.weights.items()}
        return loss64(reference.forward(pair.spec, w, x, training=training))

    fd = central_difference(loss_along, np.zeros(1), np.ones(1))
    g_flat = np.concatenate([np.ravel(grads[n][k]) for _, n, k in _flat(grads)])
    d_flat = np.concatenate([np.ravel(d[n][k]) for _, n, k in _flat(grads)])
    dot = float(np.sum(g_flat.astype(np.float64) * d_flat))
    return compare(dot, fd, directional_tolerance(g_flat, d_flat, rtol), what=f"{pair.spec.name} <grad, d>",
                   label_a=label, label_b="fd64")


def _raise(checks: list) -> None:
    failed = [c.render() for c in checks if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))


def grad_checks(pair: Pair, x, target, training: bool, runs: dict, g64: dict, tol: Tolerance, seed: int = 7) -> list:
    """Gradients of the loss w.r.t. every parameter: TF and torch float32 vs torch float64, TF vs torch, and each
    side's <g, d> vs the float64 reference's central difference (module docstring)."""
    mode = "training" if training else "inference"
    ctx = f"{describe('x', x)}\n{pair.describe()}"
    names = {f: set(_flat(r.grads)) for f, r in runs.items()}
    assert all(n == set(_flat(g64)) for n in names.values()), \
        f"{pair.spec.name}: TF, torch and float64 differentiate different parameters: {names}"
    checks = []
    for name, n, k in _flat(g64):
        what = f"{pair.spec.name} ({mode}) d loss / d {name}"
        for framework, run in runs.items():
            checks.append(compare(run.grads[n][k], g64[n][k], tol, what=what, label_a=framework, label_b="torch64",
                                  context=ctx))
        checks.append(compare(runs["tf"].grads[n][k], runs["torch"].grads[n][k], cross(tol), what=what,
                              label_a="tf", label_b="torch", context=ctx))
    for framework, run in runs.items():
        checks.append(directional_check(pair, x, target, training, run.grads, framework, seed, tol.rtol))
    return checks


RULES = {"tf": "ref_tf", "torch": "ref_torch"}


def _rule_update(info, framework: str, p0, g):
    """(the float64 rule's update of p0 by g, its float32 bound given the stored result p1 -> callable)."""
    rule = lambda: getattr(info, RULES[framework])(info.hyper)
    p0, g = np.asarray(p0, np.float64), np.asarray(g, np.float64)
    ref = updates(ref_param_trajectory(rule(), p0, g[None]))[0]
    bound = rule_bound(rule, p0, g[None])
    return ref, lambda p1: bound(np.stack([p0, np.asarray(p1, np.float64)]))


def keras_lookups(pair: Pair, x) -> dict:
    """{Keras variable path, and (layer, weight): per row, how many times the batch looks it up} for every embedding
    table: Keras steps such a row once per lookup (an IndexedSlices gradient applied by scatter_sub, catalogue
    'embedding-sparse-gradient-step'), so the row's update is rounded that many times."""
    out = {}
    for l in pair.spec.layers:
        if l.kind == "embedding" and pair.keras is not None:
            counts = np.bincount(np.asarray(x).ravel(), minlength=l["input_dim"])
            for v in pair.keras.get_layer(l.name).trainable_weights:  # by path (TF's names) and canonical name
                out[v.path] = out[l.name, v.name] = np.maximum(counts, 1)[:, None]
    return out


SPARSE = ("an embedding row looked up k times: Keras steps it per lookup (catalogue 'embedding-sparse-gradient-step'): "
          "SGD k roundings; other optimizers' moments see the k lookups' gradients apart, |step| <= lr sqrt(k)")


def _sparse_bound(info, bound: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The update bound of an embedding table Keras steps per lookup (k per row). SGD is linear in the gradient:
    the same update, k times rounded. Adam-like rules are not: Keras' second moment sums the k lookups' squared
    gradients (sum g_j^2, not (sum g_j)^2), so the step is lr |sum g_j| / sqrt(sum g_j^2) <= lr sqrt(k) where the
    rule on the summed gradient gives ~lr: a row looked up more than once is held to that bound only."""
    if info.name == "sgd":
        return bound * k
    return np.where(k > 1, info.hyper["lr"] * (np.sqrt(k) + 1), bound)


def step_checks(pair: Pair, info, runs: dict, g64: dict, g_tol: Tolerance, x=None) -> list:
    """Each framework's step, parameter by parameter in its own names, against its float64 rule applied to its own
    gradient (update_bound; Keras' embedding rows: once per lookup, `keras_lookups`); for a cross configuration,
    TF against torch in the canonical layout (module docstring)."""
    from ..error_bounds import ElementBound

    checks, lookups = [], keras_lookups(pair, x) if x is not None else {}
    for framework, run in runs.items():
        for k in sorted(run.raw_grads):
            ref, bound = _rule_update(info, framework, run.raw_before[k], run.raw_grads[k])
            bound = bound(run.raw_after[k])
            if framework == "tf" and k in lookups:
                b = _sparse_bound(info, bound.bound, lookups[k])
                bound = ElementBound(float(b.max()), 0.0, bound.reason + f"; {SPARSE}", bound=b)
            checks.append(compare((run.raw_after[k] - run.raw_before[k])[None], ref[None], bound,
                                  what=f"{pair.spec.name} {info.id} update of {framework} {k}", label_a=framework,
                                  label_b=f"ref64_{'keras' if framework == 'tf' else 'torch'}_rule"))
    if info.cross and {"tf", "torch"} <= runs.keys():
        parts = torch_parts(pair)
        for name, n, k in _flat(g64):
            w0, parts_k = np.asarray(pair.weights[n][k], np.float64), parts[n][k]
            delta = {f: np.asarray(runs[f].after[n][k], np.float64) - w0 for f in runs}
            # the update over the gradient's tolerance interval (both sides' gradients are within it)
            spread = g_tol.atol + g_tol.rtol * np.abs(g64[n][k])
            lo, _ = _rule_update(info, "tf", w0, g64[n][k] - spread)
            hi, _ = _rule_update(info, "tf", w0, g64[n][k] + spread)
            _, b_tf = _rule_update(info, "tf", w0, runs["tf"].grads[n][k])
            _, b_torch = _rule_update(info, "torch", w0, runs["torch"].grads[n][k])
            b_tf_k = b_tf(w0 + delta["tf"]).bound[0]
            b_tf_k = _sparse_bound(info, b_tf_k, lookups[n, k]) if (n, k) in lookups else b_tf_k
            both = parts_k * (b_tf_k + b_torch(w0 + delta["torch"] / parts_k).bound[0]
                              + np.abs(hi - lo)) + (parts_k - 1) * np.spacing(np.abs(w0 + delta["torch"]))
            split = " (torch's bias_ih + bias_hh: each stepped, catalogue 'lstm-split-bias-step')" * bool(
                np.any(parts_k != 1))
            tol = ElementBound(float(both.max()), 0.0, "both sides' update bounds + the rule's spread over the "
                               "gradient rule" + split, bound=both)
            checks.append(compare(delta["torch"], parts_k * delta["tf"], tol,
                                  what=f"{pair.spec.name} {info.id} update of {name}" + " x parts" * bool(split),
                                  label_a="torch", label_b="tf"))
    return checks


def check_zoo_training(pair: Pair, x, training: bool, info) -> None:
    """One training step of the pair on the CPU with OPTIMIZER_DB record `info`, in training or inference mode:
    the gradient verdict and the step verdict of the module docstring."""
    __tracebackhide__ = True
    target = target_for(pair, len(x))
    runs = _optimizer_steps(pair, x, target, training, info)
    g64 = reference_grads(pair, x, target, training)
    tol = grad_rule(pair, x, g64)
    run = runs["torch"]
    moved = max(float(np.abs(run.raw_after[k] - run.raw_before[k]).max()) for k in run.raw_grads)
    assert moved > 0.1 * info.hyper["lr"] * max(float(np.abs(g).max()) for g in run.raw_grads.values()), \
        f"{pair.spec.name} {info.id}: the step moved no weight by more than {moved:.3g}"
    _raise(grad_checks(pair, x, target, training, runs, g64, tol) + step_checks(pair, info, runs, g64, tol, x))


def check_zoo_on_device(pair: Pair, x, training: bool, info, device: str) -> None:
    """torch on `device`: gradients against torch float64 (CPU) and torch float32 on the CPU, then the step there
    against its float64 rule on its own gradient."""
    __tracebackhide__ = True
    target = target_for(pair, len(x))
    cpu = _optimizer_steps(pair, x, target, training, info, ("torch",))["torch"]
    run = _optimizer_steps(pair, x, target, training, info, ("torch",), device)["torch"]
    g64 = reference_grads(pair, x, target, training)
    tol = grad_rule(pair, x, g64)
    mode = "training" if training else "inference"
    for name, n, k in _flat(g64):
        assert_device_agrees(f"{pair.spec.name} ({mode}) d loss / d {name} on {device}", run.grads[n][k],
                             g64[n][k].astype(np.float32), cpu.grads[n][k], tol, "", device)
    _raise(step_checks(pair, info, {"torch": run}, g64, tol))


__all__ = ["LOSS", "Run", "check_zoo_on_device", "check_zoo_training", "grad_checks", "grad_rule", "reference_grads",
           "reset", "step_checks", "target_for", "torch_parts"]
