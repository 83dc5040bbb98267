"""Standardised effect sizes with confidence intervals.

Cohen's d uses the pooled standard deviation (two samples) or the standard deviation of the
values or differences (one sample, paired); Hedges' g multiplies d by the small-sample factor
``J = 1 - 3 / (4 df - 1)``. Intervals follow Hedges & Olkin (1985, p. 86):
``d +- t_{df, 1-a/2} * sqrt(1/n_x + 1/n_y + d^2 / (2 (n_x + n_y)))`` (one sample:
``sqrt(1/n + d^2 / (2 n))``), as pingouin's ``compute_esci`` does.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def cohen_d_two(x: np.ndarray, y: np.ndarray) -> float:
    nx, ny = len(x), len(y)
    pooled = ((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2)
    return float((np.mean(x) - np.mean(y)) / math.sqrt(pooled))


def cohen_d_one(values: np.ndarray, mu: float = 0.0) -> float:
    return float((np.mean(values) - mu) / np.std(values, ddof=1))


def hedges_correction(df: float) -> float:
    return 1 - 3 / (4 * df - 1)


def d_interval(d: float, nx: int, ny: int | None, confidence: float = 0.95) -> tuple[float, float]:
    """Hedges & Olkin interval for a Cohen-type d (``ny=None`` for one sample or paired)."""
    if ny is None:
        se = math.sqrt(1 / nx + d**2 / (2 * nx))
        df = nx - 1
    else:
        se = math.sqrt((nx + ny) / (nx * ny) + d**2 / (2 * (nx + ny)))
        df = nx + ny - 2
    crit = float(stats.t.ppf((1 + confidence) / 2, df))
    return d - crit * se, d + crit * se
