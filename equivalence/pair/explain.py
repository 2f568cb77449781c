"""Why two models differ: structure (parameter counts per layer as each framework counts them, layers without a
counterpart), setting differences of matched layers, and the catalogue entry whose symptom a divergence matches.

A setting difference is read off the two layers' configurations (padding split, epsilon, momentum, GELU
approximation, leaky slope, average-pool padding count) and carries the id of the catalogue entry that documents
it (`equivalence.differences`); the flatten-order symptom is read off the weights (a Dense after a Flatten whose
torch weight holds the Keras kernel's rows in the other flatten order). The likely cause of a divergence is the
setting difference at the divergent layer, else the nearest one upstream of it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..layer_kinds.geometry import same_pads
from ..sides import pair_probe as probe
from ..weights import chw_index
from . import transfer as xfer
from .errors import PairError

KERAS_ADAM = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
KERAS_SGD = {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}


# Every catalogue entry a check can name (tests/test_check_pair.py checks that each exists).
ENTRIES = ("avgpool-count-include-pad", "bn-epsilon-default", "bn-momentum-convention", "bn-param-count-buffers",
           "conv-same-stride2-padding", "flatten-order", "gelu-approximate-default", "layer-norm-epsilon-default",
           "leaky-relu-default-slope", "lstm-bias-count", "pool-same-padding")


def entry(entry_id: str) -> str:
    """A catalogue id, checked to exist (KeyError otherwise): causes never name an entry that is not there."""
    from ..differences import by_id

    assert entry_id in ENTRIES, f"{entry_id!r}: add it to explain.ENTRIES"
    return by_id(entry_id).id


# ------------------------------------------------------------------------------------------------ optimizer pair
def optimizer_pair(name: str, hyper: dict):
    """(name, Keras kwargs, torch kwargs, lr, torch-form Adam epsilon) for one update on each side.

    Adam: Keras adds epsilon to sqrt(v) before bias correction, torch after it; at step t = 1 torch eps =
    Keras epsilon / sqrt(1 - beta_2) gives the same update exactly ('adam-epsilon-placement'); Keras' default
    epsilon 1e-7 is passed to both ('adam-epsilon-default'). SGD: the same formula under the same names."""
    table = {"adam": KERAS_ADAM, "sgd": KERAS_SGD}
    if name not in table:
        raise PairError(f"step: optimizer {name!r} is not supported; use 'adam' or 'sgd'")
    h = dict(hyper)
    if "lr" in h:
        h["learning_rate"] = h.pop("lr")
    unknown = sorted(set(h) - set(table[name]))
    if unknown:
        raise PairError(f"step: unknown {name} hyperparameter(s) {unknown}; use {sorted(table[name])} (Keras names)")
    k = {**table[name], **h}
    if name == "adam":
        t_eps = k["epsilon"] / float(np.sqrt(1 - k["beta_2"]))
        t = {"lr": k["learning_rate"], "betas": (k["beta_1"], k["beta_2"]), "eps": t_eps}
        return name, k, t, k["learning_rate"], t_eps
    t = {"lr": k["learning_rate"], "momentum": k["momentum"], "nesterov": k["nesterov"]}
    return name, k, t, k["learning_rate"], 0.0


# ------------------------------------------------------------------------------------------------ settings
def _ints(v, n):
    if isinstance(v, str):
        return v
    return [int(v)] * n if isinstance(v, int) else [int(i) for i in v]


def _padding_diff(k, t):
    """Keras' padding (TF's split for 'same') vs torch's symmetric padding, per spatial axis."""
    spatial = list(k.in_shape[1:-1])
    n = len(spatial)
    c = k.config
    if k.kind.endswith("pool2d"):
        ks = _ints(c.get("pool_size", 2), n)
        st = _ints(c.get("strides") or c.get("pool_size", 2), n)
        dl = [1] * n
    else:
        ks, st, dl = _ints(c["kernel_size"], n), _ints(c.get("strides", 1), n), _ints(c.get("dilation_rate", 1), n)
    tf = [same_pads(a, b, s, d) if c.get("padding") == "same" else (0, 0) for a, b, s, d in zip(spatial, ks, st, dl)]
    p = t.config.get("padding", 0)
    if p == "same":
        return None
    p = [0] * n if p == "valid" else _ints(p, n)
    t_in = list(t.in_shape[2:]) if len(t.in_shape) == n + 2 else spatial
    extra = [a - b for a, b in zip(t_in, spatial)]  # > 0: torch's input was padded (F.pad) before the layer
    same_out = len(t.shape) == n + 2 and list(t.shape[2:]) == list(k.shape[1:-1])
    keras_says = (f"Keras 'same' pads (before, after) = {[tuple(x) for x in tf]} (TF's split, the odd pixel after)"
                  if c.get("padding") == "same" else "Keras 'valid' does not pad")
    if any(extra):  # judged only where the outputs agree in size (else the sizes differ upstream)
        if same_out and [2 * q + e for q, e in zip(p, extra)] != [a + b for a, b in tf]:
            return f"padding: {keras_says}, torch pads {p} on each side of an input {extra} larger", None
        return None
    if [(q, q) for q in p] == [tuple(x) for x in tf]:
        return None
    asym = any(a != b for a, b in tf)
    ident = ("pool-same-padding" if k.kind.endswith("pool2d") else "conv-same-stride2-padding") if asym else None
    return f"padding: {keras_says}, torch pads {[(q, q) for q in p]} symmetrically", ident


def settings(k, t) -> list[tuple[str, str | None]]:
    """(what differs, catalogue id or None) for one matched pair, from the two layers' configurations."""
    out = []
    kc, tc = k.config, t.config
    if k.kind in ("conv1d", "conv2d", "max_pool2d", "avg_pool2d") and "padding" in tc:
        d = _padding_diff(k, t)
        if d:
            out.append(d)
    if k.kind == "avg_pool2d" and tc.get("count_include_pad") and any(_ints(tc.get("padding", 0), 2)):
        out.append(("average pooling: torch counts the zero padding (count_include_pad=True), Keras averages the "
                    "real pixels", "avgpool-count-include-pad"))
    if k.kind in ("batch_norm", "layer_norm") and "eps" in tc and "epsilon" in kc:
        if not np.isclose(kc["epsilon"], tc["eps"], rtol=1e-6, atol=0):
            ident = "bn-epsilon-default" if k.kind == "batch_norm" else "layer-norm-epsilon-default"
            out.append((f"epsilon: Keras {kc['epsilon']:g}, torch {tc['eps']:g}", ident))
    if k.kind == "batch_norm" and tc.get("momentum") is not None and "momentum" in kc:
        if not np.isclose(tc["momentum"], 1 - kc["momentum"], rtol=1e-6, atol=1e-12):
            out.append((f"momentum: Keras {kc['momentum']:g} (weight of the old statistic), torch {tc['momentum']:g} "
                        f"(weight of the new one; {1 - kc['momentum']:g} matches): moving statistics in training "
                        f"differ", "bn-momentum-convention"))
    if k.kind == "activation:gelu" and "approximate" in tc:
        k_tanh, t_tanh = bool(kc.get("approximate", False)), tc["approximate"] == "tanh"
        if k_tanh != t_tanh:
            out.append((f"GELU: Keras {'tanh approximation' if k_tanh else 'exact (erf)'}, torch "
                        f"approximate={tc['approximate']!r}", "gelu-approximate-default"))
    if k.kind == "attention" and kc.get("num_heads") != tc.get("num_heads", kc.get("num_heads")):
        out.append((f"attention heads: Keras {kc.get('num_heads')}, torch {tc.get('num_heads')}", None))
    if k.kind == "activation:leaky_relu" and "negative_slope" in tc and "negative_slope" in kc:
        if not np.isclose(kc["negative_slope"], tc["negative_slope"]):
            out.append((f"leaky ReLU slope: Keras {kc['negative_slope']:g}, torch {tc['negative_slope']:g}",
                        "leaky-relu-default-slope"))
    return [(text, None if i is None else entry(i)) for text, i in out]


def flatten_symptom(run, k, t) -> tuple[str, str] | None:
    """A Dense after a Flatten whose torch weight holds the Keras kernel in the other flatten order."""
    f = run.flatten_of(k.sources[0]) if k.kind == "dense" and k.sources else None
    origin = run.origins.get(f.name) if f is not None else None
    if origin is None:
        return None
    kw = probe.keras_weights(run.km, k.name)["kernel"]
    tw = probe.torch_tensors_at(run.tm, t.name)
    used = run.perms.get(k.name)
    other = chw_index(origin) if used is None else None
    as_used = xfer.to_keras(k.kind, tw, k.params, used)["kernel"]
    as_other = xfer.to_keras(k.kind, tw, k.params, other)["kernel"]
    scale = float(np.max(np.abs(kw))) or 1.0
    if np.allclose(as_other, kw, rtol=0, atol=1e-6 * scale) and not np.allclose(as_used, kw, rtol=0, atol=1e-6 * scale):
        order = "(h, w, c) order (Keras')" if used is not None else "(c, h, w) order"
        return (f"torch {t.name!r} holds the Keras kernel's rows in {order}, but its input is flattened the other "
                f"way: the rows need permuting (equivalence.weights.chw_index({origin}))", entry("flatten-order"))
    return None


def _weights_differ(run, k, t) -> str | None:
    if not k.params:
        return None
    kw = probe.keras_weights(run.km, k.name)
    got = xfer.to_keras(k.kind, probe.torch_tensors_at(run.tm, t.name), k.params, run.perms.get(k.name))
    far = [p for p in kw if p in got and not np.allclose(got[p], kw[p], rtol=1e-5, atol=1e-6)]
    return f"the two layers hold different weights ({', '.join(far)}): transfer=None compares them as they are" \
        if far else None


# ------------------------------------------------------------------------------------------------ structure
@dataclasses.dataclass
class Structure:
    """Parameter counts (each framework's own way), layers without a counterpart, setting differences."""

    keras_params: int
    torch_params: int
    rows: list  # {keras_layer, keras_kind, keras_count, torch_module, torch_count, note, entry}
    keras_only: list  # descriptions
    torch_only: list
    mismatched: list
    differences: list  # {keras_layer, torch_module, what, entry}

    @property
    def complete(self) -> bool:
        """Every parameterised layer has a counterpart with weights of the same shapes."""
        return not (self.mismatched or any(r["params"] for r in self.keras_only + self.torch_only))

    @classmethod
    def of(cls, run) -> "Structure":
        m = run.match
        rows = []
        for k, t in sorted(m.pairs + m.mismatched, key=lambda p: run.knodes.index(p[0])):
            if not (k.params or t.params):
                continue
            note, ident = _count_note(k, t)
            rows.append({"keras_layer": k.name, "keras_kind": k.kind, "keras_count": k.count,
                         "torch_module": t.name, "torch_count": t.count, "note": note, "entry": ident})
        diffs = [{"keras_layer": k.name, "torch_module": t.name, "what": text, "entry": ident}
                 for k, t in m.pairs for text, ident in settings(k, t)]
        return cls(probe.keras_total(run.km), probe.torch_total(run.tm), rows,
                   [_only(n) for n in m.keras_only], [_only(n) for n in m.torch_only],
                   [{"keras_layer": k.name, "torch_module": t.name, "keras": k.describe(), "torch": t.describe()}
                    for k, t in m.mismatched], diffs)

    def lines(self) -> list[str]:
        out = [f"parameters: Keras {self.keras_params:,} (count_params(), BatchNorm statistics included), torch "
               f"{self.torch_params:,} (parameters())"]
        conventions = {}
        for r in self.rows:
            if r["entry"]:
                conventions[r["entry"]] = conventions.get(r["entry"], 0) + r["keras_count"] - r["torch_count"]
        if conventions and sum(conventions.values()) == self.keras_params - self.torch_params:
            out[0] += ": the difference is how each framework counts (" + ", ".join(
                f"{v:+,} [{k}]" for k, v in conventions.items()) + ")"
        out += [f"Keras {r['keras_layer']} ({r['keras']}) vs torch {r['torch_module']} ({r['torch']}): weight "
                f"shapes differ" for r in self.mismatched]
        out += [f"Keras {r['name']} ({r['describe']}, {r['count']:,} parameters): no torch counterpart"
                for r in self.keras_only if r["params"]]
        out += [f"torch {r['name']} ({r['describe']}, {r['count']:,} parameters): no Keras counterpart"
                for r in self.torch_only if r["params"]]
        for side, other, rows in (("Keras", "torch", self.keras_only), ("torch", "Keras", self.torch_only)):
            bare = [f"{r['name']} ({r['kind']})" for r in rows if not r["params"]]
            if bare:
                out.append(f"parameterless {side} layers without a {other} module (a functional call such as "
                           f"F.relu or a + b has none): {', '.join(bare)}")
        out += [f"Keras {d['keras_layer']} vs torch {d['torch_module']}: {d['what']}"
                + (f" [{d['entry']}]" if d["entry"] else "") for d in self.differences]
        return out

    def record(self) -> dict:
        return dataclasses.asdict(self) | {"complete": self.complete}


def _only(n) -> dict:
    return {"name": n.name if n.part == "pre-activation" else n.label, "kind": n.kind, "describe": n.describe(), "count": n.count, "params": bool(n.params)}


def _count_note(k, t) -> tuple[str, str | None]:
    if k.count == t.count:
        return "", None
    if k.kind == "batch_norm" and k.count - t.count == sum(np.prod(s) for n, s in k.params.items()
                                                          if n.startswith("moving")):
        return "Keras counts the moving mean/variance, torch keeps them as buffers", entry("bn-param-count-buffers")
    if k.kind in ("lstm", "gru") and t.count > k.count:
        return "torch holds two bias vectors (bias_ih, bias_hh)", entry("lstm-bias-count")
    return "", None


# ------------------------------------------------------------------------------------------------ the verdict
def _causes(run, b) -> list[tuple[str, str]]:
    """Likely causes of divergence `b`: at its own pair first, else at the nearest pair upstream."""
    if b.torch_module == "" and b.stage == "forward":  # the model output: what Keras does after the last pair
        last = max((run.knodes.index(k) for k, _ in run.match.pairs), default=-1)
        gone = [n for n in run.match.keras_only if run.knodes.index(n) > last]
        return [(None, f"Keras {n.label} ({n.kind}) has no torch counterpart") for n in gone][:3]
    order = [(k, t) for k, t in run.match.pairs]
    at = next((i for i, (k, t) in enumerate(order) if k.name == b.keras_layer and t.name == b.torch_module), None)
    if at is None:
        return []
    for i in range(at, -1, -1):
        k, t = order[i]
        found = []
        if b.stage == "step" and k.kind == "batch_norm":
            found = [(e, w) for w, e in settings(k, t) if e == "bn-momentum-convention"]
        elif b.stage == "step" and k.kind == "lstm" and b.part == "bias" and i == at:
            found = [(entry("lstm-bias-count"), "torch's LSTM holds two biases (bias_ih, bias_hh) that each take the "
                      "update, so the bias they sum to moves twice as far as Keras' one bias")]
        elif b.stage != "step":
            sym = flatten_symptom(run, k, t)
            found = ([(sym[1], sym[0])] if sym else []) + [(e, w) for w, e in settings(k, t)
                                                           if e != "bn-momentum-convention" or run.training]
            w = _weights_differ(run, k, t) if i == at and run.settings_transfer is None and not sym else None
            found += [(None, w)] if w else []
        if found:
            where = "" if i == at else f" (upstream, at Keras {k.name!r} <-> torch {t.name!r})"
            return [(e, w + where) for e, w in found]
    return []


def verdict(rows, grows, srows, found: Structure, settings_: dict, run):
    from .check import PairResult

    first = next((b for b in rows + grows + srows if not b.ok), None)
    if first is not None:
        run.settings_transfer = settings_["transfer"]
        first.causes = _causes(run, first)
    ok = first is None and found.complete
    return PairResult(ok, first, rows, grows, srows, found, settings_)


__all__ = ["Structure", "entry", "flatten_symptom", "optimizer_pair", "settings", "verdict"]
