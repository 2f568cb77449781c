"""Matching a Keras model's layers to a torch module's by structure: order, kind and weight shapes, not names.

Both sides are lists of `Node`s in the order they run (`equivalence.sides.pair_probe`). The parameterised nodes
are aligned first, by dynamic programming over the two orders: a pair of the same kind whose torch weights convert
to the Keras shapes (through the kind's mapping table, `layer_kinds.mapping`) scores 3, a pair of the same kind with
other shapes 1 (reported as a shape mismatch, never transferred), anything else cannot pair. A user mapping
{keras layer: torch module path} pins pairs first and the rest is aligned around them. The parameterless nodes
(activations, pooling, flatten, dropout) are then aligned by kind between consecutive pinned or matched pairs.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..layer_kinds import mapping as maps
from .errors import MappingError

PAIRED, SHAPES_DIFFER = 3, 1


@dataclasses.dataclass
class Match:
    """pairs: (keras Node, torch Node) in Keras order, weights compatible or parameterless; mismatched: same kind
    and position, other weight shapes; keras_only / torch_only: nodes without a counterpart."""

    pairs: list
    mismatched: list
    keras_only: list
    torch_only: list

    def unmatched_parameterised(self) -> tuple[list, list]:
        return [n for n in self.keras_only if n.params], [n for n in self.torch_only if n.params]


def site(keras_shapes: dict, flat_perm=None) -> maps.Site:
    """The mapping steps' view of a layer (they read the canonical shapes and a Flatten permutation only)."""
    return maps.Site(None, None, dict(keras_shapes), flat_perm)


def canonical_shapes(kind: str, torch_shapes: dict, keras_shapes: dict) -> dict | None:
    """The Keras-layout shapes the torch parameters convert to (None: the kind has no mapping table)."""
    from .transfer import has_mapping, to_keras

    if not has_mapping(kind):
        return None
    zeros = {k: np.zeros(s, np.float32) for k, s in torch_shapes.items()}
    try:
        out = to_keras(kind, zeros, keras_shapes)
    except (ValueError, IndexError, KeyError):
        return None
    return {k: tuple(v.shape) for k, v in out.items()}


def compatible(k, t) -> bool:
    """Same kind, and the torch weights convert exactly onto the Keras weights' names and shapes."""
    if k.kind != t.kind or not k.params or not t.params:
        return False
    return canonical_shapes(k.kind, t.params, k.params) == {n: tuple(s) for n, s in k.params.items()}


def _score(k, t) -> int:
    if k.kind != t.kind:
        return 0
    if not k.params and not t.params:
        return PAIRED
    return PAIRED if compatible(k, t) else SHAPES_DIFFER


def _align(a: list, b: list, score) -> list[tuple[int, int]]:
    """Index pairs of a maximal-score order-preserving alignment (pairs score > 0 only)."""
    n, m = len(a), len(b)
    best = np.zeros((n + 1, m + 1), np.int64)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = score(a[i], b[j])
            best[i, j] = max(best[i + 1, j], best[i, j + 1], best[i + 1, j + 1] + s if s > 0 else -1)
    out, i, j = [], 0, 0
    while i < n and j < m:
        s = score(a[i], b[j])
        if s > 0 and best[i, j] == best[i + 1, j + 1] + s:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif best[i, j] == best[i + 1, j]:
            i += 1
        else:
            j += 1
    return out


def _pinned(keras_nodes, torch_nodes, mapping, torch_paths) -> list[tuple[int, int]]:
    """The user's pairs as node indices, validated: names that exist, modules that ran, orders that agree."""
    names = {n.name for n in keras_nodes}
    pins = []
    for kname, tpath in mapping.items():
        if kname not in names:
            raise MappingError(f"mapping names Keras layer {kname!r}, which the Keras model does not have; its layers: "
                               f"{', '.join(dict.fromkeys(n.name for n in keras_nodes))}")
        if tpath not in torch_paths:
            shown = sorted(torch_paths)
            raise MappingError(f"mapping names torch module {tpath!r}, which the torch module does not have; its "
                               f"modules: {', '.join(shown[:40])}{' ...' if len(shown) > 40 else ''}")
        ti = [j for j, t in enumerate(torch_nodes) if t.name == tpath and t.call == 0]
        if not ti:
            raise MappingError(f"mapping names torch module {tpath!r}, which did not run in the forward pass (or "
                               f"returned no tensor)")
        ki = next(i for i, k in enumerate(keras_nodes) if k.name == kname and k.part != "activation")
        pins.append((ki, ti[0]))
    pins.sort()
    for (k1, t1), (k2, t2) in zip(pins, pins[1:]):
        if t2 <= t1:
            raise MappingError(f"mapping pairs cross: Keras {keras_nodes[k1].name!r} comes before "
                               f"{keras_nodes[k2].name!r}, but torch {torch_nodes[t1].name!r} runs after "
                               f"{torch_nodes[t2].name!r}")
    return pins


def _segments(pins, n, m):
    """(keras range, torch range) between consecutive pins."""
    bounds = [(-1, -1), *pins, (n, m)]
    return [(range(a + 1, c), range(b + 1, d)) for (a, b), (c, d) in zip(bounds, bounds[1:])]


def match(keras_nodes: list, torch_nodes: list, mapping: dict | None, torch_paths: set) -> Match:
    """Align the two node lists (module docstring)."""
    pins = _pinned(keras_nodes, torch_nodes, mapping or {}, torch_paths)
    anchors = list(pins)
    for kr, tr in _segments(pins, len(keras_nodes), len(torch_nodes)):
        kp = [i for i in kr if keras_nodes[i].params]
        tp = [j for j in tr if torch_nodes[j].params and torch_nodes[j].call == 0]
        anchors += [(kp[i], tp[j]) for i, j in _align([keras_nodes[i] for i in kp], [torch_nodes[j] for j in tp],
                                                       _score)]
    anchors.sort()
    pairs = list(anchors)
    for kr, tr in _segments(anchors, len(keras_nodes), len(torch_nodes)):
        kp = [i for i in kr if not keras_nodes[i].params]
        tp = [j for j in tr if not torch_nodes[j].params]
        pairs += [(kp[i], tp[j]) for i, j in _align([keras_nodes[i] for i in kp], [torch_nodes[j] for j in tp],
                                                    lambda k, t: PAIRED if k.kind == t.kind else 0)]
    pairs.sort()
    good, bad = [], []
    for i, j in pairs:
        k, t = keras_nodes[i], torch_nodes[j]
        if (k.params or t.params) and not compatible(k, t):
            bad.append((k, t))
        else:
            good.append((k, t))
    used_k, used_t = {i for i, _ in pairs}, {j for _, j in pairs}
    return Match(good, bad, [k for i, k in enumerate(keras_nodes) if i not in used_k],
                 [t for j, t in enumerate(torch_nodes) if j not in used_t])


def require_full(m: Match) -> None:
    """Raise MappingError naming every parameterised layer a transfer cannot place (kinds and shapes, both sides)."""
    keras_only, torch_only = m.unmatched_parameterised()
    if not (keras_only or torch_only or m.mismatched):
        return
    lines = [f"no weight mapping between the models: {len(keras_only) + len(m.mismatched)} Keras and "
             f"{len(torch_only) + len(m.mismatched)} torch parameterised layers have no counterpart"]
    lines += [f"  Keras {k.name} ({k.describe()}) vs torch {t.label} ({t.describe()}): weight shapes do not convert"
              for k, t in m.mismatched]
    lines += [f"  Keras {k.name} ({k.describe()}): no torch counterpart" for k in keras_only]
    lines += [f"  torch {t.label} ({t.describe()}): no Keras counterpart" for t in torch_only]
    lines.append("  pass mapping={keras_layer_name: torch_module_path} to pair layers by hand")
    raise MappingError("\n".join(lines))


__all__ = ["Match", "canonical_shapes", "compatible", "match", "require_full", "site"]
