"""Calibration of predicted probabilities: Brier score, expected calibration error and the
decile table with a pass/fail per decile.

Deciles are equal-count bins of the predictions, the bins of scikit-learn's
``calibration_curve(strategy="quantile", n_bins=10)``, whose predicted and observed rates
the table reproduces; empty bins (ties at a quantile) are left out as scikit-learn does.
ECE is the count-weighted mean gap between observed and predicted rates over those bins.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sds.errors import DataError

TOLERANCE = 0.05  # "within 5 points"


def decile_table(
    y: Any, p: Any, n_bins: int = 10, tolerance: float = TOLERANCE
) -> list[dict[str, Any]]:
    """Per non-empty bin: rows, mean predicted, observed rate, gap, and whether it is within
    ``tolerance``."""
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
        rows.append(
            {
                "bin": b + 1,
                "rows": n,
                "predicted": predicted,
                "observed": observed,
                "gap": observed - predicted,
                "within": abs(observed - predicted) <= tolerance,
            }
        )
    return rows


def calibration(y: Any, p: Any, n_bins: int = 10, tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Brier score, ECE and the decile table, with an overall pass/fail."""
    from sklearn.metrics import brier_score_loss

    y, p = _checked(y, p)
    table = decile_table(y, p, n_bins, tolerance)
    ece = sum(r["rows"] * abs(r["gap"]) for r in table) / len(p)
    return {
        "brier": float(brier_score_loss(y, p)),
        "ece": float(ece),
        "deciles": table,
        "within_tolerance": all(r["within"] for r in table),
        "tolerance": tolerance,
    }


def _checked(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise DataError("outcomes and probabilities must be two columns of the same length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataError("calibration needs a 0/1 outcome", found=f"values {np.unique(y)[:5]}")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise DataError("probabilities must lie in [0, 1] with no missing values")
    return y, p
