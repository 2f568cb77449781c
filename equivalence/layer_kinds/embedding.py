"""embedding: keras.layers.Embedding <-> torch.nn.Embedding: the same (vocab, dim) table, read by int32 token ids
(int64 in torch).

mask_zero=True: Keras makes a mask (ids != 0) that its LSTM/GRU/Bidirectional and GlobalAveragePooling1D consume.
torch has no mask propagation: the torch module hands the same mask (from the ids) to the next layer, which packs
or masks as a torch user writes it. NOT torch's padding_idx=0, which zeroes the padding row's init and gradient
and masks nothing (catalogue: equivalence/differences/masking.py).
"""
from __future__ import annotations

import functools

import numpy as np

from .. import runtime
from .base import (CANONICAL, REQUIRED, Arg, LayerKind, boolean, depth_one, no_check, positive_int,
                    scale_unchanged)
from .mapping import Map, Weight, glorot_rows
from .recurrent import MASK


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    # mask_zero stays False: a random spec may put a layer that ignores masks after it (the spec rejects that)
    return dict(input_dim=draw(st.integers(2, 9), label="vocab"), output_dim=draw(st.integers(1, 6), label="embed_dim"))


@functools.cache
def _masked_embedding():
    nn = runtime.torch().nn

    class MaskedEmbedding(nn.Embedding):
        """nn.Embedding whose output carries the mask ids != 0 to the next layer (torch_models' mask protocol)."""

        def output_mask(self, ids, mask):
            return ids != 0

    return MaskedEmbedding


def _torch(l, x):
    cls = _masked_embedding() if l["mask_zero"] else runtime.torch().nn.Embedding
    return cls(l["input_dim"], l["output_dim"])


def _forward(l, args, w, training, trace):
    if l["mask_zero"]:
        trace[l.name + MASK] = args[0] != 0
    return w["embeddings"][args[0].astype(np.int64)]


EMBEDDING = LayerKind(
    name="embedding", keras="keras.layers.Embedding", torch="torch.nn.Embedding",
    notes="the same (vocab, dim) table; ids are int64 in torch; mask_zero: the mask ids != 0 handed on",
    args=dict(input_dim=Arg(REQUIRED, positive_int), output_dim=Arg(REQUIRED, positive_int),
              mask_zero=Arg(False, boolean)),
    merge=False, reads_ids=True, torch_flat_order=CANONICAL, check=no_check,
    shape=lambda l, ins: (*ins[0], l["output_dim"]),
    params=lambda l, x: {"embeddings": Weight((l["input_dim"], l["output_dim"]), glorot_rows)},
    torch_params=(Map("embeddings", "weight"),),
    keras_layer=lambda l, x: runtime.keras().layers.Embedding(l["input_dim"], l["output_dim"],
                                                               mask_zero=l["mask_zero"], name=l.name),
    torch_module=_torch,
    forward=_forward,
    depth=depth_one,
    bound=lambda l, args, errs, y, w, values, training: np.zeros(y.shape),  # a lookup of float32 weights: exact
    scale=scale_unchanged, strategy=_draw, slots=("seq_input",),
    mask=lambda l, masked: l["mask_zero"],
)
