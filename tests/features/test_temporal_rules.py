"""The feature-building rules that decide which rows exist and what a count counts.

- A label table that repeats an (entity, label time) pair is refused with the count of
  repeated rows and an example; the pairs are never merged into fewer rows.
- Cutoff mode gives every entity of the events a row, entities without history before the
  cutoff included, with the same values as a label table of every entity at the cutoff.
- ``<column>_nonnull_<w>`` counts the events with a value in the column and
  ``event_count_<w>`` counts the events, both over ``[t - w, t)``: checked against pandas.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sds.errors import ConfigError, DataError
from sds.features.build import build
from sds.features.recommend import recommend_table
from sds.features.spec import parse
from tests.conftest import invoke

WINDOWS = {"2d": pd.Timedelta("2D"), "7d": pd.Timedelta("7D")}
CUTOFF = pd.Timestamp("2025-03-10")
SPEC = {
    "entity": "customer_id",
    "timestamp": "ts",
    "windows": list(WINDOWS),
    "event_count": True,
    "aggregations": [
        {"column": "amount", "functions": ["nonnull", "sum", "mean", "max"]},
        {"column": "category", "functions": ["nunique", "last"]},
    ],
    "rfm": {"monetary": "amount"},
    "calendar": ["days_since_first"],
}


def _events() -> pd.DataFrame:
    """Six customers over ten days, a third of the amounts missing, events exactly at the
    window edges; customer 5 is first seen after the cutoff, customer 6's only early event
    arrives late."""
    rng = np.random.default_rng(21)
    n = 120
    ts = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 14 * 24, n), unit="h")
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 5, n),
            "ts": ts,
            "amount": np.where(rng.random(n) < 1 / 3, np.nan, rng.gamma(2.0, 10.0, n).round(2)),
            "category": rng.choice(["a", "b", "c"], n),
        }
    )
    edges = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 5, 6, 6],
            "ts": pd.DatetimeIndex([CUTOFF - WINDOWS["7d"], CUTOFF, CUTOFF - WINDOWS["2d"]] * 2)
            + pd.to_timedelta([0, 0, 0, 7 * 86_400, -86_400, 2 * 86_400 + 3_600], unit="s"),
            "amount": [5.0, 7.0, np.nan, 3.0, 4.0, 1.0],
            "category": ["a", "b", "c", "a", "b", "c"],
        }
    )
    out = pd.concat([frame, edges], ignore_index=True)
    out = out.drop_duplicates(["customer_id", "ts"]).reset_index(drop=True)  # "last": no ties
    delay = np.where(out["customer_id"] == 6, 2 * 86_400, 0)  # 6's early event known later
    out["available_at"] = out["ts"] + pd.to_timedelta(delay, unit="s")
    return out


def test_repeated_label_rows_are_refused_with_their_count(tmp_path: Path) -> None:
    events = _events()
    labels = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 3, 4, 4, 1, 2],
            "label_time": pd.to_datetime(["2025-03-05", "2025-03-09"] * 4 + ["2025-03-11"] * 2),
        }
    )
    labels = pd.concat([labels, labels.iloc[[3]]], ignore_index=True).iloc[1:]  # 10, 1 twice
    assert len(labels) == 10 and len(labels.drop_duplicates()) == 9
    spec = {**SPEC, "labels": "given"}
    with pytest.raises(DataError) as caught:
        build(spec, events, labels)
    text = str(caught.value)
    assert "found 1 repeated row in 10" in text and "2 at 2025-03-09" in text, text
    assert "appears 2 times" in text and "SELECT DISTINCT" in text
    distinct, frame = build(spec, events, labels.drop_duplicates())  # 9 pairs: 9 rows
    assert frame is not None and distinct.rows == len(frame) == 9
    events.to_csv(tmp_path / "events.csv", index=False)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**spec, "data": "events.csv", "labels": "labels.csv"}))
    out = tmp_path / "features.parquet"
    res = invoke(["features", "build", str(path), "--data-output", str(out)])
    assert res.exit_code == 2 and res.stderr.startswith("error:"), res.stderr
    assert res.stderr.count("\n") == 1 and "1 repeated row in 10" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize("late", [False, True], ids=["event-time", "available-at"])
def test_cutoff_mode_equals_label_mode_for_every_entity(late: bool) -> None:
    events = _events()
    spec = {**SPEC, **({"available_at": "available_at"} if late else {})}
    at_cutoff, frame = build({**spec, "cutoff": str(CUTOFF.date())}, events)
    everyone = np.sort(events["customer_id"].unique())
    labels = pd.DataFrame({"customer_id": everyone, "label_time": CUTOFF})
    with_labels, reference = build({**spec, "labels": "given"}, events, labels)
    assert frame is not None and reference is not None and with_labels.warnings == ()
    pd.testing.assert_frame_equal(frame, reference, check_exact=False, rtol=1e-12)
    assert list(frame["customer_id"]) == list(everyone) == [1, 2, 3, 4, 5, 6]
    no_history = [5, 6] if late else [5]
    blank = frame[frame["customer_id"].isin(no_history)]
    zeros = [c for c in frame if "_count_" in c or "_nonnull_" in c or "_nunique_" in c]
    zeros += [c for c in frame if "_sum_" in c] + ["frequency", "monetary"]
    assert (blank[zeros] == 0).all().all()
    rest = [c for c in frame.columns[2:] if c not in zeros]
    assert blank[rest].isna().all().all()
    assert [w for w in at_cutoff.warnings if "no events before the cutoff" in w] == [
        f"{len(no_history)} of 6 entities have no events before the cutoff: their counts and "
        "sums are 0 and other features missing. With a past cutoff they are here only because "
        "of later events; to train on the entities known then, pass a label table of those "
        "entities instead"
    ]
    # the features still read only what happened (and was known) before the cutoff
    known = events[(events["ts"] < CUTOFF) & ((events["available_at"] < CUTOFF) | (not late))]
    sums = known.groupby("customer_id")["amount"].sum().reindex(everyone, fill_value=0.0)
    np.testing.assert_allclose(frame["monetary"], sums.to_numpy(), rtol=1e-12)


def _reference(events: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per label row and window [t - w, t): events (rows) and non-missing amounts."""
    rows = []
    for entity, t in labels.itertuples(index=False):
        mine = events[events["customer_id"] == entity]
        row: dict[str, object] = {"customer_id": entity, "label_time": t}
        for name, length in WINDOWS.items():
            window = mine[(mine["ts"] >= t - length) & (mine["ts"] < t)]
            row[f"event_count_{name}"] = len(window)
            row[f"amount_nonnull_{name}"] = int(window["amount"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def test_event_and_value_counts_equal_pandas_per_window() -> None:
    events = _events()
    rng = np.random.default_rng(22)
    labels = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 7, 40),
            "label_time": CUTOFF + pd.to_timedelta(rng.integers(-9 * 24, 5 * 24, 40), unit="h"),
        }
    )
    edges = events[["customer_id", "ts"]].iloc[-6:].rename(columns={"ts": "label_time"})
    labels = pd.concat(
        [labels, edges, edges.assign(label_time=edges["label_time"] + WINDOWS["2d"])]
    )
    labels = labels.drop_duplicates().reset_index(drop=True)
    spec = {**SPEC, "labels": "given", "aggregations": [SPEC["aggregations"][0]]}
    frame = build(spec, events, labels)[1]
    assert frame is not None
    want = _reference(events, labels).sort_values(["customer_id", "label_time"])
    got = frame[list(want.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_dtype=False)
    assert (got["event_count_7d"] > got["amount_nonnull_7d"]).any()  # they differ here
    assert (got["event_count_2d"] <= got["event_count_7d"]).all()


def test_bare_count_is_refused_with_both_names() -> None:
    bad = {
        **SPEC,
        "cutoff": "2025-03-10",
        "aggregations": [{"column": "amount", "functions": ["count"]}],
    }
    with pytest.raises(ConfigError) as caught:
        parse(bad)
    text = str(caught.value)
    assert "aggregations.0.functions" in text and "'nonnull'" in text
    assert "event_count: true" in text
    only_events = parse({**bad, "aggregations": [], "rfm": None, "calendar": []})
    assert only_events.event_count and not only_events.aggregations


def test_the_draft_spec_of_an_event_table_is_a_valid_spec() -> None:
    columns = [
        {
            "name": "customer_id",
            "kind": "integer",
            "flags": [],
            "distinct_count": 40,
            "null_share": 0.0,
        },
        {"name": "ts", "kind": "temporal", "flags": [], "distinct_count": 900, "null_share": 0.0},
        {"name": "amount", "kind": "float", "flags": [], "distinct_count": 700, "null_share": 0.2},
        {"name": "fee", "kind": "float", "flags": [], "distinct_count": 30, "null_share": 0.0},
    ]
    draft = recommend_table({"source": "tx.parquet", "n_rows": 1000, "columns": columns})
    spec = parse(json.loads(json.dumps(draft["draft_spec"])) | {"cutoff": "2025-03-10"})
    assert spec.event_count
    assert [(a.column, a.functions) for a in spec.aggregations] == [
        ("amount", ["nonnull", "sum", "mean", "max"]),
        ("fee", ["sum", "mean", "max"]),
    ]
