"""Records of the training catalog: one LossInfo, OptimizerInfo or ScheduleInfo per thing (commented field by field).

Registries (`LOSS_DB`, `OPTIMIZER_DB`, `SCHEDULE_DB`) are `equivalence.registry.Registry`s of these records;
generic tests parametrize over them with `pytest.param(info, id=info.id)`. Each record validates itself at
construction and the registry rejects duplicate ids, so a malformed entry fails at import with its id in the
message. The catalogue entries a record had to map around select it ('loss:<name or id>', 'optimizer:<...>'):
`differences.for_record("loss", info)`.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from ..registry import Record, RecordError

_ID = re.compile(r"^[a-z0-9_]+(-[a-z0-9_]+)*$")
REDUCTIONS = ("none", "sum", "mean")  # neutral names; each record maps them to both frameworks' spelling


MalformedEntry = RecordError  # the registries' one error type, under the name the training catalog always used


def _check_id(name: str, variant: str) -> list[str]:
    ident = f"{name}-{variant}" if variant else name
    return [] if _ID.match(ident) else [f"id {ident!r} is not lowercase snake_case joined by '-'"]


@dataclasses.dataclass(frozen=True)
class LossSample:
    """One drawn loss case: labels, predictions (float32) and optional weights (per sample or per class)."""

    y_true: Any  # np.ndarray: class indices (int64), one-hot/soft targets or regression targets
    y_pred: Any  # np.ndarray float32: logits, probabilities, log-probabilities or predictions
    weight: Any = None  # np.ndarray float64 of shape (N,) for 'sample' weighting, (C,) for 'class'

    def __repr__(self) -> str:  # short, so Hypothesis' falsifying example stays readable
        w = "" if self.weight is None else f", weight={list(self.weight)}"
        return f"LossSample(y_true={self.y_true.tolist()}, y_pred={self.y_pred.tolist()}{w})"

    def _repr_pretty_(self, printer, cycle):  # Hypothesis' printer would otherwise dump every dataclass field
        printer.text(repr(self))


class _Named(Record):
    """Ids read '<name>-<variant>'; each record validates itself at construction."""

    name: str
    variant: str

    @property
    def id(self) -> str:
        return f"{self.name}-{self.variant}" if self.variant else self.name

    def __post_init__(self):
        self.validate()


@dataclasses.dataclass(frozen=True, repr=False)
class LossInfo(_Named):
    REGISTRY = "loss registry"

    name: str  # neutral snake_case loss name: 'sparse_categorical_crossentropy'
    variant: str  # configuration: 'from_logits', 'label_smoothing'; '' for the plain form
    keras: Callable[..., Any]  # (y_true ndarray, y_pred tf tensor, keras_reduction, weight) -> tf tensor
    torch: Callable[..., Any]  # (y_true ndarray, y_pred torch tensor, torch_reduction, weight) -> torch tensor
    ref: Callable[..., Any]  # float64 NumPy: (y_true, y_pred) -> per-sample loss, shape (N,)
    samples: Callable[[], Any]  # () -> hypothesis strategy of LossSample
    reductions: dict[str, tuple[str, str]]  # neutral -> (Keras reduction, torch reduction)
    weighting: str | None = None  # 'sample' (weight per row), 'class' (per class index) or None
    mean_divisor: str = "count"  # neutral 'mean' divides by N ('count') or by the weights' sum ('weights')
    torch_ref: Callable[..., Any] | None = None  # torch's own formula where it differs OFF the samples (gradients)
    kink: Callable[..., float] | None = None  # (y_true, y_pred) -> distance to the nearest kink (grad tests keep away)
    grad_terms: Callable[..., Any] | None = None  # (y_true, y_pred float64) -> per element of y_pred, the size of the
    # terms d(per-sample loss)/d(y_pred) is computed from (they can cancel); None: 1, the probability-minus-target
    # form of the (softmax/sigmoid) cross-entropies. See losses.grad_term_scale.
    ulps: float = 4.0  # result ulps allowed beyond the depth term (raised only with the observed error beside it)
    mapping: str = ""  # how the two APIs are made to compute the same thing (shown in docs)

    def problems(self) -> list[str]:
        problems = _check_id(self.name, self.variant)
        problems += [f"reduction {r!r} is not one of {REDUCTIONS}" for r in self.reductions if r not in REDUCTIONS]
        if not self.reductions:
            problems.append("reductions is empty")
        if self.weighting not in (None, "sample", "class"):
            problems.append(f"weighting {self.weighting!r} is not None, 'sample' or 'class'")
        if self.mean_divisor not in ("count", "weights"):
            problems.append(f"mean_divisor {self.mean_divisor!r} is not 'count' or 'weights'")
        for field in ("keras", "torch", "ref", "samples"):
            if not callable(getattr(self, field)):
                problems.append(f"{field} is not callable")
        return problems


@dataclasses.dataclass(frozen=True, repr=False)
class OptimizerInfo(_Named):
    REGISTRY = "optimizer registry"

    name: str  # neutral optimizer name: 'adam'
    variant: str  # configuration: 'amsgrad', 'defaults', 'momentum_nesterov'
    hyper: dict[str, float]  # neutral hyperparameters (lr, beta1, beta2, eps, ...): the single source of truth
    keras: Callable[[dict], Any]  # hyper -> keras.optimizers.Optimizer
    torch: Callable[[list, dict], Any]  # (params, hyper) -> torch.optim.Optimizer
    ref_tf: Callable[[dict], Any]  # hyper -> RefOptimizer: float64 update rule as Keras writes it
    ref_torch: Callable[[dict], Any]  # hyper -> RefOptimizer: float64 update rule as torch writes it
    cross: bool = True  # the two frameworks must agree with each other under this mapping
    grad_scale: float = 1.0  # gradients are drawn with magnitudes up to this (tiny: makes epsilon visible)
    ulps: float = 16.0  # result ulps of an update in the older scalar `training.update_tolerance` (GPU test); the
    # CPU test derives its tolerance per rule and side (`ref_tf(h).float32_rtol(t)`, catalog/optimizers.py)
    mapping: str = ""  # how neutral hyperparameters become each API's arguments (shown in docs)

    def problems(self) -> list[str]:
        from ..differences import for_record  # the catalogue imports no catalog module: no cycle

        problems = _check_id(self.name, self.variant)
        if "lr" not in self.hyper:
            problems.append("hyper has no 'lr'")
        if not self.cross and not for_record("optimizer", self):
            problems.append("cross=False needs a KnownDifference that selects it ('optimizer:<name or id>') and "
                            "explains why the frameworks differ")
        for field in ("keras", "torch", "ref_tf", "ref_torch"):
            if not callable(getattr(self, field)):
                problems.append(f"{field} is not callable")
        return problems


@dataclasses.dataclass(frozen=True, repr=False)
class ScheduleInfo(_Named):
    REGISTRY = "schedule registry"

    name: str  # neutral schedule name: 'step', 'exponential', 'cosine'
    variant: str  # configuration: 'staircase', 'eta_min'
    keras: Callable[[], Any]  # () -> keras LearningRateSchedule (called with the optimizer iteration)
    torch: Callable[[Any], Any]  # (torch optimizer) -> torch LRScheduler (stepped once per iteration)
    ref: Callable[[int], float]  # float64 learning rate at iteration t (0-based)
    lr: float  # initial learning rate both sides start from
    steps: int = 12  # iterations compared
    mapping: str = ""

    def problems(self) -> list[str]:
        problems = _check_id(self.name, self.variant)
        if self.steps < 1 or self.lr <= 0:
            problems.append(f"steps={self.steps} and lr={self.lr} must be positive")
        return problems
