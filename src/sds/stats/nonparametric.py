"""Rank and sign tests: Mann-Whitney U, Wilcoxon signed-rank, the sign test, Kolmogorov-Smirnov.

scipy computes every statistic and p-value; sds adds the effect size with its interval
(:mod:`sds.stats.effect_sizes`), the tie and zero counts that decide which p-value method is
valid, and the warnings a careful analyst would raise.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.params import check
from sds.stats import effect_sizes as es
from sds.stats.result import TestResult
from sds.stats.samples import ArrayLike, clean_values, need_values


def _dropped_note(dropped: int) -> list[str]:
    return [f"{dropped} missing value(s) were dropped."] if dropped else []


def _ties(values: np.ndarray) -> int:
    return int(len(values) - len(np.unique(values)))


def mann_whitney(
    x: ArrayLike, y: ArrayLike, *, alternative: str = "two-sided", confidence: float = 0.95
) -> TestResult:
    """Mann-Whitney U (scipy chooses the exact or the tie-corrected asymptotic method).

    Effect size: the rank-biserial correlation `2 U_x / (n_x n_y) - 1` (positive when x tends
    to exceed y); beside it, the probability of superiority `P(x > y) + P(x = y) / 2`
    `= U_x / (n_x n_y)`, the quantity the test compares with 1/2, with its interval (the
    rank-biserial interval mapped by `(r + 1) / 2`). The notes say how to read it, and when
    the medians are equal but the test rejects (zero-inflated data), that it is the
    distributions that differ, not the medians.

    Args:
        x: First sample; missing values are dropped.
        y: Second sample; missing values are dropped.
        alternative: `two-sided` (default), `greater` (x tends to exceed y) or `less`.
        confidence: Coverage of the effect sizes' intervals, in (0, 1); `1 - confidence` is
            the level below which the notes call the p-value significant.

    Returns:
        U of x, its p-value, the difference of the medians, the rank-biserial correlation
            and the probability of superiority with their intervals, and notes on reading them.

    Raises:
        DataError: An empty sample, or every value equal.
    """
    check("alternative", alternative)
    check("confidence", confidence)
    a, dropped_a = clean_values(x, "x")
    b, dropped_b = clean_values(y, "y")
    need_values(a, "x", 1)
    need_values(b, "y", 1)
    both = np.concatenate([a, b])
    if np.ptp(both) == 0:
        raise DataError("all values are equal: there is nothing to rank")
    res = stats.mannwhitneyu(a, b, alternative=alternative)
    cles = float(res.statistic) / (len(a) * len(b))
    r = 2 * cles - 1
    ties = _ties(both)
    warnings = _dropped_note(dropped_a + dropped_b)
    if ties:
        warnings.append(f"{ties} tied value(s): the p-value uses the tie-corrected normal law.")
    lo, hi = es.rank_biserial_interval(r, len(a), len(b), confidence)
    median_difference = float(np.median(a) - np.median(b))
    return TestResult(
        test="Mann-Whitney U",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=None,
        n={"x": len(a), "y": len(b)},
        alternative=alternative,
        estimate=median_difference,
        estimate_name="median(x) - median(y)",
        confidence=confidence,
        effect_size=r,
        effect_size_name="rank_biserial",
        effect_size_ci_lower=lo,
        effect_size_ci_upper=hi,
        other_effect_sizes={"probability_of_superiority": (cles, (lo + 1) / 2, (hi + 1) / 2)},
        notes=_superiority_notes(cles, median_difference, float(res.pvalue), 1 - confidence),
        assumptions={"ties": ties},
        warnings=tuple(warnings),
    )


def _superiority_notes(
    superiority: float, median_difference: float, p_value: float, alpha: float
) -> tuple[str, ...]:
    """How to read a Mann-Whitney result, in terms of x and y (renamed to the groups)."""
    notes = [
        f"probability_of_superiority = P(x > y) + P(x = y) / 2 = {superiority:.4g}: the "
        "chance that a value drawn at random from x exceeds one drawn from y, ties counting "
        "half. 0.5 means neither tends to be larger; Mann-Whitney tests whether it differs "
        "from 0.5."
    ]
    if median_difference == 0 and p_value < alpha:
        notes.append(
            f"The medians are equal (difference 0), yet p = {p_value:.3g} < {alpha:g}: the "
            "distributions differ, which is what Mann-Whitney tests (one group tends to have "
            "larger values), not a difference of medians. For the difference in means, run "
            "Welch's t-test (sds stats welch)."
        )
    return tuple(notes)


def _differences(x: ArrayLike, y: ArrayLike | None, mu: float) -> tuple[np.ndarray, int]:
    a = np.asarray(x, dtype=float)
    b = np.zeros_like(a) if y is None else np.asarray(y, dtype=float)
    if a.shape != b.shape:
        raise DataError(
            "paired samples must have the same length",
            found=f"{len(a)} and {len(b)}",
            hint="Pair the rows by an id before testing.",
        )
    diff, dropped = clean_values(a - b - mu, "x - y")
    return diff, dropped


def wilcoxon(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    mu: float = 0.0,
    alternative: str = "two-sided",
    correction: bool = True,
    confidence: float = 0.95,
) -> TestResult:
    """Wilcoxon signed-rank test on `x - y - mu` (one sample when `y` is None).

    Zero differences are dropped before ranking (Wilcoxon's method, R's default). With zeros
    or ties the exact null distribution no longer applies, so scipy's normal approximation is
    used (with continuity correction unless `correction=False`), as R does.
    Effect size: the matched-pairs rank-biserial correlation `(R+ - R-) / (R+ + R-)`.

    Args:
        x: The sample, or the first of each pair.
        y: The second of each pair, by position, as long as `x`; `None` for one sample.
        mu: The hypothesised location of `x - y` (of `x` alone with one sample).
        alternative: `two-sided` (default), `greater` (`x - y` tends to exceed `mu`) or
            `less`.
        correction: Continuity correction of the normal approximation (used with zeros, ties
            or more than 50 differences).
        confidence: Coverage of the rank-biserial correlation's interval, in (0, 1).

    Returns:
        The signed-rank statistic, its p-value (exact or normal) and the matched-pairs
            rank-biserial correlation with its interval.

    Raises:
        DataError: `x` and `y` differ in length, or every difference is zero or missing.
    """
    check("alternative", alternative)
    check("confidence", confidence)
    diff, dropped = _differences(x, y, mu)
    zeros = int((diff == 0).sum())
    nonzero = diff[diff != 0]
    need_values(nonzero, "x - y", 1)
    ties = _ties(np.abs(nonzero))
    method = "approx" if (zeros or ties or len(nonzero) > 50) else "exact"
    res = stats.wilcoxon(nonzero, alternative=alternative, correction=correction, method=method)
    ranks = stats.rankdata(np.abs(nonzero))
    plus, minus = float(ranks[nonzero > 0].sum()), float(ranks[nonzero < 0].sum())
    r = (plus - minus) / (plus + minus)
    lo, hi = es.rank_biserial_interval(r, len(nonzero), None, confidence)
    warnings = _dropped_note(dropped)
    if zeros:
        warnings.append(f"{zeros} zero difference(s) were dropped before ranking.")
    if method == "approx" and len(nonzero) <= 50:
        warnings.append("Ties or zeros: the p-value uses the normal approximation, not exact.")
    return TestResult(
        test="Wilcoxon signed-rank",
        statistic=plus,
        p_value=float(res.pvalue),
        df=None,
        n={"pairs": len(diff), "nonzero": len(nonzero)},
        alternative=alternative,
        estimate=float(np.median(diff)),
        estimate_name="median(x - y)" if y is not None else "median(x) - mu",
        confidence=confidence,
        effect_size=r,
        effect_size_name="rank_biserial",
        effect_size_ci_lower=lo,
        effect_size_ci_upper=hi,
        assumptions={"method": method, "zeros": zeros, "ties": ties, "r_minus": minus},
        warnings=tuple(warnings),
    )


def sign_test(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    mu: float = 0.0,
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Exact binomial sign test on `x - y - mu`; zeros are dropped.

    Effect size: the share of positive differences, with its Clopper-Pearson interval.

    Args:
        x: The sample, or the first of each pair.
        y: The second of each pair, by position, as long as `x`; `None` for one sample.
        mu: The hypothesised median of `x - y` (of `x` alone with one sample).
        alternative: `two-sided` (default), `greater` (more positive than negative
            differences, i.e. the median of `x - y` exceeds `mu`) or `less`.
        confidence: Coverage of the Clopper-Pearson interval of the share, in (0, 1).

    Returns:
        The count of positive differences, its exact binomial p-value and the share of
            positive differences with its interval.

    Raises:
        DataError: `x` and `y` differ in length, or every difference is zero.
    """
    check("alternative", alternative)
    check("confidence", confidence)
    diff, dropped = _differences(x, y, mu)
    pos, neg = int((diff > 0).sum()), int((diff < 0).sum())
    if pos + neg == 0:
        raise DataError("every difference is zero: the sign test has nothing to count")
    res = stats.binomtest(pos, pos + neg, 0.5, alternative=alternative)
    ci = res.proportion_ci(confidence, method="exact")
    zeros = len(diff) - pos - neg
    warnings = _dropped_note(dropped)
    if zeros:
        warnings.append(f"{zeros} zero difference(s) were dropped.")
    return TestResult(
        test="Sign test",
        statistic=float(pos),
        p_value=float(res.pvalue),
        df=None,
        n={"pairs": len(diff), "nonzero": pos + neg},
        alternative=alternative,
        estimate=float(np.median(diff)),
        estimate_name="median(x - y)" if y is not None else "median(x) - mu",
        confidence=confidence,
        effect_size=pos / (pos + neg),
        effect_size_name="share_positive",
        effect_size_ci_lower=float(ci.low),
        effect_size_ci_upper=float(ci.high),
        assumptions={"positive": pos, "negative": neg, "zeros": zeros},
        warnings=tuple(warnings),
    )


def ks_two_sample(x: ArrayLike, y: ArrayLike, *, alternative: str = "two-sided") -> TestResult:
    """Two-sample Kolmogorov-Smirnov test; the effect size is the statistic D itself.

    Args:
        x: First sample; missing values are dropped.
        y: Second sample; missing values are dropped.
        alternative: `two-sided` (default), `greater` or `less`, in scipy's sense: `greater`
            means the distribution function of x lies above that of y somewhere (x tends to
            be smaller).

    Returns:
        D (the largest gap between the two empirical distribution functions, in [0, 1]) and
            its p-value; a warning when ties make the p-value approximate.

    Raises:
        DataError: An empty sample.
    """
    check("alternative", alternative)
    a, dropped_a = clean_values(x, "x")
    b, dropped_b = clean_values(y, "y")
    need_values(a, "x", 1)
    need_values(b, "y", 1)
    res = stats.ks_2samp(a, b, alternative=alternative)
    warnings = _dropped_note(dropped_a + dropped_b)
    ties = _ties(np.concatenate([a, b]))
    if ties:
        warnings.append(f"{ties} tied value(s): the KS p-value assumes continuous data.")
    return TestResult(
        test="Kolmogorov-Smirnov (two sample)",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=None,
        n={"x": len(a), "y": len(b)},
        alternative=alternative,
        effect_size=float(res.statistic),
        effect_size_name="ks_distance",
        assumptions={"ties": ties},
        warnings=tuple(warnings),
    )


def ks_one_sample(
    x: ArrayLike,
    *,
    distribution: str = "norm",
    params: tuple[float, ...] | None = None,
    alternative: str = "two-sided",
) -> TestResult:
    """One-sample KS test against a named scipy distribution with known `params`.

    Without `params` for the normal, the mean and standard deviation are estimated from the
    data and the classic KS p-value would be far too large; the Lilliefors test (statsmodels)
    corrects for that and is used instead.

    Args:
        x: The sample; missing values are dropped.
        distribution: A `scipy.stats` distribution name, e.g. `norm`, `expon`, `uniform`.
        params: The distribution's parameters in scipy's order (for `norm`: loc, scale).
            `None` is only allowed for `norm` and runs the Lilliefors test.
        alternative: `two-sided` (default), `greater` or `less`, in scipy's sense; the
            Lilliefors test is always two-sided.

    Returns:
        D (the largest gap between the empirical and the hypothesised distribution
            function) and its p-value.

    Raises:
        DataError: An unknown distribution, `params` missing for a distribution other than
            `norm`, or too few values.
    """
    check("alternative", alternative)
    a, dropped = clean_values(x, "x")
    need_values(a, "x", 5 if params is None else 1)
    warnings = _dropped_note(dropped)
    if params is None:
        if distribution != "norm":
            raise DataError(
                f"distribution {distribution!r} needs its parameters",
                hint="Pass params, or use distribution='norm' for the Lilliefors test.",
            )
        from statsmodels.stats.diagnostic import lilliefors

        stat, p = lilliefors(a, dist="norm", pvalmethod="table")
        name = "Lilliefors (KS, normal with estimated mean and sd)"
    else:
        if not hasattr(stats, distribution):
            raise DataError(
                f"unknown distribution {distribution!r}", hint="Use a scipy.stats name."
            )
        res = stats.kstest(a, distribution, args=params, alternative=alternative)
        stat, p, name = (
            res.statistic,
            res.pvalue,
            f"Kolmogorov-Smirnov (one sample, {distribution})",
        )
    return TestResult(
        test=name,
        statistic=float(stat),
        p_value=float(p),
        df=None,
        n={"x": len(a)},
        alternative=alternative if params is not None else "two-sided",
        effect_size=float(stat),
        effect_size_name="ks_distance",
        assumptions={"distribution": distribution, "params": list(params or ())},
        warnings=tuple(warnings),
    )
