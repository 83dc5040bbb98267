"""Comparing several groups: one-way ANOVA, Welch's ANOVA and Kruskal-Wallis.

scipy computes the classic F test and Kruskal-Wallis; Welch's heteroscedastic F (Welch 1951),
which scipy lacks, is written out here. Effect sizes: eta squared and omega squared for the
F tests (eta squared with its non-centrality interval, Smithson 2003), epsilon squared
``H / ((n^2 - 1) / (n + 1))`` for Kruskal-Wallis. With three or more groups each test carries
its post-hoc comparisons (:mod:`sds.stats.posthoc`): Tukey HSD after the classic ANOVA,
Games-Howell after Welch's, Holm-adjusted pairwise Mann-Whitney after Kruskal-Wallis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.params import check
from sds.stats import effect_sizes as es
from sds.stats import posthoc
from sds.stats.result import TestResult

Groups = Mapping[str, Sequence[float] | np.ndarray]


def _groups(groups: Groups, minimum: int = 2) -> dict[str, np.ndarray]:
    if len(groups) < 2:
        raise DataError("needs at least 2 groups", found=len(groups))
    out = {}
    for name, values in groups.items():
        arr = np.asarray(values, dtype=float)
        arr = arr[~np.isnan(arr)]
        if len(arr) < minimum:
            raise DataError(
                f"needs at least {minimum} values per group", column=str(name), found=len(arr)
            )
        out[str(name)] = arr
    if all(np.ptp(a) == 0 for a in out.values()):
        raise DataError("every group is constant: the test is undefined")
    return out


def _sums(groups: dict[str, np.ndarray]) -> tuple[float, float, int, int]:
    values = np.concatenate(list(groups.values()))
    grand = values.mean()
    between = sum(len(a) * (a.mean() - grand) ** 2 for a in groups.values())
    within = sum(((a - a.mean()) ** 2).sum() for a in groups.values())
    return float(between), float(within), len(groups), len(values)


def one_way_anova(groups: Groups, *, confidence: float = 0.95) -> TestResult:
    """Fisher's one-way ANOVA (equal variances assumed).

    With three or more groups the result carries Tukey HSD comparisons of every pair. A
    warning recommends Welch's ANOVA when Levene's test rejects equal variances at 0.05.

    Args:
        groups: Group name -> its values (at least 2 groups, at least 2 values each); NaN
            values are dropped.
        confidence: Coverage of eta squared's interval and of the Tukey HSD intervals, in
            (0, 1).

    Returns:
        The F statistic with its between-groups df (`assumptions.df_within` holds the
            within-groups df), the p-value, eta squared with its non-centrality interval,
            omega squared under `other_effect_sizes` and, with three or more groups, the
            Tukey HSD pairs under `comparisons`.

    Raises:
        DataError: Fewer than 2 groups, a group with fewer than 2 values, or every group
            constant.
        ParameterError: `confidence` is outside (0, 1).
    """
    check("confidence", confidence)
    g = _groups(groups)
    res = stats.f_oneway(*g.values())
    between, within, k, n = _sums(g)
    ms_within = within / (n - k)
    eta = between / (between + within)
    omega = (between - (k - 1) * ms_within) / (between + within + ms_within)
    levene = float(stats.levene(*g.values()).pvalue)
    warnings = (
        ["Levene's test rejects equal variances: prefer Welch's ANOVA."] if (levene < 0.05) else []
    )
    eta_lo, eta_hi = es.eta_squared_interval(float(res.statistic), k - 1, n - k, confidence)
    return TestResult(
        test="One-way ANOVA",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(k - 1),
        n={name: len(a) for name, a in g.items()},
        alternative="two-sided",
        confidence=confidence,
        effect_size=eta,
        effect_size_name="eta_squared",
        effect_size_ci_lower=eta_lo,
        effect_size_ci_upper=eta_hi,
        assumptions={"df_within": n - k, "equal_variance_p": levene},
        warnings=tuple(warnings),
        other_effect_sizes={"omega_squared": (omega, None, None)},
        comparisons=tuple(posthoc.tukey_hsd(g, confidence)) if k > 2 else (),
    )


def welch_anova(groups: Groups, *, confidence: float = 0.95) -> TestResult:
    """Welch's ANOVA: no equal-variance assumption (Welch 1951).

    Args:
        groups: Group name -> its values (at least 2 groups, at least 2 values each, none of
            zero variance); NaN values are dropped.
        confidence: Coverage of the Games-Howell intervals, in (0, 1).

    Returns:
        Welch's F with its numerator df (the fractional denominator df is
            `assumptions.df_within`), the p-value, eta squared, omega squared under
            `other_effect_sizes` and, with three or more groups, the Games-Howell pairs under
            `comparisons`.

    Raises:
        DataError: Fewer than 2 groups, a group with fewer than 2 values, or a group with zero
            variance (Welch's weights are its inverse).
        ParameterError: `confidence` is outside (0, 1).
    """
    check("confidence", confidence)
    g = _groups(groups)
    sizes = np.array([len(a) for a in g.values()], float)
    means = np.array([a.mean() for a in g.values()])
    variances = np.array([a.var(ddof=1) for a in g.values()])
    if (variances == 0).any():
        raise DataError("a group has zero variance: Welch's weights are undefined")
    k = len(g)
    w = sizes / variances
    center = (w * means).sum() / w.sum()
    a = (w * (means - center) ** 2).sum() / (k - 1)
    lam = ((1 - w / w.sum()) ** 2 / (sizes - 1)).sum()
    b = 1 + 2 * (k - 2) / (k**2 - 1) * lam
    f = a / b
    df2 = (k**2 - 1) / (3 * lam)
    between, within, _, n = _sums(g)
    ms_within = within / (n - k)
    omega = (between - (k - 1) * ms_within) / (between + within + ms_within)
    return TestResult(
        test="Welch's ANOVA",
        statistic=float(f),
        p_value=float(stats.f.sf(f, k - 1, df2)),
        df=float(k - 1),
        n={name: len(v) for name, v in g.items()},
        alternative="two-sided",
        confidence=confidence,
        effect_size=between / (between + within),
        effect_size_name="eta_squared",
        assumptions={"df_within": float(df2)},
        other_effect_sizes={"omega_squared": (omega, None, None)},
        comparisons=tuple(posthoc.games_howell(g, confidence)) if k > 2 else (),
    )


def kruskal_wallis(groups: Groups) -> TestResult:
    """Kruskal-Wallis H test on ranks (tie-corrected).

    Args:
        groups: Group name -> its values (at least 2 groups, at least 1 value each); NaN
            values are dropped.

    Returns:
        H with `k - 1` df, its chi-square p-value, epsilon squared
            `H (n + 1) / (n^2 - 1)` as the effect size and, with three or more groups,
            pairwise Mann-Whitney tests with Holm-adjusted p-values under `comparisons`.

    Raises:
        DataError: Fewer than 2 groups, an empty group, or every group constant.
    """
    g = _groups(groups, minimum=1)
    res = stats.kruskal(*g.values())
    n = sum(len(a) for a in g.values())
    return TestResult(
        test="Kruskal-Wallis",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(len(g) - 1),
        n={name: len(a) for name, a in g.items()},
        alternative="two-sided",
        effect_size=float(res.statistic) * (n + 1) / (n**2 - 1),
        effect_size_name="epsilon_squared",
        comparisons=tuple(posthoc.pairwise_mann_whitney(g)) if len(g) > 2 else (),
    )
