"""Pearson, Spearman and Kendall correlation with Fisher-z intervals.

scipy computes the coefficient and its p-value (Kendall's tau-b, exact for small samples
without ties). The interval is Fisher's z. Pearson and Spearman use ``SE = 1 / sqrt(n - 3)``,
as pingouin reports it (for Pearson this equals scipy's own ``confidence_interval``). Kendall's
tau varies less than r, so that SE makes its interval far too wide (99.9% coverage at nominal
95%); it uses ``SE = sqrt(0.437 / (n - 4))`` instead, the variance of Fisher's z of tau from
Fieller, Hartley & Pearson (1957, Biometrika 44, 470-481), as recommended by Bonett & Wright
(2000, Psychometrika 65, 23-28). It assumes a roughly bivariate-normal shape without many ties.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.params import OneOf, check
from sds.stats import effect_sizes as es
from sds.stats.result import TestResult
from sds.stats.samples import ArrayLike

METHODS = OneOf(("pearson", "spearman", "kendall"))
_NAMES = {"pearson": "Pearson r", "spearman": "Spearman rho", "kendall": "Kendall tau-b"}


def _pairs(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray, int]:
    try:
        a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError("values are not numeric", hint="Convert the columns to numbers.") from exc
    if a.shape != b.shape:
        raise DataError("x and y must have the same length", found=f"{len(a)} and {len(b)}")
    if np.isinf(a).any() or np.isinf(b).any():
        raise DataError("values include infinities")
    keep = ~(np.isnan(a) | np.isnan(b))
    return a[keep], b[keep], int((~keep).sum())


def correlation(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: str = "pearson",
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Correlation of `x` and `y` (pairs with a missing value are dropped).

    Args:
        x: First variable; paired by position with `y`.
        y: Second variable, as long as `x`.
        method: `pearson` (linear, default), `spearman` (ranks) or `kendall` (tau-b, ranks
            with ties).
        alternative: `two-sided` (default), `greater` (a positive correlation) or `less`
            (a negative one).
        confidence: Coverage of the interval of the coefficient, in (0, 1): Fisher-z for
            Pearson and Spearman, Fieller-Hartley-Pearson for Kendall.

    Returns:
        The coefficient (statistic, estimate and effect size) with its interval, the
            p-value, the number of complete pairs and, for Pearson, `r_squared` and a
            warning when a variable is far from normal.

    Raises:
        DataError: Fewer than 3 complete pairs, or a constant variable.
    """
    check("method", method, METHODS)
    check("alternative", alternative)
    check("confidence", confidence)
    a, b, dropped = _pairs(x, y)
    if len(a) < 3:
        raise DataError("a correlation needs at least 3 complete pairs", found=len(a))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        raise DataError(
            "one variable is constant: the correlation is undefined",
            hint="A column with a single value cannot co-vary with anything.",
        )
    if method == "pearson":
        res = stats.pearsonr(a, b, alternative=alternative)
    elif method == "spearman":
        res = stats.spearmanr(a, b, alternative=alternative)
    else:
        res = stats.kendalltau(a, b, alternative=alternative)
    r = float(res.statistic)
    if method == "kendall":  # Fieller-Hartley-Pearson SE of atanh(tau), see the module doc
        n = len(a)
        fhp = math.sqrt(0.437 / (n - 4)) if n > 4 else 0.0
        lo, hi = es.fisher_z_interval(r, fhp, confidence) if n > 4 else (-1.0, 1.0)
    else:
        lo, hi = es.correlation_interval(r, len(a), confidence)
    warnings = [f"{dropped} incomplete pair(s) were dropped."] if dropped else []
    if method == "pearson":
        normal = [float(stats.shapiro(v).pvalue) if 3 <= len(v) <= 5000 else None for v in (a, b)]
        if any(p is not None and p < 0.01 for p in normal):
            warnings.append(
                "A variable is far from normal: Pearson's p-value and interval rely on "
                "normality; Spearman's rho is robust to that."
            )
    return TestResult(
        test=f"{_NAMES[method]} correlation",
        statistic=r,
        p_value=float(res.pvalue),
        df=float(len(a) - 2) if method == "pearson" else None,
        n={"pairs": len(a)},
        alternative=alternative,
        estimate=r,
        estimate_name=method,
        ci_lower=lo,
        ci_upper=hi,
        confidence=confidence,
        effect_size=r,
        effect_size_name=f"{method}_r" if method != "kendall" else "kendall_tau",
        effect_size_ci_lower=lo,
        effect_size_ci_upper=hi,
        assumptions={"r_squared": r * r} if method == "pearson" else {},
        warnings=tuple(warnings),
    )
