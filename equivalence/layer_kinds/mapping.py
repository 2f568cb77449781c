"""Canonical weights of a kind (shape and init) and the declarative table that maps them to torch and back.

A kind's `torch_params` is a tuple of `Map(canonical, torch, *steps)`: `to_torch` applies the steps left to right,
`from_torch` applies their inverses right to left, so the one table states the mapping both ways. A step may need
the layer's site in the model (`Site`: the Dense after a Flatten permutes its rows) or end in several torch
tensors (LSTM's one bias -> bias_ih + a zero bias_hh; GRU's (2, 3u) bias -> bias_ih, bias_hh).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np


# ------------------------------------------------------------------------------------------------ canonical init
@dataclasses.dataclass(frozen=True)
class Weight:
    """One canonical parameter: its shape and its init(rng, shape) -> float64 array (cast to float32 once)."""

    shape: tuple[int, ...]
    init: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def glorot(rng, shape):
    """Glorot-uniform over a kernel (k..., in, out): fan_in = prod(k..., in), fan_out = prod(k...) * out."""
    fan_in, fan_out = math.prod(shape[:-1]), math.prod(shape[:-2]) * shape[-1]
    lim = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, shape)


def glorot_rows(rng, shape):
    """Glorot-uniform of an embedding table (vocab, dim): both fans are the row length."""
    lim = math.sqrt(6.0 / (shape[-1] + shape[-1]))
    return rng.uniform(-lim, lim, shape)


def around_one(rng, shape):
    """Scales (gamma, moving_variance): positive, away from 1 so a dropped scale changes the output."""
    return rng.uniform(0.5, 1.5, shape)


def small(rng, shape):
    """Offsets (bias, beta, moving_mean): small but NONZERO, so a dropped or misplaced one changes the output."""
    return rng.uniform(-0.2, 0.2, shape)


# ------------------------------------------------------------------------------------------------ torch mapping
@dataclasses.dataclass(frozen=True)
class Site:
    """Where a layer sits: what a mapping step may need beyond the array."""

    spec: Any                         # the ModelSpec
    layer: Any                        # the LayerSpec
    shapes: dict[str, tuple[int, ...]]  # canonical parameter shapes of this layer
    flat_perm: np.ndarray | None      # chw_index of a Flatten feeding this layer in torch order, else None


class Step:
    """One invertible step of a mapping: to(a, site) towards torch, back(a, site) its inverse."""

    def to(self, a, site: Site):
        raise NotImplementedError

    def back(self, a, site: Site):
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Axes(Step):
    """A transpose: Dense (in, out) -> Linear (out, in); conv HWIO -> OIHW."""

    order: tuple[int, ...]

    def to(self, a, site):
        return a.transpose(self.order)

    def back(self, a, site):
        return a.transpose(tuple(int(i) for i in np.argsort(self.order)))


T = Axes((1, 0))


@dataclasses.dataclass(frozen=True)
class FlatRows(Step):
    """Kernel rows in torch's (c, h, w) flatten order where a Flatten of an NCHW map feeds the layer."""

    def to(self, a, site):
        return a if site.flat_perm is None else a[site.flat_perm]

    def back(self, a, site):
        return a if site.flat_perm is None else a[np.argsort(site.flat_perm)]


@dataclasses.dataclass(frozen=True)
class Gates(Step):
    """Gate blocks of the last axis re-ordered: block i of the result is block order[i] of the input."""

    order: tuple[int, ...]

    def _perm(self, a):
        u = a.shape[-1] // len(self.order)
        return np.concatenate([np.arange(g * u, (g + 1) * u) for g in self.order])

    def to(self, a, site):
        return a[..., self._perm(a)]

    def back(self, a, site):
        return a[..., np.argsort(self._perm(a))]


@dataclasses.dataclass(frozen=True)
class Unstack(Step):
    """The leading axis split into separate torch tensors (GRU bias (2, 3u) -> bias_ih, bias_hh)."""

    def to(self, a, site):
        return tuple(a)

    def back(self, parts, site):
        return np.stack(parts)


@dataclasses.dataclass(frozen=True)
class PlusZero(Step):
    """One canonical tensor as the sum of two torch ones: (a, 0) going in, their sum coming back (LSTM biases:
    exact when the second is the 0 that was loaded)."""

    def to(self, a, site):
        return a, np.zeros_like(a)

    def back(self, parts, site):
        return parts[0] + parts[1]


@dataclasses.dataclass(frozen=True)
class Flat(Step):
    """torch's 1-D parameter vs the canonical shape with broadcast axes (PReLU alpha (1, 1, C) <-> (C,))."""

    canonical: str

    def to(self, a, site):
        return a.reshape(-1)

    def back(self, a, site):
        return a.reshape(site.shapes[self.canonical])


@dataclasses.dataclass(frozen=True)
class Depthwise(Step):
    """A depthwise kernel's last two axes (C, m) merged into one group axis of C*m output channels, c*m + j:
    Keras' (kh, kw, C, m) -> (kh, kw, 1, C*m), the grouped-conv HWIO layout that Axes((3, 2, 0, 1)) turns into
    torch's (C*m, 1, kh, kw); back through the canonical shape."""

    canonical: str

    def to(self, a, site):
        return a.reshape(*a.shape[:-2], 1, a.shape[-2] * a.shape[-1])

    def back(self, a, site):
        return a.reshape(site.shapes[self.canonical])


@dataclasses.dataclass(frozen=True)
class Map:
    """canonical parameter(s) -> torch parameter(s) through steps; a Map whose side is absent (no bias) is skipped.

    Several canonical names (a tuple) are packed into torch's one tensor: the steps get and give a tuple of them
    (attention's per-head query/key/value kernels -> torch's in_proj_weight)."""

    canonical: str | tuple[str, ...]
    torch: tuple[str, ...]
    steps: tuple[Step, ...]

    def __init__(self, canonical: str | tuple[str, ...], torch: str | tuple[str, ...], *steps: Step):
        object.__setattr__(self, "canonical", canonical if isinstance(canonical, str) else tuple(canonical))
        object.__setattr__(self, "torch", (torch,) if isinstance(torch, str) else tuple(torch))
        object.__setattr__(self, "steps", steps)

    @property
    def canonicals(self) -> tuple[str, ...]:
        """The canonical names this Map reads (one, or the several it packs)."""
        return (self.canonical,) if isinstance(self.canonical, str) else self.canonical


def to_torch(maps, w: dict[str, np.ndarray], site: Site) -> dict[str, np.ndarray]:
    out = {}
    for m in maps:
        if not all(n in w for n in m.canonicals):
            continue
        a = w[m.canonical] if isinstance(m.canonical, str) else tuple(w[n] for n in m.canonical)
        for step in m.steps:
            a = step.to(a, site)
        out.update(zip(m.torch, a if len(m.torch) > 1 else (a,)))
    return out


def from_torch(maps, t: dict[str, np.ndarray], site: Site) -> dict[str, np.ndarray]:
    out = {}
    for m in maps:
        if not all(n in t for n in m.torch):
            continue
        a = tuple(t[n] for n in m.torch) if len(m.torch) > 1 else t[m.torch[0]]
        for step in reversed(m.steps):
            a = step.back(a, site)
        out.update(zip(m.canonicals, (a,) if isinstance(m.canonical, str) else a))
    return out
