"""LayerInfo and LayerCase: the cases of one neutral layer kind, the small spec-built models that exercise it.

What the kind IS (its Keras and torch classes, what the mapping needs, builders, weights, numerics) is its
record in equivalence.layer_kinds; a LayerInfo adds the cases. The catalogue entries that concern a kind select
it ('layer:<kind>'): `differences.for_record("layer", info)`; the link is never stored on the record.

A LayerCase is a whole (tiny) ModelSpec, so every case runs through the real builders, the real weight
conversions and the float64 reference: the layer under test plus whatever it needs around it (a conv before a
Flatten, token ids before an LSTM). Generic tests in tests/test_layers.py iterate ``LAYER_DB``, an
`equivalence.registry.Registry` of LayerInfo records (one per kind, id = the kind's name).
"""
from __future__ import annotations

import dataclasses

from ..layer_kinds import KINDS, LayerKind
from ..registry import Record, RecordError
from ..spec import LayerSpec, ModelSpec, layer

MalformedLayerInfo = RecordError  # the registries' one error type, under the name the layer registry always used


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


@dataclasses.dataclass(frozen=True, repr=False)
class LayerInfo(Record):
    """Everything the generic layer tests need about one neutral layer kind."""

    REGISTRY = "layer registry"  # how RecordError names LAYER_DB: "layer registry entry 'conv2d': ..."

    name: str  # neutral kind, a key of equivalence.layer_kinds.KINDS
    cases: tuple[LayerCase, ...]  # variants, each a tiny model

    @property
    def id(self) -> str:
        """The kind's name ('conv2d'): one record per kind."""
        return self.name

    @property
    def kind(self) -> LayerKind:
        return KINDS[self.name]

    @property
    def keras(self) -> str:
        """The Keras class users write ('keras.layers.Conv2D'), from the kind's record."""
        return self.kind.keras

    @property
    def torch(self) -> str:
        """The torch module users write ('torch.nn.Conv2d'), from the kind's record."""
        return self.kind.torch

    @property
    def notes(self) -> str:
        """One line: what the mapping needs, from the kind's record."""
        return self.kind.notes

    def __post_init__(self):
        self.validate()

    def problems(self) -> list[str]:
        problems = []
        if self.name not in KINDS:
            problems.append(f"not a spec kind ({', '.join(KINDS)})")
        if not self.cases:
            problems.append("needs at least one case")
        # A case id starts with its kind, so case ids unique here are unique across the registry (ids = kinds).
        ids = [c.id for c in self.cases]
        if len(set(ids)) != len(ids) or any(c.kind != self.name for c in self.cases):
            problems.append(f"duplicate or foreign case ids {ids}")
        return problems


def case(kind: str, variant: str, input_shape, *layers: LayerSpec, training: bool = True,
         input_dtype: str = "float32", input_scale: float = 1.0) -> LayerCase:
    """A LayerCase whose model is `layers` on `input_shape` (model name = the case id)."""
    spec = ModelSpec(f"{kind}-{variant}", tuple(input_shape), layers, input_dtype)
    return LayerCase(kind, variant, spec, training, input_scale)


def single(kind: str, variant: str, input_shape, **params) -> LayerCase:
    """A case that is one layer of `kind` on `input_shape`."""
    return case(kind, variant, input_shape, layer(kind, **params))
