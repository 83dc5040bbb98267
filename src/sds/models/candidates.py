"""The model candidates, their Optuna search spaces, and the pipeline around them.

Every candidate is a scikit-learn ``Pipeline``: the feature module's
:class:`~sds.features.transform.FeatureTransformer` (imputation and encodings, fitted on the
training rows only), a scaler for the linear models, then the estimator. Baselines:
``dummy`` (class prior or mean) and ``logistic`` / ``linear`` (ridge for regression).
``hgb`` is scikit-learn's HistGradientBoosting; ``lightgbm`` and ``xgboost`` need the
``boost`` extra. Every estimator is seeded and single-threaded where threads would change
the result, so a run reproduces to the last digit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from sds.errors import ParameterError
from sds.features.transform import FeatureTransformer

_EXTRA = {"lightgbm": "lightgbm", "xgboost": "xgboost"}


def estimator(name: str, task: str, params: dict[str, Any], seed: int) -> Any:
    """An unfitted estimator for ``task`` with ``params``."""
    classify = task != "regression"
    if name == "dummy":
        from sklearn.dummy import DummyClassifier, DummyRegressor

        return DummyClassifier(strategy="prior") if classify else DummyRegressor(**params)
    if name in ("logistic", "linear"):
        from sklearn.linear_model import LogisticRegression, Ridge

        if classify:
            return LogisticRegression(max_iter=2000, **params)
        return Ridge(**params)
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier as Hgbc
        from sklearn.ensemble import HistGradientBoostingRegressor as Hgbr

        return (Hgbc if classify else Hgbr)(random_state=seed, **params)
    if name == "lightgbm":
        lgb = _optional("lightgbm")
        cls = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
        return cls(random_state=seed, n_jobs=1, verbose=-1, deterministic=True, **params)
    if name == "xgboost":
        xgb = _optional("xgboost")
        if not classify:
            return xgb.XGBRegressor(random_state=seed, n_jobs=1, tree_method="hist", **params)
        inner = xgb.XGBClassifier(random_state=seed, n_jobs=1, tree_method="hist", **params)
        return LabelEncoded(inner)  # XGBoost takes only the labels 0..k-1
    raise ParameterError(f"unknown candidate {name!r}", parameter="candidates")


class LabelEncoded(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A classifier fitted on the labels' codes (0..k-1) that answers in the labels."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, x: Any, y: Any) -> LabelEncoded:
        from sklearn.base import clone
        from sklearn.preprocessing import LabelEncoder

        self.encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.encoder_.classes_
        self.estimator_ = clone(self.estimator).fit(x, self.encoder_.transform(y))
        return self

    def predict_proba(self, x: Any) -> Any:
        return self.estimator_.predict_proba(x)

    def predict(self, x: Any) -> Any:
        return self.encoder_.inverse_transform(self.estimator_.predict(x))


def _optional(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ParameterError(
            f"candidate {module!r} needs the {module} package",
            parameter="candidates",
            hint="pip install 'sds-toolkit[boost]', or drop it from candidates.",
        ) from exc


def search_space(name: str, task: str, trial: Any) -> dict[str, Any]:
    """Parameters Optuna suggests for one trial of candidate ``name`` (empty: nothing to
    tune)."""
    if name in ("logistic", "linear"):
        key = "C" if task != "regression" else "alpha"
        return {key: trial.suggest_float(key, 1e-3, 1e3, log=True)}
    if name == "hgb":
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 64, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 200, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10, log=True),
        }
    if name in ("lightgbm", "xgboost"):
        depth_key = "num_leaves" if name == "lightgbm" else "max_depth"
        depth = (
            trial.suggest_int(depth_key, 8, 64, log=True)
            if name == "lightgbm"
            else trial.suggest_int(depth_key, 2, 8)
        )
        return {
            "n_estimators": trial.suggest_int("n_estimators", 50, 400, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            depth_key: depth,
            "subsample": trial.suggest_float("subsample", 0.6, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.6, 1.0),
        }
    return {}


def pipeline(
    name: str, task: str, params: dict[str, Any], preprocessing: dict[str, Any], seed: int
) -> Any:
    """The whole model: features, scaling for linear models, estimator."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps: list[tuple[str, Any]] = [("features", FeatureTransformer(preprocessing, seed=seed))]
    if name in ("logistic", "linear"):
        steps.append(("scale", StandardScaler()))
    steps.append(("model", estimator(name, task, params, seed)))
    return Pipeline(steps)


def auto_preprocessing(frame: pd.DataFrame, preprocessing: dict[str, Any]) -> dict[str, Any]:
    """The preprocessing spec with every text column the spec leaves unnamed given an
    encoding: one-hot when it has at most ``onehot_max`` levels, frequency otherwise (so no
    column is silently dropped for being a string)."""
    spec = dict(preprocessing)
    named = {
        c
        for key in ("onehot", "frequency", "target_encode", "text", "embeddings", "drop")
        for c in spec.get(key, [])
    }
    cap = int(spec.get("onehot_max", 20))
    for column in frame.columns:
        series = frame[column]
        if column in named or pd.api.types.is_numeric_dtype(series) or series.dtype == bool:
            continue
        key = "onehot" if series.nunique() <= cap else "frequency"
        spec[key] = [*spec.get(key, []), column]
    return spec
