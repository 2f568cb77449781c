"""Mutant implementations that are more than a scale or a default: rounding and tie rules, formula variants,
device moves. Each `make_*` takes the original entry point and returns its plausible replacement; frameworks are
reached through equivalence.runtime when the replacement runs.
"""
from __future__ import annotations

import copy
import functools

from .. import runtime
from .patches import tf32


# ---------------------------------------------------------------- rounding and ties
def tf_round_half_away(original):
    """tf.math.round rounding halves away from zero (C's round) instead of to even: floor(|x| + 0.5) * sign(x)."""
    @functools.wraps(original)
    def round_half_away(x, name=None):
        tf = runtime.tf()
        x = tf.convert_to_tensor(x)
        if not x.dtype.is_floating:
            return original(x, name=name)
        return tf.math.sign(x) * tf.math.floor(tf.math.abs(x) + tf.cast(0.5, x.dtype))
    return round_half_away


def torch_round_half_up(original):
    """torch.round as floor(x + 0.5): halves go up (-0.5 -> 0, 2.5 -> 3) instead of to even."""
    @functools.wraps(original)
    def round_half_up(x, *args, **kwargs):
        if args or kwargs or not x.is_floating_point():
            return original(x, *args, **kwargs)
        return runtime.torch().floor(x + 0.5)
    return round_half_up


def keras_floor_divide_truncating(original):
    """keras.ops.floor_divide rounding the quotient toward zero (C division) instead of toward -inf."""
    @functools.wraps(original)
    def truncating(x1, x2):
        tf = runtime.tf()
        q = original(x1, x2)
        inexact = tf.math.not_equal(tf.math.floormod(tf.cast(x1, q.dtype), tf.cast(x2, q.dtype)), 0)
        return tf.where(tf.math.logical_and(q < 0, inexact), q + 1, q)
    return truncating


def torch_remainder_as_fmod(original):
    """torch.remainder taking the dividend's sign (C fmod) instead of the divisor's (Python %)."""
    @functools.wraps(original)
    def fmod(a, b, **kwargs):
        return runtime.torch().fmod(a, b, **kwargs)
    return fmod


def tf_argmax_last_tie(original):
    """tf.math.argmax returning the LAST index of tied maxima (NumPy and torch: the first)."""
    @functools.wraps(original)
    def argmax_last(input, axis=None, output_type=None, name=None):
        tf = runtime.tf()
        output_type = output_type or tf.int64
        axis = 0 if axis is None else axis
        x = tf.convert_to_tensor(input)
        flipped = original(tf.reverse(x, [axis]), axis=axis, output_type=output_type)
        return tf.cast(tf.shape(x, out_type=output_type)[axis], output_type) - 1 - flipped
    return argmax_last


def torch_maximum_ignoring_nan(original):
    """torch.maximum treating NaN as missing (torch.fmax, C fmax) instead of propagating it."""
    @functools.wraps(original)
    def fmax(a, b, **kwargs):
        return runtime.torch().fmax(a, b, **kwargs)
    return fmax


# ---------------------------------------------------------------- formulas
def torch_log1p_naive(original):
    """torch.log1p(x) as log(1 + x): 1 + x rounds, so |x| << 1 loses its digits (1e-8 gives 0)."""
    @functools.wraps(original)
    def log1p(x, **kwargs):
        return runtime.torch().log(1 + x, **kwargs)
    return log1p


def tf_expm1_naive(original):
    """tf.math.expm1(x) as exp(x) - 1: the subtraction cancels for |x| << 1."""
    @functools.wraps(original)
    def expm1(x, name=None):
        tf = runtime.tf()
        return tf.math.exp(x) - tf.cast(1, tf.convert_to_tensor(x).dtype)
    return expm1


def torch_var_ignoring_correction(original):
    """torch.var dropping its `correction` argument: always Bessel's n - 1 (its default)."""
    @functools.wraps(original)
    def var(x, *args, correction=None, **kwargs):
        return original(x, *args, **kwargs)
    return var


def torch_layer_norm_eps_outside_root(original):
    """F.layer_norm dividing by sqrt(var) + eps instead of sqrt(var + eps) (the RMSprop/Adagrad-style placement)."""
    @functools.wraps(original)
    def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
        torch = runtime.torch()
        dims = tuple(range(-len(normalized_shape), 0))
        mean = input.mean(dim=dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dim=dims, keepdim=True)
        y = (input - mean) / (torch.sqrt(var) + eps)
        y = y * weight if weight is not None else y
        return y + bias if bias is not None else y
    return layer_norm


def torch_matmul_tf32(original):
    """torch.matmul reading both float32 operands as TF32 (a GPU default that leaked to where it should be off)."""
    @functools.wraps(original)
    def matmul(a, b, **kwargs):
        return original(tf32(a), tf32(b), **kwargs)
    return matmul


def torch_linear_tf32(original):
    """nn.Linear.forward with TF32 input and weight (the matmul of a Dense layer on an Ampere GPU, TF32 on)."""
    @functools.wraps(original)
    def forward(self, x):
        return runtime.torch().nn.functional.linear(tf32(x), tf32(self.weight), self.bias)
    return forward


# ---------------------------------------------------------------- devices
def torch_tensor_to_ignoring_device(original):
    """Tensor.to ignoring its device (dtype conversions still happen)."""
    @functools.wraps(original)
    def to(self, *args, **kwargs):
        torch = runtime.torch()
        dtype = kwargs.get("dtype") or next((a for a in args if isinstance(a, torch.dtype)), None)
        return self if dtype is None else original(self, dtype=dtype)
    return to


def torch_module_to_keeping(which: str):
    """Module.to leaving some buffers where they were: 'all' buffers, or only the 'non-persistent' ones (those
    outside state_dict: the suite's pooling counts and index buffers)."""
    def make(original):
        @functools.wraps(original)
        def to(self, *args, **kwargs):
            kept = []
            for module in self.modules():
                skip = module._non_persistent_buffers_set if which == "non-persistent" else set(module._buffers)
                kept += [(module, name, module._buffers[name]) for name in skip if module._buffers.get(name) is not None]
            out = original(self, *args, **kwargs)
            for module, name, buf in kept:
                module._buffers[name] = buf
            return out
        return to
    return make


def torch_module_to_returning_copy(original):
    """Module.to moving a deep copy and returning it, the original module left behind (Tensor.to's semantics)."""
    @functools.wraps(original)
    def to(self, *args, **kwargs):
        return original(copy.deepcopy(self), *args, **kwargs)
    return to
