"""Attention: masks, fully masked rows, weight layouts and defaults of multi-head attention, the transformer encoder
block and scaled dot-product attention (layer kinds in equivalence/layer_kinds/attention.py, the op in
equivalence/catalog/ops_attention.py). Every witness calls both frameworks on a tiny fixed input."""
from __future__ import annotations

import inspect

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import rounded

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness

NAN = float("nan")
_LAYERS = ("layer:multi_head_attention", "layer:cross_attention", "layer:transformer_encoder")


def _np(x) -> np.ndarray:
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, np.float64)


def _round(x, digits: int = 6) -> list:
    return rounded(_np(x).ravel(), digits)


def _torch_mha(torch, d: int = 2, heads: int = 1):
    return torch.nn.MultiheadAttention(d, heads, batch_first=True).eval()


# ------------------------------------------------------------------------------------------------ mask convention
def _mask_convention() -> dict:
    """The SAME boolean mask [True, False] over 2 keys, given to each framework's attention."""
    keras, tf, torch = runtime.keras(), runtime.tf(), runtime.torch()
    q, kv = np.zeros((1, 1, 2), np.float32), np.ones((1, 2, 2), np.float32)
    v4 = np.array([1.0, 2.0], np.float32).reshape(1, 2, 1, 1)  # (B, S, H, E) for Keras
    mask = np.array([[True, False]])
    _, scores = keras.layers.MultiHeadAttention(1, 2)(q, kv, attention_mask=mask[:, None, :],
                                                       return_attention_scores=True)
    k_sdpa = keras.ops.dot_product_attention(np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 2, 1, 1), np.float32),
                                             v4, mask=tf.constant(mask.reshape(1, 1, 1, 2)))
    with torch.no_grad():
        _, weights = _torch_mha(torch)(torch.tensor(q), torch.tensor(kv), torch.tensor(kv),
                                       key_padding_mask=torch.tensor(mask))
        t_sdpa = torch.nn.functional.scaled_dot_product_attention(
            torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 2, 1), torch.tensor(v4).reshape(1, 1, 2, 1),
            attn_mask=torch.tensor(mask.reshape(1, 1, 1, 2)))
    return {"tf": {"mha_weights": _round(scores), "sdpa": _round(k_sdpa)},
            "torch": {"mha_weights": _round(weights), "sdpa": _round(t_sdpa)}}


ENTRIES.add(KnownDifference(
    id="attention-mask-convention",
    area="op-semantics",
    title="Boolean attention masks: True means ATTEND in Keras (MultiHeadAttention, ops.dot_product_attention) and "
          "in torch's scaled_dot_product_attention, but IGNORE in torch.nn.MultiheadAttention",
    tf="keras.layers.MultiHeadAttention(attention_mask=m) and keras.ops.dot_product_attention(mask=m): True = the "
       "query attends that key. Mask [True, False]: weights [1, 0]; the SDPA output is v[0] = 1.",
    torch="torch.nn.MultiheadAttention(key_padding_mask=m, attn_mask=m): True = the key is NOT attended. Mask "
          "[True, False]: weights [0, 1]. torch.nn.functional.scaled_dot_product_attention(attn_mask=m) takes "
          "True = attend, as Keras does: v[0] = 1.",
    witness=_mask_convention,
    expected={"tf": {"mha_weights": [1.0, 0.0], "sdpa": [1.0]},
              "torch": {"mha_weights": [0.0, 1.0], "sdpa": [1.0]}},
    snippet_tf="mha(q, kv, attention_mask=[[[True, False]]], return_attention_scores=True)[1]  # [1, 0]",
    snippet_torch="mha(q, kv, kv, key_padding_mask=torch.tensor([[True, False]]))[1]  # [0, 1]",
    evidence="torch.nn.MultiheadAttention docs (key_padding_mask: 'True value indicates that the corresponding key "
             "value will be ignored'); scaled_dot_product_attention docs ('True indicates that the element should "
             "take part in attention'); keras MultiHeadAttention docs (attention_mask: '1 indicates attention')",
    mapping="negate the mask between Keras and torch.nn.MultiheadAttention (the attention kinds' builders do: "
            "layer_kinds/attention.py keras_mask / torch_masks); pass it unchanged to torch's SDPA",
    applies_to=(*_LAYERS, "op:scaled_dot_product_attention-mask"),
))


# ------------------------------------------------------------------------------------------------ fully masked row
def _fully_masked() -> dict:
    """One query whose two keys are both masked out, in each framework's attention."""
    keras, tf, torch = runtime.keras(), runtime.tf(), runtime.torch()
    q, kv = np.zeros((1, 1, 2), np.float32), np.ones((1, 2, 2), np.float32)
    v4 = np.array([1.0, 2.0], np.float32).reshape(1, 2, 1, 1)
    none = np.zeros((1, 1, 2), bool)
    _, scores = keras.layers.MultiHeadAttention(1, 2)(q, kv, attention_mask=none, return_attention_scores=True)
    k_sdpa = keras.ops.dot_product_attention(np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 2, 1, 1), np.float32),
                                             v4, mask=tf.constant(none.reshape(1, 1, 1, 2)))
    every = torch.ones(1, 2, dtype=torch.bool)  # True = ignore: both keys
    mha = _torch_mha(torch)
    with torch.no_grad():
        _, weights = mha(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), key_padding_mask=every)
        out, _ = mha(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), key_padding_mask=every, need_weights=False)
        t_sdpa = torch.nn.functional.scaled_dot_product_attention(
            torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 2, 1), torch.tensor(v4).reshape(1, 1, 2, 1),
            attn_mask=torch.zeros(1, 1, 1, 2, dtype=torch.bool))
    return {"tf": {"mha_weights": _round(scores), "sdpa": _round(k_sdpa)},
            "torch": {"mha_weights": _round(weights), "mha_output_without_weights": _round(out),
                      "sdpa": _round(t_sdpa)}}


ENTRIES.add(KnownDifference(
    id="attention-fully-masked-row",
    area="op-semantics",
    title="A query whose keys are all masked: Keras MHA gives zero weights, keras.ops.dot_product_attention uniform "
          "ones; torch MHA gives NaN weights (and output) when it returns weights, zeros when it does not, and "
          "torch SDPA zeros",
    tf="keras.layers.MultiHeadAttention masks its softmax (large negative logits, then the weights times the "
       "mask): all-zero weights, the output is the output bias. keras.ops.dot_product_attention (TF) replaces "
       "masked logits by a large negative number: uniform weights, the mean of v (1.5 of v = [1, 2]).",
    torch="torch.nn.MultiheadAttention with need_weights=True: softmax of all -inf = NaN weights and output; with "
          "need_weights=False (the SDPA path, what TransformerEncoderLayer calls): zeros (+ out_proj.bias). "
          "torch.nn.functional.scaled_dot_product_attention (CPU): zeros.",
    witness=_fully_masked,
    expected={"tf": {"mha_weights": [0.0, 0.0], "sdpa": [1.5]},
              "torch": {"mha_weights": [NAN, NAN], "mha_output_without_weights": [0.0, 0.0], "sdpa": [0.0]}},
    snippet_tf="mha(q, kv, attention_mask=[[[False, False]]], return_attention_scores=True)[1]  # [[0., 0.]]",
    snippet_torch="mha(q, kv, kv, key_padding_mask=torch.ones(1, 2, dtype=torch.bool))[1]  # [[nan, nan]]",
    evidence="observed TF 2.21 / Keras 3.15 / torch 2.13 CPU; keras/src/layers/activations/softmax.py (mask), "
             "keras/src/backend/tensorflow/nn.py _apply_masks; torch issue #41508 (NaN for fully masked rows)",
    mapping="never let a row be fully masked (keep one key, e.g. a class token, or mask the padded QUERIES' "
            "outputs afterwards); the attention kinds' key_padding keeps key 0 of every example",
    applies_to=(*_LAYERS, "op:scaled_dot_product_attention-mask"),
))


# ------------------------------------------------------------------------------------------------ weight layout
def _packing() -> dict:
    keras, torch = runtime.keras(), runtime.torch()
    layer = keras.layers.MultiHeadAttention(2, 2)
    layer.build((1, 3, 4), (1, 3, 4))
    return {"tf": [[v.path.split("/", 1)[1], list(v.shape)] for v in layer.weights],
            "torch": [[n, list(p.shape)] for n, p in torch.nn.MultiheadAttention(4, 2).named_parameters()]}


ENTRIES.add(KnownDifference(
    id="mha-in-proj-packing",
    area="layouts",
    title="Multi-head attention weights: Keras keeps per-head query/key/value kernels (D, H, dk) and an output kernel "
          "(H, dk, D); torch packs q, k, v into one in_proj_weight (3D, D) and needs H * dk == D",
    tf="keras.layers.MultiHeadAttention(num_heads=2, key_dim=2) on D = 4: query/key/value kernels (4, 2, 2), "
       "biases (2, 2), attention_output kernel (2, 2, 4), bias (4,); key_dim is free (H * dk may differ from D).",
    torch="torch.nn.MultiheadAttention(4, 2): in_proj_weight (12, 4) = [Wq; Wk; Wv] in Linear's (out, in) layout, "
          "in_proj_bias (12,), out_proj.weight (4, 4), out_proj.bias (4,); head_dim = embed_dim // num_heads "
          "(kdim/vdim != embed_dim give separate q/k/v_proj_weight instead).",
    witness=_packing,
    expected={"tf": [["query/kernel", [4, 2, 2]], ["query/bias", [2, 2]], ["key/kernel", [4, 2, 2]],
                     ["key/bias", [2, 2]], ["value/kernel", [4, 2, 2]], ["value/bias", [2, 2]],
                     ["attention_output/kernel", [2, 2, 4]], ["attention_output/bias", [4]]],
              "torch": [["in_proj_weight", [12, 4]], ["in_proj_bias", [12]], ["out_proj.weight", [4, 4]],
                        ["out_proj.bias", [4]]]},
    snippet_tf="[v.shape for v in keras.layers.MultiHeadAttention(2, 2, ...).weights]  # (4, 2, 2) x3 ...",
    snippet_torch="torch.nn.MultiheadAttention(4, 2).in_proj_weight.shape  # (12, 4)",
    evidence="keras/src/layers/attention/multi_head_attention.py (EinsumDense 'abc,cde->abde'); "
             "torch/nn/modules/activation.py MultiheadAttention (_qkv_same_embed_dim)",
    mapping="in_proj_weight = concat(W.reshape(D, H*dk).T for W in (Wq, Wk, Wv)); in_proj_bias = concat of the "
            "flattened biases; out_proj.weight = Wo.reshape(H*dk, D).T (layer_kinds/attention.py PackQKV, Packed)",
    applies_to=_LAYERS,
))


# ------------------------------------------------------------------------------------------------ MHA defaults
def _mha_defaults() -> dict:
    keras, torch = runtime.keras(), runtime.torch()
    x = np.zeros((1, 3, 4), np.float32)
    layer = keras.layers.MultiHeadAttention(2, 2)
    _, scores = layer(x, x, return_attention_scores=True)
    mha = torch.nn.MultiheadAttention(4, 2)
    with torch.no_grad():
        _, weights = mha(*(torch.zeros(3, 1, 4),) * 3)  # batch_first=False: (T, N, D)
    sig = inspect.signature(torch.nn.MultiheadAttention.__init__).parameters
    return {"tf": {"dropout": layer.dropout, "use_bias": layer.use_bias, "value_dim": layer.value_dim,
                   "scores_shape": list(scores.shape)},
            "torch": {"dropout": mha.dropout, "bias": mha.in_proj_bias is not None,
                      "batch_first": sig["batch_first"].default, "weights_shape": list(weights.shape)}}


ENTRIES.add(KnownDifference(
    id="mha-defaults",
    area="layer-defaults",
    title="MultiHeadAttention defaults: Keras returns per-head scores (B, H, T, S) on request and is batch-first; "
          "torch returns head-AVERAGED weights (B, T, S) by default and is sequence-first (batch_first=False)",
    tf="keras.layers.MultiHeadAttention: dropout 0.0, use_bias True, value_dim = key_dim, inputs (B, T, D); "
       "return_attention_scores=True gives (B, H, T, S) per head.",
    torch="torch.nn.MultiheadAttention: dropout 0.0, bias True, batch_first=False (inputs (T, B, D)); forward "
          "need_weights=True and average_attn_weights=True: weights (B, T, S), the mean over heads.",
    witness=_mha_defaults,
    expected={"tf": {"dropout": 0.0, "use_bias": True, "value_dim": 2, "scores_shape": [1, 2, 3, 3]},
              "torch": {"dropout": 0.0, "bias": True, "batch_first": False, "weights_shape": [1, 3, 3]}},
    snippet_tf="mha(x, x, return_attention_scores=True)[1].shape  # (1, 2, 3, 3)",
    snippet_torch="torch.nn.MultiheadAttention(4, 2)(x, x, x)[1].shape  # (1, 3, 3): averaged over heads",
    evidence="torch.nn.MultiheadAttention docs (batch_first, average_attn_weights); keras MultiHeadAttention docs",
    mapping="torch: batch_first=True, need_weights=False (or average_attn_weights=False to compare per head); "
            "both scale logits by 1/sqrt(key_dim); dropout passed explicitly",
    applies_to=("layer:multi_head_attention", "layer:cross_attention"),
))


# ------------------------------------------------------------------------------------------------ encoder defaults
def _encoder_defaults() -> dict:
    keras, torch = runtime.keras(), runtime.torch()
    block = torch.nn.TransformerEncoderLayer(8, 2)
    return {"tf": {"layer_norm_epsilon": keras.layers.LayerNormalization().epsilon,
                   "attention_dropout": keras.layers.MultiHeadAttention(2, 4).dropout,
                   "dense_activation": keras.layers.Dense(4).activation.__name__},
            "torch": {"dim_feedforward": block.linear1.out_features, "dropout": block.dropout.p,
                      "activation": block.activation.__name__, "layer_norm_eps": block.norm1.eps,
                      "batch_first": block.self_attn.batch_first, "norm_first": block.norm_first}}


ENTRIES.add(KnownDifference(
    id="transformer-encoder-defaults",
    area="layer-defaults",
    title="torch.nn.TransformerEncoderLayer's defaults (FFN 2048, dropout 0.1, ReLU, eps 1e-5, post-norm, "
          "sequence-first) have no Keras 3 block; the Keras layers users compose it from default otherwise",
    tf="No stock encoder block in Keras 3 core: users compose MultiHeadAttention (dropout 0.0), "
       "LayerNormalization (epsilon 1e-3) and Dense (activation None = linear); the FFN width, dropout and "
       "pre/post-norm order are theirs to write.",
    torch="torch.nn.TransformerEncoderLayer(d_model, nhead): dim_feedforward 2048, dropout 0.1 (attention, after "
          "it and in the FFN: a training forward is random), activation relu ('gelu' = exact erf GELU), "
          "layer_norm_eps 1e-5, batch_first False, norm_first False (post-norm).",
    witness=_encoder_defaults,
    expected={"tf": {"layer_norm_epsilon": 0.001, "attention_dropout": 0.0, "dense_activation": "linear"},
              "torch": {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu", "layer_norm_eps": 1e-05,
                        "batch_first": False, "norm_first": False}},
    snippet_tf="keras.layers.LayerNormalization().epsilon  # 0.001",
    snippet_torch="torch.nn.TransformerEncoderLayer(8, 2).linear1.out_features  # 2048",
    evidence="torch.nn.TransformerEncoderLayer docs; keras LayerNormalization docs (epsilon=1e-3); "
             "the layer-norm epsilon alone is also layers.py's entry",
    mapping="pass every argument explicitly on both sides: dim_feedforward, dropout, activation, layer_norm_eps "
            "(Keras epsilon), batch_first=True, norm_first (the transformer_encoder kind does)",
    applies_to=("layer:transformer_encoder",),
))


# ------------------------------------------------------------------------------------------------ causal masks
def _causal() -> dict:
    """2 queries over 3 keys (equal logits), v = [0, 1, 2]: the causal mask's alignment, and MHA's causal flag."""
    keras, torch = runtime.keras(), runtime.torch()
    kq, kk = np.zeros((1, 2, 1, 1), np.float32), np.zeros((1, 3, 1, 1), np.float32)
    kv = np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1)
    k_sdpa = keras.ops.dot_product_attention(kq, kk, kv, is_causal=True)
    x = np.zeros((1, 2, 2), np.float32)
    _, scores = keras.layers.MultiHeadAttention(1, 2)(x, np.zeros((1, 3, 2), np.float32), use_causal_mask=True,
                                                      return_attention_scores=True)
    with torch.no_grad():
        t_sdpa = torch.nn.functional.scaled_dot_product_attention(
            torch.zeros(1, 1, 2, 1), torch.zeros(1, 1, 3, 1), torch.arange(3.0).reshape(1, 1, 3, 1), is_causal=True)
        try:
            xt = torch.zeros(1, 2, 2)
            _torch_mha(torch)(xt, xt, xt, is_causal=True)
            flag = "runs"
        except RuntimeError as exc:
            flag = type(exc).__name__
    return {"tf": {"sdpa": _round(k_sdpa), "mha_use_causal_mask_weights": _round(scores)},
            "torch": {"sdpa": _round(t_sdpa), "mha_is_causal_alone": flag}}


ENTRIES.add(KnownDifference(
    id="causal-mask-conventions",
    area="op-semantics",
    title="Causal attention: both SDPAs align a non-square causal mask top-left (query i sees keys <= i); Keras MHA "
          "builds the mask from use_causal_mask, torch MHA's is_causal is only a hint that needs attn_mask",
    tf="keras.ops.dot_product_attention(is_causal=True) over T = 2 queries, S = 3 keys: tril(ones(T, S)), row 0 "
       "sees key 0 (out 0), row 1 keys 0-1 (out 0.5). MultiHeadAttention(use_causal_mask=True): the same mask, "
       "weights [[1, 0, 0], [0.5, 0.5, 0]].",
    torch="scaled_dot_product_attention(is_causal=True): top-left too (0, 0.5). nn.MultiheadAttention(is_causal="
          "True) without attn_mask raises RuntimeError ('Need attn_mask if specifying the is_causal hint'); the "
          "mask is triu(ones(T, S), 1) with True = ignore.",
    witness=_causal,
    expected={"tf": {"sdpa": [0.0, 0.5], "mha_use_causal_mask_weights": [1.0, 0.0, 0.0, 0.5, 0.5, 0.0]},
              "torch": {"sdpa": [0.0, 0.5], "mha_is_causal_alone": "RuntimeError"}},
    snippet_tf="keras.layers.MultiHeadAttention(1, 2)(x, x, use_causal_mask=True)",
    snippet_torch="mha(x, x, x, attn_mask=torch.ones(T, S, dtype=torch.bool).triu(1))",
    evidence="torch scaled_dot_product_attention docs (is_causal: 'top-left causal bias'); torch MultiheadAttention "
             "forward source (is_causal hint); keras/src/backend/tensorflow/nn.py _apply_masks (band_part)",
    mapping="torch MHA: pass attn_mask=triu(ones(T, S), 1) (True = ignore); a decoder with cached keys (T < S) "
            "wants a bottom-right mask on both sides, built explicitly",
    applies_to=(*_LAYERS, "op:scaled_dot_product_attention-causal"),
))


# ------------------------------------------------------------------------------------------------ float64 scale
def _float32_scale() -> dict:
    """float64 attention, 1 query over 2 keys: each side's error against exact float64 arithmetic."""
    keras, tf, torch = runtime.keras(), runtime.tf(), runtime.torch()
    q = np.array([1.0, 0.0]).reshape(1, 1, 1, 2)
    k = np.array([[0.0, 1.0], [1.0, 1.0]]).reshape(1, 2, 1, 2)
    z = np.array([0.0, 1.0]) / np.sqrt(2.0)
    exact = (np.exp(z - z.max()) / np.exp(z - z.max()).sum()) @ np.array([0.0, 1.0])
    err = lambda y: bool(abs(_np(y).ravel()[0] - exact) > 1e-12)  # float64 rounding is ~1e-16 here
    s = float(1 / np.sqrt(2.0))  # a Python float (a NumPy float64 converts to a float64 tensor)
    kv = k[..., :1]  # v = first coordinate of k: [0, 1]
    t = lambda a: torch.tensor(a).transpose(1, 2)
    return {"tf": {"default_scale_off": err(keras.ops.dot_product_attention(q, k, kv)),
                   "float_scale_off": err(keras.ops.dot_product_attention(q, k, kv, scale=s)),
                   "float64_tensor_scale_off": err(keras.ops.dot_product_attention(
                       q, k, kv, scale=tf.constant(s, tf.float64)))},
            "torch": {"default_scale_off": err(torch.nn.functional.scaled_dot_product_attention(t(q), t(k), t(kv))),
                      "float_scale_off": err(torch.nn.functional.scaled_dot_product_attention(
                          t(q), t(k), t(kv), scale=s))}}


ENTRIES.add(KnownDifference(
    id="keras-sdpa-float32-scale",
    area="dtypes",
    title="keras.ops.dot_product_attention (TF) in float64 scales the logits by a float32-rounded 1/sqrt(E), even a "
          "Python float scale: 4e-9 relative off; torch computes the scale in float64",
    tf="The default scale is 1 / tf.sqrt(tf.cast(E, 'float32')); a Python float scale goes through tf.cast, which "
       "makes a float32 constant first. float64 results are ~4e-9 relative off; a float64 TENSOR scale is exact.",
    torch="scaled_dot_product_attention computes 1/sqrt(E) (or takes the Python float) in double precision: "
          "float64 results are within float64 rounding.",
    witness=_float32_scale,
    expected={"tf": {"default_scale_off": True, "float_scale_off": True, "float64_tensor_scale_off": False},
              "torch": {"default_scale_off": False, "float_scale_off": False}},
    snippet_tf="keras.ops.dot_product_attention(q64, k64, v64, scale=tf.constant(s, tf.float64))",
    snippet_torch="F.scaled_dot_product_attention(q64, k64, v64)",
    evidence="keras/src/backend/tensorflow/nn.py dot_product_attention (tf.cast(H, 'float32')) and "
             "_dot_product_attention_xla (tf.cast(scale, logits.dtype)); found by test_op_matches in float64",
    mapping="in float64 pass scale as a tensor of the input dtype (the op record does)",
    applies_to=("op:scaled_dot_product_attention:float64",),
))
