"""`python -m equivalence check`: a saved Keras model against a torch module made by a factory.

    python -m equivalence check --keras MODEL.keras --torch PKG.MODULE:FACTORY [--transfer keras-to-torch]
        [--inputs X.npy | --input-shape 2,32,32,3] [--training] [--report OUT.json] [--markdown OUT.md]

Exit 0: equivalent; 1: divergent (the first divergent layer on both sides is printed); 2: a usage or mapping
error, one line saying what to fix. FACTORY is imported with the current directory on sys.path and called with no
arguments; it must return a torch.nn.Module.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

import numpy as np

from .errors import PairError

EXIT_EQUIVALENT, EXIT_DIVERGENT, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise PairError(f"{message} (python -m equivalence check --help)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m equivalence check",
                description="Check a Keras model against a torch module and localize the first divergence.")
    p.add_argument("--keras", required=True, metavar="MODEL.keras", help="a saved Keras model")
    p.add_argument("--torch", required=True, metavar="PKG.MODULE:FACTORY",
                   help="a callable returning the torch module (imported with the current directory on sys.path)")
    p.add_argument("--transfer", choices=("keras-to-torch", "torch-to-keras"),
                   help="copy the weights across first (default: compare the models as they are)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--inputs", metavar="X.npy", help="inputs in the Keras model's layout")
    src.add_argument("--input-shape", metavar="N,...", help="draw standard-normal float32 inputs of this shape "
                     "(seed 0); default: batch 2 of the Keras input shape")
    p.add_argument("--map", action="append", default=[], metavar="KERAS_LAYER=TORCH.PATH",
                   help="pair one layer by hand (repeatable)")
    p.add_argument("--training", action="store_true", help="compare in training mode (dropout disabled)")
    p.add_argument("--no-grads", action="store_true", help="skip the gradient comparison")
    p.add_argument("--report", metavar="OUT.json", help="write the JSON report")
    p.add_argument("--markdown", metavar="OUT.md", help="write the Markdown report")
    return p


def load_factory(spec: str):
    """The torch module a 'pkg.module:factory' spec makes."""
    from ..sides import pair_probe

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise PairError(f"--torch {spec!r}: expected PKG.MODULE:FACTORY, e.g. mymodels.net:make_model")
    added = os.getcwd() not in sys.path
    if added:  # as `python -m` would have it, for this import only
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to fix
        raise PairError(f"--torch {spec!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}") from exc
    finally:
        if added:
            sys.path.remove(os.getcwd())
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise PairError(f"--torch {spec!r}: {module_name!r} has no callable {attr!r}")
    try:
        made = factory()
    except Exception as exc:  # noqa: BLE001
        raise PairError(f"--torch {spec!r}: the factory raised {type(exc).__name__}: {exc}") from exc
    if not pair_probe.is_torch_module(made):
        raise PairError(f"--torch {spec!r}: the factory returned {type(made).__name__}, not a torch.nn.Module")
    return made


def load_keras(path: str):
    from ..sides import pair_probe

    if not os.path.isfile(path):
        raise PairError(f"--keras {path!r}: no such file")
    try:
        return pair_probe.load_keras(path)
    except Exception as exc:  # noqa: BLE001 - a file Keras cannot read
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise PairError(f"--keras {path!r} does not load as a Keras model: {type(exc).__name__}: {first}") from exc


def inputs(args, keras_model) -> np.ndarray:
    if args.inputs:
        try:
            return np.load(args.inputs)
        except Exception as exc:  # noqa: BLE001
            raise PairError(f"--inputs {args.inputs!r} does not load as a .npy array: {exc}") from exc
    if args.input_shape:
        try:
            shape = tuple(int(s) for s in args.input_shape.split(","))
        except ValueError:
            raise PairError(f"--input-shape {args.input_shape!r}: expected comma-separated sizes like 2,32,32,3") \
                from None
    else:
        shape = (2, *keras_model.inputs[0].shape[1:])
        if any(s is None for s in shape):
            raise PairError(f"the Keras input shape {tuple(keras_model.inputs[0].shape)} has free sizes: give "
                            f"--input-shape or --inputs")
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def run(argv) -> int:
    from .check import check_pair

    args = parser().parse_args(argv)
    mapping = {}
    for item in args.map:
        k, sep, t = item.partition("=")
        if not sep or not k or not t:
            raise PairError(f"--map {item!r}: expected KERAS_LAYER=TORCH.PATH")
        mapping[k] = t
    keras_model = load_keras(args.keras)
    torch_module = load_factory(args.torch)
    x = inputs(args, keras_model)
    result = check_pair(keras_model, torch_module, x, mapping=mapping or None, training=args.training,
                        transfer=args.transfer.replace("-", "_") if args.transfer else None,
                        grads=not args.no_grads)
    print(result.summary())
    if args.report:
        with open(args.report, "w") as f:
            f.write(result.to_json())
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(result.to_markdown())
    return EXIT_EQUIVALENT if result.equivalent else EXIT_DIVERGENT


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        parser().print_help()
        return EXIT_EQUIVALENT
    try:
        return run(argv)
    except PairError as exc:  # one line: a mapping error's items joined with '; '
        print("error: " + "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()), file=sys.stderr)
        return EXIT_USAGE


__all__ = ["EXIT_DIVERGENT", "EXIT_EQUIVALENT", "EXIT_USAGE", "load_factory", "main", "parser"]
