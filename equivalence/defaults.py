"""Every constructor default of every Keras/torch class and function the suite builds, as a committed snapshot.

    python -m equivalence defaults            # compare with the committed snapshot for the installed versions
    python -m equivalence defaults --write    # (re)write it: fixtures/defaults/keras-<v>_torch-<v>.json

The suite passes every parameter whose default differs between the frameworks explicitly, so a default that
changes in an upgrade may go unnoticed by every numerical test. `snapshot()` records, per qualified name in
KERAS and TORCH, {parameter: default}:

  <param>              a default from inspect.signature (parameters without one are left out; a builtin without
                       a signature is read from the first line of its docstring, a class whose __init__ only
                       forwards *args/**kwargs from the first class in its MRO that declares them: LSTM -> RNNBase)
  config.<key>         Keras get_config() of an instance built with the REQUIRED arguments (nested dicts
                       flattened to dotted keys; 'name' dropped: Keras numbers auto-generated names)
  fn_kwargs.<key>      the keyword arguments a Keras LossFunctionWrapper passes to its function (Huber's delta is
                       there and not in get_config())
  attr.<name>          torch: public attributes of an instance built with the REQUIRED arguments
  param.<name>, buffer.<name>   torch modules: dtype and shape of each parameter/buffer (bias=True, running stats)
  defaults.<key>       torch optimizers: the instance's `defaults` dict
  <build error>        the instance could not be built with the recorded arguments (a new required argument)

Values are JSON-stable: numbers, strings, None and bools as themselves, tuples/lists as lists, anything else as
its repr() with memory addresses stripped. `compare()` names every change as
"<class>: parameter <p> default changed from <old> to <new>" / "... added (default <v>)" / "... removed".
Frameworks are imported only when a snapshot is taken (torch first).
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import math
import pathlib
import random
import re
import warnings
from typing import Any

from . import runtime
from .snapshot_file import SnapshotFile

# ---------------------------------------------------------------- what the suite builds (equivalence/layer_kinds/,
# training.py, catalog/losses.py, catalog/optimizers.py, catalog/schedules.py)
KERAS: tuple[str, ...] = (
    # models and training (training.py: keras_fit)
    "keras.Input", "keras.Model.compile", "keras.Model.fit",
    # layers (layer_kinds/<kind>.py: each LayerKind's keras_layer)
    "keras.layers.Dense", "keras.layers.Conv1D", "keras.layers.Conv2D", "keras.layers.MaxPooling2D",
    "keras.layers.AveragePooling2D", "keras.layers.GlobalAveragePooling2D", "keras.layers.Flatten",
    "keras.layers.Add", "keras.layers.Concatenate", "keras.layers.BatchNormalization",
    "keras.layers.LayerNormalization", "keras.layers.Dropout", "keras.layers.Embedding", "keras.layers.LSTM",
    "keras.layers.GRU", "keras.layers.Activation", "keras.layers.PReLU",
    # activations (layer_kinds/activation.py: keras_activation; the rest are passed by name and take no defaulted
    # parameter)
    "keras.activations.relu", "keras.activations.softmax", "keras.activations.gelu",
    "keras.activations.leaky_relu", "keras.activations.elu",
    # losses (catalog/losses.py, training.py)
    "keras.losses.SparseCategoricalCrossentropy", "keras.losses.CategoricalCrossentropy",
    "keras.losses.BinaryCrossentropy", "keras.losses.Hinge", "keras.losses.SquaredHinge",
    "keras.losses.MeanSquaredError", "keras.losses.MeanAbsoluteError", "keras.losses.Huber",
    "keras.losses.KLDivergence", "keras.losses.Poisson", "keras.losses.CosineSimilarity",
    # optimizers (catalog/optimizers.py)
    "keras.optimizers.SGD", "keras.optimizers.Adam", "keras.optimizers.AdamW", "keras.optimizers.Adamax",
    "keras.optimizers.Nadam", "keras.optimizers.RMSprop", "keras.optimizers.Adagrad", "keras.optimizers.Adadelta",
    # learning-rate schedules (catalog/schedules.py)
    "keras.optimizers.schedules.ExponentialDecay", "keras.optimizers.schedules.CosineDecay",
    "keras.optimizers.schedules.PiecewiseConstantDecay", "keras.optimizers.schedules.PolynomialDecay",
    # per-epoch schedules inside fit (tests/test_training.py)
    "keras.callbacks.LearningRateScheduler",
)

TORCH: tuple[str, ...] = (
    # modules (layer_kinds/<kind>.py: each LayerKind's torch_module)
    "torch.nn.Linear", "torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.MaxPool2d", "torch.nn.AvgPool2d",
    "torch.nn.Flatten", "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.LayerNorm", "torch.nn.Dropout",
    "torch.nn.Embedding", "torch.nn.LSTM", "torch.nn.GRU", "torch.nn.PReLU",
    # loss modules (training.py: CrossEntropyLoss; the module form of each functional loss below)
    "torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss", "torch.nn.BCELoss", "torch.nn.BCEWithLogitsLoss",
    "torch.nn.MSELoss", "torch.nn.L1Loss", "torch.nn.HuberLoss", "torch.nn.SmoothL1Loss", "torch.nn.KLDivLoss",
    "torch.nn.PoissonNLLLoss", "torch.nn.CosineSimilarity",
    # functional losses (catalog/losses.py)
    "torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss", "torch.nn.functional.binary_cross_entropy",
    "torch.nn.functional.binary_cross_entropy_with_logits", "torch.nn.functional.mse_loss",
    "torch.nn.functional.l1_loss", "torch.nn.functional.huber_loss", "torch.nn.functional.smooth_l1_loss",
    "torch.nn.functional.kl_div", "torch.nn.functional.poisson_nll_loss", "torch.nn.functional.cosine_similarity",
    # functional ops (layer_kinds/activation.py: torch_activation; F.pad and F.avg_pool2d: layer_kinds/torchnn.py,
    # pool.py)
    "torch.nn.functional.relu", "torch.nn.functional.gelu", "torch.nn.functional.leaky_relu",
    "torch.nn.functional.elu", "torch.nn.functional.selu", "torch.nn.functional.silu",
    "torch.nn.functional.softmax", "torch.nn.functional.pad", "torch.nn.functional.avg_pool2d",
    # optimizers (catalog/optimizers.py) and gradient clearing (training.py)
    "torch.optim.SGD", "torch.optim.Adam", "torch.optim.AdamW", "torch.optim.Adamax", "torch.optim.NAdam",
    "torch.optim.RMSprop", "torch.optim.Adagrad", "torch.optim.Adadelta",
    "torch.optim.Optimizer.zero_grad", "torch.nn.Module.zero_grad",
    # learning-rate schedulers (catalog/schedules.py)
    "torch.optim.lr_scheduler.StepLR", "torch.optim.lr_scheduler.ExponentialLR",
    "torch.optim.lr_scheduler.CosineAnnealingLR", "torch.optim.lr_scheduler.MultiStepLR",
    "torch.optim.lr_scheduler.PolynomialLR",
    # gradient clipping (training.py: torch_loop's hook, tests/test_training.py)
    "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_",
)

PARAMS, OPTIMIZER = "<params>", "<optimizer>"  # placeholders: [one zero Parameter]; SGD over it with lr=0.1
# The minimal required arguments each class is built with (positional). Classes not listed take none; functions
# and methods are not built.
REQUIRED: dict[str, tuple] = {
    "keras.layers.Dense": (3,), "keras.layers.Conv1D": (3, 2), "keras.layers.Conv2D": (3, 2),
    "keras.layers.AveragePooling2D": (2,),  # MaxPooling2D defaults pool_size to (2, 2); AveragePooling2D has none
    "keras.layers.Dropout": (0.5,), "keras.layers.Embedding": (5, 3), "keras.layers.LSTM": (3,),
    "keras.layers.GRU": (3,), "keras.layers.Activation": ("relu",),
    "keras.optimizers.schedules.ExponentialDecay": (0.1, 3, 0.5), "keras.optimizers.schedules.CosineDecay": (0.1, 10),
    "keras.optimizers.schedules.PiecewiseConstantDecay": ([3, 6], [0.1, 0.05, 0.025]),
    "keras.optimizers.schedules.PolynomialDecay": (0.1, 8),
    "keras.callbacks.LearningRateScheduler": (lambda epoch, lr: lr,),
    "torch.nn.Linear": (2, 3), "torch.nn.Conv1d": (2, 3, 2), "torch.nn.Conv2d": (2, 3, 2),
    "torch.nn.MaxPool2d": (2,), "torch.nn.AvgPool2d": (2,), "torch.nn.BatchNorm1d": (3,),
    "torch.nn.BatchNorm2d": (3,), "torch.nn.LayerNorm": (3,), "torch.nn.Embedding": (5, 3),
    "torch.nn.LSTM": (2, 3), "torch.nn.GRU": (2, 3),
    **{f"torch.optim.{c}": (PARAMS,) for c in ("SGD", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop", "Adagrad",
                                               "Adadelta")},
    "torch.optim.lr_scheduler.StepLR": (OPTIMIZER, 3), "torch.optim.lr_scheduler.ExponentialLR": (OPTIMIZER, 0.9),
    "torch.optim.lr_scheduler.CosineAnnealingLR": (OPTIMIZER, 10),
    "torch.optim.lr_scheduler.MultiStepLR": (OPTIMIZER, [4, 7]), "torch.optim.lr_scheduler.PolynomialLR": (OPTIMIZER,),
}

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "defaults"
GENERATOR = "python -m equivalence defaults --write"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


# ---------------------------------------------------------------- values
def stable(value: Any) -> Any:
    """A JSON-stable form of a default: JSON scalars as themselves, sequences as lists, anything else repr()."""
    if value is None or isinstance(value, bool):
        return value if value is None else bool(value)
    if isinstance(value, int):
        return int(value)  # an IntEnum as the number JSON writes for it
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        return [stable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): stable(v) for k, v in value.items()}
    return _ADDRESS.sub("", repr(value))


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = stable(value)


def _simple(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, (list, tuple)) and all(_simple(v) for v in value)


# ---------------------------------------------------------------- reading defaults
def resolve(qualname: str):
    """The object a qualified name ('keras.layers.Dense', 'torch.optim.Optimizer.zero_grad') refers to."""
    head, *rest = qualname.split(".")
    obj = {"keras": runtime.keras, "torch": runtime.torch}[head]()
    for part in rest:
        obj = getattr(obj, part)
    return obj


def _declared(sig: inspect.Signature) -> bool:
    """False when a signature only forwards (*args, **kwargs)."""
    return any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values())


def _docstring_signature(obj) -> dict[str, Any]:
    """Defaults from a builtin's documented call line, e.g. 'gelu(input, approximate = 'none') -> Tensor'."""
    name = getattr(obj, "__name__", "")
    for line in (obj.__doc__ or "").splitlines():
        m = re.match(rf"\s*{re.escape(name)}\((.*)\)", line)
        if m:
            args = ast.parse(f"def f({m.group(1).split(') ->')[0]}): pass").body[0].args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            return {a.arg: _literal(d) for a, d in pairs}
    raise ValueError(f"no signature and no call line in the docstring of {obj!r}")


def _literal(node: ast.AST) -> Any:
    try:
        return stable(ast.literal_eval(node))
    except ValueError:
        return ast.unparse(node)


def signature_defaults(obj) -> dict[str, Any]:
    """{parameter: stable default} of every parameter with a default."""
    try:
        sig = inspect.signature(obj)
    except ValueError:
        return _docstring_signature(obj)
    if isinstance(obj, type) and not _declared(sig):
        for base in obj.__mro__[1:]:
            init = base.__dict__.get("__init__")
            if init is not None and _declared(inspect.signature(init)):
                sig = inspect.signature(init)
                break
    return {p.name: stable(p.default) for p in sig.parameters.values() if p.default is not inspect.Parameter.empty}


@contextlib.contextmanager
def _untouched_rng():
    """Building instances draws from torch's and Python's generators (init, Keras seeds): leave them as they were."""
    torch, state = runtime.torch(), random.getstate()
    try:
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        random.setstate(state)


def _arg(a: Any):
    torch = runtime.torch()
    if a == PARAMS:
        return [torch.nn.Parameter(torch.zeros(1))]
    if a == OPTIMIZER:
        return torch.optim.SGD(_arg(PARAMS), lr=0.1)
    return a


def instance_defaults(qualname: str, cls: type) -> dict[str, Any]:
    """The defaults an instance built with REQUIRED[qualname] shows (see the module docstring)."""
    out: dict[str, Any] = {}
    with _untouched_rng():
        try:
            obj = cls(*[_arg(a) for a in REQUIRED.get(qualname, ())])
        except Exception as e:  # noqa: BLE001 - a new required argument is itself the change to report
            return {"<build error>": f"{type(e).__name__}: {_ADDRESS.sub('', str(e))}"}
        if qualname.startswith("keras."):
            # callbacks have no get_config(): their public attributes carry the defaults (verbose, ...)
            raw = obj.get_config() if hasattr(obj, "get_config") else {
                k: v for k, v in vars(obj).items() if not k.startswith("_") and not callable(v)}
            config = {k: v for k, v in raw.items() if k != "name"}
            if config:
                _flatten("config", config, out)
            if isinstance(getattr(obj, "_fn_kwargs", None), dict):
                for k, v in obj._fn_kwargs.items():
                    _flatten(f"fn_kwargs.{k}", v, out)
            return out
        torch = runtime.torch()
        if isinstance(obj, torch.optim.Optimizer):
            for k, v in obj.defaults.items():
                out[f"defaults.{k}"] = stable(v)
            return out
        out |= {f"attr.{k}": stable(v) for k, v in vars(obj).items() if not k.startswith("_") and _simple(v)}
        if isinstance(obj, torch.nn.Module):
            out |= {f"param.{k}": f"{p.dtype}{list(p.shape)}" for k, p in obj.named_parameters()}
            out |= {f"buffer.{k}": f"{b.dtype}{list(b.shape)}" for k, b in obj.named_buffers()}
    return out


def defaults_of(qualname: str) -> dict[str, Any]:
    """{parameter: default} of one class or function (signature defaults, then what an instance shows)."""
    obj = resolve(qualname)
    out = signature_defaults(obj)
    if isinstance(obj, type):
        out |= instance_defaults(qualname, obj)
    return out


def names(framework: str | None = None) -> tuple[str, ...]:
    """Every qualified name (or one framework's: 'keras', 'torch')."""
    return {"keras": KERAS, "torch": TORCH, None: KERAS + TORCH}[framework]


def snapshot(qualnames: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """{qualified name: {parameter: default}} for every name (default: all of KERAS and TORCH)."""
    return {name: defaults_of(name) for name in (names() if qualnames is None else qualnames)}


# ---------------------------------------------------------------- the committed snapshot
def snapshot_versions() -> dict[str, str]:
    """The installed Keras and torch versions (torch's local build tag, '+cpu', dropped)."""
    v = runtime.versions()
    return {"keras": v.get("keras", "none"), "torch": v.get("torch", "none").split("+")[0]}


# the versions are looked up when used (a test may monkeypatch snapshot_versions)
COMMITTED = SnapshotFile(FIXTURES, "defaults", GENERATOR, indent=1, versions=lambda: snapshot_versions())
snapshot_path, load_committed, document = COMMITTED.path, COMMITTED.load, COMMITTED.document


def compare(qualname: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per changed, added or removed parameter default of `qualname`."""
    out = []
    for p in old:
        if p not in new:
            out.append(f"{qualname}: parameter {p} removed (default was {old[p]!r})")
        elif new[p] != old[p] or type(new[p]) is not type(old[p]):
            out.append(f"{qualname}: parameter {p} default changed from {old[p]!r} to {new[p]!r}")
    out += [f"{qualname}: parameter {p} added (default {new[p]!r})" for p in new if p not in old]
    return out


def compare_all(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    """compare() over every name; a name only in one snapshot is reported as a class added or removed."""
    out = [f"{n}: class removed from the snapshot (was committed with {len(old[n])} defaults)"
           for n in old if n not in new]
    out += [f"{n}: class not in the committed snapshot" for n in new if n not in old]
    for n in new:
        if n in old:
            out += compare(n, old[n], new[n])
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: check (default) or --write the snapshot for the installed versions; exit 1 on any change."""
    return COMMITTED.main(argv, prog="python -m equivalence defaults", description=__doc__.split("\n")[0],
                          take=snapshot, changes=compare_all,
                          wrote="wrote {records} defaults of {owners} classes/functions to {path}",
                          summary="{owners} classes/functions, {changes} changed defaults against {path}")
