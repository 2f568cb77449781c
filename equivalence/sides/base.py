"""The Side interface: everything framework- and device-specific the checks need, behind one object per side.

A check speaks NumPy and the canonical layout (Keras': channels-last feature maps, Keras weight layouts); a side
converts in and out, runs, differentiates and steps. No framework is imported until a method runs (through
`runtime`, torch before TF), so the registry can be built at collection time.
"""
from __future__ import annotations

import abc
from typing import Any, NamedTuple

import numpy as np


class Vjp(NamedTuple):
    """What `Side.op_vjp` returns: one gradient per `wrt` position (None where the output does not depend on that
    argument) and the outputs the cotangents applied to, all NumPy."""

    grads: list
    outputs: tuple


def as_outputs(out) -> tuple:
    """An op's result as a tuple of outputs (ops return a tensor, a tuple, a list or a torch named tuple)."""
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


class Side(abc.ABC):
    """One framework on one device. Subclasses set `framework`, `package` (its module) and `devices` (the first is
    the CPU)."""

    framework: str
    package: str
    devices: tuple[str, ...]

    def __init__(self, device: str):
        if device not in self.devices:
            raise ValueError(f"{self.framework} side: device {device!r} is not one of {self.devices}")
        self.device = device

    @property
    def name(self) -> str:
        return f"{self.framework}-{self.device}"

    @property
    def accelerated(self) -> bool:
        return self.device != self.devices[0]

    def __repr__(self) -> str:
        return f"<side {self.name}>"

    def unavailable(self) -> str | None:
        """None when this side can run here, else why not (shown in skips): devices' reason on an accelerator."""
        from .. import runtime, devices

        if self.accelerated:
            return {"tf": devices.tf_gpu_reason, "torch": devices.torch_gpu_reason}[self.framework]()
        return None if runtime.has_module(self.package) else f"{self.package} not installed"

    # ---------------------------------------------------------------- tensors in and out
    @abc.abstractmethod
    def tensor(self, arr, dtype=None) -> Any:
        """A tensor on this side's device with the array's dtype (bfloat16 included), or `dtype` (a dtype name or
        the framework's dtype) when given."""

    def numpy(self, x) -> np.ndarray:
        """A NumPy copy of a tensor of this side (bfloat16 widened to float32, which holds it exactly)."""
        from ..compare import to_numpy

        return to_numpy(x)

    # ---------------------------------------------------------------- calling and differentiating ops
    @abc.abstractmethod
    def call(self, fn, *args, **kwargs) -> tuple:
        """fn(*args, **kwargs) on this device, NumPy positional arguments converted with `tensor` (kwargs are the
        op's settings and pass as given); returns the outputs as a tuple of tensors."""

    @abc.abstractmethod
    def op_vjp(self, fn, args, kwargs, cotangents, wrt, *, dtype=None) -> Vjp:
        """Gradients of fn(*args, **kwargs) w.r.t. the arguments at positions `wrt`.

        cotangents: an array: d sum(cotangents * first output) / d args, the product and sum formed in float64
            (the op's float32 output is widened first, so the cotangent itself is not rounded to float32);
            None: d sum(every floating output) / d args, the cotangent one in each output's own dtype.
        dtype: cast the floating arguments to it first (the float64 runs of a float32 op).
        """

    def grad(self, fn, x):
        """d sum(fn(x)) / dx for one array x (a scalar loss: its gradient), as NumPy; `op_vjp`'s common case."""
        return self.op_vjp(fn, (x,), {}, None, (0,)).grads[0]

    # ---------------------------------------------------------------- layouts
    @abc.abstractmethod
    def to_layout(self, x: np.ndarray) -> np.ndarray:
        """Canonical (channels-last) activations -> this side's layout."""

    @abc.abstractmethod
    def from_layout(self, y: np.ndarray, model=None) -> np.ndarray:
        """This side's activations -> canonical layout; `model` (a spec-built model) says how its output was ordered."""

    # ---------------------------------------------------------------- spec-built models and optimizers
    @abc.abstractmethod
    def forward(self, model, spec, x: np.ndarray, training: bool = False) -> np.ndarray:
        """This side's spec-built `model` (on this side's device) on canonical input `x` (int32 ids or floats),
        in inference or training mode, without recording gradients; the output in canonical layout."""

    @abc.abstractmethod
    def model_vjp(self, pair, x: np.ndarray, cotangent: np.ndarray, training: bool) -> tuple[np.ndarray, dict]:
        """d sum(cotangent * model(x)) / d(x, trainable weights) of this side's model of `pair` (canonical input,
        cotangent and weight layouts); returns (input gradient, {layer: {weight: gradient}})."""

    @abc.abstractmethod
    def optimizer_trajectory(self, info, p0: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """A float32 parameter `p0` stepped by OptimizerInfo `info`'s optimizer with the given gradients, one step
        each; the values after every step as float64, shape (steps + 1, *p0.shape)."""

    @abc.abstractmethod
    def param_grads(self, model, x: np.ndarray, loss, *, training: bool = True, dtype=None) -> dict:
        """d loss(model(x)) / d(trainable parameters) on canonical input x, as NumPy by parameter name; nothing is
        stepped (a training-mode forward still moves running statistics)."""

    @abc.abstractmethod
    def train_step(self, model, x: np.ndarray, loss, optimizer, *, training: bool = True, dtype=None) -> dict:
        """One optimizer step of `model` on canonical input x: loss(output) -> scalar, its gradient w.r.t. the
        trainable parameters, `optimizer` (built on them) applies it. Returns the gradients as NumPy by name."""
