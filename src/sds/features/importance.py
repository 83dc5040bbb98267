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


def holdout_rows(y: pd.Series, task: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training rows (75%) and the held-out rows (25%; stratified by class
    for a classification target): the models fit on the first, permutation importance
    scores on the second, and selection's univariate tests use only the first."""
    from sklearn.model_selection import train_test_split

    labels = None if task == "regression" else encode(y)
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.25, random_state=seed, stratify=labels
    )
    return np.asarray(train), np.asarray(test)


def model_importance(
    frame: pd.DataFrame,
    target: str,
    columns: list[str],
    task: str,
    repeats: int = 5,
    seed: int = 0,
    with_shap: bool = False,
    rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, tuple[float, float, bool, float | None]]:
    """Per feature: mean and standard deviation of the permutation importance, whether
    RFE keeps it, and (``with_shap``) the mean absolute SHAP value on held-out rows.
    ``rows`` are the training and held-out positions (default :func:`holdout_rows`)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.inspection import permutation_importance

    x = np.column_stack([encode(frame[c]) for c in columns])
    y = frame[target].to_numpy() if task == "regression" else encode(frame[target])
    classify = task != "regression"
    train, test = rows if rows is not None else holdout_rows(frame[target], task, seed)
    x_train, x_test, y_train, y_test = x[train], x[test], y[train], y[test]
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
    support = _rfe_support(x_train, y_train, task, seed)
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


def _rfe_support(x: np.ndarray, y: np.ndarray, task: str, seed: int) -> np.ndarray:
    """Which features recursive elimination keeps (a random forest; the number of features
    by 3-fold RFECV and the one-standard-error rule). A single feature has nothing to be
    ranked against (scikit-learn's RFECV refuses it) and counts as kept."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.feature_selection import RFE, RFECV
    from sklearn.model_selection import KFold, StratifiedKFold

    if x.shape[1] == 1:
        return np.array([True])
    classify = task != "regression"
    forest = (RandomForestClassifier if classify else RandomForestRegressor)(
        n_estimators=100, max_depth=10, min_samples_leaf=5, random_state=seed, n_jobs=-1
    )
    folds = (StratifiedKFold if classify else KFold)(3, shuffle=True, random_state=seed)
    search = RFECV(forest, step=1, cv=folds, scoring=_scoring(task)).fit(x, y)
    wanted = one_standard_error(
        search.cv_results_["n_features"],
        search.cv_results_["mean_test_score"],
        search.cv_results_["std_test_score"],
        folds.get_n_splits(),
    )
    support: np.ndarray = search.support_
    if wanted < int(search.n_features_):
        support = RFE(forest, n_features_to_select=wanted).fit(x, y).support_
    return support


def mean_abs_shap(model: Any, x: np.ndarray) -> np.ndarray:
    """Mean |SHAP value| per feature (TreeExplainer; classes averaged), the ``shap`` extra."""
    import warnings

    try:
        with warnings.catch_warnings():  # shap's import touches a deprecated matplotlib API
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            import shap
    except ImportError as exc:
        raise ConfigError(
            "SHAP importance needs the shap package", hint="pip install 'sds-toolkit[shap]'"
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
