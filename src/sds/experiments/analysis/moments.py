"""Means, variances and covariances of a group from its sums: the aggregates' arithmetic.

A :class:`Moments` holds a group's size, sums and sums of cross-products. Its ``mean``,
``var`` and ``cov`` are the sample moments (``ddof=1``); a variable named ``None`` is the
constant 1, so a mean metric is a ratio metric with denominator 1 and one formula serves
both (delta method, as in tea-tasting's ``Aggregates.ratio_var``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sds.experiments.analysis.aggregates import Layout


@dataclass(frozen=True)
class Moments:
    n: float
    sums: dict[str, float]
    cross: dict[tuple[str, str], float]

    def mean(self, v: str | None) -> float:
        return 1.0 if v is None else self.sums[v] / self.n

    def cov(self, v: str | None, w: str | None) -> float:
        if v is None or w is None or self.n < 2:
            return 0.0
        key = (v, w) if (v, w) in self.cross else (w, v)
        return (self.cross[key] - self.n * self.mean(v) * self.mean(w)) / (self.n - 1)

    def var(self, v: str | None) -> float:
        return self.cov(v, v)

    def ratio(self, num: str | None, den: str | None) -> float:
        return self.mean(num) / self.mean(den)

    def ratio_cov(
        self, a_num: str | None, a_den: str | None, b_num: str | None, b_den: str | None
    ) -> float:
        """Delta-method covariance of two ratios of means (per unit, not of the mean)."""
        ra, rb = self.ratio(a_num, a_den), self.ratio(b_num, b_den)
        return (
            self.cov(a_num, b_num)
            - ra * self.cov(a_den, b_num)
            - rb * self.cov(a_num, b_den)
            + ra * rb * self.cov(a_den, b_den)
        ) / (self.mean(a_den) * self.mean(b_den))

    def ratio_var(self, num: str | None, den: str | None) -> float:
        return self.ratio_cov(num, den, num, den)

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.n + other.n,
            {k: v + other.sums[k] for k, v in self.sums.items()},
            {k: v + other.cross[k] for k, v in self.cross.items()},
        )


def from_row(row: pd.Series, lay: Layout) -> Moments:
    return Moments(
        float(row["n"]),
        {v: float(row[lay.sum_name(v)]) for v in lay.variables},
        {(a, b): float(row[lay.cross_name(a, b)]) for a, b in lay.pairs},
    )


def by(rows: pd.DataFrame, lay: Layout, keys: Iterable[str]) -> dict[tuple[object, ...], Moments]:
    """Moments per combination of ``keys`` (sums of the finest-grain rows)."""
    keys = list(keys)
    value_cols = [c for c in rows.columns if c not in lay.keys]
    grouped = rows.groupby(keys, sort=True, dropna=False)[value_cols].sum()
    out = {}
    for index, row in grouped.iterrows():
        key = index if isinstance(index, tuple) else (index,)
        out[key] = from_row(row, lay)
    return out


def from_arrays(columns: dict[str, np.ndarray]) -> Moments:
    """Moments of unit-level arrays (all the same length), every pair of columns kept."""
    names = list(columns)
    n = float(len(columns[names[0]]))
    sums = {v: float(np.sum(columns[v])) for v in names}
    cross = {
        (a, b): float(np.dot(columns[a], columns[b]))
        for i, a in enumerate(names)
        for b in names[i:]
    }
    return Moments(n, sums, cross)
