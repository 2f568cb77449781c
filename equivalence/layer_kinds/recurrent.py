"""lstm / gru: keras.layers.LSTM/GRU <-> torch.nn.LSTM/GRU(batch_first=True), on (N, T, C) sequences.

Canonical weights are Keras': kernel (in, g*u), recurrent_kernel (u, g*u); LSTM gates i, f, c, o (torch's order
too) with ONE bias (torch: bias_ih = it, bias_hh = 0; reading back sums them); GRU (reset_after) gates z, r, h
with a (2, 3u) bias = (input, recurrent), torch's gates r, z, n. reset_after=False has no torch form.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import runtime
from .base import (CANONICAL, REQUIRED, Arg, LayerKind, boolean, need_rank, no_check, no_element_rule,
                    positive_int, scale_unchanged)
from .mapping import Gates, Map, PlusZero, T, Unstack, Weight, glorot, small
from .activation import sigmoid

GRU_TO_TORCH = (1, 0, 2)  # Keras gate blocks (z, r, h) -> torch (r, z, n)


def lstm(x, w, return_sequences):
    """Keras/torch LSTM: gates i, f, c, o; c = f*c + i*tanh(.); h = o*tanh(c)."""
    u = w["recurrent_kernel"].shape[0]
    h, c, hs = np.zeros((x.shape[0], u)), np.zeros((x.shape[0], u)), []
    for t in range(x.shape[1]):
        z = x[:, t] @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"]
        i, f, g, o = (z[:, j * u:(j + 1) * u] for j in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1) if return_sequences else h


def gru(x, w, return_sequences):
    """GRU with reset_after: z, r from x and h; candidate tanh(x Wh + b + r * (h Uh + b_rec)); h = z*h + (1-z)*cand."""
    u = w["recurrent_kernel"].shape[0]
    h, hs = np.zeros((x.shape[0], u)), []
    for t in range(x.shape[1]):
        mx = x[:, t] @ w["kernel"] + w["bias"][0]
        mh = h @ w["recurrent_kernel"] + w["bias"][1]
        z = sigmoid(mx[:, :u] + mh[:, :u])
        r = sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
        h = z * h + (1.0 - z) * np.tanh(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        hs.append(h)
    return np.stack(hs, axis=1) if return_sequences else h


def _reset_after(kind: str, arg: str, v) -> str | None:
    return None if v is True else (
        "gru with reset_after=False cannot be expressed in PyTorch (torch.nn.GRU always applies the reset gate "
        "after the recurrent matmul, i.e. reset_after=True)")


def _shape(l, ins):
    need_rank(l, ins[0], 3)
    return (ins[0][0], l["units"]) if l["return_sequences"] else (l["units"],)


def _params(gates: int, bias_rows: tuple[int, ...]):
    def hook(l, x):
        gu = gates * l["units"]
        return {"kernel": Weight((x[-1], gu), glorot), "recurrent_kernel": Weight((l["units"], gu), glorot),
                "bias": Weight((*bias_rows, gu), small)}
    return hook


@functools.cache
def _recurrent():
    nn = runtime.torch().nn

    class Recurrent(nn.Module):
        def __init__(self, core, return_sequences):
            super().__init__()
            self.core, self.return_sequences = core, return_sequences

        def forward(self, x):
            out, _ = self.core(x)
            return out if self.return_sequences else out[:, -1]

    return Recurrent


def _torch(cls: str):
    def build(l, x):
        core = getattr(runtime.torch().nn, cls)(x[-1], l["units"], batch_first=True)
        return _recurrent()(core, l["return_sequences"])
    return build


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    # inside a sequence model ('seq') the next layer needs the sequence; at its end ('seq_final') the last state
    return dict(units=draw(st.integers(1, 6), label=f"units{tag}"), return_sequences=slot == "seq")


def _kind(name, keras, torch, notes, extra_args, params, torch_params, keras_layer, formula) -> LayerKind:
    return LayerKind(
        name=name, keras=keras, torch=torch, notes=notes,
        args=dict(units=Arg(REQUIRED, positive_int), return_sequences=Arg(False, boolean), **extra_args),
        merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape,
        params=params, torch_params=torch_params, keras_layer=keras_layer, torch_module=_torch(name.upper()),
        forward=lambda l, args, w, training, trace: formula(args[0], w, l["return_sequences"]),
        depth=lambda l, ins, batch: ins[0][0] * (ins[0][-1] + l["units"]),  # T steps of C + units terms
        bound=no_element_rule, scale=scale_unchanged, strategy=_draw, slots=("seq", "seq_final"),
    )


LSTM = _kind(
    "lstm", "keras.layers.LSTM", "torch.nn.LSTM(batch_first=True)",
    "same gate order i,f,g,o; one Keras bias -> bias_ih, bias_hh = 0", {}, _params(4, ()),
    (Map("kernel", "weight_ih_l0", T), Map("recurrent_kernel", "weight_hh_l0", T),
     Map("bias", ("bias_ih_l0", "bias_hh_l0"), PlusZero())),
    lambda l, x: runtime.keras().layers.LSTM(l["units"], return_sequences=l["return_sequences"], name=l.name),
    lstm)
GRU = _kind(
    "gru", "keras.layers.GRU", "torch.nn.GRU(batch_first=True)",
    "gates z,r,h -> r,z,n; bias (2, 3u) -> bias_ih, bias_hh; reset_after=False has no torch form",
    dict(reset_after=Arg(True, _reset_after)), _params(3, (2,)),
    (Map("kernel", "weight_ih_l0", Gates(GRU_TO_TORCH), T),
     Map("recurrent_kernel", "weight_hh_l0", Gates(GRU_TO_TORCH), T),
     Map("bias", ("bias_ih_l0", "bias_hh_l0"), Gates(GRU_TO_TORCH), Unstack())),
    lambda l, x: runtime.keras().layers.GRU(l["units"], return_sequences=l["return_sequences"],
                                             reset_after=l["reset_after"], name=l.name),
    gru)
