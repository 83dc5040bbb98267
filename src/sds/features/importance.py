"""Model-based importance for selection: repeated permutation importance of a gradient
boosting model on held-out rows, and recursive feature elimination with cross-validation
on a random forest (scikit-learn's ``permutation_importance`` and ``RFECV``), with the
one-standard-error rule for the number of features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sds.errors import ConfigError
from sds.features.leakage import encode


def _scoring(task: str) -> str:
    return {"binary": "roc_auc", "multiclass": "neg_log_loss", "regression": "r2"}[task]


def model_importance(
    frame: pd.DataFrame,
    target: str,
    columns: list[str],
    task: str,
    repeats: int = 5,
    seed: int = 0,
    with_shap: bool = False,
) -> dict[str, tuple[float, float, bool, float | None]]:
    """Per feature: mean and standard deviation of the permutation importance, whether
    RFE keeps it, and (``with_shap``) the mean absolute SHAP value on held-out rows."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.feature_selection import RFE, RFECV
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    x = np.column_stack([encode(frame[c]) for c in columns])
    y = frame[target].to_numpy() if task == "regression" else encode(frame[target])
    classify = task != "regression"
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=seed, stratify=y if classify else None
    )
    booster = (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
        random_state=seed
    )
    booster.fit(x_train, y_train)
    permuted = permutation_importance(
        booster,
        x_test,
        y_test,
        scoring=_scoring(task),
        n_repeats=repeats,
        random_state=seed,
    )
    forest = (RandomForestClassifier if classify else RandomForestRegressor)(
        n_estimators=100, max_depth=10, min_samples_leaf=5, random_state=seed, n_jobs=-1
    )
    folds = (StratifiedKFold if classify else KFold)(3, shuffle=True, random_state=seed)
    search = RFECV(forest, step=1, cv=folds, scoring=_scoring(task)).fit(x_train, y_train)
    wanted = one_standard_error(
        search.cv_results_["n_features"],
        search.cv_results_["mean_test_score"],
        search.cv_results_["std_test_score"],
        folds.get_n_splits(),
    )
    support = search.support_
    if wanted < int(search.n_features_):
        support = RFE(forest, n_features_to_select=wanted).fit(x_train, y_train).support_
    shap_values = mean_abs_shap(booster, x_test) if with_shap else None
    return {
        c: (
            float(permuted.importances_mean[i]),
            float(permuted.importances_std[i]),
            bool(support[i]),
            None if shap_values is None else float(shap_values[i]),
        )
        for i, c in enumerate(columns)
    }


def mean_abs_shap(model: Any, x: np.ndarray) -> np.ndarray:
    """Mean |SHAP value| per feature (TreeExplainer; classes averaged), the ``shap`` extra."""
    import warnings

    try:
        with warnings.catch_warnings():  # shap's import touches a deprecated matplotlib API
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            import shap
    except ImportError as exc:
        raise ConfigError(
            "SHAP importance needs the shap package", hint="pip install 'sds[shap]'"
        ) from exc
    values = np.asarray(shap.TreeExplainer(model).shap_values(x))
    if values.ndim == 3:  # (rows, features, classes)
        values = np.abs(values).mean(axis=2)
    out: np.ndarray = np.abs(values).mean(axis=0)
    return out


def one_standard_error(
    n_features: np.ndarray, mean: np.ndarray, std: np.ndarray, folds: int
) -> int:
    """The fewest features whose cross-validated score is within one standard error of the
    best (Breiman's rule: RFECV's own choice, the maximum, overfits the noise in the
    scores and keeps every weak feature)."""
    best = int(np.argmax(mean))
    floor = mean[best] - std[best] / np.sqrt(folds)
    return int(min(n for n, m in zip(n_features, mean, strict=True) if m >= floor))
