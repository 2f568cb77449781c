"""One canonical, framework-neutral weight set per spec, and its conversions into and out of both frameworks.

Canonical layouts are Keras' (channels-last). Each kind's record (equivalence.layer_kinds) states its parameters'
shapes and init (`params`) and one table mapping them to torch (`torch_params`), which `to_torch` applies and
`from_torch` inverts: transposed Linear weights (out, in); OIHW / OIL conv weights; LSTM bias_ih = bias,
bias_hh = 0 (reading back sums them); GRU gates reordered to r, z, n; and, for a Dense fed by a Flatten of an
NHWC map, the kernel rows permuted from (h, w, c) to torch's (c, h, w) flatten order.
"""
from __future__ import annotations

import math

import numpy as np

from .layer_kinds import KINDS
from .layer_kinds import mapping
from .layer_kinds.base import MAKES, PASSES
from .spec import INPUT, ModelSpec

Weights = dict[str, dict[str, np.ndarray]]


class WeightError(ValueError):
    """A weight set does not fit its spec; the message names the layer, the parameter and both shapes."""


def _layer_params(spec: ModelSpec, l) -> dict[str, mapping.Weight]:
    """One layer's canonical parameters (shape and init), from its kind's record."""
    return KINDS[l.kind].params(l, spec.shapes[spec.sources(l)[0]])


def _params(spec: ModelSpec) -> dict[str, dict[str, mapping.Weight]]:
    """Each layer's canonical parameters; layers without any are absent."""
    return {l.name: ps for l in spec.layers if (ps := _layer_params(spec, l))}


def param_shapes(spec: ModelSpec) -> dict[str, dict[str, tuple[int, ...]]]:
    """Canonical parameter shapes per layer (layers without parameters are absent)."""
    return {name: {p: w.shape for p, w in params.items()} for name, params in _params(spec).items()}


def param_count(spec: ModelSpec, *, trainable_only: bool = False) -> int:
    """Number of scalars in the canonical weights (BatchNorm moving statistics excluded with trainable_only)."""
    skip = ("moving_mean", "moving_variance") if trainable_only else ()
    return sum(math.prod(s) for ps in param_shapes(spec).values() for k, s in ps.items() if k not in skip)


def init_weights(spec: ModelSpec, seed: int) -> Weights:
    """Deterministic float32 weights, each parameter by its kind's init (layer_kinds.mapping): Glorot-uniform
    kernels, and small NONZERO biases/statistics (so a dropped or misplaced bias, or a swapped moving
    mean/variance, changes the output)."""
    rng = np.random.default_rng(seed)  # one stream, drawn layer by layer, parameter by parameter, in order
    return {name: {p: w.init(rng, w.shape).astype(np.float32) for p, w in params.items()}
            for name, params in _params(spec).items()}


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
    order = KINDS[l.kind].torch_flat_order
    if order == MAKES:
        src = spec.shapes[spec.sources(l)[0]]
        return tuple(src) if len(src) == 3 else None
    if order == PASSES:
        return flatten_origin(spec, spec.sources(l)[0])
    return None


def chw_index(hwc: tuple[int, int, int]) -> np.ndarray:
    """torch_flat = canonical_flat[chw_index]: position j of torch's (c,h,w) flatten holds canonical (h,w,c) index."""
    h, w, c = hwc
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()


def _site(spec: ModelSpec, name: str) -> mapping.Site:
    l = spec.layer_by_name(name)
    shapes = {p: w.shape for p, w in _layer_params(spec, l).items()}
    origin = flatten_origin(spec, spec.sources(l)[0])
    return mapping.Site(spec, l, shapes, None if origin is None else chw_index(origin))


def to_torch(spec: ModelSpec, w: Weights) -> dict[str, dict[str, np.ndarray]]:
    """Canonical weights -> torch parameter/buffer arrays per layer name (float32, contiguous)."""
    check_weights(spec, w)
    return {n: {k: np.ascontiguousarray(v, np.float32) for k, v in mapping.to_torch(
        KINDS[spec.layer_by_name(n).kind].torch_params, lw, _site(spec, n)).items()} for n, lw in w.items()}


def from_torch(spec: ModelSpec, t: dict[str, dict[str, np.ndarray]]) -> Weights:
    """Inverse of `to_torch` (the same table, each step inverted)."""
    return {n: {k: np.ascontiguousarray(v) for k, v in mapping.from_torch(
        KINDS[spec.layer_by_name(n).kind].torch_params, lt, _site(spec, n)).items()} for n, lt in t.items()}


# ------------------------------------------------------------------------------------------------ load / read
def load_keras(model, spec: ModelSpec, w: Weights) -> None:
    """Assign canonical weights to a Keras model built by `equivalence.sides.keras_models.build_keras` (by variable name)."""
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
    """Copy canonical weights into a module built by `equivalence.sides.torch_models.build_torch`, converting layouts."""
    from . import runtime

    torch = runtime.torch()
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
