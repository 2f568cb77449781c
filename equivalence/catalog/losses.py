"""LOSS_DB: one LossInfo per loss configuration, with both frameworks' spelling and a float64 reference.

Conventions: `ref` returns the per-sample loss in float64 (Keras' per-sample convention: the last axis is
reduced by the loss); the neutral reductions are 'none' (per sample, weighted), 'sum' and 'mean' (sum / N, or
sum / sum(weights) where `mean_divisor='weights'`). Where torch's 'none' output is elementwise, the torch adapter
reduces the last axis the way Keras does (the mapping is written on the entry). Samples keep away from the inputs
where the frameworks are documented to differ (clipping at 0/1, log epsilons): those inputs are
catalogued in `equivalence/differences/training.py` with witnesses that assert both sides.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import runtime
from ..float64 import log_softmax, logsumexp, softmax
from ..registry import Registry
from .traininfo import LossInfo, LossSample

MEAN = {"none": ("none", "none"), "sum": ("sum", "sum"), "mean": ("sum_over_batch_size", "mean")}
# Elementwise torch losses: 'none' is (N, C) and 'sum' adds all N*C terms, while Keras first averages the last axis.
ROW_MEANS = {"none": ("none", "row_means"), "sum": ("sum", "sum_of_row_means"), "mean": ("sum_over_batch_size", "mean")}
KL_MEAN = {"none": ("none", "none"), "sum": ("sum", "sum"), "mean": ("sum_over_batch_size", "batchmean")}
WEIGHTED_MEAN = {"none": ("none", "none"), "sum": ("sum", "sum"), "mean": ("mean_with_sample_weight", "mean")}


# ---------------------------------------------------------------- strategies
def _floats(lo: float, hi: float):
    return st.floats(lo, hi, width=32, allow_nan=False, allow_infinity=False)


@st.composite
def _shapes(draw):
    return draw(st.integers(1, 4), label="batch"), draw(st.integers(2, 5), label="classes")


@st.composite
def _classification(draw, *, target: str, pred: str = "logits", weighting: str | None = None):
    """Labels ('sparse' int64, 'onehot' or 'soft' float targets) with logits, probabilities or log-probabilities.

    Logits lie in [-5, 5] and C <= 5, so probabilities stay >= ~1e-5, far from Keras' 1e-7 clip (catalogued).
    """
    n, c = draw(_shapes())
    logits = draw(hnp.arrays(np.float32, (n, c), elements=_floats(-5, 5)), label="logits")
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)), label="labels")
    y_true = {"sparse": labels, "onehot": np.eye(c, dtype=np.float32)[labels]}.get(target)
    if target == "soft":  # soft targets drawn on the simplex (both APIs accept probability targets for CE)
        raw = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0.05, 1)), label="soft_targets")
        y_true = (raw / raw.sum(-1, keepdims=True)).astype(np.float32)
    y_pred = {"logits": lambda: logits, "probs": lambda: _softmax(logits), "log_probs": lambda: _log_softmax(logits)}[pred]()
    return LossSample(y_true, y_pred, _weights(draw, weighting, n, c))


def _weights(draw, weighting, n, c):
    if weighting is None:
        return None
    size = n if weighting == "sample" else c
    return draw(hnp.arrays(np.float64, (size,), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25])),
                label=f"{weighting}_weight") + (weighting == "class") * 0.25  # class weights > 0: a 0 sum divides by 0


@st.composite
def _binary(draw, *, probs: bool, weighting=None):
    n, c = draw(_shapes())
    logits = draw(hnp.arrays(np.float32, (n, c), elements=_floats(-8, 8)), label="logits")
    y_true = draw(hnp.arrays(np.float32, (n, c), elements=st.sampled_from([0.0, 1.0, 0.25, 0.5])), label="targets")
    y_pred = (1 / (1 + np.exp(-logits.astype(np.float64)))).astype(np.float32) if probs else logits
    return LossSample(y_true, y_pred, _weights(draw, weighting, n, c))


@st.composite
def _regression(draw, *, lo=-4.0, hi=4.0, t_lo=-4.0, t_hi=4.0, signs=False):
    n, c = draw(_shapes())
    y_pred = draw(hnp.arrays(np.float32, (n, c), elements=_floats(lo, hi)), label="y_pred")
    elems = st.sampled_from([-1.0, 1.0]) if signs else _floats(t_lo, t_hi)
    y_true = draw(hnp.arrays(np.float32, (n, c), elements=elems), label="y_true")
    return LossSample(y_true, y_pred)


@st.composite
def _distributions(draw):
    """Two strictly positive distributions (KL): zero targets are where the two APIs differ (catalogued)."""
    n, c = draw(_shapes())
    raw = draw(hnp.arrays(np.float64, (2, n, c), elements=st.floats(0.05, 1)), label="unnormalised")
    p = raw / raw.sum(-1, keepdims=True)
    return LossSample(p[0].astype(np.float32), p[1].astype(np.float32))


@st.composite
def _vectors(draw):
    """Pairs of rows with norm >= 0.5, away from the normalisation epsilons (both sides give 0 at a zero row)."""
    s = draw(_regression())
    ok = (np.linalg.norm(s.y_pred, axis=-1) >= 0.5) & (np.linalg.norm(s.y_true, axis=-1) >= 0.5)
    y_pred = np.where(ok[:, None], s.y_pred, 1.0).astype(np.float32)
    y_true = np.where(ok[:, None], s.y_true, -1.0).astype(np.float32)
    return LossSample(y_true, y_pred)


# ---------------------------------------------------------------- float64 references
def _softmax(x):
    """Probabilities as a float32 input (a loss sample's y_pred), from float64."""
    return softmax(np.asarray(x, np.float64)).astype(np.float32)


def _log_softmax(x):
    return log_softmax(np.asarray(x, np.float64)).astype(np.float32)


_lse = logsumexp


def _f64(*xs):
    return [np.asarray(x, np.float64) for x in xs]


def ref_ce_logits(y, x, smoothing=0.0):
    y, x = _f64(y, x)
    y = y * (1 - smoothing) + smoothing / x.shape[-1]
    return (y * (_lse(x)[..., None] - x)).sum(-1)


def ref_sparse_ce_logits(labels, x):
    x = np.asarray(x, np.float64)
    return _lse(x) - np.take_along_axis(x, np.asarray(labels)[:, None], -1)[:, 0]


def ref_ce_probs(y, p):
    y, p = _f64(y, p)
    return -(y * np.log(p / p.sum(-1, keepdims=True))).sum(-1)


def ref_sparse_ce_probs(labels, p):
    return ref_ce_probs(np.eye(p.shape[-1])[labels], p)


def ref_nll_of_log(y, p):
    """torch's nll_loss(log p): no renormalisation, so its gradient off the simplex differs from Keras'."""
    y, p = _f64(y, p)
    y = np.eye(p.shape[-1])[y.astype(np.int64)] if y.ndim == 1 else y
    return -(y * np.log(p)).sum(-1)


def ref_bce_logits(y, x):
    y, x = _f64(y, x)
    return (np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean(-1)


def ref_bce_probs(y, p):
    y, p = _f64(y, p)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p)).mean(-1)


def ref_huber(y, p, delta=1.0):
    y, p = _f64(y, p)
    a = np.abs(p - y)
    return np.where(a <= delta, 0.5 * a**2, delta * a - 0.5 * delta**2).mean(-1)


def ref_kl(y, p):
    y, p = _f64(y, p)
    return (y * (np.log(y) - np.log(p))).sum(-1)


def ref_cosine(y, p):
    y, p = _f64(y, p)
    return -(y * p).sum(-1) / (np.linalg.norm(y, axis=-1) * np.linalg.norm(p, axis=-1))


def ref_hinge(y, p, power=1):
    y, p = _f64(y, p)
    return (np.maximum(1 - y * p, 0) ** power).mean(-1)


# ---------------------------------------------------------------- framework adapters
def _k():
    return runtime.keras().losses


def _t():
    return runtime.torch()


def _tensor(y):
    t = _t()
    return t.as_tensor(np.asarray(y))


def _sw(weight, y_true=None, kind="sample"):
    """Keras sample_weight for a neutral weight: per row as is, per class looked up by label."""
    if weight is None:
        return None
    if kind == "class":
        return np.asarray(weight, np.float32)[np.asarray(y_true)]
    return np.asarray(weight, np.float32)


def _keras(cls, **kw):
    def call(y_true, y_pred, reduction, weight):
        return getattr(_k(), cls)(reduction=reduction, **kw)(y_true, y_pred, sample_weight=_sw(weight))
    return call


def _torch_elementwise(fn, **kw):
    """torch losses whose 'none' is elementwise: 'mean' is native; 'row_means'/'sum_of_row_means' map Keras' forms."""
    def call(y_true, y_pred, reduction, weight):
        loss = lambda red: getattr(_t().nn.functional, fn)(y_pred, _tensor(y_true).to(y_pred.dtype), reduction=red, **kw)
        return _row_means(loss, reduction)
    return call


def _row_means(loss, reduction):
    """Apply a ROW_MEANS torch spelling to `loss(torch_reduction)`."""
    if reduction in ("mean", "sum", "none"):
        return loss(reduction)
    rows = loss("none").mean(-1)
    return rows.sum() if reduction == "sum_of_row_means" else rows


def _reduce(per_sample, reduction, weight=None):
    """Neutral reduction of a per-sample torch loss (sample weights multiply, 'mean' divides by N)."""
    if weight is not None:
        per_sample = per_sample * _tensor(weight).to(per_sample.dtype)
    if reduction in ("none", "row_means"):
        return per_sample
    return per_sample.sum() if reduction in ("sum", "sum_of_row_means") else per_sample.sum() / per_sample.shape[0]


def _torch_ce(smoothing=0.0, soft=False):
    def call(y_true, y_pred, reduction, weight):
        target = _tensor(y_true) if not soft else _tensor(y_true).to(y_pred.dtype)
        w = None if weight is None else _tensor(weight).to(y_pred.dtype)
        return _t().nn.functional.cross_entropy(y_pred, target, weight=w, reduction=reduction,
                                                label_smoothing=smoothing)
    return call


def _torch_nll_of(transform):
    def call(y_true, y_pred, reduction, weight):
        labels = y_true if y_true.ndim == 1 else y_true.argmax(-1)  # nll_loss takes class indices only
        return _t().nn.functional.nll_loss(transform(y_pred), _tensor(labels), reduction=reduction)
    return call


def _keras_class_weighted(cls, **kw):
    def call(y_true, y_pred, reduction, weight):
        labels = y_true if y_true.ndim == 1 else y_true.argmax(-1)
        return getattr(_k(), cls)(reduction=reduction, **kw)(y_true, y_pred, sample_weight=_sw(weight, labels, "class"))
    return call


def _torch_bce(logits: bool):
    def call(y_true, y_pred, reduction, weight):
        f = _t().nn.functional
        fn = f.binary_cross_entropy_with_logits if logits else f.binary_cross_entropy
        w = None if weight is None else _tensor(weight).to(y_pred.dtype)[:, None]  # per row, broadcast over C
        return _row_means(lambda red: fn(y_pred, _tensor(y_true).to(y_pred.dtype), weight=w, reduction=red), reduction)
    return call


def _torch_smooth_l1(beta):
    """SmoothL1(beta) = Huber(beta) / beta: multiply back to compare with Keras Huber(delta=beta)."""
    inner = _torch_elementwise("smooth_l1_loss", beta=beta)  # noqa: the product keeps the ROW_MEANS mapping
    return lambda y_true, y_pred, reduction, weight: inner(y_true, y_pred, reduction, weight) * beta


def _torch_kl(y_true, y_pred, reduction, weight):
    # torch takes the INPUT as log-probabilities and the target as probabilities (log_target=False).
    return _t().nn.functional.kl_div(_t().log(y_pred), _tensor(y_true).to(y_pred.dtype), reduction=reduction) \
        if reduction != "none" else _t().nn.functional.kl_div(_t().log(y_pred), _tensor(y_true).to(y_pred.dtype),
                                                               reduction="none").sum(-1)


def _torch_cosine(y_true, y_pred, reduction, weight):
    return _reduce(-_t().nn.functional.cosine_similarity(y_pred, _tensor(y_true).to(y_pred.dtype), dim=-1),
                   reduction, weight)


def _torch_hinge(power):
    def call(y_true, y_pred, reduction, weight):  # torch has no binary hinge loss class: write the formula
        margin = _t().clamp(1 - _tensor(y_true).to(y_pred.dtype) * y_pred, min=0)
        return _reduce((margin**power).mean(-1), reduction, weight)
    return call


# ---------------------------------------------------------------- kinks (gradient tests keep away from them)
def _kink_abs(y, p, at=0.0):
    return float(np.min(np.abs(np.abs(np.asarray(p, np.float64) - y) - at)))


def _kink_hinge(y, p):
    return float(np.min(np.abs(1 - np.asarray(y, np.float64) * p)))


# ---------------------------------------------------------------- the registry
def _NO_CANCELLATION(y, p):
    """Regression gradients (p - y, sign(p - y), -y/p): p - y of float32 inputs is correctly rounded, so the error is
    ~u * |g| and no floor is needed."""
    return 0.0


def _cosine_terms(y, p):
    """d/dp of -y.p/(|y||p|) = -y/(|y||p|) + cos * p/|p|^2: terms of size <= 1/|p| that cancel to 0 at p = -y."""
    return 1 / np.linalg.norm(p, axis=-1, keepdims=True)


def _ce_entries() -> list[LossInfo]:
    sparse, onehot = "sparse_categorical_crossentropy", "categorical_crossentropy"
    return [
        LossInfo(sparse, "from_logits", _keras("SparseCategoricalCrossentropy", from_logits=True), _torch_ce(),
                 ref_sparse_ce_logits, lambda: _classification(target="sparse"), MEAN,
                 mapping="torch F.cross_entropy(logits, int64 labels)"),
        LossInfo(sparse, "from_probs", _keras("SparseCategoricalCrossentropy"), _torch_nll_of(lambda p: _t().log(p)),
                 ref_sparse_ce_probs, lambda: _classification(target="sparse", pred="probs"), MEAN,
                 torch_ref=ref_nll_of_log,
                 mapping="torch F.nll_loss(log(probs), labels): CrossEntropyLoss would apply log_softmax again"),
        LossInfo(sparse, "class_weight", _keras_class_weighted("SparseCategoricalCrossentropy", from_logits=True),
                 _torch_ce(), ref_sparse_ce_logits, lambda: _classification(target="sparse", weighting="class"),
                 WEIGHTED_MEAN, weighting="class", mean_divisor="weights",
                 mapping="torch weight=class_weights; Keras sample_weight=class_weights[labels] with "
                         "reduction='mean_with_sample_weight' (torch's weighted mean divides by the weights' sum)"),
        LossInfo(onehot, "from_logits", _keras("CategoricalCrossentropy", from_logits=True), _torch_ce(soft=True),
                 ref_ce_logits, lambda: _classification(target="onehot"), MEAN,
                 mapping="torch F.cross_entropy(logits, one-hot float targets)"),
        LossInfo(onehot, "soft_targets", _keras("CategoricalCrossentropy", from_logits=True), _torch_ce(soft=True),
                 ref_ce_logits, lambda: _classification(target="soft"), MEAN,
                 mapping="torch F.cross_entropy(logits, probability targets)"),
        LossInfo(onehot, "label_smoothing", _keras("CategoricalCrossentropy", from_logits=True, label_smoothing=0.1),
                 _torch_ce(smoothing=0.1, soft=True), lambda y, x: ref_ce_logits(y, x, 0.1),
                 lambda: _classification(target="onehot"), MEAN,
                 mapping="label_smoothing=0.1 on both: targets become y*(1-s) + s/C"),
        LossInfo(onehot, "from_probs", _keras("CategoricalCrossentropy"), _torch_nll_of(lambda p: _t().log(p)),
                 ref_ce_probs, lambda: _classification(target="onehot", pred="probs"), MEAN, torch_ref=ref_nll_of_log,
                 mapping="torch F.nll_loss(log(probs), argmax of the one-hot targets)"),
        LossInfo("nll", "log_softmax", _keras("SparseCategoricalCrossentropy", from_logits=True),
                 _torch_nll_of(lambda lp: lp), ref_sparse_ce_logits,
                 lambda: _classification(target="sparse", pred="log_probs"), MEAN,
                 torch_ref=lambda y, lp: -np.take_along_axis(np.float64(lp), np.asarray(y)[:, None], -1)[:, 0],
                 mapping="torch F.nll_loss(log_softmax(x)); Keras has no NLL loss: sparse CE from_logits on the "
                         "same log-probabilities (softmax(log p) = p)"),
    ]


def _binary_entries() -> list[LossInfo]:
    bce = "binary_crossentropy"
    return [
        LossInfo(bce, "from_logits", _keras("BinaryCrossentropy", from_logits=True), _torch_bce(logits=True),
                 ref_bce_logits, lambda: _binary(probs=False), ROW_MEANS,
                 mapping="torch F.binary_cross_entropy_with_logits; 'none' averaged over the last axis like Keras"),
        LossInfo(bce, "from_probs", _keras("BinaryCrossentropy"), _torch_bce(logits=False), ref_bce_probs,
                 lambda: _binary(probs=True), ROW_MEANS, mapping="torch F.binary_cross_entropy",
                 grad_terms=lambda y, p: y / p + (1 - y) / (1 - p)),  # -y/p + (1-y)/(1-p) cancel at p ~ y
        LossInfo(bce, "sample_weight", _keras("BinaryCrossentropy", from_logits=True), _torch_bce(logits=True),
                 ref_bce_logits, lambda: _binary(probs=False, weighting="sample"), ROW_MEANS, weighting="sample",
                 mapping="Keras sample_weight=w (N,); torch weight=w[:, None]: both 'mean' divide by N (not sum w)"),
        LossInfo("hinge", "", _keras("Hinge"), _torch_hinge(1), ref_hinge, lambda: _regression(signs=True), ROW_MEANS,
                 kink=_kink_hinge, mapping="torch has no binary hinge loss: clamp(1 - y*p, min=0).mean(-1)"),
        LossInfo("squared_hinge", "", _keras("SquaredHinge"), _torch_hinge(2), lambda y, p: ref_hinge(y, p, 2),
                 lambda: _regression(signs=True), ROW_MEANS, kink=_kink_hinge,
                 grad_terms=lambda y, p: 2 * (1 + np.abs(p)),  # -2y(1 - y*p): 1 - y*p cancels 1 and |p|
                 mapping="torch: clamp(1 - y*p, min=0)**2 .mean(-1)"),
    ]


def _regression_entries() -> list[LossInfo]:
    return [
        LossInfo("mean_squared_error", "", _keras("MeanSquaredError"), _torch_elementwise("mse_loss"),
                 lambda y, p: ((np.float64(p) - y) ** 2).mean(-1), lambda: _regression(), ROW_MEANS,
                 grad_terms=_NO_CANCELLATION,
                 mapping="torch F.mse_loss; its 'mean' over N*C equals Keras' mean of row means (rows are equal size)"),
        LossInfo("mean_absolute_error", "", _keras("MeanAbsoluteError"), _torch_elementwise("l1_loss"),
                 lambda y, p: np.abs(np.float64(p) - y).mean(-1), lambda: _regression(), ROW_MEANS, kink=_kink_abs,
                 grad_terms=_NO_CANCELLATION,
                 mapping="torch F.l1_loss"),
        LossInfo("huber", "delta_1", _keras("Huber", delta=1.0), _torch_elementwise("huber_loss", delta=1.0),
                 ref_huber, lambda: _regression(), ROW_MEANS, kink=lambda y, p: min(_kink_abs(y, p), _kink_abs(y, p, 1.0)),
                 grad_terms=_NO_CANCELLATION, mapping="torch F.huber_loss(delta=1.0)"),
        LossInfo("huber", "delta_0_5", _keras("Huber", delta=0.5), _torch_elementwise("huber_loss", delta=0.5),
                 lambda y, p: ref_huber(y, p, 0.5), lambda: _regression(), ROW_MEANS,
                 kink=lambda y, p: min(_kink_abs(y, p), _kink_abs(y, p, 0.5)), mapping="torch F.huber_loss(delta=0.5)",
                 grad_terms=_NO_CANCELLATION),
        LossInfo("huber", "smooth_l1", _keras("Huber", delta=0.5), _torch_smooth_l1(0.5),
                 lambda y, p: ref_huber(y, p, 0.5), lambda: _regression(), ROW_MEANS,
                 kink=lambda y, p: min(_kink_abs(y, p), _kink_abs(y, p, 0.5)), grad_terms=_NO_CANCELLATION,
                 mapping="torch F.smooth_l1_loss(beta=d) * d == Keras Huber(delta=d)"),
        LossInfo("kl_divergence", "", _keras("KLDivergence"), _torch_kl, ref_kl, _distributions, KL_MEAN,
                 grad_terms=_NO_CANCELLATION,  # -y/p: one term
                 mapping="torch F.kl_div(log(p_pred), p_true): input is LOG-probabilities; neutral 'mean' is "
                         "torch 'batchmean' (torch 'mean' divides by N*C)"),
        LossInfo("poisson", "", _keras("Poisson"), _torch_elementwise("poisson_nll_loss", log_input=False),
                 lambda y, p: (np.float64(p) - y * np.log(np.float64(p))).mean(-1),
                 lambda: _regression(lo=1.0, hi=8.0, t_lo=0.0, t_hi=3.0), ROW_MEANS,
                 grad_terms=lambda y, p: 1 + y / p,  # 1 - y/p
                 mapping="torch F.poisson_nll_loss(log_input=False); predictions >= 1 keep the two log epsilons "
                         "(1e-7 vs 1e-8) below 3e-7 of the loss"),
        LossInfo("cosine_similarity", "", _keras("CosineSimilarity"), _torch_cosine, ref_cosine, _vectors, MEAN,
                 grad_terms=_cosine_terms,
                 mapping="torch -F.cosine_similarity(y_pred, y_true, dim=-1)"),
    ]


LOSS_DB: Registry[LossInfo] = Registry(LossInfo.REGISTRY, _ce_entries() + _binary_entries() + _regression_entries())


def _row_weights(info: LossInfo, weight, y_true, n: int) -> np.ndarray:
    if weight is None:
        return np.ones(n)
    if info.weighting == "class":
        labels = y_true if np.ndim(y_true) == 1 else np.argmax(y_true, -1)
        return np.asarray(weight, np.float64)[labels]
    return np.asarray(weight, np.float64)


def reduce_ref(info: LossInfo, per_sample, weight, reduction: str, y_true=None):
    """The neutral reduction of a float64 per-sample loss, weighted as the entry says."""
    w = _row_weights(info, weight, y_true, len(per_sample))
    values = per_sample * w
    if reduction == "none":
        return values
    if reduction == "sum":
        return values.sum()
    return values.sum() / (w.sum() if info.mean_divisor == "weights" else len(values))


def grad_term_scale(info: LossInfo, sample) -> np.ndarray:
    """Per element of y_pred: the size of the terms its gradient of the neutral 'mean' loss is computed from.

    d(mean)/d(y_pred[i, j]) = w_i / D * d(loss_i)/d(y_pred[i, j]) (D = N or sum w; row-mean losses add 1/C), and
    float32 computes d(loss_i)/d(y_pred) from terms of size `info.grad_terms` (default 1: softmax(x) - y and
    sigmoid(x) - y cancel probabilities <= 1). Its rounding error is ~u * this, however small the gradient is
    (observed: class-weighted CE at p = 0.98, y = 1: 6.5e-8 absolute on a gradient of 0.0096).
    """
    y, p = sample.y_true, np.asarray(sample.y_pred, np.float64)
    n, c = p.shape
    terms = np.ones_like(p) if info.grad_terms is None else np.broadcast_to(info.grad_terms(y, p), p.shape)
    w = _row_weights(info, sample.weight, y, n)
    divisor = w.sum() if info.mean_divisor == "weights" else n
    return terms * (w / divisor)[:, None] / (c if info.reductions is ROW_MEANS else 1)


def by_id(loss_id: str) -> LossInfo:
    """The entry with this id; KeyError names the ids that start alike."""
    return LOSS_DB.by_id(loss_id)
