"""The public API surface of both frameworks' layers, losses and optimizers, as one JSON-able snapshot.

    python -m equivalence.api_surface            # compare with the committed snapshot for the installed versions
    python -m equivalence.api_surface --write    # (re)write it: fixtures/api_surface/keras-<v>_torch-<v>.json

equivalence/defaults.py records the defaults of what the suite BUILDS; this records every public class an upgrade
can change under a user's code, whether the suite uses it or not: each class of

  keras.layers       every Layer subclass exported by keras.layers
  keras.losses       every Loss subclass          keras.optimizers   every Optimizer subclass
  torch.nn.modules   every nn.Module subclass of torch.nn except the losses
  torch.nn.losses    the nn.Module subclasses of torch.nn named '*Loss'
  torch.optim        every Optimizer subclass of torch.optim

as `{"<group>.<Class>": {key: value}}`, keys sorted:

  sig.<param>        the constructor's parameter: its kind ('pos_or_kw', 'kw', 'pos', '*args', '**kwargs') and,
                     where it has one, ' = ' and the default's repr (memory addresses stripped). A class whose
                     __init__ only forwards (*args, **kwargs) is read from the first class in its MRO that declares
                     parameters (torch LSTM -> RNNBase), as defaults.py does.
  config.<key>       Keras: get_config() of an instance built with no arguments, or with MINIMAL_ARGS (by parameter
                     name, with per-class overrides in MINIMAL_BY_CLASS); nested dicts flattened to dotted keys,
                     the top-level 'name' dropped (Keras numbers automatic names)
  defaults.<key>     torch optimizers: the instance's `defaults` dict (built on one parameter)
  <not built>        the instance could not be built with those arguments: the exception's class name
  alias_of           a second public name of a class already recorded under its own name (Convolution2D)

torch modules are recorded by signature only: their __init__ defaults ARE the constructor defaults. Values are
JSON-stable (defaults.stable). Instances are built with Python's random seeded to 0 (a Keras layer without a seed
draws one from it), and Python's and torch's generators are left as they were.
Size and speed (keras 3.15.1 / torch 2.13.0): 382 classes, 4616 keys, a 184 KB file; built in about 1.4 s once both
frameworks are imported (the first torch optimizer a process builds imports torch._dynamo, about 5 s more on this
machine, as every optimizer test does).

`changes(old, new)` names every difference as "<group>.<Class>: parameter sig.<p> default changed from ... to
...", "... added", "... removed", or a class added/removed (defaults.compare_all).
"""
from __future__ import annotations

import inspect
import pathlib
import random
import sys
from typing import Any

from . import runtime
from .defaults import _ADDRESS, _declared, _flatten, _untouched_rng, compare_all, snapshot_versions, stable
from .snapshot_file import SnapshotFile

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "api_surface"
GENERATOR = "python -m equivalence.api_surface --write"
GROUPS = ("keras.layers", "keras.losses", "keras.optimizers", "torch.nn.modules", "torch.nn.losses", "torch.optim")
KINDS = {inspect.Parameter.POSITIONAL_ONLY: "pos", inspect.Parameter.POSITIONAL_OR_KEYWORD: "pos_or_kw",
         inspect.Parameter.VAR_POSITIONAL: "*args", inspect.Parameter.KEYWORD_ONLY: "kw",
         inspect.Parameter.VAR_KEYWORD: "**kwargs"}

# Values for REQUIRED Keras constructor parameters, by parameter name: the smallest valid value of each.
MINIMAL_ARGS: dict[str, Any] = {
    "units": 2, "filters": 2, "kernel_size": 3, "rate": 0.5, "pool_size": 2, "output_size": 2,
    "activation": "relu", "stddev": 0.1, "n": 2, "scale": 1.0, "target_shape": (2,), "dims": (1,), "axes": 1,
    "input_dim": 4, "output_dim": 3, "num_heads": 2, "key_dim": 4, "head_dim": 4, "num_query_heads": 2,
    "num_key_value_heads": 1, "equation": "ab,bc->ac", "output_shape": 2, "num_bins": 4, "height": 2, "width": 2,
    "factor": 0.1, "height_factor": 0.1, "width_factor": 0.1, "max_number_of_boxes": 2, "num_tokens": 4,
    "shape": (2,), "learning_rate": 0.01,
}
# Per-class arguments where a parameter needs an object (a wrapped layer, a cell) or the name table is not enough;
# an inner layer gets a fixed name, so the wrapper's config is the same in every process.
MINIMAL_BY_CLASS: dict[str, Any] = {
    "Bidirectional": lambda k: (k.layers.LSTM(2, name="inner"),),
    "TimeDistributed": lambda k: (k.layers.Dense(2, name="inner"),),
    "Wrapper": lambda k: (k.layers.Dense(2, name="inner"),),
    "SpectralNormalization": lambda k: (k.layers.Dense(2, name="inner"),),
    "RNN": lambda k: (k.layers.LSTMCell(2, name="inner"),),
    "StackedRNNCells": lambda k: ([k.layers.LSTMCell(2, name="inner")],),
    "Pipeline": lambda k: ([k.layers.Rescaling(1.0, name="inner")],),
    "CategoryEncoding": lambda k: ((), {"num_tokens": 4}),
    "Discretization": lambda k: ((), {"num_bins": 4}),
    "InputLayer": lambda k: ((), {"shape": (2,)}),
    "LossScaleOptimizer": lambda k: (k.optimizers.SGD(name="inner"),),
}
# Classes whose instance needs an external object (a function, a saved model, another framework's module): their
# signature is recorded, their config is not.
NOT_BUILT = {"Lambda", "FlaxLayer", "JaxLayer", "TFSMLayer", "TorchModuleWrapper", "MultiOptimizer"}


def _kind_and_default(p: inspect.Parameter) -> str:
    kind = KINDS[p.kind]
    if p.default is inspect.Parameter.empty:
        return kind
    return f"{kind} = {_ADDRESS.sub('', repr(p.default))}"


def signature(cls: type) -> dict[str, str]:
    """{'sig.<param>': '<kind>[ = <default repr>]'} of a class's constructor (self left out)."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError) as exc:
        return {"sig.<unreadable>": type(exc).__name__}
    if not _declared(sig):
        for base in cls.__mro__[1:]:
            init = base.__dict__.get("__init__")
            if init is not None and _declared(inspect.signature(init)):
                sig = inspect.signature(init)
                sig = sig.replace(parameters=list(sig.parameters.values())[1:])  # self
                break
    return {f"sig.{p.name}": _kind_and_default(p) for p in sig.parameters.values()}


def _public_classes(module, base: type, keep=lambda name: True) -> dict[str, type]:
    return {name: obj for name in sorted(dir(module)) if not name.startswith("_") and keep(name)
            for obj in [getattr(module, name)] if isinstance(obj, type) and issubclass(obj, base)}


def _keras_args(keras, name: str, cls: type) -> tuple[tuple, dict]:
    if name in MINIMAL_BY_CLASS:
        made = MINIMAL_BY_CLASS[name](keras)
        return made if len(made) == 2 and isinstance(made[1], dict) else (made, {})
    sig = inspect.signature(cls)
    required = [p.name for p in sig.parameters.values()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return (), {p: MINIMAL_ARGS[p] for p in required if p in MINIMAL_ARGS}


def _keras_config(keras, name: str, cls: type) -> dict[str, Any]:
    if name in NOT_BUILT:
        return {"<not built>": "needs an external object"}
    try:
        args, kwargs = _keras_args(keras, name, cls)
        config = cls(*args, **kwargs).get_config()
    except Exception as exc:  # noqa: BLE001 - a new required argument is itself the change to record
        return {"<not built>": type(exc).__name__}
    out: dict[str, Any] = {}
    _flatten("config", {k: v for k, v in config.items() if k != "name"}, out)
    return out


def _torch_optimizer_defaults(torch, cls: type) -> dict[str, Any]:
    params = [torch.nn.Parameter(torch.zeros(2, 2))]  # 2-D: Muon accepts matrices only
    try:
        optimizer = cls(params)
    except Exception as exc:  # noqa: BLE001 - see _keras_config
        return {"<not built>": type(exc).__name__}
    return {f"defaults.{k}": stable(v) for k, v in optimizer.defaults.items()}


def _group(classes: dict[str, type], group: str, extra) -> dict[str, dict[str, Any]]:
    """One group's records; a class seen before under its own name is recorded as an alias of it."""
    out, canonical = {}, {}
    for name, cls in classes.items():
        own_name = cls.__name__ if classes.get(cls.__name__) is cls else None  # exported under its own name
        if (own_name and own_name != name) or cls in canonical.values():
            out[f"{group}.{name}"] = {"alias_of": own_name or next(n for n, c in canonical.items() if c is cls)}
            continue
        canonical[name] = cls
        record = signature(cls) | extra(name, cls)
        out[f"{group}.{name}"] = dict(sorted(record.items()))
    return out


def snapshot(groups: tuple[str, ...] = GROUPS) -> dict[str, dict[str, Any]]:
    """{'<group>.<Class>': {key: value}} for every public class of `groups` (default: all of GROUPS), sorted."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown API surface group(s) {unknown}; the groups are {GROUPS}")
    torch = runtime.torch()
    keras = runtime.keras() if runtime.has_module("tensorflow") else None  # Keras runs on TF here (GPU box: none)
    no_extra = lambda name, cls: {}  # noqa: E731
    sources = {
        "keras.layers": lambda: (_public_classes(keras.layers, keras.layers.Layer),
                                 lambda n, c: _keras_config(keras, n, c)),
        "keras.losses": lambda: (_public_classes(keras.losses, keras.losses.Loss),
                                 lambda n, c: _keras_config(keras, n, c)),
        "keras.optimizers": lambda: (_public_classes(keras.optimizers, keras.optimizers.Optimizer),
                                     lambda n, c: _keras_config(keras, n, c)),
        "torch.nn.modules": lambda: (_public_classes(torch.nn, torch.nn.Module, lambda n: not n.endswith("Loss")),
                                     no_extra),
        "torch.nn.losses": lambda: (_public_classes(torch.nn, torch.nn.Module, lambda n: n.endswith("Loss")),
                                    no_extra),
        "torch.optim": lambda: (_public_classes(torch.optim, torch.optim.Optimizer),
                                lambda n, c: _torch_optimizer_defaults(torch, c)),
    }
    out: dict[str, dict[str, Any]] = {}
    with _untouched_rng():
        random.seed(0)  # a Keras layer built with seed=None draws one from Python's random (RandomCrop's config
        # shows it): fixed here, and put back by _untouched_rng
        for group in groups:
            if group.startswith("keras.") and keras is None:
                continue
            classes, extra = sources[group]()
            out |= _group(classes, group, extra)
    return dict(sorted(out.items()))


def changes(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    """One line per class added/removed and per parameter/config key changed, added or removed."""
    return compare_all(old, new)


# ---------------------------------------------------------------- the committed snapshot
COMMITTED = SnapshotFile(FIXTURES, "surface", GENERATOR, indent=0, versions=snapshot_versions)
snapshot_path, load_committed, document = COMMITTED.path, COMMITTED.load, COMMITTED.document


def main(argv: list[str] | None = None) -> int:
    """CLI: check (default) or --write the snapshot for the installed versions; exit 1 on any change."""
    return COMMITTED.main(argv, prog="python -m equivalence.api_surface", description=__doc__.split("\n")[0],
                          take=snapshot, changes=changes, wrote="wrote {records} keys of {owners} classes to {path}",
                          summary="{owners} classes, {changes} changes against {path}")


if __name__ == "__main__":
    sys.exit(main())
