"""Correlation, normality and equal-variance tests against R's output, scipy and pingouin.

R reference: ``?cor.test`` (Hollander & Wolfe 1973, p. 187) with
``cor.test(x, y, method = "kendall", alternative = "greater")``: T = 26, p-value = 0.05972,
tau = 0.4444444; ``method = "spearman"`` prints rho = 0.6.
"""

from __future__ import annotations

import numpy as np
import pingouin as pg
import pytest
from scipy import stats

from sds.errors import DataError, ParameterError
from sds.stats.correlation import correlation
from sds.stats.distribution import equal_variance, normality

HW_X = [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1]
HW_Y = [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8]
TOL = 1e-8


def test_r_cor_test_example() -> None:
    tau = correlation(HW_X, HW_Y, method="kendall", alternative="greater")
    assert (round(tau.statistic, 7), round(tau.p_value, 5)) == (0.4444444, 0.05972)
    rho = correlation(HW_X, HW_Y, method="spearman")
    assert rho.statistic == pytest.approx(0.6, abs=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
@pytest.mark.parametrize(("n", "rho", "seed"), [(15, 0.0, 1), (60, 0.5, 2), (300, -0.3, 3)])
def test_correlation_against_pingouin(method: str, n: int, rho: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    got = correlation(x, y, method=method)
    ref = pg.corr(x, y, method=method)
    assert got.statistic == pytest.approx(ref["r"].iloc[0], rel=TOL, abs=1e-12)
    assert got.p_value == pytest.approx(ref["p_val"].iloc[0], rel=TOL)
    if method == "kendall":  # pingouin's 1/sqrt(n-3) is too wide for tau: test_orientation
        return
    ci = pg.compute_esci(got.statistic, n, n, eftype="r", decimals=12)  # as pg.corr, unrounded
    assert (got.ci_lower, got.ci_upper) == pytest.approx(tuple(ci), rel=TOL)
    assert (got.ci_lower, got.ci_upper) == pytest.approx(tuple(ref["CI95"].iloc[0]), abs=5e-3)
    if method == "pearson":
        sp = stats.pearsonr(x, y).confidence_interval(0.95)
        assert (got.ci_lower, got.ci_upper) == pytest.approx((sp.low, sp.high), rel=TOL)


@pytest.mark.parametrize("seed", [1, 2])
def test_normality_against_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.gamma(4.0, 1.0, 150)
    sh = normality(x, method="shapiro")
    assert (sh.statistic, sh.p_value) == pytest.approx(tuple(stats.shapiro(x)), rel=TOL)
    da = normality(x, method="dagostino")
    assert (da.statistic, da.p_value) == pytest.approx(tuple(stats.normaltest(x)), rel=TOL)
    ad = normality(x, method="anderson")
    ref = stats.anderson(x, method="interpolate")
    assert (ad.statistic, ad.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=TOL)
    assert sh.assumptions["skewness"] == pytest.approx(stats.skew(x), rel=TOL)


def test_variance_tests_against_scipy_and_pingouin() -> None:
    rng = np.random.default_rng(4)
    groups = {"a": rng.normal(0, 1, 30), "b": rng.normal(0, 2, 25), "c": rng.normal(0, 1, 40)}
    lev = equal_variance(groups)
    ref = stats.levene(*groups.values(), center="mean")
    assert (lev.statistic, lev.p_value) == pytest.approx(tuple(ref), rel=TOL)
    bf = equal_variance(groups, center="median")
    long = np.concatenate(list(groups.values()))
    labels = np.repeat(list(groups), [len(v) for v in groups.values()])
    import pandas as pd

    pg_bf = pg.homoscedasticity(pd.DataFrame({"y": long, "g": labels}), dv="y", group="g")
    assert bf.statistic == pytest.approx(pg_bf["W"].iloc[0], rel=TOL)
    assert bf.test == "Brown-Forsythe test"


def test_bad_input() -> None:
    with pytest.raises(DataError, match="constant"):
        correlation([1, 2, 3, 4], [5, 5, 5, 5])
    with pytest.raises(DataError, match="at least 3 complete pairs"):
        correlation([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ParameterError, match="method == 'pearsn'"):
        correlation([1, 2, 3], [1, 2, 3], method="pearsn")
    with pytest.raises(DataError, match="needs at least 8 values"):
        normality([1.0, 2.0, 3.0], method="dagostino")
    with pytest.raises(DataError, match="all values are equal"):
        normality([2.0] * 10)
    with pytest.raises(DataError, match="needs at least 2 groups"):
        equal_variance({"a": [1.0, 2.0]})
