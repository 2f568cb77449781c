"""One canonical, framework-neutral weight set per spec, and its conversions into and out of both frameworks.

Canonical layouts are Keras' (channels-last): Dense kernel (in, out); Conv kernel (k..., in/groups, out);
BatchNorm gamma/beta/moving_mean/moving_variance; LSTM kernel (in, 4u) / recurrent_kernel (u, 4u) in gate order
i, f, c, o with ONE bias (4u); GRU (reset_after) kernel (in, 3u) in gate order z, r, h with bias (2, 3u) = (input
bias, recurrent bias). The torch side gets: transposed Linear weights (out, in); OIHW / OIL conv weights; LSTM
bias_ih = bias, bias_hh = 0 (reading back sums them); GRU gates reordered to r, z, n; and, for a Dense fed by a
Flatten of an NHWC map, the kernel rows permuted from (h, w, c) to torch's (c, h, w) flatten order.
"""
from __future__ import annotations

import math

import numpy as np

from .spec import INPUT, ModelSpec, SpecError

Weights = dict[str, dict[str, np.ndarray]]
GRU_TO_TORCH = (1, 0, 2)  # Keras gate blocks (z, r, h) -> torch (r, z, n)


class WeightError(ValueError):
    """A weight set does not fit its spec; the message names the layer, the parameter and both shapes."""


def param_shapes(spec: ModelSpec) -> dict[str, dict[str, tuple[int, ...]]]:
    """Canonical parameter shapes per layer (layers without parameters are absent)."""
    out = {}
    for l in spec.layers:
        x, p = spec.shapes[spec.sources(l)[0]], l.params
        if l.kind == "dense":
            out[l.name] = {"kernel": (x[-1], p["units"])} | ({"bias": (p["units"],)} if p["use_bias"] else {})
        elif l.kind in ("conv1d", "conv2d"):
            ks = (p["kernel_size"],) if l.kind == "conv1d" else _pair(p["kernel_size"])
            out[l.name] = {"kernel": (*ks, x[-1] // p["groups"], p["filters"])}
            out[l.name] |= {"bias": (p["filters"],)} if p["use_bias"] else {}
        elif l.kind == "batch_norm":
            out[l.name] = {k: (x[-1],) for k in ("gamma", "beta", "moving_mean", "moving_variance")}
        elif l.kind == "layer_norm":
            out[l.name] = {"gamma": (x[-1],), "beta": (x[-1],)}
        elif l.kind == "embedding":
            out[l.name] = {"embeddings": (p["input_dim"], p["output_dim"])}
        elif l.kind in ("lstm", "gru"):
            g, u = (4 if l.kind == "lstm" else 3), p["units"]
            out[l.name] = {"kernel": (x[-1], g * u), "recurrent_kernel": (u, g * u),
                           "bias": (g * u,) if l.kind == "lstm" else (2, g * u)}
    return out


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def param_count(spec: ModelSpec, *, trainable_only: bool = False) -> int:
    """Number of scalars in the canonical weights (BatchNorm moving statistics excluded with trainable_only)."""
    skip = ("moving_mean", "moving_variance") if trainable_only else ()
    return sum(math.prod(s) for ps in param_shapes(spec).values() for k, s in ps.items() if k not in skip)


def init_weights(spec: ModelSpec, seed: int) -> Weights:
    """Deterministic float32 weights: Glorot-uniform kernels, and small NONZERO biases/statistics (so a dropped
    or misplaced bias, or a swapped moving mean/variance, changes the output)."""
    rng = np.random.default_rng(seed)
    w: Weights = {}
    for name, shapes in param_shapes(spec).items():
        w[name] = {}
        for pname, shape in shapes.items():
            if pname in ("kernel", "recurrent_kernel", "embeddings"):
                fan_in = math.prod(shape[:-1]) if pname != "embeddings" else shape[-1]
                fan_out = shape[-1] if pname == "embeddings" else math.prod(shape[:-2]) * shape[-1]
                lim = math.sqrt(6.0 / (fan_in + fan_out))
                arr = rng.uniform(-lim, lim, shape)
            elif pname in ("gamma", "moving_variance"):
                arr = rng.uniform(0.5, 1.5, shape)
            else:  # bias, beta, moving_mean
                arr = rng.uniform(-0.2, 0.2, shape)
            w[name][pname] = arr.astype(np.float32)
    return w


def check_weights(spec: ModelSpec, w: Weights) -> None:
    """Raise WeightError naming each missing/extra layer or parameter and each wrong shape."""
    want = param_shapes(spec)
    problems = [f"missing layer {n!r}" for n in want if n not in w]
    problems += [f"unexpected layer {n!r} (no parameters in the spec)" for n in w if n not in want]
    for n, shapes in want.items():
        got = w.get(n, {})
        problems += [f"{n}.{p}: missing" for p in shapes if p not in got]
        problems += [f"{n}.{p}: unexpected parameter" for p in got if p not in shapes]
        problems += [f"{n}.{p}: shape {np.shape(got[p])}, but the spec needs {s}" for p, s in shapes.items()
                     if p in got and tuple(np.shape(got[p])) != s]
    if problems:
        raise WeightError(f"weights do not fit model {spec.name!r}: " + "; ".join(problems))


def digest(w: Weights) -> str:
    """sha256 over layer names, parameter names, shapes, dtypes and bytes (in sorted order): a weight fingerprint."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(w):
        for pname in sorted(w[name]):
            arr = np.ascontiguousarray(w[name][pname])
            h.update(f"{name}.{pname}:{arr.shape}:{arr.dtype.str};".encode())
            h.update(arr.tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------- torch layout
def flatten_origin(spec: ModelSpec, name: str) -> tuple[int, int, int] | None:
    """(H, W, C) when node `name` is, in torch, a Flatten of an NCHW map (features in c,h,w order), possibly
    passed through elementwise layers; None when its torch features are already in canonical order."""
    if name == INPUT:
        return None
    l = spec.layer_by_name(name)
    if l.kind == "flatten":
        src = spec.shapes[spec.sources(l)[0]]
        return tuple(src) if len(src) == 3 else None
    if l.kind in ("dropout", "activation"):
        return flatten_origin(spec, spec.sources(l)[0])
    return None


def chw_index(hwc: tuple[int, int, int]) -> np.ndarray:
    """torch_flat = canonical_flat[chw_index]: position j of torch's (c,h,w) flatten holds canonical (h,w,c) index."""
    h, w, c = hwc
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()


def _to_torch_layer(spec: ModelSpec, name: str, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    l = spec.layer_by_name(name)
    if l.kind == "dense":
        k = w["kernel"]
        origin = flatten_origin(spec, spec.sources(l)[0])
        if origin is not None:
            k = k[chw_index(origin)]
        return {"weight": k.T} | ({"bias": w["bias"]} if "bias" in w else {})
    if l.kind in ("conv1d", "conv2d"):
        axes = (2, 1, 0) if l.kind == "conv1d" else (3, 2, 0, 1)
        return {"weight": w["kernel"].transpose(axes)} | ({"bias": w["bias"]} if "bias" in w else {})
    if l.kind == "batch_norm":
        return {"weight": w["gamma"], "bias": w["beta"], "running_mean": w["moving_mean"],
                "running_var": w["moving_variance"]}
    if l.kind == "layer_norm":
        return {"weight": w["gamma"], "bias": w["beta"]}
    if l.kind == "embedding":
        return {"weight": w["embeddings"]}
    if l.kind == "lstm":
        return {"weight_ih_l0": w["kernel"].T, "weight_hh_l0": w["recurrent_kernel"].T,
                "bias_ih_l0": w["bias"], "bias_hh_l0": np.zeros_like(w["bias"])}
    if l.kind == "gru":
        u = l["units"]
        perm = np.concatenate([np.arange(g * u, (g + 1) * u) for g in GRU_TO_TORCH])
        return {"weight_ih_l0": w["kernel"][:, perm].T, "weight_hh_l0": w["recurrent_kernel"][:, perm].T,
                "bias_ih_l0": w["bias"][0, perm], "bias_hh_l0": w["bias"][1, perm]}
    raise SpecError(f"layer {l.label} has no torch weight mapping")  # unreachable for a valid spec


def _from_torch_layer(spec: ModelSpec, name: str, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    l = spec.layer_by_name(name)
    if l.kind == "dense":
        k = t["weight"].T
        origin = flatten_origin(spec, spec.sources(l)[0])
        if origin is not None:
            k = k[np.argsort(chw_index(origin))]
        return {"kernel": k} | ({"bias": t["bias"]} if "bias" in t else {})
    if l.kind in ("conv1d", "conv2d"):
        axes = (2, 1, 0) if l.kind == "conv1d" else (2, 3, 1, 0)
        return {"kernel": t["weight"].transpose(axes)} | ({"bias": t["bias"]} if "bias" in t else {})
    if l.kind == "batch_norm":
        return {"gamma": t["weight"], "beta": t["bias"], "moving_mean": t["running_mean"],
                "moving_variance": t["running_var"]}
    if l.kind == "layer_norm":
        return {"gamma": t["weight"], "beta": t["bias"]}
    if l.kind == "embedding":
        return {"embeddings": t["weight"]}
    if l.kind == "lstm":  # Keras has one bias: torch's two add up (exact when bias_hh is the 0 we loaded)
        return {"kernel": t["weight_ih_l0"].T, "recurrent_kernel": t["weight_hh_l0"].T,
                "bias": t["bias_ih_l0"] + t["bias_hh_l0"]}
    u = l["units"]
    inv = np.argsort(np.concatenate([np.arange(g * u, (g + 1) * u) for g in GRU_TO_TORCH]))
    return {"kernel": t["weight_ih_l0"].T[:, inv], "recurrent_kernel": t["weight_hh_l0"].T[:, inv],
            "bias": np.stack([t["bias_ih_l0"][inv], t["bias_hh_l0"][inv]])}


def to_torch(spec: ModelSpec, w: Weights) -> dict[str, dict[str, np.ndarray]]:
    """Canonical weights -> torch parameter/buffer arrays per layer name (float32, contiguous)."""
    check_weights(spec, w)
    return {n: {k: np.ascontiguousarray(v, np.float32) for k, v in _to_torch_layer(spec, n, lw).items()}
            for n, lw in w.items()}


def from_torch(spec: ModelSpec, t: dict[str, dict[str, np.ndarray]]) -> Weights:
    """Inverse of `to_torch`."""
    return {n: {k: np.ascontiguousarray(v) for k, v in _from_torch_layer(spec, n, lt).items()} for n, lt in t.items()}


# ------------------------------------------------------------------------------------------------ load / read
def load_keras(model, spec: ModelSpec, w: Weights) -> None:
    """Assign canonical weights to a Keras model built by `equivalence._tf.build_keras` (by variable name)."""
    check_weights(spec, w)
    for name, lw in w.items():
        variables = {v.name: v for v in model.get_layer(name).weights}
        if set(variables) != set(lw):
            raise WeightError(f"Keras layer {name!r} holds {sorted(variables)}, canonical weights {sorted(lw)}")
        for pname, arr in lw.items():
            variables[pname].assign(np.asarray(arr, np.float32))


def read_keras(model, spec: ModelSpec) -> Weights:
    """Canonical weights out of a Keras model (exact copies of its variables)."""
    return {name: {v.name: np.array(v.numpy()) for v in model.get_layer(name).weights}
            for name in param_shapes(spec)}


def torch_core(module, name: str):
    """The torch submodule that holds layer `name`'s parameters (wrappers keep it as `.core`)."""
    m = module.layers[name]
    return getattr(m, "core", m)


def load_torch(module, spec: ModelSpec, w: Weights) -> None:
    """Copy canonical weights into a module built by `equivalence._torch.build_torch`, converting layouts."""
    from . import _runtime

    torch = _runtime.torch()
    with torch.no_grad():
        for name, lt in to_torch(spec, w).items():
            core = torch_core(module, name)
            tensors = dict(core.named_parameters()) | dict(core.named_buffers())
            for pname, arr in lt.items():
                dst = tensors[pname]
                if tuple(dst.shape) != arr.shape:
                    raise WeightError(f"torch {name}.{pname}: shape {tuple(dst.shape)}, converted weight {arr.shape}")
                dst.copy_(torch.from_numpy(arr))


def read_torch(module, spec: ModelSpec) -> Weights:
    """Canonical weights out of a torch module (layouts converted back)."""
    raw = {}
    for name, shapes in param_shapes(spec).items():
        core = torch_core(module, name)
        tensors = dict(core.named_parameters()) | dict(core.named_buffers())
        raw[name] = {k: v.detach().cpu().numpy().copy() for k, v in tensors.items() if k != "num_batches_tracked"}
    return from_torch(spec, raw)


__all__ = ["WeightError", "Weights", "check_weights", "chw_index", "digest", "flatten_origin", "from_torch", "init_weights",
           "load_keras", "load_torch", "param_count", "param_shapes", "read_keras", "read_torch", "to_torch"]
