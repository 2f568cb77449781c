"""The zoo's catalogue entry observes the real framework calls: change one and the entry goes stale (the pattern of
tests/meta/test_witness_mutations.py)."""
from __future__ import annotations

import pytest

from equivalence import runtime
from equivalence.differences import by_id
from equivalence.differences.witness_tools import assert_stale

pytestmark = [pytest.mark.catalogue, pytest.mark.usefixtures("needs_tf")]


def test_split_bias_step_unmutated_passes():
    """The baseline: the entry checks clean (so a failure below is the mutation's)."""
    by_id("lstm-split-bias-step").check()


def test_split_bias_step_torch_is_seen(monkeypatch):
    """A torch LSTM whose bias_hh is not trainable (one bias, as Keras) makes lstm-split-bias-step stale on torch."""
    torch = runtime.torch()
    real = torch.nn.LSTM

    class OneBiasLSTM(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.bias_hh_l0.requires_grad_(False)

    monkeypatch.setattr(torch.nn, "LSTM", OneBiasLSTM)
    assert_stale("lstm-split-bias-step", "torch")


def test_split_bias_step_tf_is_seen(monkeypatch):
    """A Keras SGD that steps by twice the learning rate makes lstm-split-bias-step stale on tf."""
    keras = runtime.keras()
    real = keras.optimizers.SGD

    class DoubleSGD(real):
        def update_step(self, gradient, variable, learning_rate):
            super().update_step(gradient + gradient, variable, learning_rate)

    monkeypatch.setattr(keras.optimizers, "SGD", DoubleSGD)
    assert_stale("lstm-split-bias-step", "tf")


def test_embedding_sparse_step_unmutated_passes():
    by_id("embedding-sparse-gradient-step").check()


def test_embedding_sparse_step_tf_is_seen(monkeypatch):
    """A Keras Adam that densifies an IndexedSlices gradient first (sums the lookups, as torch) makes
    embedding-sparse-gradient-step stale on tf."""
    keras, tf = runtime.keras(), runtime.tf()
    real = keras.optimizers.Adam

    class DenseAdam(real):
        def update_step(self, gradient, variable, learning_rate):
            super().update_step(tf.convert_to_tensor(gradient), variable, learning_rate)

    monkeypatch.setattr(keras.optimizers, "Adam", DenseAdam)
    assert_stale("embedding-sparse-gradient-step", "tf")


def test_embedding_sparse_step_torch_is_seen(monkeypatch):
    """A torch Embedding whose lookups accumulate one row per lookup in a sparse gradient (sparse=True, stepped by
    SparseAdam, which keeps Adam's step for it) makes embedding-sparse-gradient-step stale on torch."""
    torch = runtime.torch()
    real_embedding = torch.nn.Embedding

    class SparseEmbedding(real_embedding):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, sparse=True, **kwargs)

    monkeypatch.setattr(torch.nn, "Embedding", SparseEmbedding)
    monkeypatch.setattr(torch.optim, "Adam", torch.optim.SparseAdam)
    message = assert_stale("embedding-sparse-gradient-step", "torch")
    assert "sparse" in message
