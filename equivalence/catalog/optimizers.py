"""OPTIMIZER_DB: one OptimizerInfo per optimizer configuration, the mapping between the two APIs, and float64 rules.

Each configuration holds neutral hyperparameters; `keras(h)` and `torch(params, h)` spell them for each API, and
two float64 NumPy rules restate the update exactly as each framework's source writes it (Keras 3.15
`keras/src/optimizers/*.py`, torch 2.13 `torch/optim/*.py`). Where the two formulas coincide under the mapping the
entry is `cross=True` and the frameworks must agree with each other; where they cannot (epsilon placement with a
realistic epsilon, coupled vs decoupled weight decay with momentum, differing defaults) the entry is `cross=False`,
names the KnownDifference ids that explain it, and each side is still held to its own documented rule.

Epsilon placement, the recurring difference:
  Adam/AdamW/Nadam  Keras  lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)      eps added to the UNcorrected sqrt(v)
                    torch  lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)      eps added to the corrected sqrt(v_hat)
                    (Nadam: both add eps to sqrt(v_hat)); equal when torch eps = Keras eps / sqrt(1-b2^t), per step
  RMSprop/Adagrad   Keras  g / sqrt(v + eps)       torch  g / (sqrt(v) + eps)   (inside vs outside the root)
  Adamax            Keras  m / ((1-b1^t) (u + eps))  torch  u = max(b2 u, |g| + eps)  (after vs inside the max)
  Adadelta          both   sqrt(acc + eps) inside the root, identical
The cross configurations therefore use a negligible epsilon (Keras 1e-24 inside a root = torch 1e-12 outside).

Bias corrections: Keras computes beta^t in float32 from float32-cast betas (`ops.power(ops.cast(beta_2, dtype), t)`),
torch in Python float64. 1 - beta2^t cancels, so Keras' rounding there is amplified by ~1/(1 - beta2): the Keras
side's update tolerance carries `keras_cond = 1/(1 - beta2)` (measured: 9e-6 relative after 5 Adam steps with
beta2=0.999, against a bound of 1000 u = 1.2e-4); catalogued as 'adam-bias-correction-float32'.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _runtime
from ._traininfo import OptimizerInfo, check_unique

TINY_EPS_TF, TINY_EPS_TORCH = 1e-24, 1e-12  # sqrt(1e-24) = 1e-12: same size on both sides of the root


# ---------------------------------------------------------------- float64 reference rules (one parameter array)
class _Rule:
    """A float64 update rule: `step(p, g)` returns the new parameter; state lives on the instance."""

    def __init__(self, **h):
        self.h, self.t, self.s = h, 0, {}

    def state(self, name, like, init=0.0):
        return self.s.setdefault(name, np.full_like(like, init, dtype=np.float64))

    def step(self, p, g):
        self.t += 1
        p, g = np.asarray(p, np.float64), np.asarray(g, np.float64)
        return self.update(p, g, self.h)


class KerasSGD(_Rule):
    def update(self, p, g, h):
        p = p - p * h.get("wd", 0.0) * h["lr"]  # Keras weight_decay is decoupled, applied before the step
        if not h.get("momentum"):
            return p - g * h["lr"]
        m = self.s["m"] = self.state("m", p) * h["momentum"] - g * h["lr"]
        return p + (m * h["momentum"] - g * h["lr"] if h.get("nesterov") else m)


class TorchSGD(_Rule):
    def update(self, p, g, h):
        g = g + h.get("wd", 0.0) * p  # torch weight_decay is L2: added to the gradient
        if not h.get("momentum"):
            return p - h["lr"] * g
        buf = self.s["b"] = g if "b" not in self.s else self.s["b"] * h["momentum"] + g  # dampening 0
        return p - h["lr"] * (g + h["momentum"] * buf if h.get("nesterov") else buf)


class KerasAdam(_Rule):
    def update(self, p, g, h):
        p = p - p * h.get("wd", 0.0) * h["lr"]  # Keras Adam/AdamW weight_decay: decoupled
        b1, b2, t = h["beta1"], h["beta2"], self.t
        m = self.s["m"] = self.state("m", p) + (g - self.state("m", p)) * (1 - b1)
        v = self.s["v"] = self.state("v", p) + (g * g - self.state("v", p)) * (1 - b2)
        if h.get("amsgrad"):
            v = self.s["vhat"] = np.maximum(self.state("vhat", p), v)
        alpha = h["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
        return p - m * alpha / (np.sqrt(v) + h["eps"])


class TorchAdam(_Rule):
    def update(self, p, g, h):
        if h.get("decoupled"):  # AdamW
            p = p * (1 - h["lr"] * h.get("wd", 0.0))
        else:  # Adam: L2 through the gradient
            g = g + h.get("wd", 0.0) * p
        b1, b2, t = h["beta1"], h["beta2"], self.t
        m = self.s["m"] = self.state("m", p) * b1 + g * (1 - b1)
        v = self.s["v"] = self.state("v", p) * b2 + g * g * (1 - b2)
        if h.get("amsgrad"):
            v = self.s["vmax"] = np.maximum(self.state("vmax", p), v)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + h["eps"]
        return p - h["lr"] / (1 - b1**t) * m / denom


class KerasRMSprop(_Rule):
    def update(self, p, g, h):
        rho = h["rho"]
        v = self.s["v"] = rho * self.state("v", p) + (1 - rho) * g * g
        if h.get("centered"):
            a = self.s["a"] = rho * self.state("a", p) + (1 - rho) * g
            inc = h["lr"] * g / np.sqrt(v - a * a + h["eps"])
        else:
            inc = h["lr"] * g / np.sqrt(v + h["eps"])
        if h.get("momentum"):
            inc = self.s["mom"] = h["momentum"] * self.state("mom", p) + inc
        return p - inc


class TorchRMSprop(_Rule):
    def update(self, p, g, h):
        rho = h["rho"]
        v = self.s["v"] = self.state("v", p) * rho + (1 - rho) * g * g
        if h.get("centered"):
            a = self.s["a"] = self.state("a", p) * rho + (1 - rho) * g
            avg = np.sqrt(v - a * a) + h["eps"]
        else:
            avg = np.sqrt(v) + h["eps"]
        if h.get("momentum"):
            buf = self.s["buf"] = self.state("buf", p) * h["momentum"] + g / avg
            return p - h["lr"] * buf
        return p - h["lr"] * g / avg


class KerasAdagrad(_Rule):
    def update(self, p, g, h):
        acc = self.s["acc"] = self.state("acc", p, h["init_acc"]) + g * g
        return p - h["lr"] * g / np.sqrt(acc + h["eps"])


class TorchAdagrad(_Rule):
    def update(self, p, g, h):
        acc = self.s["acc"] = self.state("acc", p, h["init_acc"]) + g * g
        return p - h["lr"] * g / (np.sqrt(acc) + h["eps"])  # lr_decay 0


class Adadelta(_Rule):  # Keras and torch write the same rule (eps inside both roots)
    def update(self, p, g, h):
        rho, eps = h["rho"], h["eps"]
        acc_g = self.s["g"] = rho * self.state("g", p) + (1 - rho) * g * g
        delta = np.sqrt(self.state("d", p) + eps) / np.sqrt(acc_g + eps) * g
        self.s["d"] = rho * self.state("d", p) + (1 - rho) * delta * delta
        return p - h["lr"] * delta


class KerasAdamax(_Rule):
    def update(self, p, g, h):
        m = self.s["m"] = self.state("m", p) + (g - self.state("m", p)) * (1 - h["beta1"])
        u = self.s["u"] = np.maximum(h["beta2"] * self.state("u", p), np.abs(g))
        return p - h["lr"] * m / ((1 - h["beta1"] ** self.t) * (u + h["eps"]))


class TorchAdamax(_Rule):
    def update(self, p, g, h):
        m = self.s["m"] = self.state("m", p) * h["beta1"] + g * (1 - h["beta1"])
        u = self.s["u"] = np.maximum(h["beta2"] * self.state("u", p), np.abs(g) + h["eps"])
        return p - h["lr"] / (1 - h["beta1"] ** self.t) * m / u


class Nadam(_Rule):
    """Dozat's Nadam with mu_t = b1 (1 - 0.5 * 0.96^(t * psi)): Keras hard-codes psi = 1, torch momentum_decay."""

    def update(self, p, g, h):
        b1, b2, t, psi = h["beta1"], h["beta2"], self.t, h["momentum_decay"]
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * psi)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod = self.s["prod"] = self.s.get("prod", 1.0) * mu
        m = self.s["m"] = self.state("m", p) * b1 + g * (1 - b1)
        v = self.s["v"] = self.state("v", p) * b2 + g * g * (1 - b2)
        denom = np.sqrt(v / (1 - b2**t)) + h["eps"]
        return p - h["lr"] * ((1 - mu) / (1 - prod) * g + mu_next / (1 - prod * mu_next) * m) / denom


# ---------------------------------------------------------------- the mapping between the two APIs
KERAS_ARGS = {"lr": "learning_rate", "beta1": "beta_1", "beta2": "beta_2", "eps": "epsilon", "momentum": "momentum",
              "nesterov": "nesterov", "wd": "weight_decay", "amsgrad": "amsgrad", "rho": "rho",
              "centered": "centered", "init_acc": "initial_accumulator_value"}
TORCH_ARGS = {"lr": "lr", "eps": "eps", "momentum": "momentum", "nesterov": "nesterov", "wd": "weight_decay",
              "amsgrad": "amsgrad", "centered": "centered", "init_acc": "initial_accumulator_value",
              "momentum_decay": "momentum_decay"}
TORCH_RHO = {"RMSprop": "alpha", "Adadelta": "rho"}  # Keras says rho for both; torch RMSprop calls it alpha


def torch_hyper(h: dict) -> dict:
    """The neutral hyperparameters as the torch rule sees them (its own epsilon where the placement differs)."""
    return {**h, "eps": h["eps_torch"]} if "eps_torch" in h else dict(h)


def keras_kwargs(h: dict) -> dict:
    return {KERAS_ARGS[k]: v for k, v in h.items() if k in KERAS_ARGS}


def torch_kwargs(cls: str, h: dict) -> dict:
    h = torch_hyper(h)
    kw = {TORCH_ARGS[k]: v for k, v in h.items() if k in TORCH_ARGS}
    if "beta1" in h:
        kw["betas"] = (h["beta1"], h["beta2"])
    if "rho" in h:
        kw[TORCH_RHO[cls]] = h["rho"]
    return kw


def _cond(h: dict) -> float:
    """Keras' bias-correction amplification 1/(1 - beta2) (1 where the rule has no beta2 power)."""
    return 1.0 / (1.0 - h["beta2"]) if "beta2" in h else 1.0


def _entry(name, variant, keras_cls, torch_cls, rules, hyper, **kw) -> OptimizerInfo:
    """A configuration both APIs express: neutral `hyper` spelled for each by the tables above."""
    rule_tf, rule_torch = rules
    return OptimizerInfo(
        name, variant, hyper, keras_cond=_cond(hyper),
        keras=lambda h: getattr(_runtime.keras().optimizers, keras_cls)(**keras_kwargs(h)),
        torch=lambda params, h: getattr(_runtime.torch().optim, torch_cls)(params, **torch_kwargs(torch_cls, h)),
        ref_tf=lambda h: rule_tf(**h), ref_torch=lambda h: rule_torch(**torch_hyper(h)),
        mapping=f"keras.optimizers.{keras_cls}({keras_kwargs(hyper)}) ~ torch.optim.{torch_cls}("
                f"{torch_kwargs(torch_cls, hyper)})", **kw)


def _defaults(name, keras_cls, torch_cls, rules, keras_h, torch_h, differences, grad_scale=1e-6) -> OptimizerInfo:
    """Both constructors called with NO arguments; each side held to its own rule with its documented defaults.

    Gradients are drawn tiny (|g| <= grad_scale) so that epsilon shapes the update: a changed default on either
    side moves that side's updates off its rule.
    """
    rule_tf, rule_torch = rules
    return OptimizerInfo(
        name, "defaults", keras_h, keras_cond=_cond(keras_h),
        keras=lambda h: getattr(_runtime.keras().optimizers, keras_cls)(),
        torch=lambda params, h: getattr(_runtime.torch().optim, torch_cls)(params),
        ref_tf=lambda h: rule_tf(**keras_h), ref_torch=lambda h: rule_torch(**torch_h),
        cross=False, grad_scale=grad_scale, differences=differences,
        mapping=f"keras.optimizers.{keras_cls}() documented {keras_h}; torch.optim.{torch_cls}(params) documented {torch_h}")


ADAM = {"beta1": 0.9, "beta2": 0.999}
SGD_RULES, ADAM_RULES, RMS_RULES = (KerasSGD, TorchSGD), (KerasAdam, TorchAdam), (KerasRMSprop, TorchRMSprop)
TINY = {"eps": TINY_EPS_TF, "eps_torch": TINY_EPS_TORCH}
ADAM_TINY = {"eps": 1e-12}  # eps added after the root on both: only its (negligible) scale differs per step


def _sgd_entries() -> list[OptimizerInfo]:
    return [
        _entry("sgd", "plain", "SGD", "SGD", SGD_RULES, {"lr": 0.1}),
        _entry("sgd", "momentum", "SGD", "SGD", SGD_RULES, {"lr": 0.05, "momentum": 0.9}),
        _entry("sgd", "nesterov", "SGD", "SGD", SGD_RULES, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        # Without momentum, L2 through the gradient (torch) and decoupled decay (Keras) are the same update.
        _entry("sgd", "weight_decay", "SGD", "SGD", SGD_RULES, {"lr": 0.1, "wd": 0.05}),
        _entry("sgd", "momentum_weight_decay", "SGD", "SGD", SGD_RULES, {"lr": 0.05, "momentum": 0.9, "wd": 0.05},
               cross=False, differences=("sgd-weight-decay-coupling",)),
        _defaults("sgd", "SGD", "SGD", SGD_RULES, {"lr": 0.01}, {"lr": 0.001}, ("sgd-lr-default",), grad_scale=1.0),
    ]


def _adam_entries() -> list[OptimizerInfo]:
    adamw_rules = (KerasAdam, lambda **h: TorchAdam(decoupled=True, **h))
    return [
        _entry("adam", "tiny_eps", "Adam", "Adam", ADAM_RULES, {"lr": 0.01, **ADAM, **ADAM_TINY}),
        _entry("adam", "amsgrad", "Adam", "Adam", ADAM_RULES, {"lr": 0.01, **ADAM, **ADAM_TINY, "amsgrad": True}),
        _entry("adam", "betas", "Adam", "Adam", ADAM_RULES, {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, **ADAM_TINY}),
        _entry("adam", "weight_decay", "Adam", "Adam", ADAM_RULES, {"lr": 0.01, **ADAM, **ADAM_TINY, "wd": 0.1},
               cross=False, differences=("adam-weight-decay-coupling",)),
        _defaults("adam", "Adam", "Adam", ADAM_RULES, {"lr": 1e-3, **ADAM, "eps": 1e-7}, {"lr": 1e-3, **ADAM, "eps": 1e-8},
                  ("adam-epsilon-default", "adam-epsilon-placement")),
        _entry("adamw", "tiny_eps", "AdamW", "AdamW", adamw_rules, {"lr": 0.01, **ADAM, **ADAM_TINY, "wd": 0.1}),
        _entry("adamw", "amsgrad", "AdamW", "AdamW", adamw_rules,
               {"lr": 0.01, **ADAM, **ADAM_TINY, "wd": 0.1, "amsgrad": True}),
        _defaults("adamw", "AdamW", "AdamW", adamw_rules, {"lr": 1e-3, **ADAM, "eps": 1e-7, "wd": 0.004},
                  {"lr": 1e-3, **ADAM, "eps": 1e-8, "wd": 0.01}, ("adamw-weight-decay-default", "adam-epsilon-default")),
        _entry("adamax", "tiny_eps", "Adamax", "Adamax", (KerasAdamax, TorchAdamax), {"lr": 0.01, **ADAM, **TINY}),
        _defaults("adamax", "Adamax", "Adamax", (KerasAdamax, TorchAdamax), {"lr": 1e-3, **ADAM, "eps": 1e-7},
                  {"lr": 2e-3, **ADAM, "eps": 1e-8}, ("adamax-defaults",)),
        _entry("nadam", "momentum_decay_1", "Nadam", "NAdam", (Nadam, Nadam),
               {"lr": 0.01, **ADAM, "eps": 1e-7, "momentum_decay": 1.0}),
        _defaults("nadam", "Nadam", "NAdam", (Nadam, Nadam), {"lr": 1e-3, **ADAM, "eps": 1e-7, "momentum_decay": 1.0},
                  {"lr": 2e-3, **ADAM, "eps": 1e-8, "momentum_decay": 4e-3}, ("nadam-momentum-decay",), grad_scale=1.0),
    ]


def _adaptive_entries() -> list[OptimizerInfo]:
    return [
        _entry("rmsprop", "tiny_eps", "RMSprop", "RMSprop", RMS_RULES, {"lr": 0.01, "rho": 0.9, **TINY}),
        _entry("rmsprop", "centered", "RMSprop", "RMSprop", RMS_RULES, {"lr": 0.01, "rho": 0.9, "centered": True, **TINY}),
        _entry("rmsprop", "momentum", "RMSprop", "RMSprop", RMS_RULES, {"lr": 0.01, "rho": 0.9, "momentum": 0.9, **TINY}),
        _entry("rmsprop", "centered_momentum", "RMSprop", "RMSprop", RMS_RULES,
               {"lr": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True, **TINY}),
        _defaults("rmsprop", "RMSprop", "RMSprop", RMS_RULES, {"lr": 1e-3, "rho": 0.9, "eps": 1e-7},
                  {"lr": 1e-2, "rho": 0.99, "eps": 1e-8}, ("rmsprop-rho-alpha-default", "rmsprop-epsilon-placement")),
        _entry("adagrad", "tiny_eps", "Adagrad", "Adagrad", (KerasAdagrad, TorchAdagrad),
               {"lr": 0.1, "init_acc": 0.1, **TINY}),
        _defaults("adagrad", "Adagrad", "Adagrad", (KerasAdagrad, TorchAdagrad), {"lr": 1e-3, "init_acc": 0.1, "eps": 1e-7},
                  {"lr": 1e-2, "init_acc": 0.0, "eps": 1e-10}, ("adagrad-initial-accumulator",)),
        _entry("adadelta", "rho_eps", "Adadelta", "Adadelta", (Adadelta, Adadelta), {"lr": 1.0, "rho": 0.95, "eps": 1e-6}),
        _defaults("adadelta", "Adadelta", "Adadelta", (Adadelta, Adadelta), {"lr": 1e-3, "rho": 0.95, "eps": 1e-7},
                  {"lr": 1.0, "rho": 0.9, "eps": 1e-6}, ("adadelta-defaults",)),
    ]


OPTIMIZER_DB: list[OptimizerInfo] = check_unique(_sgd_entries() + _adam_entries() + _adaptive_entries())


def by_id(opt_id: str) -> OptimizerInfo:
    """The entry with this id; KeyError lists the known ids."""
    for info in OPTIMIZER_DB:
        if info.id == opt_id:
            return info
    raise KeyError(f"no optimizer {opt_id!r}; known: {[i.id for i in OPTIMIZER_DB]}")
