"""Overfitting and stability: the train-test gap, a learning curve, the spread of
cross-validated scores, and permutation importance with the features covering 90% of it.

The learning curve is fitted and scored on the run's resampling plan
(:mod:`sds.models.resampling`), the folds tuning used. The gap is relative:
``(train - test) / train`` of the task's main figure (AUC for binary, accuracy for
multiclass, R² for regression), flagged above 5%. Permutation importance is
scikit-learn's, on the held-out rows, repeated (default 5) with the seed; negative means
are counted as zero when shares are taken.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sds.models.resampling import ResamplingPlan

MAIN_SCORING = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
CURVE_SHARES = (0.2, 0.4, 0.6, 0.8, 1.0)  # of each fold's fit rows


def gap(train_score: float, test_score: float, limit: float = 0.05) -> dict[str, Any]:
    relative = (train_score - test_score) / abs(train_score) if train_score else 0.0
    return {
        "train": float(train_score),
        "test": float(test_score),
        "relative_gap": float(relative),
        "limit": limit,
        "overfit": bool(relative > limit),
    }


def learning_curve(
    model: Any, x: pd.DataFrame, y: pd.Series, task: str, plan: ResamplingPlan
) -> list[dict[str, Any]]:
    """Train and validation score at five shares (20% to 100%) of each fold's fit rows,
    scored on that fold's score rows of the run's resampling ``plan``. The smaller fit sets
    never break time order or groups (:meth:`ResamplingPlan.fit_subset`): forward-chained
    folds keep the MOST RECENT rows of each fit block (the distance to the score block stays
    the plan's), grouped folds keep whole groups, other folds a seeded stratified (or
    shuffled) sample. ``rows`` is the mean fit size over the folds."""
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    scorer = get_scorer(MAIN_SCORING[task])
    folds = list(plan.split(x))
    out = []
    for share in CURVE_SHARES:
        sizes, train, valid = [], [], []
        for fit, score in folds:
            rows = plan.fit_subset(fit, share, y)
            fitted = clone(model).fit(x.iloc[rows], y.iloc[rows])
            sizes.append(len(rows))
            train.append(float(scorer(fitted, x.iloc[rows], y.iloc[rows])))
            valid.append(float(scorer(fitted, x.iloc[score], y.iloc[score])))
        out.append(
            {
                "rows": round(float(np.mean(sizes))),
                "train": float(np.mean(train)),
                "validation": float(np.mean(valid)),
                "validation_std": float(np.std(valid, ddof=1)),
            }
        )
    return out


def permutation_importance(
    model: Any,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    *,
    repeats: int = 5,
    coverage: float = 0.90,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean and std of the drop in the main score when each input column is shuffled, and
    the fewest features that cover ``coverage`` of the total."""
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    found = sk_permutation_importance(
        model, x, y, scoring=MAIN_SCORING[task], n_repeats=repeats, random_state=seed
    )
    means = np.clip(found.importances_mean, 0, None)
    order = np.argsort(-means, kind="stable")
    total = float(means.sum())
    shares = means[order] / total if total > 0 else np.zeros(len(order))
    cumulative = np.cumsum(shares)
    needed = int(np.searchsorted(cumulative, coverage - 1e-12) + 1) if total > 0 else 0
    rows = [
        {
            "feature": str(x.columns[i]),
            "importance": float(found.importances_mean[i]),
            "std": float(found.importances_std[i]),
            "share": float(s),
            "cumulative_share": float(c),
        }
        for i, s, c in zip(order, shares, cumulative, strict=True)
    ]
    return {
        "features": rows,
        "repeats": repeats,
        "coverage": coverage,
        "features_for_coverage": min(needed, len(rows)),
        "top_share": float(shares[0]) if len(shares) else 0.0,
    }
