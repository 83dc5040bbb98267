"""Point-in-time features against a naive pandas computation, label row by label row.

The generated transaction log gets label rows chosen to hit every edge: a cutoff equal to
an event's time (that event is excluded), a cutoff exactly one window after an event (the
window ``[t - w, t)`` includes it), entities whose events all come later, entities with no
events at all, late-arriving events (``available_at``) and zone-aware times.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.features.build import build

WINDOWS = {"7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
FUNCTIONS = ["nonnull", "sum", "mean", "min", "max", "std"]
SPEC = {
    "entity": "customer_id",
    "timestamp": "ts",
    "labels": "given",
    "windows": list(WINDOWS),
    "aggregations": [
        {"column": "amount", "functions": FUNCTIONS},
        {"column": "category", "functions": ["nunique", "last"]},
    ],
    "rfm": {"monetary": "amount"},
    "calendar": ["dayofweek", "hour", "month", "weekend", "days_since_first"],
}


def _events() -> pd.DataFrame:
    events = synth.make_transactions(300, seed=5, months=6)
    rng = np.random.default_rng(5)
    delay = rng.exponential(2.0, len(events)) * 86_400
    events["available_at"] = events["ts"] + pd.to_timedelta(delay.astype(int), unit="s")
    assert not events.duplicated(["customer_id", "ts"]).any()  # "last" has no ties
    return events


def _labels(events: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(6)
    ids = events["customer_id"].unique()
    start, end = events["ts"].min(), events["ts"].max()
    random_rows = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, 400),
            "label_time": start + (end - start) * rng.random(400),
        }
    )
    picked = events.sample(60, random_state=1)
    at_event = picked[["customer_id", "ts"]].rename(columns={"ts": "label_time"})
    one_window = picked[["customer_id"]].assign(label_time=picked["ts"] + WINDOWS["7d"])
    first = events.groupby("customer_id")["ts"].min()
    before_any = pd.DataFrame(
        {"customer_id": first.index[:20], "label_time": first.values[:20] - pd.Timedelta("1h")}
    )
    strangers = pd.DataFrame({"customer_id": [10**9, 10**9 + 1], "label_time": [start, end]})
    rows = pd.concat([random_rows, at_event, one_window, before_any, strangers])
    rows["label_time"] = rows["label_time"].dt.floor("s")
    return rows.drop_duplicates().reset_index(drop=True)


def _naive(events: pd.DataFrame, labels: pd.DataFrame, late: bool) -> pd.DataFrame:
    """Row by row, the definition itself."""
    by_entity = dict(tuple(events.groupby("customer_id")))
    empty = events.iloc[:0]
    out = []
    for entity, cutoff in labels.itertuples(index=False):
        mine = by_entity.get(entity, empty)
        known = mine[mine["ts"] < cutoff]
        if late:
            known = known[known["available_at"] < cutoff]
        row: dict[str, object] = {"customer_id": entity, "label_time": cutoff}
        for name, length in WINDOWS.items():
            w = known[known["ts"] >= cutoff - length]
            row[f"amount_nonnull_{name}"] = w["amount"].count()
            row[f"amount_sum_{name}"] = w["amount"].sum()
            row[f"amount_mean_{name}"] = w["amount"].mean()
            row[f"amount_min_{name}"] = w["amount"].min()
            row[f"amount_max_{name}"] = w["amount"].max()
            row[f"amount_std_{name}"] = w["amount"].std()
            row[f"category_nunique_{name}"] = w["category"].nunique()
        last = known.sort_values("ts").tail(1)
        row["category_last"] = last["category"].iloc[0] if len(last) else None
        row["days_since_first"] = (
            (cutoff - known["ts"].min()).total_seconds() / 86_400 if len(known) else np.nan
        )
        row["recency_days"] = (
            (cutoff - known["ts"].max()).total_seconds() / 86_400 if len(known) else np.nan
        )
        row["frequency"] = len(known)
        row["monetary"] = known["amount"].sum()
        row["label_dayofweek"] = cutoff.day_of_week
        row["label_hour"] = cutoff.hour
        row["label_month"] = cutoff.month
        row["label_weekend"] = cutoff.day_of_week >= 5
        out.append(row)
    return pd.DataFrame(out)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["customer_id", "label_time"]).reset_index(drop=True)


def _compare(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got, want = _sorted(got), _sorted(want)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        g, w = got[column], want[column]
        if column == "category_last":
            assert (g.fillna("<none>") == w.fillna("<none>")).all(), column
        elif column == "label_time":
            assert (g.to_numpy() == w.to_numpy()).all()
        else:
            np.testing.assert_allclose(
                g.to_numpy(dtype=float),
                w.to_numpy(dtype=float),
                rtol=1e-9,
                atol=1e-9,
                err_msg=column,
            )


@pytest.mark.parametrize("late", [False, True], ids=["event-time", "late-arrivals"])
def test_every_feature_equals_the_naive_definition(late: bool) -> None:
    events = _events()
    labels = _labels(events)
    spec = {**SPEC, **({"available_at": "available_at"} if late else {})}
    (got,) = [build(spec, events, labels)[1]]
    assert got is not None
    _compare(got, _naive(events, labels, late))


def test_edges_are_where_the_definition_puts_them() -> None:
    events = _events()
    e = events.iloc[100]
    labels = pd.DataFrame(
        {
            "customer_id": [e.customer_id, e.customer_id, 10**9],
            "label_time": [e.ts, e.ts + pd.Timedelta("7D"), e.ts],
        }
    )
    spec = {**SPEC, "aggregations": [{"column": "amount", "functions": ["nonnull", "max"]}]}
    frame = _sorted(build(spec, events, labels)[1])
    mine = events[events["customer_id"] == e.customer_id]
    at = frame[frame["label_time"] == e.ts].iloc[0]
    later = frame[frame["label_time"] == e.ts + pd.Timedelta("7D")].iloc[0]
    # the event at the cutoff is not seen; one window later it is the window's first event
    assert (
        at["amount_nonnull_90d"]
        == ((mine["ts"] < e.ts) & (mine["ts"] >= e.ts - pd.Timedelta("90D"))).sum()
    )
    assert (
        later["amount_nonnull_7d"]
        == ((mine["ts"] >= e.ts) & (mine["ts"] < e.ts + pd.Timedelta("7D"))).sum()
    )
    stranger = frame[frame["customer_id"] == 10**9].iloc[0]
    assert stranger["amount_nonnull_7d"] == 0 and stranger["frequency"] == 0
    assert stranger["monetary"] == 0 and np.isnan(stranger["amount_max_7d"])
    assert np.isnan(stranger["recency_days"])


def test_zone_aware_times_give_the_same_features_as_utc() -> None:
    events = _events()
    labels = _labels(events)
    utc = build(SPEC, events, labels)[1]
    zoned_events = events.assign(
        ts=events["ts"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    )
    zoned_labels = labels.assign(
        label_time=labels["label_time"].dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata")
    )
    zoned = build(SPEC, zoned_events, zoned_labels)[1]
    _compare(zoned, utc)


def test_one_cutoff_for_every_entity_of_the_events() -> None:
    events = _events()
    cutoff = pd.Timestamp("2025-04-01")
    spec = {k: v for k, v in SPEC.items() if k != "labels"} | {"cutoff": "2025-04-01"}
    result, frame = build(spec, events)
    everyone = events["customer_id"].unique()
    labels = pd.DataFrame({"customer_id": everyone, "label_time": cutoff})
    _compare(frame, _naive(events, labels, late=False))
    assert result.rows == len(everyone) == result.entities
    later = len(everyone) - events.loc[events["ts"] < cutoff, "customer_id"].nunique()
    assert later > 0 and any(w.startswith(f"{later} of {len(everyone)} ") for w in result.warnings)
