"""t-tests (one-sample, Welch, Student, paired), wrapped from scipy with effect sizes and checks.

scipy computes the statistic, degrees of freedom, p-value and the interval of the mean
difference; sds adds the effect size with its interval, sample sizes, assumption checks
(Shapiro-Wilk per group, Levene for equal variances) and warnings a careful analyst would
raise. Missing values are dropped (pairs, for paired data) and counted in a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.params import check
from sds.stats import effect_sizes as es
from sds.stats.result import TestResult

ArrayLike = Sequence[float] | np.ndarray


def _clean(values: ArrayLike, name: str) -> tuple[np.ndarray, int]:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "values are not numeric", column=name, hint="Convert the column to numbers first."
        ) from exc
    if np.isinf(arr).any():
        raise DataError("values include infinities", column=name, found=int(np.isinf(arr).sum()))
    keep = ~np.isnan(arr)
    return arr[keep], int((~keep).sum())


def _need(arr: np.ndarray, name: str, minimum: int = 2) -> None:
    if len(arr) < minimum:
        raise DataError(
            f"needs at least {minimum} values",
            column=name,
            found=len(arr),
            hint="A test needs some spread to estimate variability.",
        )


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
    a, dropped_a = _clean(x, "x")
    if y is None:
        return _one_sample(a, dropped_a, mu, alternative, confidence)
    b, dropped_b = _clean(y, "y")
    if paired:
        return _paired(np.asarray(x, float), np.asarray(y, float), alternative, confidence)
    _need(a, "x")
    _need(b, "y")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        raise DataError(
            "both groups are constant: the t statistic is undefined",
            hint="Nothing varies, so there is nothing to test.",
        )
    res = stats.ttest_ind(a, b, equal_var=equal_var, alternative=alternative)
    ci = res.confidence_interval(confidence)
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
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(res.df),
        n={"x": len(a), "y": len(b)},
        alternative=alternative,
        estimate=float(np.mean(a) - np.mean(b)),
        estimate_name="mean(x) - mean(y)",
        ci_lower=float(ci.low),
        ci_upper=float(ci.high),
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
    _need(a, "x")
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

    return replace(result, effect_size_name="cohen_dz", n={"pairs": len(diff)})
