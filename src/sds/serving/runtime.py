"""Fast inference: the fitted pipeline compiled to plain numpy where that is exact.

The pipelines ``sds train`` builds are a :class:`~sds.features.transform.FeatureTransformer`
(a ``ColumnTransformer``), an optional ``StandardScaler`` and an estimator. Compiled:
median imputation with missing indicators (the fill values and indicator columns);
one-hot and frequency encodings as lookup tables built by running the fitted encoder
once on every known level, the missing value and an unseen one; the scaler's mean and
scale; logistic and ridge regression as a dot product; scikit-learn's histogram gradient
boosting as numpy tables (:mod:`sds.serving.forest`), else through treelite's interpreter
(the ``serve`` extra). Other estimators run on
the compiled features. A binary model recalibrated by ``sds train`` (``recalibrate:
isotonic`` or ``sigmoid``: one ``CalibratedClassifierCV`` around the frozen pipeline) is
compiled too: the pipeline's decision score as scikit-learn takes it (the decision
function, else the positive-class probability), then the fitted calibrator on that one
array. Anything else (target encoding, ratios, text) runs through scikit-learn as a whole.
The compiled runtime is used only if it equals scikit-learn on sample rows to 1e-9,
checked at load time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.features.transform import FeatureTransformer
from sds.models.evaluate import predictions  # the model's outputs, the same everywhere
from sds.serving.forest import forest_decision, forest_head
from sds.serving.validate import stack

TOLERANCE = 1e-9
_SENTINEL = "\x00sds-unseen\x00"

Block = Callable[[Mapping[str, Any], int], np.ndarray]


class NotCompilableError(Exception):
    """The pipeline holds a step the numpy runtime does not cover."""


@dataclass
class Runtime:
    """``predict(columns, n)``: positive-class probability (binary), class probabilities
    (multiclass) or values (regression)."""

    kind: str  # "numpy" or "scikit-learn"
    predict: Callable[[Mapping[str, Any], int], np.ndarray]
    reason: str = ""


def sklearn_runtime(model: Any, meta: dict[str, Any]) -> Runtime:
    dtypes = meta.get("schema", {})
    task = meta["task"]

    def predict(columns: Mapping[str, Any], n: int) -> np.ndarray:
        frame = pd.DataFrame({c: _typed(v, dtypes.get(c)) for c, v in columns.items()})
        return predictions(model, frame, task)

    return Runtime("scikit-learn", predict)


def _typed(values: Any, dtype: str | None) -> Any:
    if dtype is None or isinstance(values, list):
        return pd.Series(values, dtype="object" if dtype in (None, "object") else dtype)
    if dtype == "bool" and not np.isnan(values).any():
        return values.astype(bool)
    return values


def build_runtime(model: Any, meta: dict[str, Any], sample: pd.DataFrame | None) -> Runtime:
    """The numpy runtime when it compiles and matches scikit-learn on ``sample`` (trees
    as numpy tables or through treelite first, then through scikit-learn); else
    scikit-learn, with the reason."""
    compiled = _checked_runtime(model, meta, sample, trees=True)
    if compiled.kind == "scikit-learn" and "+ tree" in compiled.reason:
        return _checked_runtime(model, meta, sample, trees=False)
    return compiled


def _checked_runtime(
    model: Any, meta: dict[str, Any], sample: pd.DataFrame | None, trees: bool
) -> Runtime:
    fallback = sklearn_runtime(model, meta)
    try:
        compiled = compile_pipeline(model, meta, trees)
    except NotCompilableError as exc:
        fallback.reason = str(exc)
        return fallback
    except Exception as exc:  # an estimator shaped unlike ours: serve it as it is
        fallback.reason = f"not compiled: {type(exc).__name__}: {exc}"
        return fallback
    if sample is None or sample.empty:
        fallback.reason = "no sample rows to check the compiled runtime against"
        return fallback
    columns = {c: _request_form(sample[c]) for c in meta["features"]}
    expected = predictions(model, sample[meta["features"]], meta["task"])
    got = compiled.predict(columns, len(sample))
    difference = float(np.max(np.abs(got - expected)))
    if not difference <= TOLERANCE:
        fallback.reason = f"{compiled.kind} runtime differs from scikit-learn by {difference:.2e}"
        return fallback
    compiled.reason = (
        f"matches scikit-learn on {len(sample)} rows (max difference {difference:.1e})"
    )
    return compiled


def _request_form(values: pd.Series) -> Any:
    """A column as the validator produces it from JSON."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype(float).to_numpy()
    return [None if pd.isna(v) else str(v) for v in values]


def compile_pipeline(model: Any, meta: dict[str, Any], trees: bool = True) -> Runtime:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline

    if isinstance(model, CalibratedClassifierCV):
        return _compile_calibrated(model, meta)
    if not isinstance(model, Pipeline) or not isinstance(model.steps[0][1], FeatureTransformer):
        raise NotCompilableError(f"{type(model).__name__} is not an sds training pipeline")
    features, filled = _features(model.steps[0][1])
    rest = [_step(name, step) for name, step in model.steps[1:-1]]
    filled = filled and all(_keeps_numbers(step) for _, step in model.steps[1:-1])
    estimator = model.steps[-1][1]
    tree = _tree_head(estimator, meta["task"], filled) if trees else None
    head = tree[0] if tree else _head(estimator, meta["task"])

    def predict(columns: Mapping[str, Any], n: int) -> np.ndarray:
        x = features(columns, n)
        for step in rest:
            x = step(x)
        return head(x)

    return Runtime(f"numpy + {tree[1]}" if tree else "numpy", predict)


def _compile_calibrated(model: Any, meta: dict[str, Any]) -> Runtime:
    """A binary recalibrated model: the compiled pipeline's score, then its calibrator
    (as ``_CalibratedClassifier.predict_proba`` computes the positive class)."""
    from sklearn.pipeline import Pipeline

    fitted = getattr(model, "calibrated_classifiers_", [])
    if meta["task"] != "binary" or len(fitted) != 1 or model.method not in ("isotonic", "sigmoid"):
        raise NotCompilableError("a recalibration other than one binary calibrator")
    inner = fitted[0]
    pipeline = getattr(inner.estimator, "estimator", inner.estimator)  # inside FrozenEstimator
    if not isinstance(pipeline, Pipeline) or not isinstance(
        pipeline.steps[0][1], FeatureTransformer
    ):
        raise NotCompilableError(f"{type(pipeline).__name__} is not an sds training pipeline")
    features, filled = _features(pipeline.steps[0][1])
    rest = [_step(name, step) for name, step in pipeline.steps[1:-1]]
    filled = filled and all(_keeps_numbers(step) for _, step in pipeline.steps[1:-1])
    score = _score(pipeline.steps[-1][1], filled)
    calibrator = inner.calibrators[0]

    def predict(columns: Mapping[str, Any], n: int) -> np.ndarray:
        x = features(columns, n)
        for step in rest:
            x = step(x)
        out = np.asarray(calibrator.predict(score(x)), dtype=float)
        out[(out > 1.0) & (out <= 1.0 + 1e-5)] = 1.0  # as scikit-learn rounds it
        return out

    return Runtime(f"numpy + {model.method} calibrator", predict)


def _score(estimator: Any, filled: bool) -> Callable[[np.ndarray], np.ndarray]:
    """The binary score a calibrator was fitted on: the decision function when the
    estimator has one (a dot product for logistic regression, the trees' tables for
    gradient boosting), else P(second class). ``filled``: the features hold no NaN."""
    from sklearn.linear_model import LogisticRegression

    if isinstance(estimator, LogisticRegression):
        coef, intercept = estimator.coef_[0], estimator.intercept_[0]
        return lambda x: x @ coef + intercept
    trees = forest_decision(estimator, filled)
    if trees is not None:
        return trees
    if hasattr(estimator, "decision_function"):
        return lambda x: np.asarray(estimator.decision_function(x), dtype=float)
    return lambda x: np.asarray(estimator.predict_proba(x)[:, 1], dtype=float)


def _features(ft: Any) -> tuple[Block, bool]:
    """The compiled features step, and whether its output surely holds no NaN (every
    missing number filled, every lookup table free of NaN): the scaler after it keeps
    that (finite means and non-zero scales), so the trees need not look for one."""
    ct = ft.transformer_
    blocks: list[tuple[Block, int, bool]] = []
    for name, trans, cols in ct.transformers_:
        if name == "remainder" or (isinstance(trans, str) and trans == "drop") or not len(cols):
            continue
        if name == "numeric":
            blocks.append(_numeric(trans, list(cols)))
        elif name in ("onehot", "frequency"):
            blocks.append(_lookup(trans, list(cols)))
        else:
            raise NotCompilableError(f"step {name!r} runs through scikit-learn")
    width = sum(w for _, w, _ in blocks)
    filled = all(f for _, _, f in blocks)
    if len(blocks) == 1:
        return blocks[0][0], filled

    def run(columns: Mapping[str, Any], n: int) -> np.ndarray:
        out = np.empty((n, width))
        at = 0
        for block, w, _ in blocks:
            out[:, at : at + w] = block(columns, n)
            at += w
        return out

    return run, filled


def _numeric(imputer: Any, cols: list[str]) -> tuple[Block, int, bool]:
    fill = np.asarray(imputer.statistics_, dtype=float)
    if np.isnan(fill).any() or len(fill) != len(cols):
        raise NotCompilableError("a numeric column was empty in training")
    flagged = imputer.indicator_.features_ if imputer.indicator_ is not None else np.array([])

    def run(columns: Mapping[str, Any], n: int) -> np.ndarray:
        x = stack(columns, cols, n)
        missing = np.isnan(x)
        if not missing.any():
            return np.hstack([x, missing[:, flagged]]) if len(flagged) else x
        return np.hstack([np.where(missing, fill, x), missing[:, flagged]])

    return run, len(cols) + len(flagged), True


def _lookup(trans: Any, cols: list[str]) -> tuple[Block, int, bool]:
    """Per column: the encoder's output for each known level, missing and unseen."""
    levels = {c: _levels(trans, c, j) for j, c in enumerate(cols)}
    base = {c: levels[c][0] for c in cols}
    tables, positions = {}, []
    for c in cols:
        values = [*levels[c], None, _SENTINEL]
        frame = pd.DataFrame({k: [v if k == c else base[k] for v in values] for k in cols})
        out = _dense(trans.transform(frame))
        varying = np.flatnonzero((out != out[0]).any(axis=0))
        positions.append(varying)
        tables[c] = {v: out[i, varying] for i, v in enumerate(values)}
    width = _dense(trans.transform(pd.DataFrame({k: [base[k]] for k in cols}))).shape[1]
    used = np.concatenate(positions) if positions else np.array([], dtype=int)
    if len(used) != width or len(np.unique(used)) != width:
        raise NotCompilableError("an encoding is not separable by column")

    def run(columns: Mapping[str, Any], n: int) -> np.ndarray:
        out = np.empty((n, width))
        for c, where in zip(cols, positions, strict=True):
            table, unseen = tables[c], tables[c][_SENTINEL]
            out[:, where] = [table.get(v, unseen) for v in columns[c]]
        return out

    filled = not any(np.isnan(v).any() for table in tables.values() for v in table.values())
    return run, width, filled


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=float)


def _levels(trans: Any, column: str, j: int) -> list[Any]:
    if hasattr(trans, "shares_"):  # FrequencyEncoder
        return [v for v in trans.shares_[column].index if not pd.isna(v)] or ["?"]
    encoder = trans[-1] if hasattr(trans, "steps") else trans
    return [v for v in encoder.categories_[j] if v != "(missing)"] or ["?"]


def _step(name: str, step: Any) -> Callable[[np.ndarray], np.ndarray]:
    from sklearn.preprocessing import StandardScaler

    if not isinstance(step, StandardScaler):
        raise NotCompilableError(f"step {name!r} ({type(step).__name__}) runs through scikit-learn")
    mean = step.mean_ if step.with_mean else 0.0
    scale = step.scale_ if step.with_std else 1.0
    return lambda x: (x - mean) / scale


def _keeps_numbers(scaler: Any) -> bool:
    """A compiled scaler makes no NaN of numbers: its means are finite and its scales
    finite and non-zero (as scikit-learn fits them)."""
    mean = np.asarray(scaler.mean_ if scaler.with_mean else 0.0, dtype=float)
    scale = np.asarray(scaler.scale_ if scaler.with_std else 1.0, dtype=float)
    return bool(np.isfinite(mean).all() and np.isfinite(scale).all() and (scale != 0).all())


def _tree_head(
    model: Any, task: str, filled: bool
) -> tuple[Callable[[np.ndarray], np.ndarray], str] | None:
    """scikit-learn's gradient boosting as numpy tables ("trees"; ``filled``: the features
    hold no NaN), else through treelite's C++ interpreter (GTIL), one thread; None when
    neither takes the model."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if not isinstance(model, HistGradientBoostingClassifier | HistGradientBoostingRegressor):
        return None
    tables = forest_head(model, task, filled)
    if tables is not None:
        return tables, "trees"
    treelite = _treelite_head(model, task)
    return (treelite, "treelite") if treelite is not None else None


def _treelite_head(model: Any, task: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """The model through treelite's interpreter; None when treelite is missing or cannot
    import it."""
    try:
        import treelite
        import treelite.gtil

        forest = treelite.sklearn.import_model(model)
    except Exception:  # not installed, or a model treelite does not take
        return None

    gtil = _gtil(forest)

    def predict(x: np.ndarray) -> np.ndarray:
        out = gtil(np.ascontiguousarray(x, dtype=np.float64))
        flat = np.asarray(out).reshape(len(x), -1)
        if task == "binary":
            return flat[:, -1]
        return flat if task == "multiclass" else flat[:, 0]

    return predict


def _gtil(forest: Any) -> Callable[[np.ndarray], Any]:
    """GTIL's prediction on one thread, its configuration parsed once: ``gtil.predict``
    builds and parses it on every call, a sixth of a single row's time. Through
    treelite's public function if its internals move (the result is checked either way)."""
    import treelite.gtil

    try:
        from treelite.gtil.gtil import GTILConfig, _predict_impl

        config = GTILConfig(nthread=1, predict_type="default")
    except Exception:
        return lambda x: treelite.gtil.predict(forest, x, nthread=1)
    return lambda x: _predict_impl(forest, x, config=config)


def _head(model: Any, task: str) -> Callable[[np.ndarray], np.ndarray]:
    from scipy.special import expit, softmax
    from sklearn.linear_model import LogisticRegression, Ridge

    if isinstance(model, LogisticRegression) and task == "binary":
        coef, intercept = model.coef_[0], model.intercept_[0]
        return lambda x: expit(x @ coef + intercept)
    if isinstance(model, LogisticRegression):
        coef, intercept = model.coef_.T, model.intercept_
        return lambda x: softmax(x @ coef + intercept, axis=1)
    if isinstance(model, Ridge):
        coef, b = model.coef_, model.intercept_
        return lambda x: x @ coef + b
    return lambda x: predictions(model, x, task)
