"""flatten: keras.layers.Flatten <-> torch.nn.Flatten. On an NCHW map torch's features come in (c, h, w) order, not
Keras' (h, w, c): a following Dense absorbs that in its kernel rows, any other consumer gets them re-ordered."""
from __future__ import annotations

import math

from .. import runtime
from .base import MAKES, LayerKind, depth_one, draws_nothing, no_check, no_params, scale_unchanged

FLATTEN = LayerKind(
    name="flatten", keras="keras.layers.Flatten", torch="torch.nn.Flatten",
    notes="NCHW flatten is (c,h,w): the next Dense's rows are permuted",
    args={}, merge=False, reads_ids=False, torch_flat_order=MAKES, check=no_check,
    shape=lambda l, ins: (math.prod(ins[0]),),
    params=no_params, torch_params=(),
    keras_layer=lambda l, x: runtime.keras().layers.Flatten(name=l.name),
    torch_module=lambda l, x: runtime.torch().nn.Flatten(),
    forward=lambda l, args, w, training, trace: args[0].reshape(args[0].shape[0], -1),
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: errs[0].reshape(errs[0].shape[0], -1),
    scale=scale_unchanged, strategy=draws_nothing, slots=("cnn_head",),
)
