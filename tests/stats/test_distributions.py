"""The standard-library normal and chi-square functions and Brent's method equal scipy's:
``scipy.stats.norm`` and ``scipy.stats.chi2`` to 1e-12 (relative), ``scipy.optimize.brentq``
to 1e-12 with the same tolerances; the sample-ratio test and the power calculations built on
them equal their scipy references to 1e-12."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from sds.experiments import power as pw
from sds.stats.distributions import brentq, chi2_sf, norm_cdf, norm_isf, norm_ppf, norm_sf
from sds.stats.split import split_test

RTOL = 1e-12
XS = [-37.0, -20.0, -8.5, -3.0, -1.0, -0.3, -1e-6, 0.0, 1e-6, 0.3, 1.0, 1.96, 3.0, 8.5, 20.0]
PS = [1e-300, 1e-100, 1e-20, 1e-9, 1e-4, 0.001, 0.025, 0.05, 0.2, 0.5, 0.8, 0.975, 0.999]


@pytest.mark.parametrize("x", XS)
def test_normal_probabilities_equal_scipy(x: float) -> None:
    assert norm_cdf(x) == pytest.approx(stats.norm.cdf(x), rel=RTOL, abs=0)
    assert norm_sf(x) == pytest.approx(stats.norm.sf(x), rel=RTOL, abs=0)


@pytest.mark.parametrize("p", PS)
def test_normal_quantiles_equal_scipy(p: float) -> None:
    assert norm_ppf(p) == pytest.approx(stats.norm.ppf(p), rel=RTOL, abs=1e-300)
    assert norm_isf(p) == pytest.approx(stats.norm.isf(p), rel=RTOL, abs=1e-300)


def test_normal_quantile_edges_are_scipys() -> None:
    for p in (0.0, 1.0, -0.1, 1.5, math.nan):
        want = float(stats.norm.ppf(p))
        got = norm_ppf(p)
        assert got == want or (math.isnan(got) and math.isnan(want)), p
        assert -norm_ppf(p) == float(stats.norm.isf(p)) or math.isnan(got)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 19, 20, 49])
def test_chi_square_tail_equals_scipy(df: int) -> None:
    xs = [1e-10, 1e-3, 0.1, 0.5, 1.0, 3.84, 6.63, 10.83, df / 2, df, 2 * df, 60.0, 250.0]
    for x in [*xs, 700.0, 1200.0]:
        want = float(stats.chi2.sf(x, df))
        if want < 1e-290:  # beyond double precision's normal range
            continue
        assert chi2_sf(x, df) == pytest.approx(want, rel=RTOL, abs=0), (df, x)
    assert chi2_sf(0.0, df) == 1.0 == stats.chi2.sf(0.0, df)
    assert chi2_sf(math.inf, df) == 0.0 == stats.chi2.sf(math.inf, df)
    assert math.isnan(chi2_sf(math.nan, df))


def test_chi_square_with_other_degrees_of_freedom_is_scipys() -> None:
    """Fractional or very many degrees of freedom go to scipy.special; none is NaN."""
    for df in (0.5, 1.5, 2.25, 20_000.0, 1e6):
        for x in (0.3, 1.0, df, 2 * df):
            want = float(stats.chi2.sf(x, df))
            assert chi2_sf(x, df) == pytest.approx(want, rel=RTOL, abs=0), (df, x)
    for df in (0, -1, math.nan):
        assert math.isnan(chi2_sf(1.0, df)) and math.isnan(stats.chi2.sf(1.0, df))


def test_brentq_equals_scipy_on_many_brackets() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        centre, slope = rng.uniform(-5, 5), rng.uniform(0.05, 4)

        def f(x: float, c: float = centre, k: float = slope) -> float:
            return math.tanh(k * (x - c)) + 0.01 * (x - c) ** 3

        for tolerances in ({}, {"xtol": 1e-9, "rtol": 1e-12}, {"xtol": 1e-14, "rtol": 1e-12}):
            got = brentq(f, -10.0, 10.0, **tolerances)
            want = optimize.brentq(f, -10.0, 10.0, **tolerances)
            assert got == pytest.approx(want, rel=RTOL, abs=1e-14)


def test_brentq_refuses_what_scipy_refuses() -> None:
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1, -1.0, 1.0)
    with pytest.raises(ValueError, match="different signs"):
        optimize.brentq(lambda x: x * x + 1, -1.0, 1.0)
    with pytest.raises(RuntimeError, match="convergence"):
        brentq(lambda x: x**3 - 2, 0.0, 5.0, maxiter=2)
    assert brentq(lambda x: x, 0.0, 1.0) == 0.0 == optimize.brentq(lambda x: x, 0.0, 1.0)


@pytest.mark.parametrize(
    ("counts", "shares"),
    [
        ([50_500, 49_500], [0.5, 0.5]),
        ([52, 48], [0.5, 0.5]),
        ([20_100, 29_800, 50_100], [0.2, 0.3, 0.5]),
        ([1_000_000, 1_003_000, 998_500, 1_001_200, 999_000], [0.2] * 5),
        ([10, 0], [0.5, 0.5]),
        ([7, 9, 13, 11, 8, 12, 10, 9, 11, 10], [0.1] * 10),
    ],
)
def test_split_test_equals_scipy_chisquare(counts: list[int], shares: list[float]) -> None:
    got = split_test(counts, shares)
    want = stats.chisquare(counts, f_exp=np.asarray(shares) * sum(counts))
    assert got.chi2 == pytest.approx(want.statistic, rel=RTOL, abs=0)
    assert got.p_value == pytest.approx(want.pvalue, rel=RTOL, abs=0)
    assert got.df == len(counts) - 1


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("method", ["pooled", "unpooled", "arcsine"])
def test_power_equals_the_scipy_formula(alternative: str, method: str) -> None:
    """power_at for the z methods against the same formula written with scipy.stats.norm."""
    model = pw.proportion_model(0.1, method)
    for delta in (0.005, 0.02) if alternative != "less" else (-0.005, -0.02):
        for n in (500.0, 12_345.0, 400_000.0):
            var_c, var_t, var0_c, var0_t = model.variances(delta)
            se1 = math.sqrt(var_c / n + var_t / n)
            se0 = math.sqrt(var0_c / n + var0_t / n)
            effect = model.effect(delta)
            a = 0.05 / 2 if alternative == "two-sided" else 0.05
            z = stats.norm.isf(a)
            want = 0.0
            if alternative in ("two-sided", "greater"):
                want += stats.norm.sf(z * se0 / se1 - effect / se1)
            if alternative in ("two-sided", "less"):
                want += stats.norm.cdf(-z * se0 / se1 - effect / se1)
            got = pw.power_at(model, delta, n, 1.0, 0.05, alternative)
            assert got == pytest.approx(want, rel=RTOL, abs=1e-300)
