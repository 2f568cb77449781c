"""embedding: keras.layers.Embedding <-> torch.nn.Embedding: the same (vocab, dim) table, read by int32 token ids
(int64 in torch)."""
from __future__ import annotations

import numpy as np

from .. import runtime
from .base import (CANONICAL, REQUIRED, Arg, LayerKind, depth_one, no_check, positive_int, scale_unchanged)
from .mapping import Map, Weight, glorot_rows


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    return dict(input_dim=draw(st.integers(2, 9), label="vocab"), output_dim=draw(st.integers(1, 6), label="embed_dim"))


EMBEDDING = LayerKind(
    name="embedding", keras="keras.layers.Embedding", torch="torch.nn.Embedding",
    notes="the same (vocab, dim) table; ids are int64 in torch",
    args=dict(input_dim=Arg(REQUIRED, positive_int), output_dim=Arg(REQUIRED, positive_int)),
    merge=False, reads_ids=True, torch_flat_order=CANONICAL, check=no_check,
    shape=lambda l, ins: (*ins[0], l["output_dim"]),
    params=lambda l, x: {"embeddings": Weight((l["input_dim"], l["output_dim"]), glorot_rows)},
    torch_params=(Map("embeddings", "weight"),),
    keras_layer=lambda l, x: runtime.keras().layers.Embedding(l["input_dim"], l["output_dim"], name=l.name),
    torch_module=lambda l, x: runtime.torch().nn.Embedding(l["input_dim"], l["output_dim"]),
    forward=lambda l, args, w, training, trace: w["embeddings"][args[0].astype(np.int64)],
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: np.zeros(y.shape),  # a lookup of float32 weights: exact
    scale=scale_unchanged, strategy=_draw, slots=("seq_input",),
)
