"""Feature selection and leakage checks.

The churn generator plants an ID, a high-cardinality code, a 98%-null column, a constant, an
exact duplicate and a leaky column recorded after the outcome; selection must drop each for
its own reason and keep the informative features. The filter rules are checked at their
boundaries (caret's ``nearZeroVar`` 95/5 and 10%; more than 95% null), the one-standard-
error rule and the cumulative-importance count on hand-made inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.features.importance import one_standard_error
from sds.features.leakage import leakage, name_echoes, task_of
from sds.features.select import _covering, _filter_reason, select_features

INFORMATIVE = {
    "satisfaction",
    "tenure_months",
    "contract",
    "monthly_charges",
    "support_calls",
    "region",
    "last_login_days",
}


def test_planted_problems_go_for_their_reasons_and_informative_features_stay() -> None:
    result = select_features(synth.make_churn(10_000, seed=3), "churned")
    reasons = {d["feature"]: d["reason"] for d in result.dropped}
    assert reasons["customer_id"] == "ID-like"
    assert reasons["zip_code"] == "high-cardinality text"
    assert reasons["referral_code"] == "null-heavy"
    assert reasons["country"] == "constant"
    assert reasons["monthly_fee"] == "correlated above 0.95"  # the later twin goes
    assert reasons["retention_call"] == "leakage: predicts the target almost perfectly"
    assert set(result.kept) >= INFORMATIVE
    assert "churned" not in result.kept
    leak = next(x for x in result.leaks if x["feature"] == "retention_call")
    assert "AUC 0.9" in leak["evidence"]
    ranked = [r["feature"] for r in result.importance]
    assert ranked[0] == "satisfaction" and 1 <= result.covering_90 <= len(ranked)


def test_filter_rules_at_their_boundaries() -> None:
    def series(top: int, second: int, others: int = 0) -> pd.Series:
        return pd.Series([0] * top + [1] * second + list(range(2, 2 + others)))

    assert _filter_reason(series(950, 50), 0.95) is None  # ratio exactly 19: kept
    flagged = _filter_reason(series(960, 40), 0.95)
    assert flagged is not None and flagged[0] == "near-zero variance"
    assert _filter_reason(series(900, 40, others=110), 0.95) is None  # 10.7% distinct
    nulls = pd.Series([1.0, 2.0] + [np.nan] * 38)  # exactly 95% null: kept
    assert _filter_reason(nulls, 0.95) is None
    assert _filter_reason(pd.Series([1.0] + [np.nan] * 39), 0.95)[0] == "null-heavy"  # type: ignore[index]
    assert _filter_reason(pd.Series(["a"] * 5), 0.95)[0] == "constant"  # type: ignore[index]


def test_leakage_checks_report_evidence() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    label_time = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D")
    y = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "price": y * 3 + rng.normal(scale=0.05, size=n),  # R² near 1
            "noise": rng.normal(size=n),
            "revenue_next_month": rng.normal(size=n),  # echoes the target's name
            "refund_at": label_time + pd.to_timedelta(rng.integers(-5, 5, n), unit="D"),
            "label_time": label_time,
            "revenue": y,
        }
    )
    features = ["price", "noise", "revenue_next_month", "refund_at"]
    found = {
        x["feature"]: x
        for x in leakage(frame, "revenue", features, "regression", label_time="label_time")
    }
    assert found["price"]["check"] == "predicts the target almost perfectly"
    assert "R²" in found["price"]["evidence"] and found["price"]["drop"]
    assert found["refund_at"]["check"] == "measured at or after the label time"
    assert found["revenue_next_month"]["drop"] is False
    assert "noise" not in found


def test_names_and_tasks() -> None:
    assert name_echoes("churn_score", "churned") and name_echoes("isChurned", "churned")
    assert not name_echoes("tenure_months", "churned")
    assert task_of(pd.Series([0, 1, 1])) == "binary"
    assert task_of(pd.Series(["a", "b", "c"])) == "multiclass"
    assert task_of(pd.Series(np.linspace(0, 1, 50))) == "regression"


def test_one_standard_error_rule_and_covering_count() -> None:
    n = np.array([1, 2, 3, 4, 5])
    mean = np.array([0.70, 0.80, 0.84, 0.85, 0.849])
    std = np.array([0.02, 0.02, 0.02, 0.03, 0.03])
    # best 0.85 at 4 features, one SE = 0.03 / sqrt(3) = 0.0173: 3 features (0.84) suffice
    assert one_standard_error(n, mean, std, 3) == 3
    rows = [{"cumulative_share": s} for s in (0.5, 0.8, 0.9, 1.0)]
    assert _covering(rows, 0.9) == 3


def test_a_target_with_one_value_is_refused() -> None:
    from sds.errors import DataError

    with pytest.raises(DataError, match="fewer than two values"):
        select_features(pd.DataFrame({"x": [1, 2, 3], "y": [1, 1, 1]}), "y")
