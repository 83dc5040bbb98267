"""ROC AUC with DeLong's variance: a confidence interval for one model and a test for two
models scored on the same rows.

DeLong, DeLong & Clarke-Pearson (1988), computed with the midrank algorithm of Sun & Xu
(2014): each positive's and each negative's placement value (the share of the other class
it outranks, ties counting half) gives the AUC's structural components, whose sample
covariances give the variance. The interval is on the AUC scale, clipped to [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from sds.errors import DataError


def _midranks(x: np.ndarray) -> np.ndarray:
    return np.asarray(stats.rankdata(x, method="average"), dtype=float)


def _components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs (one per score row) and the positives' and negatives' placement values."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    aucs, v10, v01 = [], [], []
    for k in range(scores.shape[0]):
        all_ranks = _midranks(np.r_[pos[k], neg[k]])
        pos_ranks, neg_ranks = _midranks(pos[k]), _midranks(neg[k])
        aucs.append((all_ranks[:m].sum() - m * (m + 1) / 2) / (m * n))
        v10.append((all_ranks[:m] - pos_ranks) / n)  # share of negatives each positive beats
        v01.append(1 - (all_ranks[m:] - neg_ranks) / m)  # share of positives above each negative
    return np.array(aucs), np.array(v10), np.array(v01)


def _covariance(v10: np.ndarray, v01: np.ndarray) -> np.ndarray:
    m, n = v10.shape[1], v01.shape[1]
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    out: np.ndarray = s10 / m + s01 / n
    return out


def _checked(y: Any, scores: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    if not np.isin(y, (0, 1)).all():
        raise DataError("AUC needs a 0/1 outcome", found=f"values {np.unique(y)[:5]}")
    if y.sum() < 2 or (1 - y).sum() < 2:
        raise DataError("AUC's interval needs at least 2 positives and 2 negatives")
    s = np.vstack([np.asarray(x, dtype=float) for x in scores])
    if s.shape[1] != len(y) or np.isnan(s).any():
        raise DataError("scores must match the outcomes in length and have no missing values")
    return y.astype(int), s


def auc_ci(y: Any, score: Any, alpha: float = 0.05) -> dict[str, float]:
    """AUC, its DeLong standard error and ``1 - alpha`` interval."""
    y, s = _checked(y, [score])
    aucs, v10, v01 = _components(y, s)
    se = float(np.sqrt(_covariance(v10, v01)[0, 0]))
    z = float(stats.norm.isf(alpha / 2))
    auc = float(aucs[0])
    return {
        "auc": auc,
        "std_error": se,
        "ci_lower": max(0.0, auc - z * se),
        "ci_upper": min(1.0, auc + z * se),
    }


def delong_test(y: Any, score_a: Any, score_b: Any) -> dict[str, float]:
    """Two-sided test that two correlated AUCs (same rows) are equal."""
    y, s = _checked(y, [score_a, score_b])
    aucs, v10, v01 = _components(y, s)
    cov = _covariance(v10, v01)
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = float(aucs[0] - aucs[1])
    z = diff / np.sqrt(var) if var > 0 else 0.0
    return {
        "auc_a": float(aucs[0]),
        "auc_b": float(aucs[1]),
        "difference": diff,
        "z": float(z),
        "p_value": float(2 * stats.norm.sf(abs(z))),
    }
