"""Typed, frozen records of what only training (or serving) can tell: the candidates, the
checks run on the training rows, the model comparisons and the deployment check.

Records as in :mod:`sds.models.records`: frozen, hashable, ``to_dict()`` the JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sds.models.records import Criterion, Pairs, Record, records
from sds.models.resampling import ResamplingRecord


@dataclass(frozen=True)
class CandidateRow(Record):
    """One candidate: its tuned parameters, cross-validated and validation scores, and the
    tuning trials run (and pruned)."""

    name: str
    params: Pairs
    scoring: str
    cv_mean: float
    cv_std: float
    trials: int
    pruned: int
    validation: float


@dataclass(frozen=True)
class RecalibrationRow(Record):
    model: str
    brier: float
    ece: float
    deciles_within: bool


@dataclass(frozen=True)
class LeakageFinding(Record):
    feature: str
    check: str
    evidence: str
    drop: bool


@dataclass(frozen=True)
class LearningPoint(Record):
    rows: int
    train: float
    validation: float
    validation_std: float


@dataclass(frozen=True)
class CvSpread(Record):
    """The chosen candidate's cross-validated scores."""

    scoring: str
    folds: int
    mean: float
    std: float
    min: float
    max: float


@dataclass(frozen=True)
class Reproducibility(Record):
    max_abs_difference: float


@dataclass(frozen=True)
class ModelComparison(Record):
    """Two candidates: corrected resampled t-test on training folds, DeLong on test."""

    optional: ClassVar[tuple[str, ...]] = ("test_auc_difference", "delong_p_value")
    model_a: str
    model_b: str
    cv_mean_difference: float
    cv_t: float
    cv_df: float
    cv_p_value: float
    test_auc_difference: float | None = None
    delong_p_value: float | None = None


@dataclass(frozen=True)
class TrainingChecks:
    """What training adds to the evaluation: recalibration, leakage on the training rows,
    the learning curve, the cross-validated spread, the refit, the comparison, and the
    resampling plan whose folds the curve, the spread, tuning and the comparison used."""

    recalibration: tuple[RecalibrationRow, ...] | None
    leakage: tuple[LeakageFinding, ...]
    learning_curve: tuple[LearningPoint, ...]
    cv: CvSpread
    reproducibility: Reproducibility
    comparison: tuple[ModelComparison, ...]
    resampling: ResamplingRecord
    data_warnings: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        recalibration: list[dict[str, Any]] | None,
        leakage: list[dict[str, Any]],
        learning_curve: list[dict[str, Any]],
        cv: dict[str, Any],
        max_abs_difference: float,
        comparison: list[dict[str, Any]],
        resampling: ResamplingRecord,
        data_warnings: tuple[str, ...] = (),
    ) -> TrainingChecks:
        return cls(
            records(RecalibrationRow, recalibration) if recalibration is not None else None,
            records(LeakageFinding, leakage),
            records(LearningPoint, learning_curve),
            CvSpread.from_dict(cv),
            Reproducibility(float(max_abs_difference)),
            records(ModelComparison, comparison),
            resampling,
            tuple(data_warnings),
        )


@dataclass(frozen=True)
class DelongComparison(Record):
    """Two saved binary models scored on the same rows: DeLong's test of their AUCs."""

    model_a: str
    model_b: str
    auc_a: float
    auc_b: float
    difference: float
    z: float
    p_value: float


@dataclass(frozen=True)
class LoadSummary(Record):
    requests: int
    errors: int
    error_rate: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class DeploymentCheck(Record):
    """A model behind the real server: latency, error rate and online = offline."""

    nested: ClassVar[dict[str, type[Record]]] = {"criteria": Criterion, "load": LoadSummary}
    criteria: tuple[Criterion, ...]
    load: LoadSummary
    rows_compared: int
    connections: int
    workers: int

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)
