"""OpInfo and Sample: one record per tensor op (modelled on PyTorch's OpInfo), and one drawn input case.

An OpInfo says how to call the op in PyTorch and in TensorFlow (tf.* or keras.ops, named by `api`), a float64 NumPy
reference, which dtypes it is tested in, how its inputs are drawn and how accurate it must be. The catalogue entries
that explain where the frameworks disagree select it ('op:<name or id>'): `differences.for_record("op", info)`.
Generic tests in tests/test_ops.py iterate ``OP_DB``; adding an op never needs a new test.

Kwargs in a Sample are *neutral* (``axis``, ``keepdims``, ``k``...): each side's callable translates them, so the
sample is framework-free and its repr stays short in hypothesis' falsifying example.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import Record, RecordError
from ..tolerances import DEFAULT_ULPS, EXACT, EXACT_DTYPES, Tolerance, dtype_name, elementwise, for_arrays, tolerance

OP_FAMILIES = ("elementwise", "binary", "reduction", "linalg", "shape", "nn",
               "scatter")  # one catalog module ops_<family>.py each
# OpInfo.zero_sign of the ops that sum products (matmul, einsum, tensordot, convolutions).
DOT_PRODUCT_ZERO_SIGN = ("a dot product of -0.0 products is -0.0 if the sum starts from the first product, +0.0 if "
                         "from a +0.0 accumulator: IEEE 754 defines no dot product, NumPy/BLAS start at +0.0, TF and "
                         "torch per kernel (catalogue dot-product-zero-sign)")
APIS = ("tf", "keras.ops")


REGISTRY = "op registry"  # how RecordError names OP_DB: "op registry entry 'exp': ..."
MalformedOpInfo = RecordError  # the registries' one error type, under the name the op registry always used


@dataclasses.dataclass(frozen=True)
class Sample:
    """One input case: positional arrays, neutral kwargs and a short description."""

    args: tuple  # NumPy arrays in the case's dtypes (bfloat16 as ml_dtypes.bfloat16; indices int64; masks bool)
    kwargs: dict = dataclasses.field(default_factory=dict)  # neutral python kwargs (axis=1, keepdims=True, ...)
    desc: str = ""  # what the case exercises ('broadcast', 'stride2'), shown in repr and failure messages

    def __repr__(self) -> str:
        arrs = ", ".join(f"{a.dtype.name}{list(a.shape)}" for a in map(np.asarray, self.args))
        kw = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"Sample<{self.desc or '-'}>({arrs}{kw})"

    def _repr_pretty_(self, p, cycle):  # hypothesis' falsifying example prints this short form
        p.text(repr(self))

    def describe(self) -> str:
        """Multi-line description of every input, values included when small (for failure messages)."""
        lines = [f"  sample: {self!r}"]
        for i, a in enumerate(self.args):
            a = np.asarray(a)
            body = np.array2string(a.astype(np.float64) if a.dtype.name == "bfloat16" else a, threshold=40)
            lines.append(f"  arg{i} {a.dtype.name}{list(a.shape)} = {body}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class OnDevice:
    """What one op does differently on one accelerator (PyTorch's per-device toleranceOverride and skips, as data).

    unsupported: {dtype: (exception type, message regex)}: torch has no kernel there; the device check asserts the
    error, so a release that adds the kernel fails there and the override is removed.
    tolerance: {dtype: fn(sample, expected) -> Tolerance}: the device's own rule where its kernel is measurably
    less accurate than the CPU rule allows (the function's comment holds the observed error).
    grad_avoid: edge kinds the device's gradient check does not draw (a test or catalogue entry asserts them).
    """

    unsupported: dict = dataclasses.field(default_factory=dict)
    tolerance: dict = dataclasses.field(default_factory=dict)
    grad_avoid: frozenset = frozenset()


@dataclasses.dataclass(frozen=True, repr=False)
class OpInfo(Record):
    """Everything the generic op tests need to know about one op (and variant)."""

    REGISTRY = REGISTRY

    name: str  # neutral snake_case op name: 'floor_divide', 'conv2d'
    family: str  # one of OP_FAMILIES (also the catalog module it lives in)
    torch_fn: Callable[..., Any]  # torch_fn(*torch_tensors, **neutral_kwargs); device-agnostic
    tf_fn: Callable[..., Any]  # tf_fn(*tf_tensors, **neutral_kwargs) through the API named by `api`
    ref: Callable[..., Any] | None  # ref(*arrays, **kwargs) -> ndarray (or tuple); floats as float64, ints as int64
    dtypes: tuple[str, ...]  # dtype names the op is tested in (float32 always; others where both frameworks run)
    samples_fn: Callable[[str, frozenset], Any]  # (dtype, avoid) -> hypothesis strategy of Sample
    torch_api: str  # the torch callable users write, for the coverage table: 'torch.floor_divide'
    tf_api: str  # the TF callable users write: 'tf.math.floordiv' or 'keras.ops.floor_divide'
    tf_ref: Callable[..., Any] | None = None  # TF's documented semantics where a catalogue entry (for_record)
    # says TF computes something else than `ref` (floor(x / y) for floordiv): TF is checked against it, and TF vs
    # torch only where the two references agree. Same signature as `ref`, evaluated in the test dtype.
    error_bound: Callable[[str, str, Sample], float] | None = None  # (side, dtype, sample) -> absolute error that
    # side's algorithm can reach beyond the tolerance rule's model (half dtypes accumulated in float32, errors growing
    # like sqrt(depth)): serial sums of terms that round alike grow like depth * u, TF adds float16 in float16
    # (tf-half-sums-accumulate-in-half). That side is checked with the rule's atol plus it (side_tolerance), the
    # docstring's first line is the reason shown; 0.0 where the rule holds
    variant: str = ""  # '' or a slug ('keras', 'stride2_same'); id = name-variant
    api: str = "tf"  # which TF-side API tf_fn uses: 'tf' or 'keras.ops'
    supports_grad: bool = False  # float outputs differentiable: the gradient tests compare GradientTape vs autograd
    grad_samples_fn: Callable[[str, frozenset], Any] | None = None  # like samples_fn, drawn inside the op's smooth
    # domain (sqrt, log: x >= 1/8) so the gradient tests need not filter out most draws; None: samples_fn
    grad_args: tuple[int, ...] | None = None  # positions of the arguments both sides differentiate (None: every
    # floating one); batch_norm inference: torch has no gradient for the running statistics
    grad_terms: Callable[..., Any] | None = None  # ops whose backward formula forms a local derivative from
    # terms that cancel (tanh' = 1 - t^2 at t ~ -1, softmax's s (c - <c, s>)): grad_terms(cot, *args, **kwargs)
    # (float64 cotangent and reference arguments) -> one entry per argument: per element, the magnitude of the terms
    # its gradient is computed from (broadcast to the argument), or None where they do not cancel. A float32 backward
    # is then ~u x this off, not u x the chain-rule terms sum_k |c_k J_kj| (equivalence.gradcheck: G_j). Derived in
    # its docstring, whose first line is the reason shown; `local_terms` builds one for elementwise ops. None: none
    ulps: float = DEFAULT_ULPS  # result ulps each side may be off the float64 reference (tolerance rule input)
    elementwise: bool = False  # each output element is a function of its own input elements only (unary, binary
    # with broadcasting, activations): judged element by element in ulps of its own reference (tolerances.
    # elementwise), never on the scale of its neighbours. False: the accumulating rule, floor scaled over the array
    cancellation: Callable[..., Any] | None = None  # elementwise ops whose formula cancels: cancellation(*args,
    # **kwargs) (float64 reference arguments) -> per output element (broadcastable), the magnitude of the terms the
    # result is formed from (gelu = x * Phi(x), Phi = (1 + erf) / 2 ~ 0: |x|). Each term carries ~u of its own
    # size, so the element may be `ulps` of this off, however small the result. Derived in its docstring, whose
    # first line is the reason shown. None: the result's own magnitude
    depth: Callable[[Sample], int] | None = None  # terms accumulated per output element (sum size, matmul K); 1 if None
    scale: Callable[[Sample], float] | None = None  # magnitude of the terms an output sums (x*g + b can cancel to ~0);
    # the accumulating rule's absolute floor uses max(scale, max|expected|). None: max|expected|
    exact: bool = False  # results must be bit-exact (data movement, comparisons, indices) in every dtype
    zero_sign: str = ""  # why the float64 reference's sign of an exactly-zero result is no authority for this op
    # (IEEE 754 leaves it open and NumPy's choice is arbitrary): each side's zeros are then held to the other
    # side's sign only. "": every zero result of either side carries the reference's sign (tests/test_ops.py)
    ulps_override: dict = dataclasses.field(default_factory=dict)  # dtype -> ulps; comment the observed error
    result_dtype: Callable[[str], Any] | None = None  # input dtype -> result dtype name, or {'tf':..,'torch':..}
    notes: str = ""  # one line for docs/COVERAGE.md (what is and is not covered)
    on_device: dict = dataclasses.field(default_factory=dict)  # device ('cuda') -> OnDevice: where the op differs

    @property
    def id(self) -> str:
        """Test-id stem: 'name' or 'name-variant' (ASCII, typed with -k)."""
        return f"{self.name}-{self.variant}" if self.variant else self.name

    def device_unsupported(self, device: str, dtype: str, side: str = "torch"):
        """(exception type, message regex) where `device` has no kernel for this op in `dtype`, else None."""
        found = self.on_device.get(device)
        return found.unsupported.get(dtype) if found and side == "torch" else None

    def device_tolerance(self, device: str, dtype: str, sample: Sample, expected):
        """The device's own Tolerance for this op in `dtype` (OnDevice.tolerance), or None: the op's rule."""
        found = self.on_device.get(device)
        rule = found.tolerance.get(dtype) if found else None
        return rule(sample, expected) if rule else None

    def device_avoid(self, device: str, *, grad: bool = False) -> frozenset:
        """Edge kinds this op's samples leave out on `device` (the gradient check's OnDevice.grad_avoid)."""
        found = self.on_device.get(device)
        return found.grad_avoid if found and grad else frozenset()

    def samples(self, dtype: str, avoid=frozenset()):
        """Hypothesis strategy of Sample for `dtype`; `avoid` removes edge kinds a known difference explains."""
        if dtype not in self.dtypes:
            raise RecordError(REGISTRY, self.id, f"not tested in {dtype!r}; its dtypes are {self.dtypes}")
        return self.samples_fn(dtype, frozenset(avoid))

    def grad_samples(self, dtype: str, avoid=frozenset()):
        """Hypothesis strategy of Sample for the gradient tests: `grad_samples_fn` when set, else `samples`."""
        if self.grad_samples_fn is None:
            return self.samples(dtype, avoid)
        if dtype not in self.dtypes:
            raise RecordError(REGISTRY, self.id, f"not tested in {dtype!r}; its dtypes are {self.dtypes}")
        return self.grad_samples_fn(dtype, frozenset(avoid))

    def differentiable(self, sample: Sample) -> list[int]:
        """Positions of the sample's floating arguments the gradient tests differentiate (see `grad_args`)."""
        floating = [i for i, a in enumerate(sample.args) if np.asarray(a).dtype.kind == "f"]
        return floating if self.grad_args is None else [i for i in floating if i in self.grad_args]

    def cancelling_terms(self, sample: Sample, cot: np.ndarray, i: int):
        """`grad_terms` for argument i at cotangent `cot` (float64), broadcast to the argument; 0.0 where none."""
        if self.grad_terms is None:
            return 0.0
        args = [np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in sample.args]
        with np.errstate(all="ignore"):
            terms = self.grad_terms(np.asarray(cot, np.float64), *args, **sample.kwargs)[i]
        if terms is None:
            return 0.0
        return np.broadcast_to(np.abs(np.asarray(terms, np.float64)), np.shape(sample.args[i]))

    def expected_dtype(self, dtype: str):
        """The documented result dtype on each side, {'tf': name, 'torch': name}; a list of them per output when
        `result_dtype` returns a list (multi-output ops such as topk)."""
        out = self.result_dtype(dtype) if self.result_dtype else dtype
        if isinstance(out, list):
            return [dict(o) if isinstance(o, dict) else {"tf": o, "torch": o} for o in out]
        return dict(out) if isinstance(out, dict) else {"tf": out, "torch": out}

    def side_tolerance(self, side: str, dtype: str, sample: Sample, tol: Tolerance) -> Tolerance:
        """One side's ('tf' or 'torch') tolerance: `tol` (the rule for the sample) plus `error_bound`, or `tol`."""
        if self.error_bound is None or tol == EXACT:
            return tol
        extra = self.error_bound(side, dtype_name(dtype), sample)
        if not extra:
            return tol
        why = (self.error_bound.__doc__ or "error_bound").strip().splitlines()[0]
        return dataclasses.replace(tol, atol=tol.atol + extra, reason=f"{tol.reason}; {side} atol +{extra:.2g}: {why}")

    def tolerance(self, dtype: str, sample: Sample, expected) -> Tolerance:
        """The tolerance of one output against the float64 reference: the module rule at this op's ulps.

        `dtype` is the output's dtype: integer/bool outputs (and `exact` ops) are compared exactly. Elementwise
        ops get the elementwise rule (per element, with `cancellation`'s terms); the others the accumulating rule
        at their depth, its absolute floor scaled by max|expected| (or `scale`).
        """
        dtype = dtype_name(dtype)
        if self.exact or dtype in EXACT_DTYPES:
            return EXACT
        ulps = self.ulps_override.get(dtype, self.ulps)
        if self.elementwise:
            return self._elementwise_tolerance(dtype, ulps, sample, np.shape(expected))
        depth = self.depth(sample) if self.depth else 1
        tol = for_arrays(dtype, expected, depth=depth, ulps=ulps)
        if self.scale is None:
            return tol
        scale = self.scale(sample)
        return tol if tol.atol >= tol.rtol * scale else tolerance(dtype, depth=depth, ulps=ulps, scale=scale)

    def _elementwise_tolerance(self, dtype: str, ulps: float, sample: Sample, shape: tuple) -> Tolerance:
        why = f"elementwise rule: {dtype} {ulps:g} ulps of each element"
        if self.cancellation is None:
            return elementwise(dtype, ulps=ulps, reason=why)
        args = tuple(np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
                     for a in sample.args)
        with np.errstate(all="ignore"):
            terms = np.broadcast_to(np.asarray(self.cancellation(*args, **sample.kwargs), np.float64), shape)
        doc = (self.cancellation.__doc__ or "cancellation").strip().splitlines()[0]
        return elementwise(dtype, ulps=ulps, terms=terms, reason=f"{why}, or of the terms where it cancels: {doc}")

    def problems(self) -> list[str]:
        """What is inconsistent in this record's fields (validate() raises them, naming the record)."""
        from ..strategies import ALL_DTYPES

        problems = []
        if not self.name or not self.name.isascii() or not self.name.replace("_", "").isalnum():
            problems.append(f"name {self.name!r} is not an ASCII snake_case name")
        if self.variant and not self.variant.replace("_", "").isalnum():
            problems.append(f"variant {self.variant!r} is not an ASCII slug")
        if self.family not in OP_FAMILIES:
            problems.append(f"family {self.family!r} is not one of {OP_FAMILIES}")
        if self.api not in APIS:
            problems.append(f"api {self.api!r} is not one of {APIS}")
        if not self.dtypes:
            problems.append("dtypes is empty")
        problems += [f"unknown dtype {d!r}" for d in self.dtypes if d not in ALL_DTYPES]
        if len(set(self.dtypes)) != len(self.dtypes):
            problems.append(f"dtypes {self.dtypes} repeat a dtype")
        problems += [f"ulps_override for {d!r}, which is not in dtypes {self.dtypes}"
                     for d in self.ulps_override if d not in self.dtypes]
        if self.supports_grad and not any(d.startswith(("float", "bfloat")) for d in self.dtypes):
            problems.append("supports_grad without a floating dtype")
        if self.grad_samples_fn is not None and not self.supports_grad:
            problems.append("grad_samples_fn without supports_grad")
        if self.elementwise and (self.depth is not None or self.scale is not None):
            problems.append("elementwise with depth/scale: an elementwise op's terms are per element (cancellation)")
        if self.cancellation is not None and not self.elementwise:
            problems.append("cancellation without elementwise (accumulating ops scale their floor: scale)")
        if self.grad_terms is not None and not self.supports_grad:
            problems.append("grad_terms without supports_grad")
        if self.grad_terms is not None and not (self.grad_terms.__doc__ or "").strip():
            problems.append("grad_terms without a docstring (its derivation; the first line is the reason shown)")
        if self.grad_args is not None and (not self.supports_grad or not self.grad_args
                                           or any(not isinstance(i, int) or i < 0 for i in self.grad_args)):
            problems.append(f"grad_args {self.grad_args} needs supports_grad and non-negative argument positions")
        return problems


def product_terms(ref: Callable[..., Any]) -> Callable[[Sample], float]:
    """An OpInfo.scale for sums of products (matmul, einsum, convolutions): max over the output of sum |x_i w_i|,
    the float64 reference run on the operands' magnitudes. Such a sum rounds at the size of its terms, not of its
    value: thorough (AVX2 setting, seed 15) drew a one-element conv1d of ones with w = [-1, 0, 1e-6, 1], value 1e-6
    and terms 2, where both frameworks sat 1.3e-8 off, 4600x the rule scaled by |value|."""
    def scale(sample: Sample) -> float:
        args = tuple(np.abs(np.asarray(a, np.float64)) if np.asarray(a).dtype.kind == "f" else a for a in sample.args)
        with np.errstate(all="ignore"):
            out = np.abs(np.asarray(ref(*args, **sample.kwargs), np.float64))
        finite = out[np.isfinite(out)]
        return float(finite.max()) if finite.size else 1.0
    return scale


def local_terms(derivative_terms: Callable[[np.ndarray], np.ndarray]) -> Callable[..., tuple]:
    """OpInfo.grad_terms of an elementwise op: |cot| x derivative_terms(x), the magnitude of the terms its local
    derivative f'(x) is computed from (the docstring of `derivative_terms` is kept: it is the derivation)."""
    def grad_terms(cot, x, **_kwargs):
        return (np.abs(cot) * derivative_terms(x),)

    grad_terms.__doc__ = derivative_terms.__doc__
    grad_terms.__name__ = grad_terms.__qualname__ = getattr(derivative_terms, "__name__", "grad_terms")
    return grad_terms
