"""Regression: OLS, logistic and Poisson with robust errors and diagnostics.

References:
- NIST StRD, Longley (higher difficulty linear regression), certified values:
  https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml
- Greene, *Econometric Analysis*, logit of Spector & Mazzeo (1980) grade data:
  constant -13.021, GPA 2.826, TUCE 0.095, PSI 2.379 (s.e. 4.931, 1.263, 0.142, 1.065).
- R, ``?glm`` (Dobson 1990, randomized controlled trial), ``glm(counts ~ outcome +
  treatment, family = poisson())``: (Intercept) 3.045e+00 (s.e. 1.709e-01), outcome2
  -4.543e-01 (2.022e-01), outcome3 -2.930e-01 (1.927e-01); null deviance 10.5814 on 8 df,
  residual deviance 5.1291 on 4 df, AIC 56.761.
- The grid: statsmodels' array interface (``sm.OLS``, and the discrete ``sm.Logit`` /
  ``sm.Poisson`` models, a different estimator code path than the GLM that sds wraps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sds.errors import DataError, ParameterError
from sds.stats.regression import formula_columns, regress

TOL = 1e-8


def _frame(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.exponential(size=n),
            "g": rng.choice(["a", "b", "c"], size=n),
            "cl": rng.integers(0, 25, size=n),
        }
    )
    scale = 1 + 0.5 * np.abs(df.x1)  # heteroskedastic on purpose: robust errors differ
    df["y"] = 1 + 0.5 * df.x1 - 0.3 * df.x2 + (df.g == "b") * 0.4 + rng.normal(size=n) * scale
    eta = -0.3 + 0.8 * df.x1 - 0.4 * df.x2
    df["yb"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["yc"] = rng.poisson(np.exp(0.2 + 0.3 * df.x1 - 0.2 * df.x2))
    return df


def _design(df: pd.DataFrame) -> pd.DataFrame:
    x = pd.DataFrame({"x1": df.x1, "x2": df.x2})
    x["gb"] = (df.g == "b").astype(float)
    x["gc"] = (df.g == "c").astype(float)
    return sm.add_constant(x)


def _by_term(result: object, key: str) -> np.ndarray:
    rows = result.to_dict()["coefficients"]  # type: ignore[attr-defined]
    order = ["Intercept", "x1", "x2", "C(g)[T.b]", "C(g)[T.c]"]
    by = {r["term"]: r[key] for r in rows}
    return np.array([by[t] for t in order])


def _ref_order(values: object) -> np.ndarray:
    s = pd.Series(values, index=["const", "x1", "x2", "gb", "gc"]).astype(float)
    return s.to_numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cov", ["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"])
def test_ols_matches_statsmodels(seed: int, cov: str) -> None:
    df = _frame(seed)
    kwargs = {"groups": df.cl.to_numpy()} if cov == "cluster" else {}
    ref = sm.OLS(df.y, _design(df)).fit(cov_type=cov, cov_kwds=kwargs or None)
    res = regress(
        df, "y ~ x1 + x2 + C(g)", cov_type=cov, cluster="cl" if cov == "cluster" else None
    )
    np.testing.assert_allclose(_by_term(res, "estimate"), _ref_order(ref.params), rtol=TOL)
    np.testing.assert_allclose(_by_term(res, "std_error"), _ref_order(ref.bse), rtol=TOL)
    np.testing.assert_allclose(_by_term(res, "p_value"), _ref_order(ref.pvalues), rtol=1e-7)
    ci = ref.conf_int()
    np.testing.assert_allclose(_by_term(res, "ci_lower"), _ref_order(ci[0]), rtol=TOL)
    np.testing.assert_allclose(_by_term(res, "ci_upper"), _ref_order(ci[1]), rtol=TOL)
    assert res.statistic == pytest.approx(float(ref.fvalue), rel=TOL)
    assert res.p_value == pytest.approx(float(ref.f_pvalue), rel=1e-7)
    assert res.effect_size == pytest.approx(ref.rsquared, rel=TOL)
    assert res.cov_type == cov


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cov", ["nonrobust", "HC0", "cluster"])
@pytest.mark.parametrize("family", ["logit", "poisson"])
def test_glm_matches_discrete_models(seed: int, cov: str, family: str) -> None:
    df = _frame(seed)
    y = df.yb if family == "logit" else df.yc
    model = sm.Logit(y, _design(df)) if family == "logit" else sm.Poisson(y, _design(df))
    extra = {"cov_kwds": {"groups": df.cl.to_numpy()}} if cov == "cluster" else {}
    ref = model.fit(disp=0, cov_type=cov, tol=1e-12, maxiter=200, **extra)
    outcome = "yb" if family == "logit" else "yc"
    res = regress(
        df,
        f"{outcome} ~ x1 + x2 + C(g)",
        family=family,
        cov_type=cov,
        cluster="cl" if cov == "cluster" else None,
    )
    # two optimizers (IRLS and Newton), both run to tight convergence
    np.testing.assert_allclose(_by_term(res, "estimate"), _ref_order(ref.params), rtol=TOL)
    np.testing.assert_allclose(_by_term(res, "std_error"), _ref_order(ref.bse), rtol=TOL)
    ratio = "odds_ratio" if family == "logit" else "rate_ratio"
    np.testing.assert_allclose(_by_term(res, ratio), np.exp(_ref_order(ref.params)), rtol=TOL)
    assert res.statistic == pytest.approx(float(ref.llr), rel=TOL)
    assert res.p_value == pytest.approx(float(ref.llr_pvalue), rel=1e-7)
    assert res.effect_size == pytest.approx(float(ref.prsquared), rel=TOL)


def test_nist_longley_certified_values() -> None:
    data = sm.datasets.longley.load_pandas().data
    res = regress(data, "TOTEMP ~ GNPDEFL + GNP + UNEMP + ARMED + POP + YEAR", cov_type="nonrobust")
    certified = {
        "Intercept": (-3482258.63459582, 890420.383607373),
        "GNPDEFL": (15.0618722713733, 84.9149257747669),
        "GNP": (-0.358191792925910e-01, 0.334910077722432e-01),
        "UNEMP": (-2.02022980381683, 0.488399681651699),
        "ARMED": (-1.03322686717359, 0.214274163161675),
        "POP": (-0.511041056535807e-01, 0.226073200069370),
        "YEAR": (1829.15146461355, 455.478499142212),
    }
    rows = {r["term"]: r for r in res.to_dict()["coefficients"]}
    for term, (estimate, se) in certified.items():
        assert rows[term]["estimate"] == pytest.approx(estimate, rel=1e-7), term
        assert rows[term]["std_error"] == pytest.approx(se, rel=1e-7), term
    assert res.effect_size == pytest.approx(0.995479004577296, rel=1e-10)
    assert res.fit["residual_std_error"] == pytest.approx(304.854073561965, rel=1e-8)
    assert res.statistic == pytest.approx(330.285339234588, rel=1e-7)  # certified F
    # Longley is the textbook case of collinearity: the report must say so
    assert res.assumptions["no_severe_collinearity"] is False
    assert any("VIF above 10" in w and "GNP" in w for w in res.warnings)


def test_greene_spector_logit() -> None:
    data = sm.datasets.spector.load_pandas().data
    res = regress(data, "GRADE ~ GPA + TUCE + PSI", family="logit", cov_type="nonrobust")
    rows = {r["term"]: r for r in res.to_dict()["coefficients"]}
    published = {
        "Intercept": (-13.021, 4.931),
        "GPA": (2.826, 1.263),
        "TUCE": (0.095, 0.142),
        "PSI": (2.379, 1.065),
    }
    for term, (estimate, se) in published.items():
        assert rows[term]["estimate"] == pytest.approx(estimate, abs=5e-4), term
        assert rows[term]["std_error"] == pytest.approx(se, abs=5e-4), term


def test_r_dobson_poisson() -> None:
    data = pd.DataFrame(
        {
            "counts": [18, 17, 15, 20, 10, 20, 25, 13, 12],
            "outcome": ["1", "2", "3"] * 3,
            "treatment": ["1"] * 3 + ["2"] * 3 + ["3"] * 3,
        }
    )
    res = regress(data, "counts ~ outcome + treatment", family="poisson", cov_type="nonrobust")
    rows = {r["term"]: r for r in res.to_dict()["coefficients"]}
    assert rows["Intercept"]["estimate"] == pytest.approx(3.045, abs=5e-4)
    assert rows["Intercept"]["std_error"] == pytest.approx(0.1709, abs=5e-5)
    assert rows["outcome[T.2]"]["estimate"] == pytest.approx(-0.4543, abs=5e-5)
    assert rows["outcome[T.2]"]["std_error"] == pytest.approx(0.2022, abs=5e-5)
    assert rows["outcome[T.3]"]["estimate"] == pytest.approx(-0.2930, abs=5e-5)
    assert rows["outcome[T.3]"]["std_error"] == pytest.approx(0.1927, abs=5e-5)
    assert rows["treatment[T.2]"]["std_error"] == pytest.approx(0.2000, abs=5e-5)
    assert res.fit["deviance"] == pytest.approx(5.1291, abs=5e-5)
    assert res.fit["null_deviance"] == pytest.approx(10.5814, abs=5e-5)
    assert res.fit["df_resid"] == 4
    assert res.fit["aic"] == pytest.approx(56.761, abs=5e-4)
    assert res.statistic == pytest.approx(10.5814 - 5.1291, abs=1e-4)  # LR = deviance drop


def test_defaults_are_robust_and_json_has_the_contract_keys() -> None:
    df = _frame(3)
    ols = regress(df, "y ~ x1")
    assert ols.cov_type == "HC3"
    assert regress(df, "yb ~ x1", family="logit").cov_type == "HC0"
    assert regress(df, "y ~ x1", cluster="cl").cov_type == "cluster"
    d = ols.to_dict()
    for key in ("test", "statistic", "p_value", "df", "effect_size", "effect_size_name"):
        assert d[key] is not None, key
    assert {"ci_lower", "ci_upper", "n", "assumptions", "warnings"} <= set(d)
    assert d["n"] == {"observations": 300, "dropped_missing": 0}
    assert "Coefficients" in ols.to_text()


def test_formula_columns_understands_patsy() -> None:
    columns = ["revenue", "region", "my col", "price"]
    used, unknown = formula_columns(
        "np.log(revenue) ~ C(region, Treatment(reference='s')) + Q('my col') + I(price**2)",
        columns,
    )
    assert used == ["my col", "revenue", "region", "price"]
    assert unknown == []
    assert formula_columns("revenue ~ prise", columns)[1] == ["prise"]


# --- the warnings a careful analyst wants -------------------------------------------------


def test_collinearity_warning_names_the_columns() -> None:
    df = _frame(4)
    df["x1_copy"] = df.x1 + np.random.default_rng(0).normal(scale=0.05, size=len(df))
    res = regress(df, "y ~ x1 + x1_copy + x2")
    ref = sm.OLS(df.y, sm.add_constant(df[["x1", "x1_copy", "x2"]])).fit()
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    assert res.diagnostics["vif"]["x1"] == pytest.approx(
        variance_inflation_factor(ref.model.exog, 1), rel=TOL
    )
    assert res.diagnostics["vif"]["x1"] > 100
    assert any("x1_copy" in w and "VIF" in w for w in res.warnings)


def test_heteroskedasticity_warns_only_with_classical_errors() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, 400)
    df = pd.DataFrame({"x": x, "y": 2 + x + rng.normal(size=400) * x})
    classical = regress(df, "y ~ x", cov_type="nonrobust")
    assert classical.diagnostics["breusch_pagan_p_value"] < 1e-6
    assert any("heteroskedasticity" in w and "HC3" in w for w in classical.warnings)
    robust = regress(df, "y ~ x")
    assert robust.assumptions["constant_error_variance"] is False
    assert not any("heteroskedasticity" in w for w in robust.warnings)


def test_influential_point_is_flagged_by_row_label() -> None:
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"x": rng.normal(size=50)})
    df["y"] = df.x + rng.normal(scale=0.3, size=50)
    df.index = [f"r{i}" for i in range(50)]
    df.loc["r7", ["x", "y"]] = [8.0, -10.0]  # high leverage, wrong side
    res = regress(df, "y ~ x")
    top = res.diagnostics["most_influential"][0]
    assert top["row"] == "r7" and top["cooks_distance"] > 1
    ref = sm.OLS(df.y, sm.add_constant(df.x)).fit().get_influence().cooks_distance[0]
    assert top["cooks_distance"] == pytest.approx(ref.max(), rel=TOL)
    assert any("Cook's distance" in w and "r7" in w for w in res.warnings)


def test_separation_is_a_warning_not_a_crash() -> None:
    df = pd.DataFrame({"x": np.arange(20.0), "y": [0] * 10 + [1] * 10})
    res = regress(df, "y ~ x", family="logit")
    assert any("separation" in w for w in res.warnings)


def test_overdispersion_and_few_events_warn() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=500)
    counts = rng.negative_binomial(1, 1 / (1 + np.exp(1 + 0.3 * x)))
    res = regress(pd.DataFrame({"x": x, "c": counts}), "c ~ x", family="poisson")
    assert res.diagnostics["dispersion"] > 1.5
    assert any("overdispersion" in w for w in res.warnings)
    df = _frame(8, n=60)
    df["rare"] = 0
    df.loc[:4, "rare"] = 1
    rare = regress(df, "rare ~ x1 + x2 + C(g)", family="logit")
    assert rare.diagnostics["events_per_predictor"] == pytest.approx(5 / 4)
    assert any("events per predictor" in w for w in rare.warnings)


def test_missing_rows_are_dropped_and_counted_and_cluster_rows_align() -> None:
    df = _frame(9)
    df.loc[[1, 5, 9], "x2"] = np.nan
    df.loc[12, "cl"] = np.nan
    res = regress(df, "y ~ x1 + x2", cluster="cl")
    assert res.n["observations"] == 296 and res.n["dropped_missing"] == 4
    assert any("dropped 4 of 300 rows" in w for w in res.warnings)
    kept = df.dropna(subset=["x2", "cl"])
    ref = sm.OLS(kept.y, sm.add_constant(kept[["x1", "x2"]])).fit(
        cov_type="cluster", cov_kwds={"groups": kept.cl.to_numpy()}
    )
    rows = {r["term"]: r for r in res.to_dict()["coefficients"]}
    assert rows["x2"]["std_error"] == pytest.approx(float(ref.bse["x2"]), rel=TOL)


def test_boolean_outcome_is_modelled_as_zero_one() -> None:
    df = _frame(10)
    df["flag"] = df.yb.astype(bool)
    a = regress(df, "flag ~ x1", family="logit")
    b = regress(df, "yb ~ x1", family="logit")
    assert a.coefficients[1]["estimate"] == pytest.approx(b.coefficients[1]["estimate"], rel=TOL)


# --- bad input: clear errors, never a traceback from patsy -----------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"formula": "y ~ x1 + x3"}, DataError, ["'x3'", "Did you mean", "x1"]),
        ({"formula": "y ~ x1 +"}, ParameterError, ["formula", "cannot be evaluated"]),
        ({"formula": "y x1"}, ParameterError, ["formula", "'~'"]),
        ({"formula": "y ~ x1", "family": "logit"}, DataError, ["0/1 outcome", "'y'"]),
        ({"formula": "g ~ x1", "family": "logit"}, DataError, ["numeric", "I(g =="]),
        ({"formula": "y ~ x1", "family": "poisson"}, DataError, ["non-negative"]),
        ({"formula": "y ~ x1", "family": "probit"}, ParameterError, ["family", "ols"]),
        ({"formula": "yb ~ x1", "family": "logit", "cov_type": "HC3"}, ParameterError, ["HC0"]),
        ({"formula": "y ~ x1", "cov_type": "cluster"}, ParameterError, ["--cluster"]),
        ({"formula": "y ~ x1", "cluster": "clx"}, DataError, ["'clx'"]),
        ({"formula": "y ~ x1 + x1_twice"}, DataError, ["collinear", "x1_twice"]),
    ],
)
def test_bad_input_is_explained(kwargs: dict[str, str], error: type, words: list[str]) -> None:
    df = _frame(11)
    df["y"] = df.y - 10  # negative values for the Poisson case
    df["x1_twice"] = 2 * df.x1
    formula = kwargs.pop("formula")
    with pytest.raises(error) as info:
        regress(df, formula, **kwargs)  # type: ignore[arg-type]
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_too_few_rows() -> None:
    df = _frame(12, n=3)
    with pytest.raises(DataError, match="too few complete rows"):
        regress(df, "y ~ x1 + x2 + C(g)")


def test_logit_recovers_the_planted_churn_model() -> None:
    from sds.data.synth import ChurnParams, make_churn

    truth = ChurnParams().coefficients
    df = make_churn(seed=3, n_rows=40_000)
    formula = (
        "churned ~ tenure_months + monthly_charges + support_calls + last_login_days"
        " + I(contract == 'month-to-month') + I(region == 'south')"
    )
    res = regress(df, formula, family="logit")
    rows = {r["term"]: r for r in res.to_dict()["coefficients"]}
    planted = {
        **{k: truth[k] for k in ("tenure_months", "monthly_charges", "support_calls")},
        "last_login_days": truth["last_login_days"],
        "I(contract == 'month-to-month')[T.True]": truth["month_to_month"],
        "I(region == 'south')[T.True]": truth["region_south"],
    }
    for term, value in planted.items():
        row = rows[term]
        assert abs(row["estimate"] - value) < 4 * row["std_error"], (term, row, value)
