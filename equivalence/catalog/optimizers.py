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

Float32 tolerance of an update, derived per rule (`_Rule.float32_rtol(t)`, relative to the update's magnitude, see
`training.update_bound`): each rule counts the float32 roundings (<= 1 ulp = u = 2**-23 relative each, casts of
Python constants included) of its update expression (UPDATE_OPS) and of the state recurrences feeding it
(STATE_OPS, accumulated over the t steps so far), plus what its float32 constants do (`constants_rtol`):
  Keras Adam/AdamW  beta^t in float32 from float32-cast betas, while the moments use Python's 1 - beta: the cast
                    error |bf^t - b^t| and pow's rounding (<= 1 ulp; 0 at t = 1, where pow(b, 1) = b) both land
                    in 1 - beta^t, which divides them: sqrt halves beta2's share ('adam-bias-correction-float32').
                    0.999 -> 56 u at t = 1, 179 u at t = 2 (the largest over the 5 tested steps).
  Keras Nadam       the same powers, but the moments use the same float32 (1 - beta): the cast cancels and only
                    pow's rounding of beta2^t is amplified (t >= 2: 125 u at t = 2); mu's 0.96^t and the running
                    product u_product (t float32 products, 1 - prod >= 1/2) add (t + 2) u.
  Keras Adamax      only beta1^t (no beta2 power: u = max(b2 u, |g|) needs no correction): ~5 u.
  Adagrad, RMSprop, Adadelta, SGD: no powers; centered RMSprop's v - a^2 cancels by at most 1/rho^t.
  torch             every bias correction in Python float64: ops only.
Measured error over the test's cases (40 derandomized + the pinned examples; in u of the update's magnitude, the
largest step; the derived rule's largest step in brackets; the old rule was 1024 u for every Keras Adam-family side):
  Keras Adam/AdamW 85 [201]   Keras Nadam 30 [149]   Keras Adamax 3.2 [25]   torch Adam (L2 weight decay) 14 [26]
  every other side and optimizer <= 2.6 [>= 9]
tests/meta/test_optimizer_tolerance.py shows a small change of lr, beta2, rho, momentum or eps failing the check.
"""
from __future__ import annotations

import math

import numpy as np

from .. import runtime
from ..registry import Registry
from .traininfo import OptimizerInfo

TINY_EPS_TF, TINY_EPS_TORCH = 1e-24, 1e-12  # sqrt(1e-24) = 1e-12: same size on both sides of the root
U = float(np.finfo(np.float32).eps)  # 1 ulp relative: the most one float32 operation (or a cast) rounds by


def one_minus_power_rel(b: float, t: int, moments_use_float32: bool) -> float:
    """Relative error of 1 - b^t when b^t is computed as float32 pow(float32(b), t) (module docstring).

    pow rounds by <= 1 ulp of its result (0.51 ulp measured for t <= 2000; exact at t = 1). The cast error
    |bf^t - b^t| counts only when the moments are built from Python's 1 - b (Keras Adam, Adamax); where they use
    the same float32 1 - bf (Keras Nadam) the weights stay normalised and the cast moves the result by t|bf - b|.
    """
    bf = float(np.float32(b))
    exact, got = b**t, bf**t
    pow_ulp = float(np.spacing(np.float32(got))) if t > 1 else 0.0
    if moments_use_float32:  # normalised weights: the cast moves them by ~t |bf - b| / b, not amplified
        return pow_ulp / (1.0 - exact) + t * abs(bf - b) / b
    return (abs(got - exact) + pow_ulp) / (1.0 - exact)


# ---------------------------------------------------------------- float64 reference rules (one parameter array)
class _Rule:
    """A float64 update rule: `step(p, g)` returns the new parameter; state lives on the instance.

    UPDATE_OPS / STATE_OPS: float32 roundings of the framework's update expression / of one step of the state it
    reads (counted from its source, Python constants' casts included; module docstring)."""

    UPDATE_OPS, STATE_OPS = 3, 0

    def __init__(self, **h):
        self.h, self.t, self.s = h, 0, {}
        self.magnitude = False  # set by training.magnitude_updates: weight decay reads |p| (below)
        self.nudge = {}  # {step: array added to g + wd*p at that step}: training.l2_rounding_bound's probe

    @property
    def coupled_l2(self) -> bool:
        """torch's L2 weight decay: g + wd*p is rounded in float32 before the rule uses it (training.l2_rounding
        _bound); False for decoupled decay and without weight decay."""
        return False

    def l2(self, p, g):
        """The gradient with L2 weight decay, g + wd*p (p read through `decayed`), nudged at probed steps."""
        return g + self.h.get("wd", 0.0) * self.decayed(p) + self.nudge.get(self.t, 0.0)

    def decayed(self, p):
        """The p that weight decay reads: p itself, or |p| in a magnitude run (training.magnitude_updates). There
        the inputs are |p0|, |g| so no term of the update cancels another; but p changes sign along the way, and a
        decay term reading a negative p (torch's L2 g + wd*p, Keras' p - p*wd*lr) would cancel the gradient's."""
        return np.abs(p) if self.magnitude else p

    def float32_rtol(self, t: int) -> float:
        """Relative error of the framework's float32 update at step t (1-based) against this float64 rule."""
        return (self.UPDATE_OPS + self.STATE_OPS * t) * U + self.constants_rtol(t)

    def constants_rtol(self, t: int) -> float:
        """What float32 constants add (powers, cancelling denominators); none by default."""
        return 0.0

    def p_roundings(self) -> int:
        """Half-ulps of p one step may round the stored weight by: the update's add, plus Keras-style decoupled
        decay p - p*wd*lr (one more; torch AdamW overrides)."""
        return 2 if self.h.get("wd") else 1

    def state(self, name, like, init=0.0):
        return self.s.setdefault(name, np.full_like(like, init, dtype=np.float64))

    def step(self, p, g):
        self.t += 1
        p, g = np.asarray(p, np.float64), np.asarray(g, np.float64)
        return self.update(p, g, self.h)


class KerasSGD(_Rule):
    UPDATE_OPS, STATE_OPS = 4, 3  # casts of lr/momentum, g*lr, (m*mom - g*lr) [+ nesterov's 3]; m: 3 per step

    def update(self, p, g, h):
        p = p - self.decayed(p) * h.get("wd", 0.0) * h["lr"]  # Keras weight_decay is decoupled, applied before the step
        if not h.get("momentum"):
            return p - g * h["lr"]
        m = self.s["m"] = self.state("m", p) * h["momentum"] - g * h["lr"]
        return p + (m * h["momentum"] - g * h["lr"] if h.get("nesterov") else m)


class TorchSGD(_Rule):
    UPDATE_OPS, STATE_OPS = 4, 3  # g + wd*p, lr*buf (+ nesterov g + mom*buf); buf*mom + g per step

    @property
    def coupled_l2(self):
        return bool(self.h.get("wd"))

    def update(self, p, g, h):
        g = self.l2(p, g)  # torch weight_decay is L2: added to the gradient
        if not h.get("momentum"):
            return p - h["lr"] * g
        buf = self.s["b"] = g if "b" not in self.s else self.s["b"] * h["momentum"] + g  # dampening 0
        return p - h["lr"] * (g + h["momentum"] * buf if h.get("nesterov") else buf)


class KerasAdam(_Rule):
    UPDATE_OPS, STATE_OPS = 9, 4  # alpha (2 subs, sqrt, *, /), m*alpha, sqrt(v), + eps, /; m, v: (x - s)*(1-b), +=

    def constants_rtol(self, t):
        h = self.h
        return 0.5 * one_minus_power_rel(h["beta2"], t, False) + one_minus_power_rel(h["beta1"], t, False)

    def update(self, p, g, h):
        p = p - self.decayed(p) * h.get("wd", 0.0) * h["lr"]  # Keras Adam/AdamW weight_decay: decoupled
        b1, b2, t = h["beta1"], h["beta2"], self.t
        m = self.s["m"] = self.state("m", p) + (g - self.state("m", p)) * (1 - b1)
        v = self.s["v"] = self.state("v", p) + (g * g - self.state("v", p)) * (1 - b2)
        if h.get("amsgrad"):
            v = self.s["vhat"] = np.maximum(self.state("vhat", p), v)
        alpha = h["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
        return p - m * alpha / (np.sqrt(v) + h["eps"])


class TorchAdam(_Rule):
    UPDATE_OPS, STATE_OPS = 6, 4  # sqrt(v), / bc2_sqrt, + eps, step_size cast, addcdiv (*, /); lerp m, v*b2+g*g*(1-b2)

    @property
    def coupled_l2(self):
        return bool(self.h.get("wd")) and not self.h.get("decoupled")

    def p_roundings(self):  # AdamW: p.mul_(1 - lr*wd): the float32 factor (u/2 |p| <= 2 half-ulps), the product, the add
        return 4 if self.h.get("decoupled") and self.h.get("wd") else 1

    def update(self, p, g, h):
        if h.get("decoupled"):  # AdamW
            p = p - self.decayed(p) * (h["lr"] * h.get("wd", 0.0))  # p * (1 - lr*wd), exactly in float64
        else:  # Adam: L2 through the gradient
            g = self.l2(p, g)
        b1, b2, t = h["beta1"], h["beta2"], self.t
        m = self.s["m"] = self.state("m", p) * b1 + g * (1 - b1)
        v = self.s["v"] = self.state("v", p) * b2 + g * g * (1 - b2)
        if h.get("amsgrad"):
            v = self.s["vmax"] = np.maximum(self.state("vmax", p), v)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + h["eps"]
        return p - h["lr"] / (1 - b1**t) * m / denom


class KerasRMSprop(_Rule):
    UPDATE_OPS, STATE_OPS = 6, 4  # v + eps (- a^2), rsqrt, lr*g*, (+ momentum); v, a: rho*s + (1-rho)*g*g

    def constants_rtol(self, t):  # centered: v - a^2 >= rho^t (v) cancels by at most 1/rho^t
        return 2 * U / self.h["rho"] ** t if self.h.get("centered") else 0.0

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
    UPDATE_OPS, STATE_OPS = 6, 4  # sqrt(v - a^2), + eps, g / avg, lr * (+ momentum buf)
    constants_rtol = KerasRMSprop.constants_rtol

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
    UPDATE_OPS, STATE_OPS = 5, 2  # acc + eps, sqrt, lr*g, /; acc + g*g per step

    def update(self, p, g, h):
        acc = self.s["acc"] = self.state("acc", p, h["init_acc"]) + g * g
        return p - h["lr"] * g / np.sqrt(acc + h["eps"])


class TorchAdagrad(_Rule):
    UPDATE_OPS, STATE_OPS = 5, 2  # sqrt(acc), + eps, g / ., * lr; addcmul per step

    def update(self, p, g, h):
        acc = self.s["acc"] = self.state("acc", p, h["init_acc"]) + g * g
        return p - h["lr"] * g / (np.sqrt(acc) + h["eps"])  # lr_decay 0


class Adadelta(_Rule):  # Keras and torch write the same rule (eps inside both roots)
    UPDATE_OPS, STATE_OPS = 8, 6  # two (s + eps) roots, /, * g, * lr; acc_g and acc_delta EMAs

    def update(self, p, g, h):
        rho, eps = h["rho"], h["eps"]
        acc_g = self.s["g"] = rho * self.state("g", p) + (1 - rho) * g * g
        delta = np.sqrt(self.state("d", p) + eps) / np.sqrt(acc_g + eps) * g
        self.s["d"] = rho * self.state("d", p) + (1 - rho) * delta * delta
        return p - h["lr"] * delta


class KerasAdamax(_Rule):
    UPDATE_OPS, STATE_OPS = 7, 3  # 1 - b1^t, u + eps, *, lr*m, /; m: (g - m)*(1-b1), +=; u: b2*u (max exact)

    def constants_rtol(self, t):
        return one_minus_power_rel(self.h["beta1"], t, False)

    def update(self, p, g, h):
        m = self.s["m"] = self.state("m", p) + (g - self.state("m", p)) * (1 - h["beta1"])
        u = self.s["u"] = np.maximum(h["beta2"] * self.state("u", p), np.abs(g))
        return p - h["lr"] * m / ((1 - h["beta1"] ** self.t) * (u + h["eps"]))


class TorchAdamax(_Rule):
    UPDATE_OPS, STATE_OPS = 5, 4  # lr / bc (float64) cast, m / u, *; m lerp, b2*u, |g| + eps

    def update(self, p, g, h):
        m = self.s["m"] = self.state("m", p) * h["beta1"] + g * (1 - h["beta1"])
        u = self.s["u"] = np.maximum(h["beta2"] * self.state("u", p), np.abs(g) + h["eps"])
        return p - h["lr"] / (1 - h["beta1"] ** self.t) * m / u


class Nadam(_Rule):
    """Dozat's Nadam with mu_t = b1 (1 - 0.5 * 0.96^(t * psi)): Keras hard-codes psi = 1, torch momentum_decay."""

    UPDATE_OPS, STATE_OPS = 12, 4  # m_hat's two terms (*, /, +), v / bc2, sqrt, + eps, lr*, /; m, v EMAs

    def p_roundings(self):  # torch NAdam adds its two terms to p by two addcdiv_ calls
        return 2

    def update(self, p, g, h):
        b1, b2, t, psi = h["beta1"], h["beta2"], self.t, h["momentum_decay"]
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * psi)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod = self.s["prod"] = self.s.get("prod", 1.0) * mu
        m = self.s["m"] = self.state("m", p) * b1 + g * (1 - b1)
        v = self.s["v"] = self.state("v", p) * b2 + g * g * (1 - b2)
        denom = np.sqrt(v / (1 - b2**t)) + h["eps"]
        return p - h["lr"] * ((1 - mu) / (1 - prod) * g + mu_next / (1 - prod * mu_next) * m) / denom


class KerasNadam(Nadam):
    """Keras' Nadam: psi = 1, mu from float32 0.96^t and a float32 running product, beta2^t in float32."""

    def constants_rtol(self, t):
        return 0.5 * one_minus_power_rel(self.h["beta2"], t, True) + (t + 2) * U

    def p_roundings(self):  # one assign_sub of the whole step
        return 1


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


def _entry(name, variant, keras_cls, torch_cls, rules, hyper, **kw) -> OptimizerInfo:
    """A configuration both APIs express: neutral `hyper` spelled for each by the tables above."""
    rule_tf, rule_torch = rules
    return OptimizerInfo(
        name, variant, hyper,
        keras=lambda h: getattr(runtime.keras().optimizers, keras_cls)(**keras_kwargs(h)),
        torch=lambda params, h: getattr(runtime.torch().optim, torch_cls)(params, **torch_kwargs(torch_cls, h)),
        ref_tf=lambda h: rule_tf(**h), ref_torch=lambda h: rule_torch(**torch_hyper(h)),
        mapping=f"keras.optimizers.{keras_cls}({keras_kwargs(hyper)}) ~ torch.optim.{torch_cls}("
                f"{torch_kwargs(torch_cls, hyper)})", **kw)


def _defaults(name, keras_cls, torch_cls, rules, keras_h, torch_h, grad_scale=1e-6) -> OptimizerInfo:
    """Both constructors called with NO arguments; each side held to its own rule with its documented defaults.

    Gradients are drawn tiny (|g| <= grad_scale) so that epsilon shapes the update: a changed default on either
    side moves that side's updates off its rule.
    """
    rule_tf, rule_torch = rules
    return OptimizerInfo(
        name, "defaults", keras_h,
        keras=lambda h: getattr(runtime.keras().optimizers, keras_cls)(),
        torch=lambda params, h: getattr(runtime.torch().optim, torch_cls)(params),
        ref_tf=lambda h: rule_tf(**keras_h), ref_torch=lambda h: rule_torch(**torch_h),
        cross=False, grad_scale=grad_scale,
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
               cross=False),
        _defaults("sgd", "SGD", "SGD", SGD_RULES, {"lr": 0.01}, {"lr": 0.001}, grad_scale=1.0),
    ]


def _adam_entries() -> list[OptimizerInfo]:
    adamw_rules = (KerasAdam, lambda **h: TorchAdam(decoupled=True, **h))
    return [
        _entry("adam", "tiny_eps", "Adam", "Adam", ADAM_RULES, {"lr": 0.01, **ADAM, **ADAM_TINY}),
        _entry("adam", "amsgrad", "Adam", "Adam", ADAM_RULES, {"lr": 0.01, **ADAM, **ADAM_TINY, "amsgrad": True}),
        _entry("adam", "betas", "Adam", "Adam", ADAM_RULES, {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, **ADAM_TINY}),
        _entry("adam", "weight_decay", "Adam", "Adam", ADAM_RULES, {"lr": 0.01, **ADAM, **ADAM_TINY, "wd": 0.1},
               cross=False),
        _defaults("adam", "Adam", "Adam", ADAM_RULES, {"lr": 1e-3, **ADAM, "eps": 1e-7}, {"lr": 1e-3, **ADAM, "eps": 1e-8}),
        _entry("adamw", "tiny_eps", "AdamW", "AdamW", adamw_rules, {"lr": 0.01, **ADAM, **ADAM_TINY, "wd": 0.1}),
        _entry("adamw", "amsgrad", "AdamW", "AdamW", adamw_rules,
               {"lr": 0.01, **ADAM, **ADAM_TINY, "wd": 0.1, "amsgrad": True}),
        _defaults("adamw", "AdamW", "AdamW", adamw_rules, {"lr": 1e-3, **ADAM, "eps": 1e-7, "wd": 0.004},
                  {"lr": 1e-3, **ADAM, "eps": 1e-8, "wd": 0.01}),
        _entry("adamax", "tiny_eps", "Adamax", "Adamax", (KerasAdamax, TorchAdamax), {"lr": 0.01, **ADAM, **TINY}),
        _defaults("adamax", "Adamax", "Adamax", (KerasAdamax, TorchAdamax), {"lr": 1e-3, **ADAM, "eps": 1e-7},
                  {"lr": 2e-3, **ADAM, "eps": 1e-8}),
        _entry("nadam", "momentum_decay_1", "Nadam", "NAdam", (KerasNadam, Nadam),
               {"lr": 0.01, **ADAM, "eps": 1e-7, "momentum_decay": 1.0}),
        _defaults("nadam", "Nadam", "NAdam", (KerasNadam, Nadam), {"lr": 1e-3, **ADAM, "eps": 1e-7, "momentum_decay": 1.0},
                  {"lr": 2e-3, **ADAM, "eps": 1e-8, "momentum_decay": 4e-3}, grad_scale=1.0),
    ]


def _adaptive_entries() -> list[OptimizerInfo]:
    return [
        _entry("rmsprop", "tiny_eps", "RMSprop", "RMSprop", RMS_RULES, {"lr": 0.01, "rho": 0.9, **TINY}),
        _entry("rmsprop", "centered", "RMSprop", "RMSprop", RMS_RULES, {"lr": 0.01, "rho": 0.9, "centered": True, **TINY}),
        _entry("rmsprop", "momentum", "RMSprop", "RMSprop", RMS_RULES, {"lr": 0.01, "rho": 0.9, "momentum": 0.9, **TINY}),
        _entry("rmsprop", "centered_momentum", "RMSprop", "RMSprop", RMS_RULES,
               {"lr": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True, **TINY}),
        _defaults("rmsprop", "RMSprop", "RMSprop", RMS_RULES, {"lr": 1e-3, "rho": 0.9, "eps": 1e-7},
                  {"lr": 1e-2, "rho": 0.99, "eps": 1e-8}),
        _entry("adagrad", "tiny_eps", "Adagrad", "Adagrad", (KerasAdagrad, TorchAdagrad),
               {"lr": 0.1, "init_acc": 0.1, **TINY}),
        _defaults("adagrad", "Adagrad", "Adagrad", (KerasAdagrad, TorchAdagrad), {"lr": 1e-3, "init_acc": 0.1, "eps": 1e-7},
                  {"lr": 1e-2, "init_acc": 0.0, "eps": 1e-10}),
        _entry("adadelta", "rho_eps", "Adadelta", "Adadelta", (Adadelta, Adadelta), {"lr": 1.0, "rho": 0.95, "eps": 1e-6}),
        _defaults("adadelta", "Adadelta", "Adadelta", (Adadelta, Adadelta), {"lr": 1e-3, "rho": 0.95, "eps": 1e-7},
                  {"lr": 1.0, "rho": 0.9, "eps": 1e-6}),
    ]


OPTIMIZER_DB: Registry[OptimizerInfo] = Registry(OptimizerInfo.REGISTRY,
                                                 _sgd_entries() + _adam_entries() + _adaptive_entries())


def by_id(opt_id: str) -> OptimizerInfo:
    """The entry with this id; KeyError names the ids that start alike."""
    return OPTIMIZER_DB.by_id(opt_id)
