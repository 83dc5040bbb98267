"""Normality tests (Shapiro-Wilk, Anderson-Darling, D'Agostino-Pearson) and equal-variance
tests (Levene, Brown-Forsythe), wrapped from scipy.

These tests answer "is the assumption plausible?", so they carry no effect size with an
interval; instead the skewness and excess kurtosis (normality) or the ratio of the largest to
the smallest variance (equal variances) say how far from the assumption the data are, which
matters more than the p-value in large samples, where every test rejects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.params import OneOf, check
from sds.stats.result import TestResult
from sds.stats.samples import ArrayLike, clean_values, need_values

NORMALITY = OneOf(("shapiro", "anderson", "dagostino"))
_MINIMUM = {"shapiro": 3, "anderson": 8, "dagostino": 8}
_NAMES = {
    "shapiro": "Shapiro-Wilk",
    "anderson": "Anderson-Darling",
    "dagostino": "D'Agostino-Pearson",
}


def normality(x: ArrayLike, *, method: str = "shapiro") -> TestResult:
    """Test `x` for normality.

    Anderson-Darling's p-value is interpolated in scipy's table of critical values (Stephens
    1974), so it is bounded to [0.01, 0.15]. D'Agostino-Pearson needs at least 8 values (20 for
    a trustworthy kurtosis test).

    Args:
        x: The sample; missing values are dropped.
        method: `shapiro` (Shapiro-Wilk, default, at least 3 values), `anderson`
            (Anderson-Darling, at least 8) or `dagostino` (D'Agostino-Pearson, at least 8).

    Returns:
        The statistic and p-value (a small p-value rejects normality), with the sample's
            skewness and excess kurtosis under `assumptions`.

    Raises:
        DataError: Too few values for `method`, or every value equal.
    """
    check("method", method, NORMALITY)
    a, dropped = clean_values(x, "x")
    need_values(a, "x", _MINIMUM[method])
    if np.ptp(a) == 0:
        raise DataError("all values are equal: normality cannot be tested")
    warnings = [f"{dropped} missing value(s) were dropped."] if dropped else []
    if method == "shapiro":
        res = stats.shapiro(a)
        if len(a) > 5000:
            warnings.append("Shapiro-Wilk's p-value may be inaccurate above 5000 values.")
    elif method == "anderson":
        res = stats.anderson(a, dist="norm", method="interpolate")
        warnings.append("The Anderson-Darling p-value is interpolated within [0.01, 0.15].")
    else:
        res = stats.normaltest(a)
        if len(a) < 20:
            warnings.append("D'Agostino's kurtosis test wants at least 20 values.")
    if len(a) > 5000 and res.pvalue < 0.05:
        warnings.append(
            "With this many values tiny departures reject normality; judge by skewness and "
            "kurtosis, and by the t-test's robustness in large samples."
        )
    return TestResult(
        test=f"{_NAMES[method]} normality test",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=2.0 if method == "dagostino" else None,
        n={"x": len(a)},
        alternative="two-sided",
        assumptions={
            "skewness": float(stats.skew(a)),
            "excess_kurtosis": float(stats.kurtosis(a)),
        },
        warnings=tuple(warnings),
    )


def equal_variance(
    groups: Mapping[str, Sequence[float] | np.ndarray], *, center: str = "mean"
) -> TestResult:
    """Levene's test (`center='mean'`) or Brown-Forsythe (`center='median'`).

    Args:
        groups: Group name -> its values (at least 2 groups of at least 2 values); missing
            values are dropped.
        center: `mean` (Levene's test) or `median` (Brown-Forsythe, robust to skewed data).

    Returns:
        The W statistic with `k - 1` df and its p-value (a small p-value rejects equal
            variances), with each group's variance and the largest-to-smallest ratio under
            `assumptions`.

    Raises:
        DataError: Fewer than 2 groups, a group too small, or every group constant.
    """
    check("center", center, OneOf(("mean", "median")))
    if len(groups) < 2:
        raise DataError("needs at least 2 groups", found=len(groups))
    clean = {}
    for name, values in groups.items():
        arr, _ = clean_values(values, str(name))
        need_values(arr, str(name))
        clean[str(name)] = arr
    variances = {name: float(np.var(a, ddof=1)) for name, a in clean.items()}
    if all(v == 0 for v in variances.values()):
        raise DataError("every group is constant: variances cannot be compared")
    res = stats.levene(*clean.values(), center=center)
    smallest = min(variances.values())
    return TestResult(
        test="Levene's test" if center == "mean" else "Brown-Forsythe test",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(len(clean) - 1),
        n={name: len(a) for name, a in clean.items()},
        alternative="two-sided",
        assumptions={
            "df_within": sum(len(a) for a in clean.values()) - len(clean),
            "variance_ratio": max(variances.values()) / smallest if smallest else None,
            **{f"variance_{k}": v for k, v in variances.items()},
        },
    )
