"""Known differences: integer edge cases (division and modulo by zero, negative powers, wrap-around, rounding of
negative quotients, float -> int casts out of range), each entry right below its witness.

An error a framework raises is observed as 'raises <ExceptionType>' (the message can change between releases).
The op property tests draw integer divisors without 0 and integer exponents without negatives
(catalog/ops_binary.py _DIVISION, _POW): these witnesses own those cases.
"""
from __future__ import annotations

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import attempt_values as _attempt

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


def _tf_i32(values):
    return runtime.tf().constant(values, runtime.tf().int32)


def _torch_i32(values):
    torch = runtime.torch()
    return torch.tensor(values, dtype=torch.int32)


_NUMERATORS, _ZEROS = [7, -7, 0], [0, 0, 0]


def _tf_by_zero() -> dict:
    tf, keras, a, b = runtime.tf(), runtime.keras(), _tf_i32(_NUMERATORS), _tf_i32(_ZEROS)
    return {"floordiv": _attempt(lambda: tf.math.floordiv(a, b)), "floormod": _attempt(lambda: tf.math.floormod(a, b)),
            "truncatediv": _attempt(lambda: tf.truncatediv(a, b)),
            "truncatemod": _attempt(lambda: tf.truncatemod(a, b)),
            "keras.ops.floor_divide": _attempt(lambda: keras.ops.floor_divide(a, b))}


def _torch_by_zero() -> dict:
    torch, a, b = runtime.torch(), _torch_i32(_NUMERATORS), _torch_i32(_ZEROS)
    return {"floor_divide": _attempt(lambda: torch.floor_divide(a, b)),
            "remainder": _attempt(lambda: torch.remainder(a, b)),
            "div(rounding_mode='trunc')": _attempt(lambda: torch.div(a, b, rounding_mode="trunc")),
            "fmod": _attempt(lambda: torch.fmod(a, b))}


ENTRIES.add(KnownDifference(
    id="int-division-by-zero",
    area="op-semantics",
    title="Integer division or modulo by zero raises on both CPUs: InvalidArgumentError (InternalError for "
          "truncatediv/truncatemod) in TF, RuntimeError in torch",
    tf="tf.math.floordiv / floormod of int32 by 0 raise InvalidArgumentError ('Integer division by zero'); "
       "tf.truncatediv / tf.truncatemod raise InternalError; keras.ops.floor_divide is tf.math.floordiv. (On a "
       "GPU TF's kernels return a value instead: they do not check.)",
    torch="torch.floor_divide, remainder, div(rounding_mode='trunc') and fmod of int32 by 0 raise RuntimeError "
          "(message 'ZeroDivisionError').",
    witness=lambda: {"tf": _tf_by_zero(), "torch": _torch_by_zero()},
    expected={"tf": {"floordiv": "raises InvalidArgumentError", "floormod": "raises InvalidArgumentError",
                     "truncatediv": "raises InternalError", "truncatemod": "raises InternalError",
                     "keras.ops.floor_divide": "raises InvalidArgumentError"},
              "torch": {"floor_divide": "raises RuntimeError", "remainder": "raises RuntimeError",
                        "div(rounding_mode='trunc')": "raises RuntimeError", "fmod": "raises RuntimeError"}},
    snippet_tf="tf.math.floordiv(tf.constant([7]), tf.constant([0]))  # InvalidArgumentError",
    snippet_torch="torch.floor_divide(torch.tensor([7]), torch.tensor([0]))  # RuntimeError: ZeroDivisionError",
    evidence="tensorflow/core/kernels/cwise_ops_common.h (CPU integer-division check, 'Integer division by zero'); "
             "aten/src/ATen/native/cpu/BinaryOpsKernel.cpp (TORCH_CHECK_ZERO_DIVISION); observed TF 2.21 / torch "
             "2.13 CPU",
    mapping="catch both errors, or mask zero divisors first (tf.where(b == 0, 1, b))",
    applies_to=("op:floor_divide:int32", "op:floor_divide:int64", "op:mod:int32", "op:mod:int64", "op:fmod:int32",
                "op:fmod:int64"),
))


_BASES, _NEGATIVE_EXPONENTS = [2, 1, -1, 0], [-1, -1, -1, -1]


def _tf_negative_power() -> dict:
    tf, keras = runtime.tf(), runtime.keras()
    base, exponent = _tf_i32(_BASES), _tf_i32(_NEGATIVE_EXPONENTS)
    return {"tensor exponent": _attempt(lambda: tf.math.pow(base, exponent)),
            "keras.ops.power": _attempt(lambda: keras.ops.power(base, exponent))}


def _torch_negative_power() -> dict:
    torch = runtime.torch()
    base, exponent = _torch_i32(_BASES), _torch_i32(_NEGATIVE_EXPONENTS)
    return {"tensor exponent": _attempt(lambda: torch.pow(base, exponent)),
            "scalar exponent": _attempt(lambda: torch.pow(base, -1))}


ENTRIES.add(KnownDifference(
    id="integer-negative-power",
    area="op-semantics",
    title="Integer base to a negative integer power: TF raises; torch returns the truncated value for a tensor "
          "exponent and raises for a Python scalar one",
    tf="tf.math.pow (and keras.ops.power) of int32 [2, 1, -1, 0] to -1 raise InvalidArgumentError ('Integers to "
       "negative integer powers are not allowed').",
    torch="torch.pow(int tensor, int tensor of -1) computes 1 / x^1 truncated: [0, 1, -1, 0] (0 ** -1 is 0, no "
          "error); torch.pow(int tensor, -1) with a Python int raises RuntimeError with TF's message.",
    witness=lambda: {"tf": _tf_negative_power(), "torch": _torch_negative_power()},
    expected={"tf": {"tensor exponent": "raises InvalidArgumentError",
                     "keras.ops.power": "raises InvalidArgumentError"},
              "torch": {"tensor exponent": [0, 1, -1, 0], "scalar exponent": "raises RuntimeError"}},
    snippet_tf="tf.math.pow(tf.constant([2]), tf.constant([-1]))  # InvalidArgumentError",
    snippet_torch="torch.pow(torch.tensor([2]), torch.tensor([-1]))  # tensor([0]); torch.pow(t, -1) raises",
    evidence="tensorflow/core/kernels/cwise_ops.h (safe_pow: 'Integers to negative integer powers are not "
             "allowed'); aten/src/ATen/native/Pow.cpp (the check on a scalar exponent only) and "
             "aten/src/ATen/native/cpu/PowKernel.cpp (powi: 1/x truncated for a negative exponent)",
    mapping="cast to float before a negative power on both sides",
    applies_to=("op:pow:int32", "op:pow:int64"),
))


def _tf_wrap() -> dict:
    tf = runtime.tf()
    return {"INT32_MAX + 1": _attempt(lambda: tf.math.add(_tf_i32([INT32_MAX]), _tf_i32([1]))),
            "65536 * 65536": _attempt(lambda: tf.math.multiply(_tf_i32([65536]), _tf_i32([65536]))),
            "abs(INT32_MIN)": _attempt(lambda: tf.math.abs(_tf_i32([INT32_MIN]))),
            "-INT32_MIN": _attempt(lambda: tf.math.negative(_tf_i32([INT32_MIN]))),
            "sum([INT32_MAX, 1])": _attempt(lambda: tf.math.reduce_sum(_tf_i32([INT32_MAX, 1])))}


def _torch_wrap() -> dict:
    torch = runtime.torch()
    return {"INT32_MAX + 1": _attempt(lambda: torch.add(_torch_i32([INT32_MAX]), _torch_i32([1]))),
            "65536 * 65536": _attempt(lambda: torch.mul(_torch_i32([65536]), _torch_i32([65536]))),
            "abs(INT32_MIN)": _attempt(lambda: torch.abs(_torch_i32([INT32_MIN]))),
            "-INT32_MIN": _attempt(lambda: torch.neg(_torch_i32([INT32_MIN]))),
            "sum([INT32_MAX, 1])": _attempt(lambda: torch.sum(_torch_i32([INT32_MAX, 1]))),
            "sum([INT32_MAX, 1], dtype=int32)": _attempt(lambda: torch.sum(_torch_i32([INT32_MAX, 1]),
                                                                            dtype=torch.int32))}


ENTRIES.add(KnownDifference(
    id="int32-overflow-wraps",
    area="op-semantics",
    title="int32 add/mul/abs/neg wrap around (two's complement) on both sides; a plain int32 sum wraps in TF but "
          "not in torch (int64 result)",
    tf="tf.math.add/multiply/abs/negative wrap silently: INT32_MAX + 1 = INT32_MIN, 65536 * 65536 = 0, "
       "abs(INT32_MIN) = INT32_MIN; tf.reduce_sum of int32 accumulates in int32 and wraps too.",
    torch="torch.add/mul/abs/neg wrap the same way (no error, no warning); torch.sum of int32 returns int64 "
          "(2147483648, reduce-int32-result-dtype) unless dtype=torch.int32, which wraps.",
    witness=lambda: {"tf": _tf_wrap(), "torch": _torch_wrap()},
    expected={"tf": {"INT32_MAX + 1": [INT32_MIN], "65536 * 65536": [0], "abs(INT32_MIN)": [INT32_MIN],
                     "-INT32_MIN": [INT32_MIN], "sum([INT32_MAX, 1])": INT32_MIN},
              "torch": {"INT32_MAX + 1": [INT32_MIN], "65536 * 65536": [0], "abs(INT32_MIN)": [INT32_MIN],
                        "-INT32_MIN": [INT32_MIN], "sum([INT32_MAX, 1])": 2**31,
                        "sum([INT32_MAX, 1], dtype=int32)": INT32_MIN}},
    snippet_tf="tf.abs(tf.constant([-2**31]))  # [-2147483648]",
    snippet_torch="torch.abs(torch.tensor([-2**31], dtype=torch.int32))  # tensor([-2147483648])",
    evidence="observed TF 2.21 / torch 2.13 CPU; both compute in C++ int32 with wrapping (Eigen scalar ops, "
             "ATen's c10 integer ops); torch.sum docs (integral inputs are promoted to int64)",
    mapping="use int64 (or float) where sums or products can exceed 2**31 - 1",
    applies_to=("op:add:int32", "op:mul:int32", "op:abs:int32"),
))


def _tf_rounding() -> dict:
    tf, a, b = runtime.tf(), _tf_i32([-7, 7, -7]), _tf_i32([2, -2, -2])
    return {"floor": _attempt(lambda: tf.math.floordiv(a, b)), "floor mod": _attempt(lambda: tf.math.floormod(a, b)),
            "trunc": _attempt(lambda: tf.truncatediv(a, b)), "trunc mod": _attempt(lambda: tf.truncatemod(a, b)),
            "a // b": _attempt(lambda: a // b)}


def _torch_rounding() -> dict:
    torch, a, b = runtime.torch(), _torch_i32([-7, 7, -7]), _torch_i32([2, -2, -2])
    return {"floor": _attempt(lambda: torch.floor_divide(a, b)), "floor mod": _attempt(lambda: torch.remainder(a, b)),
            "trunc": _attempt(lambda: torch.div(a, b, rounding_mode="trunc")),
            "trunc mod": _attempt(lambda: torch.fmod(a, b)), "a // b": _attempt(lambda: a // b),
            "div (default)": _attempt(lambda: torch.div(a, b))}


ENTRIES.add(KnownDifference(
    id="integer-division-rounding",
    area="op-semantics",
    title="Rounding of negative integer quotients: floordiv/floormod (Python) and truncatediv/truncatemod (C) in "
          "TF; floor_divide/remainder and div(rounding_mode='trunc')/fmod in torch",
    tf="tf.math.floordiv and `//` round toward -inf (-7 // 2 = -4), tf.math.floormod takes the divisor's sign; "
       "tf.truncatediv rounds toward 0 (-3), tf.truncatemod takes the dividend's sign.",
    torch="torch.floor_divide and `//` round toward -inf (since torch 1.13; it truncated before), remainder takes "
          "the divisor's sign; div(rounding_mode='trunc') and fmod are the C forms; plain torch.div of ints is "
          "true division (float32).",
    witness=lambda: {"tf": _tf_rounding(), "torch": _torch_rounding()},
    expected={"tf": {"floor": [-4, -4, 3], "floor mod": [1, -1, -1], "trunc": [-3, -3, 3], "trunc mod": [-1, 1, -1],
                     "a // b": [-4, -4, 3]},
              "torch": {"floor": [-4, -4, 3], "floor mod": [1, -1, -1], "trunc": [-3, -3, 3],
                        "trunc mod": [-1, 1, -1], "a // b": [-4, -4, 3], "div (default)": [-3.5, -3.5, 3.5]}},
    snippet_tf="tf.truncatediv(tf.constant([-7]), tf.constant([2]))  # [-3]",
    snippet_torch="torch.div(torch.tensor([-7]), torch.tensor([2]), rounding_mode='trunc')  # tensor([-3])",
    evidence="tf.math.floordiv / tf.truncatediv API docs; torch.div docs (rounding_mode None/'trunc'/'floor'), "
             "torch 1.13 release notes (floor_divide now floors)",
    mapping="tf.math.floordiv <-> torch.floor_divide, tf.truncatediv <-> torch.div(rounding_mode='trunc'), "
            "tf.math.floormod <-> torch.remainder, tf.truncatemod <-> torch.fmod",
    applies_to=("op:floor_divide:int32", "op:mod:int32", "op:fmod:int32"),
))


_OUT_OF_RANGE = [float("nan"), float("inf"), float("-inf"), 3e9, -3e9, 2.7, -2.7]


def _tf_casts() -> dict:
    tf = runtime.tf()
    x = tf.constant(_OUT_OF_RANGE, tf.float32)
    return {"int32": _attempt(lambda: tf.cast(x, tf.int32)),
            "uint8 of [300, -1]": _attempt(lambda: tf.cast(tf.constant([300.0, -1.0]), tf.uint8))}


def _torch_casts() -> dict:
    torch = runtime.torch()
    x = torch.tensor(_OUT_OF_RANGE, dtype=torch.float32)
    return {"int32": _attempt(lambda: x.to(torch.int32)),
            "uint8 of [300, -1]": _attempt(lambda: torch.tensor([300.0, -1.0]).to(torch.uint8))}


ENTRIES.add(KnownDifference(
    id="float-to-int-cast-out-of-range",
    area="dtypes",
    title="Casting NaN, inf or out-of-range floats to int32 gives INT32_MIN on both x86 CPUs (undefined in C++); "
          "fractions truncate toward 0",
    tf="tf.cast(float32 -> int32) is Eigen's static_cast: NaN, +-inf, 3e9 and -3e9 all become INT32_MIN (x86's "
       "'integer indefinite' value), 2.7 -> 2, -2.7 -> -2; float -> uint8 goes through int32 and wraps "
       "(300 -> 44, -1 -> 255).",
    torch="tensor.to(torch.int32) is c10's static_cast with the same x86 result (INT32_MIN for every "
          "unrepresentable value), truncation toward 0, and the same uint8 wrap; no error, no warning.",
    witness=lambda: {"tf": _tf_casts(), "torch": _torch_casts()},
    expected={"tf": {"int32": [INT32_MIN] * 5 + [2, -2], "uint8 of [300, -1]": [44, 255]},
              "torch": {"int32": [INT32_MIN] * 5 + [2, -2], "uint8 of [300, -1]": [44, 255]}},
    snippet_tf="tf.cast(tf.constant([float('nan'), 3e9]), tf.int32)  # [-2147483648, -2147483648]",
    snippet_torch="torch.tensor([float('nan'), 3e9]).to(torch.int32)  # tensor([-2147483648, -2147483648])",
    evidence="C++ [conv.fpint] (an unrepresentable value is undefined behaviour); Intel SDM CVTTSS2SI (returns the "
             "integer indefinite 0x80000000); observed TF 2.21 / torch 2.13 on x86-64 (ARM saturates and maps NaN "
             "to 0)",
    mapping="clip and replace NaN before casting (tf.clip_by_value / torch.nan_to_num, then round)",
))
