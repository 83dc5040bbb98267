"""Seeded simulations: plans deliver the power they promise, for every metric type.

Each test plans a sample size, simulates 2,000 experiments of exactly that size with the
planned effect, runs the test the plan is for, and checks the rejection rate is within 2
percentage points of the planned power (the binomial SE of 2,000 draws at 0.8 is 0.9 points).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data.io import open_table
from sds.experiments import history
from sds.experiments import power as pw

SIMS = 2_000
TOLERANCE = 0.02


def test_proportion_plan_realises_its_power() -> None:
    rng = np.random.default_rng(101)
    p0, delta, ratio = 0.10, 0.02, 1.0
    n_c = round(pw.solve_n(pw.proportion_model(p0, "pooled"), delta, 0.8, ratio, 0.05))
    xc = rng.binomial(n_c, p0, SIMS)
    xt = rng.binomial(n_c, p0 + delta, SIMS)
    pooled = (xc + xt) / (2 * n_c)
    z = (xt / n_c - xc / n_c) / np.sqrt(pooled * (1 - pooled) * 2 / n_c)
    realised = np.mean(np.abs(z) > stats.norm.isf(0.025))
    assert abs(realised - 0.8) < TOLERANCE


def test_mean_plan_realises_its_power_on_skewed_data() -> None:
    rng = np.random.default_rng(202)
    mean, std, delta = 20.0, 30.0, 2.0  # revenue-like: gamma with shape (mean/std)^2
    n_c = round(pw.solve_n(pw.mean_model(std, "t"), delta, 0.8, 1.0, 0.05))
    shape_c, shape_t = (mean / std) ** 2, ((mean + delta) / std) ** 2
    c = rng.gamma(shape_c, mean / shape_c, (SIMS, n_c))
    t = rng.gamma(shape_t, (mean + delta) / shape_t, (SIMS, n_c))
    p = stats.ttest_ind(t, c, axis=1, equal_var=False).pvalue
    assert abs(np.mean(p < 0.05) - 0.8) < TOLERANCE


def _ratio_units(
    rng: np.random.Generator, shape: tuple[int, ...], q: float
) -> tuple[np.ndarray, np.ndarray]:
    sessions = 1 + rng.poisson(3.0, shape)
    orders = rng.binomial(sessions, q)
    return orders.astype(float), sessions.astype(float)


def _delta_z(xc: np.ndarray, yc: np.ndarray, xt: np.ndarray, yt: np.ndarray) -> np.ndarray:
    """The delta-method z statistic for the difference in ratios, per simulated experiment."""

    def ratio_and_var(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = x.shape[1]
        mx, my = x.mean(1), y.mean(1)
        r = mx / my
        cov = ((x - mx[:, None]) * (y - my[:, None])).sum(1) / (n - 1)
        var = (x.var(1, ddof=1) - 2 * r * cov + r**2 * y.var(1, ddof=1)) / (n * my**2)
        return r, var

    rc, vc = ratio_and_var(xc, yc)
    rt, vt = ratio_and_var(xt, yt)
    return (rt - rc) / np.sqrt(vc + vt)


@pytest.fixture(scope="module")
def ratio_history() -> history.HistoryEstimate:
    rng = np.random.default_rng(303)
    x, y = _ratio_units(rng, (200_000,), 0.2)
    return history.estimate_ratio(open_table(pd.DataFrame({"o": x, "s": y})), "o", "s")


def test_ratio_plan_realises_its_power(ratio_history: history.HistoryEstimate) -> None:
    rng = np.random.default_rng(304)
    q, lift = 0.2, 0.05
    model = pw.ratio_model(ratio_history.std**2)
    n_c = round(pw.solve_n(model, ratio_history.mean * lift, 0.8, 1.0, 0.05))
    xc, yc = _ratio_units(rng, (SIMS, n_c), q)
    xt, yt = _ratio_units(rng, (SIMS, n_c), q * (1 + lift))
    realised = np.mean(np.abs(_delta_z(xc, yc, xt, yt)) > stats.norm.isf(0.025))
    assert abs(realised - 0.8) < TOLERANCE


def test_ratio_variance_matches_simulation(ratio_history: history.HistoryEstimate) -> None:
    """Sample size is proportional to the variance, so 3% on the variance is 3% on n."""
    rng = np.random.default_rng(305)
    n, sims = 400, 20_000
    diffs = []
    for _ in range(4):
        xc, yc = _ratio_units(rng, (sims // 4, n), 0.2)
        xt, yt = _ratio_units(rng, (sims // 4, n), 0.2)
        diffs.append(xt.mean(1) / yt.mean(1) - xc.mean(1) / yc.mean(1))
    simulated = np.var(np.concatenate(diffs), ddof=1)
    planned = 2 * ratio_history.std**2 / n
    assert simulated / planned == pytest.approx(1.0, abs=0.03)
