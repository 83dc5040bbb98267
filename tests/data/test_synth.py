"""The generators are deterministic, stream to Parquet identically, and keep their word:
each documented true parameter is recovered by an independent estimator (scipy,
statsmodels) within a few standard errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from sds.data import synth
from sds.errors import ParameterError


def test_same_seed_same_rows_and_other_seed_differs() -> None:
    a = synth.make_ab_test(n_users=5_000, seed=1)
    pd.testing.assert_frame_equal(a, synth.make_ab_test(n_users=5_000, seed=1))
    assert not a.equals(synth.make_ab_test(n_users=5_000, seed=2))


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("churn", {"n_rows": synth.BLOCK + 123}),
        ("ab_test", {"n_users": 1_000}),
        ("transactions", {"n_customers": 500}),
        ("panel", {"n_units": 300, "staggered": True}),
    ],
)
def test_parquet_stream_equals_memory(tmp_path: Path, name: str, kwargs: dict[str, int]) -> None:
    path = synth.write_parquet(name, tmp_path / f"{name}.parquet", seed=5, **kwargs)
    pd.testing.assert_frame_equal(pd.read_parquet(path), synth.make(name, seed=5, **kwargs))
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.parquet"]


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ParameterError, match=r"baseline_conversion == 1\.5"):
        synth.make_ab_test(n_users=10, baseline_conversion=1.5)
    with pytest.raises(ParameterError, match="generator == 'nope'"):
        synth.make("nope")
    with pytest.raises(ParameterError, match="bad arguments for generator 'churn'"):
        synth.make("churn", n_rows=10, colour="red")


def test_ab_test_true_rates() -> None:
    p = synth.ABTestParams(n_users=400_000, lift=0.2)
    df = synth.make_ab_test(n_users=p.n_users, lift=p.lift, seed=11)
    for variant, truth in (
        ("control", p.baseline_conversion),
        ("treatment", p.treatment_conversion),
    ):
        arm = df[df["variant"] == variant]
        test = stats.binomtest(int(arm["converted"].sum()), len(arm), truth)
        assert test.pvalue > 0.001, (variant, arm["converted"].mean(), truth)
    control = df.loc[df["variant"] == "control", "revenue"]
    z = (control.mean() - p.revenue_per_user_control) / (control.std() / np.sqrt(len(control)))
    assert abs(z) < 4
    share = (df["variant"] == "treatment").mean()
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / len(df))
    assert df["pre_revenue"].corr(df["revenue"]) > 0.1  # the CUPED covariate carries signal
    assert (df["sessions"] >= 1).all()
    assert ((df["orders"] > 0) == (df["converted"] == 1)).all()


def test_churn_coefficients_and_planted_columns() -> None:
    p = synth.ChurnParams(n_rows=150_000)
    df = synth.make_churn(n_rows=p.n_rows, seed=3)
    features = pd.DataFrame(
        {
            "tenure_months": df["tenure_months"],
            "monthly_charges": df["monthly_charges"],
            "support_calls": df["support_calls"],
            "last_login_days": df["last_login_days"],
            "month_to_month": (df["contract"] == "month-to-month").astype(float),
            "region_south": (df["region"] == "south").astype(float),
        }
    )
    fit = sm.Logit(df["churned"], sm.add_constant(features.astype(float))).fit(disp=0)
    truth = {"const": p.intercept, **p.coefficients}
    for name, value in truth.items():
        assert abs(fit.params[name] - value) < 4 * fit.bse[name], name
    assert df["country"].nunique() == 1
    assert (df["monthly_fee"] == df["monthly_charges"]).all()
    assert abs(df["referral_code"].isna().mean() - (1 - p.referral_share)) < 0.005
    assert abs(df["satisfaction"].isna().mean() - p.satisfaction_null_share) < 0.01
    assert abs((df["retention_call"] == df["churned"]).mean() - (1 - p.leak_noise)) < 0.005
    assert df["customer_id"].is_unique
    assert df["zip_code"].nunique() > 0.9 * p.n_zip_codes
    rates = df.groupby("gender")["churned"].mean()
    assert rates["F"] - rates["M"] > 0.02  # the planted proxy unfairness


def test_panel_twfe_recovers_effect() -> None:
    p = synth.PanelParams(n_units=400, effect=2.0)
    df = synth.make_panel(n_units=p.n_units, effect=p.effect, seed=4)
    fit = smf.ols("y ~ d + x + C(unit) + C(period)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["unit"]}
    )
    assert abs(fit.params["d"] - p.effect) < 4 * fit.bse["d"]
    assert abs(fit.params["x"] - p.beta_x) < 4 * fit.bse["x"]
    assert len(df) == p.n_units * p.n_periods
    assert ((df["d"] == 1) == ((df["treated"] == 1) & (df["post"] == 1))).all()


def test_staggered_panel_cohorts() -> None:
    df = synth.make_panel(n_units=600, staggered=True, seed=9)
    assert set(df["cohort"].unique()) == {0, 4, 6, 8}
    on = df[df["cohort"] > 0]
    assert ((on["d"] == 1) == (on["period"] >= on["cohort"])).all()
    assert (df.loc[df["cohort"] == 0, "d"] == 0).all()


def test_transactions_volume_and_order() -> None:
    p = synth.TransactionParams(n_customers=20_000)
    df = synth.make_transactions(n_customers=p.n_customers, seed=8)
    expected = p.n_customers * p.mean_per_month * 0.75 * p.months
    assert abs(len(df) / expected - 1) < 0.05
    assert df["transaction_id"].is_unique
    assert df.groupby("customer_id")["ts"].apply(lambda s: s.is_monotonic_increasing).all()
    assert (df["amount"] > 0).all()
    assert abs(df["amount"].mean() / p.mean_amount - 1) < 0.1
