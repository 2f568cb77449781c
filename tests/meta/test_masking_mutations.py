"""Each masking witness (equivalence/differences/masking.py) observes the real framework call: change that call
and the entry goes stale on the side that changed (the pattern of test_witness_mutations.py).

One mutation per entry in the default run (each re-runs its witness, ~0.1-1 s); the `thorough` profile adds the
other side's. The unmutated entries are checked by tests/test_differences.py, and each mutation below asserts
that ONLY its side goes stale, so the other side's observation still matches."""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import settings

from equivalence import runtime
from equivalence.differences.witness_tools import assert_stale

pytestmark = [pytest.mark.catalogue, pytest.mark.usefixtures("needs_tf")]
THOROUGH = settings.get_current_profile_name().startswith("thorough")


def _drop_mask(monkeypatch, cls):
    """cls.call with its mask argument dropped: a Keras layer that stopped consuming masks."""
    original = cls.call

    @functools.wraps(original)  # Keras reads call()'s signature (argument names, `mask`)
    def call(self, *args, mask=None, **kwargs):
        return original(self, *args, mask=None, **kwargs)

    monkeypatch.setattr(cls, "call", call)


def _pack_ignoring(monkeypatch, lengths):
    """pack_padded_sequence with its lengths replaced (`lengths(old) -> new`)."""
    rnn = runtime.torch().nn.utils.rnn
    original = rnn.pack_padded_sequence

    def pack(x, given, *args, **kwargs):
        return original(x, lengths(given, x), *args, **kwargs)

    monkeypatch.setattr(rnn, "pack_padded_sequence", pack)


# ------------------------------------------------------------------------------------------------ the mutations
def padding_idx_that_learns(monkeypatch):
    """An nn.Embedding whose padding_idx neither zeroes nor freezes row 0."""
    torch = runtime.torch()

    class PlainEmbedding(torch.nn.Embedding):
        def __init__(self, num, dim, padding_idx=None, **kwargs):
            super().__init__(num, dim, **kwargs)

    monkeypatch.setattr(torch.nn, "Embedding", PlainEmbedding)


def embedding_without_mask(monkeypatch):
    """A Keras Embedding whose mask_zero makes no mask."""
    monkeypatch.setattr(runtime.keras().layers.Embedding, "compute_mask", lambda self, inputs, mask=None: None)


def lstm_ignoring_the_mask(monkeypatch):
    _drop_mask(monkeypatch, runtime.keras().layers.LSTM)


def bidirectional_ignoring_the_mask(monkeypatch):
    """A Keras Bidirectional that drops the mask: its backward layer starts at the padding."""
    _drop_mask(monkeypatch, runtime.keras().layers.Bidirectional)


def packing_without_lengths(monkeypatch):
    """pack_padded_sequence packing every step (lengths ignored)."""
    _pack_ignoring(monkeypatch, lambda given, x: [x.shape[1]] * len(given))


def packing_length_zero(monkeypatch):
    """pack_padded_sequence accepting a length of 0 (clamped to 1)."""
    _pack_ignoring(monkeypatch, lambda given, x: np.maximum(np.asarray(given), 1).tolist())


def merge_mode_default_sum(monkeypatch):
    keras = runtime.keras()

    class SumBidirectional(keras.layers.Bidirectional):
        def __init__(self, layer, merge_mode="sum", **kwargs):
            super().__init__(layer, merge_mode=merge_mode, **kwargs)

    monkeypatch.setattr(keras.layers, "Bidirectional", SumBidirectional)


def lstm_taking_merge_mode(monkeypatch):
    torch = runtime.torch()

    class MergingLSTM(torch.nn.LSTM):
        def __init__(self, *args, merge_mode="concat", **kwargs):
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(torch.nn, "LSTM", MergingLSTM)


def lstm_with_final_backward_last(monkeypatch):
    """An nn.LSTM whose out[:, -1] holds each direction's final state (backward half time-reversed)."""
    torch = runtime.torch()

    class FinalLastLSTM(torch.nn.LSTM):
        def forward(self, x, hx=None):
            out, state = super().forward(x, hx)
            h = out.shape[-1] // 2
            return torch.cat([out[..., :h], out[..., h:].flip(1)], -1), state

    monkeypatch.setattr(torch.nn, "LSTM", FinalLastLSTM)


def average_pooling_ignoring_the_mask(monkeypatch):
    _drop_mask(monkeypatch, runtime.keras().layers.GlobalAveragePooling1D)


def torch_average_skipping_padding(monkeypatch):
    """A torch average pooling over the first three steps only."""
    F = runtime.torch().nn.functional
    original = F.adaptive_avg_pool1d
    monkeypatch.setattr(F, "adaptive_avg_pool1d", lambda x, size: original(x[..., :3], size))


def safe_masked_average(monkeypatch):
    """A Keras masked average that divides safely (0 instead of NaN for no valid step)."""
    keras = runtime.keras()
    ops = keras.ops

    def call(self, inputs, mask=None):
        m = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.divide_no_nan(ops.sum(inputs * m, axis=1), ops.sum(m, axis=1))

    monkeypatch.setattr(keras.layers.GlobalAveragePooling1D, "call", call)


def m(mutation, entry: str, side: str):
    return pytest.param(mutation, entry, side, id=f"{entry}-{side}")


# One per entry by default (the cheapest to re-run); the other sides under thorough.
MUTATIONS = [
    m(embedding_without_mask, "embedding-mask-zero-vs-padding-idx", "tf"),
    m(lstm_ignoring_the_mask, "mask-propagation-recurrent", "tf"),
    m(bidirectional_ignoring_the_mask, "bidirectional-mask-backward-start", "tf"),
    m(lstm_taking_merge_mode, "bidirectional-merge-mode", "torch"),
    m(lstm_with_final_backward_last, "bidirectional-last-state", "torch"),
    m(average_pooling_ignoring_the_mask, "global-average-pooling-mask", "tf"),
    m(packing_length_zero, "fully-padded-sequence", "torch"),
    m(packing_without_lengths, "mask-interior-padding", "torch"),
] + ([
    m(padding_idx_that_learns, "embedding-mask-zero-vs-padding-idx", "torch"),
    m(packing_without_lengths, "mask-propagation-recurrent", "torch"),
    m(packing_without_lengths, "bidirectional-mask-backward-start", "torch"),
    m(merge_mode_default_sum, "bidirectional-merge-mode", "tf"),
    m(torch_average_skipping_padding, "global-average-pooling-mask", "torch"),
    m(safe_masked_average, "fully-padded-sequence", "tf"),
    m(lstm_ignoring_the_mask, "mask-interior-padding", "tf"),
] if THOROUGH else [])


@pytest.mark.parametrize(("mutation", "entry", "side"), MUTATIONS)
def test_masking_witness_sees_the_call_change(monkeypatch, mutation, entry, side):
    """The framework call the witness observes, changed as an upgrade could change it, makes the entry stale on
    exactly that side."""
    mutation(monkeypatch)
    assert_stale(entry, side)
