"""Comparing two or more models: a corrected resampled t-test across the same folds, and
DeLong's test on the same test rows.

Scores from overlapping training sets are correlated, so the plain paired t-test on fold
scores rejects far too often. Nadeau and Bengio (2003) correct the variance of the mean
difference from ``s² / J`` to ``s² (1/J + n_test/n_train)``; the statistic is referred to
Student's t with ``J - 1`` degrees of freedom, where ``J`` is the number of folds. The
models are refitted on the folds of the run's resampling plan (:mod:`sds.models.resampling`:
forward-chained in time order, grouped, or stratified, as the split was), the folds tuning
and the learning curve used, so their scores pair up and no fold scores rows whose group
or future was fitted on; ``n_test`` and ``n_train`` are the plan's mean score and fit rows
per fold (forward-chained folds differ in fit size).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.models.auc import delong_test
from sds.models.resampling import ResamplingPlan
from sds.models.stability import MAIN_SCORING
from sds.models.tune import cv_scores


def corrected_ttest(
    scores_a: Any, scores_b: Any, n_train: float, n_test: float
) -> dict[str, float]:
    """Nadeau-Bengio corrected resampled t-test that two models score the same."""
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise DataError("the two models need scores on the same folds (at least 2)")
    diff = a - b
    j = len(diff)
    variance = float(np.var(diff, ddof=1)) * (1 / j + n_test / n_train)
    mean = float(diff.mean())
    if variance == 0:
        t = 0.0 if mean == 0 else float(np.sign(mean) * np.inf)
    else:
        t = mean / np.sqrt(variance)
    return {
        "mean_difference": mean,
        "t": float(t),
        "df": float(j - 1),
        "p_value": float(2 * stats.t.sf(abs(t), j - 1)),
    }


def fold_scores(
    models: dict[str, Any], x: Any, y: Any, task: str, plan: ResamplingPlan
) -> tuple[dict[str, list[float]], float, float]:
    """Each model's main score on the plan's folds, and the mean fit and score rows per
    fold."""
    scoring = MAIN_SCORING[task]
    out = {name: cv_scores(m, x, y, plan, scoring) for name, m in models.items()}
    n_train = float(np.mean([len(fit) for fit, _ in plan.folds]))
    n_test = float(np.mean([len(score) for _, score in plan.folds]))
    return out, n_train, n_test


def compare(
    models: dict[str, Any],
    x_train: Any,
    y_train: Any,
    task: str,
    *,
    plan: ResamplingPlan,
    test_scores: dict[str, Any] | None = None,
    y_test: Any = None,
) -> list[dict[str, Any]]:
    """Every pair of models: corrected t-test on the plan's folds of the training rows,
    and (binary, with test scores) DeLong's test on the test rows."""

    scores, n_train, n_test = fold_scores(models, x_train, y_train, task, plan)
    rows = []
    for a, b in itertools.combinations(models, 2):
        row: dict[str, Any] = {"model_a": a, "model_b": b}
        cv = corrected_ttest(scores[a], scores[b], n_train, n_test)
        row.update({f"cv_{k}": v for k, v in cv.items()})
        if task == "binary" and test_scores is not None and y_test is not None:
            d = delong_test(y_test, test_scores[a], test_scores[b])
            row.update({"test_auc_difference": d["difference"], "delong_p_value": d["p_value"]})
        rows.append(row)
    return rows
