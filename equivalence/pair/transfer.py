"""Layouts between a Keras model and a torch module, and copying weights across them.

Values: a torch value is brought into the Keras layout before it is compared: channels-first maps transposed
(NCHW -> NHWC, NCL -> NLC) where the shapes say so, a recurrent layer's sequence cut to its last step where Keras
returns only that, and features flattened from a channels-first map put back into Keras' (h, w, c) order
(catalogue entry 'flatten-order'). Weights: each matched pair converts through its kind's mapping table
(`layer_kinds.mapping`: Dense/Linear transpose, HWIO/OIHW, GRU gate order and bias split, LSTM bias_ih + bias_hh,
BatchNorm statistics, PReLU alphas), with the Dense-after-Flatten rows permuted (`weights.chw_index`).
"""
from __future__ import annotations

import numpy as np

from ..layer_kinds import KINDS
from ..layer_kinds import mapping as maps
from ..sides import pair_probe as probe
from ..weights import chw_index
from .structure import site


def flat_origins(keras_nodes) -> dict[str, tuple | None]:
    """Per Keras layer: (H, W, C) when its output is a Flatten of a rank-4 map (through elementwise layers)."""
    origin: dict[str, tuple | None] = {}
    for n in keras_nodes:
        if n.part == "activation":
            continue
        if n.kind == "flatten" and len(n.in_shape) == 4:
            origin[n.name] = tuple(n.in_shape[1:])
        elif (n.kind in probe.ELEMENTWISE or n.kind.startswith("activation:")) and n.sources:
            origin[n.name] = origin.get(n.sources[0])
        else:
            origin[n.name] = None
    return origin


def torch_flattens_channels_first(keras_flatten, torch_node, torch_layout: str) -> bool:
    """Whether torch's features after a Flatten come in (c, h, w) order: from the matched torch Flatten's input
    shape where there is one, else from the layout torch was fed in."""
    h, w, c = keras_flatten
    if torch_node is not None and len(torch_node.in_shape) == 4 and (c, h, w) != (h, w, c):
        if tuple(torch_node.in_shape[1:]) == (c, h, w):
            return True
        if tuple(torch_node.in_shape[1:]) == (h, w, c):
            return False
    return torch_layout == "channels_first"  # no torch Flatten module, or a cube: the layout torch was fed in


def to_keras_layout(value: np.ndarray, keras_shape: tuple, channels_first: bool, flat=None) -> np.ndarray:
    """A torch value in the Keras layout (module docstring); `flat`: (H, W, C) of a channels-first flatten."""
    v = np.asarray(value)
    want = tuple(keras_shape[1:])
    if v.ndim in (3, 4):
        moved = np.moveaxis(v, 1, -1)
        if tuple(moved.shape[1:]) == want and (channels_first or tuple(v.shape[1:]) != want):
            return np.ascontiguousarray(moved)
        if v.ndim == 3 and len(keras_shape) == 2 and v.shape[-1] == want[-1]:
            return v[:, -1]  # a recurrent layer's sequence; Keras returns the last step
    if flat is not None and v.ndim == 2:
        return v[:, np.argsort(chw_index(flat))]
    return v


def from_keras_layout(value: np.ndarray, torch_shape: tuple) -> np.ndarray:
    """A Keras-layout array (a cotangent of the output) in the torch output's layout."""
    v = np.asarray(value)
    if v.shape == tuple(torch_shape):
        return v
    moved = np.moveaxis(v, -1, 1)
    if moved.shape == tuple(torch_shape):
        return np.ascontiguousarray(moved)
    return v.reshape(torch_shape)


_QKV = ("query", "key", "value")


def _attention_to_torch(w: dict) -> dict:
    """Keras MultiHeadAttention -> torch MultiheadAttention: the query/key/value kernels (d, heads, head_dim) as
    rows of one packed in_proj_weight (3 * heads * head_dim, d), their biases packed alike, the output kernel
    (heads, head_dim, d) as out_proj.weight (d, heads * head_dim)."""
    out = {"in_proj_weight": np.concatenate([w[f"{p}/kernel"].reshape(w[f"{p}/kernel"].shape[0], -1).T
                                             for p in _QKV])}
    if all(f"{p}/bias" in w for p in _QKV):
        out["in_proj_bias"] = np.concatenate([w[f"{p}/bias"].reshape(-1) for p in _QKV])
    o = w["attention_output/kernel"]
    out["out_proj.weight"] = o.reshape(-1, o.shape[-1]).T
    if "attention_output/bias" in w:
        out["out_proj.bias"] = w["attention_output/bias"]
    return out


def _attention_to_keras(t: dict, shapes: dict) -> dict:
    """The inverse of `_attention_to_torch` onto the Keras shapes (ValueError where they do not fit)."""
    n = t["in_proj_weight"].shape[0] // 3
    out = {}
    for i, p in enumerate(_QKV):
        rows = slice(i * n, (i + 1) * n)
        out[f"{p}/kernel"] = t["in_proj_weight"][rows].T.reshape(shapes[f"{p}/kernel"])
        if "in_proj_bias" in t and f"{p}/bias" in shapes:
            out[f"{p}/bias"] = t["in_proj_bias"][rows].reshape(shapes[f"{p}/bias"])
    out["attention_output/kernel"] = t["out_proj.weight"].T.reshape(shapes["attention_output/kernel"])
    if "out_proj.bias" in t and "attention_output/bias" in shapes:
        out["attention_output/bias"] = t["out_proj.bias"].reshape(shapes["attention_output/bias"])
    return out


def has_mapping(kind: str) -> bool:
    return kind == "attention" or (kind in KINDS and bool(KINDS[kind].torch_params))


def to_torch(kind: str, keras_arrays: dict, flat_perm=None) -> dict:
    if kind == "attention":
        return _attention_to_torch(keras_arrays)
    return maps.to_torch(KINDS[kind].torch_params, keras_arrays,
                         site({k: v.shape for k, v in keras_arrays.items()}, flat_perm))


def to_keras(kind: str, torch_arrays: dict, keras_shapes: dict, flat_perm=None) -> dict:
    if kind == "attention":
        return _attention_to_keras(torch_arrays, keras_shapes)
    return maps.from_torch(KINDS[kind].torch_params, torch_arrays, site(keras_shapes, flat_perm))


def grads_to_keras(kind: str, torch_grads: dict, keras_shapes: dict, flat_perm=None) -> dict:
    """Gradients map like weights (permutations and transposes), except LSTM's canonical bias = bias_ih + bias_hh,
    whose gradient is either one's: bias_hh's is zeroed before the sum."""
    g = dict(torch_grads)
    if kind == "lstm":
        g = {k: (np.zeros_like(v) if k.startswith("bias_hh") else v) for k, v in g.items()}
    return to_keras(kind, g, keras_shapes, flat_perm)


def transfer(keras_model, torch_module, pairs, perms: dict, direction: str) -> None:
    """Copy the weights of every parameterised pair from one model into the other (`direction`:
    'keras_to_torch' | 'torch_to_keras'); `perms`: Keras layer name -> Flatten permutation of its rows."""
    for k, t in pairs:
        if not k.params:
            continue
        perm = perms.get(k.name)
        if direction == "keras_to_torch":
            arrays = to_torch(k.kind, probe.keras_weights(keras_model, k.name), perm)
            probe.set_torch_tensors(torch_module, t.name, {n: a for n, a in arrays.items() if n in t.params})
        else:
            arrays = to_keras(k.kind, probe.torch_tensors_at(torch_module, t.name), k.params, perm)
            probe.set_keras_weights(keras_model, k.name, arrays)


__all__ = ["flat_origins", "from_keras_layout", "grads_to_keras", "to_keras", "to_keras_layout", "to_torch",
           "torch_flattens_channels_first", "transfer"]
