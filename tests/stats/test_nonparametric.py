"""Rank and sign tests against R's published output, scipy, statsmodels and pingouin.

R references (R's own help examples):
- ``wilcox.test(extra ~ group, data = sleep, paired = TRUE)``: V = 0, p-value = 0.009091
  (normal approximation with continuity correction: one zero difference and ties).
- ``?wilcox.test`` depression data, ``wilcox.test(x, y, paired = TRUE)``: V = 40,
  p-value = 0.03906 (exact); effectsize's tests give ``rank_biserial(x, y, paired = TRUE)``
  r = 0.777, CI 0.2953631 to 0.9441559, and ``rank_biserial(A, B)`` = 0.6071429.
"""

from __future__ import annotations

import numpy as np
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.descriptivestats import sign_test as sm_sign_test
from statsmodels.stats.diagnostic import lilliefors

from sds.errors import DataError
from sds.stats.nonparametric import (
    ks_one_sample,
    ks_two_sample,
    mann_whitney,
    sign_test,
    wilcoxon,
)

SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
DEPRESSION_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPRESSION_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
TOL = 1e-8


def test_r_wilcoxon_examples() -> None:
    sleep = wilcoxon(SLEEP_1, SLEEP_2)
    assert (sleep.statistic, round(sleep.p_value, 6)) == (0.0, 0.009091)
    assert sleep.assumptions["zeros"] == 1 and sleep.assumptions["method"] == "approx"
    dep = wilcoxon(DEPRESSION_X, DEPRESSION_Y)
    assert (dep.statistic, round(dep.p_value, 5)) == (40.0, 0.03906)
    assert dep.effect_size == pytest.approx(0.777, abs=1e-3)  # printed as 0.777 (= 7/9)
    assert dep.effect_size_ci_lower == pytest.approx(0.2953631, abs=1e-7)
    assert dep.effect_size_ci_upper == pytest.approx(0.9441559, abs=1e-7)
    rb = mann_whitney([48, 48, 77, 86, 85, 85, 16], [14, 34, 34, 77])
    assert rb.effect_size == pytest.approx(0.6071429, abs=1e-7)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n", [12, 40, 120])
def test_wilcoxon_and_sign_against_scipy_statsmodels(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.3, 1.0, n)
    y = rng.normal(0.0, 1.0, n)
    got = wilcoxon(x, y)
    method = "exact" if n <= 50 else "approx"
    ref = stats.wilcoxon(x - y, correction=True, method=method)
    assert got.p_value == pytest.approx(ref.pvalue, rel=TOL)
    assert min(got.statistic, got.assumptions["r_minus"]) == pytest.approx(ref.statistic, rel=TOL)
    rbc = pg.wilcoxon(x, y)["RBC"].iloc[0]  # pingouin's matched-pairs rank-biserial
    assert got.effect_size == pytest.approx(rbc, rel=TOL)
    sign = sign_test(x, y)
    assert sign.p_value == pytest.approx(sm_sign_test(x - y)[1], rel=TOL)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_mann_whitney_rank_biserial_interval(alternative: str) -> None:
    rng = np.random.default_rng(7)
    x, y = rng.exponential(1.0, 35), rng.exponential(1.5, 28)
    got = mann_whitney(x, y, alternative=alternative)
    ref = pg.mwu(x, y, alternative=alternative)
    assert got.p_value == pytest.approx(ref["p_val"].iloc[0], rel=TOL)
    z = np.arctanh(got.effect_size)
    se = np.sqrt((35 + 28 + 1) / (3 * 35 * 28))
    assert got.effect_size_ci_lower == pytest.approx(np.tanh(z - 1.959963984540054 * se))


def test_rank_biserial_interval_covers() -> None:
    """Seeded simulation: the 95% interval covers the true rank-biserial about 95% of runs."""
    rng = np.random.default_rng(11)
    shift, n = 0.5, 40
    truth = 2 * stats.norm.cdf(shift / np.sqrt(2)) - 1  # P(X > Y) - P(X < Y), normal shift
    hits = 0
    runs = 600
    for _ in range(runs):
        res = mann_whitney(rng.normal(shift, 1, n), rng.normal(0, 1, n))
        hits += res.effect_size_ci_lower <= truth <= res.effect_size_ci_upper
    assert 0.92 <= hits / runs <= 0.98


def test_ks_tests() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.normal(0, 1, 80), rng.standard_t(3, 60)
    two = ks_two_sample(x, y)
    ref = stats.ks_2samp(x, y)
    assert (two.statistic, two.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=TOL)
    one = ks_one_sample(x, distribution="norm", params=(0.0, 1.0))
    ref1 = stats.kstest(x, "norm", args=(0.0, 1.0))
    assert (one.statistic, one.p_value) == pytest.approx((ref1.statistic, ref1.pvalue), rel=TOL)
    lillie = ks_one_sample(x)
    assert (lillie.statistic, lillie.p_value) == pytest.approx(lilliefors(x), rel=TOL)
    assert "Lilliefors" in lillie.test


def test_bad_input() -> None:
    with pytest.raises(DataError, match="nothing to rank"):
        mann_whitney([1.0, 1.0], [1.0, 1.0])
    with pytest.raises(DataError, match="same length"):
        wilcoxon([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="needs at least 1 values"):
        wilcoxon([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match="every difference is zero"):
        sign_test([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match="needs its parameters"):
        ks_one_sample([1.0, 2.0, 3.0, 4.0, 5.0], distribution="expon")
