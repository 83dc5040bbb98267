"""t-tests and Mann-Whitney against statsmodels, pingouin and R's published output.

R reference: the ``sleep`` data (Student 1908; R's datasets package), as printed by
``t.test(extra ~ group, data = sleep)`` (Welch), with ``var.equal = TRUE``, with
``paired = TRUE``, and by ``wilcox.test(extra ~ group, data = sleep)``.
"""

from __future__ import annotations

import numpy as np
import pingouin as pg
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from sds.errors import DataError, ParameterError
from sds.stats.nonparametric import mann_whitney
from sds.stats.ttest import ttest

SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
TOL = 1e-8


def test_r_sleep_welch_student_paired_wilcoxon() -> None:
    welch = ttest(SLEEP_1, SLEEP_2)
    assert (round(welch.statistic, 4), round(welch.df, 3), round(welch.p_value, 5)) == (
        -1.8608,
        17.776,
        0.07939,
    )
    assert (round(welch.ci_lower, 7), round(welch.ci_upper, 7)) == (-3.3654832, 0.2054832)
    student = ttest(SLEEP_1, SLEEP_2, equal_var=True)
    assert (round(student.df), round(student.p_value, 5)) == (18, 0.07919)
    paired = ttest(SLEEP_1, SLEEP_2, paired=True)
    assert (round(paired.statistic, 4), round(paired.p_value, 6)) == (-4.0621, 0.002833)
    assert (round(paired.ci_lower, 7), round(paired.ci_upper, 7)) == (-2.4598858, -0.7001142)
    wilcox = mann_whitney(SLEEP_1, SLEEP_2)
    assert (wilcox.statistic, round(wilcox.p_value, 5)) == (25.5, 0.06933)


GRID = [
    (n1, n2, shift, scale, seed)
    for n1, n2 in ((8, 12), (30, 30), (200, 50))
    for shift in (0.0, 0.4)
    for scale in (1.0, 3.0)
    for seed in (1, 2)
]


@pytest.mark.parametrize(("n1", "n2", "shift", "scale", "seed"), GRID)
def test_two_sample_against_statsmodels_and_pingouin(
    n1: int, n2: int, shift: float, scale: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(shift, scale, n1), rng.normal(0.0, 1.0, n2)
    for equal_var, usevar in ((False, "unequal"), (True, "pooled")):
        got = ttest(x, y, equal_var=equal_var)
        t, p, df = ttest_ind(x, y, usevar=usevar)
        lo, hi = CompareMeans(DescrStatsW(x), DescrStatsW(y)).tconfint_diff(usevar=usevar)
        assert (got.statistic, got.p_value, got.df) == pytest.approx((t, p, df), rel=TOL)
        assert (got.ci_lower, got.ci_upper) == pytest.approx((lo, hi), rel=TOL)
    d = pg.compute_effsize(x, y, eftype="cohen")
    assert got.effect_size == pytest.approx(d, rel=TOL)
    ci = pg.compute_esci(d, n1, n2, eftype="cohen", decimals=12)
    assert (got.effect_size_ci_lower, got.effect_size_ci_upper) == pytest.approx(ci, rel=1e-8)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_paired_and_one_sample(alternative: str) -> None:
    rng = np.random.default_rng(3)
    before = rng.normal(10, 2, 40)
    after = before + rng.normal(0.3, 1, 40)
    got = ttest(after, before, paired=True, alternative=alternative)
    ref = DescrStatsW(after - before)
    t, p, df = ref.ttest_mean(
        0, alternative={"greater": "larger", "less": "smaller"}.get(alternative, alternative)
    )
    assert (got.statistic, got.p_value, got.df) == pytest.approx((t, p, df), rel=TOL)
    dz = np.mean(after - before) / np.std(after - before, ddof=1)
    assert got.effect_size == pytest.approx(dz, rel=TOL) and got.effect_size_name == "cohen_dz"
    ci = pg.compute_esci(dz, 40, 40, paired=True, eftype="cohen", decimals=12)
    assert (got.effect_size_ci_lower, got.effect_size_ci_upper) == pytest.approx(ci, rel=1e-8)
    one = ttest(after, mu=10.0, alternative=alternative)
    t1, p1, _ = DescrStatsW(after).ttest_mean(
        10.0, alternative={"greater": "larger", "less": "smaller"}.get(alternative, alternative)
    )
    assert (one.statistic, one.p_value) == pytest.approx((t1, p1), rel=TOL)
    if alternative == "two-sided":
        lo, hi = DescrStatsW(after).tconfint_mean()
        assert (one.ci_lower, one.ci_upper) == pytest.approx((lo - 10, hi - 10), rel=TOL)


def test_mann_whitney_against_pingouin() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.exponential(1.0, 35), rng.exponential(1.5, 28)
    got = mann_whitney(x, y)
    ref = pg.mwu(x, y)
    assert got.statistic == pytest.approx(ref["U_val"].iloc[0], rel=TOL)
    assert got.p_value == pytest.approx(ref["p_val"].iloc[0], rel=TOL)
    assert got.effect_size == pytest.approx(ref["RBC"].iloc[0], rel=TOL)
    superiority = got.other_effect_sizes["probability_of_superiority"][0]
    assert superiority == pytest.approx(ref["CLES"].iloc[0], rel=TOL)


def test_warnings_and_assumptions() -> None:
    rng = np.random.default_rng(5)
    skewed = rng.lognormal(0, 1.5, 15)
    res = ttest(skewed, [1.0, 2.0, np.nan, 3.0, 2.5], equal_var=True)
    assert any("1 missing value(s) were dropped" in w for w in res.warnings)
    assert any("looks non-normal" in w for w in res.warnings)
    assert res.assumptions["equal_variance_p"] is not None
    assert res.to_dict()["n"] == {"x": 15, "y": 4}


def test_bad_input() -> None:
    with pytest.raises(DataError, match="needs at least 2 values"):
        ttest([1.0], [1.0, 2.0])
    with pytest.raises(DataError, match="both groups are constant"):
        ttest([1.0, 1.0], [2.0, 2.0])
    with pytest.raises(DataError, match="values are not numeric"):
        ttest(["a", "b"], [1.0, 2.0])
    with pytest.raises(DataError, match="values include infinities"):
        ttest([1.0, np.inf], [1.0, 2.0])
    with pytest.raises(DataError, match="same length"):
        ttest([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(ParameterError, match="alternative == 'bigger'"):
        ttest([1.0, 2.0], [1.0, 3.0], alternative="bigger")
