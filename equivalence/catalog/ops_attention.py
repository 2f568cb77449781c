"""Scaled dot-product attention: torch.nn.functional.scaled_dot_product_attention vs keras.ops.dot_product_attention.

Records of the 'nn' family (chained into OP_DB after ops_nn). Samples hold q (B, H, T, E), k (B, H, S, E),
v (B, H, S, E) in torch's layout; the Keras side transposes to its (B, T, H, E) layout and back. Variants: plain,
causal (top-left aligned when T != S on both sides: catalogue causal-mask-conventions) and a boolean mask, whose
convention the two functions SHARE (True = attend; torch.nn.MultiheadAttention's masks are the opposite:
catalogue attention-mask-convention). Every mask row keeps one key: a fully masked row differs (catalogue
attention-fully-masked-row).
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from .. import strategies as S
from ..float64 import softmax
from ..runtime import torch
from .opinfo import DOT_PRODUCT_ZERO_SIGN, OpInfo, Sample
from .samples import call

# Logits q.k sum E products and the softmax-weighted sum S terms: an overflow of either depends on the order of
# the sums (see ops_linalg._operands); inf/NaN inputs make a whole softmax row NaN on one side and a partial one on
# the other as the kernels tile it (flash-style online softmax): out of scope, as for the normalisations.
_AVOID = frozenset({"huge", "inf", "nan"})


def _sdpa_ref(q, k, v, mask=None, *, is_causal=False):
    logits = np.einsum("bhte,bhse->bhts", q, k) / math.sqrt(q.shape[-1])
    ok = np.ones(logits.shape[-2:], bool) if mask is None else mask
    if is_causal:
        ok = ok & np.tril(np.ones(logits.shape[-2:], bool))
    return np.einsum("bhts,bhse->bhte", softmax(np.where(ok, logits, -np.inf), axis=-1), v)


def _weights(q, k, mask, is_causal):
    """The softmax weights and the shifted logits |z - max| of a float64 sample (masked logits -inf, weights 0)."""
    z = np.einsum("bhte,bhse->bhts", q, k) / math.sqrt(q.shape[-1])
    ok = np.ones(z.shape[-2:], bool) if mask is None else np.asarray(mask, bool)
    if is_causal:
        ok = ok & np.tril(np.ones(z.shape[-2:], bool))
    zm = np.where(ok, z, -np.inf)
    shift = np.where(ok, np.abs(z - np.max(zm, axis=-1, keepdims=True)), 0.0)
    return softmax(zm, axis=-1), shift


def _sdpa_grad_terms(cot, q, k, v, mask=None, *, is_causal=False):
    """dq, dk go through softmax's backward s (dp - <dp, s>), which cancels where dp_s ~ <dp, s> (as softmax)

    With dp = c v^T (terms |c||v|), the logits' cotangent dz = s (dp - <dp, s>) is formed from s (|dp| +
    sum_s' |dp_s'| s_s') times (1 + |z - max|) (s's exponent rounding, as grad_terms.softmax); dq = dz k / sqrt(E)
    and dk = dz^T q / sqrt(E) sum those terms times |k| and |q|. dv = s^T c: nonnegative weights, no cancellation."""
    s, shift = _weights(q, k, mask, is_causal)
    dp = np.einsum("bhte,bhse->bhts", np.abs(cot), np.abs(v))
    dz = s * (dp + np.sum(dp * s, axis=-1, keepdims=True)) * (1 + shift)
    scale = 1 / math.sqrt(q.shape[-1])
    return (scale * np.einsum("bhts,bhse->bhte", dz, np.abs(k)), scale * np.einsum("bhts,bhte->bhse", dz, np.abs(q)),
            None) + ((None,) if mask is not None else ())


def _torch_sdpa(q, k, v, mask=None, *, is_causal=False):
    return torch().nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal,
                                                              scale=1 / math.sqrt(q.shape[-1]))


def _keras_sdpa(q, k, v, mask=None, *, is_causal=False):
    from ..runtime import tf

    t = lambda a: tf().transpose(a, (0, 2, 1, 3))  # (B, H, T, E) <-> Keras' (B, T, H, E)
    # scale as a tensor of the input dtype: Keras casts a Python float scale (and computes its default) in float32
    # first, which float64 attention then carries (catalogue keras-sdpa-float32-scale)
    scale = tf().constant(1 / math.sqrt(q.shape[-1]), dtype=q.dtype)
    return t(call("keras.ops.dot_product_attention")(t(q), t(k), t(v), mask=mask, is_causal=is_causal, scale=scale))


def _samples(masked: bool, causal: bool):
    @st.composite
    def draw(draw_, dtype, avoid):
        # sizes through strategies.side: edge mode fills q, k, v with the whole edge pool, and E, S >= 2
        b, h = draw_(S.side(1, 2, rank=4), label="batch"), draw_(S.side(1, 2, rank=4), label="heads")
        t, s = draw_(S.side(1, 4, rank=4), label="queries"), draw_(S.side(1, 4, rank=4), label="keys")
        e = draw_(S.side(1, 4, rank=4), label="dim")
        avoid = avoid | _AVOID
        q = draw_(S.arrays(dtype, (b, h, t, e), lo=-2, hi=2, avoid=avoid), label="q")
        k = draw_(S.arrays(dtype, (b, h, s, e), lo=-2, hi=2, avoid=avoid), label="k")
        v = draw_(S.arrays(dtype, (b, h, s, e), lo=-2, hi=2, avoid=avoid), label="v")
        args = (q, k, v)
        if masked:  # every query row keeps key 0: no fully masked row (catalogue attention-fully-masked-row)
            mask = np.array(draw_(st.lists(st.booleans(), min_size=b * h * t * s, max_size=b * h * t * s),
                                  label="mask"), bool).reshape(b, h, t, s)
            mask[..., 0] = True
            args = (q, k, v, mask)
        return Sample(args, {"is_causal": causal}, "attention")
    return draw


def _depth(sample: Sample) -> int:
    """sqrt(E) (logits) + sqrt(S) (softmax sum) + sqrt(S) (weighted sum), squared: the model rule's composition."""
    e, s = sample.args[0].shape[-1], sample.args[1].shape[-2]
    return math.ceil((math.sqrt(e) + 2 * math.sqrt(s)) ** 2)


def _scale(sample: Sample) -> float:
    """The output moves by sum_s w_s (v_s - out) dz_s: the logits' error (~u of |q||k|/sqrt(E) summed) times
    2 max|v|; the weighted sum's terms are max|v| themselves."""
    q, k, v = (np.abs(np.asarray(a, np.float64)) for a in sample.args[:3])
    terms = float(np.max(np.einsum("bhte,bhse->bhts", q, k), initial=0.0)) / math.sqrt(q.shape[-1])
    vmax = float(np.max(v, initial=0.0))
    return max(vmax, 2 * terms * vmax)


def _sdpa(variant: str, masked: bool, causal: bool, dtypes: tuple[str, ...]) -> OpInfo:
    return OpInfo(
        name="scaled_dot_product_attention", family="nn", variant=variant, torch_fn=_torch_sdpa, tf_fn=_keras_sdpa,
        ref=_sdpa_ref, dtypes=dtypes, samples_fn=_samples(masked, causal),
        torch_api="torch.nn.functional.scaled_dot_product_attention", tf_api="keras.ops.dot_product_attention",
        api="keras.ops", supports_grad=True, grad_args=(0, 1, 2), grad_terms=_sdpa_grad_terms, depth=_depth,
        scale=_scale,
        # 8: exp + sum + divide of the softmax, each <= 1 u (as softmax's record), then the weighted sum's rounding
        zero_sign=DOT_PRODUCT_ZERO_SIGN, ulps=8,
        notes=f"q/k/v (B, H, T, E); scale 1/sqrt(E) passed to both (Keras: a tensor of the input dtype)"
              f"{'; is_causal' if causal else ''}{'; boolean mask (True = attend on both)' if masked else ''}; "
              f"inf/NaN/huge inputs not drawn")


# float64 once (where keras-sdpa-float32-scale showed): the masks and the causal flag do not depend on the dtype
OPS = [
    _sdpa("", masked=False, causal=False, dtypes=("float32", "float64")),
    _sdpa("causal", masked=False, causal=True, dtypes=("float32",)),
    _sdpa("mask", masked=True, causal=False, dtypes=("float32",)),
]
