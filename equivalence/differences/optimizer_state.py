"""Known differences: changing an optimizer's learning rate in the middle of training, each entry right below its
witness.

One float32 parameter p = 1 with gradient 1 at every step. Adam's first step moves p by lr whatever the gradient
(m_hat / sqrt(v_hat) = 1), so a step's size shows the learning rate it used and whether the moments and the step
count (bias correction) survived the change. Expected floats are the observed values rounded to 6 decimals.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import ROUNDED, attempt, rounded

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _r(x) -> float:
    """The first value of x as a float rounded to 6 decimals (hence `atol=ROUNDED`)."""
    return rounded(np.asarray(x).reshape(-1)[0])


def _keras_lr_change() -> dict:
    keras, tf = runtime.keras(), runtime.tf()
    opt, var = keras.optimizers.Adam(learning_rate=0.1), keras.Variable(np.array([1.0], np.float32))

    def step():
        opt.apply_gradients([(tf.constant([1.0]), var)])
        return _r(var.numpy())

    first = step()
    opt.learning_rate.assign(0.01)  # the documented way: the Variable the update reads
    second = step()
    opt.learning_rate = 0.001  # attribute assignment also assigns the Variable
    third = step()
    return {"p after each step": [first, second, third], "iterations": int(opt.iterations.numpy())}


def _torch_lr_change() -> dict:
    torch = runtime.torch()
    p = torch.nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.Adam([p], lr=0.1)

    def step():
        p.grad = torch.tensor([1.0])
        opt.step()
        return _r(p.detach().numpy())

    first = step()
    for group in opt.param_groups:  # the documented way: each group's 'lr'
        group["lr"] = 0.01
    second = step()
    opt.defaults["lr"] = 0.001  # defaults only seed groups added later: this step still uses 0.01
    third = step()
    return {"p after each step": [first, second, third], "step": int(opt.state[p]["step"])}


ENTRIES.add(KnownDifference(
    id="lr-change-keeps-adam-state",
    area="optimizers",
    title="Changing Adam's learning rate mid-training keeps the moments and the step count on both sides; setting "
          "torch's opt.defaults['lr'] changes nothing",
    tf="optimizer.learning_rate.assign(0.01), or optimizer.learning_rate = 0.001, writes the learning-rate Variable "
       "that update_step reads: the next step uses it, with m, v and iterations (bias correction) kept: "
       "1 -> 0.9 -> 0.89 -> 0.889.",
    torch="param_groups[i]['lr'] = 0.01 is read by the next step(); state (exp_avg, exp_avg_sq, step) is kept: "
          "1 -> 0.9 -> 0.89. optimizer.defaults['lr'] = 0.001 only applies to param groups added later, so the "
          "third step still moves 0.01 (0.88).",
    witness=lambda: {"tf": _keras_lr_change(), "torch": _torch_lr_change()},
    expected={"tf": {"p after each step": [0.900001, 0.890001, 0.889001], "iterations": 3},  # eps 1e-7 outside
              # the root, scaled by the bias correction: each step ~1e-6 shorter than lr (adam-epsilon-placement)
              "torch": {"p after each step": [0.9, 0.89, 0.88], "step": 3}},
    snippet_tf="opt.learning_rate.assign(0.01)  # or opt.learning_rate = 0.01",
    snippet_torch="for g in opt.param_groups: g['lr'] = 0.01  # not opt.defaults['lr']",
    evidence="keras/src/optimizers/base_optimizer.py (learning_rate property setter assigns the Variable); "
             "torch/optim/optimizer.py (defaults fill missing keys of add_param_group only; step reads "
             "group['lr']); torch 'How to adjust learning rate' docs",
    mapping="change param_groups' 'lr' on the torch side where Keras assigns learning_rate",
    applies_to=("optimizer:adam",),
    atol=ROUNDED,
))


def _keras_schedule_override() -> dict:
    keras = runtime.keras()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    scheduled = keras.optimizers.SGD(learning_rate=schedule)

    def set_float():
        scheduled.learning_rate = 0.01

    constant, var = keras.optimizers.SGD(learning_rate=0.1), keras.Variable(np.array([1.0], np.float32))

    def set_schedule():  # the rate read before and after one step: 0.1 * 0.5 ** iterations once the schedule rules
        constant.learning_rate = schedule
        before = _r(constant.learning_rate)
        constant.apply_gradients([(runtime.tf().constant([1.0]), var)])
        return [before, _r(constant.learning_rate)]

    return {"float onto a schedule": attempt(set_float), "schedule onto a float, lr before/after a step":
            attempt(set_schedule)}


def _torch_schedule_override() -> dict:
    torch = runtime.torch()
    p = torch.nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.SGD([p], lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for group in opt.param_groups:
        group["lr"] = 10.0  # a manual edit while a scheduler runs
    p.grad = torch.tensor([1.0])
    opt.step()
    scheduler.step()
    return {"lr after the edit and one StepLR(gamma=0.5) step": opt.param_groups[0]["lr"],
            "scheduler base_lrs": list(scheduler.base_lrs)}


ENTRIES.add(KnownDifference(
    id="lr-change-under-schedule",
    area="optimizers",
    title="A learning rate set by hand while a schedule runs: Keras refuses a float over a schedule; torch's "
          "StepLR goes on from the edited value",
    tf="An optimizer built with a LearningRateSchedule raises TypeError when a float is assigned to "
       "learning_rate (the schedule owns it); assigning a schedule to an optimizer built with a float is "
       "accepted, and from then on the schedule gives the rate (0.1, then 0.05 after one step).",
    torch="A scheduler multiplies the group's CURRENT lr (chainable form): set to 10 by hand, one StepLR "
          "(gamma=0.5) step gives 5, while base_lrs still holds the initial 1.0.",
    witness=lambda: {"tf": _keras_schedule_override(), "torch": _torch_schedule_override()},
    expected={"tf": {"float onto a schedule": "raises TypeError",
                     "schedule onto a float, lr before/after a step": [0.1, 0.05]},
              "torch": {"lr after the edit and one StepLR(gamma=0.5) step": 5.0, "scheduler base_lrs": [1.0]}},
    snippet_tf="SGD(learning_rate=ExponentialDecay(...)).learning_rate = 0.01  # TypeError",
    snippet_torch="opt.param_groups[0]['lr'] = 10.; opt.step(); StepLR(opt, 1, .5).step()  # lr 5.0",
    evidence="keras/src/optimizers/base_optimizer.py (learning_rate setter: 'This optimizer was created with a "
             "LearningRateSchedule'); torch/optim/lr_scheduler.py StepLR.get_lr (group['lr'] * gamma)",
    mapping="change a schedule, not the rate, on the Keras side; on the torch side edit base_lrs or rebuild the "
            "scheduler",
    applies_to=("optimizer:sgd",),
    atol=0.0,
))
