"""The LayerKind record, its argument schema, and the stock hooks that kinds without an opinion name.

Every field is required: a record states each hook, even where it names a stock one (`depth_one`,
`no_params`, ...), so a reader sees a kind whole in its module and the meta test can check that none is missing.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..registry import Record

if TYPE_CHECKING:  # annotations only: spec.py imports this package
    from ..spec import LayerSpec

Shape = tuple[int, ...]


class SpecError(ValueError):
    """A spec is invalid; the message names the model, the layer and what is wrong."""


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()  # an Arg without a default

# How a kind meets torch's (c, h, w)-ordered features out of a Flatten of an NCHW map (equivalence.sides.torch_models):
CANONICAL = "canonical"  # needs canonical (h, w, c) order: the torch module re-orders such input first
ABSORBS = "absorbs"      # takes torch's order and compensates in its weights (dense: permuted kernel rows)
PASSES = "passes"        # elementwise: its output keeps its input's order (dropout, activation)
MAKES = "makes"          # flatten: a rank-4 input leaves it in torch's (c, h, w) order
FLAT_ORDERS = (CANONICAL, ABSORBS, PASSES, MAKES)


@dataclasses.dataclass(frozen=True)
class Arg:
    """One layer argument: its neutral default (REQUIRED: none) and a check(kind, arg, value) -> problem or None.

    The default is ONE value for both frameworks: builders pass it explicitly wherever their defaults differ."""

    default: Any = REQUIRED
    check: Callable[[str, str, Any], str | None] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, repr=False, eq=False)  # one record per kind: by identity
class LayerKind(Record):
    """Everything the suite knows about one neutral layer kind (see docs/layer_kinds.md)."""

    REGISTRY = "layer-kind registry"  # how RecordError names KINDS

    name: str             # the spec's kind ('conv2d')
    keras: str            # the Keras class users write ('keras.layers.Conv2D')
    torch: str            # the torch module or call users write ('torch.nn.Conv2d')
    notes: str            # what the mapping between them needs, one line (LAYER_DB, docs)
    # schema and graph
    args: Mapping[str, Arg]  # argument -> default and check, in the order reprs and errors list them
    merge: bool           # reads 2+ named inputs (add, concat); otherwise exactly one
    reads_ids: bool       # reads the model's int32 token ids (embedding); no other kind may
    torch_flat_order: str  # one of FLAT_ORDERS
    check: Callable[[LayerSpec], None]  # cross-argument rules (each Arg is checked first); raises SpecError
    shape: Callable[[LayerSpec, list[Shape]], Shape]  # output shape from the input shapes; raises SpecError
    # weights: canonical (Keras) layout, and the one table that maps it to torch and back
    params: Callable[[LayerSpec, Shape], dict]  # input shape -> {name: Weight(shape, init)}, {} without weights
    torch_params: tuple   # Map entries (equivalence.layer_kinds.mapping), applied forwards and inverted
    # builders, given the layer and its (first) input's canonical shape
    keras_layer: Callable[[LayerSpec, Shape], Any]
    torch_module: Callable[[LayerSpec, Shape], Any]
    # numerics
    forward: Callable  # (l, args, w, training, trace) -> float64 output or None; may add intermediates to trace
    depth: Callable[[LayerSpec, list[Shape], int], int]  # (l, input shapes, batch) -> K, terms per output element
    bound: Callable    # (l, args, errs, y, w, values, training) -> per-element error bound, or None: no rule
    scale: Callable    # (l, e, x, w, training) -> the error scale after this layer, from e before it
    # random specs (equivalence.strategies_spec)
    strategy: Callable  # (draw, input shape, slot, tag) -> drawn arguments valid for that input
    slots: tuple[str, ...]  # the places of the random model families this kind may be drawn for
    # masks (Keras' mask_zero): (l, [input carries a mask]) -> whether its output carries one; None: the kind
    # ignores masks, so a masked input is a SpecError (equivalence.layer_kinds.sequence.masked_nodes)
    mask: Callable[[LayerSpec, list[bool]], bool] | None = None

    def __post_init__(self):
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        self.validate()

    @property
    def id(self) -> str:
        return self.name

    def problems(self) -> list[str]:
        problems = [f"{h} is not callable" for h in HOOKS if not callable(getattr(self, h))]
        problems += [f"torch_flat_order {self.torch_flat_order!r} not in {FLAT_ORDERS}"] * (
            self.torch_flat_order not in FLAT_ORDERS)
        problems += ["mask is neither None nor callable"] * (self.mask is not None and not callable(self.mask))
        return problems + [f"args[{a!r}] is not an Arg" for a, v in self.args.items() if not isinstance(v, Arg)]


HOOKS = ("check", "shape", "params", "keras_layer", "torch_module", "forward", "depth", "bound", "scale", "strategy")


def reject(l: LayerSpec, message: str):
    """Raise the one error type of the spec, naming the layer."""
    raise SpecError(f"layer {l.label}: {message}")


def need_rank(l: LayerSpec, shape: Shape, *ranks: int) -> None:
    if len(shape) + 1 not in ranks:
        raise SpecError(f"{l.kind} needs a rank-{'/'.join(map(str, ranks))} input (batch included), "
                        f"got shape {shape} (rank {len(shape) + 1})")


# ---------------------------------------------------------------------------------------------- argument checks
def positive_int(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, int) and v >= 1 else f"{arg} must be a positive integer, got {v!r}"


def positive_int_or_pair(kind: str, arg: str, v) -> str | None:
    ok = (isinstance(v, int) and v >= 1) or (isinstance(v, (tuple, list)) and len(v) == 2
                                             and all(isinstance(i, int) and i >= 1 for i in v))
    return None if ok else f"{arg} must be a positive integer (or pair), got {v!r}"


def optional(check):
    """`check`, or None allowed (pooling strides: None means the pool size)."""
    return lambda kind, arg, v: None if v is None else check(kind, arg, v)


def padding(kind: str, arg: str, v) -> str | None:
    return None if v in ("valid", "same") else f"{arg} must be 'valid' or 'same', got {v!r}"


def positive(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, (int, float)) and v > 0 else f"{arg} must be > 0, got {v!r}"


def boolean(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, bool) else f"{arg} must be True or False, got {v!r}"


# ---------------------------------------------------------------------------------------------- stock hooks
def no_check(l: LayerSpec) -> None:
    """No rule across arguments."""


def same_shape(l: LayerSpec, ins: list[Shape]) -> Shape:
    return ins[0]


def no_params(l: LayerSpec, x: Shape) -> dict:
    return {}


def identity(l: LayerSpec, args: list, w: dict, training: bool, trace: dict):
    return args[0]


def depth_one(l: LayerSpec, ins: list[Shape], batch: int) -> int:
    return 1


def bound_identity(l: LayerSpec, args, errs, y, w, values, training):
    """An exact copy or re-arrangement of its input: the input's bound."""
    return errs[0]


def no_element_rule(l: LayerSpec, args, errs, y, w, values, training):
    """No per-element bound (recurrent layers: it would need the recurrence's Jacobian); the scalar rule applies."""
    return None


def scale_unchanged(l: LayerSpec, e: float, x, w: dict, training: bool) -> float:
    return e


def draws_nothing(draw, x: Shape, slot: str, tag: str) -> dict:
    return {}
