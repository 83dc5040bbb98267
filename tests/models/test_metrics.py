"""Held-out metrics, thresholds, fairness, stability and model comparison.

References: every metric equals scikit-learn's own function on the same predictions
(exactly: the same numbers, ``==``); thresholds equal a brute-force search over every
candidate threshold; fairness figures equal a pandas group-by of the same decisions; the
Nadeau-Bengio test with a vanishing test share equals scipy's one-sample t-test on the fold
differences, and its variance factor is (1/J + n_test/n_train) exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from sds.errors import DataError
from sds.models.compare import corrected_ttest
from sds.models.fairness import fairness
from sds.models.metrics import (
    binary_metrics,
    choose_threshold,
    multiclass_metrics,
    regression_metrics,
)
from sds.models.stability import gap, permutation_importance


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    y = (rng.random(1_500) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-(1.4 * y - 1 + rng.normal(size=1_500))))
    return y, p


def test_binary_metrics_equal_scikit_learn(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scored
    m = binary_metrics(y, p, threshold=0.4)
    decided = (p >= 0.4).astype(int)
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert m["pr_auc"] == skm.average_precision_score(y, p)
    assert m["log_loss"] == skm.log_loss(y, p)
    assert m["precision"] == skm.precision_score(y, decided)
    assert m["recall"] == skm.recall_score(y, decided)
    assert m["f1"] == skm.f1_score(y, decided)
    assert m["accuracy"] == skm.accuracy_score(y, decided)
    assert m["confusion"] == skm.confusion_matrix(y, decided).tolist()
    assert m["auc_ci_lower"] < m["auc"] < m["auc_ci_upper"]


def test_multiclass_and_regression_metrics_equal_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.choice(np.array(["a", "b", "c"]), 600)
    raw = rng.random((600, 3)) + (y[:, None] == np.array(["a", "b", "c"])) * 0.8
    proba = raw / raw.sum(axis=1, keepdims=True)
    m = multiclass_metrics(y, proba, np.array(["a", "b", "c"]))
    decided = np.array(["a", "b", "c"])[proba.argmax(axis=1)]
    assert m["log_loss"] == skm.log_loss(y, proba, labels=["a", "b", "c"])
    assert m["accuracy"] == skm.accuracy_score(y, decided)
    assert m["macro_f1"] == skm.f1_score(y, decided, average="macro")
    assert m["auc_ovr"] == skm.roc_auc_score(y, proba, multi_class="ovr", labels=["a", "b", "c"])
    truth = rng.normal(size=500)
    guess = truth + rng.normal(scale=0.5, size=500)
    r = regression_metrics(truth, guess)
    assert r["rmse"] == np.sqrt(skm.mean_squared_error(truth, guess))
    assert r["mae"] == skm.mean_absolute_error(truth, guess)
    assert r["r2"] == skm.r2_score(truth, guess)


def _brute(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    rows = []
    for t in np.unique(p):
        d = p >= t
        tp, fp = int((d & (y == 1)).sum()), int((d & (y == 0)).sum())
        fn = int((~d & (y == 1)).sum())
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        rows.append(
            {"t": t, "precision": precision, "recall": recall, "f1": f1, "fp": fp, "fn": fn}
        )
    return pd.DataFrame(rows)


def test_thresholds_equal_brute_force(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scored
    grid = _brute(y, p)
    f1 = choose_threshold(y, p, "f1")
    assert f1["f1"] == pytest.approx(grid["f1"].max(), abs=1e-12)
    cost = choose_threshold(y, p, "cost", cost_fp=1.0, cost_fn=5.0)
    assert cost["cost"] == pytest.approx((grid["fp"] + 5 * grid["fn"]).min())
    chosen = choose_threshold(y, p, "precision", value=0.7)
    ok = grid[grid["precision"] >= 0.7]
    assert chosen["precision"] >= 0.7
    assert chosen["recall"] == pytest.approx(ok["recall"].max(), abs=1e-12)
    chosen = choose_threshold(y, p, "recall", value=0.9)
    ok = grid[grid["recall"] >= 0.9]
    assert chosen["precision"] == pytest.approx(ok["precision"].max(), abs=1e-12)
    assert choose_threshold(y, p, "fixed", value=0.3)["threshold"] == 0.3
    with pytest.raises(DataError, match=r"no threshold reaches a precision of 1\.01"):
        choose_threshold(y, p, "precision", value=1.01)


def test_fairness_equals_group_by(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scored
    rng = np.random.default_rng(2)
    group = np.where(rng.random(len(y)) < 0.5 + 0.3 * (p > 0.5), "F", "M")
    found = fairness(y, p, 0.5, pd.DataFrame({"gender": group}))[0]
    frame = pd.DataFrame({"y": y, "d": (p >= 0.5).astype(int), "g": group})
    rate = frame.groupby("g")["d"].mean()
    tpr = frame[frame.y == 1].groupby("g")["d"].mean()
    fpr = frame[frame.y == 0].groupby("g")["d"].mean()
    by = {r["group"]: r for r in found["groups"]}
    for g in ("F", "M"):
        assert by[g]["selection_rate"] == pytest.approx(rate[g], abs=1e-12)
        assert by[g]["tpr"] == pytest.approx(tpr[g], abs=1e-12)
        assert by[g]["fpr"] == pytest.approx(fpr[g], abs=1e-12)
        inside = group == g
        assert by[g]["auc"] == pytest.approx(skm.roc_auc_score(y[inside], p[inside]))
    assert found["demographic_parity_difference"] == pytest.approx(rate.max() - rate.min())
    eo = max(tpr.max() - tpr.min(), fpr.max() - fpr.min())
    assert found["equalized_odds_difference"] == pytest.approx(eo)
    assert found["demographic_parity_ratio"] == pytest.approx(rate.min() / rate.max())
    assert found["warning"] is not None  # the groups were made to differ
    fair = fairness(y, p, 0.5, pd.DataFrame({"g": rng.choice(np.array(["a", "b"]), len(y))}))
    assert fair[0]["warning"] is None


def test_gap_and_importance_coverage() -> None:
    from sklearn.linear_model import LinearRegression

    assert gap(0.90, 0.84)["overfit"] is True
    assert gap(0.90, 0.87)["relative_gap"] == pytest.approx(0.03 / 0.90)
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(800, 4)), columns=["a", "b", "c", "d"])
    y = 3 * x["a"] + 1 * x["b"] + 0.2 * x["c"] + rng.normal(scale=0.1, size=800)
    model = LinearRegression().fit(x, y)
    imp = permutation_importance(model, x, y, "regression", repeats=5, seed=0)
    names = [r["feature"] for r in imp["features"]]
    assert names[:3] == ["a", "b", "c"]
    shares = np.clip([r["importance"] for r in imp["features"]], 0, None)
    cumulative = np.cumsum(shares) / shares.sum()
    assert imp["features_for_coverage"] == int(np.argmax(cumulative >= 0.9) + 1)
    assert imp["top_share"] == pytest.approx(shares[0] / shares.sum())


def test_corrected_ttest_reduces_to_the_paired_t_and_applies_the_factor() -> None:
    rng = np.random.default_rng(4)
    a = 0.80 + rng.normal(scale=0.01, size=10)
    b = 0.79 + rng.normal(scale=0.01, size=10)
    plain = stats.ttest_1samp(a - b, 0.0)
    tiny = corrected_ttest(a, b, n_train=10**12, n_test=1)
    assert tiny["t"] == pytest.approx(plain.statistic, rel=1e-9)
    assert tiny["p_value"] == pytest.approx(plain.pvalue, rel=1e-9)
    corrected = corrected_ttest(a, b, n_train=800, n_test=200)
    factor = (1 / 10 + 200 / 800) / (1 / 10)
    assert corrected["t"] == pytest.approx(plain.statistic / np.sqrt(factor), rel=1e-12)
    assert corrected["df"] == 9
    with pytest.raises(DataError):
        corrected_ttest(a, b[:5], 800, 200)
