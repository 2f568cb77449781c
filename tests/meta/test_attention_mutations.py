"""Each attention catalogue witness observes the real framework call: replace that call by a plausible upgrade and
the entry goes stale on that side (the pattern of tests/meta/test_witness_mutations.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from equivalence import runtime
from equivalence.differences.witness_tools import assert_stale

pytestmark = [pytest.mark.catalogue, pytest.mark.usefixtures("needs_tf")]


def test_torch_mha_mask_meaning_attend_is_seen(monkeypatch):
    """A torch MultiheadAttention whose key_padding_mask meant ATTEND (Keras' convention) makes
    attention-mask-convention stale on torch."""
    torch = runtime.torch()
    F = torch.nn.functional
    original = F.multi_head_attention_forward

    def attend_convention(*args, key_padding_mask=None, **kwargs):
        if key_padding_mask is not None:  # MultiheadAttention hands it on as a float mask (-inf = ignore)
            ignored = key_padding_mask if key_padding_mask.dtype == torch.bool else key_padding_mask != 0
            key_padding_mask = ~ignored
        return original(*args, key_padding_mask=key_padding_mask, **kwargs)

    monkeypatch.setattr(F, "multi_head_attention_forward", attend_convention)
    assert_stale("attention-mask-convention", "torch")


def _uniform_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **kwargs):
    """torch SDPA as a large-negative masked softmax: a fully masked row becomes uniform (Keras' SDPA behaviour)."""
    torch = runtime.torch()
    z = q @ k.transpose(-2, -1) * (scale or 1 / math.sqrt(q.shape[-1]))
    if attn_mask is not None and attn_mask.dtype == torch.bool:  # True = attend
        z = z.masked_fill(~attn_mask, torch.finfo(z.dtype).min)
    elif attn_mask is not None:  # MultiheadAttention's float mask: -inf = ignore
        z = z + attn_mask.clamp(min=torch.finfo(z.dtype).min)
    return torch.softmax(z, dim=-1) @ v


def test_torch_sdpa_uniform_masked_rows_is_seen(monkeypatch):
    """A torch SDPA that gives a fully masked row uniform weights makes attention-fully-masked-row stale on torch."""
    monkeypatch.setattr(runtime.torch().nn.functional, "scaled_dot_product_attention", _uniform_sdpa)
    assert_stale("attention-fully-masked-row", "torch")


def test_torch_mha_separate_projections_is_seen(monkeypatch):
    """A torch MultiheadAttention that kept separate q/k/v projections makes mha-in-proj-packing stale on torch."""
    torch = runtime.torch()

    class Separate(torch.nn.MultiheadAttention):
        def __init__(self, embed_dim, num_heads, **kwargs):
            super().__init__(embed_dim, num_heads, kdim=embed_dim + 1, vdim=embed_dim + 1, **kwargs)

    monkeypatch.setattr(torch.nn, "MultiheadAttention", Separate)
    assert_stale("mha-in-proj-packing", "torch")


def test_torch_mha_per_head_weights_default_is_seen(monkeypatch):
    """A torch MultiheadAttention returning per-head weights by default makes mha-defaults stale on torch."""
    torch = runtime.torch()
    original = torch.nn.MultiheadAttention.forward

    def per_head(self, query, key, value, **kwargs):
        return original(self, query, key, value, **{"average_attn_weights": False, **kwargs})

    monkeypatch.setattr(torch.nn.MultiheadAttention, "forward", per_head)
    assert_stale("mha-defaults", "torch")


def test_keras_layer_norm_epsilon_like_torch_is_seen(monkeypatch):
    """A Keras LayerNormalization defaulting to torch's epsilon 1e-5 makes transformer-encoder-defaults stale on tf."""
    keras = runtime.keras()

    class TorchEpsilon(keras.layers.LayerNormalization):
        def __init__(self, epsilon=1e-5, **kwargs):
            super().__init__(epsilon=epsilon, **kwargs)

    monkeypatch.setattr(keras.layers, "LayerNormalization", TorchEpsilon)
    assert_stale("transformer-encoder-defaults", "tf")


def test_torch_encoder_ffn_default_is_seen(monkeypatch):
    """A torch TransformerEncoderLayer whose FFN defaulted to 4 * d_model makes transformer-encoder-defaults stale
    on torch."""
    torch = runtime.torch()

    class Wider(torch.nn.TransformerEncoderLayer):
        def __init__(self, d_model, nhead, **kwargs):
            super().__init__(d_model, nhead, **{"dim_feedforward": 4 * d_model, **kwargs})

    monkeypatch.setattr(torch.nn, "TransformerEncoderLayer", Wider)
    assert_stale("transformer-encoder-defaults", "torch")


def test_keras_sdpa_bottom_right_causal_is_seen(monkeypatch):
    """A keras.ops.dot_product_attention aligning a non-square causal mask bottom-right (a KV-cache convention)
    makes causal-mask-conventions stale on tf."""
    keras = runtime.keras()
    original = keras.ops.dot_product_attention

    def bottom_right(query, key, value, mask=None, is_causal=False, **kwargs):
        if is_causal:
            t, s = query.shape[1], key.shape[1]
            mask, is_causal = np.tril(np.ones((t, s), bool), s - t)[None, None], False
        return original(query, key, value, mask=mask, is_causal=is_causal, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", bottom_right)
    assert_stale("causal-mask-conventions", "tf")


def test_keras_sdpa_float64_scale_is_seen(monkeypatch):
    """A keras.ops.dot_product_attention computing its scale in the input dtype makes keras-sdpa-float32-scale
    stale on tf."""
    keras, tf = runtime.keras(), runtime.tf()
    original = keras.ops.dot_product_attention

    def exact_scale(query, key, value, scale=None, **kwargs):
        query = tf.convert_to_tensor(query)
        scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
        return original(query, key, value, scale=tf.constant(float(scale), query.dtype), **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", exact_scale)
    assert_stale("keras-sdpa-float32-scale", "tf")


def test_keras_add_broadcasting_like_numpy_is_seen(monkeypatch):
    """A keras.ops.add without its bias_add special case (NumPy broadcasting) makes keras-add-bias-broadcast stale
    on tf."""
    keras, tf = runtime.keras(), runtime.tf()
    monkeypatch.setattr(keras.ops, "add", lambda x1, x2: tf.add(tf.convert_to_tensor(x1), tf.convert_to_tensor(x2)))
    assert_stale("keras-add-bias-broadcast", "tf")
