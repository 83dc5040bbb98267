"""The fit-able feature steps as one scikit-learn transformer: imputation, encodings,
ratios and interactions, text. It drops into a ``Pipeline`` and is saved with the model.

Built from scikit-learn's own parts inside a ``ColumnTransformer``:

- numbers: ``SimpleImputer`` (median by default) with missing-value indicators;
- ``onehot`` columns: ``OneHotEncoder(max_categories=...)``, rare and unseen levels in one
  "infrequent" column;
- ``frequency`` columns: each level's share in the training rows (unseen levels: 0);
- ``target_encode`` columns: ``TargetEncoder``, whose ``fit_transform`` is cross-fitted
  (out of fold), so a row's own target never leaks into its encoding;
- ``ratios`` (``"a/b"``): a / b, with missing where b is 0, then imputed;
- ``interactions``: pairwise products of the named numeric columns (``PolynomialFeatures``);
- ``text`` columns: ``TfidfVectorizer``; ``embeddings`` columns: sentence embeddings
  (:mod:`sds.features.text`, the ``text`` extra).

The imputation report gives each column's missing share and what imputation does with it;
a ``critical`` column may have at most ``critical_max_imputed`` (2%) of its values imputed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from sds.errors import DataError, ParameterError, missing_column_error
from sds.features.select import select_features
from sds.features.spec import TransformSpec
from sds.features.text import SentenceEmbedding


class FrequencyEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Each level's share of the training rows; unseen levels get 0."""

    def fit(self, frame: pd.DataFrame, y: Any = None) -> FrequencyEncoder:
        self.shares_ = {
            c: frame[c].astype("string").value_counts(normalize=True, dropna=False)
            for c in frame.columns
        }
        self.columns_ = list(frame.columns)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack(
            [
                frame[c].astype("string").map(self.shares_[c]).fillna(0.0).to_numpy(float)
                for c in self.columns_
            ]
        )

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        return np.array([f"{c}_frequency" for c in self.columns_], dtype=object)


class Ratio(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """numerator / denominator of a two-column frame; missing where the denominator is 0."""

    def fit(self, frame: pd.DataFrame, y: Any = None) -> Ratio:
        self.names_ = list(frame.columns)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        top = frame.iloc[:, 0].to_numpy(float)
        bottom = frame.iloc[:, 1].to_numpy(float)
        out = np.full(len(frame), np.nan)
        np.divide(top, bottom, out=out, where=bottom != 0)
        return out.reshape(-1, 1)

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        return np.array([f"{self.names_[0]}_per_{self.names_[1]}"], dtype=object)


class AsText(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """One column as strings, missing as empty (the input TfidfVectorizer expects)."""

    def fit(self, x: Any, y: Any = None) -> AsText:
        return self

    def transform(self, x: Any) -> np.ndarray:
        return pd.Series(np.asarray(x).ravel()).fillna("").astype(str).to_numpy()

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        return np.asarray(names if names is not None else ["text"], dtype=object)


def make_transformer(spec: TransformSpec | dict[str, Any], frame: pd.DataFrame) -> Any:
    """An unfitted ``ColumnTransformer`` for ``frame``'s columns (the target excluded by
    the caller). Checks the named columns exist and text columns are not empty."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures

    spec = spec if isinstance(spec, TransformSpec) else TransformSpec.model_validate(spec)
    pairs = [_split_ratio(r) for r in spec.ratios]
    _check(spec, frame, pairs)
    fill = {"median": "median", "mean": "mean", "zero": "constant"}[spec.numeric_impute]
    # keep_empty_features: a column with no values in some fold stays (filled), rather
    # than vanishing from that fold's output with a UserWarning
    imputer = SimpleImputer(
        strategy=fill, fill_value=0.0, add_indicator=True, keep_empty_features=True
    )
    named = {*spec.onehot, *spec.frequency, *spec.target_encode, *spec.text, *spec.drop}
    named |= set(spec.embeddings)
    numeric = [
        c
        for c in frame.columns
        if c not in named and (pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == bool)
    ]
    categorical = SimpleImputer(
        strategy="constant", fill_value="(missing)", keep_empty_features=True
    )
    steps: list[tuple[str, Any, Any]] = [("numeric", imputer, numeric)]
    if spec.onehot:
        encoder = OneHotEncoder(
            max_categories=spec.onehot_max, handle_unknown="infrequent_if_exist"
        )
        steps.append(("onehot", make_pipeline(categorical, encoder), spec.onehot))
    if spec.frequency:
        steps.append(("frequency", FrequencyEncoder(), spec.frequency))
    if spec.target_encode:
        target = make_pipeline(categorical, _target_encoder())
        steps.append(("target", target, spec.target_encode))
    for a, b in pairs:
        ratio = make_pipeline(Ratio(), SimpleImputer(strategy="median"))
        steps.append((f"ratio_{a}_{b}", ratio, [a, b]))
    if spec.interactions:
        poly = PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)
        steps.append(("interactions", make_pipeline(SimpleImputer(), poly), spec.interactions))
    for c in spec.text:
        tfidf = TfidfVectorizer(max_features=spec.text_max_features)
        steps.append((f"text_{c}", make_pipeline(AsText(), tfidf), c))
    for c in spec.embeddings:
        steps.append((f"embed_{c}", SentenceEmbedding(spec.embedding_dim), [c]))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)


def _target_encoder() -> Any:
    """Seeded cross-fitting: a splitter as ``cv`` from scikit-learn 1.9 (which deprecates
    ``random_state`` here), ``random_state`` before it."""
    import sklearn
    from sklearn.preprocessing import TargetEncoder

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    if (major, minor) >= (1, 9):
        from sklearn.model_selection import KFold

        return TargetEncoder(cv=KFold(5, shuffle=True, random_state=0))
    return TargetEncoder(random_state=0)


def _split_ratio(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split("/")]
    if len(parts) != 2 or not all(parts):
        raise DataError(f"ratio {text!r} must read 'numerator/denominator'", column="ratios")
    return parts[0], parts[1]


def _check(spec: TransformSpec, frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> None:
    named = [*spec.onehot, *spec.frequency, *spec.target_encode, *spec.text, *spec.embeddings]
    named += [c for pair in pairs for c in pair] + spec.interactions + spec.critical
    for c in dict.fromkeys(named):
        if c not in frame.columns:
            raise missing_column_error(c, list(frame.columns), "feature table")
    for c in [*spec.text, *spec.embeddings]:
        if not frame[c].fillna("").astype(str).str.strip().astype(bool).any():
            raise DataError(
                "the text column is empty in every row",
                column=c,
                hint="Drop it from 'text', or check the query that fills it.",
            )


def imputation_report(spec: TransformSpec, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per column with missing values: the share imputed, how, and whether a critical
    column passes the bar."""
    rows = []
    for c in frame.columns:
        share = float(frame[c].isna().mean())
        if share == 0 and c not in spec.critical:
            continue
        numeric = pd.api.types.is_numeric_dtype(frame[c])
        how = spec.numeric_impute if numeric else "'(missing)' level"
        row: dict[str, Any] = {"column": c, "imputed_share": share, "imputed_with": how}
        if c in spec.critical:
            row["critical_ok"] = share <= spec.critical_max_imputed
        rows.append(row)
    return rows


class FeatureTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Selection (optional) and the spec's steps as one estimator: ``fit(X, y)`` selects
    features with :func:`sds.features.select.select_features` (when ``select``), then fits
    the transformer on the columns kept. Columns the spec encodes are exempt from the
    high-cardinality rule (encoding is the remedy it asks for)."""

    def __init__(
        self, spec: dict[str, Any] | None = None, select: bool = False, seed: int = 0
    ) -> None:
        self.spec = spec
        self.select = select
        self.seed = seed

    def fit(self, x: pd.DataFrame, y: Any = None) -> FeatureTransformer:
        spec = TransformSpec.model_validate(self.spec or {})
        columns = list(x.columns)
        if self.select:
            columns = self._selected(spec, x, y)
        self.columns_ = columns
        self.transformer_ = make_transformer(_restricted(spec, set(columns)), x[columns])
        self.transformer_.fit(x[columns], y)
        return self

    def _selected(self, spec: TransformSpec, x: pd.DataFrame, y: Any) -> list[str]:
        if y is None:
            raise ParameterError("selection needs the target: call fit(X, y)", parameter="y")
        target = "__target__"
        self.selection_ = select_features(
            x.assign(**{target: np.asarray(y)}), target, seed=self.seed
        )
        encoded = {*spec.frequency, *spec.target_encode, *spec.onehot, *spec.text, *spec.embeddings}
        exempt = {
            d["feature"]
            for d in self.selection_.dropped
            if d["feature"] in encoded
            and d["reason"] in ("high-cardinality text", "ID-like")
            and d["feature"] not in spec.drop
        }
        kept = set(self.selection_.kept) | exempt
        return [c for c in x.columns if c in kept]

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        out: np.ndarray = self.transformer_.transform(x[self.columns_])
        return out

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        out: np.ndarray = self.transformer_.get_feature_names_out()
        return out


def _restricted(spec: TransformSpec, keep: set[str]) -> TransformSpec:
    """The spec without the columns selection dropped."""
    lists = ("onehot", "frequency", "target_encode", "interactions", "text", "embeddings")
    update: dict[str, Any] = {k: [c for c in getattr(spec, k) if c in keep] for k in lists}
    update["ratios"] = [r for r in spec.ratios if all(c in keep for c in _split_ratio(r))]
    update["critical"] = [c for c in spec.critical if c in keep]
    return spec.model_copy(update=update)
