"""A framework-neutral model spec: an input shape and a sequence (or small DAG) of layer specs.

Shapes are canonical: channels-last and without the batch axis, as Keras takes them (``(32, 32, 3)``).
Every layer parameter that a framework defaults differently (BatchNorm momentum/epsilon, LayerNorm epsilon,
leaky_relu slope, GELU approximation, GRU reset_after) is explicit here and has ONE neutral default, which the
builders pass to both frameworks; the frameworks' own defaults are recorded in ``equivalence/differences/layers.py``.

    >>> spec = ModelSpec("mlp", (32,), (layer("dense", units=64, activation="relu"), layer("dense", units=10)))
    >>> spec.output_shape
    (10,)

Validation is eager: an unknown kind, an unknown or missing parameter, an impossible shape or a spec that one
framework cannot express raises ``SpecError`` naming the layer and what to change.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

ACTIVATIONS = ("linear", "relu", "gelu", "gelu_tanh", "tanh", "sigmoid", "softmax", "leaky_relu", "elu", "selu",
               "silu")
INPUT = "input"  # the name by which a layer refers to the model input
_REQ = object()  # marks a required parameter

# kind -> {param: default or _REQ}. The neutral defaults are Keras' where Keras has one; each is explicit in both builds.
KINDS: dict[str, dict[str, Any]] = {
    "dense": dict(units=_REQ, activation="linear", use_bias=True),
    "conv1d": dict(filters=_REQ, kernel_size=_REQ, strides=1, padding="valid", dilation=1, groups=1,
                   activation="linear", use_bias=True),
    "conv2d": dict(filters=_REQ, kernel_size=_REQ, strides=1, padding="valid", dilation=1, groups=1,
                   activation="linear", use_bias=True),
    "max_pool2d": dict(pool_size=2, strides=None, padding="valid"),
    "avg_pool2d": dict(pool_size=2, strides=None, padding="valid"),
    "global_avg_pool2d": dict(),
    "flatten": dict(),
    "batch_norm": dict(momentum=0.99, epsilon=1e-3),  # momentum in Keras' convention: weight of the OLD statistic
    "layer_norm": dict(epsilon=1e-3),
    "dropout": dict(rate=_REQ),
    "embedding": dict(input_dim=_REQ, output_dim=_REQ),
    "lstm": dict(units=_REQ, return_sequences=False),
    "gru": dict(units=_REQ, return_sequences=False, reset_after=True),
    "activation": dict(fn=_REQ, negative_slope=0.2, alpha=1.0),  # slope: leaky_relu only; alpha: elu only
    "add": dict(),
    "concat": dict(),
}
MERGE_KINDS = ("add", "concat")
ELEMENTWISE_KINDS = ("dropout", "activation")


class SpecError(ValueError):
    """A spec is invalid; the message names the model, the layer and what is wrong."""


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One layer: a neutral kind, its parameters (defaults filled in), a name, and the names it reads from.

    ``inputs=()`` reads the previous layer (the model input for the first layer); merge kinds name 2+ inputs.
    """

    kind: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    name: str = ""
    inputs: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SpecError(f"unknown layer kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        schema = KINDS[self.kind]
        unknown = sorted(set(self.params) - set(schema))
        if unknown:
            raise SpecError(f"layer {self.label}: unknown parameter(s) {unknown}; {self.kind} takes {sorted(schema)}")
        missing = [k for k, v in schema.items() if v is _REQ and k not in self.params]
        if missing:
            raise SpecError(f"layer {self.label}: missing required parameter(s) {missing}")
        full = {k: self.params.get(k, v) for k, v in schema.items()}
        object.__setattr__(self, "params", MappingProxyType(full))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        _check_params(self)

    def __hash__(self):
        return hash((self.kind, tuple(sorted(self.params.items(), key=lambda kv: kv[0])), self.name, self.inputs))

    def __getitem__(self, key: str):
        return self.params[key]

    def __repr__(self):
        schema = KINDS[self.kind]
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if schema[k] is _REQ or v != schema[k])
        src = f" <- {','.join(self.inputs)}" if self.inputs else ""
        return f"{self.name or self.kind}:{self.kind}({shown}){src}"

    @property
    def label(self) -> str:
        return f"{self.name!r} ({self.kind})" if self.name else repr(self.kind)


def layer(kind: str, *, name: str = "", inputs: tuple[str, ...] | list[str] = (), **params) -> LayerSpec:
    """`LayerSpec` with keyword parameters: ``layer("conv2d", filters=8, kernel_size=3, padding="same")``."""
    return LayerSpec(kind, params, name, tuple(inputs))


def _positive(spec: LayerSpec, *names: str) -> None:
    for n in names:
        values = _pair(spec[n]) if n in ("kernel_size", "strides", "dilation", "pool_size") else (spec[n],)
        if not all(isinstance(v, int) and v >= 1 for v in values):
            raise SpecError(f"layer {spec.label}: {n} must be a positive integer (or pair), got {spec[n]!r}")


def _check_params(spec: LayerSpec) -> None:
    p = spec.params
    if p.get("activation", "linear") not in ACTIVATIONS or p.get("fn", "linear") not in ACTIVATIONS:
        bad = p.get("fn", p.get("activation"))
        raise SpecError(f"layer {spec.label}: unknown activation {bad!r}; known: {', '.join(ACTIVATIONS)}")
    if p.get("padding", "valid") not in ("valid", "same"):
        raise SpecError(f"layer {spec.label}: padding must be 'valid' or 'same', got {p['padding']!r}")
    ints = [n for n in ("units", "filters", "kernel_size", "strides", "dilation", "groups", "pool_size",
                        "input_dim", "output_dim") if n in p and p[n] is not None]
    _positive(spec, *ints)
    if spec.kind.startswith("conv") and (p["strides"] != 1 and p["dilation"] != 1):
        raise SpecError(f"layer {spec.label}: strides > 1 with dilation > 1 is not supported by Keras (TF) convs")
    if spec.kind == "dropout" and not 0.0 <= p["rate"] < 1.0:
        raise SpecError(f"layer {spec.label}: dropout rate must be in [0, 1), got {p['rate']!r}")
    if spec.kind == "batch_norm" and not 0.0 <= p["momentum"] <= 1.0:
        raise SpecError(f"layer {spec.label}: momentum (Keras convention, weight of the old statistic) must be in [0, 1]")
    if "epsilon" in p and not p["epsilon"] > 0:
        raise SpecError(f"layer {spec.label}: epsilon must be > 0, got {p['epsilon']!r}")
    if spec.kind in MERGE_KINDS and len(spec.inputs) < 2:
        raise SpecError(f"layer {spec.label}: {spec.kind} needs at least two named inputs, got {spec.inputs!r}")
    if spec.kind not in MERGE_KINDS and len(spec.inputs) > 1:
        raise SpecError(f"layer {spec.label}: {spec.kind} takes one input, got {spec.inputs!r}")


def conv_out(n: int, k: int, s: int, d: int, padding: str) -> int:
    """Output length of a conv/pool along one axis (TF's rule; 'same' gives ceil(n/s))."""
    if padding == "same":
        return -(-n // s)
    return (n - d * (k - 1) - 1) // s + 1


def same_pads(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TF's 'same' padding (before, after) along one axis: the odd pixel goes AFTER (asymmetric when s > 1)."""
    total = max((conv_out(n, k, s, d, "same") - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model: canonical input shape (no batch axis), input dtype, and layers in topological order.

    Layer names are filled in (``<kind>_<index>``) where empty; the last layer is the output.
    """

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]
    input_dtype: str = "float32"

    def __post_init__(self):
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))
        if not self.layers:
            raise SpecError(f"model {self.name!r}: needs at least one layer")
        if self.input_dtype not in ("float32", "int32"):
            raise SpecError(f"model {self.name!r}: input_dtype must be 'float32' or 'int32' (token ids)")
        if not self.input_shape or any(d < 1 for d in self.input_shape):
            raise SpecError(f"model {self.name!r}: input_shape must be non-empty positive ints, got {self.input_shape}")
        named = tuple(dataclasses.replace(l, name=l.name or f"{l.kind}_{i}") for i, l in enumerate(self.layers))
        object.__setattr__(self, "layers", named)
        names = [l.name for l in named]
        dup = sorted({n for n in names if names.count(n) > 1} | ({INPUT} & set(names)))
        if dup:
            raise SpecError(f"model {self.name!r}: duplicate or reserved layer name(s) {dup}")
        object.__setattr__(self, "_shapes", MappingProxyType(_infer_shapes(self)))

    def __repr__(self):
        return f"ModelSpec<{self.name}: {self.input_shape} -> {len(self.layers)} layers -> {self.output_shape}>"

    def sources(self, l: LayerSpec) -> tuple[str, ...]:
        """Names this layer reads from (resolving the implicit 'previous layer')."""
        if l.inputs:
            return l.inputs
        i = self.layers.index(l)
        return (INPUT,) if i == 0 else (self.layers[i - 1].name,)

    @property
    def shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Canonical output shape (no batch axis) of every node, the model input included."""
        return self._shapes

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self._shapes[self.layers[-1].name]

    @property
    def is_linear(self) -> bool:
        """True when every layer reads the one before it (a Keras Sequential suffices)."""
        return all(not l.inputs or self.sources(l) == ((INPUT,) if i == 0 else (self.layers[i - 1].name,))
                   for i, l in enumerate(self.layers))

    def layer_by_name(self, name: str) -> LayerSpec:
        for l in self.layers:
            if l.name == name:
                return l
        raise KeyError(f"model {self.name!r} has no layer {name!r}; layers: {[l.name for l in self.layers]}")


def _infer_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {INPUT: spec.input_shape}
    for l in spec.layers:
        srcs = spec.sources(l)
        unknown = [s for s in srcs if s not in shapes]
        if unknown:
            raise SpecError(f"model {spec.name!r}, layer {l.label}: reads {unknown}, which is not an earlier layer")
        try:
            shapes[l.name] = _out_shape(l, [shapes[s] for s in srcs], spec)
        except SpecError as exc:
            raise SpecError(f"model {spec.name!r}, layer {l.label}: {exc}") from None
    return shapes


def _need_rank(l: LayerSpec, shape, *ranks: int) -> None:
    if len(shape) + 1 not in ranks:
        raise SpecError(f"{l.kind} needs a rank-{'/'.join(map(str, ranks))} input (batch included), "
                        f"got shape {shape} (rank {len(shape) + 1})")


def _out_shape(l: LayerSpec, ins: list[tuple[int, ...]], spec: ModelSpec) -> tuple[int, ...]:
    x, p, k = ins[0], l.params, l.kind
    if spec.input_dtype == "int32" and k != "embedding" and x == spec.input_shape and INPUT in spec.sources(l):
        raise SpecError("token-id (int32) input can only feed an embedding layer")
    if k == "embedding":
        if spec.input_dtype != "int32" or INPUT not in spec.sources(l):
            raise SpecError("embedding must read the model input, and the model's input_dtype must be 'int32'")
        return (*x, p["output_dim"])
    if k == "dense":
        # Keras applies Dense to the last axis of any rank; torch's Linear on an NCHW map would hit W, not C.
        _need_rank(l, x, 2, 3)
        return (*x[:-1], p["units"])
    if k in ("conv1d", "conv2d"):
        return _conv_shape(l, x)
    if k in ("max_pool2d", "avg_pool2d"):
        _need_rank(l, x, 4)
        ps, st = _pair(p["pool_size"]), _pair(p["strides"] or p["pool_size"])
        out = tuple(conv_out(n, kk, s, 1, p["padding"]) for n, kk, s in zip(x[:2], ps, st))
        if min(out) < 1:
            raise SpecError(f"pool {ps} with 'valid' padding does not fit the input {x[:2]}")
        return (*out, x[2])
    if k == "global_avg_pool2d":
        _need_rank(l, x, 4)
        return (x[2],)
    if k == "flatten":
        return (math.prod(x),)
    if k in ("batch_norm", "layer_norm"):
        _need_rank(l, x, 2, 3, 4)
        return x
    if k in ELEMENTWISE_KINDS:
        return x
    if k in ("lstm", "gru"):
        _need_rank(l, x, 3)
        if k == "gru" and not p["reset_after"]:
            raise SpecError("gru with reset_after=False cannot be expressed in PyTorch (torch.nn.GRU always applies "
                            "the reset gate after the recurrent matmul, i.e. reset_after=True)")
        return (x[0], p["units"]) if p["return_sequences"] else (p["units"],)
    return _merge_shape(l, ins)


def _conv_shape(l: LayerSpec, x: tuple[int, ...]) -> tuple[int, ...]:
    p, n = l.params, (1 if l.kind == "conv1d" else 2)
    _need_rank(l, x, n + 2)
    ks, st, dl = ((p[a],) if n == 1 else _pair(p[a]) for a in ("kernel_size", "strides", "dilation"))
    if n == 1 and not all(isinstance(p[a], int) for a in ("kernel_size", "strides", "dilation")):
        raise SpecError("conv1d takes integer kernel_size/strides/dilation")
    cin = x[-1]
    if cin % p["groups"] or p["filters"] % p["groups"]:
        raise SpecError(f"groups={p['groups']} must divide both input channels ({cin}) and filters ({p['filters']})")
    out = tuple(conv_out(m, kk, s, d, p["padding"]) for m, kk, s, d in zip(x[:n], ks, st, dl))
    if min(out) < 1:
        raise SpecError(f"kernel {ks} (dilation {dl}) with 'valid' padding is larger than the input {x[:n]}")
    return (*out, p["filters"])


def _merge_shape(l: LayerSpec, ins: list[tuple[int, ...]]) -> tuple[int, ...]:
    if l.kind == "add":
        if len(set(ins)) != 1:
            raise SpecError(f"add needs inputs of one shape, got {ins}")
        return ins[0]
    if len({s[:-1] for s in ins}) != 1:
        raise SpecError(f"concat (last axis) needs inputs equal except the last axis, got {ins}")
    return (*ins[0][:-1], sum(s[-1] for s in ins))


__all__ = ["ACTIVATIONS", "INPUT", "KINDS", "LayerSpec", "ModelSpec", "SpecError", "conv_out", "layer", "same_pads"]
