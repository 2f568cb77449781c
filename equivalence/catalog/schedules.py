"""SCHEDULE_DB: learning-rate schedules both APIs have, mapped onto each other, with a float64 reference.

Keras schedules are functions of the optimizer iteration; torch schedulers change the lr when `.step()` is called
(catalogue: lr-schedule-step-unit). Here torch's scheduler is stepped once per optimizer step, so iteration t
means the same on both sides.
"""
from __future__ import annotations

import math

from .. import runtime
from ..registry import Registry
from .traininfo import ScheduleInfo

LR = 0.1


def _ks():
    return runtime.keras().optimizers.schedules


def _ts():
    return runtime.torch().optim.lr_scheduler


def _cosine_ref(t, total=10, floor=0.1):
    eta_min = LR * floor
    return eta_min + (LR - eta_min) * (1 + math.cos(math.pi * min(t, total) / total)) / 2


SCHEDULE_DB: Registry[ScheduleInfo] = Registry(ScheduleInfo.REGISTRY, [
    ScheduleInfo("step", "", lambda: _ks().ExponentialDecay(LR, decay_steps=3, decay_rate=0.5, staircase=True),
                 lambda opt: _ts().StepLR(opt, step_size=3, gamma=0.5), lambda t: LR * 0.5 ** (t // 3), LR,
                 mapping="ExponentialDecay(staircase=True, decay_steps=s, decay_rate=g) == StepLR(step_size=s, gamma=g)"),
    ScheduleInfo("exponential", "per_step", lambda: _ks().ExponentialDecay(LR, decay_steps=1, decay_rate=0.9),
                 lambda opt: _ts().ExponentialLR(opt, gamma=0.9), lambda t: LR * 0.9**t, LR,
                 mapping="ExponentialDecay(decay_steps=1, decay_rate=g) == ExponentialLR(gamma=g)"),
    ScheduleInfo("exponential", "continuous", lambda: _ks().ExponentialDecay(LR, decay_steps=4, decay_rate=0.5),
                 lambda opt: _ts().ExponentialLR(opt, gamma=0.5 ** 0.25), lambda t: LR * 0.5 ** (t / 4), LR,
                 mapping="ExponentialDecay(decay_steps=s, decay_rate=r) == ExponentialLR(gamma=r**(1/s))"),
    ScheduleInfo("cosine", "eta_min", lambda: _ks().CosineDecay(LR, decay_steps=10, alpha=0.1),
                 lambda opt: _ts().CosineAnnealingLR(opt, T_max=10, eta_min=LR * 0.1), _cosine_ref, LR, steps=11,
                 mapping="CosineDecay(decay_steps=T, alpha=a) == CosineAnnealingLR(T_max=T, eta_min=a*lr) for t <= T "
                         "(beyond T Keras stays at a*lr, torch's annealing rises again)"),
    ScheduleInfo("piecewise", "", lambda: _ks().PiecewiseConstantDecay([3, 6], [LR, LR / 2, LR / 4]),
                 lambda opt: _ts().MultiStepLR(opt, milestones=[4, 7], gamma=0.5),
                 lambda t: LR * 0.5 ** ((t > 3) + (t > 6)), LR,
                 mapping="PiecewiseConstantDecay(boundaries=b) keeps the old value AT step b: torch milestones = b + 1"),
    ScheduleInfo("polynomial", "linear", lambda: _ks().PolynomialDecay(LR, decay_steps=8, end_learning_rate=0.0),
                 lambda opt: _ts().PolynomialLR(opt, total_iters=8, power=1.0), lambda t: LR * (1 - min(t, 8) / 8),
                 LR, steps=10, mapping="PolynomialDecay(decay_steps=T, end_learning_rate=0) == PolynomialLR(total_iters=T)"),
])
