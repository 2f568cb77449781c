"""Attention kinds: multi_head_attention, cross_attention and transformer_encoder, on (N, T, D) sequences.

``multi_head_attention`` (self-attention, one input)
    keras.layers.MultiHeadAttention(num_heads, key_dim, value_dim=key_dim)(x, x)
    <-> torch.nn.MultiheadAttention(D, num_heads, batch_first=True)(x, x, x, need_weights=False)
``cross_attention`` (two named inputs: the query, then the key/value source; same arguments)
    keras ...(query, source) <-> torch ...(query, source, source). torch packs q/k/v into ONE in_proj_weight only
    when the source has the query's dim D (else kdim/vdim give separate q/k/v_proj_weight): the spec requires it.
``transformer_encoder`` (one input)
    a keras.layers.Layer of MultiHeadAttention + LayerNormalization x2 + Dense(dim_feedforward, activation) +
    Dense(D) + Dropout, as Keras users write it (Keras 3 has no stock encoder block)
    <-> torch.nn.TransformerEncoderLayer(D, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
    batch_first=True, norm_first).

Arguments (every one passed explicitly to both frameworks; torch's and Keras' defaults are catalogue entries,
equivalence/differences/attention.py):

    num_heads     REQUIRED   heads H
    key_dim       REQUIRED   per-head size dk; torch needs H * dk == D (the input's last dim), else SpecError
    use_bias      True       (attention kinds) q/k/v/output biases; torch bias=
    dropout       0.0        attention-weight dropout (and, in the encoder, after attention and in the FFN);
                             > 0 makes the training forward random: no float64 reference there
    causal        False      query i attends keys j <= i (top-left aligned when T != S); Keras use_causal_mask=True,
                             torch attn_mask = triu(ones(T, S), 1) (True = IGNORE)
    key_padding   False      right-padded variable-length batches: example b ignores its last (b mod S) keys (every
                             example keeps key 0, so no query row is fully masked). Keras attention_mask (True =
                             ATTEND), torch key_padding_mask (True = IGNORE): the builders translate
    dim_feedforward (encoder) REQUIRED  the FFN width F
    activation    'relu'     (encoder) 'relu' or 'gelu' (exact erf GELU on both sides: torch's 'gelu' string)
    norm_first    False      (encoder) pre-norm (True) or post-norm (False, torch's default)
    epsilon       1e-5       (encoder) both LayerNorms' epsilon (torch's default; Keras' is 1e-3)

Canonical weights are Keras': query/key/value_kernel (D, H, dk), *_bias (H, dk), output_kernel (H, dk, D),
output_bias (D,); torch's in_proj_weight (3D, D) stacks the three kernels reshaped to (D, H*dk) and transposed,
in_proj_bias the three biases flattened, out_proj.weight = output_kernel reshaped to (H*dk, D) and transposed
(`PackQKV`, `Packed`). The encoder adds ffn1/ffn2_kernel/bias (Dense layout: linear1/2.weight transposed) and
norm1/norm2_gamma/beta (torch norm1/norm2.weight/bias); the Keras layer's variables are renamed to these names.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .. import runtime
from ..float64 import softmax
from .base import (CANONICAL, REQUIRED, Arg, LayerKind, boolean, need_rank, no_check, no_element_rule,
                   positive, positive_int, reject, scale_unchanged)
from .dropout import _rate
from .linear import PRE
from .mapping import Map, Step, T, Weight, around_one, glorot, small
from .activation import activate, keras_activation

# ------------------------------------------------------------------------------------------------ masks
def key_lengths(batch: int, keys: int) -> np.ndarray:
    """Valid keys per example under `key_padding`: example b ignores its last (b mod S) keys."""
    return keys - np.arange(batch) % keys


def allowed(batch: int, queries: int, keys: int, causal: bool, key_padding: bool) -> np.ndarray:
    """(B, T, S) boolean, True where query t may attend key s (Keras' convention; torch's is its negation)."""
    ok = np.ones((batch, queries, keys), bool)
    if causal:
        ok &= np.tril(np.ones((queries, keys), bool))
    if key_padding:
        ok &= (np.arange(keys)[None, :] < key_lengths(batch, keys)[:, None])[:, None, :]
    return ok


# ------------------------------------------------------------------------------------------------ float64 forward
def attend(xq, xkv, w, causal: bool, key_padding: bool, prefix: str = ""):
    """Multi-head attention in float64: (output, weights (B, H, T, S), magnitudes of the terms it sums)."""
    def proj(x, name):
        y = np.einsum("btd,dhk->bthk", x, w[prefix + name + "_kernel"])
        return y + w[prefix + name + "_bias"] if prefix + name + "_bias" in w else y

    q, k, v = proj(xq, "query"), proj(xkv, "key"), proj(xkv, "value")
    dk = q.shape[-1]
    logits = np.einsum("bthk,bshk->bhts", q, k) / math.sqrt(dk)
    ok = allowed(len(xq), xq.shape[1], xkv.shape[1], causal, key_padding)[:, None]
    weights = softmax(np.where(ok, logits, -np.inf), axis=-1)
    heads = np.einsum("bhts,bshk->bthk", weights, v)
    y = np.einsum("bthk,hkd->btd", heads, w[prefix + "output_kernel"])
    y = y + w[prefix + "output_bias"] if prefix + "output_bias" in w else y
    # The error of a softmax-weighted sum of v is ~ |v| x the logits' error (d out = sum_s w_s (v_s - out) d z_s),
    # and the logits' error is ~u sqrt(dk) x |q||k|/sqrt(dk): terms of size max|z| x 2 max|v|.
    terms = [np.abs(q).max(), np.abs(k).max(), np.abs(v).max(), 2 * np.abs(logits).max() * np.abs(v).max()]
    return y, weights, terms


def _mha_forward(l, args, w, training, trace):
    if training and l["dropout"] > 0:
        return None  # random attention-weight dropout: no deterministic result
    y, weights, terms = attend(args[0], args[-1], w, l["causal"], l["key_padding"])
    trace[l.name + ":weights"] = weights
    trace[l.name + PRE] = np.array(terms)  # error_scale reads its magnitude (model_tolerance)
    return y


def _layer_norm(x, gamma, beta, eps):
    var = x.var(axis=-1, keepdims=True)
    gain = float(np.max(np.abs(gamma)) / np.sqrt(var.min() + eps))
    return (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(var + eps) * gamma + beta, gain


def encode(l, x, w):
    """The encoder block in float64: (output, weights, magnitudes of the terms it sums and of what its norms
    amplify: max|x| x max|gamma|/sqrt(var + eps), as for layer_norm (norm._scale), and those gains)."""
    terms, gains = [], []

    def norm(i, z):
        out, gain = _layer_norm(z, w[f"norm{i}_gamma"], w[f"norm{i}_beta"], l["epsilon"])
        terms.append(np.abs(z).max() * gain)
        gains.append(gain)
        return out

    def sa(z):
        y, weights, t = attend(z, z, w, l["causal"], l["key_padding"])
        terms.extend(t)
        return y, weights

    def ff(z):
        h = activate(l["activation"], z @ w["ffn1_kernel"] + w["ffn1_bias"])
        terms.append(np.abs(z @ w["ffn1_kernel"]).max())
        return h @ w["ffn2_kernel"] + w["ffn2_bias"]

    if l["norm_first"]:
        a, weights = sa(norm(1, x))
        x = x + a
        x = x + ff(norm(2, x))
    else:
        a, weights = sa(x)
        x = norm(1, x + a)
        x = norm(2, x + ff(x))
    return x, weights, terms, gains


def _encoder_forward(l, args, w, training, trace):
    if training and l["dropout"] > 0:
        return None
    y, weights, terms, _ = encode(l, args[0], w)
    trace[l.name + ":weights"] = weights
    trace[l.name + PRE] = np.array(terms)
    return y


# ------------------------------------------------------------------------------------------------ shapes, args
def _heads_fit(l, d: int) -> None:
    if l["num_heads"] * l["key_dim"] != d:
        reject(l, f"num_heads * key_dim = {l['num_heads']} * {l['key_dim']} = {l['num_heads'] * l['key_dim']} must "
                  f"equal the input's last dim {d}: torch.nn.MultiheadAttention splits embed_dim into num_heads "
                  f"heads of embed_dim // num_heads (Keras' key_dim is free)")


def _self_shape(l, ins):
    need_rank(l, ins[0], 3)
    _heads_fit(l, ins[0][-1])
    return ins[0]


def _cross_shape(l, ins):
    if len(ins) != 2:
        reject(l, f"cross_attention reads exactly two inputs (query, key/value source), got {len(ins)}")
    for s in ins:
        need_rank(l, s, 3)
    _heads_fit(l, ins[0][-1])
    if ins[1][-1] != ins[0][-1]:
        reject(l, f"the key/value source's dim {ins[1][-1]} must equal the query's {ins[0][-1]}: torch then uses "
                  f"separate q/k/v_proj_weight (kdim/vdim), not the packed in_proj_weight this kind maps")
    return ins[0]


def _activation(kind: str, arg: str, v) -> str | None:
    return None if v in ("relu", "gelu") else (
        f"{arg} must be 'relu' or 'gelu' (torch.nn.TransformerEncoderLayer's strings; 'gelu' is exact erf GELU), "
        f"got {v!r}")


ATTENTION_ARGS = dict(num_heads=Arg(REQUIRED, positive_int), key_dim=Arg(REQUIRED, positive_int),
                      use_bias=Arg(True, boolean), dropout=Arg(0.0, _rate), causal=Arg(False, boolean),
                      key_padding=Arg(False, boolean))
ENCODER_ARGS = dict(num_heads=Arg(REQUIRED, positive_int), key_dim=Arg(REQUIRED, positive_int),
                    dim_feedforward=Arg(REQUIRED, positive_int), activation=Arg("relu", _activation),
                    norm_first=Arg(False, boolean), dropout=Arg(0.0, _rate), epsilon=Arg(1e-5, positive),
                    causal=Arg(False, boolean), key_padding=Arg(False, boolean))


# ------------------------------------------------------------------------------------------------ weights
def _attention_params(l, x, use_bias=True) -> dict:
    d, h, k = x[-1], l["num_heads"], l["key_dim"]
    out = {}
    for name in ("query", "key", "value"):
        out[f"{name}_kernel"] = Weight((d, h, k), glorot)
        if use_bias:
            out[f"{name}_bias"] = Weight((h, k), small)
    out["output_kernel"] = Weight((h, k, d), glorot)
    return out | ({"output_bias": Weight((d,), small)} if use_bias else {})


def _encoder_params(l, x) -> dict:
    d, f = x[-1], l["dim_feedforward"]
    return _attention_params(l, x) | {
        "ffn1_kernel": Weight((d, f), glorot), "ffn1_bias": Weight((f,), small),
        "ffn2_kernel": Weight((f, d), glorot), "ffn2_bias": Weight((d,), small),
        "norm1_gamma": Weight((d,), around_one), "norm1_beta": Weight((d,), small),
        "norm2_gamma": Weight((d,), around_one), "norm2_beta": Weight((d,), small)}


@dataclasses.dataclass(frozen=True)
class PackQKV(Step):
    """Keras' three per-head kernels (D, H, dk) <-> torch's in_proj_weight (3*H*dk, D): each reshaped to (D, H*dk),
    transposed, stacked q, k, v; or the three biases (H, dk) <-> in_proj_bias (3*H*dk,)."""

    names: tuple[str, str, str]

    def to(self, a, site):
        return np.concatenate([p.reshape(p.shape[0], -1).T if p.ndim == 3 else p.reshape(-1) for p in a])

    def back(self, a, site):
        shapes = [site.shapes[n] for n in self.names]
        parts = np.split(a, 3)
        return tuple(p.T.reshape(s) if len(s) == 3 else p.reshape(s) for p, s in zip(parts, shapes))


@dataclasses.dataclass(frozen=True)
class Packed(Step):
    """output_kernel (H, dk, D) <-> out_proj.weight (D, H*dk): reshaped to (H*dk, D) (then transposed by T)."""

    canonical: str

    def to(self, a, site):
        return a.reshape(-1, a.shape[-1])

    def back(self, a, site):
        return a.reshape(site.shapes[self.canonical])


_QKV_K, _QKV_B = ("query_kernel", "key_kernel", "value_kernel"), ("query_bias", "key_bias", "value_bias")


def _attention_maps(prefix: str = "") -> tuple:
    return (Map(_QKV_K, prefix + "in_proj_weight", PackQKV(_QKV_K)),
            Map(_QKV_B, prefix + "in_proj_bias", PackQKV(_QKV_B)),
            Map("output_kernel", prefix + "out_proj.weight", Packed("output_kernel"), T),
            Map("output_bias", prefix + "out_proj.bias"))


ENCODER_MAPS = _attention_maps("self_attn.") + (
    Map("ffn1_kernel", "linear1.weight", T), Map("ffn1_bias", "linear1.bias"),
    Map("ffn2_kernel", "linear2.weight", T), Map("ffn2_bias", "linear2.bias"),
    Map("norm1_gamma", "norm1.weight"), Map("norm1_beta", "norm1.bias"),
    Map("norm2_gamma", "norm2.weight"), Map("norm2_beta", "norm2.bias"))


# ------------------------------------------------------------------------------------------------ Keras builders
_KERAS_NAMES = {("query", "kernel"): "query_kernel", ("query", "bias"): "query_bias",
                ("key", "kernel"): "key_kernel", ("key", "bias"): "key_bias",
                ("value", "kernel"): "value_kernel", ("value", "bias"): "value_bias",
                ("attention_output", "kernel"): "output_kernel", ("attention_output", "bias"): "output_bias",
                ("ffn1", "kernel"): "ffn1_kernel", ("ffn1", "bias"): "ffn1_bias",
                ("ffn2", "kernel"): "ffn2_kernel", ("ffn2", "bias"): "ffn2_bias",
                ("norm1", "gamma"): "norm1_gamma", ("norm1", "beta"): "norm1_beta",
                ("norm2", "gamma"): "norm2_gamma", ("norm2", "beta"): "norm2_beta"}


def _rename(layer) -> None:
    """Give the nested layers' variables the canonical names (Keras names them all 'kernel'/'bias'; the suite loads
    and reads weights by variable name, equivalence.weights.load_keras)."""
    for v in layer.weights:
        v._name = _KERAS_NAMES[tuple(v.path.split("/")[-2:])]


def keras_mask(q, v, causal: bool, key_padding: bool):
    """Keras' attention_mask (B, T, S), True = ATTEND, for `key_padding` (causal goes as use_causal_mask)."""
    if not key_padding:
        return None
    ops = runtime.keras().ops
    batch, keys = ops.shape(q)[0], ops.shape(v)[1]
    valid = keys - ops.mod(ops.arange(batch), keys)
    ok = ops.less(ops.arange(keys)[None, :], valid[:, None])
    return ops.broadcast_to(ok[:, None, :], (batch, ops.shape(q)[1], keys))


@functools.cache
def keras_classes():
    """The Keras layers, defined on first use (importing this module imports no framework)."""
    keras = runtime.keras()

    class Attention(keras.layers.Layer):
        """keras.layers.MultiHeadAttention called on (query, value) with the spec's masks."""

        def __init__(self, num_heads, key_dim, use_bias, dropout, causal, key_padding, **kwargs):
            super().__init__(**kwargs)
            self.causal, self.key_padding = causal, key_padding
            self.mha = keras.layers.MultiHeadAttention(num_heads, key_dim, value_dim=key_dim, dropout=dropout,
                                                       use_bias=use_bias)

        def build(self, shape):
            q, v = shape if isinstance(shape[0], (list, tuple)) else (shape, shape)
            self.mha.build(tuple(q), tuple(v))
            _rename(self)

        def call(self, inputs, training=None, return_attention_scores=False):
            q, v = inputs if isinstance(inputs, (list, tuple)) else (inputs, inputs)
            return self.mha(q, v, attention_mask=keras_mask(q, v, self.causal, self.key_padding),
                            use_causal_mask=self.causal, training=training,
                            return_attention_scores=return_attention_scores)

    class Encoder(keras.layers.Layer):
        """A transformer encoder block as Keras users write it: MHA, two LayerNorms, a two-Dense FFN, dropouts."""

        def __init__(self, num_heads, key_dim, dim_feedforward, activation, norm_first, dropout, epsilon, causal,
                     key_padding, **kwargs):
            super().__init__(**kwargs)
            layers = keras.layers
            self.norm_first, self.causal, self.key_padding = norm_first, causal, key_padding
            self.attention = layers.MultiHeadAttention(num_heads, key_dim, value_dim=key_dim, dropout=dropout)
            self.ffn1 = layers.Dense(dim_feedforward, activation=keras_activation(activation), name="ffn1")
            self.ffn2 = layers.Dense(num_heads * key_dim, name="ffn2")
            self.norm1 = layers.LayerNormalization(epsilon=epsilon, name="norm1")
            self.norm2 = layers.LayerNormalization(epsilon=epsilon, name="norm2")
            self.drop, self.drop1, self.drop2 = (layers.Dropout(dropout) for _ in range(3))

        def build(self, shape):
            shape = tuple(shape)
            self.attention.build(shape, shape)
            self.ffn1.build(shape)
            self.ffn2.build((*shape[:-1], self.ffn1.units))
            self.norm1.build(shape)
            self.norm2.build(shape)
            _rename(self)

        def _sa(self, x, training, return_attention_scores=False):
            return self.attention(x, x, attention_mask=keras_mask(x, x, self.causal, self.key_padding),
                                  use_causal_mask=self.causal, training=training,
                                  return_attention_scores=return_attention_scores)

        def _ff(self, x, training):
            return self.drop2(self.ffn2(self.drop(self.ffn1(x), training=training)), training=training)

        def call(self, x, training=None):
            if self.norm_first:
                x = x + self.drop1(self._sa(self.norm1(x), training), training=training)
                return x + self._ff(self.norm2(x), training)
            x = self.norm1(x + self.drop1(self._sa(x, training), training=training))
            return self.norm2(x + self._ff(x, training))

    return Attention, Encoder


def _keras_attention(l, x):
    return keras_classes()[0](l["num_heads"], l["key_dim"], l["use_bias"], l["dropout"], l["causal"],
                              l["key_padding"], name=l.name)


def _keras_encoder(l, x):
    return keras_classes()[1](l["num_heads"], l["key_dim"], l["dim_feedforward"], l["activation"], l["norm_first"],
                              l["dropout"], l["epsilon"], l["causal"], l["key_padding"], name=l.name)


# ------------------------------------------------------------------------------------------------ torch builders
def torch_masks(q, kv, causal: bool, key_padding: bool):
    """torch's (attn_mask (T, S), key_padding_mask (B, S)), True = IGNORE (the negation of Keras' convention)."""
    torch = runtime.torch()
    (batch, queries), keys = q.shape[:2], kv.shape[1]
    attn = torch.ones(queries, keys, dtype=torch.bool, device=q.device).triu(1) if causal else None
    if not key_padding:
        return attn, None
    valid = keys - torch.arange(batch, device=q.device) % keys
    return attn, torch.arange(keys, device=q.device)[None, :] >= valid[:, None]


@functools.cache
def torch_classes():
    nn = runtime.torch().nn

    class Attention(nn.Module):
        """torch.nn.MultiheadAttention (`core`) on (query, key/value source) with the spec's masks."""

        def __init__(self, core, causal, key_padding):
            super().__init__()
            self.core, self.causal, self.key_padding = core, causal, key_padding

        def forward(self, q, kv=None):
            kv = q if kv is None else kv
            attn_mask, padding = torch_masks(q, kv, self.causal, self.key_padding)
            return self.core(q, kv, kv, key_padding_mask=padding, attn_mask=attn_mask, need_weights=False)[0]

    class Encoder(nn.Module):
        """torch.nn.TransformerEncoderLayer (`core`) with the spec's masks."""

        def __init__(self, core, causal, key_padding):
            super().__init__()
            self.core, self.causal, self.key_padding = core, causal, key_padding

        def forward(self, x):
            attn_mask, padding = torch_masks(x, x, self.causal, self.key_padding)
            return self.core(x, src_mask=attn_mask, src_key_padding_mask=padding)

    return Attention, Encoder


def _torch_attention(l, x):
    core = runtime.torch().nn.MultiheadAttention(x[-1], l["num_heads"], dropout=l["dropout"], bias=l["use_bias"],
                                                 batch_first=True)
    return torch_classes()[0](core, l["causal"], l["key_padding"])


def _torch_encoder(l, x):
    core = runtime.torch().nn.TransformerEncoderLayer(
        x[-1], l["num_heads"], dim_feedforward=l["dim_feedforward"], dropout=l["dropout"], activation=l["activation"],
        layer_norm_eps=l["epsilon"], batch_first=True, norm_first=l["norm_first"])
    return torch_classes()[1](core, l["causal"], l["key_padding"])


# ------------------------------------------------------------------------------------------------ numerics
def attention_depth(d: int, l, keys: int) -> float:
    """sum of sqrt(K) over the stages of one output element: projections (D), logits (dk), the softmax sum and the
    weighted sum (S each), the output projection (H*dk)."""
    return sum(math.sqrt(k) for k in (d, l["key_dim"], keys, keys, l["num_heads"] * l["key_dim"]))


def _mha_depth(l, ins, batch):
    return math.ceil(attention_depth(ins[0][-1], l, ins[-1][0]) ** 2)


def _encoder_depth(l, ins, batch):
    d = ins[0][-1]
    # attention, two LayerNorms (D each), FFN (D, then F), two residual adds (2 terms each)
    return math.ceil((attention_depth(d, l, ins[0][0]) + 2 * math.sqrt(d) + math.sqrt(d)
                      + math.sqrt(l["dim_feedforward"]) + 2 * math.sqrt(2)) ** 2)


def _encoder_scale(l, e, x, w, training):
    """An upstream error e passes both LayerNorms, each amplifying it by at most max|gamma|/sqrt(var + eps) (as
    layer_norm's scale): e times the product of those gains (at least 1: the residual path carries e as it is)."""
    w64 = {k: np.asarray(v, np.float64) for k, v in w.items()}
    gains = encode(l, np.asarray(x, np.float64), w64)[3]
    return e * max(1.0, math.prod(gains))


def _divisors(n: int) -> list[int]:
    """Head counts for dim n: one head, or heads of key_dim >= 2. keras.ops.add adds a (H, 1) bias along the
    sequence axis when T == H (catalogue keras-add-bias-broadcast): key_dim 1 with several heads is not drawn."""
    return [h for h in range(1, n + 1) if n % h == 0 and (h == 1 or n // h >= 2)]


def _draw_attention(draw, x, slot, tag):
    from hypothesis import strategies as st

    heads = draw(st.sampled_from(_divisors(x[-1])), label=f"heads{tag}")
    return dict(num_heads=heads, key_dim=x[-1] // heads, use_bias=draw(st.booleans(), label=f"bias{tag}"),
                causal=draw(st.booleans(), label=f"causal{tag}"),
                key_padding=draw(st.booleans(), label=f"key_padding{tag}"))


def _draw_encoder(draw, x, slot, tag):
    from hypothesis import strategies as st

    heads = draw(st.sampled_from(_divisors(x[-1])), label=f"heads{tag}")
    return dict(num_heads=heads, key_dim=x[-1] // heads, dim_feedforward=draw(st.integers(1, 8), label=f"ffn{tag}"),
                activation=draw(st.sampled_from(["relu", "gelu"]), label=f"act{tag}"),
                norm_first=draw(st.booleans(), label=f"norm_first{tag}"),
                causal=draw(st.booleans(), label=f"causal{tag}"),
                key_padding=draw(st.booleans(), label=f"key_padding{tag}"))


def _mha_kind(name, keras, torch, notes, merge, shape, slots) -> LayerKind:
    return LayerKind(
        name=name, keras=keras, torch=torch, notes=notes, args=ATTENTION_ARGS, merge=merge, reads_ids=False,
        torch_flat_order=CANONICAL, check=no_check, shape=shape,
        params=lambda l, x: _attention_params(l, x, l["use_bias"]), torch_params=_attention_maps(),
        keras_layer=_keras_attention, torch_module=_torch_attention, forward=_mha_forward, depth=_mha_depth,
        bound=no_element_rule, scale=scale_unchanged, strategy=_draw_attention, slots=slots)


MULTI_HEAD_ATTENTION = _mha_kind(
    "multi_head_attention", "keras.layers.MultiHeadAttention(num_heads, key_dim)(x, x)",
    "torch.nn.MultiheadAttention(D, num_heads, batch_first=True)(x, x, x)",
    "q/k/v kernels (D, H, dk) packed into in_proj_weight (3D, D); masks True=attend (Keras) vs True=ignore (torch)",
    False, _self_shape, ("seq",))
CROSS_ATTENTION = _mha_kind(
    "cross_attention", "keras.layers.MultiHeadAttention(num_heads, key_dim)(query, source)",
    "torch.nn.MultiheadAttention(D, num_heads, batch_first=True)(query, source, source)",
    "as multi_head_attention; the key/value source must have the query's dim (torch's packed in_proj_weight)",
    True, _cross_shape, ("seq_merge",))

TRANSFORMER_ENCODER = LayerKind(
    name="transformer_encoder",
    keras="keras.layers.Layer of MultiHeadAttention + LayerNormalization + Dense (no stock Keras 3 block)",
    torch="torch.nn.TransformerEncoderLayer(batch_first=True)",
    notes="in_proj packing as multi_head_attention; linear1/2 transposed; norm_first, activation, eps, dropout "
          "explicit",
    args=ENCODER_ARGS, merge=False, reads_ids=False, torch_flat_order=CANONICAL, check=no_check, shape=_self_shape,
    params=_encoder_params, torch_params=ENCODER_MAPS, keras_layer=_keras_encoder, torch_module=_torch_encoder,
    forward=_encoder_forward, depth=_encoder_depth, bound=no_element_rule, scale=_encoder_scale,
    strategy=_draw_encoder, slots=("seq",),
)

__all__ = ["CROSS_ATTENTION", "MULTI_HEAD_ATTENTION", "TRANSFORMER_ENCODER", "allowed", "attend", "encode",
           "keras_classes", "torch_classes", "torch_masks"]
