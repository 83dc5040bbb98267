"""Held-out metrics, all computed by scikit-learn on the predictions, and threshold choice.

Binary: ROC AUC with DeLong's interval (:mod:`sds.models.auc`), PR-AUC (average
precision), log loss, and at the chosen threshold the classification report and confusion
matrix. Multiclass: log loss, accuracy, macro F1, one-vs-rest AUC. Regression: RMSE, MAE,
R², and the residuals for plots.

The threshold is chosen on the validation split, never on test: the one with the best F1,
the lowest cost ``cost_fp * FP + cost_fn * FN``, the highest recall at a precision of at
least ``value`` (``precision``), the highest precision at a recall of at least ``value``
(``recall``), or ``value`` itself (``fixed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sds.errors import DataError
from sds.models.auc import auc_ci


def choose_threshold(
    y: Any, p: Any, by: str, value: float = 0.5, cost_fp: float = 1.0, cost_fn: float = 1.0
) -> dict[str, Any]:
    """The threshold (predict positive when ``p >= threshold``) and the figure it optimised."""
    from sklearn.metrics import precision_recall_curve

    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    if by == "fixed":
        return {"threshold": float(value), "by": by}
    if by == "cost":
        candidates = np.unique(p)
        positives = int(y.sum())
        costs = [
            cost_fp * int(((p >= t) & (y == 0)).sum()) + cost_fn * int(((p < t) & (y == 1)).sum())
            for t in candidates
        ]
        best = int(np.argmin(costs))
        # predicting no positive at all (threshold above every score) costs cost_fn * positives
        if cost_fn * positives < costs[best]:
            return {
                "threshold": float(np.nextafter(p.max(), 2)),
                "by": by,
                "cost": cost_fn * positives,
            }
        return {"threshold": float(candidates[best]), "by": by, "cost": float(costs[best])}
    precision, recall, thresholds = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    if by == "f1":
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
        best = int(np.argmax(f1))
        return {"threshold": float(thresholds[best]), "by": by, "f1": float(f1[best])}
    meets, goal = (
        (precision >= value, recall) if by == "precision" else (recall >= value, precision)
    )
    if not meets.any():
        raise DataError(
            f"no threshold reaches a {by} of {value} on the validation split",
            found=f"best {by}: {float((precision if by == 'precision' else recall).max()):.3f}",
            hint="Lower threshold.value, or choose threshold.by: f1.",
        )
    best = int(np.flatnonzero(meets)[np.argmax(goal[meets])])
    return {
        "threshold": float(thresholds[best]),
        "by": by,
        "target": value,
        "precision": float(precision[best]),
        "recall": float(recall[best]),
    }


def binary_metrics(y: Any, p: Any, threshold: float, alpha: float = 0.05) -> dict[str, Any]:
    """Discrimination and the decisions at ``threshold``."""
    from sklearn.metrics import (
        average_precision_score,
        classification_report,
        confusion_matrix,
        log_loss,
    )

    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    decided = (p >= threshold).astype(int)
    auc = auc_ci(y, p, alpha)
    report = classification_report(y, decided, output_dict=True, zero_division=0)
    return {
        "auc": auc["auc"],
        "auc_ci_lower": auc["ci_lower"],
        "auc_ci_upper": auc["ci_upper"],
        "auc_std_error": auc["std_error"],
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "threshold": float(threshold),
        "accuracy": float(report["accuracy"]),
        "precision": float(report["1"]["precision"]) if "1" in report else 0.0,
        "recall": float(report["1"]["recall"]) if "1" in report else 0.0,
        "f1": float(report["1"]["f1-score"]) if "1" in report else 0.0,
        "confusion": confusion_matrix(y, decided, labels=[0, 1]).tolist(),
        "report": _report_rows(report),
    }


def multiclass_metrics(y: Any, proba: Any, classes: Any) -> dict[str, Any]:
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
        log_loss,
        roc_auc_score,
    )

    y, proba, classes = np.asarray(y), np.asarray(proba, dtype=float), np.asarray(classes)
    decided = classes[np.argmax(proba, axis=1)]
    report = classification_report(y, decided, output_dict=True, zero_division=0)
    return {
        "log_loss": float(log_loss(y, proba, labels=classes)),
        "accuracy": float(accuracy_score(y, decided)),
        "macro_f1": float(f1_score(y, decided, average="macro")),
        "auc_ovr": float(roc_auc_score(y, proba, multi_class="ovr", labels=classes)),
        "confusion": confusion_matrix(y, decided, labels=classes).tolist(),
        "report": _report_rows(report),
    }


def regression_metrics(y: Any, predicted: Any) -> dict[str, Any]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    return {
        "rmse": float(np.sqrt(mean_squared_error(y, predicted))),
        "mae": float(mean_absolute_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
        "mean_residual": float(np.mean(y - predicted)),
    }


def _report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for label, values in report.items():
        if isinstance(values, dict):
            rows.append({"class": label, **{k.replace("-", "_"): v for k, v in values.items()}})
    return rows
