"""``sds.analyze`` against independent references.

- Means, ratio metrics and CUPED: tea-tasting on identical data, values in
  ``tests/reference/tea_tasting_ab.json`` made by ``make_tea_tasting_reference.py``; 1e-6.
- Welch and Student t: ``scipy.stats.ttest_ind``; proportions: statsmodels
  ``proportions_ztest`` and ``confint_proportions_2indep`` (Wald difference, log ratio,
  Newcombe); Fisher: ``scipy.stats.fisher_exact``; adjustments: ``multipletests``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from sds.experiments.analysis.run import analyze
from tests.reference.make_tea_tasting_reference import SEEDS, make_users

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "reference" / "tea_tasting_ab.json").read_text()
)["results"]
TOL = 1e-9

TEA_METRICS = [
    {"name": "revenue", "type": "mean", "column": "revenue"},
    {"name": "revenue_cuped", "type": "mean", "column": "revenue", "covariate": "revenue_pre"},
    {
        "name": "orders_per_session",
        "type": "ratio",
        "numerator": "orders",
        "denominator": "sessions",
    },
    {
        "name": "orders_per_session_cuped",
        "type": "ratio",
        "numerator": "orders",
        "denominator": "sessions",
        "numerator_covariate": "orders_pre",
        "denominator_covariate": "sessions_pre",
    },
]
KEYS = {
    "control": "control",
    "treatment": "treatment",
    "effect": "effect_size",
    "ci_lower": "effect_size_ci_lower",
    "ci_upper": "effect_size_ci_upper",
    "rel_effect": "rel_effect_size",
    "rel_ci_lower": "rel_effect_size_ci_lower",
    "rel_ci_upper": "rel_effect_size_ci_upper",
    "p_value": "pvalue",
}


def _spec(metrics: list[dict[str, object]], **extra: object) -> dict[str, object]:
    return {
        "unit": "user",
        "variant": "variant",
        "control": "0",
        "metrics": metrics,
        "correction": "none",
        **extra,
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_ratio_and_cuped_match_tea_tasting(seed: int) -> None:
    result = analyze(_spec(TEA_METRICS), make_users(seed))
    for metric, reference in REFERENCE[str(seed)].items():
        row = result.effect(metric).to_dict()
        for ours, theirs in KEYS.items():
            assert row[ours] == pytest.approx(reference[theirs], rel=1e-6), (metric, ours)


def test_cuped_reports_the_variance_it_removed() -> None:
    result = analyze(_spec(TEA_METRICS), make_users(1))
    plain, cuped = result.effect("revenue").to_dict(), result.effect("revenue_cuped").to_dict()
    width = (cuped["ci_upper"] - cuped["ci_lower"]) / (plain["ci_upper"] - plain["ci_lower"])
    reduction = cuped["cuped"]["variance_reduction"]
    assert 0 < reduction < 1
    # the interval narrows by sqrt(1 - reduction), up to the t quantile's df change
    assert width == pytest.approx(np.sqrt(1 - reduction), rel=1e-3)


@pytest.mark.parametrize("equal_var", [False, True])
def test_means_match_scipy_t_tests(equal_var: bool) -> None:
    df = make_users(4)
    result = analyze(
        _spec([{"name": "revenue", "type": "mean", "column": "revenue"}], equal_var=equal_var),
        df,
    )
    row = result.effect("revenue").to_dict()
    a = df.revenue[df.variant == 1].to_numpy()
    b = df.revenue[df.variant == 0].to_numpy()
    ref = stats.ttest_ind(a, b, equal_var=equal_var)
    ci = ref.confidence_interval(0.95)
    assert row["statistic"] == pytest.approx(ref.statistic, rel=TOL)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert row["df"] == pytest.approx(ref.df, rel=TOL)
    assert row["ci_lower"] == pytest.approx(ci.low, rel=TOL)
    assert row["ci_upper"] == pytest.approx(ci.high, rel=TOL)


def _conversions(n_c: int, x_c: int, n_t: int, x_t: int) -> pd.DataFrame:
    y = np.r_[np.ones(x_c), np.zeros(n_c - x_c), np.ones(x_t), np.zeros(n_t - x_t)]
    variant = np.r_[np.zeros(n_c, int), np.ones(n_t, int)]
    return pd.DataFrame({"user": np.arange(len(y)), "variant": variant, "converted": y})


CONVERSION = [{"name": "conversion", "type": "proportion", "column": "converted"}]


@pytest.mark.parametrize(("n_c", "x_c", "n_t", "x_t"), [(5000, 400, 5100, 460), (800, 40, 760, 55)])
def test_proportions_match_statsmodels(n_c: int, x_c: int, n_t: int, x_t: int) -> None:
    row = (
        analyze(_spec(CONVERSION), _conversions(n_c, x_c, n_t, x_t)).effect("conversion").to_dict()
    )
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    r_low, r_high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="log", compare="ratio")
    assert row["statistic"] == pytest.approx(z, rel=TOL)
    assert row["p_value"] == pytest.approx(p, rel=1e-8)
    assert row["effect"] == pytest.approx(x_t / n_t - x_c / n_c, rel=TOL)
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((low, high), rel=TOL)
    assert (row["rel_ci_lower"] + 1, row["rel_ci_upper"] + 1) == pytest.approx(
        (r_low, r_high), rel=TOL
    )


def test_small_counts_fall_back_to_fisher_and_newcombe() -> None:
    row = analyze(_spec(CONVERSION), _conversions(60, 2, 60, 9)).effect("conversion").to_dict()
    p = stats.fisher_exact([[9, 51], [2, 58]]).pvalue
    low, high = confint_proportions_2indep(9, 60, 2, 60, method="newcomb", compare="diff")
    assert row["p_value"] == pytest.approx(p, rel=TOL)
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((low, high), rel=TOL)
    assert "Fisher" in row["method"]


@pytest.mark.parametrize("correction", ["holm", "hochberg", "bonferroni", "benjamini-hochberg"])
def test_adjustment_across_metrics_and_arms_matches_multipletests(correction: str) -> None:
    rng = np.random.default_rng(5)
    n = 3000
    df = pd.DataFrame(
        {
            "user": np.arange(n),
            "variant": rng.choice(["a", "b", "c"], n),
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
        }
    )
    df.loc[df.variant == "c", "x"] += 0.12
    metrics = [{"name": m, "type": "mean", "column": m} for m in ("x", "y")]
    result = analyze(_spec(metrics, control="a", correction=correction), df)
    raw = [e.p_value for e in result.effects]
    method = {"benjamini-hochberg": "fdr_bh", "hochberg": "simes-hochberg"}.get(
        correction, correction
    )
    expected = multipletests(raw, method=method)[1]
    assert [e.p_adjusted for e in result.effects] == pytest.approx(list(expected), rel=TOL)
    assert len(result.effects) == 4  # 2 metrics x 2 treatment arms
