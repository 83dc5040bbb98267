"""Typed, frozen records of a model evaluation: discrimination, calibration, fairness,
the train-test gap, importance, the decision threshold and the scorecard.

Every record is a frozen dataclass holding numbers, strings, tuples and other records (no
lists or dicts), so it is hashable; ``to_dict()`` gives the JSON shape the reports read, one
key per field (``key_names`` renames the few whose JSON key is not a Python name, such as
``class`` and ``pass``), and ``from_dict()`` builds a record from that shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

Scalar = str | int | float | bool | None
R = TypeVar("R", bound="Record")


def plain(value: Any) -> Any:
    """A record, a tuple of them or a scalar as JSON-shaped data (tuples become lists)."""
    if isinstance(value, Record | Pairs):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def frozen(value: Any) -> Any:
    """JSON-shaped data as hashable data: lists become tuples, numpy scalars Python ones."""
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    if isinstance(value, Mapping):
        return Pairs.of(value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


@dataclass(frozen=True)
class Pairs:
    """An ordered, hashable mapping of names to scalars (hyperparameters, load figures)."""

    items: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Pairs:
        return cls(tuple((str(k), frozen(v)) for k, v in mapping.items()))

    def to_dict(self) -> dict[str, Any]:
        return {k: plain(v) for k, v in self.items}

    def __getitem__(self, key: str) -> Any:
        for k, v in self.items:
            if k == key:
                return v
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self.items if k == key), default)


class Record:
    """Base of the frozen records: ``to_dict()`` / ``from_dict()`` over the fields.

    ``key_names`` maps a field to its JSON key; fields named in ``optional`` are left out
    of ``to_dict()`` when ``None`` (keys the producing function only sometimes writes).
    """

    key_names: ClassVar[dict[str, str]] = {}
    optional: ClassVar[tuple[str, ...]] = ()
    nested: ClassVar[dict[str, type[Record]]] = {}  # fields holding records (or tuples)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self.optional:
                continue
            out[self.key_names.get(f.name, f.name)] = plain(value)
        return out

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = cls.key_names.get(f.name, f.name)
            if key not in data:
                continue
            value = data[key]
            kind = cls.nested.get(f.name)
            if kind is not None and value is not None:
                value = (
                    tuple(kind.from_dict(v) for v in value)
                    if isinstance(value, Sequence)
                    else kind.from_dict(value)
                )
            values[f.name] = frozen(value)
        return cls(**values)


def records(kind: type[R], rows: Sequence[Mapping[str, Any]] | None) -> tuple[R, ...]:
    """A tuple of records from a list of JSON-shaped rows."""
    return tuple(kind.from_dict(r) for r in rows or ())


@dataclass(frozen=True)
class ClassReport(Record):
    """One row of scikit-learn's classification report (a class or an average)."""

    key_names: ClassVar[dict[str, str]] = {"label": "class"}
    label: str
    precision: float
    recall: float
    f1_score: float
    support: float


@dataclass(frozen=True)
class BinaryMetrics(Record):
    """Discrimination (AUC with DeLong's interval, PR-AUC, log loss) and the decisions at
    the threshold."""

    nested: ClassVar[dict[str, type[Record]]] = {"report": ClassReport}
    auc: float
    auc_ci_lower: float
    auc_ci_upper: float
    auc_std_error: float
    pr_auc: float
    log_loss: float
    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    confusion: tuple[tuple[int, ...], ...]
    report: tuple[ClassReport, ...]


@dataclass(frozen=True)
class MulticlassMetrics(Record):
    nested: ClassVar[dict[str, type[Record]]] = {"report": ClassReport}
    log_loss: float
    accuracy: float
    macro_f1: float
    auc_ovr: float
    confusion: tuple[tuple[int, ...], ...]
    report: tuple[ClassReport, ...]


@dataclass(frozen=True)
class RegressionMetrics(Record):
    rmse: float
    mae: float
    r2: float
    mean_residual: float


Metrics = BinaryMetrics | MulticlassMetrics | RegressionMetrics
METRICS: dict[str, type[Record]] = {
    "binary": BinaryMetrics,
    "multiclass": MulticlassMetrics,
    "regression": RegressionMetrics,
}


@dataclass(frozen=True)
class ThresholdRule(Record):
    """The decision threshold and the figure it optimised on the validation split."""

    optional: ClassVar[tuple[str, ...]] = ("cost", "f1", "target", "precision", "recall")
    threshold: float | None
    by: str | None
    cost: float | None = None
    f1: float | None = None
    target: float | None = None
    precision: float | None = None
    recall: float | None = None


@dataclass(frozen=True)
class CalibrationBin(Record):
    """One decile: its mean prediction, observed rate and gap (observed minus predicted)
    with the gap's interval, the seed's rule (``within``) and the verdict."""

    bin: int
    rows: int
    predicted: float
    observed: float
    gap: float
    gap_ci_lower: float
    gap_ci_upper: float
    within: bool
    verdict: str


@dataclass(frozen=True)
class Calibration(Record):
    """Brier score with its interval, expected calibration error, the decile table, the
    seed's rule (``within_tolerance``: every decile's gap within ``tolerance``) and the
    verdict on the deciles' ``1 - 2 * alpha`` intervals, with the test rows that would
    decide a ``not enough data``."""

    nested: ClassVar[dict[str, type[Record]]] = {"deciles": CalibrationBin}
    brier: float
    brier_ci_lower: float
    brier_ci_upper: float
    ece: float
    deciles: tuple[CalibrationBin, ...]
    within_tolerance: bool
    tolerance: float
    alpha: float
    verdict: str
    rows_needed: int | None


@dataclass(frozen=True)
class Curve(Record):
    """Points of a ROC (``fpr``, ``tpr``) or precision-recall (``recall``, ``precision``)
    curve."""

    x_name: str
    x: tuple[float, ...]
    y_name: str
    y: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {self.x_name: list(self.x), self.y_name: list(self.y)}

    @classmethod
    def of(cls, points: Mapping[str, Sequence[float]]) -> Curve:
        (x_name, x), (y_name, y) = points.items()
        return cls(x_name, tuple(map(float, x)), y_name, tuple(map(float, y)))


@dataclass(frozen=True)
class Residuals(Record):
    predicted: tuple[float, ...]
    residual: tuple[float, ...]


@dataclass(frozen=True)
class Criterion(Record):
    """One scorecard (or deployment) criterion: its estimate (``value``) with its
    ``1 - 2 * alpha`` interval (None where the figure is exact), the threshold, the
    ``verdict`` decided on the interval (:mod:`sds.models.verdict`), the seed's
    ``plain_rule`` on the point estimate, the test rows that would decide a ``not enough
    data``, and ``passed`` (the verdict is not ``fail``).

    ``Criterion(criterion, value, threshold, passed)`` is an exact criterion: its verdict
    and plain rule are ``pass`` or ``fail`` as ``passed`` says.
    """

    key_names: ClassVar[dict[str, str]] = {"passed": "pass"}
    order: ClassVar[tuple[str, ...]] = (
        "criterion",
        "value",
        "ci_lower",
        "ci_upper",
        "threshold",
        "verdict",
        "plain_rule",
        "rows_needed",
        "passed",
    )
    criterion: str
    value: Scalar
    threshold: str
    passed: bool
    ci_lower: float | None = None
    ci_upper: float | None = None
    verdict: str = ""
    plain_rule: str = ""
    rows_needed: int | None = None

    def __post_init__(self) -> None:
        exact = "pass" if self.passed else "fail"
        if not self.verdict:
            object.__setattr__(self, "verdict", exact)
        if not self.plain_rule:
            object.__setattr__(self, "plain_rule", exact)
        if self.verdict not in ("pass", "fail", "not enough data"):
            raise ValueError(f"verdict == {self.verdict!r}, not a verdict")
        if self.passed != (self.verdict != "fail"):
            raise ValueError(f"passed == {self.passed} contradicts verdict {self.verdict!r}")

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        return {self.key_names.get(k, k): d[self.key_names.get(k, k)] for k in self.order}


@dataclass(frozen=True)
class FairnessGroup(Record):
    group: str
    selection_rate: float
    tpr: float
    fpr: float
    count: float
    auc: float | None


@dataclass(frozen=True)
class FairnessCheck(Record):
    """One protected column: per-group rates, the parity differences and ratio, and the
    three criteria decided on their intervals (demographic parity, equalized odds, the
    selection-rate ratio)."""

    nested: ClassVar[dict[str, type[Record]]] = {"groups": FairnessGroup, "criteria": Criterion}
    column: str
    groups: tuple[FairnessGroup, ...]
    demographic_parity_difference: float
    equalized_odds_difference: float
    demographic_parity_ratio: float
    limit: float
    ratio_min: float
    warning: str | None
    criteria: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class TrainTestGap(Record):
    """The overfitting gap of the task's main figure."""

    train: float
    test: float
    relative_gap: float
    limit: float
    overfit: bool


@dataclass(frozen=True)
class FeatureImportance(Record):
    feature: str
    importance: float
    std: float
    share: float
    cumulative_share: float


@dataclass(frozen=True)
class Importance(Record):
    """Permutation importance and the fewest features covering ``coverage`` of it."""

    nested: ClassVar[dict[str, type[Record]]] = {"features": FeatureImportance}
    features: tuple[FeatureImportance, ...]
    repeats: int
    coverage: float
    features_for_coverage: int
    top_share: float
