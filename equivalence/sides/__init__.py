"""Sides: one adapter per framework x device, owning everything framework-specific (tensors in and out, calling,
VJPs, layouts, optimizer steps). Everything else in the suite speaks NumPy in the canonical (Keras) layout.

    from equivalence import sides
    s = sides.side("torch-cpu")            # or sides.side_for("torch", "cpu")
    grads, outputs = s.op_vjp(fn, args, kwargs, cotangent, wrt=(0,))

Building the registry imports no framework; a side imports its framework when a method runs, torch first.
An accelerator side exists everywhere: `unavailable()` says why it cannot run here.
"""
from __future__ import annotations

from .base import Side, Vjp
from .tf_side import TFSide
from .torch_side import TorchSide

SIDES: dict[str, Side] = {s.name: s for s in (TFSide("cpu"), TFSide("gpu"), TorchSide("cpu"), TorchSide("cuda"))}


def side(name: str) -> Side:
    """The side called `name` ('tf-cpu', 'tf-gpu', 'torch-cpu', 'torch-cuda')."""
    try:
        return SIDES[name]
    except KeyError:
        raise KeyError(f"no side {name!r}; sides: {sorted(SIDES)}") from None


def side_for(framework: str, device: str) -> Side:
    """The side of `framework` ('tf' | 'torch') on `device` ('cpu', TF: 'gpu', torch: 'cuda')."""
    return side(f"{framework}-{device}")


__all__ = ["SIDES", "Side", "TFSide", "TorchSide", "Vjp", "side", "side_for"]
