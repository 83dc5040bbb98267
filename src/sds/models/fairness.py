"""Fairness across protected groups, computed by fairlearn.

Per group of each protected column: rows, selection rate, TPR, FPR (at the decision
threshold) and AUC (when the group holds both outcomes); then the demographic-parity
difference (largest gap in selection rate between groups) and the equalized-odds
difference (the larger of the largest TPR gap and the largest FPR gap), and the
demographic-parity ratio (lowest selection rate over the highest). A difference above
``limit`` (default 0.10) or a ratio below ``ratio_min`` (0.8, the four-fifths rule of US
employment practice) gives a warning: the model treats the groups differently, whether or
not the protected column is a feature (a proxy such as region is enough).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def fairness(
    y: Any,
    p: Any,
    threshold: float,
    groups: pd.DataFrame,
    limit: float = 0.10,
    ratio_min: float = 0.8,
) -> list[dict[str, Any]]:
    """One entry per protected column: per-group table, the two differences, a warning."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    decided = (p >= threshold).astype(int)
    out = []
    for column in groups.columns:
        sensitive = groups[column].astype("string").fillna("(missing)").to_numpy()
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "count": lambda t, _: len(t),
            },
            y_true=y,
            y_pred=decided,
            sensitive_features=sensitive,
        )
        table = frame.by_group.reset_index().rename(columns={"sensitive_feature_0": "group"})
        table["auc"] = [_group_auc(y, p, sensitive == g) for g in table["group"]]
        dp = float(demographic_parity_difference(y, decided, sensitive_features=sensitive))
        eo = float(equalized_odds_difference(y, decided, sensitive_features=sensitive))
        ratio = float(demographic_parity_ratio(y, decided, sensitive_features=sensitive))
        out.append(
            {
                "column": column,
                "groups": table.to_dict("records"),
                "demographic_parity_difference": dp,
                "equalized_odds_difference": eo,
                "demographic_parity_ratio": ratio,
                "limit": limit,
                "ratio_min": ratio_min,
                "warning": _warning(column, max(dp, eo), ratio, limit, ratio_min),
            }
        )
    return out


def _warning(column: str, worst: float, ratio: float, limit: float, ratio_min: float) -> str | None:
    found = []
    if worst > limit:
        found.append(f"selection or error rates differ by {worst:.3f} (limit {limit})")
    if ratio < ratio_min:
        found.append(
            f"the lowest selection rate is {ratio:.0%} of the highest (at least "
            f"{ratio_min:.0%} expected)"
        )
    return f"{column}: " + "; ".join(found) if found else None


def _group_auc(y: np.ndarray, p: np.ndarray, inside: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y[inside])) < 2:
        return None
    return float(roc_auc_score(y[inside], p[inside]))
