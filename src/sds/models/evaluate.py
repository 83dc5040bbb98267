"""The evaluation suite: a fitted model on held-out rows, every figure from scikit-learn
(or DeLong and fairlearn), the scorecard, and a report with the plots.

:func:`evaluate` needs the model, its ``model.json`` description (task, target, input
columns, threshold, protected columns) and the held-out rows; given the training rows too
it measures the train-test gap. What only training can know (learning curve, leakage
findings, the reproducibility refit, model comparison) comes in through ``extra``.
Permutation importance runs on at most ``importance_rows`` held-out rows (a seeded sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.errors import DataError, missing_column_error
from sds.models.config import ScorecardConfig
from sds.results import Result, Section, jsonable_dict

IMPORTANCE_ROWS = 5_000


@dataclass(frozen=True)
class Evaluation(Result):
    title: ClassVar[str] = "Model evaluation"
    report: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(self.report)

    @property
    def passed(self) -> bool:
        return all(r["pass"] for r in self.report["scorecard"])

    def sections(self) -> list[Section]:
        from sds.models.report import evaluation_sections

        return evaluation_sections(self.to_dict())


def predictions(model: Any, x: Any, task: str) -> np.ndarray:
    """Positive-class probability (binary), class probabilities (multiclass) or values."""
    if task == "binary":
        return np.asarray(model.predict_proba(x)[:, 1], dtype=float)
    if task == "multiclass":
        return np.asarray(model.predict_proba(x), dtype=float)
    return np.asarray(model.predict(x), dtype=float)


def positive(model: Any, y: pd.Series) -> np.ndarray:
    """The binary outcome as 0/1, 1 for the model's second class."""
    return np.asarray(y == model.classes_[1], dtype=int)


def main_score(model: Any, x: pd.DataFrame, y: pd.Series, task: str) -> float:
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    scores = predictions(model, x, task)
    if task == "binary":
        return float(roc_auc_score(positive(model, y), scores))
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
    extra: dict[str, Any] | None = None,
    seed: int = 0,
    source: str = "test data",
) -> Evaluation:
    """Evaluate ``model`` on ``test`` (and the gap against ``train``)."""
    from sds.models.scorecard import scorecard
    from sds.models.stability import gap, permutation_importance

    limits = limits or ScorecardConfig()
    task = meta["task"]
    from sds.models.inputs import checked_inputs

    x, y = inputs(test, meta, source)
    x, notes = checked_inputs(x, meta, source)
    report: dict[str, Any] = {
        "model": meta.get("name", "model"),
        "task": task,
        "target": meta["target"],
        "rows": len(test),
    }
    scores = predictions(model, x, task)
    report.update(_task_metrics(model, meta, y, scores, task, limits))
    protected = [c for c in meta.get("protected", []) if c in test.columns]
    if task == "binary" and protected:
        from sds.models.fairness import fairness

        report["fairness"] = fairness(
            positive(model, y),
            scores,
            meta.get("threshold", 0.5),
            test[protected],
            limits.fairness_max,
            limits.fairness_ratio_min,
        )
    train_score: float | None = meta.get("train_score")  # recorded at training
    if train is not None:
        x_train, y_train = inputs(train, meta, "training data")
        train_score = main_score(model, x_train, y_train, task)
    if train_score is not None:
        report["gap"] = gap(train_score, main_score(model, x, y, task), limits.gap_max)
    sample = x.sample(min(len(x), IMPORTANCE_ROWS), random_state=seed)
    report["importance"] = permutation_importance(
        model, sample, y.loc[sample.index], task, coverage=limits.importance_coverage, seed=seed
    )
    report.update(extra or {})
    report["scorecard"] = scorecard(report, limits)
    report["warnings"] = [
        *report.pop("data_warnings", []),  # from training: features left out
        *notes,
        *_warnings(report, limits.single_feature_share_max),
    ]
    return Evaluation(report)


def _task_metrics(
    model: Any,
    meta: dict[str, Any],
    y: pd.Series,
    scores: np.ndarray,
    task: str,
    limits: ScorecardConfig,
) -> dict[str, Any]:
    from sds.models.calibration import calibration
    from sds.models.metrics import binary_metrics, multiclass_metrics, regression_metrics
    from sds.models.plots import curve_points

    if task == "binary":
        y01 = positive(model, y)
        if len(np.unique(y01)) < 2:
            raise DataError("the test rows hold only one class", column=meta["target"])
        return {
            "positive_class": model.classes_[1],
            "metrics": binary_metrics(y01, scores, meta.get("threshold", 0.5)),
            "threshold_rule": meta.get("threshold_rule"),
            "calibration": calibration(y01, scores, tolerance=limits.calibration_tolerance),
            "roc": curve_points(y01, scores, "roc"),
            "pr": curve_points(y01, scores, "pr"),
        }
    if task == "multiclass":
        return {"metrics": multiclass_metrics(y, scores, model.classes_)}
    step = max(1, len(y) // 2000)
    residual = np.asarray(y, dtype=float) - scores
    return {
        "metrics": regression_metrics(y, scores),
        "residuals": {"predicted": scores[::step].tolist(), "residual": residual[::step].tolist()},
    }


def _warnings(report: dict[str, Any], share_max: float) -> list[str]:
    out = [f["warning"] for f in report.get("fairness") or [] if f.get("warning")]
    if report.get("gap", {}).get("overfit"):
        g = report["gap"]
        out.append(f"train-test gap {g['relative_gap']:.1%} is above {g['limit']:.0%}: overfitting")
    for f in report.get("leakage") or []:
        if f["drop"]:
            out.append(f"possible leak: {f['feature']} ({f['check']}: {f['evidence']})")
    imp = report.get("importance")
    if imp and imp["features"] and imp["top_share"] > share_max:
        out.append(
            f"{imp['features'][0]['feature']} holds {imp['top_share']:.0%} of permutation "
            "importance: check it is known at prediction time"
        )
    return out
