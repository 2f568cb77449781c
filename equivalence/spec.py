"""A framework-neutral model spec: an input shape and a sequence (or small DAG) of layer specs.

Shapes are canonical: channels-last and without the batch axis, as Keras takes them (``(32, 32, 3)``).
Every layer parameter that a framework defaults differently (BatchNorm momentum/epsilon, LayerNorm epsilon,
leaky_relu slope, GELU approximation, GRU reset_after) is explicit here and has ONE neutral default, which the
builders pass to both frameworks; the frameworks' own defaults are recorded in ``equivalence/differences/layers.py``.

    >>> spec = ModelSpec("mlp", (32,), (layer("dense", units=64, activation="relu"), layer("dense", units=10)))
    >>> spec.output_shape
    (10,)

Each kind's arguments (each with its one default and its check) and shape rule are its record in
``equivalence.layer_kinds`` (``KINDS``). Validation is eager: an unknown kind, an unknown, missing or invalid
parameter, an impossible shape or a spec that one framework cannot express raises ``SpecError`` naming the layer
and what to change.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .layer_kinds import ACTIVATIONS, KINDS, REQUIRED, SpecError, conv_out, same_pads
from .layer_kinds.sequence import masked_nodes

INPUT = "input"  # the name by which a layer refers to the model input


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
        schema = KINDS[self.kind].args
        unknown = sorted(set(self.params) - set(schema))
        if unknown:
            raise SpecError(f"layer {self.label}: unknown parameter(s) {unknown}; {self.kind} takes {sorted(schema)}")
        missing = [k for k, a in schema.items() if a.default is REQUIRED and k not in self.params]
        if missing:
            raise SpecError(f"layer {self.label}: missing required parameter(s) {missing}")
        full = {k: self.params.get(k, a.default) for k, a in schema.items()}
        object.__setattr__(self, "params", MappingProxyType(full))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        _check_args(self)

    def __hash__(self):
        return hash((self.kind, tuple(sorted(self.params.items(), key=lambda kv: kv[0])), self.name, self.inputs))

    def __getitem__(self, key: str):
        return self.params[key]

    def __repr__(self):
        schema = KINDS[self.kind].args
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items()
                          if schema[k].default is REQUIRED or v != schema[k].default)
        src = f" <- {','.join(self.inputs)}" if self.inputs else ""
        return f"{self.name or self.kind}:{self.kind}({shown}){src}"

    @property
    def label(self) -> str:
        return f"{self.name!r} ({self.kind})" if self.name else repr(self.kind)


def layer(kind: str, *, name: str = "", inputs: tuple[str, ...] | list[str] = (), **params) -> LayerSpec:
    """`LayerSpec` with keyword parameters: ``layer("conv2d", filters=8, kernel_size=3, padding="same")``."""
    return LayerSpec(kind, params, name, tuple(inputs))


def _check_args(l: LayerSpec) -> None:
    """Each argument by its own check, then the kind's rules across arguments, then the number of inputs."""
    kind = KINDS[l.kind]
    for name, arg in kind.args.items():
        problem = arg.check(l.kind, name, l.params[name]) if arg.check else None
        if problem:
            raise SpecError(f"layer {l.label}: {problem}")
    kind.check(l)
    if kind.merge and len(l.inputs) < 2:
        raise SpecError(f"layer {l.label}: {l.kind} needs at least two named inputs, got {l.inputs!r}")
    if not kind.merge and len(l.inputs) > 1:
        raise SpecError(f"layer {l.label}: {l.kind} takes one input, got {l.inputs!r}")


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
        masked_nodes(self, INPUT)  # a mask (Embedding mask_zero) reaching a kind that ignores masks: SpecError

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


def _out_shape(l: LayerSpec, ins: list[tuple[int, ...]], spec: ModelSpec) -> tuple[int, ...]:
    kind, reads_input = KINDS[l.kind], INPUT in spec.sources(l)
    if kind.reads_ids and (spec.input_dtype != "int32" or not reads_input):
        raise SpecError(f"{l.kind} must read the model input, and the model's input_dtype must be 'int32'")
    if not kind.reads_ids and spec.input_dtype == "int32" and reads_input:
        readers = " or ".join(k.name for k in KINDS.values() if k.reads_ids)
        raise SpecError(f"token-id (int32) input can only feed an {readers} layer")
    return kind.shape(l, ins)


__all__ = ["ACTIVATIONS", "INPUT", "KINDS", "LayerSpec", "ModelSpec", "SpecError", "conv_out", "layer", "same_pads"]
