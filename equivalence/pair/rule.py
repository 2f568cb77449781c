"""The suite's model tolerance rule (`model_tolerance`), applied at every boundary of a user's Keras model.

At a boundary after layers 1..b (in the Keras model's order) the float32 result may be off by

    tolerance(float32, depth=D_b, scale=S_b),   D_b = (sum over l <= b of sqrt(K_l))**2

where K_l is the accumulation depth of layer l (its kind's `depth` hook in `layer_kinds`, through a neutral
`LayerSpec` read off the Keras layer: Dense fan-in, conv kh*kw*C_in/groups, BatchNorm batch*H*W, softmax C, ...;
multi-head attention: its five stages; a layer of a kind the suite does not know counts its kernel's fan-in,
else 1), and S_b the error scale: max |value|
over the input and every boundary so far (pre-activations included), raised by each layer's `scale` hook
(BatchNorm/LayerNorm: times max|gamma|/sqrt(var + eps), 'norm-affine-cancellation'; ELU/SELU: alpha,
'elu-selu-near-zero'). TF against torch, neither being the float64 reference, is held to `cross()` of it.
Gradients: the forward depth times the batch*pixels each weight gradient sums over (checks.models.grad_tolerance),
scaled by the layer's largest gradient.
"""
from __future__ import annotations

import math

import numpy as np

from ..layer_kinds import KINDS
from ..layer_kinds.activation import ACTIVATIONS
from ..spec import LayerSpec, SpecError
from ..tolerances import Tolerance, cross, tolerance


def _int1(v):
    return int(v[0]) if isinstance(v, (list, tuple)) and len(v) == 1 else (list(v) if isinstance(v, tuple) else v)


def _act(cfg) -> str:
    a = cfg.get("activation", "linear")
    if a == "gelu" and cfg.get("approximate"):
        a = "gelu_tanh"
    return a if a in ACTIVATIONS else "linear"


def neutral(node) -> LayerSpec | None:
    """The suite's LayerSpec for a Keras layer Node (None: a kind or setting the spec cannot express)."""
    c, k = node.config, node.kind
    try:
        if k == "dense":
            return LayerSpec(k, dict(units=c["units"], activation=_act(c), use_bias=c.get("use_bias", True)), node.name)
        if k in ("conv1d", "conv2d"):
            return LayerSpec(k, dict(filters=c["filters"], kernel_size=_int1(c["kernel_size"]),
                                     strides=_int1(c.get("strides", 1)), padding=c.get("padding", "valid"),
                                     dilation=_int1(c.get("dilation_rate", 1)), groups=c.get("groups", 1),
                                     activation=_act(c), use_bias=c.get("use_bias", True)), node.name)
        if k == "batch_norm":
            return LayerSpec(k, dict(momentum=c["momentum"], epsilon=c["epsilon"]), node.name)
        if k == "layer_norm":
            return LayerSpec(k, dict(epsilon=c["epsilon"]), node.name)
        if k in ("max_pool2d", "avg_pool2d"):
            return LayerSpec(k, dict(pool_size=_int1(c["pool_size"]), strides=_int1(c.get("strides")),
                                     padding=c.get("padding", "valid")), node.name)
        if k in ("lstm", "gru"):
            return LayerSpec(k, dict(units=c["units"], return_sequences=c.get("return_sequences", False)), node.name)
        if k.startswith("activation:") and k[11:] in ACTIVATIONS:
            fn = "gelu_tanh" if k == "activation:gelu" and c.get("approximate") else k[11:]
            return LayerSpec("activation", dict(fn=fn), node.name)
        if k in ("flatten", "global_avg_pool2d"):
            return LayerSpec(k, {}, node.name)
    except (SpecError, KeyError, TypeError):
        return None
    return None


def layer_depth(node, batch: int) -> int:
    """K_l of one Keras node (module docstring); a fused activation node adds nothing (its layer counted it)."""
    if node.part == "activation":
        return 1
    spec = neutral(node)
    if spec is not None:
        try:
            return max(int(KINDS[spec.kind].depth(spec, [tuple(node.in_shape[1:])], batch)), 1)
        except (SpecError, KeyError, TypeError, ValueError, IndexError):
            pass
    if node.kind == "attention" and len(node.in_shape) == 3:
        # projections (d terms), scores (key_dim), softmax sum and weighted values (T each), output (heads*value_dim),
        # one after the other: their sqrt(K) add
        c, (t, d) = node.config, node.in_shape[1:]
        kd = c.get("key_dim") or d
        stages = (d, kd, t, t, c.get("num_heads", 1) * (c.get("value_dim") or kd))
        return int(math.ceil(sum(math.sqrt(k) for k in stages) ** 2))
    kernel = node.params.get("kernel")
    return max(math.prod(kernel[:-1]), 1) if kernel else max(len(node.sources), 1)


def layer_scale(node, e_in: float, x_in, weights: dict, training: bool) -> float:
    """The error scale after a node, from e_in before it (the kind's `scale` hook where the suite knows it)."""
    spec = neutral(node)
    if spec is None or x_in is None:
        return e_in
    try:
        w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
        return float(KINDS[spec.kind].scale(spec, e_in, np.asarray(x_in, np.float64), w, training))
    except (SpecError, KeyError, TypeError, ValueError):
        return e_in


def boundary_tolerance(dtype: str, depth: int, scale: float, layers: int) -> Tolerance:
    return cross(tolerance(dtype, depth=depth, scale=scale,
                           reason=f"model rule: {dtype} depth=(sum sqrt K_l)^2={depth} over {layers} layer(s), "
                                  f"error scale S={scale:.3g}"))


def grad_tolerance(dtype: str, layer_grads: dict, depth: int, batch_pixels: int) -> Tolerance:
    """One layer's weight gradients: depth D*batch*pixels, scaled by the largest gradient of the LAYER, the size of
    the terms each of its gradients sums (a gradient that cancels to ~0, as an attention key bias's or a bias
    before a training-mode BatchNorm, is still a sum of such terms)."""
    d = depth * batch_pixels
    scale = max((float(np.max(np.abs(g))) for g in layer_grads.values() if np.size(g)), default=1.0)
    return cross(tolerance(dtype, depth=d, scale=scale,
                           reason=f"gradient rule: depth=D*batch*pixels={d}, layer gradient scale {scale:.3g}"))


__all__ = ["boundary_tolerance", "grad_tolerance", "layer_depth", "layer_scale", "neutral"]
