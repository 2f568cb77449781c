"""add / concat: merges of 2+ named inputs (keras.layers.Add / Concatenate(axis=-1) <-> a + b / torch.cat)."""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import runtime
from ..tolerances import ACC_FACTOR
from .base import CANONICAL, LayerKind, SpecError, depth_one, draws_nothing, no_check, no_params, scale_unchanged
from .torchnn import lambda_module
from .activation import U


def _add_shape(l, ins):
    if len(set(ins)) != 1:
        raise SpecError(f"add needs inputs of one shape, got {ins}")
    return ins[0]


def _concat_shape(l, ins):
    if len({s[:-1] for s in ins}) != 1:
        raise SpecError(f"concat (last axis) needs inputs equal except the last axis, got {ins}")
    return (*ins[0][:-1], sum(s[-1] for s in ins))


def _cat(l, x):
    dim, cat = 1 if len(x) + 1 == 4 else -1, runtime.torch().cat  # the channels: dim 1 of NCHW
    return lambda_module(lambda *ts: cat(ts, dim=dim), f"cat(dim={dim})")


ADD = LayerKind(
    name="add", keras="keras.layers.Add", torch="a + b", notes="elementwise sum of inputs of one shape",
    args={}, merge=True, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_add_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Add(name=l.name),
    torch_module=lambda l, x: lambda_module(lambda *ts: functools.reduce(lambda a, b: a + b, ts), "add"),
    forward=lambda l, args, w, training, trace: sum(args[1:], args[0]),
    depth=lambda l, ins, batch: len(ins),
    bound=lambda l, args, errs, y, w, values, training: (
        sum(errs) + ACC_FACTOR * U * math.sqrt(len(args)) * sum(np.abs(a) for a in args)),
    scale=scale_unchanged, strategy=draws_nothing, slots=("cnn_merge",),
)

CONCAT = LayerKind(
    name="concat", keras="keras.layers.Concatenate(axis=-1)", torch="torch.cat(dim=1 for NCHW)",
    notes="the channel axis: last in Keras, dim 1 of an NCHW map",
    args={}, merge=True, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_concat_shape,
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Concatenate(axis=-1, name=l.name),
    torch_module=_cat,
    forward=lambda l, args, w, training, trace: np.concatenate(args, axis=-1),
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: np.concatenate(errs, axis=-1),
    scale=scale_unchanged, strategy=draws_nothing, slots=("cnn_merge",),
)
