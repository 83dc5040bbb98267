"""The fit-able feature steps as one scikit-learn transformer.

It cross-validates inside a ``Pipeline`` and survives pickling with identical predictions;
the frequency encoding equals pandas' ``value_counts(normalize=True)``; the target encoding
is cross-fitted (equal to scikit-learn's ``TargetEncoder`` with the same folds, and not
equal to encoding the training rows with their own targets); ratios with a zero
denominator are imputed; one-hot output is capped; bad specs are refused clearly.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import TargetEncoder

from sds.data import synth
from sds.errors import DataError
from sds.features.transform import TransformSpec, imputation_report, make_transformer

SPEC = {
    "onehot": ["contract", "region", "payment_method"],
    "frequency": ["zip_code"],
    "target_encode": ["zip_code"],
    "ratios": ["total_charges/tenure_months"],
    "interactions": ["support_calls", "last_login_days"],
    "text": ["note"],
    "drop": ["customer_id", "retention_call", "monthly_fee"],
}


def _data(n: int = 3000) -> tuple[pd.DataFrame, pd.Series]:
    df = synth.make_churn(n, seed=1)
    df["note"] = np.where(df["churned"] == 1, "unhappy with the price", "happy customer")
    return df.drop(columns="churned"), df["churned"]


def test_it_fits_in_a_pipeline_and_pickles() -> None:
    x, y = _data()
    pipe = make_pipeline(make_transformer(SPEC, x), HistGradientBoostingClassifier(random_state=0))
    scores = cross_val_score(pipe, x, y, cv=3, scoring="roc_auc")
    assert scores.min() > 0.8
    pipe.fit(x, y)
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict_proba(x), pipe.predict_proba(x))
    names = list(pipe[0].get_feature_names_out())
    assert "frequency__zip_code_frequency" in names and "text_note__unhappy" in names
    assert "ratio_total_charges_tenure_months__total_charges_per_tenure_months" in names


def test_frequency_encoding_and_unseen_levels() -> None:
    x, y = _data(500)
    ct = make_transformer({"frequency": ["region"], "drop": list(x.columns)}, x).fit(x, y)
    shares = x["region"].value_counts(normalize=True)
    out = ct.transform(x)
    np.testing.assert_allclose(out[:, -1], x["region"].map(shares).to_numpy(), rtol=1e-12)
    unseen = x.head(2).assign(region="atlantis")
    assert (ct.transform(unseen)[:, -1] == 0).all()


def test_target_encoding_is_cross_fitted() -> None:
    x, y = _data(2000)
    spec = {"target_encode": ["zip_code"], "drop": [c for c in x.columns if c != "zip_code"]}
    ct = make_transformer(spec, x)
    fitted = ct.fit_transform(x, y)[:, -1]
    reference = TargetEncoder(cv=KFold(5, shuffle=True, random_state=0)).fit_transform(
        x[["zip_code"]], y
    )[:, 0]
    np.testing.assert_allclose(fitted, reference, rtol=1e-12)
    in_sample = ct.transform(x)[:, -1]  # encoding with every row's own target included
    assert not np.allclose(fitted, in_sample)


def test_zero_denominators_are_imputed_and_one_hot_is_capped() -> None:
    x, y = _data(800)
    x.loc[:9, "tenure_months"] = 0
    spec = {"ratios": ["total_charges/tenure_months"], "onehot": ["zip_code"], "onehot_max": 5}
    ct = make_transformer({**spec, "drop": ["customer_id", "note"]}, x).fit(x, y)
    names = list(ct.get_feature_names_out())
    assert sum(n.startswith("onehot__") for n in names) == 5
    ratio = ct.transform(x)[
        :, names.index("ratio_total_charges_tenure_months__total_charges_per_tenure_months")
    ]
    valid = x["total_charges"] / x["tenure_months"].replace(0, np.nan)
    np.testing.assert_allclose(ratio[:10], np.nanmedian(valid), rtol=1e-12)


def test_bad_specs_are_refused() -> None:
    x, _ = _data(200)
    with pytest.raises(DataError, match="Did you mean 'region'"):
        make_transformer({"onehot": ["regoin"]}, x)
    with pytest.raises(DataError, match="empty in every row"):
        make_transformer({"text": ["note"]}, x.assign(note=""))
    with pytest.raises(DataError, match="numerator/denominator"):
        make_transformer({"ratios": ["total_charges"]}, x)


def test_imputation_report_holds_critical_columns_to_two_percent() -> None:
    x, _ = _data(2000)
    spec = TransformSpec(critical=["satisfaction", "tenure_months"])
    rows = {r["column"]: r for r in imputation_report(spec, x)}
    assert rows["satisfaction"]["critical_ok"] is False  # about 20% imputed
    assert rows["tenure_months"]["critical_ok"] is True
    assert rows["referral_code"]["imputed_with"] == "'(missing)' level"


def test_selection_inside_the_pipeline_removes_the_leak_within_each_fold() -> None:
    from sds.features.transform import FeatureTransformer

    x, y = _data(3000)
    x = x.drop(columns="note")
    spec = {"onehot": ["contract", "region", "payment_method"], "frequency": ["zip_code"]}
    model = HistGradientBoostingClassifier(random_state=0)
    leaky = cross_val_score(
        make_pipeline(FeatureTransformer(spec), model), x, y, cv=3, scoring="roc_auc"
    )
    selected = make_pipeline(FeatureTransformer(spec, select=True), model)
    honest = cross_val_score(selected, x, y, cv=3, scoring="roc_auc")
    assert leaky.mean() > 0.95 > honest.mean() > 0.8  # retention_call leaks the outcome
    selected.fit(x, y)
    step = selected[0]
    assert "retention_call" not in step.columns_ and "zip_code" in step.columns_
    assert "frequency__zip_code_frequency" in step.get_feature_names_out()
    again = pickle.loads(pickle.dumps(selected))
    np.testing.assert_array_equal(again.predict_proba(x), selected.predict_proba(x))
