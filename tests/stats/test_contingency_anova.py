"""Counts and several-group tests against R's printed examples, scipy, statsmodels, pingouin.

R references (as printed by R's own help examples and datasets):
- ``chisq.test(M)`` with M = rbind(c(762, 327, 468), c(484, 239, 477)) (gender by party):
  X-squared = 30.07, df = 2, p-value = 2.954e-07;
- ``chisq.test(c(89, 37, 30, 28, 2), p = c(40, 20, 20, 15, 5) / 100)``: X-squared = 9.9901,
  df = 4, p-value = 0.04059;
- ``fisher.test(TeaTasting, alternative = "greater")`` with TeaTasting = matrix(c(3, 1, 1, 3)):
  p-value = 0.2429, odds ratio 6.408309, interval 0.3135693 to Inf;
- PlantGrowth (R datasets; values copied below): ``summary(aov(weight ~ group))``
  F = 4.846 on 2 and 27 df, p = 0.01591;
  ``oneway.test(weight ~ group)`` F = 5.181, denom df = 17.128, p-value = 0.01739;
  ``kruskal.test(weight ~ group)`` chi-squared = 7.9882, df = 2, p-value = 0.01842.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.oneway import anova_oneway

from sds.errors import DataError, ParameterError
from sds.stats.anova import kruskal_wallis, one_way_anova, welch_anova
from sds.stats.contingency import chi_square_goodness_of_fit, chi_square_independence, fisher_exact

PLANT = {
    "ctrl": [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14],
    "trt1": [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
    "trt2": [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26],
}


def test_r_chisq_examples() -> None:
    ind = chi_square_independence([[762, 327, 468], [484, 239, 477]])
    assert (round(ind.statistic, 2), ind.df, float(f"{ind.p_value:.4g}")) == (30.07, 2, 2.954e-07)
    gof = chi_square_goodness_of_fit([89, 37, 30, 28, 2], [40, 20, 20, 15, 5])
    assert (round(gof.statistic, 4), gof.df, round(gof.p_value, 5)) == (9.9901, 4, 0.04059)


def test_r_fisher_tea_tasting() -> None:
    res = fisher_exact([[3, 1], [1, 3]], alternative="greater")
    assert round(res.p_value, 4) == 0.2429
    assert round(res.estimate, 4) == round(6.408309, 4)
    assert round(res.ci_lower, 5) == round(0.3135693, 5) and res.ci_upper == np.inf
    two = fisher_exact([[3, 1], [1, 3]])
    assert two.p_value == pytest.approx(stats.fisher_exact([[3, 1], [1, 3]]).pvalue, rel=1e-12)


def test_r_plant_growth() -> None:
    aov = one_way_anova(PLANT)
    assert (
        round(aov.statistic, 3),
        aov.df,
        aov.assumptions["df_within"],
        round(aov.p_value, 5),
    ) == (4.846, 2, 27, 0.01591)
    welch = welch_anova(PLANT)
    assert (
        round(welch.statistic, 3),
        round(welch.assumptions["df_within"], 3),
        round(welch.p_value, 5),
    ) == (5.181, 17.128, 0.01739)
    kw = kruskal_wallis(PLANT)
    assert (round(kw.statistic, 4), kw.df, round(kw.p_value, 5)) == (7.9882, 2, 0.01842)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_anova_family_against_statsmodels_and_pingouin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = {"a": rng.normal(0, 1, 12), "b": rng.normal(0.5, 2, 25), "c": rng.normal(1, 0.5, 8)}
    df = pd.DataFrame([(k, v) for k, vs in groups.items() for v in vs], columns=["g", "y"])
    welch = welch_anova(groups)
    ref = anova_oneway(list(groups.values()), use_var="unequal")
    assert (welch.statistic, welch.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-8)
    assert welch.assumptions["df_within"] == pytest.approx(ref.df[1], rel=1e-8)
    aov = one_way_anova(groups)
    ref_aov = anova_oneway(list(groups.values()), use_var="equal")
    assert (aov.statistic, aov.p_value) == pytest.approx(
        (ref_aov.statistic, ref_aov.pvalue), rel=1e-8
    )
    table = anova_lm(ols("y ~ C(g)", data=df).fit())
    eta = table["sum_sq"].iloc[0] / table["sum_sq"].sum()
    assert aov.effect_size == pytest.approx(eta, rel=1e-8)
    kw = kruskal_wallis(groups)
    assert kw.statistic == pytest.approx(stats.kruskal(*groups.values()).statistic, rel=1e-12)


def test_cramers_v_and_expected_count_warning() -> None:
    table = [[12, 5], [3, 9]]
    res = chi_square_independence(table, correction=False)
    chi2 = stats.chi2_contingency(table, correction=False).statistic
    assert res.effect_size == pytest.approx(np.sqrt(chi2 / (29 * 1)), rel=1e-12)
    sparse = chi_square_independence([[1, 2], [3, 0]])
    assert any("use Fisher's exact test" in w for w in sparse.warnings)


def test_bad_input() -> None:
    with pytest.raises(DataError, match="at least 2 rows and 2 columns"):
        chi_square_independence([[1, 2, 3]])
    with pytest.raises(DataError, match="non-negative whole counts"):
        chi_square_independence([[1.5, 2], [3, 4]])
    with pytest.raises(DataError, match="all zero"):
        chi_square_independence([[0, 0], [3, 4]])
    with pytest.raises(ParameterError, match="must sum to 1"):
        chi_square_goodness_of_fit([10, 20], [50, 40])
    with pytest.raises(DataError, match="needs at least 2 groups"):
        one_way_anova({"a": [1.0, 2.0]})
    with pytest.raises(DataError, match="at least 2 values per group"):
        one_way_anova({"a": [1.0], "b": [1.0, 2.0]})
    with pytest.raises(DataError, match="every group is constant"):
        kruskal_wallis({"a": [1.0, 1.0], "b": [2.0, 2.0]})
