"""Overfitting and stability: the train-test gap, a learning curve, the spread of
cross-validated scores, and permutation importance with the features covering 90% of it.

The gap is relative: ``(train - test) / train`` of the task's main figure (AUC for binary,
accuracy for multiclass, R² for regression), flagged above 5%. Permutation importance is
scikit-learn's, on the held-out rows, repeated (default 5) with the seed; negative means
are counted as zero when shares are taken.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MAIN_SCORING = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}


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
    model: Any, x: pd.DataFrame, y: pd.Series, task: str, splitter: Any, seed: int = 0
) -> list[dict[str, Any]]:
    """Train and validation score at five training sizes (scikit-learn's
    ``learning_curve`` with the tuning folds)."""
    from sklearn.model_selection import learning_curve as sk_learning_curve

    sizes, train, valid = sk_learning_curve(
        model,
        x,
        y,
        train_sizes=np.linspace(0.2, 1.0, 5),
        cv=splitter,
        scoring=MAIN_SCORING[task],
        shuffle=task != "regression" and not hasattr(splitter, "max_train_size"),
        random_state=seed,
    )
    return [
        {
            "rows": int(n),
            "train": float(np.mean(t)),
            "validation": float(np.mean(v)),
            "validation_std": float(np.std(v, ddof=1)),
        }
        for n, t, v in zip(sizes, train, valid, strict=True)
    ]


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
