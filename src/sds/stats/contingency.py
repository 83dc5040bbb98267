"""Tests on counts: chi-square (independence, goodness of fit) and Fisher's exact test.

Wrapped from scipy; sds adds Cramér's V (independence) or Cohen's w (goodness of fit), the
expected-count check (Cochran's rule: no expected count below 1 and at most 20% below 5),
and for 2x2 tables the conditional maximum-likelihood odds ratio with its exact interval,
as R's ``fisher.test`` reports it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from scipy.stats.contingency import association, odds_ratio

from sds.errors import DataError, ParameterError
from sds.params import check, check_weights
from sds.stats.result import TestResult


def _table(counts: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or min(table.shape) < 2:
        raise DataError(
            "a contingency table needs at least 2 rows and 2 columns", found=f"shape {table.shape}"
        )
    if (table < 0).any() or not np.all(table == np.round(table)):
        raise DataError("a contingency table holds non-negative whole counts")
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        raise DataError(
            "a row or column of the table is all zero", hint="Drop empty categories before testing."
        )
    return table


def _cochran(expected: np.ndarray) -> tuple[dict[str, float], list[str]]:
    small = float((expected < 5).mean())
    checks = {"min_expected_count": float(expected.min()), "share_expected_below_5": small}
    warnings = []
    if expected.min() < 1 or small > 0.2:
        warnings.append(
            f"{small:.0%} of expected counts are below 5 (minimum "
            f"{expected.min():.2f}): the chi-square approximation is poor; use "
            "Fisher's exact test."
        )
    return checks, warnings


def chi_square_independence(
    counts: Sequence[Sequence[float]] | np.ndarray, correction: bool = True
) -> TestResult:
    """Pearson's chi-square test of independence (Yates' correction on 2x2 by default)."""
    table = _table(counts)
    res = stats.chi2_contingency(table, correction=correction)
    checks, warnings = _cochran(res.expected_freq)
    return TestResult(
        test="Chi-square test of independence",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(res.dof),
        n={"total": int(table.sum())},
        alternative="two-sided",
        effect_size=float(association(table.astype(int), method="cramer")),
        effect_size_name="cramers_v",
        assumptions=checks,
        warnings=tuple(warnings),
    )


def chi_square_goodness_of_fit(
    counts: Sequence[float], shares: Sequence[float] | None = None
) -> TestResult:
    """Observed counts against expected shares (equal by default)."""
    observed = np.asarray(counts, dtype=float)
    if observed.ndim != 1 or len(observed) < 2 or (observed < 0).any() or observed.sum() == 0:
        raise ParameterError(
            f"counts == {list(observed)}, must be at least 2 non-negative "
            "counts with a positive total",
            parameter="counts",
        )
    expected_shares = np.asarray(
        check_weights(shares if shares is not None else [1 / len(observed)] * len(observed))
    )
    if len(expected_shares) != len(observed):
        raise ParameterError(
            f"shares has {len(expected_shares)} values for {len(observed)} categories",
            parameter="shares",
        )
    expected = expected_shares * observed.sum()
    res = stats.chisquare(observed, f_exp=expected)
    checks, warnings = _cochran(expected)
    w = float(np.sqrt(((observed / observed.sum() - expected_shares) ** 2 / expected_shares).sum()))
    return TestResult(
        test="Chi-square goodness of fit",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(len(observed) - 1),
        n={"total": int(observed.sum())},
        alternative="two-sided",
        effect_size=w,
        effect_size_name="cohens_w",
        assumptions=checks,
        warnings=tuple(warnings),
    )


def fisher_exact(
    counts: Sequence[Sequence[float]] | np.ndarray,
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Fisher's exact test on a 2x2 table, with the conditional MLE odds ratio and interval."""
    check("alternative", alternative)
    check("confidence", confidence)
    table = _table(counts)
    if table.shape != (2, 2):
        raise DataError(
            "Fisher's exact test here takes a 2x2 table",
            found=f"shape {table.shape}",
            hint="Use the chi-square test, or collapse categories.",
        )
    p = stats.fisher_exact(table, alternative=alternative).pvalue
    ratio = odds_ratio(table.astype(int), kind="conditional")
    ci = ratio.confidence_interval(confidence, alternative=alternative)
    return TestResult(
        test="Fisher's exact test",
        statistic=float(ratio.statistic),
        p_value=float(p),
        df=None,
        n={"total": int(table.sum())},
        alternative=alternative,
        estimate=float(ratio.statistic),
        estimate_name="odds ratio (conditional MLE)",
        ci_lower=float(ci.low),
        ci_upper=float(ci.high),
        confidence=confidence,
        effect_size=float(ratio.statistic),
        effect_size_name="odds_ratio",
        effect_size_ci_lower=float(ci.low),
        effect_size_ci_upper=float(ci.high),
    )
