"""Leakage checks: features that know the answer, each reported with its evidence.

- **Too good alone**: a shallow tree on the one feature, scored out of fold (3 folds,
  ``cross_val_predict``): ROC AUC above 0.95 (classification) or R² above 0.9 (regression)
  means the feature almost is the target; real predictors rarely are.
- **Measured too late**: a time column with values at or after the label time.
- **Echoes the target's name**: a feature whose name contains the target's name or one of
  its words (reported; not proof on its own, so not dropped).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

AUC_LIMIT = 0.95
R2_LIMIT = 0.9


def task_of(y: pd.Series) -> str:
    """``binary``, ``multiclass`` or ``regression`` from the target's values."""
    values = y.dropna().unique()
    if len(values) == 2:
        return "binary"
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if numeric and (len(values) > 10 or not np.allclose(values, np.round(values))):
        return "regression"
    return "multiclass"


def encode(x: pd.Series) -> np.ndarray:
    """A numeric column for trees: numbers as floats, anything else as category codes
    (missing stays NaN, which scikit-learn's trees route on their own)."""
    if pd.api.types.is_bool_dtype(x) or pd.api.types.is_numeric_dtype(x):
        return x.astype(float).to_numpy()
    if pd.api.types.is_datetime64_any_dtype(x):
        return (x.astype("int64") / 86_400e9).where(x.notna()).to_numpy(dtype=float)
    codes = x.astype("category").cat.codes.to_numpy(dtype=float)
    codes[codes < 0] = np.nan
    return codes


def single_feature_score(x: pd.Series, y: pd.Series, task: str, seed: int = 0) -> float:
    """Out-of-fold AUC (classification; one-vs-rest for several classes) or R² of a depth-4
    tree on this feature alone."""
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    features = encode(x).reshape(-1, 1)
    if task == "regression":
        folds = KFold(3, shuffle=True, random_state=seed)
        tree = DecisionTreeRegressor(max_depth=4, min_samples_leaf=20, random_state=seed)
        predicted = cross_val_predict(tree, features, y, cv=folds)
        return float(r2_score(y, predicted))
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    classifier = DecisionTreeClassifier(max_depth=4, min_samples_leaf=20, random_state=seed)
    proba = cross_val_predict(classifier, features, y, cv=folds, method="predict_proba")
    if task == "binary":
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr"))


def name_echoes(feature: str, target: str) -> bool:
    words = {w for w in re.split(r"[^a-z0-9]+", _snake(target)) if len(w) >= 4}
    name = _snake(feature)
    stems = {w[:-2] if w.endswith("ed") else w for w in words}
    return _snake(target) in name or any(s and s in name for s in stems)


def _snake(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()


def leakage(
    frame: pd.DataFrame,
    target: str,
    features: list[str],
    task: str,
    *,
    label_time: str | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One finding per suspicious feature: check, evidence, and whether it should go."""
    y = frame[target]
    found = []
    for f in features:
        if label_time is not None and pd.api.types.is_datetime64_any_dtype(frame[f]):
            late = float((frame[f] >= frame[label_time]).mean())
            if late > 0:
                found.append(
                    _finding(f, "measured at or after the label time", f"{late:.1%} of rows")
                )
                continue
        score = single_feature_score(frame[f], y, task, seed)
        limit, metric = (R2_LIMIT, "R²") if task == "regression" else (AUC_LIMIT, "AUC")
        if score > limit:
            evidence = f"alone, out of fold: {metric} {score:.3f} (limit {limit})"
            found.append(_finding(f, "predicts the target almost perfectly", evidence))
        elif name_echoes(f, target):
            found.append(
                _finding(f, "name echoes the target", f"{metric} alone {score:.3f}", drop=False)
            )
    return found


def _finding(feature: str, check: str, evidence: str, drop: bool = True) -> dict[str, Any]:
    return {"feature": feature, "check": check, "evidence": evidence, "drop": drop}
