"""Token kinds of a Vision Transformer: a feature map into a token sequence, a learned class token, learned position
embeddings, and one token taken out of the sequence.

    to_tokens            (H, W, C) -> (H*W, C)        keras.layers.Reshape((H*W, C))  <->  x.flatten(2).transpose(1, 2)
    class_token          (L, D) -> (L + 1, D)          a (1, 1, D) weight prepended    <->  torch.cat([token.expand(N, -1, -1), x], 1)
    position_embedding   (L, D) -> (L, D)              a (1, L, D) weight added        <->  x + position
    take_token(index)    (L, D) -> (D,)                x[:, index]                     <->  x[:, index]

Token order: Keras reshapes an NHWC map row-major, token h*W + w; torch's NCHW map flattened over (H, W) and
transposed to (N, L, C) gives the same order (and the same (N, L, C) layout the torch side keeps rank-3 tensors in).
Neither framework ships a class-token or position-embedding layer: each side gets a small layer holding one weight
named as the canonical one, so load/read and the gradients map by name with no layout change.
"""
from __future__ import annotations

import functools
import math
import types

import numpy as np

from .. import runtime
from ..tolerances import ACC_FACTOR
from .activation import U
from .base import (CANONICAL, Arg, LayerKind, SpecError, depth_one, draws_nothing, need_rank, no_check, no_params,
                   scale_unchanged)
from .mapping import Map, Weight, small
from .torchnn import lambda_module


@functools.cache
def _keras_classes():
    """The Keras layers (defined on first use: importing this module imports no framework)."""
    keras = runtime.keras()
    ops = keras.ops

    class ClassToken(keras.layers.Layer):
        """Prepends one learned (1, 1, D) token to every sequence of the batch."""

        def build(self, input_shape):
            self.token = self.add_weight(name="token", shape=(1, 1, input_shape[-1]), initializer="zeros")

        def call(self, x):
            token = ops.broadcast_to(ops.cast(self.token, x.dtype), (ops.shape(x)[0], 1, ops.shape(x)[-1]))
            return ops.concatenate([token, x], axis=1)

        def compute_output_shape(self, input_shape):
            length = None if input_shape[1] is None else input_shape[1] + 1
            return (input_shape[0], length, input_shape[2])

    class PositionEmbedding(keras.layers.Layer):
        """Adds one learned (1, L, D) embedding to every sequence of the batch."""

        def build(self, input_shape):
            self.position = self.add_weight(name="position", shape=(1, *input_shape[1:]), initializer="zeros")

        def call(self, x):
            return x + ops.cast(self.position, x.dtype)

    return types.SimpleNamespace(ClassToken=ClassToken, PositionEmbedding=PositionEmbedding)


@functools.cache
def _torch_classes():
    """The torch modules (defined on first use)."""
    torch = runtime.torch()
    nn = torch.nn

    class ClassToken(nn.Module):
        def __init__(self, dim: int):
            super().__init__()
            self.token = nn.Parameter(torch.zeros(1, 1, dim))

        def forward(self, x):
            return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)

    class PositionEmbedding(nn.Module):
        def __init__(self, length: int, dim: int):
            super().__init__()
            self.position = nn.Parameter(torch.zeros(1, length, dim))

        def forward(self, x):
            return x + self.position

    return types.SimpleNamespace(ClassToken=ClassToken, PositionEmbedding=PositionEmbedding)


# ------------------------------------------------------------------------------------------------ to_tokens
def _to_tokens_shape(l, ins):
    need_rank(l, ins[0], 4)
    h, w, c = ins[0]
    return (h * w, c)


def _to_tokens_torch(l, x):
    return lambda_module(lambda t: t.flatten(2).transpose(1, 2), "flatten(2).transpose(1, 2)")


TO_TOKENS = LayerKind(
    name="to_tokens", keras="keras.layers.Reshape((H*W, C))", torch="x.flatten(2).transpose(1, 2)",
    notes="NHWC row-major (h*W + w) == NCHW flatten(2) then transpose to (N, L, C)",
    args={}, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_to_tokens_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Reshape((x[0] * x[1], x[2]), name=l.name),
    torch_module=_to_tokens_torch,
    forward=lambda l, args, w, training, trace: args[0].reshape(args[0].shape[0], -1, args[0].shape[-1]),
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: errs[0].reshape(y.shape),
    scale=scale_unchanged, strategy=draws_nothing, slots=("cnn_head",),
)


# ------------------------------------------------------------------------------------------------ class_token
def _seq_shape(l, ins):
    need_rank(l, ins[0], 3)
    return ins[0]


def _class_token_shape(l, ins):
    need_rank(l, ins[0], 3)
    return (ins[0][0] + 1, ins[0][1])


def _class_token_forward(l, args, w, training, trace):
    x = args[0]
    return np.concatenate([np.broadcast_to(w["token"].astype(np.float64), (x.shape[0], 1, x.shape[2])), x], axis=1)


CLASS_TOKEN = LayerKind(
    name="class_token", keras="a Layer holding token (1, 1, D): concatenate([token], x)",
    torch="torch.cat([token.expand(N, -1, -1), x], 1)",
    notes="a learned (1, 1, D) token prepended (no built-in layer on either side); same weight layout",
    args={}, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_class_token_shape,
    params=lambda l, x: {"token": Weight((1, 1, x[-1]), small)},
    torch_params=(Map("token", "token"),),
    keras_layer=lambda l, x: _keras_classes().ClassToken(name=l.name),
    torch_module=lambda l, x: _torch_classes().ClassToken(x[-1]),
    forward=_class_token_forward,
    depth=depth_one,
    # the token is a float32 weight copied exactly; the sequence passes unchanged
    bound=lambda l, args, errs, y, w, values, training: np.concatenate(
        [np.zeros((y.shape[0], 1, y.shape[2])), errs[0]], axis=1),
    scale=scale_unchanged, strategy=draws_nothing, slots=("seq",),
)


# ------------------------------------------------------------------------------------------------ position_embedding
POSITION_EMBEDDING = LayerKind(
    name="position_embedding", keras="a Layer holding position (1, L, D): x + position",
    torch="x + position (an nn.Parameter (1, L, D))",
    notes="a learned (1, L, D) embedding added (no built-in layer on either side); same weight layout",
    args={}, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_seq_shape,
    params=lambda l, x: {"position": Weight((1, *x), small)},
    torch_params=(Map("position", "position"),),
    keras_layer=lambda l, x: _keras_classes().PositionEmbedding(name=l.name),
    torch_module=lambda l, x: _torch_classes().PositionEmbedding(*x),
    forward=lambda l, args, w, training, trace: args[0] + w["position"],
    depth=lambda l, ins, batch: 2,  # one addition of two terms
    # the input's error plus one rounding of the sum (as add with two terms)
    bound=lambda l, args, errs, y, w, values, training: (
        errs[0] + ACC_FACTOR * U * math.sqrt(2) * (np.abs(args[0]) + np.abs(w["position"]))),
    scale=scale_unchanged, strategy=draws_nothing, slots=("seq",),
)


# ------------------------------------------------------------------------------------------------ take_token
def _index(kind: str, arg: str, v) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) else f"{arg} must be an integer, got {v!r}"


def _take_shape(l, ins):
    need_rank(l, ins[0], 3)
    length = ins[0][0]
    if not -length <= l["index"] < length:
        raise SpecError(f"index {l['index']} is outside a sequence of {length} tokens")
    return (ins[0][1],)


def _take_keras(l, x):
    keras, i = runtime.keras(), l["index"]
    return keras.layers.Lambda(lambda t: t[:, i], output_shape=(x[-1],), name=l.name)


def _take_draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(index=draw(st.integers(-x[0], x[0] - 1), label=f"index{tag}"))


TAKE_TOKEN = LayerKind(
    name="take_token", keras="keras.layers.Lambda(lambda x: x[:, index])", torch="x[:, index]",
    notes="one token of the sequence (a ViT's class token: index 0); same (N, L, D) layout on both sides",
    args=dict(index=Arg(0, _index)), merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check,
    shape=_take_shape, params=no_params, torch_params=(),
    keras_layer=_take_keras,
    torch_module=lambda l, x: lambda_module(lambda t, i=l["index"]: t[:, i], f"x[:, {l['index']}]"),
    forward=lambda l, args, w, training, trace: args[0][:, l["index"]],
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: errs[0][:, l["index"]],
    scale=scale_unchanged, strategy=_take_draw, slots=("seq_final",),
)

__all__ = ["CLASS_TOKEN", "POSITION_EMBEDDING", "TAKE_TOKEN", "TO_TOKENS"]
