"""`check_pair`: is a user's Keras model the same model as a user's torch module, and if not, where does it first go
wrong (docs/check.md).

The path of one check: validate the arguments and inputs (PairError naming what to fix); run both models once
(Keras layer list, torch forward hooks: `sides.pair_probe`); match their layers by structure (`structure.match`);
copy the weights across when asked (`transfer`); then, with both models fed the same inputs (torch's in its own
layout), compare the value at every matched boundary under the suite's model rule for its depth (`rule`), the
gradient of a scalar loss of the outputs with respect to every mapped parameter, and the weights after one
optimizer step. The first failing comparison, in the Keras model's order, is the first divergence; `explain`
names the catalogue entries whose symptom it matches and the structural differences behind it. Both models are
left with the weights they had after the transfer (training-mode statistics and the step are undone).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

from .. import runtime
from ..compare import compare
from ..sides import pair_probe as probe
from ..tolerances import cross, eps, for_arrays
from ..weights import chw_index
from . import explain, report, rule, structure, transfer as xfer
from .errors import PairError

TRANSFERS = ("keras_to_torch", "torch_to_keras")
LAYOUTS = ("auto", "channels_last", "channels_first")
SPATIAL_FIRST = ("conv1d", "conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d", "pad")
NOT_CHANNELS_FIRST = ("dense", "lstm", "gru", "embedding", "layer_norm", "attention")
U32 = eps("float32")


@dataclasses.dataclass
class Boundary:
    """One comparison: a forward boundary, one parameter's gradient, or one parameter after the optimizer step."""

    stage: str  # 'forward' | 'gradient' | 'step'
    keras_layer: str  # Keras layer name
    torch_module: str  # torch module path as in named_modules() ('' : the module's own output)
    part: str  # forward: 'output' | 'pre-activation' | 'activation' | 'model output'; else the Keras weight name
    kind: str
    shape: tuple
    ok: bool
    max_abs: float = 0.0
    max_rel: float = 0.0
    atol: float = 0.0
    rtol: float = 0.0
    reason: str = ""
    over: float = 0.0  # worst |diff| / allowed (> 1: outside the tolerance)
    element: dict | None = None  # where the tolerance is most exceeded: index (Keras layout), both values, allowed
    torch_call: int = 0
    note: str = ""
    causes: list = dataclasses.field(default_factory=list)  # [(catalogue id, why)]

    @property
    def where(self) -> str:
        t = self.torch_module or "(module output)"
        call = f" [call {self.torch_call + 1}]" if self.torch_call else ""
        part = "" if self.part == "output" else f" {self.part}"
        return f"Keras {self.keras_layer!r}{part} <-> torch {t!r}{call}"

    def record(self) -> dict:
        return {"stage": self.stage, "keras_layer": self.keras_layer, "torch_module": self.torch_module,
                "torch_call": self.torch_call, "part": self.part, "kind": self.kind, "shape": list(self.shape),
                "ok": self.ok, "max_abs": self.max_abs, "max_rel": self.max_rel,
                "tolerance": {"atol": self.atol, "rtol": self.rtol, "reason": self.reason},
                "error_over_tolerance": self.over, "element": self.element, "note": self.note,
                "likely_causes": [{"id": i, "why": w} for i, w in self.causes]}


@dataclasses.dataclass
class PairResult:
    """What check_pair found: the verdict, the first divergence, one row per comparison, the structure."""

    equivalent: bool
    first_divergence: Boundary | None
    layers: list
    grads: list
    step: list
    structure: Any  # explain.Structure
    settings: dict

    def to_markdown(self) -> str:
        return report.markdown(self)

    def to_json(self, **kw) -> str:
        return report.to_json(self, **kw)

    def to_dict(self) -> dict:
        return report.as_dict(self)

    def summary(self) -> str:
        return report.summary(self)

    def __str__(self) -> str:
        return self.summary()


# ------------------------------------------------------------------------------------------------ arguments
def _validate(transfer, mapping, torch_layout, step) -> tuple | None:
    if transfer not in (*TRANSFERS, None):
        raise PairError(f"transfer={transfer!r}: use 'keras_to_torch', 'torch_to_keras' or None")
    if torch_layout not in LAYOUTS:
        raise PairError(f"torch_layout={torch_layout!r}: use 'auto', 'channels_last' or 'channels_first'")
    if mapping is not None and not (isinstance(mapping, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())):
        raise PairError("mapping: expected a dict {keras_layer_name: torch_module_path} of strings")
    if step is None:
        return None
    if not (isinstance(step, (tuple, list)) and len(step) == 2 and isinstance(step[0], str)
            and isinstance(step[1], dict)):
        raise PairError(f"step={step!r}: expected an optimizer pair such as ('adam', {{'learning_rate': 1e-3}})")
    return explain.optimizer_pair(step[0], step[1])


def _inputs(keras_model, inputs) -> list[np.ndarray]:
    xs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    if not all(isinstance(x, np.ndarray) for x in xs):
        raise PairError(f"inputs: expected a NumPy array (or a tuple of arrays) in the Keras model's layout, got "
                        f"{', '.join(type(x).__name__ for x in xs)}")
    if not probe.keras_built(keras_model):
        try:
            keras_model(xs[0] if len(xs) == 1 else xs)
        except Exception as exc:  # noqa: BLE001 - reported as what to fix
            raise PairError(f"keras_model has no defined inputs and does not run on the inputs ({exc}); build it "
                            f"with keras.Input(...)") from exc
    specs = probe.keras_input_specs(keras_model)
    if len(xs) != len(specs):
        raise PairError(f"inputs: the Keras model takes {len(specs)} input(s), got {len(xs)}")
    for i, (x, (shape, dtype)) in enumerate(zip(xs, specs)):
        name = "inputs" if len(xs) == 1 else f"inputs[{i}]"
        if x.dtype.name != dtype:
            raise PairError(f"{name}: dtype {x.dtype.name}, but the Keras model's input takes {dtype}; convert with "
                            f"x.astype({dtype!r})")
        if x.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, x.shape)):
            raise PairError(f"{name}: shape {x.shape} does not fit the Keras model's input shape {shape} "
                            f"(None: any size)")
        if x.shape[0] < 1 or (x.dtype.kind == "f" and not np.all(np.isfinite(x))):
            raise PairError(f"{name}: needs a batch of at least one sample and finite values")
    return xs


def _channels_first(xs, torch_module, torch_layout) -> list[bool]:
    if torch_layout == "auto":
        cf = probe.torch_first_kind(torch_module) in SPATIAL_FIRST
    else:
        cf = torch_layout == "channels_first"
    return [cf and x.ndim in (3, 4) and x.dtype.kind == "f" for x in xs]


# ------------------------------------------------------------------------------------------------ the check
class _Run:
    """One check's state: the two models, their inputs, the matched structure and the layouts."""

    def __init__(self, keras_model, torch_module, xs, torch_layout, training):
        self.km, self.tm, self.xs, self.training = keras_model, torch_module, xs, training
        self.cf = _channels_first(xs, torch_module, torch_layout)
        self.layout = "channels_first" if any(self.cf) else "channels_last"
        self.txs = [np.ascontiguousarray(np.moveaxis(x, -1, 1)) if c else x for x, c in zip(xs, self.cf)]
        self.batch = xs[0].shape[0]
        self.dtype = probe.keras_input_specs(keras_model)[0][1]
        self.dtype = self.dtype if self.dtype in ("float16", "bfloat16", "float32", "float64") else "float32"

    def trace(self, training: bool):
        try:
            return probe.torch_trace(self.tm, self.txs, training)
        except Exception as exc:  # noqa: BLE001 - a user's module rejecting the inputs is a usage error
            shapes = ", ".join(str(x.shape) for x in self.txs)
            raise PairError(f"the torch module failed on the inputs (given to it as {shapes}, {self.layout}): "
                            f"{type(exc).__name__}: {exc}") from exc

    def structure(self, mapping):
        self.knodes = probe.keras_nodes(self.km)
        self.tnodes, _, tout = self.trace(False)
        kout = probe.keras_output(self.km, self.xs, False)
        self.out_shapes = kout.shape, tout.shape
        got = xfer.to_keras_layout(tout, kout.shape, self.layout == "channels_first")
        if got.shape != kout.shape:
            raise PairError(f"the models' outputs differ in shape: Keras {kout.shape}, torch {tout.shape}; they "
                            f"cannot be the same model")
        self.match = structure.match(self.knodes, self.tnodes, mapping, probe.torch_module_paths(self.tm))
        self.pair_of = {(k.name, k.part): t for k, t in self.match.pairs}
        self.by_name = {n.name: n for n in self.knodes if n.part != "activation"}
        self.origins = xfer.flat_origins(self.knodes)
        self.perms = {k.name: self.perm(k) for k, _ in self.match.pairs + self.match.mismatched if k.params}

    def flatten_of(self, name: str | None):
        """The Keras Flatten node whose order reaches `name` (through elementwise layers), or None."""
        while name is not None and name in self.by_name:
            n = self.by_name[name]
            if n.kind == "flatten":
                return n
            if not (n.kind in probe.ELEMENTWISE or n.kind.startswith("activation:")) or not n.sources:
                return None
            name = n.sources[0]
        return None

    def flat_cf(self, name) -> tuple | None:
        """(H, W, C) when torch's features at Keras layer `name` come in (c, h, w) order, else None."""
        f = self.flatten_of(name)
        if f is None or self.origins.get(f.name) is None:
            return None
        origin = self.origins[f.name]
        t = self.pair_of.get((f.name, "output"))
        return origin if xfer.torch_flattens_channels_first(origin, t, self.layout) else None

    def perm(self, k):
        if k.kind != "dense" or not k.sources:
            return None
        origin = self.flat_cf(k.sources[0])
        return None if origin is None else chw_index(origin)

    def torch_value(self, k, t, value, keras_shape):
        cf = self.layout == "channels_first" and t.kind not in NOT_CHANNELS_FIRST
        flat = self.flat_cf(k.name) if k.part == "output" else None
        return xfer.to_keras_layout(value, keras_shape, cf, flat)


def _compared(stage, k_name, t_name, part, kind, got, want, tol, call=0) -> Boundary:
    c = compare(got, want, tol, what=f"{k_name} {part}", label_a="torch", label_b="keras")
    b = Boundary(stage, k_name, t_name, part, kind, tuple(np.shape(want)), c.ok, torch_call=call,
                 atol=tol.atol, rtol=tol.rtol, reason=tol.reason)
    if c.shape_mismatch:
        b.note = f"shapes differ: Keras {c.shape_b}, torch (in Keras layout) {c.shape_a}"
        return b
    b.max_abs, b.max_rel, b.over = c.max_abs, c.max_rel, c.worst_over_tol
    if c.worst_index is not None and c.n_total:
        b.element = {"index": list(c.worst_index), "keras": c.worst_b, "torch": c.worst_a,
                     "allowed": c.allowed_at_worst}
    return b


def _forward(run: _Run) -> tuple[list, float, int]:
    """Every matched boundary in Keras order; returns the rows, the final depth D and the number of layers."""
    want = {n.name for n in run.knodes if n.kind in ("batch_norm", "layer_norm")}
    kvals = probe.keras_values(run.km, run.xs, run.training, want)
    _, tvals, tout = run.trace(run.training)
    scale = max(float(np.max(np.abs(x))) for x in run.xs if x.size)
    sqrt_sum, rows, count = 0.0, [], 0
    for k in run.knodes:
        key = (k.name, "pre-activation" if k.part == "pre-activation" else "output")
        value = kvals[key]
        count += k.part != "activation"
        sqrt_sum += math.sqrt(rule.layer_depth(k, run.batch))
        weights = probe.keras_weights(run.km, k.name) if k.params else {}
        scale = max(rule.layer_scale(k, scale, kvals.get((k.name, "input")), weights, run.training), scale,
                    float(np.max(np.abs(value))) if value.size else 0.0)
        depth = int(math.ceil(sqrt_sum ** 2))
        tol = rule.boundary_tolerance(run.dtype, depth, scale, count)
        t = run.pair_of.get((k.name, k.part))
        if t is not None:
            got = run.torch_value(k, t, tvals[(t.name, t.call)], value.shape)
            rows.append(_compared("forward", k.name, t.name, k.part, k.kind, got, value, tol, t.call))
    last = run.knodes[-1]
    if (last.name, last.part) not in run.pair_of:
        kout = kvals[(last.name, "output")]
        got = xfer.to_keras_layout(tout, kout.shape, run.layout == "channels_first", run.flat_cf(last.name))
        rows.append(_compared("forward", last.name, "", "model output", last.kind, got, kout, tol))
    return rows, depth, count


def _cotangent(run: _Run):
    """A fixed standard-normal c: the scalar loss is sum(output * c) (c in each side's layout)."""
    keras_shape, torch_shape = run.out_shapes
    cot = np.random.default_rng(runtime.seed_for("check_pair:cotangent")).standard_normal(keras_shape)
    return cot, xfer.from_keras_layout(cot, torch_shape)


def _gradients(run: _Run, depth: int, cot, tcot) -> tuple[list, dict]:
    pairs = [(k, t) for k, t in run.match.pairs if k.params]
    kg = probe.keras_grads(run.km, run.xs, cot, run.training, [k.name for k, _ in pairs])
    tg = probe.torch_grads(run.tm, run.txs, tcot, run.training, [t.name for _, t in pairs])
    x = run.xs[0]
    pixels = int(np.prod(x.shape[1:-1])) if x.ndim == 4 else 1
    rows, tols = [], {}
    for k, t in pairs:
        got = xfer.grads_to_keras(k.kind, tg[t.name], k.params, run.perms.get(k.name))
        tol = rule.grad_tolerance(run.dtype, kg[k.name], depth, run.batch * pixels)
        for name, g in kg[k.name].items():
            tols[(k.name, name)] = (np.asarray(g, np.float64), tol)
            if name in got:
                rows.append(_compared("gradient", k.name, t.name, name, k.kind, got[name], g, tol))
    return rows, tols


def _step(run: _Run, opt, cot, tcot, gtols) -> list:
    name, keras_h, torch_h, _, _ = opt
    pairs = [(k, t) for k, t in run.match.pairs if k.params]
    before = {k.name: probe.keras_weights(run.km, k.name) for k, _ in pairs}
    probe.keras_step(run.km, run.xs, cot, run.training, probe.keras_optimizer(name, keras_h))
    probe.torch_step(run.tm, run.txs, tcot, run.training, probe.torch_optimizer(run.tm, name, torch_h))
    rows = []
    for k, t in pairs:
        after = probe.keras_weights(run.km, k.name)
        got = xfer.to_keras(k.kind, probe.torch_tensors_at(run.tm, t.name), k.params, run.perms.get(k.name))
        for p, w in after.items():
            if p not in got:
                continue
            if (k.name, p) in gtols:
                g, gtol = gtols[(k.name, p)]
                rows.append(_step_row(k, t, p, got[p], w, g, gtol, opt))
            elif k.kind == "batch_norm" and p in ("moving_mean", "moving_variance"):
                rows.append(_stat_row(run, k, t, p, got[p], w, before[k.name][p]))
    return rows


def _step_row(k, t, p, got, want, g, gtol, opt) -> Boundary:
    """Weights after one update, TF vs torch: each side's float32 update is within its rule's `float32_rtol(1)`
    of the float64 update (catalog.optimizers: Keras Adam's float32 beta powers, 'adam-bias-correction-float32',
    dominate), each stored weight rounds by half an ulp, and the gradients' own tolerance is carried through the
    update's derivative (Adam at step 1, update lr*g/(|g| + eps): lr*eps/(|g| + eps)^2; SGD: lr)."""
    from ..catalog import optimizers as rules
    from ..tolerances import Tolerance

    name, keras_h, _, lr, adam_eps = opt
    g = np.abs(np.asarray(g, np.float64))
    if name == "adam":
        h = dict(lr=lr, beta1=keras_h["beta_1"], beta2=keras_h["beta_2"], eps=adam_eps)
        rtol = rules.KerasAdam(**h).float32_rtol(1) + rules.TorchAdam(**h).float32_rtol(1)
        update = lr * g / (g + adam_eps)
        from_grad = lr * adam_eps * gtol.atol / (g + adam_eps) ** 2
    else:
        h = dict(lr=lr, momentum=0.0)
        rtol = rules.KerasSGD(**h).float32_rtol(1) + rules.TorchSGD(**h).float32_rtol(1)
        update, from_grad = lr * g, lr * gtol.atol
    allowed = rtol * update + np.spacing(np.abs(np.asarray(want, np.float32))).astype(np.float64) + from_grad
    atol = float(np.max(allowed))
    tol = Tolerance(atol, 0.0, f"{name} step rule: both sides' float32 update error ({rtol / U32:.0f} u of the "
                                f"update), half an ulp of the stored weight on each side, the gradient tolerance "
                                f"through the update")
    b = _compared("step", k.name, t.name, p, k.kind, got, want, tol)
    bad = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64)) > allowed
    b.ok = b.ok and not bool(bad.any())
    return b


def _stat_row(run, k, t, p, got, want, old) -> Boundary:
    """BatchNorm statistics after the step, torch's predicted from Keras' under torch momentum = 1 - Keras momentum
    ('bn-momentum-convention') and torch's unbiased running variance ('bn-running-var-unbiased')."""
    m = float(k.config.get("momentum", 0.99))
    expected = np.asarray(want, np.float64)
    n = run.batch * int(np.prod([s for s in k.in_shape[1:-1]] or [1]))
    if run.training and p == "moving_variance" and m < 1 and n > 1:
        batch_var = (expected - m * old) / (1 - m)
        expected = m * old + (1 - m) * batch_var * n / (n - 1)
    tol = cross(for_arrays(run.dtype, expected, depth=n, reason=f"statistic over n={n} values"))
    b = _compared("step", k.name, t.name, p, k.kind, got, expected, tol)
    b.note = "torch's statistic predicted from Keras' (momentum 1 - m, unbiased running variance)"
    return b


def check_pair(keras_model, torch_module, inputs, *, transfer=None, mapping=None, torch_layout="auto",
               training=False, grads=True, step=None) -> PairResult:
    """Are `keras_model` and `torch_module` the same model on `inputs` (Keras layout), and where do they first
    differ? See docs/check.md. Raises PairError / MappingError for a call that cannot be checked."""
    opt = _validate(transfer, mapping, torch_layout, step)
    if not probe.is_keras_model(keras_model):
        raise PairError(f"keras_model: expected a keras.Model, got {type(keras_model).__name__}")
    if not probe.is_torch_module(torch_module):
        raise PairError(f"torch_module: expected a torch.nn.Module, got {type(torch_module).__name__}")
    with _isolated():
        xs = _inputs(keras_model, inputs)
        run = _Run(keras_model, torch_module, xs, torch_layout, bool(training))
        run.structure(mapping)
        if transfer:
            structure.require_full(run.match)
            xfer.transfer(keras_model, torch_module, run.match.pairs, run.perms, transfer)
        ksnap, tsnap = probe.keras_snapshot(keras_model), probe.torch_snapshot(torch_module)
        try:
            rows, depth, _ = _forward(run)
            grows, srows = [], []
            if grads or opt:
                _restore(run, ksnap, tsnap)
                cot, tcot = _cotangent(run)
                grows, gtols = _gradients(run, depth, cot, tcot)
                if opt:
                    _restore(run, ksnap, tsnap)
                    srows = _step(run, opt, cot, tcot, gtols)
        finally:
            _restore(run, ksnap, tsnap)
        settings = {"transfer": transfer, "mapping": dict(mapping or {}), "torch_layout": run.layout,
                    "training": bool(training), "grads": bool(grads), "step": None if opt is None else
                    {"optimizer": opt[0], "keras": opt[1], "torch": opt[2]}, "dtype": run.dtype,
                    "inputs": [list(x.shape) for x in xs], "versions": runtime.versions()}
        found = explain.Structure.of(run)
        return explain.verdict(rows, grows if grads else [], srows, found, settings, run)


@contextlib.contextmanager
def _isolated():
    """TF32 off on both frameworks for the check, every global framework setting restored afterwards; the user's
    random generators are left alone (nothing here draws from them)."""
    state = runtime.capture_state()
    try:
        runtime.disable_tf32()
        yield
    finally:
        runtime.restore_state(state)


def _restore(run, ksnap, tsnap):
    probe.keras_restore(run.km, ksnap)
    probe.torch_restore(run.tm, tsnap)


def assert_models_equivalent(keras_model, torch_module, inputs, **kw) -> PairResult:
    """check_pair(...), failing (EquivalenceMismatch) with the localized divergence as its message."""
    __tracebackhide__ = True
    from ..compare import EquivalenceMismatch

    result = check_pair(keras_model, torch_module, inputs, **kw)
    if not result.equivalent:
        raise EquivalenceMismatch(result.summary())
    return result


__all__ = ["Boundary", "PairResult", "assert_models_equivalent", "check_pair"]
