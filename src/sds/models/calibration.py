"""Calibration of predicted probabilities: Brier score, expected calibration error and the
decile table, each decile judged on its interval.

Deciles are equal-count bins of the predictions, the bins of scikit-learn's
``calibration_curve(strategy="quantile", n_bins=10)``, whose predicted and observed rates
the table reproduces; empty bins (ties at a quantile) are left out as scikit-learn does.
ECE is the count-weighted mean gap between observed and predicted rates over those bins.

Sampling noise: each decile's gap (observed minus mean predicted rate) gets the interval
of its observed rate, Wilson's score interval at ``1 - 2 * alpha`` (statsmodels
``proportion_confint(method="wilson")``), minus the decile's mean prediction (a fixed
number). A decile fails when that interval lies wholly outside ``±tolerance``, passes when
it lies wholly inside, else ``not enough data`` (:mod:`sds.models.verdict`); the table
fails when any decile fails and passes when every decile passes. With 100 rows a decile's
90% interval is about ±8 points wide, wider than a 5-point band: 1,000 test rows can show a
decile is off, never that all are within 5 points. The Brier score's interval is the t
interval of the mean squared error. ``within`` / ``within_tolerance`` keep the plain rule
on the point estimates (|gap| at most ``tolerance``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sds.errors import DataError
from sds.models.verdict import FAIL, PASS, UNDECIDED, Verdict, decide, rows_needed

TOLERANCE = 0.05  # "within 5 points"
ALPHA = 0.05  # one-sided: the intervals are 90%


def decile_table(
    y: Any, p: Any, n_bins: int = 10, tolerance: float = TOLERANCE, alpha: float = ALPHA
) -> list[dict[str, Any]]:
    """Per non-empty bin: rows, mean predicted, observed rate, gap with its ``1 - 2 *
    alpha`` interval, whether the gap is within ``tolerance`` and the verdict."""
    from statsmodels.stats.proportion import proportion_confint

    y, p = _checked(y, p)
    edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    bins = np.searchsorted(edges[1:-1], p)  # scikit-learn's rule
    rows = []
    for b in range(n_bins):
        inside = bins == b
        n = int(inside.sum())
        if n == 0:
            continue
        predicted, observed = float(p[inside].mean()), float(y[inside].mean())
        low, high = proportion_confint(int(y[inside].sum()), n, alpha=2 * alpha, method="wilson")
        low, high = float(low) - predicted, float(high) - predicted
        rows.append(
            {
                "bin": b + 1,
                "rows": n,
                "predicted": predicted,
                "observed": observed,
                "gap": observed - predicted,
                "gap_ci_lower": low,
                "gap_ci_upper": high,
                "within": abs(observed - predicted) <= tolerance,
                "verdict": decide(low, high, -tolerance, tolerance),
            }
        )
    return rows


def calibration(
    y: Any, p: Any, n_bins: int = 10, tolerance: float = TOLERANCE, alpha: float = ALPHA
) -> dict[str, Any]:
    """Brier score with its interval, ECE and the decile table, with the plain rule
    (``within_tolerance``) and the verdict on the deciles' intervals."""
    from scipy import stats
    from sklearn.metrics import brier_score_loss

    y, p = _checked(y, p)
    table = decile_table(y, p, n_bins, tolerance, alpha)
    ece = sum(r["rows"] * abs(r["gap"]) for r in table) / len(p)
    squared = (p - y) ** 2
    half = float(stats.t.isf(alpha, len(p) - 1) * squared.std(ddof=1) / np.sqrt(len(p)))
    brier = float(brier_score_loss(y, p))
    verdict = _table_verdict([r["verdict"] for r in table])
    return {
        "brier": brier,
        "brier_ci_lower": brier - half,
        "brier_ci_upper": brier + half,
        "ece": float(ece),
        "deciles": table,
        "within_tolerance": all(r["within"] for r in table),
        "tolerance": tolerance,
        "alpha": alpha,
        "verdict": verdict,
        "rows_needed": _rows_needed(table, len(p), tolerance) if verdict == UNDECIDED else None,
    }


def deciding_decile(deciles: list[dict[str, Any]], tolerance: float) -> dict[str, Any]:
    """The decile that decides the table's verdict: the one lying furthest outside the band
    (fail), else the one reaching furthest beyond it (not enough data), else the one coming
    closest to its edge (pass)."""
    failed = [d for d in deciles if d["verdict"] == FAIL]
    if failed:
        return max(failed, key=lambda d: max(d["gap_ci_lower"], -d["gap_ci_upper"]))
    return max(deciles, key=lambda d: max(d["gap_ci_upper"], -d["gap_ci_lower"]))


def _table_verdict(verdicts: list[Verdict]) -> Verdict:
    if FAIL in verdicts:
        return FAIL
    return PASS if all(v == PASS for v in verdicts) else UNDECIDED


def _rows_needed(table: list[dict[str, Any]], rows: int, tolerance: float) -> int | None:
    """Test rows that would decide every undecided decile (deciles are equal-count, so the
    test rows scale as each decile's rows do); None when a decile's gap sits on the band."""
    needed = []
    for d in table:
        if d["verdict"] == UNDECIDED:
            low, high = d["gap_ci_lower"], d["gap_ci_upper"]
            found = rows_needed(d["gap"], low, high, rows, -tolerance, tolerance)
            if found is None:
                return None
            needed.append(found)
    return max(needed)


def _checked(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise DataError("outcomes and probabilities must be two columns of the same length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataError("calibration needs a 0/1 outcome", found=f"values {np.unique(y)[:5]}")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise DataError("probabilities must lie in [0, 1] with no missing values")
    return y, p
