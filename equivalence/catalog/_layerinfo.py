"""LayerInfo and LayerCase: one record per neutral layer kind, and the small spec-built models that exercise it.

A LayerCase is a whole (tiny) ModelSpec, so every case runs through the real builders, the real weight
conversions and the float64 reference: the layer under test plus whatever it needs around it (a conv before a
Flatten, token ids before an LSTM). Generic tests in tests/test_layers.py iterate ``LAYER_DB``.
"""
from __future__ import annotations

import dataclasses

from ..spec import KINDS, LayerSpec, ModelSpec, layer


class MalformedLayerInfo(ValueError):
    """A registry entry is invalid; the message names the entry."""


@dataclasses.dataclass(frozen=True)
class LayerCase:
    """One variant of one layer kind: a small model spec and whether its training-mode forward is deterministic."""

    kind: str  # the neutral kind under test ('conv2d')
    variant: str  # slug naming what the case exercises ('same_stride2')
    spec: ModelSpec  # the whole model run for this case
    training: bool = True  # training-mode forward is deterministic (False: dropout rate > 0)
    input_scale: float = 1.0  # the N(0, 1) sample input is multiplied by this (tiny values probe cancellation)

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.variant}"

    def __repr__(self):
        return f"LayerCase<{self.id}>"


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """Everything the generic layer tests need about one neutral layer kind."""

    name: str  # neutral kind, a key of equivalence.spec.KINDS
    keras: str  # the Keras class users write ('keras.layers.Conv2D')
    torch: str  # the torch module users write ('torch.nn.Conv2d')
    cases: tuple[LayerCase, ...]  # variants, each a tiny model
    differences: tuple[str, ...] = ()  # catalogue ids (equivalence.differences) that concern this layer
    notes: str = ""  # one line for docs/models.md (what the mapping needs)

    def __post_init__(self):
        if self.name not in KINDS:
            raise MalformedLayerInfo(f"layer entry {self.name!r}: not a spec kind ({', '.join(KINDS)})")
        if not self.cases:
            raise MalformedLayerInfo(f"layer entry {self.name!r}: needs at least one case")
        ids = [c.id for c in self.cases]
        if len(set(ids)) != len(ids) or any(c.kind != self.name for c in self.cases):
            raise MalformedLayerInfo(f"layer entry {self.name!r}: duplicate or foreign case ids {ids}")


def case(kind: str, variant: str, input_shape, *layers: LayerSpec, training: bool = True,
         input_dtype: str = "float32", input_scale: float = 1.0) -> LayerCase:
    """A LayerCase whose model is `layers` on `input_shape` (model name = the case id)."""
    spec = ModelSpec(f"{kind}-{variant}", tuple(input_shape), layers, input_dtype)
    return LayerCase(kind, variant, spec, training, input_scale)


def single(kind: str, variant: str, input_shape, **params) -> LayerCase:
    """A case that is one layer of `kind` on `input_shape`."""
    return case(kind, variant, input_shape, layer(kind, **params))


def build_db(*infos: LayerInfo) -> list[LayerInfo]:
    """The registry, rejecting duplicate names and duplicate case ids across entries."""
    seen: set[str] = set()
    for info in infos:
        for c in info.cases:
            if c.id in seen:
                raise MalformedLayerInfo(f"duplicate layer case id {c.id!r}")
            seen.add(c.id)
    names = [i.name for i in infos]
    if len(set(names)) != len(names):
        raise MalformedLayerInfo(f"duplicate layer entries in {names}")
    return list(infos)
