"""One resampling plan per run: forward-chained folds in time order for a temporal split
(cut at timestamps, the gap respected), grouped folds for a group split, seeded stratified
or shuffled folds otherwise; and every step inside the training split (tuning, the
cross-validated spread, the learning curve, the comparison) uses that one plan.

The two acceptance cases plant the leaks the plan guards against and compute the honest
figure independently with scikit-learn: an unsorted file whose base rate drifts week by
week (shuffled or file-order folds are optimistic by about 0.2 AUC), and customer-clustered
rows where gradient boosting memorises customers through customer-level features (on
shuffled folds it beats logistic regression; on grouped folds and on the test split it
loses).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sds.errors import DataError
from sds.models.resampling import ResamplingPlan, resampling_plan
from sds.models.run import TrainResult, train_model
from sds.models.split import split
from sds.models.tune import cv_scores

SEED = 42
FEATURES = ["tenure", "x"]


def _times(n: int, seed: int, *, unit: str = "s", weeks: int = 30) -> pd.Series:
    rng = np.random.default_rng(seed)
    steps = rng.integers(0, weeks * 7 * 86_400, n) // (86_400 if unit == "D" else 1)
    return pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(steps, unit=unit))


def _drifting(n: int = 5_000, seed: int = 7) -> pd.DataFrame:
    """Rows over 30 weeks, shuffled in the file. The base rate rises week by week (7% to
    85%) and ``tenure`` tracks the week, so a model scored on rows from the weeks it was
    fitted on ranks by the trend; within a later block of weeks only ``x`` tells."""
    rng = np.random.default_rng(seed)
    ts = _times(n, seed)
    week = (ts - ts.min()).dt.total_seconds().to_numpy() / (7 * 86_400)
    x = rng.normal(0, 1, n)
    logit = -2.5 + 0.17 * week + 0.3 * x
    frame = pd.DataFrame(
        {
            "ts": ts,
            "tenure": week + rng.normal(0, 1, n),
            "x": x,
            "churned": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


def _clustered(customers: int = 300, per: int = 8, seed: int = 11) -> pd.DataFrame:
    """``per`` rows per customer; a customer-level effect (sd 1.5 on the logit) that only
    customer-level constants (``lat``, ``lon``: no relation to the target) can identify,
    and a row-level feature ``x`` with a real linear effect."""
    rng = np.random.default_rng(seed)
    customer = np.repeat(np.arange(customers), per)
    effect = rng.normal(0, 1.5, customers)[customer]
    x = rng.normal(0, 1, len(customer))
    logit = -0.5 + effect + 0.8 * x
    return pd.DataFrame(
        {
            "customer": customer,
            "lat": rng.uniform(0, 100, customers)[customer],
            "lon": rng.uniform(0, 100, customers)[customer],
            "x": x,
            "churned": (rng.random(len(customer)) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def _logistic() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def _train(config: dict[str, Any], folder: Path) -> TrainResult:
    # HistGradientBoosting's OpenMP threads crawl on a shared, busy machine: one thread
    with threadpool_limits(1):
        return train_model(config, output=folder / "model", track=False)


# ------------------------------------------------------------------ the plan itself


def test_temporal_split_returns_each_part_in_time_order() -> None:
    frame = pd.DataFrame({"ts": _times(600, 1, unit="D"), "y": np.arange(600) % 2})
    s = split(frame, "y", method="temporal", time_column="ts", gap=timedelta(days=2))
    for rows in (s.train, s.validation, s.test):
        times = frame["ts"].to_numpy()[rows]
        assert (np.diff(times.astype(np.int64)) >= 0).all()
        for t in np.unique(times):  # ties keep the file's order (a stable sort)
            same = rows[times == t]
            assert (np.diff(same) > 0).all()


@pytest.mark.parametrize("gap", [None, timedelta(days=3)])
def test_forward_chained_folds_score_rows_later_than_they_fit(gap: timedelta | None) -> None:
    frame = pd.DataFrame({"ts": _times(2_000, 2, unit="D"), "y": np.arange(2_000) % 2})
    frame = frame.sample(frac=1, random_state=3).reset_index(drop=True)  # unsorted
    plan = resampling_plan(
        frame, frame["y"], "binary", method="temporal", folds=5, seed=0, time_column="ts", gap=gap
    )
    t = frame["ts"].to_numpy()
    pad = np.timedelta64(pd.Timedelta(gap or timedelta(0)))
    assert plan.kind == "forward-chained" and plan.get_n_splits() == 5
    blocks = []
    for (fit, score), left in zip(plan.split(frame), plan.left_out, strict=True):
        assert t[fit].max() + pad < t[score].min()  # every fit time before every score time
        brute = sum(t[score].min() - pad <= v < t[score].min() for v in t)  # left out
        assert left == brute and (left > 0) == (gap is not None)
        assert len(fit) + left == sum(v < t[score].min() for v in t)
        blocks.append(score)
    for earlier, later in itertools.pairwise(blocks):
        assert t[earlier].max() < t[later].min()  # a timestamp never straddles two blocks
    first = np.setdiff1d(np.arange(len(t)), np.concatenate(blocks))
    assert t[first].max() < t[blocks[0]].min()  # the rest is the first block: fit only


def test_forward_chained_folds_are_time_series_split_on_the_time_ordered_rows() -> None:
    frame = pd.DataFrame({"ts": _times(1_003, 4), "y": np.arange(1_003) % 2})  # unique times
    plan = resampling_plan(
        frame, frame["y"], "binary", method="temporal", folds=4, seed=0, time_column="ts"
    )
    order = np.argsort(frame["ts"].to_numpy(), kind="stable")
    want = [(order[a], order[b]) for a, b in TimeSeriesSplit(4).split(order)]
    for (fit, score), (fit_ref, score_ref) in zip(plan.split(), want, strict=True):
        assert np.array_equal(np.sort(fit), np.sort(fit_ref))
        assert np.array_equal(np.sort(score), np.sort(score_ref))


def test_grouped_folds_share_no_group() -> None:
    frame = _clustered(customers=60, per=5)
    y, groups = frame["churned"], frame["customer"].to_numpy()
    plan = resampling_plan(
        frame, y, "binary", method="group", folds=5, seed=SEED, group_column="customer"
    )
    reference = StratifiedGroupKFold(5, shuffle=True, random_state=SEED).split(frame, y, groups)
    for (fit, score), (fit_ref, score_ref) in zip(plan.split(frame), reference, strict=True):
        assert not set(groups[fit]) & set(groups[score])
        assert np.array_equal(fit, fit_ref) and np.array_equal(score, score_ref)
    values = frame["x"]
    regression = resampling_plan(
        frame, values, "regression", method="group", folds=4, seed=1, group_column="customer"
    )
    reference = GroupKFold(4, shuffle=True, random_state=1).split(frame, values, groups)
    for (fit, score), (_, score_ref) in zip(regression.split(), reference, strict=True):
        assert not set(groups[fit]) & set(groups[score])
        assert np.array_equal(score, score_ref)


def test_other_splits_get_seeded_stratified_or_shuffled_folds_usable_as_cv() -> None:
    frame = _clustered(customers=100, per=4)
    x, y = frame[["lat", "x"]], frame["churned"]
    plan = resampling_plan(frame, y, "binary", method="random", folds=4, seed=SEED)
    assert plan.kind == "stratified"
    reference = StratifiedKFold(4, shuffle=True, random_state=SEED).split(x, y)
    for (fit, score), (fit_ref, score_ref) in zip(plan.split(x), reference, strict=True):
        assert np.array_equal(fit, fit_ref) and np.array_equal(score, score_ref)
    mine = cv_scores(_logistic(), x, y, plan, "roc_auc")
    sklearn = cross_val_score(_logistic(), x, y, cv=plan, scoring="roc_auc")
    assert np.allclose(mine, sklearn, rtol=0, atol=1e-12)
    shuffled = resampling_plan(frame, frame["x"], "regression", method="random", folds=3, seed=5)
    reference = KFold(3, shuffle=True, random_state=5).split(frame)
    assert shuffled.kind == "shuffled"
    for (_, score), (_, score_ref) in zip(shuffled.split(), reference, strict=True):
        assert np.array_equal(score, score_ref)


def test_plan_refuses_what_it_cannot_cut() -> None:
    few = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"] * 50 + ["2024-01-02"] * 50)})
    few["y"] = np.arange(100) % 2
    with pytest.raises(DataError, match="cannot be cut into 5 forward-chained folds"):
        resampling_plan(
            few, few["y"], "binary", method="temporal", folds=5, seed=0, time_column="ts"
        )
    late = few.assign(ts=_times(100, 1), y=[0] * 90 + [1] * 10).sort_values("ts")
    with pytest.raises(DataError, match="single class"):
        resampling_plan(
            late, late["y"], "binary", method="temporal", folds=3, seed=0, time_column="ts"
        )
    groups = pd.DataFrame({"g": [1, 1, 2, 2, 3, 3], "y": [0, 1] * 3})
    with pytest.raises(DataError, match="at least 5 groups"):
        resampling_plan(
            groups, groups["y"], "binary", method="group", folds=5, seed=0, group_column="g"
        )
    plan = resampling_plan(
        groups, groups["y"], "binary", method="group", folds=3, seed=0, group_column="g"
    )
    with pytest.raises(DataError, match="built for other rows"):
        next(plan.split(np.zeros(7)))


def test_learning_curve_subsets_keep_time_order_and_whole_groups() -> None:
    frame = pd.DataFrame({"ts": _times(900, 6), "g": np.arange(900) % 90, "y": np.arange(900) % 2})
    timed = resampling_plan(
        frame, frame["y"], "binary", method="temporal", folds=3, seed=0, time_column="ts"
    )
    t = frame["ts"].to_numpy()
    for fit, _ in timed.split():
        part = timed.fit_subset(fit, 0.4, frame["y"])
        assert len(part) == round(0.4 * len(fit))
        assert t[part].min() >= t[np.setdiff1d(fit, part)].max()  # the most recent rows
    grouped = resampling_plan(
        frame, frame["y"], "binary", method="group", folds=3, seed=0, group_column="g"
    )
    g = frame["g"].to_numpy()
    for fit, _ in grouped.split():
        part = grouped.fit_subset(fit, 0.4, frame["y"])
        assert 0.3 * len(fit) < len(part) < 0.5 * len(fit)
        inside = set(g[part])
        assert not inside & set(g[np.setdiff1d(fit, part)])  # whole groups only


def test_the_plan_describes_itself_and_says_which_steps_use_it() -> None:
    frame = pd.DataFrame({"ts": _times(700, 8), "y": np.arange(700) % 2})
    plan = resampling_plan(
        frame,
        frame["y"],
        "binary",
        method="temporal",
        folds=5,
        seed=0,
        time_column="ts",
        gap=timedelta(days=7),
    )
    assert plan.describe() == (
        "5 forward-chained folds in time order by ts, gap 7 days, on 700 training rows"
    )
    record = plan.record(compared=True, recalibrated=True).to_dict()
    assert record["method"] == "forward-chained" and record["gap"] == "7 days"
    assert "model comparison (Nadeau-Bengio)" in record["folds_used_by"]
    assert record["validation_used_by"] == ["model choice", "decision threshold", "recalibration"]
    assert "permutation importance" in record["test_used_by"]
    sizes = record["fold_rows"]
    assert [r["score_rows"] for r in sizes] == [len(s) for _, s in plan.folds]
    single = plan.record(compared=False, recalibrated=False).to_dict()
    assert "model comparison (Nadeau-Bengio)" not in single["folds_used_by"]


# ------------------------------------------------------------------ through a training run


def test_every_step_inside_the_training_split_uses_the_one_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, frozenset[str], tuple[bytes, ...]]] = []
    original = ResamplingPlan.split

    def recording(self: ResamplingPlan, x: Any = None, *args: Any) -> Iterator[Any]:
        callers = frozenset(sys._getframe(d).f_code.co_name for d in range(1, 5))
        folds = list(original(self, x, *args))
        calls.append((id(self), callers, tuple(f.tobytes() + s.tobytes() for f, s in folds)))
        yield from folds

    monkeypatch.setattr(ResamplingPlan, "split", recording)
    frame = _clustered(customers=80, per=5)
    frame.to_parquet(tmp_path / "c.parquet")
    config = {
        "data": str(tmp_path / "c.parquet"),
        "target": "churned",
        "split": {"method": "group", "group_column": "customer"},
        "candidates": [{"name": "logistic", "tune": False}, {"name": "dummy"}],
        "tuning": {"folds": 3},
    }
    result = _train(config, tmp_path)
    assert len({plan for plan, _, _ in calls}) == 1  # one plan object
    assert len({folds for _, _, folds in calls}) == 1  # the same folds every time
    steps = {"tune", "learning_curve", "fold_scores"}
    assert all(callers & steps for _, callers, _ in calls)
    assert steps <= set().union(*(callers for _, callers, _ in calls))
    checks = result.evaluation.training
    assert checks is not None and checks.resampling.method == "grouped"


def test_temporal_cv_auc_equals_forward_chained_folds_on_an_unsorted_drifting_file(
    tmp_path: Path,
) -> None:
    frame = _drifting()
    frame.to_parquet(tmp_path / "drift.parquet")
    config = {
        "data": str(tmp_path / "drift.parquet"),
        "target": "churned",
        "split": {"method": "temporal", "time_column": "ts", "gap": "7d"},
        "candidates": [{"name": "logistic", "tune": False}],
        "tuning": {"folds": 5},
        "seed": SEED,
    }
    result = _train(config, tmp_path)
    reported = result.to_dict()["evaluation"]["cv"]["mean"]

    # independently: the training rows (before the 70% time quantile), sorted by time,
    # TimeSeriesSplit's blocks, fit rows within 7 days before a block left out
    cut = frame["ts"].quantile(0.70, interpolation="higher")
    train = frame[frame["ts"] < cut].sort_values("ts").reset_index(drop=True)
    assert len(train) == result.run.split.train
    x, y = train[FEATURES], train["churned"]
    honest = []
    for fit, score in TimeSeriesSplit(5).split(train):
        start = train["ts"].iloc[score].min()
        fit = fit[(train["ts"].iloc[fit] < start - pd.Timedelta(days=7)).to_numpy()]
        model = _logistic().fit(x.iloc[fit], y.iloc[fit])
        honest.append(roc_auc_score(y.iloc[score], model.predict_proba(x.iloc[score])[:, 1]))
    assert abs(reported - np.mean(honest)) < 0.02

    # the leak the plan closes: folds in file order (the old code) or shuffled folds
    unsorted = frame[frame["ts"] < cut]
    for leaky in (TimeSeriesSplit(5), StratifiedKFold(5, shuffle=True, random_state=SEED)):
        optimistic = cross_val_score(
            _logistic(), unsorted[FEATURES], unsorted["churned"], cv=leaky, scoring="roc_auc"
        ).mean()
        assert optimistic > np.mean(honest) + 0.15

    checks = result.evaluation.training
    assert checks is not None
    assert checks.resampling.description.startswith("5 forward-chained folds in time order")
    # the learning curve's full-size point is the same model on the same folds
    assert checks.learning_curve[-1].validation == pytest.approx(reported, abs=1e-12)
    assert checks.learning_curve[0].validation < 0.7  # the curve is honest too


def test_grouped_comparison_agrees_with_grouped_folds_and_the_test_split(tmp_path: Path) -> None:
    frame = _clustered()
    frame.to_parquet(tmp_path / "clustered.parquet")
    config = {
        "data": str(tmp_path / "clustered.parquet"),
        "target": "churned",
        "split": {"method": "group", "group_column": "customer"},
        "candidates": [
            {"name": "logistic", "tune": False},
            {"name": "hgb", "tune": False, "params": {"max_iter": 50}},
        ],
        "tuning": {"folds": 5},
        "seed": SEED,
    }
    result = _train(config, tmp_path)
    checks = result.evaluation.training
    assert checks is not None
    (row,) = checks.comparison
    assert (row.model_a, row.model_b) == ("logistic", "hgb")
    cv = {c.name: c.cv_mean for c in result.candidates}  # tuning's folds: the same plan
    assert row.cv_mean_difference == pytest.approx(cv["logistic"] - cv["hgb"], abs=1e-12)

    # independently: the training rows of the split, grouped and shuffled folds
    s = split(frame, "churned", method="group", group_column="customer", seed=SEED)
    train = frame.iloc[s.train].reset_index(drop=True)
    x, y, groups = train[["lat", "lon", "x"]], train["churned"], train["customer"]
    hgb = HistGradientBoostingClassifier(max_iter=50, random_state=SEED)

    def difference(cv: Any, grouped: bool) -> float:
        folds = list(cv.split(x, y, groups) if grouped else cv.split(x, y))
        with threadpool_limits(1):
            a = cross_val_score(_logistic(), x, y, cv=folds, scoring="roc_auc")
            b = cross_val_score(hgb, x, y, cv=folds, scoring="roc_auc")
        return float(np.mean(a) - np.mean(b))

    grouped = difference(StratifiedGroupKFold(5, shuffle=True, random_state=SEED), True)
    shuffled = difference(StratifiedKFold(5, shuffle=True, random_state=SEED), False)
    assert row.test_auc_difference is not None
    assert np.sign(row.cv_mean_difference) == np.sign(grouped) == np.sign(row.test_auc_difference)
    assert row.cv_mean_difference > 0.01 and abs(row.cv_mean_difference - grouped) < 0.02
    assert shuffled < -0.02  # shuffled folds would crown the model that memorised customers
    assert checks.resampling.method == "grouped" and checks.resampling.column == "customer"
