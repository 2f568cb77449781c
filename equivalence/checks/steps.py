"""The optimizer-step check: OPTIMIZER_DB configurations stepped a few times from one float32 start, on one device.

On the CPU: per-step updates (delta_t = p_t - p_{t-1}) of Keras and torch each against their framework's float64
rule stepped from the side's own p_{t-1} (`training.ref_updates_from`) under the per-element, per-optimizer
`training.update_bound`, and (cross configurations) each other under the
sum of both bounds. On an accelerator (torch): the updates there against torch's float64 rule under the scalar
`training.update_tolerance` (the rule the device check was measured with) and against torch on the CPU under
cross() of it (assert_device_agrees).
"""
from __future__ import annotations

import numpy as np

from ..compare import EquivalenceMismatch, compare, describe
from ..error_bounds import ElementBound
from ..sides import side_for
from ..training import ref_param_trajectory, ref_updates_from, rule_bound, update_tolerance, updates
from .axes import CPU
from .ops import assert_device_agrees


def _context(info, p0, grads) -> str:
    return "\n".join([describe("p0", p0), describe("grads", grads), f"  mapping: {info.mapping}",
                      "  rows are steps: update[t] = p[t+1] - p[t]"])


def update_checks(info, grads: np.ndarray, p0: np.ndarray) -> list:
    """The CPU comparisons (module docstring), as Comparisons: grads (steps, ...) float32, p0 float32."""
    runs = {name: (side_for(name, CPU).optimizer_trajectory(info, p0, grads), rule)
            for name, rule in (("tf", info.ref_tf), ("torch", info.ref_torch))}
    ctx = _context(info, p0, grads)
    got, bounds, checks = {}, {}, []
    for name, (trajectory, rule) in runs.items():
        ref = ref_updates_from(rule(info.hyper), np.asarray(trajectory, np.float64), grads)
        got[name], bounds[name] = updates(trajectory), rule_bound(lambda: rule(info.hyper), p0, grads)(trajectory)
        checks.append(compare(got[name], ref, bounds[name], what=f"{info.id} updates", label_a=name,
                              label_b=f"ref64_{'keras' if name == 'tf' else 'torch'}_rule", context=ctx))
    if info.cross:
        both = bounds["tf"].bound + bounds["torch"].bound
        tol = ElementBound(float(both.max()), 0.0, "sum of both sides' update bounds", bound=both)
        checks.append(compare(got["tf"], got["torch"], tol, what=f"{info.id} updates", label_a="tf", label_b="torch",
                              context=ctx))
    return checks


def _check_step_on_device(info, p0, grads, device: str) -> None:
    """torch's updates on `device` against torch's float64 rule and against torch on the CPU."""
    __tracebackhide__ = True
    got = updates(side_for("torch", device).optimizer_trajectory(info, p0, grads))
    cpu = updates(side_for("torch", CPU).optimizer_trajectory(info, p0, grads))
    ref = updates(ref_param_trajectory(info.ref_torch(info.hyper), p0, grads))
    p_max = float(np.abs(p0).max()) + float(np.abs(ref).sum(0).max())  # bound on |p| along the trajectory
    tol = update_tolerance(p_max, len(grads), info.ulps)
    assert_device_agrees(f"{info.id} updates on {device}", got, ref, cpu, tol, _context(info, p0, grads), device)


def check_step(info, p0: np.ndarray, grads: np.ndarray, device: str = CPU) -> None:
    """The optimizer-step verdict of one OPTIMIZER_DB configuration on `device` (module docstring)."""
    __tracebackhide__ = True
    if device != CPU:
        _check_step_on_device(info, p0, grads, device)
        return
    failed = [c.render() for c in update_checks(info, grads, p0) if not c.ok]
    if failed:
        raise EquivalenceMismatch("\n".join(failed))


__all__ = ["check_step", "update_checks"]
