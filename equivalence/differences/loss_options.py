"""Known differences: loss options the loss catalog does not vary (ignored labels, label smoothing where only one
side has it, target shapes that broadcast, the denominator of a weighted mean), each entry right below its witness.

Expected floats are the observed float32 results rounded to 6 decimals (`rounded`, hence `atol=ROUNDED`), with the
closed form in a comment beside them; an error is observed as 'raises <ExceptionType>'.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import runtime
from ..registry import Registry
from .entry import REGISTRY, KnownDifference
from .witness_tools import ROUNDED, attempt, raised, rounded

ENTRIES: Registry[KnownDifference] = Registry(REGISTRY)  # in catalogue order; each entry right below its witness


def _attempt(fn):
    """fn() rounded, or 'raises <ExceptionType>' when it raises (construction errors included)."""
    return attempt(fn, then=lambda out: rounded(out.detach().numpy() if hasattr(out, "detach") else out))


# Three samples; the middle label is torch's default ignore_index (-100). Per-sample CE: row 0 log(e^2 + 2) - 2,
# row 2 log(e^3 + 2) - 3.
_LOGITS = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]], np.float32)
_LABELS = np.array([0, -100, 2])


def _keras_ignore() -> dict:
    losses = runtime.keras().losses
    scce = losses.SparseCategoricalCrossentropy
    return {"default": _attempt(lambda: scce(from_logits=True)(_LABELS, _LOGITS)),
            "ignore_class=-100": _attempt(lambda: scce(from_logits=True, ignore_class=-100)(_LABELS, _LOGITS)),
            "ignore_class=-100, reduction='none'": _attempt(
                lambda: scce(from_logits=True, ignore_class=-100, reduction="none")(_LABELS, _LOGITS))}


def _torch_ignore() -> dict:
    torch = runtime.torch()
    loss, logits, labels = torch.nn.CrossEntropyLoss, torch.tensor(_LOGITS), torch.tensor(_LABELS)
    return {"default": _attempt(lambda: loss()(logits, labels)),
            "reduction='none'": _attempt(lambda: loss(reduction="none")(logits, labels)),
            "ignore_index=1": _attempt(lambda: loss(ignore_index=1)(logits, torch.tensor([0, 1, 2])))}


ENTRIES.add(KnownDifference(
    id="ce-ignore-index-default",
    area="losses",
    title="Label -100: torch CrossEntropyLoss ignores it by default (ignore_index=-100); Keras "
          "SparseCategoricalCrossentropy raises unless ignore_class=-100",
    tf="SparseCategoricalCrossentropy(ignore_class=None) by default: a label of -100 fails on the CPU "
       "(InvalidArgumentError from the sparse softmax kernel). With ignore_class=-100 the sample's loss is 0 and the "
       "mean is over the other samples, as in torch.",
    torch="CrossEntropyLoss(ignore_index=-100) by default: the sample's loss is 0 and 'mean' divides by the number "
          "of samples not ignored; any other class can be ignored (ignore_index=1).",
    witness=lambda: {"tf": _keras_ignore(), "torch": _torch_ignore()},
    expected={"tf": {"default": "raises InvalidArgumentError", "ignore_class=-100": 0.167234,
                     "ignore_class=-100, reduction='none'": [0.239545, 0.0, 0.094923]},
              "torch": {"default": 0.167234, "reduction='none'": [0.239545, 0.0, 0.094923],
                        "ignore_index=1": 0.167234}},  # (0.239545 + 0.094923) / 2 both
    snippet_tf="SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)(y, logits)",
    snippet_torch="nn.CrossEntropyLoss()(logits, y)  # ignore_index=-100 is the default",
    evidence="torch.nn.CrossEntropyLoss docs (ignore_index default -100, mean over non-ignored targets); "
             "keras/src/losses/losses.py sparse_categorical_crossentropy (ignore_class=None; masked mean)",
    mapping="SparseCategoricalCrossentropy(ignore_class=-100) for torch's default",
    applies_to=("loss:sparse_categorical_crossentropy",),
    atol=ROUNDED,
))


_ONE_HOT = np.eye(3, dtype=np.float32)
_BINARY_LOGITS, _BINARY_LABELS = np.array([[0.5], [0.5]], np.float32), np.array([[1.0], [0.0]], np.float32)


def _keras_smoothing() -> dict:
    losses = runtime.keras().losses
    return {"CategoricalCrossentropy(label_smoothing=0.3)": _attempt(
                lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3)(_ONE_HOT, _LOGITS)),
            "SparseCategoricalCrossentropy(label_smoothing=0.3)": _attempt(
                lambda: losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.3)(
                    np.array([0, 1, 2]), _LOGITS)),
            "BinaryCrossentropy(label_smoothing=0.2)": _attempt(
                lambda: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(_BINARY_LABELS,
                                                                                         _BINARY_LOGITS))}


def _torch_smoothing() -> dict:
    torch = runtime.torch()
    smoothed = torch.tensor(_BINARY_LABELS * 0.8 + 0.1)  # Keras' binary rule y (1 - s) + s / 2, written out
    return {"CrossEntropyLoss(label_smoothing=0.3), class indices": _attempt(
                lambda: torch.nn.CrossEntropyLoss(label_smoothing=0.3)(torch.tensor(_LOGITS), torch.tensor([0, 1, 2]))),
            "BCEWithLogitsLoss(label_smoothing=0.2)": _attempt(
                lambda: torch.nn.BCEWithLogitsLoss(label_smoothing=0.2)(torch.tensor(_BINARY_LOGITS),
                                                                        torch.tensor(_BINARY_LABELS))),
            "BCEWithLogitsLoss on targets smoothed by hand": _attempt(
                lambda: torch.nn.BCEWithLogitsLoss()(torch.tensor(_BINARY_LOGITS), smoothed))}


ENTRIES.add(KnownDifference(
    id="label-smoothing-support",
    area="losses",
    title="Label smoothing: the same formula for categorical CE, but Keras has none for integer labels and torch "
          "none for binary CE",
    tf="CategoricalCrossentropy(label_smoothing=s) uses y (1 - s) + s / C; SparseCategoricalCrossentropy has no "
       "label_smoothing (TypeError); BinaryCrossentropy(label_smoothing=s) uses y (1 - s) + s / 2.",
    torch="CrossEntropyLoss(label_smoothing=s) uses the same y (1 - s) + s / C, with class indices or "
          "probabilities as targets; BCELoss/BCEWithLogitsLoss have no label_smoothing (TypeError): smooth the "
          "targets by hand.",
    witness=lambda: {"tf": _keras_smoothing(), "torch": _torch_smoothing()},
    expected={"tf": {"CategoricalCrossentropy(label_smoothing=0.3)": 0.695304,
                     "SparseCategoricalCrossentropy(label_smoothing=0.3)": "raises TypeError",
                     "BinaryCrossentropy(label_smoothing=0.2)": 0.724077},
              "torch": {"CrossEntropyLoss(label_smoothing=0.3), class indices": 0.695304,
                        "BCEWithLogitsLoss(label_smoothing=0.2)": "raises TypeError",
                        "BCEWithLogitsLoss on targets smoothed by hand": 0.724077}},
    snippet_tf="keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)",
    snippet_torch="nn.BCEWithLogitsLoss()(logits, y * (1 - 0.2) + 0.2 / 2)  # no label_smoothing argument",
    evidence="keras/src/losses/losses.py (categorical/binary_crossentropy label_smoothing); torch.nn.CrossEntropyLoss "
             "docs (label_smoothing, 'Rethinking the Inception Architecture'); torch.nn.BCEWithLogitsLoss signature",
    mapping="sparse labels: one-hot them for Keras CategoricalCrossentropy(label_smoothing=s); binary: smooth the "
            "torch targets as y (1 - s) + s / 2",
    applies_to=("loss:categorical_crossentropy", "loss:binary_crossentropy"),
    atol=ROUNDED,
))


_PRED_COLUMN = np.array([[1.0], [2.0], [3.0]], np.float32)  # (N, 1)
_TARGET_FLAT = np.array([1.0, 2.0, 4.0], np.float32)  # (N,)


def _keras_target_shape() -> dict:
    losses = runtime.keras().losses
    return {"mean": _attempt(lambda: losses.MeanSquaredError()(_TARGET_FLAT, _PRED_COLUMN)),
            "reduction='none'": _attempt(lambda: losses.MeanSquaredError(reduction="none")(_TARGET_FLAT, _PRED_COLUMN))}


def _torch_target_shape() -> dict:
    torch = runtime.torch()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mean = _attempt(lambda: torch.nn.MSELoss()(torch.tensor(_PRED_COLUMN), torch.tensor(_TARGET_FLAT)))
        try:
            per_element = torch.nn.MSELoss(reduction="none")(torch.tensor(_PRED_COLUMN), torch.tensor(_TARGET_FLAT))
            shape = list(per_element.shape)
        except Exception as exc:  # noqa: BLE001 - the type of error is the observation
            shape = raised(exc)
    return {"mean": mean, "reduction='none' shape": shape,
            "warnings": sorted({type(w.message).__name__ for w in caught})}


ENTRIES.add(KnownDifference(
    id="mse-target-shape-broadcast",
    area="losses",
    title="MSE of (N, 1) predictions against (N,) targets: Keras aligns the ranks, torch broadcasts to (N, N) "
          "with a UserWarning",
    tf="keras.losses.MeanSquaredError expands/squeezes the last axis so y_true (N,) meets y_pred (N, 1) "
       "element by element: ((1-1)^2 + (2-2)^2 + (3-4)^2) / 3 = 1/3, one value per sample with reduction='none'.",
    torch="nn.MSELoss broadcasts (N, 1) against (N,) to (N, N), averages all N*N squared differences (7/3 here) "
          "and only warns (UserWarning 'Using a target size ... different to the input size').",
    witness=lambda: {"tf": _keras_target_shape(), "torch": _torch_target_shape()},
    expected={"tf": {"mean": 0.333333, "reduction='none'": [0.0, 0.0, 1.0]},
              "torch": {"mean": 2.333333, "reduction='none' shape": [3, 3], "warnings": ["UserWarning"]}},
    snippet_tf="keras.losses.MeanSquaredError()(np.array([1., 2., 4.]), np.array([[1.], [2.], [3.]]))  # 0.3333",
    snippet_torch="nn.MSELoss()(torch.tensor([[1.], [2.], [3.]]), torch.tensor([1., 2., 4.]))  # 2.3333 + warning",
    evidence="keras/src/losses/loss.py squeeze_or_expand_to_same_rank; torch/nn/functional.py mse_loss (the "
             "size-mismatch UserWarning, then broadcast_tensors)",
    mapping="give torch targets the prediction's shape (y.view_as(pred)); filterwarnings=error in the suite "
            "turns torch's warning into a failure",
    applies_to=("loss:mean_squared_error",),
    atol=ROUNDED,
))


# Three samples, the middle one weighted 0. Per-sample BCE-with-logits: log 2, log(1 + e) (weighted out),
# log(1 + e^-2); sum of weights 2, batch size 3.
_W_LOGITS = np.array([[0.0], [1.0], [2.0]], np.float32)
_W_LABELS = np.array([[1.0], [0.0], [1.0]], np.float32)
_W = np.array([1.0, 0.0, 1.0], np.float32)


def _keras_weighted_reductions() -> dict:
    bce = runtime.keras().losses.BinaryCrossentropy
    return {reduction: _attempt(lambda: bce(from_logits=True, reduction=reduction)(_W_LABELS, _W_LOGITS,
                                                                                   sample_weight=_W))
            for reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum")}


def _torch_weighted_reductions() -> dict:
    torch = runtime.torch()
    bce = lambda reduction: torch.nn.BCEWithLogitsLoss(weight=torch.tensor(_W)[:, None],  # noqa: E731
                                                       reduction=reduction)(torch.tensor(_W_LOGITS),
                                                                            torch.tensor(_W_LABELS))
    ce = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 0.0]))  # class weights: samples of class 1 weigh 0
    return {"BCEWithLogitsLoss(weight) 'mean'": _attempt(lambda: bce("mean")),
            "BCEWithLogitsLoss(weight) 'sum'": _attempt(lambda: bce("sum")),
            "CrossEntropyLoss(class weight) 'mean'": _attempt(lambda: ce(torch.zeros(3, 2), torch.tensor([0, 1, 0])))}


ENTRIES.add(KnownDifference(
    id="weighted-loss-mean-denominator",
    area="losses",
    title="A weighted 'mean' divides by the batch size in Keras' default and torch's BCE weight, by the sum of the "
          "weights in Keras 'mean_with_sample_weight' and torch's CrossEntropyLoss(weight)",
    tf="With sample_weight, reduction='sum_over_batch_size' (the default) and 'mean' (the same reduction under "
       "another name) give sum(w l) / N: a weight-0 sample still counts in N; 'mean_with_sample_weight' gives "
       "sum(w l) / sum(w); 'sum' gives sum(w l).",
    torch="There is no sample_weight: BCEWithLogitsLoss(weight=w) rescales each element and 'mean' divides by N "
          "(as Keras' default), while CrossEntropyLoss(weight=class_w) 'mean' divides by the sum of the weights "
          "of the targets (as 'mean_with_sample_weight').",
    witness=lambda: {"tf": _keras_weighted_reductions(), "torch": _torch_weighted_reductions()},
    expected={"tf": {"sum_over_batch_size": 0.273358, "mean": 0.273358,  # (log 2 + log(1 + e^-2)) / 3
                     "mean_with_sample_weight": 0.410038, "sum": 0.820075},  # ... / 2; the sum itself
              "torch": {"BCEWithLogitsLoss(weight) 'mean'": 0.273358, "BCEWithLogitsLoss(weight) 'sum'": 0.820075,
                        "CrossEntropyLoss(class weight) 'mean'": 0.693147}},  # 2 log 2 / 2
    snippet_tf="BinaryCrossentropy(from_logits=True, reduction='mean_with_sample_weight')(y, x, sample_weight=w)",
    snippet_torch="nn.BCEWithLogitsLoss(weight=w)(x, y)  # sum(w l) / N, like Keras' default",
    evidence="keras/src/losses/loss.py reduce_values ('mean' and 'sum_over_batch_size' divide by the number of "
             "elements, 'mean_with_sample_weight' by the sum of the weights); torch.nn.BCEWithLogitsLoss and "
             "torch.nn.CrossEntropyLoss docs (weight; the weighted mean formula of the latter)",
    mapping="Keras sum_over_batch_size <-> torch BCE(weight) mean; Keras mean_with_sample_weight <-> "
            "torch (l * w).sum() / w.sum()",
    applies_to=("loss:binary_crossentropy", "loss:sparse_categorical_crossentropy"),
    atol=ROUNDED,
))
