"""Post-hoc pairwise comparisons after a several-group test.

- Tukey HSD (equal variances): scipy's ``tukey_hsd`` (Tukey-Kramer for unequal sizes).
- Games-Howell (unequal variances, Games & Howell 1976): for groups i, j the difference of
  means over ``se = sqrt(s_i^2/n_i + s_j^2/n_j)`` with Welch-Satterthwaite df; the p-value is
  the studentized range tail ``P(Q_{k,df} > sqrt(2) |t|)`` and the interval
  ``diff +- q_{k,df,1-a} se / sqrt(2)``. scipy has the studentized range distribution but not
  the procedure; pingouin's ``pairwise_gameshowell`` is the reference in the tests.
- Dunn's test after Kruskal-Wallis is not offered; pairwise Mann-Whitney with Holm's
  correction is the rank-based follow-up (see ``pairwise_mann_whitney``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import stats

from sds.stats import effect_sizes as es
from sds.stats.multiple import DEFAULT, adjust


def tukey_hsd(groups: dict[str, np.ndarray], confidence: float = 0.95) -> list[dict[str, Any]]:
    """Tukey's honestly significant difference for every pair of groups (scipy's
    `tukey_hsd`; Tukey-Kramer when the groups differ in size), assuming equal variances.

    Args:
        groups: Group name -> its values as a float array, at least 2 groups; missing values
            must already be removed (a NaN makes that pair's numbers NaN).
        confidence: Coverage of the simultaneous intervals, in (0, 1).

    Returns:
        One row per pair in the order of `groups`: `group_a`, `group_b`, `difference`
            (mean of a minus mean of b), its simultaneous `ci_lower` and `ci_upper`,
            `p_adjusted` (already family-wise, no further adjustment needed) and `hedges_g`.
    """
    names = list(groups)
    res = stats.tukey_hsd(*groups.values())
    ci = res.confidence_interval(confidence)
    rows = []
    for i, j in itertools.combinations(range(len(names)), 2):
        a, b = groups[names[i]], groups[names[j]]
        rows.append(
            {
                "group_a": names[i],
                "group_b": names[j],
                "difference": float(a.mean() - b.mean()),
                "ci_lower": float(ci.low[i, j]),
                "ci_upper": float(ci.high[i, j]),
                "p_adjusted": float(res.pvalue[i, j]),
                "hedges_g": es.cohen_d_two(a, b) * es.hedges_correction(len(a) + len(b) - 2),
            }
        )
    return rows


def games_howell(groups: dict[str, np.ndarray], confidence: float = 0.95) -> list[dict[str, Any]]:
    """Games-Howell comparisons of every pair of groups (Games & Howell 1976):
    unequal variances and sizes allowed, Welch-Satterthwaite df per pair.

    Args:
        groups: Group name -> its values as a float array, at least 2 groups of at least 2
            values each; missing values must already be removed.
        confidence: Coverage of the simultaneous (studentized-range) intervals, in (0, 1).

    Returns:
        One row per pair in the order of `groups`: `group_a`, `group_b`, `difference`
            (mean of a minus mean of b), `ci_lower`, `ci_upper`, the Welch `t` and `df`,
            `p_adjusted` (from the studentized range, already family-wise) and `hedges_g`.
    """
    names = list(groups)
    k = len(names)
    rows = []
    for i, j in itertools.combinations(range(k), 2):
        a, b = groups[names[i]], groups[names[j]]
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = float(np.sqrt(va + vb))
        df = float((va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)))
        diff = float(a.mean() - b.mean())
        t = diff / se
        crit = float(stats.studentized_range.ppf(confidence, k, df)) / np.sqrt(2)
        rows.append(
            {
                "group_a": names[i],
                "group_b": names[j],
                "difference": diff,
                "ci_lower": diff - crit * se,
                "ci_upper": diff + crit * se,
                "t": t,
                "df": df,
                "p_adjusted": float(stats.studentized_range.sf(np.sqrt(2) * abs(t), k, df)),
                "hedges_g": es.cohen_d_two(a, b) * es.hedges_correction(len(a) + len(b) - 2),
            }
        )
    return rows


def pairwise_mann_whitney(
    groups: dict[str, np.ndarray], correction: str = DEFAULT
) -> list[dict[str, Any]]:
    """Mann-Whitney U for each pair, p-values adjusted across the pairs (``p_adjusted``)."""
    names = list(groups)
    rows: list[dict[str, Any]] = []
    for a, b in itertools.combinations(names, 2):
        res = stats.mannwhitneyu(groups[a], groups[b], alternative="two-sided")
        rows.append(
            {
                "group_a": a,
                "group_b": b,
                "u": float(res.statistic),
                "p_value": float(res.pvalue),
                "rank_biserial": 2 * float(res.statistic) / (len(groups[a]) * len(groups[b])) - 1,
            }
        )
    adjusted = adjust([float(r["p_value"]) for r in rows], correction)
    for row, p in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = p
    return rows
