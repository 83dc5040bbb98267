"""AUC with DeLong intervals, and calibration.

References: the AUC equals scikit-learn's ``roc_auc_score``; DeLong's variance (fast
midrank algorithm) equals a brute-force computation from the full pairwise comparison
matrix (a different algorithm) to 1e-12; the 95% interval covers the true AUC of a binormal
model 95% +- 1.5 points over 2,000 seeded draws, and the two-model test rejects at 5% +- 1
point when two scores have the same true AUC. The decile table equals scikit-learn's
``calibration_curve(strategy="quantile", n_bins=10)``; Brier equals ``brier_score_loss``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from sds.errors import DataError
from sds.models.auc import auc_ci, delong_test
from sds.models.calibration import calibration, decile_table


def _brute_force(y: np.ndarray, scores: list[np.ndarray]) -> np.ndarray:
    """Covariance of AUC estimates from the m x n comparison matrices."""
    v10, v01 = [], []
    for s in scores:
        pos, neg = s[y == 1], s[y == 0]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    m, n = len(v10[0]), len(v01[0])
    return np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n


def _binormal(rng: np.random.Generator, m: int, n: int, d: float) -> tuple[np.ndarray, np.ndarray]:
    y = np.r_[np.ones(m), np.zeros(n)].astype(int)
    return y, np.r_[rng.normal(d, 1, m), rng.normal(0, 1, n)]


def test_auc_and_delong_variance_match_independent_computations() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(int)
    a = np.round(y * 0.8 + rng.normal(size=400), 1)  # rounded: many ties
    b = np.round(y * 0.5 + rng.normal(size=400), 1)
    one = auc_ci(y, a)
    assert one["auc"] == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    cov = _brute_force(y, [a, b])
    assert one["std_error"] ** 2 == pytest.approx(cov[0, 0], rel=1e-12)
    test = delong_test(y, a, b)
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    assert test["z"] == pytest.approx(test["difference"] / np.sqrt(var), rel=1e-12)
    assert test["auc_b"] == pytest.approx(roc_auc_score(y, b), abs=1e-12)


def test_delong_interval_covers_and_test_holds_its_level() -> None:
    rng = np.random.default_rng(1)
    d = 1.0
    true_auc = stats.norm.cdf(d / np.sqrt(2))
    covered = rejected = 0
    for _ in range(2000):
        y, s = _binormal(rng, 100, 150, d)
        ci = auc_ci(y, s)
        covered += ci["ci_lower"] <= true_auc <= ci["ci_upper"]
        shared = s + rng.normal(0, 0.5, len(s))  # two scores, same true AUC, correlated
        other = s + rng.normal(0, 0.5, len(s))
        rejected += delong_test(y, shared, other)["p_value"] < 0.05
    assert abs(covered / 2000 - 0.95) <= 0.015, covered / 2000
    assert abs(rejected / 2000 - 0.05) <= 0.01, rejected / 2000


def test_decile_table_matches_calibration_curve() -> None:
    rng = np.random.default_rng(2)
    p = np.round(rng.beta(2, 5, 3000), 2)  # ties at the quantiles
    y = (rng.random(3000) < np.clip(p * 1.1, 0, 1)).astype(int)
    table = decile_table(y, p)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose([r["observed"] for r in table], prob_true, rtol=1e-12)
    np.testing.assert_allclose([r["predicted"] for r in table], prob_pred, rtol=1e-12)
    assert sum(r["rows"] for r in table) == 3000
    result = calibration(y, p)
    assert result["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    ece = sum(r["rows"] * abs(r["observed"] - r["predicted"]) for r in table) / 3000
    assert result["ece"] == pytest.approx(ece, rel=1e-12)
    assert result["within_tolerance"] == all(abs(r["gap"]) <= 0.05 for r in table)


def test_well_calibrated_passes_and_miscalibrated_fails() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 20000)
    y = (rng.random(20000) < p).astype(int)
    assert calibration(y, p)["within_tolerance"]
    assert not calibration(y, np.clip(p * 1.3, 0, 1))["within_tolerance"]


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="0/1 outcome"):
        calibration([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="lie in"):
        calibration([0, 1, 1], [0.1, 1.2, 0.3])
    with pytest.raises(DataError, match="at least 2 positives"):
        auc_ci([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4])
