"""Training: read the data, split it, tune and fit each candidate, choose on validation,
evaluate on test, save the model with its hash, and log the run.

The choice of model, of the decision threshold and of the recalibration are all made on
the validation split; the test split is touched once, by the evaluation. The chosen model
is the pipeline fitted on the training split (not refitted on train + validation, so the
threshold and calibration chosen on validation stay honest).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sds.config import load_config as read_config
from sds.config import parse_spec
from sds.data.engine import default_engine
from sds.data.finite import refuse_unusable
from sds.data.io import Table, open_table
from sds.errors import DataError, missing_column_error
from sds.features.leakage import task_of
from sds.features.retrieval import for_labels
from sds.features.spec import parse_window
from sds.features.store import STORE_SCHEME, FeatureStore, fingerprint_table
from sds.models.calibration import calibration
from sds.models.candidates import auto_preprocessing, pipeline
from sds.models.config import TrainConfig
from sds.models.evaluate import predictions
from sds.models.metrics import choose_threshold as choose
from sds.models.positive import fitted_target, training_positive
from sds.models.resampling import ResamplingPlan, resampling_plan
from sds.models.split import split
from sds.models.tune import tune
from sds.progress import Steps


@dataclass(frozen=True)
class Prepared:
    """The data and choices every step shares."""

    cfg: TrainConfig
    task: str
    features: list[str]
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    split: Any  # sds.models.split.Splits
    preprocessing: dict[str, Any]
    plan: ResamplingPlan  # the folds of the training rows every step inside them uses
    fingerprint: str
    warnings: tuple[str, ...] = ()  # about the data: features left out, and why
    positive: Any = None  # binary tasks: the label counted as the positive class
    positive_rule: str | None = None  # why that label (configured, the label 1 ...)

    def outcome(self, frame: pd.DataFrame) -> pd.Series:
        """The target of ``frame`` as the models see it: 1 for the positive class and 0
        otherwise (binary, with a positive class), else the column as it is."""
        return fitted_target(frame[self.cfg.target], self.positive)


def load_config(config: Any, source: str = "config") -> TrainConfig:
    if isinstance(config, str | Path):
        return read_config(config, TrainConfig)
    return parse_spec(config, TrainConfig, source, "a training config")


def prepare(cfg: TrainConfig, data: Any = None) -> Prepared:
    """Read, check, and split the data; the features and preprocessing to use."""
    source = cfg.data if data is None else data
    table, structural = _source(cfg, source) if _is_store(source) else (open_table(source), [])
    frame = table.engine.execute(table.expr, source=table.name)
    if cfg.target not in frame.columns:
        raise missing_column_error(cfg.target, list(frame.columns), table.name)
    y = frame[cfg.target]
    if y.isna().any():
        raise DataError(
            f"the target has {int(y.isna().sum())} missing value(s)",
            column=cfg.target,
            hint="Drop those rows in the query, or fill the target.",
        )
    if y.nunique() < 2:
        raise DataError(
            "the target is constant: there is nothing to learn",
            column=cfg.target,
            found=f"every row is {y.iloc[0]!r}",
        )
    task = cfg.task or task_of(y)
    # chosen on every row before the split, so the split cannot change it, and stratified
    # on it, so the rows (and every figure) do not depend on how the labels are spelled
    positive, positive_rule = training_positive(task, y, cfg.positive)
    features = [c for c in _features(cfg, frame) if c not in structural]
    _refuse_infinite(frame, [cfg.target, *features], table.name)
    refuse_unusable(frame, [cfg.target, *features], table.name)  # 1e307: scaling overflows
    s = cfg.split
    gap = None
    if s.gap:
        gap = parse_window(s.gap)
    method = s.method or ("random" if task == "regression" else "stratified")
    parts = split(
        frame,
        cfg.target,
        method=method,
        time_column=s.time_column,
        gap=gap,
        group_column=s.group_column,
        sizes=s.sizes,
        seed=cfg.seed,
        strata=fitted_target(y, positive),
    )
    train = frame.iloc[parts.train].reset_index(drop=True)
    features, warnings = _without_empty(train, features, table.name)
    plan = resampling_plan(
        train,
        fitted_target(train[cfg.target], positive),
        task,
        method=parts.method,
        folds=cfg.tuning.folds,
        seed=cfg.seed,
        time_column=s.time_column,
        gap=gap,
        group_column=s.group_column,
    )
    prep = auto_preprocessing(train[features], cfg.preprocessing.model_dump())
    return Prepared(
        cfg,
        task,
        features,
        train,
        frame.iloc[parts.validation].reset_index(drop=True),
        frame.iloc[parts.test].reset_index(drop=True),
        parts,
        prep,
        plan,
        fingerprint_table(table),
        tuple(warnings),
        positive,
        positive_rule,
    )


def _without_empty(
    train: pd.DataFrame, features: list[str], source: str
) -> tuple[list[str], list[str]]:
    """The features with at least one value in the training rows, and a warning for each
    left out: a column with no values teaches nothing (and imputation cannot fill it)."""
    empty = [c for c in features if train[c].isna().all()]
    if empty and len(empty) == len(features):
        raise DataError(
            "every feature is empty in the training rows",
            source=source,
            found=", ".join(empty[:10]),
            hint="Check the query or the file: the feature columns hold no values.",
        )
    warnings = [
        f"feature {c!r} has no values in the {len(train):,} training rows: left out of the model"
        for c in empty
    ]
    return [c for c in features if c not in empty], warnings


def _is_store(source: Any) -> bool:
    return isinstance(source, str) and source.startswith(STORE_SCHEME)


def _source(cfg: TrainConfig, ref: str) -> tuple[Any, list[str]]:
    """A feature-store version joined point-in-time to the label table (which brings the
    target); the entity and label-time columns are keys, not features."""

    assert cfg.store is not None and cfg.labels is not None  # the config checks
    store = FeatureStore(cfg.store)
    version = store.version(ref)
    expr = for_labels(store, ref, cfg.labels, keep=(cfg.target,))
    table = Table(expr, f"{ref} joined to {cfg.labels}", default_engine())  # for_labels' engine
    return table, [version.spec["entity"], version.spec["label_time"]]


def _refuse_infinite(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """Infinite values stop every learner (and imputation leaves them in): name them."""
    counts = {
        c: int(np.isinf(frame[c].to_numpy(dtype=float, na_value=np.nan)).sum())
        for c in columns
        if pd.api.types.is_float_dtype(frame[c])
    }
    bad = {c: n for c, n in counts.items() if n}
    if bad:
        raise DataError(
            "infinite values cannot be learned from",
            source=source,
            column=next(iter(bad)),
            found=", ".join(f"{n:,} in {c!r}" for c, n in bad.items()),
            hint="Replace them (cap them, or set them missing) in a query, or drop the column.",
        )


def _features(cfg: TrainConfig, frame: pd.DataFrame) -> list[str]:
    s = cfg.split
    structural = {cfg.target, *cfg.drop, *cfg.protected, s.time_column, s.group_column}
    if cfg.features is not None:
        for c in [*cfg.features, *cfg.protected]:
            if c not in frame.columns:
                raise missing_column_error(c, list(frame.columns), "training data")
        return [c for c in cfg.features if c != cfg.target]
    for c in [*cfg.drop, *cfg.protected]:
        if c not in frame.columns:
            raise missing_column_error(c, list(frame.columns), "training data")
    return [c for c in frame.columns if c not in structural]


def fit_candidates(p: Prepared, steps: Steps | None = None) -> list[dict[str, Any]]:
    """Tune (or just cross-validate) each candidate, fit it on train, score validation.
    ``steps`` shows the candidate at work ("tuning hgb: trial 7/30") and counts it done."""
    shown = steps or Steps()
    x, y = p.train[p.features], p.outcome(p.train)
    rows = []
    for c in p.cfg.candidates:
        tuned = c.tune and c.name != "dummy"
        shown.show(f"tuning {c.name}" if tuned else f"cross-validating {c.name}")

        def on_trial(number: int, trials: int, name: str = c.name) -> None:
            shown.show(f"tuning {name}: trial {number}/{trials}")

        t = tune(
            c.name,
            p.task,
            x,
            y,
            fixed=c.params,
            preprocessing=p.preprocessing,
            plan=p.plan,
            trials=(c.trials or p.cfg.tuning.trials) if tuned else 0,
            timeout=p.cfg.tuning.timeout,
            seed=p.cfg.seed,
            on_trial=on_trial,
        )
        shown.show(f"fitting {c.name}")
        model = pipeline(c.name, p.task, t.params, p.preprocessing, p.cfg.seed).fit(x, y)
        rows.append(
            {
                "name": c.name,
                "model": model,
                "params": t.params,
                "scoring": t.scoring,
                "cv_mean": float(np.mean(t.cv_scores)),
                "cv_std": float(np.std(t.cv_scores, ddof=1)),
                "cv_scores": list(t.cv_scores),
                "trials": t.trials,
                "pruned": t.pruned,
                "validation": _validation_score(model, p, t.scoring),
            }
        )
        shown(f"{c.name} done")
    return rows


def _validation_score(model: Any, p: Prepared, scoring: str) -> float:
    from sklearn.metrics import get_scorer

    v = p.validation
    return float(get_scorer(scoring)(model, v[p.features], p.outcome(v)))


def choose_threshold(model: Any, p: Prepared) -> dict[str, Any]:

    if p.task != "binary":
        return {"threshold": None, "by": None}
    t = p.cfg.threshold
    v = p.validation
    scores = predictions(model, v[p.features], p.task)
    y01 = p.outcome(v).to_numpy()  # 1 for the positive class
    return choose(y01, scores, t.by, t.value, t.cost_fp, t.cost_fn)


def recalibrated(model: Any, p: Prepared) -> tuple[Any, list[dict[str, Any]]]:
    """The model with isotonic or Platt recalibration fitted on validation, and Brier/ECE
    on test before and after."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    method = p.cfg.recalibrate
    v = p.validation
    wrapped = CalibratedClassifierCV(FrozenEstimator(model), method=method)
    wrapped.fit(v[p.features], p.outcome(v))
    x_test, y_test = p.test[p.features], p.outcome(p.test).to_numpy()
    rows = []
    for label, m in (("before", model), (f"after ({method})", wrapped)):
        cal = calibration(y_test, predictions(m, x_test, p.task))
        rows.append(
            {
                "model": label,
                "brier": cal["brier"],
                "ece": cal["ece"],
                "deciles_within": cal["within_tolerance"],
            }
        )
    return wrapped, rows
