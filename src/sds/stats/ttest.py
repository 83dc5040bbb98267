"""t-tests (one-sample, Welch, Student, paired), wrapped from scipy with effect sizes and checks.

The two-sample t (Welch, Student) comes from the groups' sizes, means and variances through
:func:`sds.stats.twosample.mean_difference`, the one home of the two-sample t (equal to
scipy's ``ttest_ind``); scipy computes the one-sample and paired t. sds adds the effect size
with its interval, sample sizes, assumption checks (Shapiro-Wilk per group, Levene for equal
variances) and warnings a careful analyst would raise. Missing values are dropped (pairs, for
paired data) and counted in a warning.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.params import check
from sds.stats import effect_sizes as es
from sds.stats.result import TestResult
from sds.stats.samples import ArrayLike, clean_values, need_values
from sds.stats.twosample import mean_difference


def _finite(value: float | None) -> float:
    return float("nan") if value is None else value


def describe(name: str, values: np.ndarray) -> dict[str, Any]:
    """One row of a result's group table: the group's size, mean and standard deviation."""
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return {"group": name, "n": len(values), "mean": float(np.mean(values)), "sd": sd}


def _normality(arr: np.ndarray) -> float | None:
    if 3 <= len(arr) <= 5000 and np.ptp(arr) > 0:
        return float(stats.shapiro(arr).pvalue)
    return None


# The rank test that fits each design, and how to run it.
RANK_TEST = {
    "two": "the Mann-Whitney U test (sds stats mannwhitney)",
    "paired": "the Wilcoxon signed-rank test on the pairs (sds stats wilcoxon)",
    "one": "the one-sample Wilcoxon signed-rank test (sds stats wilcoxon)",
}


def _warnings(
    dropped: int,
    groups: dict[str, np.ndarray],
    normal_p: dict[str, float | None],
    alpha: float = 0.05,
    design: str = "two",
) -> list[str]:
    out = []
    if dropped:
        out.append(f"{dropped} missing value(s) were dropped.")
    for name, p in normal_p.items():
        if p is not None and p < alpha and len(groups[name]) < 30:
            out.append(
                f"{name} {'look' if name == 'the differences' else 'looks'} non-normal "
                f"(Shapiro-Wilk p = {p:.3g}) with only "
                f"{len(groups[name])} values: the t-test may mislead; consider "
                f"{RANK_TEST[design]}."
            )
    return out


def ttest(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    paired: bool = False,
    equal_var: bool = False,
    mu: float = 0.0,
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Welch (default), Student (``equal_var=True``), paired or one-sample t-test."""
    check("alternative", alternative)
    check("confidence", confidence)
    a, dropped_a = clean_values(x, "x")
    if y is None:
        return _one_sample(a, dropped_a, mu, alternative, confidence)
    b, dropped_b = clean_values(y, "y")
    if paired:
        return _paired(np.asarray(x, float), np.asarray(y, float), alternative, confidence)
    need_values(a, "x")
    need_values(b, "y")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        raise DataError(
            "both groups are constant: the t statistic is undefined",
            hint="Nothing varies, so there is nothing to test.",
        )
    est = mean_difference(
        len(a),
        float(np.mean(a)),
        float(np.var(a, ddof=1)),
        len(b),
        float(np.mean(b)),
        float(np.var(b, ddof=1)),
        alpha=1 - confidence,
        equal_var=equal_var,
        contrast="mean(x) - mean(y)",
        alternative=alternative,
    )
    d = es.cohen_d_two(a, b)
    d_lo, d_hi = es.d_interval(d, len(a), len(b), confidence)
    normal = {"x": _normality(a), "y": _normality(b)}
    assumptions: dict[str, Any] = {
        "normality_p_x": normal["x"],
        "normality_p_y": normal["y"],
        "equal_variance_p": float(stats.levene(a, b).pvalue),
        "variance_ratio": float(np.var(a, ddof=1) / np.var(b, ddof=1)) if np.var(b) else None,
    }
    warnings = _warnings(dropped_a + dropped_b, {"x": a, "y": b}, normal)
    if equal_var and assumptions["equal_variance_p"] < 0.05:
        warnings.append(
            "Levene's test rejects equal variances: Welch's t-test (the default) "
            "fits better than Student's."
        )
    g_factor = es.hedges_correction(len(a) + len(b) - 2)
    g = d * g_factor
    delta, delta_ci = es.glass_delta(a, b, confidence)
    return TestResult(
        test="Student t-test" if equal_var else "Welch t-test",
        statistic=_finite(est.statistic),
        p_value=_finite(est.p_value),
        df=est.df,
        n={"x": len(a), "y": len(b)},
        alternative=alternative,
        estimate=est.estimate,
        estimate_name="mean(x) - mean(y)",
        ci_lower=-np.inf if est.ci_lower is None else est.ci_lower,
        ci_upper=np.inf if est.ci_upper is None else est.ci_upper,
        std_error=est.std_error,
        confidence=confidence,
        effect_size=d,
        effect_size_name="cohen_d",
        effect_size_ci_lower=d_lo,
        effect_size_ci_upper=d_hi,
        assumptions=assumptions,
        warnings=tuple(warnings),
        other_effect_sizes={
            "hedges_g": (g, *es.d_interval(g, len(a), len(b), confidence)),
            "glass_delta": (delta, *delta_ci),
        },
        groups=(describe("x", a), describe("y", b)),
    )


def _one_sample(
    a: np.ndarray,
    dropped: int,
    mu: float,
    alternative: str,
    confidence: float,
    name: str = "One-sample t-test",
    estimate_name: str = "mean(x) - mu",
    design: str = "one",
) -> TestResult:
    need_values(a, "x")
    if np.ptp(a) == 0:
        raise DataError(
            "all values are equal: the t statistic is undefined",
            hint="Nothing varies, so there is nothing to test.",
        )
    res = stats.ttest_1samp(a, mu, alternative=alternative)
    ci = res.confidence_interval(confidence)
    d = es.cohen_d_one(a, mu)
    d_lo, d_hi = es.d_interval(d, len(a), None, confidence)
    g = d * es.hedges_correction(len(a) - 1)
    normal = _normality(a)
    label = "the differences" if design == "paired" else "x"
    return TestResult(
        test=name,
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(res.df),
        n={"x": len(a)},
        alternative=alternative,
        estimate=float(np.mean(a) - mu),
        estimate_name=estimate_name,
        ci_lower=float(ci.low - mu),
        ci_upper=float(ci.high - mu),
        confidence=confidence,
        effect_size=d,
        effect_size_name="cohen_d",
        effect_size_ci_lower=d_lo,
        effect_size_ci_upper=d_hi,
        assumptions={"normality_p": normal},
        warnings=tuple(_warnings(dropped, {label: a}, {label: normal}, design=design)),
        other_effect_sizes={"hedges_g": (g, *es.d_interval(g, len(a), None, confidence))},
        groups=() if design == "paired" else (describe("x", a),),
    )


def _paired(x: np.ndarray, y: np.ndarray, alternative: str, confidence: float) -> TestResult:
    if x.shape != y.shape:
        raise DataError(
            "paired samples must have the same length",
            found=f"{len(x)} and {len(y)}",
            hint="Pair the rows by an id before testing.",
        )
    keep = ~(np.isnan(x) | np.isnan(y))
    diff = x[keep] - y[keep]
    result = _one_sample(
        diff,
        int((~keep).sum()),
        0.0,
        alternative,
        confidence,
        name="Paired t-test",
        estimate_name="mean(x - y)",
        design="paired",
    )
    from dataclasses import replace

    return replace(
        result,
        effect_size_name="cohen_dz",
        n={"pairs": len(diff)},
        groups=(describe("x", x[keep]), describe("y", y[keep])),
    )
