"""Known differences: masks and padded sequences, each entry right below its witness.

Keras' Embedding(mask_zero=True) makes a mask (ids != 0) that Keras hands to every later layer: LSTM/GRU keep
their state at masked steps, Bidirectional's backward direction starts at the last valid id, and
GlobalAveragePooling1D averages the valid steps only. torch has no masks: a user packs the sequences by their
lengths (pack_padded_sequence) and averages with the mask by hand; padding_idx=0 is something else (a zero row
that gets no gradient). The spec builders do what these entries record (equivalence.layer_kinds.sequence).

Every witness builds its layers fresh (seeded by the entry, `KnownDifference.observe`) on one right-padded
sequence of 3 valid steps and 2 padding ones, and compares runs of the SAME layer: bit-for-bit arithmetic on the
same values, so `_same` allows 1e-6 (float32 rounding of values ~1 where the order of the ops could differ),
while a mask that is not applied changes the outputs by ~1e-2 or more.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import frameworks, no_grad

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness

VALID = 3  # valid steps of the witnesses' sequence; 2 padding steps follow


def _sequence(features: int = 2) -> np.ndarray:
    """(1, 5, features): 3 valid steps, then 2 padding steps holding what an embedding's row 0 would give."""
    x = np.random.default_rng(0).uniform(-1, 1, (1, VALID + 2, features)).astype(np.float32)
    x[:, VALID:] = 0.5  # nonzero, as an embedding's row 0 is
    return x


def _same(a, b) -> bool:
    return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=0, atol=1e-6))


def _mask():
    return np.arange(VALID + 2)[None] < VALID  # [[True, True, True, False, False]]


def _packed(torch, core, x, lengths):
    """torch's masked run, as users write it: pack by lengths, run, pad back (zeros at padded steps)."""
    rnn = torch.nn.utils.rnn
    packed = rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out, h = core(packed)
    return rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], h


# ------------------------------------------------------------------------------------- mask_zero vs padding_idx
def _mask_zero_vs_padding_idx() -> dict:
    """Ids [0, 1] through Keras Embedding(mask_zero=True) and nn.Embedding(padding_idx=0): row 0's initial value,
    the output at id 0, row 0's gradient of sum(output), and the mask."""
    torch, keras = frameworks()
    tf, ids = runtime.tf(), np.array([[0, 1]], np.int32)
    k = keras.layers.Embedding(4, 2, mask_zero=True)
    with tf.GradientTape() as tape:
        y = k(ids)
        loss = tf.reduce_sum(y)
    grad = tf.convert_to_tensor(tape.gradient(loss, k.embeddings)).numpy()
    t = torch.nn.Embedding(4, 2, padding_idx=0)
    row0 = t.weight[0].detach().clone()
    yt = t(torch.from_numpy(ids).long())
    yt.sum().backward()
    mask = k.compute_mask(ids)
    return {"tf": {"row 0 starts at zero": bool(not np.any(k.embeddings.numpy()[0])),
                   "output at id 0 is row 0": _same(y.numpy()[0, 0], k.embeddings.numpy()[0]),
                   "gradient of row 0": grad[0].tolist(),
                   "mask": None if mask is None else mask.numpy().tolist()},
            "torch": {"row 0 starts at zero": bool(not row0.any()),
                      "output at id 0 is row 0": _same(yt[0, 0].detach(), t.weight[0].detach()),
                      "gradient of row 0": t.weight.grad[0].tolist(), "makes a mask": hasattr(t, "compute_mask")}}


ENTRIES.add(KnownDifference(
    id="embedding-mask-zero-vs-padding-idx",
    area="layer-defaults",
    title="Embedding: Keras' mask_zero=True masks id 0 for the later layers; torch's padding_idx=0 is not a mask "
          "but a zero row that never learns",
    tf="Embedding(mask_zero=True): row 0 is initialised and trained like any other (gradient of sum(y) on ids "
       "[0, 1]: [1, 1]) and looked up as usual; the layer also makes the mask ids != 0 ([[False, True]]), which "
       "the later LSTM/GRU/Bidirectional/GlobalAveragePooling1D consume.",
    torch="nn.Embedding(padding_idx=0): row 0 starts at zeros and its gradient is always zero (it stays 0), so id 0 "
          "looks up zeros; no mask exists: the padded steps still run through the next LSTM and into any mean.",
    witness=_mask_zero_vs_padding_idx,
    expected={"tf": {"row 0 starts at zero": False, "output at id 0 is row 0": True, "gradient of row 0": [1.0, 1.0],
                     "mask": [[False, True]]},
              "torch": {"row 0 starts at zero": True, "output at id 0 is row 0": True,
                        "gradient of row 0": [0.0, 0.0], "makes a mask": False}},
    snippet_tf="keras.layers.Embedding(vocab, dim, mask_zero=True)  # + LSTM: padded steps skipped",
    snippet_torch="emb = torch.nn.Embedding(vocab, dim)  # NOT padding_idx=0 for Keras' mask\n"
                  "lengths = (ids != 0).sum(1)  # then pack_padded_sequence(emb(ids), lengths, batch_first=True, "
                  "enforce_sorted=False)",
    evidence="keras/src/layers/core/embedding.py (compute_mask: ops.not_equal(inputs, 0)); torch.nn.Embedding docs "
             "(padding_idx: 'the entries at padding_idx do not contribute to the gradient', initialised to zeros)",
    mapping="plain nn.Embedding with one weight set, the mask ids != 0 computed from the ids and handed to the "
            "recurrent layer (packing) and the pooling (equivalence.layer_kinds.embedding / sequence)",
    applies_to=("layer:embedding", "layer:lstm", "layer:gru", "layer:bidirectional"),
    gotcha=True,
))


# ---------------------------------------------------------------------------------- mask propagation into LSTM
@no_grad
def _lstm_padding() -> dict:
    """One LSTM per side on the padded sequence and on its 3 valid steps: Keras with and without the mask; torch
    on the padded tensor and packed by length. Also what each gives at the padded steps of the sequences."""
    torch, keras = frameworks()
    x, mask = _sequence(), _mask()
    k = keras.layers.LSTM(2, return_sequences=True)
    masked, unmasked, short = k(x, mask=mask).numpy(), k(x).numpy(), k(x[:, :VALID]).numpy()
    t = torch.nn.LSTM(2, 2, batch_first=True)
    xt = torch.from_numpy(x)
    padded, (h_padded, _) = t(xt)
    _, (h_short, _) = t(xt[:, :VALID])
    packed, (h_packed, _) = _packed(torch, t, xt, [VALID])
    last = masked[0, VALID - 1]
    return {"tf": {"masked last output == unpadded": _same(masked[0, -1], short[0, -1]),
                   "unmasked last output == unpadded": _same(unmasked[0, -1], short[0, -1]),
                   "padded steps (masked)": "last valid output repeated" if _same(masked[0, VALID:], [last, last])
                   else masked[0, VALID:].tolist()},
            "torch": {"padded h_n == unpadded": _same(h_padded, h_short),
                      "packed h_n == unpadded": _same(h_packed, h_short),
                      "padded steps (packed)": "zeros" if not packed[0, VALID:].any() else packed[0, VALID:].tolist()}}


ENTRIES.add(KnownDifference(
    id="mask-propagation-recurrent",
    area="modes",
    title="Keras hands the embedding's mask to LSTM/GRU, which skip padded steps; torch has no masks: the same "
          "model without packing runs the padding and gives different outputs on padded rows",
    tf="LSTM(x, mask) (what Sequential does after Embedding(mask_zero=True)): a masked step keeps the state, so the "
       "last output of a padded row equals that of the unpadded row; at the masked steps of return_sequences=True "
       "it repeats the last valid output (Bidirectional: zeros). Without the mask it differs.",
    torch="nn.LSTM runs every step: h_n of a padded row differs from the unpadded row's. Packed by length "
          "(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)) it equals it, and "
          "pad_packed_sequence gives zeros at the padded steps.",
    witness=_lstm_padding,
    expected={"tf": {"masked last output == unpadded": True, "unmasked last output == unpadded": False,
                     "padded steps (masked)": "last valid output repeated"},
              "torch": {"padded h_n == unpadded": False, "packed h_n == unpadded": True,
                        "padded steps (packed)": "zeros"}},
    snippet_tf="keras.Sequential([keras.layers.Embedding(v, d, mask_zero=True), keras.layers.LSTM(u)])",
    snippet_torch="out, (h, c) = lstm(pack_padded_sequence(emb(ids), (ids != 0).sum(1), batch_first=True, "
                  "enforce_sorted=False))",
    evidence="keras/src/backend/tensorflow/rnn.py (mask: states and outputs carried at masked steps, "
             "zero_output_for_mask); torch.nn.utils.rnn.pack_padded_sequence docs",
    mapping="pack by the lengths of right-padded ids; for Keras' outputs at padded steps repeat the last valid "
            "one (equivalence.layer_kinds.recurrent.Recurrent)",
    applies_to=("layer:lstm", "layer:gru"),
    gotcha=True,
))


# ------------------------------------------------------------------------------ Bidirectional with a mask
@no_grad
def _bidirectional_padding() -> dict:
    """A bidirectional LSTM per side on the padded sequence vs its 3 valid steps, at the valid steps: Keras with the
    mask; torch unpacked (each half) and packed."""
    torch, keras = frameworks()
    x, mask = _sequence(), _mask()
    k = keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True))
    masked, short = k(x, mask=mask).numpy(), k(x[:, :VALID]).numpy()
    t = torch.nn.LSTM(2, 2, batch_first=True, bidirectional=True)
    xt = torch.from_numpy(x)
    padded, short_t = t(xt)[0][:, :VALID], t(xt[:, :VALID])[0]
    packed = _packed(torch, t, xt, [VALID])[0]
    return {"tf": {"valid steps == unpadded": _same(masked[:, :VALID], short),
                   "padded steps": "zeros" if not masked[:, VALID:].any() else masked[0, VALID:].tolist()},
            "torch": {"forward half, unpacked": _same(padded[..., :2], short_t[..., :2]),
                      "backward half, unpacked": _same(padded[..., 2:], short_t[..., 2:]),
                      "valid steps, packed": _same(packed[:, :VALID], short_t),
                      "padded steps, packed": "zeros" if not packed[:, VALID:].any() else packed[0, VALID:].tolist()}}


ENTRIES.add(KnownDifference(
    id="bidirectional-mask-backward-start",
    area="modes",
    title="Bidirectional with a mask: Keras' backward direction starts at the last VALID step; torch's unpacked "
          "backward direction starts at the padding",
    tf="Bidirectional(LSTM(return_sequences=True)) with the embedding's mask: the backward layer runs the reversed "
       "sequence with the reversed mask, so at the valid steps both halves equal those of the unpadded sequence; "
       "padded steps are zeros (Bidirectional sets zero_output_for_mask = return_sequences).",
    torch="nn.LSTM(bidirectional=True) on the padded tensor: the forward half at the valid steps is right, the "
          "backward half has run through the padding first and differs. Packed by length both halves equal the "
          "unpadded run, padded steps zeros.",
    witness=_bidirectional_padding,
    expected={"tf": {"valid steps == unpadded": True, "padded steps": "zeros"},
              "torch": {"forward half, unpacked": True, "backward half, unpacked": False, "valid steps, packed": True,
                        "padded steps, packed": "zeros"}},
    snippet_tf="keras.layers.Bidirectional(keras.layers.LSTM(u, return_sequences=True))(emb_with_mask)",
    snippet_torch="out, _ = lstm_bi(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))\n"
                  "out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)",
    evidence="keras/src/layers/rnn/bidirectional.py (backward layer go_backwards=True, mask reversed; "
             "force_zero_output_for_mask); torch.nn.LSTM docs (bidirectional; PackedSequence input)",
    mapping="pack by length (equivalence.layer_kinds.recurrent.Recurrent, carry=False)",
    applies_to=("layer:bidirectional",),
    gotcha=True,
))


# ------------------------------------------------------------------------------ merge_mode and torch's layout
@no_grad
def _merge_mode() -> dict:
    """Keras Bidirectional's default merge_mode and output layout; torch's (N, T, 2H) layout and its missing
    merge_mode argument."""
    torch, keras = frameworks()
    x = _sequence()
    k = keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True))
    y = k(x).numpy()
    t = torch.nn.LSTM(2, 2, batch_first=True, bidirectional=True)
    one = torch.nn.LSTM(2, 2, batch_first=True)
    one.load_state_dict({n: p for n, p in t.state_dict().items() if not n.endswith("_reverse")})
    yt = t(torch.from_numpy(x))[0]
    try:
        torch.nn.LSTM(2, 2, batch_first=True, bidirectional=True, merge_mode="sum")
        merge = "accepted"
    except Exception as exc:  # noqa: BLE001 - the error class is the observation
        merge = type(exc).__name__
    return {"tf": {"merge_mode": k.merge_mode, "output shape": list(y.shape),
                   "first half is the forward layer": _same(y[..., :2], k.forward_layer(x).numpy())},
            "torch": {"output shape": list(yt.shape),
                      "first half is the forward direction": _same(yt[..., :2], one(torch.from_numpy(x))[0]),
                      "merge_mode=": merge}}


ENTRIES.add(KnownDifference(
    id="bidirectional-merge-mode",
    area="layer-defaults",
    title="Bidirectional outputs: Keras' merge_mode defaults to 'concat' (forward then backward), which is torch's "
          "only layout; torch has no merge_mode",
    tf="Bidirectional(LSTM(2, return_sequences=True)): merge_mode='concat', output (N, T, 4), the forward layer's "
       "output first; 'sum', 'ave', 'mul' and None (a list) are the other modes.",
    torch="nn.LSTM(2, 2, bidirectional=True, batch_first=True): output (N, T, 4), forward direction first; passing "
          "merge_mode raises TypeError: sum/ave/mul are written on the two halves by hand.",
    witness=_merge_mode,
    expected={"tf": {"merge_mode": "concat", "output shape": [1, 5, 4], "first half is the forward layer": True},
              "torch": {"output shape": [1, 5, 4], "first half is the forward direction": True,
                        "merge_mode=": "TypeError"}},
    snippet_tf="keras.layers.Bidirectional(keras.layers.LSTM(h, return_sequences=True), merge_mode='sum')",
    snippet_torch="out = lstm_bi(x)[0]; out[..., :h] + out[..., h:]  # 'sum'",
    evidence="keras/src/layers/rnn/bidirectional.py (merge_mode='concat'); torch.nn.LSTM docs (output: "
             "D * H_out features, 'forward and reverse hidden states')",
    mapping="'concat' is torch's output as is; the spec's other modes split it at H (equivalence.layer_kinds."
            "sequence.MERGES)",
    applies_to=("layer:bidirectional",),
))


# ------------------------------------------------------------------------------ the last state of a bidirectional
@no_grad
def _last_state() -> dict:
    """The last output of a bidirectional LSTM: Keras' return_sequences=False vs its sequences (same weights);
    torch's out[:, -1] vs h_n."""
    torch, keras = frameworks()
    x = _sequence()
    seq = keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True))
    last = keras.layers.Bidirectional(keras.layers.LSTM(2))
    ys = seq(x).numpy()
    last(x)
    last.set_weights(seq.get_weights())
    y = last(x).numpy()
    t = torch.nn.LSTM(2, 2, batch_first=True, bidirectional=True)
    out, (h, _) = t(torch.from_numpy(x))
    h_n = torch.cat([h[0], h[1]], -1)
    return {"tf": {"== [forward at T-1, backward at 0]": _same(y, np.concatenate([ys[:, -1, :2], ys[:, 0, 2:]], -1)),
                   "== sequences[:, -1]": _same(y, ys[:, -1])},
            "torch": {"out[:, -1] == cat(h_n)": _same(out[:, -1], h_n),
                      "cat(out[:, -1, :H], out[:, 0, H:]) == cat(h_n)":
                          _same(torch.cat([out[:, -1, :2], out[:, 0, 2:]], -1), h_n)}}


ENTRIES.add(KnownDifference(
    id="bidirectional-last-state",
    area="layouts",
    title="A bidirectional layer's last state: Keras' return_sequences=False gives each direction's final state; "
          "torch's out[:, -1] holds the backward direction after ONE step",
    tf="Bidirectional(LSTM(u)) returns [forward output at T-1, backward output at step 0], i.e. both directions "
       "after the whole sequence; it is not the last step of the sequences output.",
    torch="out[:, -1] of nn.LSTM(bidirectional=True) is [forward at T-1, backward at T-1]: the backward direction "
          "has seen only the last step. h_n (and out[:, 0, H:] for the backward half) holds the final states.",
    witness=_last_state,
    expected={"tf": {"== [forward at T-1, backward at 0]": True, "== sequences[:, -1]": False},
              "torch": {"out[:, -1] == cat(h_n)": False, "cat(out[:, -1, :H], out[:, 0, H:]) == cat(h_n)": True}},
    snippet_tf="keras.layers.Bidirectional(keras.layers.LSTM(u))(x)",
    snippet_torch="out, (h_n, c_n) = lstm_bi(x); torch.cat([h_n[0], h_n[1]], -1)  # not out[:, -1]",
    evidence="keras/src/layers/rnn/bidirectional.py (call: y_rev reversed only with return_sequences); "
             "torch.nn.LSTM docs (h_n: final hidden state of each direction)",
    mapping="torch's h_n, one row per direction (equivalence.layer_kinds.recurrent.Recurrent)",
    applies_to=("layer:bidirectional",),
    gotcha=True,
))


# ------------------------------------------------------------------------------ GlobalAveragePooling1D with a mask
@no_grad
def _average_with_mask() -> dict:
    """Steps [1, 3, 5] and 2 padding steps of 100: Keras' GlobalAveragePooling1D with and without the mask; torch's
    global average pooling (adaptive_avg_pool1d over NCL) and the masked mean written by hand."""
    torch, keras = frameworks()
    x = np.array([[[1.0], [3.0], [5.0], [100.0], [100.0]]], np.float32)
    mask = _mask()
    pool = keras.layers.GlobalAveragePooling1D()
    xt, m = torch.from_numpy(x), torch.from_numpy(mask)[..., None].float()
    return {"tf": {"with the mask": pool(x, mask=mask).numpy().ravel().tolist(),
                   "without": pool(x).numpy().ravel().tolist()},
            "torch": {"adaptive_avg_pool1d": torch.nn.functional.adaptive_avg_pool1d(
                          xt.transpose(1, 2), 1).ravel().tolist(),
                      "(x * m).sum(1) / m.sum(1)": ((xt * m).sum(1) / m.sum(1)).ravel().tolist()}}


ENTRIES.add(KnownDifference(
    id="global-average-pooling-mask",
    area="modes",
    title="GlobalAveragePooling1D after a masking Embedding averages the valid steps only; torch's average pooling "
          "counts the padding",
    tf="GlobalAveragePooling1D receives the mask: mean of [1, 3, 5] with 2 padded steps = 3; without a mask 41.8.",
    torch="No masks: F.adaptive_avg_pool1d (or x.mean(1)) averages all 5 steps, 41.8; the masked mean is written "
          "by hand, (x * m).sum(1) / m.sum(1) = 3.",
    witness=_average_with_mask,
    expected={"tf": {"with the mask": [3.0], "without": [41.8]},
              "torch": {"adaptive_avg_pool1d": [41.8], "(x * m).sum(1) / m.sum(1)": [3.0]}},
    snippet_tf="keras.layers.GlobalAveragePooling1D()(lstm_out)  # the mask arrives from Embedding(mask_zero=True)",
    snippet_torch="m = (ids != 0).unsqueeze(-1).float(); (out * m).sum(1) / m.sum(1)",
    evidence="keras/src/layers/pooling/global_average_pooling1d.py (call: mask -> sum(x * m) / sum(m)); "
             "torch.nn.functional.adaptive_avg_pool1d docs",
    mapping="the masked mean (equivalence.layer_kinds.sequence: global_avg_pool1d)",
    applies_to=("layer:global_avg_pool1d",),
    atol=1e-5,  # float32 41.8 (sums of 5 values ~100) printed as float64
    gotcha=True,
))


# ------------------------------------------------------------------------------ a row of padding only
@no_grad
def _fully_padded() -> dict:
    """All-zero ids through Keras' Embedding(mask_zero=True) -> LSTM and -> GlobalAveragePooling1D; torch's
    pack_padded_sequence with a length of 0 and the masked mean."""
    torch, keras = frameworks()
    ids = np.zeros((1, 4), np.int32)
    emb = keras.layers.Embedding(3, 2, mask_zero=True)
    x, mask = emb(ids), emb.compute_mask(ids)
    lstm = keras.layers.LSTM(2)(x, mask=mask).numpy()
    mean = keras.layers.GlobalAveragePooling1D()(x, mask=mask).numpy()
    xt = torch.nn.Embedding(3, 2)(torch.from_numpy(ids).long())
    try:
        torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor([0]), batch_first=True, enforce_sorted=False)
        packed = "packed"
    except Exception as exc:  # noqa: BLE001 - the error class is the observation
        packed = type(exc).__name__
    m = torch.zeros(1, 4, 1)
    return {"tf": {"LSTM last output": lstm.ravel().tolist(), "GlobalAveragePooling1D": mean.ravel().tolist()},
            "torch": {"pack_padded_sequence": packed, "masked mean": ((xt * m).sum(1) / m.sum(1)).ravel().tolist()}}


ENTRIES.add(KnownDifference(
    id="fully-padded-sequence",
    area="modes",
    title="A row of padding only: Keras' masked LSTM returns its zero initial state and its masked average NaN; "
          "torch's pack_padded_sequence rejects a length of 0",
    tf="Embedding(mask_zero=True) on all-zero ids: LSTM keeps the initial state at every step and returns zeros; "
       "GlobalAveragePooling1D divides 0 by 0 valid steps: NaN.",
    torch="pack_padded_sequence with a length of 0 raises RuntimeError ('Length of all samples has to be greater "
          "than 0'); the masked mean written by hand is 0/0 = NaN too.",
    witness=_fully_padded,
    expected={"tf": {"LSTM last output": [0.0, 0.0], "GlobalAveragePooling1D": [float("nan")] * 2},
              "torch": {"pack_padded_sequence": "RuntimeError", "masked mean": [float("nan")] * 2}},
    snippet_tf="keras.layers.LSTM(u)(keras.layers.Embedding(v, d, mask_zero=True)(np.zeros((1, T))))",
    snippet_torch="pack_padded_sequence(x, torch.tensor([0]), batch_first=True, enforce_sorted=False)",
    evidence="keras/src/backend/tensorflow/rnn.py (masked steps keep the state); torch/nn/utils/rnn.py "
             "(pack_padded_sequence: lengths must be > 0)",
    mapping="none: drop empty rows, or give them one token; the spec's inputs keep at least one id per row "
            "(equivalence.models.Pair.sample_input)",
    applies_to=("layer:lstm", "layer:bidirectional", "layer:global_avg_pool1d"),
    gotcha=True,
))


# ------------------------------------------------------------------------------ padding inside a sequence
@no_grad
def _interior_padding() -> dict:
    """Mask [1, 0, 1, 0, 0] (an id 0 between two tokens): Keras' LSTM vs the same LSTM on steps 0 and 2 alone;
    torch packed by the length 2 vs its run on steps 0 and 2, and on steps 0 and 1."""
    torch, keras = frameworks()
    x = _sequence()
    mask, kept = np.array([[True, False, True, False, False]]), [0, 2]
    k = keras.layers.LSTM(2)
    t = torch.nn.LSTM(2, 2, batch_first=True)
    xt = torch.from_numpy(x)
    h_packed = _packed(torch, t, xt, [int(mask.sum())])[1][0]
    return {"tf": {"masked == steps 0, 2": _same(k(x, mask=mask), k(x[:, kept]))},
            "torch": {"packed == steps 0, 2": _same(h_packed, t(xt[:, kept])[1][0]),
                      "packed == steps 0, 1": _same(h_packed, t(xt[:, :2])[1][0])}}


ENTRIES.add(KnownDifference(
    id="mask-interior-padding",
    area="modes",
    title="An id 0 inside a sequence: Keras' mask skips that step; torch's packing by length cannot express it",
    tf="Embedding(mask_zero=True) masks every id 0, wherever it is: with mask [1, 0, 1, 0, 0] the LSTM keeps its "
       "state over step 1 and equals the LSTM run on steps 0 and 2 alone.",
    torch="pack_padded_sequence takes one length per row and keeps the FIRST `length` steps: length 2 runs steps 0 "
          "and 1 (the padding included), not 0 and 2. An interior pad needs an explicit masked loop.",
    witness=_interior_padding,
    expected={"tf": {"masked == steps 0, 2": True},
              "torch": {"packed == steps 0, 2": False, "packed == steps 0, 1": True}},
    snippet_tf="keras.layers.LSTM(u)(x, mask=ids != 0)  # any zero is skipped",
    snippet_torch="pack_padded_sequence(x, (ids != 0).sum(1), batch_first=True, enforce_sorted=False)  # prefixes",
    evidence="keras/src/backend/tensorflow/rnn.py (per-step mask); torch.nn.utils.rnn.pack_padded_sequence docs "
             "('sequences ... sorted by length', each a prefix of its padded row)",
    mapping="none by packing; the spec's torch modules raise ValueError on a mask that is not right-padded, and "
            "masked specs draw right-padded ids (equivalence.models.Pair.sample_input)",
    applies_to=("layer:lstm", "layer:gru", "layer:bidirectional"),
    gotcha=True,
))
