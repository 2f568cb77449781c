"""Patch builders for the self-check mutants: each returns `patch(mp)`, which changes one public entry point.

A path names the entry point as a user reaches it ('torch.nn.functional.softmax', 'tf.math.exp',
'keras.ops.mean', 'torch.optim.Adam.__init__', 'keras.layers.Dense.call', 'torch.Tensor.sum'); `mp` is a
pytest.MonkeyPatch, so every change is undone with `mp.undo()`. Frameworks are imported when a patch is applied,
never when a mutant is defined. Wrappers keep the wrapped signature (functools.wraps), so only the `with_defaults`
mutants change what the defaults snapshot reads.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from .. import runtime

Patch = Callable[[Any], None]
_ROOTS = {"torch": runtime.torch, "tf": runtime.tf, "keras": runtime.keras}


def resolve(path: str) -> tuple[Any, str]:
    """(owner, attribute name) of a dotted path whose head is torch, tf or keras."""
    head, *parts = path.split(".")
    if head not in _ROOTS or not parts:
        raise ValueError(f"patch path {path!r} must be <torch|tf|keras>.<attribute>...")
    owner = _ROOTS[head]()
    for part in parts[:-1]:
        owner = getattr(owner, part)
    return owner, parts[-1]


def replace(path: str, make: Callable[[Any], Any]) -> Patch:
    """The object at `path` replaced by make(original)."""
    def patch(mp) -> None:
        owner, name = resolve(path)
        mp.setattr(owner, name, make(getattr(owner, name)))
    patch.paths = (path,)
    return patch


def combine(*patches: Patch) -> Patch:
    """Several patches applied together (one mutant spelled at two entry points, e.g. F.softmax and torch.softmax)."""
    def patch(mp) -> None:
        for p in patches:
            p(mp)
    patch.paths = tuple(path for p in patches for path in p.paths)
    return patch


def nothing(mp) -> None:
    """The null mutant's patch."""


nothing.paths = ()


# ---------------------------------------------------------------- outputs
def _is_torch(y) -> bool:
    return type(y).__module__.startswith("torch")


def _is_float(y) -> bool:
    if _is_torch(y):
        return bool(y.is_floating_point())
    dtype = getattr(y, "dtype", None)
    return bool(getattr(dtype, "is_floating", False))


def map_floats(out, fn: Callable[[Any], Any]):
    """fn applied to every floating tensor of an output (nested tuples/lists kept; other values untouched)."""
    if isinstance(out, (tuple, list)) and not hasattr(out, "_fields"):
        return type(out)(map_floats(o, fn) for o in out)
    return fn(out) if _is_float(out) else out


def wrap_output(path: str, fn: Callable[[Any], Any]) -> Patch:
    """Every floating output of `path` passed through fn(y) (the same entry point, its values changed)."""
    def make(original):
        @functools.wraps(original)
        def mutated(*args, **kwargs):
            return map_floats(original(*args, **kwargs), fn)
        return mutated
    return replace(path, make)


def scale_output(path: str, factor: float) -> Patch:
    """Values of `path` times `factor` (gradients scale with them)."""
    return wrap_output(path, lambda y: y * factor)


def wrap_args(path: str, fn: Callable[..., tuple[tuple, dict]]) -> Patch:
    """`path` called with fn(*args, **kwargs) -> (args, kwargs) instead of what the caller passed."""
    def make(original):
        @functools.wraps(original)
        def mutated(*args, **kwargs):
            a, k = fn(*args, **kwargs)
            return original(*a, **k)
        return mutated
    return replace(path, make)


# ---------------------------------------------------------------- gradients
@functools.cache
def _torch_grad_scaler():
    torch = runtime.torch()

    class ScaleGrad(torch.autograd.Function):
        """Identity forward; the incoming gradient times `factor` backward."""

        @staticmethod
        def forward(ctx, x, factor):
            ctx.factor = factor
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None

    return ScaleGrad.apply


def _tf_scaled_grad(y, factor: float):
    tf = runtime.tf()

    @tf.custom_gradient
    def identity(x):
        return tf.identity(x), lambda dy: dy * tf.cast(factor, dy.dtype)

    return identity(y)


def scaled_grad(y, factor: float):
    """y unchanged (bit for bit, inf and NaN included); the gradient flowing back through it times `factor`."""
    if _is_torch(y):
        return _torch_grad_scaler()(y, factor) if y.requires_grad else y
    return _tf_scaled_grad(y, factor)


def scale_grad(path: str, factor: float) -> Patch:
    """Gradients through `path` times `factor`, its values unchanged."""
    return wrap_output(path, lambda y: scaled_grad(y, factor))


# ---------------------------------------------------------------- rounding
def tf32(t):
    """A float32 torch tensor rounded to TF32 (10 explicit mantissa bits, round to nearest, ties away), as an
    Ampere tensor core reads a matmul operand: relative error <= 2^-11 = 4.9e-4. The gradient passes straight
    through (the rounding is a forward-only effect, as on a GPU)."""
    torch = runtime.torch()
    if t.dtype != torch.float32:
        return t
    frozen = t.detach().contiguous()
    rounded = ((frozen.view(torch.int32) + 0x1000) & ~0x1FFF).view(torch.float32)
    return t + (rounded - frozen) if t.requires_grad else rounded


# ---------------------------------------------------------------- defaults
def with_defaults(path: str, **new_defaults) -> Patch:
    """`path` (a function, or a class's __init__) whose signature AND behaviour use `new_defaults`: what a framework
    upgrade that changed those defaults looks like to inspect.signature and to every caller that omits them."""
    def make(original):
        sig = inspect.signature(original)
        unknown = set(new_defaults) - set(sig.parameters)
        if unknown:
            raise TypeError(f"{path} has no parameter(s) {sorted(unknown)}")

        def mutated(*args, **kwargs):
            bound = sig.bind_partial(*args, **kwargs)
            for name, value in new_defaults.items():
                bound.arguments.setdefault(name, value)
            return original(*bound.args, **bound.kwargs)

        functools.update_wrapper(mutated, original)
        del mutated.__wrapped__  # inspect.signature must read the new defaults, not follow to the original
        mutated.__signature__ = sig.replace(parameters=[
            p.replace(default=new_defaults.get(p.name, p.default)) for p in sig.parameters.values()])
        return mutated
    return replace(path, make)


def rebind(path: str, change: Callable[[dict], None]) -> Patch:
    """`path` called with its bound arguments (defaults applied) edited in place by change(arguments); the
    signature is kept: a constant changed inside the implementation, not a documented default."""
    def make(original):
        sig = inspect.signature(original)

        @functools.wraps(original)
        def mutated(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            change(bound.arguments)
            return original(*bound.args, **bound.kwargs)
        return mutated
    return replace(path, make)
