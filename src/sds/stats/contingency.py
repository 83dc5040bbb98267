"""Tests on counts: chi-square (independence, goodness of fit) and Fisher's exact test.

Wrapped from scipy; sds adds Cramér's V (independence) or Cohen's w (goodness of fit), the
expected-count check (Cochran's rule: no expected count below 1 and at most 20% below 5),
and for 2x2 tables the conditional maximum-likelihood odds ratio with its exact interval,
as R's ``fisher.test`` reports it.

Odds and risk ratios of a 2x2 table follow statsmodels' ``Table2x2``: the odds (risk) of the
event in column 1 for row 1 over row 2. ``event`` and ``groups`` only name column 1 and the
rows in the result (``event_level``, ``ratio_numerator``, ``ratio_denominator``); the runner
orients tables from data so that column 1 is the event level and row 1 the first group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats.contingency import association, odds_ratio

from sds.errors import DataError, ParameterError
from sds.params import check, check_weights
from sds.stats import effect_sizes as es
from sds.stats.proportions import SMALL_COUNT, compare_proportions
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


def _labels(
    table: np.ndarray, event: str | None, groups: Sequence[str] | None, rows: str = "row"
) -> dict[str, str]:
    """Name the ratios of a 2x2 table: the event (column 1) and row 1 over row 2."""
    if table.shape != (2, 2):
        return {}
    first, second = groups if groups is not None else (f"{rows} 1", f"{rows} 2")
    return {
        "event_level": event if event is not None else "column 1",
        "ratio_numerator": str(first),
        "ratio_denominator": str(second),
    }


def event_rates(table: np.ndarray, groups: Sequence[str] | None) -> tuple[dict[str, Any], ...]:
    """Each row's size, events (column 1) and event rate of a 2x2 table, row 1 first (the
    numerator of its ratios); nothing for larger tables."""
    if table.shape != (2, 2):
        return ()
    names = groups if groups is not None else ("row 1", "row 2")
    return tuple(
        {
            "group": str(name),
            "n": int(row.sum()),
            "events": int(row[0]),
            "rate": float(row[0] / row.sum()),
        }
        for name, row in zip(names, table, strict=True)
    )


def level_shares(
    table: np.ndarray, groups: Sequence[Any], levels: Sequence[Any]
) -> tuple[dict[str, Any], ...]:
    """Each row's size and share of each column level (a larger table's group summary)."""
    return tuple(
        {
            "group": str(name),
            "n": int(row.sum()),
            **{
                f"share_{level}": float(c / row.sum()) for level, c in zip(levels, row, strict=True)
            },
        }
        for name, row in zip(groups, table, strict=True)
    )


def chi_square_independence(
    counts: Sequence[Sequence[float]] | np.ndarray,
    correction: bool = True,
    *,
    event: str | None = None,
    groups: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> TestResult:
    """Pearson's chi-square test of independence (Yates' correction on 2x2 by default).

    On a 2x2 table also the odds and risk ratios of column 1 (`event`), row 1 over row 2.

    Args:
        counts: The contingency table: rows are groups, columns are outcomes, each cell a
            non-negative whole count; at least 2x2, no empty row or column.
        correction: Apply Yates' continuity correction; it only changes 2x2 tables.
        event: Name of column 1 in the ratios' labels (default "column 1"); 2x2 only.
        groups: Names of rows 1 and 2 in the ratios' labels (default "row 1", "row 2");
            2x2 only.
        confidence: Coverage of the intervals of Cramér's V (phi) and of the ratios, in
            (0, 1).

    Returns:
        The chi-square statistic, df and p-value, phi (2x2) or Cramér's V with its
            interval, Cochran's expected-count checks (a warning when cells expect fewer
            than 5) and, on 2x2, the odds and risk ratios under `other_effect_sizes`.

    Raises:
        DataError: The table is smaller than 2x2, holds negative or fractional counts, or
            has an all-zero row or column.
        ParameterError: `confidence` is outside (0, 1).
    """
    check("confidence", confidence)
    table = _table(counts)
    res = stats.chi2_contingency(table, correction=correction)
    checks, warnings = _cochran(res.expected_freq)
    v, (v_lo, v_hi) = _cramers_v(table, confidence)
    return TestResult(
        test="Chi-square test of independence",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(res.dof),
        n={"total": int(table.sum())},
        alternative="two-sided",
        confidence=confidence,
        effect_size=v,
        effect_size_name="phi" if table.shape == (2, 2) else "cramers_v",
        effect_size_ci_lower=v_lo,
        effect_size_ci_upper=v_hi,
        assumptions={
            **checks,
            "yates_correction": bool(correction and table.shape == (2, 2)),
            **_labels(table, event, groups),
        },
        warnings=tuple(warnings),
        other_effect_sizes=_ratios(table, confidence) if table.shape == (2, 2) else {},
        groups=event_rates(table, groups),
    )


def _cramers_v(table: np.ndarray, confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Cramér's V from the uncorrected chi-square, with its non-centrality interval."""
    chi2 = float(stats.chi2_contingency(table, correction=False).statistic)
    df = (table.shape[0] - 1) * (table.shape[1] - 1)
    v = float(association(table.astype(int), method="cramer"))
    return v, es.cramers_v_interval(chi2, int(table.sum()), df, min(table.shape), confidence)


def _ratios(
    table: np.ndarray, confidence: float = 0.95
) -> dict[str, tuple[float, float | None, float | None]]:
    """Sample odds ratio and risk ratio (row 1 vs row 2, column 1 the event), log intervals."""
    from statsmodels.stats.contingency_tables import Table2x2

    if (table == 0).any():
        return {}
    t = Table2x2(table)
    alpha = 1 - confidence
    or_lo, or_hi = t.oddsratio_confint(alpha)
    rr_lo, rr_hi = t.riskratio_confint(alpha)
    return {
        "odds_ratio": (float(t.oddsratio), float(or_lo), float(or_hi)),
        "risk_ratio": (float(t.riskratio), float(rr_lo), float(rr_hi)),
    }


def chi_square_goodness_of_fit(
    counts: Sequence[float], shares: Sequence[float] | None = None
) -> TestResult:
    """Observed counts against expected shares (equal by default).

    Args:
        counts: Observed count of each category (at least 2, non-negative, positive total).
        shares: Expected share of each category, in the order of `counts`; they must be
            positive and sum to 1. `None` expects equal shares.

    Returns:
        The chi-square statistic with `k - 1` df, its p-value, Cohen's w as the effect size
            and Cochran's expected-count checks.

    Raises:
        ParameterError: Fewer than 2 counts, a negative count, a zero total, or `shares`
            of the wrong length or not a set of shares.
    """
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
    resamples: int = 100_000,
    seed: int = 0,
    *,
    event: str | None = None,
    groups: Sequence[str] | None = None,
) -> TestResult:
    """Fisher's exact test.

    2x2: exact p-value with the conditional MLE odds ratio and its exact interval (as R), of
    column 1 (`event`) for row 1 over row 2; also the sample odds and risk ratios.
    Larger tables: the p-value is estimated from `resamples` tables drawn with the observed
    margins (scipy's `random_table`; R's `simulate.p.value`), seeded, its Monte Carlo
    standard error reported; Cramér's V is the effect size.

    Args:
        counts: The contingency table of non-negative whole counts, at least 2x2, no empty
            row or column.
        alternative: `two-sided` (default), `greater` or `less`: the direction of the
            alternative for the odds ratio of row 1 over row 2 (`greater`: above 1); 2x2
            only (a larger table with a one-sided alternative is refused).
        confidence: Coverage of the odds ratios' intervals (2x2) or of Cramér's V's
            (larger tables), in (0, 1).
        resamples: Number of Monte Carlo tables for a table larger than 2x2 (more tables,
            smaller Monte Carlo error); unused on 2x2.
        seed: Seed of the Monte Carlo draws, so the estimated p-value is reproducible.
        event: Name of column 1 in the ratios' labels (default "column 1"); 2x2 only.
        groups: Names of rows 1 and 2 in the ratios' labels (default "row 1", "row 2").

    Returns:
        On 2x2 the conditional MLE odds ratio (statistic, estimate and effect size) with
            its exact interval and the sample odds and risk ratios; on larger tables the
            Monte Carlo p-value with its standard error and Cramér's V.

    Raises:
        DataError: The table is not a valid contingency table.
        ParameterError: `alternative`, `confidence` or `resamples` is out of range, or
            `alternative` is one-sided for a table larger than 2x2.
    """
    check("alternative", alternative)
    check("confidence", confidence)
    table = _table(counts)
    if table.shape != (2, 2):
        if alternative != "two-sided":
            raise ParameterError(
                f"a one-sided alternative ({alternative!r}) needs a 2x2 table; this one is "
                f"{table.shape[0]}x{table.shape[1]}",
                parameter="alternative",
                hint="use alternative two-sided, or compare two groups on a two-level outcome",
            )
        return _fisher_rxc(table, resamples, seed, confidence)
    p = stats.fisher_exact(table, alternative=alternative).pvalue
    ratio = odds_ratio(table.astype(int), kind="conditional")
    ci = ratio.confidence_interval(confidence, alternative=alternative)
    labels = _labels(table, event, groups)
    of = f"{labels['event_level']}, {labels['ratio_numerator']} vs {labels['ratio_denominator']}"
    return TestResult(
        test="Fisher's exact test",
        statistic=float(ratio.statistic),
        p_value=float(p),
        df=None,
        n={"total": int(table.sum())},
        alternative=alternative,
        estimate=float(ratio.statistic),
        estimate_name=f"odds ratio (conditional MLE) of {of}",
        ci_lower=float(ci.low),
        ci_upper=float(ci.high),
        confidence=confidence,
        effect_size=float(ratio.statistic),
        effect_size_name="odds_ratio",
        effect_size_ci_lower=float(ci.low),
        effect_size_ci_upper=float(ci.high),
        assumptions=labels,
        other_effect_sizes=_ratios(table, confidence),
        groups=event_rates(table, groups),
    )


def _fisher_rxc(table: np.ndarray, resamples: int, seed: int, confidence: float) -> TestResult:
    check("resamples", resamples)
    method = stats.MonteCarloMethod(n_resamples=resamples, rng=np.random.default_rng(seed))
    res = stats.fisher_exact(table.astype(int), method=method)
    p = float(res.pvalue)
    v, (v_lo, v_hi) = _cramers_v(table, confidence)
    return TestResult(
        test="Fisher's exact test (Monte Carlo p-value)",
        statistic=float(res.statistic),
        p_value=p,
        df=None,
        n={"total": int(table.sum())},
        alternative="two-sided",
        confidence=confidence,
        effect_size=v,
        effect_size_name="cramers_v",
        effect_size_ci_lower=v_lo,
        effect_size_ci_upper=v_hi,
        assumptions={
            "resamples": resamples,
            "seed": seed,
            "p_value_standard_error": float(np.sqrt(p * (1 - p) / resamples)),
        },
    )


def two_proportion_z(
    successes: Sequence[int],
    totals: Sequence[int],
    *,
    alternative: str = "two-sided",
    confidence: float = 0.95,
    event: str | None = None,
    groups: Sequence[str] | None = None,
) -> TestResult:
    """Two proportions, x minus y, by `sds.stats.proportions.compare_proportions`:
    pooled z test with the unpooled (Wald) interval; when a group has fewer than 5 successes
    or failures, Fisher's exact p-value with Newcombe's interval (`test` and a warning say
    so; the statistic is then the sample odds ratio).

    Effect sizes: Cohen's h `2 asin(sqrt(p1)) - 2 asin(sqrt(p2))` with the interval
    `h +- z sqrt(1/n1 + 1/n2)`; risk and odds ratios of a success (`event`) in the first
    group over the second (`groups`, default x and y), with log intervals when no cell is 0.

    Args:
        successes: Successes in x and in y (two whole counts, each between 0 and its total).
        totals: Trials in x and in y (two positive counts).
        alternative: `two-sided` (default), `greater` (p(x) > p(y)) or `less`.
        confidence: Coverage of the interval of the difference and of the effect sizes, in
            (0, 1).
        event: What a success is called in the ratios' labels (default "success").
        groups: Names of the two groups in the labels (default "x", "y").

    Returns:
        The difference `p(x) - p(y)` with its standard error, interval and p-value, the z
            statistic (or the odds ratio when Fisher's test was used), Cohen's h with its
            interval, and the risk and odds ratios under `other_effect_sizes`.

    Raises:
        DataError: Not exactly two groups, a non-positive total, successes outside
            [0, total], or every outcome the same.
    """
    check("alternative", alternative)
    check("confidence", confidence)
    count, nobs = np.asarray(successes, dtype=float), np.asarray(totals, dtype=float)
    if count.shape != (2,) or nobs.shape != (2,) or (nobs <= 0).any():
        raise DataError("needs two groups, each with a positive total", found=f"{list(nobs)}")
    if (count < 0).any() or (count > nobs).any():
        raise DataError("successes must lie between 0 and the group total", found=list(count))
    p1, p2 = count / nobs
    if count.sum() in (0, nobs.sum()):
        raise DataError("every outcome is the same: the proportions cannot differ")
    est = compare_proportions(
        count[0],
        nobs[0],
        count[1],
        nobs[1],
        alpha=1 - confidence,
        contrast="p(x) - p(y)",
        alternative=alternative,
    )
    h = float(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))
    half = float(stats.norm.ppf((1 + confidence) / 2) * np.sqrt(1 / nobs[0] + 1 / nobs[1]))
    table = np.array([[count[0], nobs[0] - count[0]], [count[1], nobs[1] - count[1]]])
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    checks, warnings = _cochran(expected)
    test, statistic = "Two-proportion z-test", est.statistic
    if statistic is None:
        test = "Fisher's exact test (small counts; Newcombe interval)"
        statistic = float(stats.fisher_exact(table).statistic)
        warnings = [
            f"A group has fewer than {SMALL_COUNT} successes or failures: the p-value is "
            "Fisher's exact test's and the interval Newcombe's, not the z test's.",
            *(w for w in warnings if "use Fisher's exact test" not in w),
        ]
    assert est.estimate is not None and est.p_value is not None
    return TestResult(
        test=test,
        statistic=statistic,
        p_value=est.p_value,
        df=None,
        n={"x": int(nobs[0]), "y": int(nobs[1])},
        alternative=alternative,
        estimate=est.estimate,
        estimate_name="p(x) - p(y)",
        ci_lower=est.ci_lower,
        ci_upper=est.ci_upper,
        confidence=confidence,
        effect_size=h,
        effect_size_name="cohens_h",
        effect_size_ci_lower=h - half,
        effect_size_ci_upper=h + half,
        assumptions={
            "proportion_x": float(p1),
            "proportion_y": float(p2),
            **checks,
            **_labels(table, event if event is not None else "success", groups or ("x", "y")),
        },
        warnings=tuple(warnings),
        other_effect_sizes=_ratios(table, confidence),
        std_error=est.std_error,
        groups=event_rates(table, groups or ("x", "y")),
    )
