"""Seeded simulations: A/A false-positive rates, interval coverage and CUPED's gain.

2,000 experiments per metric type. Acceptance: A/A rejection at 5% +- 1 point; intervals
cover the true effect 95% +- 1.5 points; CUPED shrinks the variance by about rho^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sds.experiments.analysis.kinds import Options
from sds.experiments.analysis.moments import Moments, from_arrays
from sds.experiments.analysis.quantile import quantile_effect
from sds.experiments.analysis.spec import MetricSpec

RUNS = 2000
N = 400
METRICS = {
    "proportion": MetricSpec(name="m", type="proportion", column="y"),
    "mean": MetricSpec(name="m", type="mean", column="y"),
    "cuped": MetricSpec(name="m", type="mean", column="y", covariate="x"),
    "ratio": MetricSpec(name="m", type="ratio", numerator="y", denominator="d"),
}


def compare(metric: MetricSpec, c: Moments, t: Moments, alpha: float) -> dict[str, Any]:
    """The effect row of the metric's kind, as the report states it."""
    return metric.kind.compare(metric, c, t, Options(alpha)).to_dict()


def _arm(kind: str, rng: np.random.Generator, lift: float = 0.0) -> dict[str, np.ndarray]:
    if kind == "proportion":
        return {"y": (rng.random(N) < 0.2 * (1 + lift)).astype(float)}
    if kind == "ratio":
        d = rng.poisson(3, N) + 1.0
        return {"y": rng.binomial(d.astype(int), 0.3 * (1 + lift)).astype(float), "d": d}
    x = rng.lognormal(1, 0.6, N)  # skewed, like revenue
    y = 0.8 * x + rng.gamma(2, 1, N)
    return {"y": y * (1 + lift), "x": x}


def _truth(kind: str, lift: float) -> tuple[float, float]:
    """(absolute effect, relative effect) of ``lift`` for each metric type."""
    base = {
        "proportion": 0.2,
        "ratio": 0.3,
        "mean": 0.8 * np.exp(1 + 0.18) + 2,
        "cuped": 0.8 * np.exp(1 + 0.18) + 2,
    }[kind]
    return base * lift, lift


@pytest.mark.parametrize("kind", list(METRICS))
def test_aa_rejects_at_alpha_and_intervals_cover(kind: str) -> None:
    rng = np.random.default_rng(20261125)
    metric = METRICS[kind]
    rejected = covered_abs = covered_rel = 0
    lift = 0.1
    true_abs, true_rel = _truth(kind, lift)
    for _ in range(RUNS):
        c, t = from_arrays(_arm(kind, rng)), from_arrays(_arm(kind, rng))
        rejected += compare(metric, c, t, 0.05)["p_value"] < 0.05
        c, t = from_arrays(_arm(kind, rng)), from_arrays(_arm(kind, rng, lift))
        row = compare(metric, c, t, 0.05)
        covered_abs += row["ci_lower"] <= true_abs <= row["ci_upper"]
        covered_rel += row["rel_ci_lower"] <= true_rel <= row["rel_ci_upper"]
    assert abs(rejected / RUNS - 0.05) <= 0.01, rejected / RUNS
    assert abs(covered_abs / RUNS - 0.95) <= 0.015, covered_abs / RUNS
    assert abs(covered_rel / RUNS - 0.95) <= 0.015, covered_rel / RUNS


@pytest.mark.slow
def test_quantile_bootstrap_aa_and_coverage() -> None:
    """The acceptance bar as for the other metrics: 2,000 A/A runs reject in 5% +- 1 point,
    2,000 intervals cover the true shift of the median 95% +- 1.5 points (each run is two
    bootstraps of 1,000 resamples; about two minutes). Measured: 4.15% and 95.25%."""
    rng = np.random.default_rng(7)
    n, shift = 400, 0.4
    rejected = 0
    for i in range(RUNS):
        a, b = rng.exponential(2, n), rng.exponential(2, n)
        row = quantile_effect(a, b, 0.5, alpha=0.05, resamples=1000, method="percentile", seed=i)
        rejected += not (row.ci_lower <= 0 <= row.ci_upper)
    covered = 0
    for i in range(RUNS):
        c, t = rng.exponential(2, n), rng.exponential(2, n) + shift
        row = quantile_effect(c, t, 0.5, alpha=0.05, resamples=1000, method="percentile", seed=i)
        covered += row.ci_lower <= shift <= row.ci_upper
    assert abs(rejected / RUNS - 0.05) <= 0.01, rejected / RUNS
    assert abs(covered / RUNS - 0.95) <= 0.015, covered / RUNS


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_cuped_shrinks_variance_by_rho_squared(rho: float) -> None:
    rng = np.random.default_rng(3)
    metric = METRICS["cuped"]
    reductions = []
    for _ in range(200):
        arms = []
        for _arm_index in range(2):
            x = rng.normal(size=2000)
            y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=2000)
            arms.append(from_arrays({"y": y, "x": x}))
        reductions.append(compare(metric, arms[0], arms[1], 0.05)["cuped"]["variance_reduction"])
    assert np.mean(reductions) == pytest.approx(rho**2, abs=0.01)
