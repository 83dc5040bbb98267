"""sds.stats.distributions against scipy.stats on a grid with the edges (0 and 1 tails, infinite and
NaN points, non-positive and infinite degrees of freedom): equal to 1e-12 relative, and NaN
exactly where scipy.stats gives NaN."""

from __future__ import annotations

import itertools
import math
import warnings

import pytest
from scipy import stats

from sds.stats import distributions as tails

POINTS = [-math.inf, -40.0, -3.2, -1e-300, 0.0, 1e-300, 0.7, 1.96, 8.5, 40.0, math.inf, math.nan]
DFS = [-1.0, 0.0, 1e-3, 0.5, 1.0, 2.5, 30.0, 1e6, 1e20, math.inf, math.nan]
TAILS = [0.0, 1e-300, 1e-12, 0.025, 0.5, 0.975, 1 - 1e-12, 1.0, math.nan]
REL = 1e-12


def same(ours: float, reference: float) -> bool:
    if math.isnan(reference):
        return math.isnan(ours)
    return ours == pytest.approx(float(reference), rel=REL, abs=0.0)


@pytest.mark.parametrize("x", POINTS)
def test_normal_tails_equal_scipy(x: float) -> None:
    assert same(tails.norm_cdf(x), stats.norm.cdf(x))
    assert same(tails.norm_sf(x), stats.norm.sf(x))


@pytest.mark.parametrize("q", TAILS)
def test_normal_quantile_equals_scipy(q: float) -> None:
    assert same(tails.norm_isf(q), stats.norm.isf(q))


@pytest.mark.parametrize(("x", "df"), list(itertools.product(POINTS, DFS)))
def test_t_and_chi2_tails_equal_scipy(x: float, df: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert same(tails.t_sf(x, df), stats.t.sf(x, df))
        assert same(tails.t_cdf(x, df), stats.t.cdf(x, df))
        assert same(tails.chi2_sf(x, df), stats.chi2.sf(x, df))


@pytest.mark.parametrize(("q", "df"), list(itertools.product(TAILS, DFS)))
def test_t_quantile_equals_scipy(q: float, df: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert same(tails.t_isf(q, df), stats.t.isf(q, df))


# The shared statistics that moved from scipy.stats/statsmodels to these tails, at 1e-12.
COUNTS = [(480, 5000, 540, 5000), (400, 800, 396, 800), (5, 10, 5, 10), (51_234, 1e6, 50_321, 1e6)]


@pytest.mark.parametrize("counts", COUNTS)
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("alpha", [0.05, 0.001])
def test_two_proportion_z_equals_statsmodels(
    counts: tuple[int, int, int, int], alternative: str, alpha: float
) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    from sds.stats.proportions import Z_METHOD, compare_proportions, relative_proportions

    xt, nt, xc, nc = (int(c) for c in counts)
    est = compare_proportions(xt, nt, xc, nc, alpha=alpha, alternative=alternative)
    sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
    z, p = proportions_ztest([xt, xc], [nt, nc], alternative=sm)
    low, high = confint_proportions_2indep(xt, nt, xc, nc, method="wald", alpha=alpha)
    assert est.method.startswith(Z_METHOD)
    assert est.statistic == pytest.approx(z, rel=REL)
    assert est.p_value == pytest.approx(p, rel=REL)
    assert (est.ci_lower, est.ci_upper) == pytest.approx((low, high), rel=REL)
    rel = relative_proportions(xt, nt, xc, nc, alpha=alpha)
    r_low, r_high = confint_proportions_2indep(
        xt, nt, xc, nc, method="log", compare="ratio", alpha=alpha
    )
    assert (rel.ci_lower, rel.ci_upper) == pytest.approx((r_low - 1, r_high - 1), rel=REL)


@pytest.mark.parametrize("equal_var", [False, True])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_difference_equals_scipy(equal_var: bool, alternative: str) -> None:
    from sds.stats.twosample import mean_difference

    args = (1_000, 10.3, 4.1, 1_200, 10.0, 3.2)
    est = mean_difference(*args, alpha=0.01, equal_var=equal_var, alternative=alternative)
    nt, mt, vt, nc, mc, vc = args
    ref = stats.ttest_ind_from_stats(
        mt, math.sqrt(vt), nt, mc, math.sqrt(vc), nc, equal_var=equal_var, alternative=alternative
    )
    assert est.statistic == pytest.approx(ref.statistic, rel=REL)
    assert est.p_value == pytest.approx(ref.pvalue, rel=REL)
    crit = stats.t.isf(0.005 if alternative == "two-sided" else 0.01, est.df)
    bound = {"greater": est.ci_lower, "less": est.ci_upper}.get(alternative, est.ci_upper)
    sign = -1 if alternative == "greater" else 1
    assert bound == pytest.approx(mt - mc + sign * crit * est.std_error, rel=REL)
