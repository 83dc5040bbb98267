"""Means, variances and covariances of a group: the aggregates' arithmetic.

A :class:`Moments` holds a group's size, its means and its centred co-moments
``C[v, w] = sum (v - mean_v)(w - mean_w)`` (``C[v, v]`` is M2), never raw sums of squares
or cross-products: those cancel catastrophically when the mean is large against the spread
(epoch seconds, balances in cents: N(1e8, 1) lost every digit of its variance). Means are
kept as offsets from a per-variable ``origin`` shared by every group of one analysis, so a
difference of two groups' means keeps its digits too. Groups are pooled with the parallel
formula of Chan, Golub and LeVeque (1979).

``mean``, ``var`` and ``cov`` are the sample moments (``ddof=1``); a variable named ``None``
is the constant 1, so a mean metric is a ratio metric with denominator 1 and one formula
serves both (delta method, as in tea-tasting's ``Aggregates.ratio_var``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Moments:
    n: float
    means: dict[str, float]  # offsets from ``origin``
    comoments: dict[tuple[str, str], float]  # centred: sum (v - mean_v)(w - mean_w)
    origin: dict[str, float] = field(default_factory=dict)

    def mean(self, v: str | None) -> float:
        return 1.0 if v is None else self.origin.get(v, 0.0) + self.means[v]

    def offset(self, v: str) -> float:
        """The mean minus the variable's origin (exact differences between groups)."""
        return self.means[v]

    def total(self, v: str) -> float:
        """The sum of ``v`` over the group."""
        return self.n * self.mean(v)

    def comoment(self, v: str, w: str) -> float:
        key = (v, w) if (v, w) in self.comoments else (w, v)
        return self.comoments[key]

    def cov(self, v: str | None, w: str | None) -> float:
        if v is None or w is None or self.n < 2:
            return 0.0
        return self.comoment(v, w) / (self.n - 1)

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

    def rebased(self, origin: dict[str, float]) -> Moments:
        """The same moments with means measured from ``origin``."""
        if origin == self.origin:
            return self
        means = {
            v: m + (self.origin.get(v, 0.0) - origin.get(v, 0.0)) for v, m in self.means.items()
        }
        return Moments(self.n, means, self.comoments, origin)

    def __add__(self, other: Moments) -> Moments:
        """The pooled group (Chan et al.): n = na + nb, mean = ma + d nb / n and
        C = Ca + Cb + d_v d_w na nb / n, with d = mb - ma."""
        other = other.rebased(self.origin)
        na, nb = self.n, other.n
        if nb == 0:
            return self
        if na == 0:
            return other
        n = na + nb
        delta = {v: other.means[v] - m for v, m in self.means.items()}
        means = {v: m + delta[v] * nb / n for v, m in self.means.items()}
        co = {
            (a, b): c + other.comoment(a, b) + delta[a] * delta[b] * na * nb / n
            for (a, b), c in self.comoments.items()
        }
        return Moments(n, means, co, self.origin)


def from_arrays(columns: dict[str, np.ndarray], origin: dict[str, float] | None = None) -> Moments:
    """Moments of unit-level arrays (all the same length), every pair of columns kept; means
    from ``origin`` (by default each column's first value, inside the data's bulk)."""
    names = list(columns)
    n = float(len(columns[names[0]]))
    if origin is None:
        origin = {v: float(columns[v][0]) if len(columns[v]) else 0.0 for v in names}
    shifted = {v: columns[v] - origin.get(v, 0.0) for v in names}
    means = {v: float(np.mean(shifted[v])) for v in names}
    dev = {v: shifted[v] - means[v] for v in names}
    co = {(a, b): float(np.dot(dev[a], dev[b])) for i, a in enumerate(names) for b in names[i:]}
    return Moments(n, means, co, origin)
