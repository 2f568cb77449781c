"""The layer-kind registry: one `LayerKind` record per neutral layer kind, everything about it in one place.

    >>> KINDS["dense"].keras, KINDS["dense"].torch
    ('keras.layers.Dense', 'torch.nn.Linear')

The spec (schema, shapes), both builders, the weight conversions, the float64 reference, the accumulation depth,
the per-element error bounds and the random-spec strategies look a layer's kind up here (docs/layer_kinds.md).
Adding a kind: one record in a module of this package, one line below, its LAYER_DB cases and tests.
Importing this package imports no framework and not hypothesis: hooks import them when they run.
"""
from __future__ import annotations

from types import MappingProxyType

from ..registry import Registry

from .base import HOOKS, REQUIRED, Arg, LayerKind, SpecError
from .geometry import conv_out, same_pads
from .activation import ACTIVATION, ACTIVATIONS
from .attention import CROSS_ATTENTION, MULTI_HEAD_ATTENTION, TRANSFORMER_ENCODER
from .conv import CONV1D, CONV2D, CONV3D
from .depthwise import DEPTHWISE_CONV2D, SEPARABLE_CONV2D
from .dense import DENSE
from .dropout import DROPOUT
from .embedding import EMBEDDING
from .flatten import FLATTEN
from .merge import ADD, CONCAT
from .norm import BATCH_NORM, LAYER_NORM
from .groupnorm import GROUP_NORM
from .padding import CROPPING2D, ZERO_PADDING2D
from .pool import AVG_POOL2D, GLOBAL_AVG_POOL2D, MAX_POOL2D, MAX_POOL3D
from .resize import RESIZING, UPSAMPLING2D
from .transpose import CONV2D_TRANSPOSE
from .prelu import PRELU
from .recurrent import GRU, LSTM
from .sequence import BIDIRECTIONAL, GLOBAL_AVG_POOL1D
from .tokens import CLASS_TOKEN, POSITION_EMBEDDING, TAKE_TOKEN, TO_TOKENS

# The registry validates each record and rejects a repeated name; the spec and the builders read it as a mapping.
KIND_REGISTRY: Registry[LayerKind] = Registry(LayerKind.REGISTRY, (
    DENSE, CONV1D, CONV2D, MAX_POOL2D, AVG_POOL2D, GLOBAL_AVG_POOL2D, FLATTEN, BATCH_NORM, LAYER_NORM, DROPOUT,
    EMBEDDING, LSTM, GRU, ACTIVATION, ADD, CONCAT, PRELU,
    BIDIRECTIONAL, GLOBAL_AVG_POOL1D,
    TO_TOKENS, CLASS_TOKEN, POSITION_EMBEDDING, TAKE_TOKEN,
    MULTI_HEAD_ATTENTION, CROSS_ATTENTION, TRANSFORMER_ENCODER,
    CONV2D_TRANSPOSE, DEPTHWISE_CONV2D, SEPARABLE_CONV2D, GROUP_NORM, UPSAMPLING2D, RESIZING, ZERO_PADDING2D,
    CROPPING2D, CONV3D, MAX_POOL3D,
))
KINDS: MappingProxyType[str, LayerKind] = MappingProxyType({k.id: k for k in KIND_REGISTRY})

__all__ = ["ACTIVATIONS", "HOOKS", "KIND_REGISTRY", "KINDS", "REQUIRED", "Arg", "LayerKind", "SpecError", "conv_out", "same_pads"]
