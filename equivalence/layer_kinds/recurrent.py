"""lstm / gru: keras.layers.LSTM/GRU <-> torch.nn.LSTM/GRU(batch_first=True), on (N, T, C) sequences.

Canonical weights are Keras': kernel (in, g*u), recurrent_kernel (u, g*u); LSTM gates i, f, c, o (torch's order
too) with ONE bias (torch: bias_ih = it, bias_hh = 0; reading back sums them); GRU (reset_after) gates z, r, h
with a (2, 3u) bias = (input, recurrent), torch's gates r, z, n. reset_after=False has no torch form.

Masks (an embedding with mask_zero before them, equivalence.layer_kinds.sequence): Keras keeps the state at a
masked step and outputs the previous output there (Bidirectional: zeros); the torch module packs the sequences by
their lengths (pack_padded_sequence: right-padded rows, length >= 1) and reproduces Keras' outputs at the padded
steps. The bidirectional kind (sequence.py) reuses the cells, the scan and the torch module here.
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
MASK = ":mask"        # trace key suffix: `<name>:mask`, the (N, T) bool mask a node's output carries
MASK_IN = ":mask_in"  # trace key suffix: `<name>:mask_in`, the mask of a layer's input (reference.trace sets it)


def lstm_step(x, w, state):
    """Keras/torch LSTM: gates i, f, c, o; c = f*c + i*tanh(.); h = o*tanh(c). State (h, c)."""
    h, c = state
    u = w["recurrent_kernel"].shape[0]
    z = x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"]
    i, f, g, o = (z[:, j * u:(j + 1) * u] for j in range(4))
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_step(x, w, state):
    """GRU with reset_after: z, r from x and h; candidate tanh(x Wh + b + r * (h Uh + b_rec)); h = z*h + (1-z)*cand."""
    (h,) = state
    u = w["recurrent_kernel"].shape[0]
    mx = x @ w["kernel"] + w["bias"][0]
    mh = h @ w["recurrent_kernel"] + w["bias"][1]
    z = sigmoid(mx[:, :u] + mh[:, :u])
    r = sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
    return (z * h + (1.0 - z) * np.tanh(mx[:, 2 * u:] + r * mh[:, 2 * u:]),)


STEPS = {"lstm": (lstm_step, 2), "gru": (gru_step, 1)}  # cell -> (step, number of state tensors)


def scan(cell: str, x, w, mask=None, *, reverse: bool = False, zero_masked: bool = False):
    """(outputs (N, T, u) at their time positions, last output (N, u)) of one direction, Keras' masking: a masked
    step keeps the state and outputs the previous output (zero_masked: zeros, as Bidirectional's sequences do)."""
    step, n_state = STEPS[cell]
    u = w["recurrent_kernel"].shape[0]
    state = tuple(np.zeros((x.shape[0], u)) for _ in range(n_state))
    out, prev = np.zeros((*x.shape[:2], u)), np.zeros((x.shape[0], u))
    for t in (reversed(range(x.shape[1])) if reverse else range(x.shape[1])):
        new = step(x[:, t], w, state)
        if mask is None:
            state, prev = new, new[0]
        else:
            m = mask[:, t, None]
            state = tuple(np.where(m, a, b) for a, b in zip(new, state))
            prev = np.where(m, new[0], 0.0 if zero_masked else prev)
        out[:, t] = prev
    return out, prev


def lstm(x, w, return_sequences, mask=None):
    out, last = scan("lstm", x, w, mask)
    return out if return_sequences else last


def gru(x, w, return_sequences, mask=None):
    out, last = scan("gru", x, w, mask)
    return out if return_sequences else last


def takes_mask(l, trace):
    """The input's mask (reference.trace sets it); records it as this node's when the output keeps the time axis."""
    mask = trace.get(l.name + MASK_IN)
    if mask is not None and l["return_sequences"]:
        trace[l.name + MASK] = mask
    return mask


def mask_rule(l, masked) -> bool:
    """The mask passes on with the sequence (return_sequences); a last state carries none."""
    return bool(masked[0] and l["return_sequences"])


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
    torch = runtime.torch()
    nn, rnn = torch.nn, torch.nn.utils.rnn

    class Recurrent(nn.Module):
        """torch's LSTM/GRU (one or both directions) as a torch user wires it: the last state from h_n (each
        direction's final state: out[:, -1] holds the backward direction after ONE step), the directions merged
        (merge), and a mask by packing the sequences by their lengths."""

        def __init__(self, core, return_sequences, merge=None, carry=True):
            super().__init__()
            self.core, self.return_sequences, self.merge, self.carry = core, return_sequences, merge, carry

        def forward(self, x, mask=None):
            if mask is None:
                out, h = self.core(x)
            else:  # right-padded rows: lengths from the mask; pack_padded_sequence rejects a length of 0
                lengths = mask.sum(1).cpu()
                if not bool((mask.cpu() == (torch.arange(x.shape[1]) < lengths[:, None])).all()):
                    raise ValueError("packing by length needs right-padded rows: a masked step before a valid one "
                                     "(an interior id 0) is skipped by Keras but not expressible as a length "
                                     "(catalogue: mask-interior-padding)")
                packed = rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                out, h = self.core(packed)
                out, _ = rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])  # zeros padded
                if self.carry:  # Keras' LSTM/GRU repeat the last valid output at masked steps
                    idx = torch.minimum(torch.arange(x.shape[1]), (lengths - 1)[:, None]).to(x.device)
                    out = out.gather(1, idx[..., None].expand(-1, -1, out.shape[-1]))
            if not self.return_sequences:
                h = h[0] if isinstance(h, tuple) else h  # LSTM: (h_n, c_n); h_n: (directions, N, units)
                return h[0] if self.merge is None else self.merge(h[0], h[1])
            if self.merge is None:
                return out
            u = out.shape[-1] // 2
            return self.merge(out[..., :u], out[..., u:])  # torch's layout: (N, T, 2u), forward then backward

        def output_mask(self, x, mask):
            return mask if self.return_sequences else None

    return Recurrent


def recurrent_module(core, return_sequences, merge=None, carry=True):
    """The torch wrapper of an LSTM/GRU core (see Recurrent)."""
    return _recurrent()(core, return_sequences, merge, carry)


def _torch(cls: str):
    def build(l, x):
        core = getattr(runtime.torch().nn, cls)(x[-1], l["units"], batch_first=True)
        return recurrent_module(core, l["return_sequences"])
    return build


def _draw(draw, x, slot, tag):
    from hypothesis import strategies as st

    # inside a sequence model ('seq') the next layer needs the sequence; at its end ('seq_final') the last state
    return dict(units=draw(st.integers(1, 6), label=f"units{tag}"), return_sequences=slot == "seq")


def depth(l, ins, batch):
    return ins[0][0] * (ins[0][-1] + l["units"])  # T steps of C + units terms


def _kind(name, keras, torch, notes, extra_args, params, torch_params, keras_layer, formula) -> LayerKind:
    return LayerKind(
        name=name, keras=keras, torch=torch, notes=notes,
        args=dict(units=Arg(REQUIRED, positive_int), return_sequences=Arg(False, boolean), **extra_args),
        merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_shape,
        params=params, torch_params=torch_params, keras_layer=keras_layer, torch_module=_torch(name.upper()),
        forward=lambda l, args, w, training, trace: formula(args[0], w, l["return_sequences"], takes_mask(l, trace)),
        depth=depth, bound=no_element_rule, scale=scale_unchanged, strategy=_draw, slots=("seq", "seq_final"),
        mask=mask_rule,
    )


LSTM_MAPS = (Map("kernel", "weight_ih_l0", T), Map("recurrent_kernel", "weight_hh_l0", T),
             Map("bias", ("bias_ih_l0", "bias_hh_l0"), PlusZero()))
GRU_MAPS = (Map("kernel", "weight_ih_l0", Gates(GRU_TO_TORCH), T),
            Map("recurrent_kernel", "weight_hh_l0", Gates(GRU_TO_TORCH), T),
            Map("bias", ("bias_ih_l0", "bias_hh_l0"), Gates(GRU_TO_TORCH), Unstack()))
LSTM_PARAMS, GRU_PARAMS = _params(4, ()), _params(3, (2,))

LSTM = _kind(
    "lstm", "keras.layers.LSTM", "torch.nn.LSTM(batch_first=True)",
    "same gate order i,f,g,o; one Keras bias -> bias_ih, bias_hh = 0", {}, LSTM_PARAMS, LSTM_MAPS,
    lambda l, x: runtime.keras().layers.LSTM(l["units"], return_sequences=l["return_sequences"], name=l.name),
    lstm)
GRU = _kind(
    "gru", "keras.layers.GRU", "torch.nn.GRU(batch_first=True)",
    "gates z,r,h -> r,z,n; bias (2, 3u) -> bias_ih, bias_hh; reset_after=False has no torch form",
    dict(reset_after=Arg(True, _reset_after)), GRU_PARAMS, GRU_MAPS,
    lambda l, x: runtime.keras().layers.GRU(l["units"], return_sequences=l["return_sequences"],
                                             reset_after=l["reset_after"], name=l.name),
    gru)
