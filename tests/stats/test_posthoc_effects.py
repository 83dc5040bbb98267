"""Post-hoc comparisons, effect-size intervals, proportions and multiple testing.

References:
- R, ``TukeyHSD(aov(weight ~ group, data = PlantGrowth))``:
  trt1-ctrl diff -0.371, lwr -1.0622161, upr 0.3202161, p adj 0.3908711;
  trt2-ctrl 0.494, -0.1972161, 1.1852161, 0.1979960; trt2-trt1 0.865, 0.1737839, 1.5562161,
  0.0120064.
- R, ``fisher.test(Job)`` (``?fisher.test``, job satisfaction by income): p-value = 0.7827.
- Games-Howell, Hedges' g: pingouin. Risk and odds ratio intervals: scipy's
  ``relative_risk`` and ``odds_ratio(kind="sample")`` (an implementation independent of the
  statsmodels one sds wraps). Two-proportion z: statsmodels.
- p-value adjustments: hand-worked values for p = (0.01, 0.02, 0.03, 0.04, 0.05).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from scipy.stats.contingency import odds_ratio, relative_risk
from statsmodels.stats.proportion import proportions_ztest

from sds.errors import DataError, ParameterError
from sds.stats import effect_sizes as es
from sds.stats.anova import kruskal_wallis, one_way_anova, welch_anova
from sds.stats.contingency import chi_square_independence, fisher_exact, two_proportion_z
from sds.stats.multiple import adjust
from sds.stats.ttest import ttest

PLANT = {
    "ctrl": [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14],
    "trt1": [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
    "trt2": [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26],
}
TOL = 1e-8


def test_r_tukey_plantgrowth() -> None:
    rows = {(r["group_a"], r["group_b"]): r for r in one_way_anova(PLANT).comparisons}
    # R reports b - a for the pair (a, b); sds reports a - b.
    expected = {
        ("ctrl", "trt1"): (-0.371, -1.0622161, 0.3202161, 0.3908711),
        ("ctrl", "trt2"): (0.494, -0.1972161, 1.1852161, 0.1979960),
        ("trt1", "trt2"): (0.865, 0.1737839, 1.5562161, 0.0120064),
    }
    for pair, (diff, lwr, upr, p) in expected.items():
        row = rows[pair]
        assert round(-row["difference"], 3) == diff
        assert (round(-row["ci_upper"], 7), round(-row["ci_lower"], 7)) == (lwr, upr)
        assert round(row["p_adjusted"], 7) == p


def test_games_howell_against_pingouin() -> None:
    rng = np.random.default_rng(2)
    groups = {"a": rng.normal(0, 1, 20), "b": rng.normal(0.8, 3, 35), "c": rng.normal(0.2, 2, 15)}
    got = welch_anova(groups).comparisons
    df = pd.DataFrame(
        {"y": np.concatenate(list(groups.values())), "g": np.repeat(list(groups), [20, 35, 15])}
    )
    ref = pg.pairwise_gameshowell(df, dv="y", between="g")
    for row, (_, r) in zip(got, ref.iterrows(), strict=True):
        assert (row["group_a"], row["group_b"]) == (r["A"], r["B"])
        assert row["difference"] == pytest.approx(r["diff"], rel=TOL)
        assert row["t"] == pytest.approx(r["T"], rel=TOL)
        assert row["df"] == pytest.approx(r["df"], rel=TOL)
        assert row["p_adjusted"] == pytest.approx(r["pval"], rel=1e-6)
        assert row["hedges_g"] == pytest.approx(r["hedges"], rel=TOL)


def test_kruskal_pairwise_follow_up_is_holm_adjusted() -> None:
    rows = kruskal_wallis(PLANT).comparisons
    raw = [stats.mannwhitneyu(PLANT[r["group_a"]], PLANT[r["group_b"]]).pvalue for r in rows]
    assert [r["p_adjusted"] for r in rows] == pytest.approx(adjust(raw, "holm"), rel=TOL)


def test_hedges_g_against_pingouin() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(0.5, 1, 18), rng.normal(0, 1, 24)
    g, lo, hi = ttest(x, y).other_effect_sizes["hedges_g"]
    assert g == pytest.approx(pg.compute_effsize(x, y, eftype="hedges"), rel=TOL)
    ci = pg.compute_esci(g, 18, 24, eftype="cohen", decimals=12)
    assert (lo, hi) == pytest.approx(tuple(ci), rel=TOL)


def test_glass_delta_interval_covers() -> None:
    """Seeded simulation: Algina et al.'s interval covers the true delta about 95% of runs."""
    rng = np.random.default_rng(5)
    hits, runs = 0, 2000
    truth = 0.5 / 1.5  # mean difference over the control's standard deviation
    for _ in range(runs):
        x, y = rng.normal(0.5, 1.0, 40), rng.normal(0.0, 1.5, 40)
        _, (lo, hi) = es.glass_delta(x, y)
        hits += lo <= truth <= hi
    assert 0.935 <= hits / runs <= 0.965


def test_eta_squared_interval_inverts_noncentral_f_and_covers() -> None:
    f, df1, df2 = 4.846, 2, 27
    lo, hi = es.eta_squared_interval(f, df1, df2)
    ncp_lo, ncp_hi = 30 * lo / (1 - lo), 30 * hi / (1 - hi)
    assert stats.ncf.cdf(f, df1, df2, ncp_lo) == pytest.approx(0.975, abs=1e-8)
    assert stats.ncf.cdf(f, df1, df2, ncp_hi) == pytest.approx(0.025, abs=1e-8)
    rng = np.random.default_rng(6)
    means, n = np.array([0.0, 0.5, 1.0]), 20
    truth = means.var() / (means.var() + 1.0)  # population eta squared
    hits, runs = 0, 1000
    for _ in range(runs):
        f_stat = stats.f_oneway(*(rng.normal(m, 1.0, n) for m in means)).statistic
        lo, hi = es.eta_squared_interval(float(f_stat), 2, 3 * n - 3)
        hits += lo <= truth <= hi
    assert 0.935 <= hits / runs <= 0.965


def test_cramers_v_interval_inverts_noncentral_chi_square() -> None:
    table = np.array([[762, 327, 468], [484, 239, 477]])
    res = chi_square_independence(table)
    chi2 = stats.chi2_contingency(table, correction=False).statistic
    n, df = table.sum(), 2
    for limit, tail in ((res.effect_size_ci_lower, 0.975), (res.effect_size_ci_upper, 0.025)):
        ncp = limit**2 * n * 1 - df
        assert stats.ncx2.cdf(chi2, df, ncp) == pytest.approx(tail, abs=1e-8)


def test_fisher_rxc_matches_r_job_satisfaction() -> None:
    job = np.array([[1, 2, 1, 0], [3, 3, 6, 1], [10, 10, 14, 9], [6, 7, 12, 11]]).T
    res = fisher_exact(job)
    se = res.assumptions["p_value_standard_error"]
    assert abs(res.p_value - 0.7827) < 4 * se
    assert fisher_exact(job).p_value == res.p_value  # seeded: reproducible


def test_two_proportion_z_and_ratios() -> None:
    res = two_proportion_z([120, 95], [1000, 1010])
    z, p = proportions_ztest([120, 95], [1000, 1010])
    assert (res.statistic, res.p_value) == pytest.approx((z, p), rel=TOL)
    rr = relative_risk(120, 1000, 95, 1010)
    rr_ci = rr.confidence_interval(0.95)
    assert res.other_effect_sizes["risk_ratio"] == pytest.approx(
        (rr.relative_risk, rr_ci.low, rr_ci.high), rel=TOL
    )
    orr = odds_ratio([[120, 880], [95, 915]], kind="sample")
    or_ci = orr.confidence_interval(0.95)
    assert res.other_effect_sizes["odds_ratio"] == pytest.approx(
        (orr.statistic, or_ci.low, or_ci.high), rel=TOL
    )
    with pytest.raises(DataError, match="between 0 and the group total"):
        two_proportion_z([12, 200], [100, 100])


def test_adjustments_hand_worked() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    assert adjust(p, "bonferroni") == pytest.approx([0.05, 0.10, 0.15, 0.20, 0.25])
    assert adjust(p, "holm") == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    assert adjust(p, "hochberg") == pytest.approx([0.05] * 5)
    assert adjust(p, "benjamini-hochberg") == pytest.approx([0.05] * 5)
    assert adjust([0.2, float("nan")], "holm")[1] != adjust([0.2, float("nan")], "holm")[1]
    with pytest.raises(ParameterError, match="correction == 'fdr'"):
        adjust(p, "fdr")
