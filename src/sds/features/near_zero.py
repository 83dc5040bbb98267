"""Near-zero variance, and whether a rare column still tells the target apart.

caret's ``nearZeroVar`` rule flags a column whose most common value is over 95/5 = 19 times
as frequent as the second and whose distinct values are under 10% of the values present.
Rare is not useless: a flag set in 3% of rows can move the target rate from 37% to 82%. So
every flagged column's association with the target is tested on the training rows (never
the held-out rows that permutation importance scores on), with a univariate test suited to
the kinds of the two columns:

- a two-valued column and a binary target: the two-proportion test of
  :func:`sds.stats.proportions.compare_proportions` (Fisher's exact test when a cell has
  fewer than 5 rows, else the pooled z test, which is Pearson's chi-square without
  continuity correction);
- a text or few-valued column (at most :data:`FEW_LEVELS` values) and a categorical target:
  Pearson's chi-square of the levels x classes table (scipy ``chi2_contingency``; its
  Monte Carlo p-value, seeded, 9,999 tables, when an expected count is under 5);
- a numeric column with more values and a categorical target: Kruskal-Wallis of the column
  across the classes (scipy ``kruskal``; Mann-Whitney's test for two classes);
- a numeric target: Kruskal-Wallis of the target across the column's values when it has at
  most :data:`FEW_LEVELS`, else Spearman's rank correlation (scipy ``spearmanr``).

Rows where the column is missing are left out, as the rule counts only values present. The
p-values of all flagged columns are adjusted together by Holm's method
(:mod:`sds.stats.multiple`); a column whose adjusted p-value is below ``alpha`` is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.stats.multiple import adjust
from sds.stats.proportions import EXACT_METHOD, compare_proportions

FEW_LEVELS = 20
MONTE_CARLO_TABLES = 9_999


@dataclass(frozen=True)
class NearZero:
    """caret's figures for one column: its most common value and that value's share of the
    values present, the ratio of its count to the next value's, and the distinct values."""

    top: Any
    top_share: float
    ratio: float
    distinct: int
    distinct_share: float

    def text(self) -> str:
        return (
            f"top value {plain_value(self.top)} in {self.top_share:.1%} of values, "
            f"{self.ratio:.0f}x the next; {self.distinct} distinct ({self.distinct_share:.1%})"
        )


@dataclass(frozen=True)
class Association:
    """A flagged column's association with the target on the training rows: the test, its
    p-value (NaN when no test is possible), the Holm-adjusted p-value over all flagged
    columns, the rows tested, and what differs (the target's rate or mean by group)."""

    feature: str
    test: str
    p_value: float
    p_adjusted: float
    rows: int
    contrast: str

    def significant(self, alpha: float) -> bool:
        return self.p_adjusted < alpha  # NaN compares False: not shown to matter

    def text(self, tested: int) -> str:
        """The evidence, with ``tested`` the number of columns the adjustment counted."""
        if math.isnan(self.p_value):
            return f"association with the target not testable ({self.contrast})"
        return (
            f"association with the target on {self.rows:,} training rows: "
            f"p = {self.p_adjusted:.2g} ({self.test}; Holm-adjusted over {tested} "
            f"near-zero-variance column(s); raw p = {self.p_value:.2g}); {self.contrast}"
        )


def near_zero(x: pd.Series) -> NearZero | None:
    """caret's figures when ``x`` has near-zero variance (ratio over 19, under 10% distinct),
    else None (also for a constant or empty column)."""
    counts = x.value_counts()
    if len(counts) < 2:
        return None
    present = int(counts.sum())
    ratio = float(counts.iloc[0] / counts.iloc[1])
    share = len(counts) / present
    if not (ratio > 95 / 5 and share < 0.10):
        return None
    top_share = float(counts.iloc[0] / present)
    return NearZero(counts.index[0], top_share, ratio, len(counts), share)


def associations(
    train: pd.DataFrame, target: str, columns: list[str], task: str, seed: int = 0
) -> list[Association]:
    """Each column's test against ``target`` on the rows of ``train``, Holm-adjusted over
    ``columns``."""
    raw = [_association(train[c], train[target], task, seed) for c in columns]
    adjusted = adjust([p for _, p, _, _ in raw], "holm")
    return [
        Association(c, test, p, q, rows, contrast)
        for c, (test, p, rows, contrast), q in zip(columns, raw, adjusted, strict=True)
    ]


def _association(x: pd.Series, y: pd.Series, task: str, seed: int) -> tuple[str, float, int, str]:
    present = x.notna()
    x, y = x[present], y[present]
    if x.nunique() < 2:
        return "none", math.nan, len(x), "one value in the training rows"
    if task == "regression":
        return _numeric_target(x, y)
    few = x.nunique() <= FEW_LEVELS or not _numeric(x)
    if few and x.nunique() == 2 and task == "binary":
        return _two_proportions(x, y)
    if few:
        return _contingency(x, y, seed)
    groups = [x[y == level].to_numpy(float) for level in _levels(y)]
    p = _kruskal(groups)
    return "Kruskal-Wallis across the classes", p, len(x), _class_contrast(x, y)


def _two_proportions(x: pd.Series, y: pd.Series) -> tuple[str, float, int, str]:
    top = x.value_counts().index[0]
    label = _rate_class(y)
    hit = y == label
    rare = x != top
    estimate = compare_proportions(
        int(hit[rare].sum()), int(rare.sum()), int(hit[~rare].sum()), int((~rare).sum())
    )
    p = math.nan if estimate.p_value is None else estimate.p_value
    test = "Fisher's exact" if estimate.method == EXACT_METHOD else "two-proportion z"
    contrast = (
        f"value {plain_value(x[rare].iloc[0])} in {rare.mean():.1%} of these rows; "
        f"{_is(y, label)} in {hit[rare].mean():.1%} of them vs {hit[~rare].mean():.1%} "
        f"when {plain_value(top)}"
    )
    return test, p, len(x), contrast


def _contingency(x: pd.Series, y: pd.Series, seed: int) -> tuple[str, float, int, str]:
    from scipy.stats import MonteCarloMethod, chi2_contingency

    table = pd.crosstab(x.astype(object), y.astype(object)).to_numpy()
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return "none", math.nan, len(x), "one class in these rows"
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    if expected.min() < 5:
        method = MonteCarloMethod(n_resamples=MONTE_CARLO_TABLES, rng=np.random.default_rng(seed))
        p = float(chi2_contingency(table, correction=False, method=method).pvalue)
        test = f"chi-square, Monte Carlo p ({MONTE_CARLO_TABLES:,} tables; small counts)"
    else:
        p = float(chi2_contingency(table, correction=False).pvalue)
        test = "Pearson chi-square"
    return test, p, len(x), _class_contrast(x, y)


def _numeric_target(x: pd.Series, y: pd.Series) -> tuple[str, float, int, str]:
    from scipy.stats import spearmanr

    top = x.value_counts().index[0]
    rare = x != top
    contrast = (
        f"mean {y.name} {y[rare].mean():.4g} when not {plain_value(top)} "
        f"({rare.mean():.1%} of these rows) vs {y[~rare].mean():.4g} when {plain_value(top)}"
    )
    if y.nunique() < 2:
        return "none", math.nan, len(x), "the target has one value in these rows"
    if x.nunique() <= FEW_LEVELS or not _numeric(x):
        groups = [y[x == level].to_numpy(float) for level in x.unique()]
        return "Kruskal-Wallis across the values", _kruskal(groups), len(x), contrast
    p = float(spearmanr(x.astype(float), y.astype(float)).pvalue)
    return "Spearman rank correlation", p, len(x), contrast


def _kruskal(groups: list[np.ndarray]) -> float:
    """Kruskal-Wallis' p-value over the non-empty groups (NaN with fewer than two)."""
    from scipy.stats import kruskal

    groups = [g for g in groups if len(g)]
    return float(kruskal(*groups).pvalue) if len(groups) >= 2 else math.nan


def _class_contrast(x: pd.Series, y: pd.Series) -> str:
    """The class whose share differs most between the top value's rows and the rest."""
    top = x.value_counts().index[0]
    rare = x != top
    gaps = {c: abs((y[rare] == c).mean() - (y[~rare] == c).mean()) for c in _levels(y)}
    label = _rate_class(y) if len(gaps) == 2 else max(gaps, key=lambda c: gaps[c])
    hit = y == label
    return (
        f"not {plain_value(top)} in {rare.mean():.1%} of these rows; {_is(y, label)} in "
        f"{hit[rare].mean():.1%} of them vs {hit[~rare].mean():.1%} when {plain_value(top)}"
    )


def _is(y: pd.Series, label: Any) -> str:
    return f"{y.name} = {plain_value(label)}"


def _rate_class(y: pd.Series) -> Any:
    """The class whose rate is reported for a binary target: the less common one (the later
    in sort order on a tie)."""
    counts = y.value_counts()
    least = counts[counts == counts.min()].index
    return sorted(least, key=str)[-1]


def _levels(y: pd.Series) -> list[Any]:
    return sorted(y.unique(), key=str)


def _numeric(x: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x))


def plain_value(value: Any) -> str:
    """A value as a reader writes it (``1``, ``'gold'``), not numpy's repr."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if isinstance(value, str) else str(value)
