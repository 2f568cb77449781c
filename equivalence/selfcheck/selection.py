"""Checks that a mutant's selection names tests that exist, without collecting them (pytest collection of the
suite costs seconds): the file exists, the test function is defined in it, a bracketed parametrization id is one
the function's @pytest.mark.parametrize marks generate, and every word of a -k expression appears in a test name
or parametrization id of the selection. Test modules are imported under a private name (the suite imports no
framework at import time); their parametrize marks are read, not run.
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import itertools
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the checkout: equivalence/ and tests/ side by side
_KEYWORDS = {"and", "or", "not"}


def split_node(node: str) -> tuple[str, str | None, str | None]:
    """'tests/x.py::test_f[a-b]' -> ('tests/x.py', 'test_f', 'a-b'); missing parts are None."""
    path, _, rest = node.partition("::")
    if not rest:
        return path, None, None
    m = re.fullmatch(r"([^\[]+)(?:\[(.*)\])?", rest)
    return path, m.group(1), m.group(2)


@functools.cache
def defined_tests(path: pathlib.Path) -> frozenset[str]:
    """Test functions of a module as pytest names them: 'test_f' and 'TestClass::test_m'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)}
    return frozenset(names)


@functools.cache
def _module(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(f"_selfcheck_probe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _idval(value, argname: str, index: int) -> str:
    """pytest's id for one argument value without an explicit id (scalars as themselves, else argname + index)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)
    return f"{argname}{index}"


def _mark_ids(mark) -> list[str]:
    """The ids one @pytest.mark.parametrize mark generates."""
    argnames, argvalues = mark.args[0], mark.args[1]
    names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
    explicit = mark.kwargs.get("ids")
    out = []
    for i, value in enumerate(argvalues):
        if getattr(value, "id", None) is not None:
            out.append(value.id)
        elif explicit is not None and not callable(explicit):
            out.append(str(explicit[i]))
        else:
            values = getattr(value, "values", value if len(names) > 1 else (value,))
            out.append("-".join(_idval(v, n, i) for v, n in zip(values, names)))
    return out


@functools.cache
def param_ids(path: pathlib.Path, test: str) -> frozenset[str] | None:
    """Every parametrization id of a test function (stacked marks joined bottom-up with '-'), None if it has none."""
    obj = _module(path)
    for part in test.split("::"):
        obj = getattr(obj, part)
    marks = [m for m in getattr(obj, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        return None
    return frozenset("-".join(combo) for combo in itertools.product(*(_mark_ids(m) for m in marks)))


def _node_problems(node: str, root: pathlib.Path) -> list[str]:
    path, test, param = split_node(node)
    file = root / path
    if not file.exists():
        return [f"{node}: {path} does not exist"]
    if test is None:
        return []
    if file.is_dir() or test not in defined_tests(file):
        return [f"{node}: {path} defines no test {test!r}"]
    if param is None:
        return []
    ids = param_ids(file, test)
    if ids is None:
        return [f"{node}: {test} is not parametrized"]
    return [] if param in ids else [f"{node}: {test} has no parametrization id {param!r}"]


def _names_in(node: str, root: pathlib.Path) -> set[str]:
    """Every test name and parametrization id the node selects (what -k matches against)."""
    path, test, param = split_node(node)
    file = root / path
    tests = [test] if test else sorted(defined_tests(file)) if file.is_file() else []
    names = set(tests)
    for t in tests:
        names |= {param} if param else set(param_ids(file, t) or ())
    return names


def k_problems(k: str, select, root: pathlib.Path) -> list[str]:
    """Words of a -k expression that match no test name or parametrization id of the selection."""
    names = set().union(*(_names_in(n, root) for n in select)) if select else set()
    words = [w for w in re.findall(r"[\w.\[\]-]+", k) if w.lower() not in _KEYWORDS]
    return [f"-k {k!r}: {w!r} matches no test or parametrization id of the selection"
            for w in words if not any(w.lower() in n.lower() for n in names)]


def selection_problems(mutant, root: pathlib.Path = ROOT) -> list[str]:
    """Everything wrong with a mutant's selection (empty when every node exists)."""
    out = [p for node in mutant.select for p in _node_problems(node, root)]
    if mutant.k and not out:
        out += k_problems(mutant.k, mutant.select, root)
    return [f"{mutant.id}: {p}" for p in out]
