"""The evaluation suite: a fitted model on held-out rows, every figure from scikit-learn
(or DeLong and fairlearn), the scorecard, and a report with the plots.

:func:`evaluate` needs the model, its ``model.json`` description (task, target, input
columns, threshold, protected columns) and the held-out rows; given the training rows too
it measures the train-test gap. What only training can know (learning curve, leakage
findings, the reproducibility refit, model comparison) comes in through ``training``.
The result is typed: :class:`Evaluation` holds the records of :mod:`sds.models.records`.
Permutation importance runs on at most ``importance_rows`` held-out rows (a seeded sample).

Binary figures count the positive class recorded in ``model.json`` as 1 (the class the
model's probability is for, :mod:`sds.models.positive`); ``positive`` (``--positive``) may
only confirm it. A model saved before it was recorded keeps the label sorted second, and
says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.errors import DataError, missing_column_error
from sds.models.calibration import calibration
from sds.models.config import ScorecardConfig
from sds.models.fairness import fairness
from sds.models.inputs import checked_inputs
from sds.models.metrics import binary_metrics, multiclass_metrics, regression_metrics
from sds.models.plots import curve_points
from sds.models.positive import evaluation_positive, outcome
from sds.models.records import (
    BinaryMetrics,
    Calibration,
    Criterion,
    Curve,
    FairnessCheck,
    Importance,
    Metrics,
    MulticlassMetrics,
    RegressionMetrics,
    Residuals,
    Scalar,
    ThresholdRule,
    TrainTestGap,
    frozen,
    plain,
    records,
)
from sds.models.report import evaluation_sections
from sds.models.scorecard import scorecard, undecided_warnings
from sds.models.stability import gap, permutation_importance
from sds.models.training_records import TrainingChecks
from sds.results import Result, Section, jsonable_dict

IMPORTANCE_ROWS = 5_000


@dataclass(frozen=True)
class Evaluation(Result):
    """A model on held-out rows: the task's metrics, calibration, fairness, the train-test
    gap and importance, what training added (``training``), the scorecard and warnings."""

    title: ClassVar[str] = "Model evaluation"
    model: str
    task: str
    target: str
    rows: int
    metrics: Metrics
    importance: Importance
    scorecard: tuple[Criterion, ...] = ()
    warnings: tuple[str, ...] = ()
    positive_class: Scalar = None
    positive_rule: str | None = None  # why that class: configured, the label 1 ...
    threshold_rule: ThresholdRule | None = None
    calibration: Calibration | None = None
    roc: Curve | None = None
    pr: Curve | None = None
    residuals: Residuals | None = None
    fairness: tuple[FairnessCheck, ...] | None = None  # binary, with protected columns
    gap: TrainTestGap | None = None
    training: TrainingChecks | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.scorecard)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model,
            "task": self.task,
            "target": self.target,
            "rows": self.rows,
        }
        if self.task == "binary":
            d["positive_class"] = self.positive_class
            d["positive_rule"] = self.positive_rule
        d["metrics"] = self.metrics
        if self.task == "binary":
            d |= {"threshold_rule": self.threshold_rule, "calibration": self.calibration}
            d |= {"roc": self.roc, "pr": self.pr}
        if self.task == "regression":
            d["residuals"] = self.residuals
        optional = {"fairness": self.fairness, "gap": self.gap}
        d |= {k: v for k, v in optional.items() if v is not None}
        d["importance"] = self.importance
        t = self.training
        if t is not None:
            if t.recalibration is not None:
                d["recalibration"] = t.recalibration
            d |= {"leakage": t.leakage, "learning_curve": t.learning_curve, "cv": t.cv}
            d |= {"reproducibility": t.reproducibility, "comparison": t.comparison}
            d["resampling"] = t.resampling  # the folds of the curve, spread and comparison
        d |= {"scorecard": self.scorecard, "warnings": self.warnings}
        return jsonable_dict({k: plain(v) for k, v in d.items()})

    def sections(self) -> list[Section]:
        return evaluation_sections(self.to_dict())


def predictions(model: Any, x: Any, task: str) -> np.ndarray:
    """Positive-class probability (binary), class probabilities (multiclass) or values."""
    if task == "binary":
        return np.asarray(model.predict_proba(x)[:, 1], dtype=float)
    if task == "multiclass":
        return np.asarray(model.predict_proba(x), dtype=float)
    return np.asarray(model.predict(x), dtype=float)


def main_score(
    model: Any, x: pd.DataFrame, y: pd.Series, task: str, positive_class: Any = None
) -> float:
    """The task's main figure: AUC of ``positive_class`` (binary), accuracy, or R²."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    scores = predictions(model, x, task)
    if task == "binary":
        return float(roc_auc_score(outcome(y, positive_class), scores))
    if task == "multiclass":
        return float(accuracy_score(y, model.classes_[np.argmax(scores, axis=1)]))
    return float(r2_score(y, scores))


def inputs(frame: pd.DataFrame, meta: dict[str, Any], source: str) -> tuple[pd.DataFrame, Any]:
    """The model's input columns and the target from ``frame``, with clear errors."""
    target = meta["target"]
    for column in [*meta["features"], target]:
        if column not in frame.columns:
            raise missing_column_error(column, list(frame.columns), source)
    y = frame[target]
    if y.isna().any():
        raise DataError("the target has missing values", column=target, source=source)
    return frame[meta["features"]], y


def evaluate(
    model: Any,
    meta: dict[str, Any],
    test: pd.DataFrame,
    *,
    train: pd.DataFrame | None = None,
    limits: ScorecardConfig | None = None,
    training: TrainingChecks | None = None,
    seed: int = 0,
    source: str = "test data",
    positive: Any = None,
) -> Evaluation:
    """Evaluate ``model`` on ``test`` (and the gap against ``train``); ``seed`` samples and
    permutes for the importance (``sds train`` passes the run's, ``sds evaluate`` the one
    in ``model.json``); ``positive`` confirms the model's positive class."""
    limits = limits or ScorecardConfig()
    task = meta["task"]
    x, y = inputs(test, meta, source)
    x, notes = checked_inputs(x, meta, source)
    label, rule = evaluation_positive(task, meta, model, positive)
    y_model = _as_model_sees(y, label, task)  # 0/1 for binary: what the model was scored on
    scores = predictions(model, x, task)
    parts = _task_parts(model, meta, y, scores, task, limits, label, rule)
    protected = [c for c in meta.get("protected", []) if c in test.columns]
    if task == "binary" and protected:
        found = fairness(
            y_model.to_numpy(),
            scores,
            meta.get("threshold", 0.5),
            test[protected],
            limits.fairness_max,
            limits.fairness_ratio_min,
            limits.alpha,
        )
        parts["fairness"] = records(FairnessCheck, found)
    train_score: float | None = meta.get("train_score")  # recorded at training
    if train is not None:
        x_train, y_train = inputs(train, meta, "training data")
        train_score = main_score(model, x_train, y_train, task, label)
    if train_score is not None:
        found_gap = gap(train_score, main_score(model, x, y, task, label), limits.gap_max)
        parts["gap"] = TrainTestGap.from_dict(found_gap)
    sample = x.sample(min(len(x), IMPORTANCE_ROWS), random_state=seed)
    importance = permutation_importance(
        model,
        sample,
        y_model.loc[sample.index],
        task,
        coverage=limits.importance_coverage,
        seed=seed,
    )
    ev = Evaluation(
        model=str(meta.get("name", "model")),
        task=task,
        target=meta["target"],
        rows=len(test),
        importance=Importance.from_dict(importance),
        training=training,
        **parts,
    )
    card = records(Criterion, scorecard(ev.to_dict(), limits))
    warnings = (
        *(training.data_warnings if training else ()),  # from training: features left out
        *notes,
        *_warnings(ev, limits.single_feature_share_max),
        *undecided_warnings(card),  # criteria the test rows cannot decide
    )
    return replace(ev, scorecard=card, warnings=tuple(warnings))


def _task_parts(
    model: Any,
    meta: dict[str, Any],
    y: pd.Series,
    scores: np.ndarray,
    task: str,
    limits: ScorecardConfig,
    label: Any = None,
    why: str | None = None,
) -> dict[str, Any]:
    """The task's metrics, and its curves (binary) or residuals (regression); binary
    figures count ``label`` (the model's positive class, chosen by ``why``) as 1."""
    if task == "binary":
        y01 = outcome(y, label)
        if len(np.unique(y01)) < 2:
            raise DataError("the test rows hold only one class", column=meta["target"])
        rule = meta.get("threshold_rule")
        return {
            "positive_class": frozen(label),
            "positive_rule": why,
            "metrics": BinaryMetrics.from_dict(
                binary_metrics(y01, scores, meta.get("threshold", 0.5))
            ),
            "threshold_rule": ThresholdRule.from_dict(rule) if rule is not None else None,
            "calibration": Calibration.from_dict(
                calibration(y01, scores, tolerance=limits.calibration_tolerance, alpha=limits.alpha)
            ),
            "roc": Curve.of(curve_points(y01, scores, "roc")),
            "pr": Curve.of(curve_points(y01, scores, "pr")),
        }
    if task == "multiclass":
        return {
            "metrics": MulticlassMetrics.from_dict(multiclass_metrics(y, scores, model.classes_))
        }
    step = max(1, len(y) // 2000)
    residual = np.asarray(y, dtype=float) - scores
    return {
        "metrics": RegressionMetrics.from_dict(regression_metrics(y, scores)),
        "residuals": Residuals(tuple(scores[::step].tolist()), tuple(residual[::step].tolist())),
    }


def _as_model_sees(y: pd.Series, label: Any, task: str) -> pd.Series:
    """The target as the model was fitted on it: 0/1 for the positive class (binary),
    else as it is; the index kept, so a sample of rows picks the same outcomes."""
    if task != "binary":
        return y
    return pd.Series(outcome(y, label), index=y.index, name=y.name)


def _warnings(ev: Evaluation, share_max: float) -> list[str]:
    out = [f.warning for f in ev.fairness or () if f.warning]
    if ev.gap is not None and ev.gap.overfit:
        g = ev.gap
        out.append(f"train-test gap {g.relative_gap:.1%} is above {g.limit:.0%}: overfitting")
    for f in ev.training.leakage if ev.training else ():
        if f.drop:
            out.append(f"possible leak: {f.feature} ({f.check}: {f.evidence})")
    imp = ev.importance
    if imp.features and imp.top_share > share_max:
        out.append(
            f"{imp.features[0].feature} holds {imp.top_share:.0%} of permutation "
            "importance: check it is known at prediction time"
        )
    return out
