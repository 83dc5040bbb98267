"""One home for two proportions and for the two-sample t, used by stats, analysis and the canary.

References: statsmodels ``proportions_ztest`` and ``confint_proportions_2indep`` (Wald,
Newcombe), ``Table2x2.riskratio_confint``, scipy ``fisher_exact``; scipy
``ttest_ind_from_stats`` / ``ttest_ind`` and statsmodels ``CompareMeans.tconfint_diff``.
Tolerances: 1e-10 against the references, 1e-12 between the sds callers of one function.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from sds.errors import DataError, ParameterError
from sds.experiments.analysis.run import analyze
from sds.monitoring.canary import canary_report
from sds.stats.contingency import two_proportion_z
from sds.stats.estimate import Estimate
from sds.stats.proportions import (
    EXACT_METHOD,
    Z_METHOD,
    compare_proportions,
    relative_proportions,
)
from sds.stats.ttest import ttest
from sds.stats.twosample import difference_t, mean_difference
from tests.conftest import invoke

REF = 1e-10  # against statsmodels / scipy
SAME = 1e-12  # between sds callers of the one function

# (x_treatment, n_treatment, x_control, n_control): small counts and normal counts
SMALL = (3, 40, 9, 41)
NORMAL = (480, 5000, 540, 5000)


@pytest.mark.parametrize("counts", [SMALL, NORMAL, (9, 60, 2, 60), (400, 800, 396, 800)])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_compare_proportions_equals_statsmodels_and_scipy(
    counts: tuple[int, int, int, int], alternative: str
) -> None:
    xt, nt, xc, nc = counts
    est = compare_proportions(xt, nt, xc, nc, alpha=0.1, alternative=alternative)
    small = min(xt, nt - xt, xc, nc - xc) < 5
    if small:
        p = stats.fisher_exact([[xt, nt - xt], [xc, nc - xc]], alternative=alternative).pvalue
        low, high = confint_proportions_2indep(xt, nt, xc, nc, method="newcomb", alpha=0.1)
        assert est.method.startswith(EXACT_METHOD) and est.statistic is None
    else:
        sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
        z, p = proportions_ztest([xt, xc], [nt, nc], alternative=sm)
        low, high = confint_proportions_2indep(xt, nt, xc, nc, method="wald", alpha=0.1)
        assert est.method.startswith(Z_METHOD)
        assert est.statistic == pytest.approx(z, rel=REF, abs=REF)
    assert est.p_value == pytest.approx(p, rel=REF, abs=1e-300)
    assert (est.ci_lower, est.ci_upper) == pytest.approx((low, high), rel=REF, abs=REF)
    assert est.estimate == pytest.approx(xt / nt - xc / nc, abs=1e-15)
    se = np.sqrt(xt / nt * (1 - xt / nt) / nt + xc / nc * (1 - xc / nc) / nc)
    assert est.std_error == pytest.approx(se, rel=REF)
    assert est.level == pytest.approx(0.9) and est.contrast == "treatment - control"
    assert ("one-sided" in est.method) == (alternative != "two-sided")


def test_small_count_rule_is_any_arm_below_five_successes_or_failures() -> None:
    assert compare_proportions(5, 10, 5, 10).method == Z_METHOD
    assert compare_proportions(4, 100, 50, 100).method == EXACT_METHOD  # 4 successes
    assert compare_proportions(50, 100, 96, 100).method == EXACT_METHOD  # 4 failures


@pytest.mark.parametrize("counts", [SMALL, NORMAL])
def test_relative_effect_is_statsmodels_log_risk_ratio(counts: tuple[int, int, int, int]) -> None:
    xt, nt, xc, nc = counts
    rel = relative_proportions(xt, nt, xc, nc, alpha=0.05)
    table = Table2x2(np.array([[xt, nt - xt], [xc, nc - xc]]))
    low, high = table.riskratio_confint(0.05)
    assert rel.estimate == pytest.approx(table.riskratio - 1, rel=REF)
    assert (rel.ci_lower, rel.ci_upper) == pytest.approx((low - 1, high - 1), rel=REF)
    none = relative_proportions(0, 50, 4, 50)
    assert none.estimate == pytest.approx(-1.0) and none.ci_lower is None


def test_bad_counts_are_one_line_errors() -> None:
    with pytest.raises(DataError, match="successes out of"):
        compare_proportions(5, 0, 1, 10)
    with pytest.raises(DataError):
        compare_proportions(11, 10, 1, 10)
    with pytest.raises(ParameterError) as err:
        compare_proportions(1, 10, 1, 10, alpha=2)
    assert err.value.parameter == "alpha"


# --- the same counts through the canary, sds analyze and sds stats ztest --------------------


def _canary_log(folder: Path, counts: tuple[int, int, int, int]) -> Path:
    """Challenger (treatment) and champion (control) requests, ``x`` server errors each."""
    xt, nt, xc, nc = counts
    rng = np.random.default_rng(7)
    parts = []
    for variant, x, n in (("champion", xc, nc), ("challenger", xt, nt)):
        status = np.full(n, 200, dtype="int64")
        status[:x] = 500
        parts.append(
            pd.DataFrame(
                {
                    "ts": np.arange(n, dtype=float),
                    "variant": variant,
                    "model_version": "v",
                    "status": status,
                    "latency_ms": rng.gamma(4, 1.5, n),
                    "prediction": np.where(status == 200, rng.beta(2, 5, n), np.nan),
                }
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    pd.concat(parts).to_parquet(folder / "requests-1.parquet", index=False)
    return folder


def _units(counts: tuple[int, int, int, int]) -> pd.DataFrame:
    xt, nt, xc, nc = counts
    y = np.r_[np.ones(xt), np.zeros(nt - xt), np.ones(xc), np.zeros(nc - xc)].astype(int)
    arm = np.r_[np.full(nt, "treatment"), np.full(nc, "control")]
    return pd.DataFrame({"user": np.arange(len(y)), "arm": arm, "y": y})


def _ztest(path: Path, *extra: str) -> dict:
    args = ["stats", "ztest", "--data", str(path), "--value", "y", "--group", "arm"]
    result = invoke([*args, "--format", "json", *extra])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("counts", [SMALL, NORMAL], ids=["3of40-vs-9of41", "480-vs-540of5000"])
def test_canary_analysis_and_ztest_give_the_same_p_value(
    tmp_path: Path, counts: tuple[int, int, int, int]
) -> None:
    xt, nt, xc, nc = counts
    units = _units(counts)
    units.to_csv(tmp_path / "units.csv", index=False)
    spec = {
        "unit": "user",
        "variant": "arm",
        "control": "control",
        "metrics": [{"name": "conversion", "type": "proportion", "column": "y"}],
    }
    row = analyze(spec, units).effect("conversion").to_dict()
    two_sided = _ztest(tmp_path / "units.csv")
    greater = _ztest(tmp_path / "units.csv", "--alternative", "greater")
    canary = canary_report(str(_canary_log(tmp_path / "log", counts) / "*.parquet"))
    errors = canary.errors
    assert isinstance(errors, Estimate) and errors.contrast == "challenger - champion"

    # two-sided: analysis == sds stats ztest == compare_proportions
    core = compare_proportions(xt, nt, xc, nc)
    assert row["p_value"] == pytest.approx(core.p_value, rel=SAME, abs=0)
    assert two_sided["p_value"] == pytest.approx(core.p_value, rel=SAME, abs=0)
    # one-sided (challenger errs more): canary == sds stats ztest --alternative greater
    one = compare_proportions(xt, nt, xc, nc, alternative="greater")
    assert errors.p_value == pytest.approx(one.p_value, rel=SAME, abs=0)
    assert greater["p_value"] == pytest.approx(one.p_value, rel=SAME, abs=0)
    assert canary.comparison["p_value_challenger_errs_more"] == errors.p_value
    # one interval (two-sided at 95%) everywhere
    for low, high in (
        (row["ci_lower"], row["ci_upper"]),
        (two_sided["ci_lower"], two_sided["ci_upper"]),
        (errors.ci_lower, errors.ci_upper),
    ):
        assert (low, high) == pytest.approx((core.ci_lower, core.ci_upper), rel=SAME, abs=SAME)
    # and the references directly
    if counts == SMALL:
        table = [[xt, nt - xt], [xc, nc - xc]]
        p2 = stats.fisher_exact(table).pvalue
        p1 = stats.fisher_exact(table, alternative="greater").pvalue
        ci = confint_proportions_2indep(xt, nt, xc, nc, method="newcomb")
        assert two_sided["test"].startswith("Fisher's exact test")
        assert any("Fisher's exact test" in w for w in two_sided["warnings"])
        assert row["method"] == EXACT_METHOD
    else:
        _, p2 = proportions_ztest([xt, xc], [nt, nc])
        _, p1 = proportions_ztest([xt, xc], [nt, nc], alternative="larger")
        ci = confint_proportions_2indep(xt, nt, xc, nc, method="wald")
        assert two_sided["test"] == "Two-proportion z-test"
        assert row["method"] == Z_METHOD
    assert core.p_value == pytest.approx(p2, rel=REF)
    assert one.p_value == pytest.approx(p1, rel=REF)
    assert (core.ci_lower, core.ci_upper) == pytest.approx(ci, rel=REF)


def test_canary_result_carries_both_rates_as_estimates(tmp_path: Path) -> None:
    result = canary_report(str(_canary_log(tmp_path / "log", NORMAL) / "*.parquet"))
    rates = result.to_dict()["rates"]
    assert [r["rate"] for r in rates] == ["refused_rate", "error_rate"]
    assert rates[1] == {"rate": "error_rate", **json.loads(json.dumps(result.errors.to_dict()))}
    assert rates[0]["estimate"] == 0.0 and rates[0]["p_value"] == 1.0  # no refusals at all
    assert "Rates, challenger - champion" in result.to_text()


def test_two_proportion_z_small_counts_say_fisher() -> None:
    res = two_proportion_z([3, 9], [40, 41])
    assert res.test == "Fisher's exact test (small counts; Newcombe interval)"
    assert res.warnings[0].startswith("A group has fewer than 5 successes or failures")
    assert res.p_value == pytest.approx(stats.fisher_exact([[3, 37], [9, 32]]).pvalue, rel=REF)
    record = res.estimate_record()
    assert record.contrast == "p(x) - p(y)" and record.std_error is not None
    big = two_proportion_z([480, 540], [5000, 5000])
    assert big.test == "Two-proportion z-test" and not big.warnings


# --- the two-sample t from sufficient statistics -------------------------------------------


SAMPLES = [
    (np.random.default_rng(1).normal(10, 2, 40), np.random.default_rng(2).normal(9, 5, 25)),
    (np.random.default_rng(3).exponential(3, 200), np.random.default_rng(4).exponential(2, 7)),
]


@pytest.mark.parametrize("sample", range(len(SAMPLES)))
@pytest.mark.parametrize("equal_var", [False, True])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_mean_difference_equals_scipy_and_statsmodels(
    sample: int, equal_var: bool, alternative: str
) -> None:
    a, b = SAMPLES[sample]
    va, vb = float(np.var(a, ddof=1)), float(np.var(b, ddof=1))
    est = mean_difference(
        len(a), a.mean(), va, len(b), b.mean(), vb, equal_var=equal_var, alternative=alternative
    )
    ref = stats.ttest_ind_from_stats(
        a.mean(),
        np.sqrt(va),
        len(a),
        b.mean(),
        np.sqrt(vb),
        len(b),
        equal_var=equal_var,
        alternative=alternative,
    )
    raw = stats.ttest_ind(a, b, equal_var=equal_var, alternative=alternative)
    assert est.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert est.p_value == pytest.approx(raw.pvalue, rel=1e-12)
    assert est.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert est.df == pytest.approx(raw.df, rel=1e-12)
    sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
    usevar = "pooled" if equal_var else "unequal"
    low, high = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(
        alpha=0.05, alternative=sm, usevar=usevar
    )
    assert est.ci_lower == (None if alternative == "less" else pytest.approx(low, rel=REF))
    assert est.ci_upper == (None if alternative == "greater" else pytest.approx(high, rel=REF))
    assert est.method.startswith("Student" if equal_var else "Welch")


def test_difference_t_edge_cases() -> None:
    flat = difference_t(0.5, 10, 0.0, 10, 0.0)
    assert (flat.p_value, flat.ci_lower, flat.ci_upper, flat.statistic) == (1.0, 0.5, 0.5, None)
    one = difference_t(0.5, 1, float("nan"), 10, 1.0)
    assert one.p_value is None and one.ci_lower is None and one.estimate == 0.5


def test_ttest_is_the_one_two_sample_t() -> None:
    a, b = SAMPLES[0]
    for equal_var in (False, True):
        res = ttest(a, b, equal_var=equal_var)
        core = mean_difference(
            len(a),
            a.mean(),
            np.var(a, ddof=1),
            len(b),
            b.mean(),
            np.var(b, ddof=1),
            equal_var=equal_var,
        )
        assert res.p_value == pytest.approx(core.p_value, rel=SAME)
        assert (res.ci_lower, res.ci_upper) == pytest.approx(
            (core.ci_lower, core.ci_upper), rel=SAME
        )
        record = res.estimate_record()
        assert record.std_error == pytest.approx(core.std_error, rel=SAME)
        assert record.contrast == "mean(x) - mean(y)" and record.level == 0.95
        assert record.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=equal_var).pvalue)
    one_sided = ttest(a, b, alternative="greater")
    assert one_sided.ci_upper == np.inf


@pytest.mark.parametrize("equal_var", [False, True])
def test_analysis_mean_effect_is_the_one_two_sample_t(equal_var: bool) -> None:
    rng = np.random.default_rng(11)
    n_c, n_t = 700, 650
    y = np.r_[rng.normal(1e8, 1, n_c), rng.normal(1e8 + 0.1, 1.5, n_t)]
    df = pd.DataFrame(
        {"user": np.arange(n_c + n_t), "arm": ["control"] * n_c + ["treatment"] * n_t, "y": y}
    )
    spec = {
        "unit": "user",
        "variant": "arm",
        "control": "control",
        "equal_var": equal_var,
        "metrics": [{"name": "y", "type": "mean", "column": "y"}],
    }
    row = analyze(spec, df).effect("y").to_dict()
    a, b = y[n_c:] - 1e8, y[:n_c] - 1e8  # exact shift: the reference keeps every digit
    ref = stats.ttest_ind(a, b, equal_var=equal_var)
    core = mean_difference(
        n_t, a.mean(), np.var(a, ddof=1), n_c, b.mean(), np.var(b, ddof=1), equal_var=equal_var
    )
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert row["p_value"] == pytest.approx(core.p_value, rel=1e-9)
    assert row["df"] == pytest.approx(ref.df, rel=1e-9)
    ci = ref.confidence_interval(0.95)
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
