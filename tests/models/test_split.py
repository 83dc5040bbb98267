"""Splits: disjoint and complete; stratified shares kept; a temporal split never trains on
a row later than a validation or test row (gap respected, ties kept together); a group
split never shares an entity; bad input is refused clearly."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.errors import DataError, ParameterError
from sds.models.split import split


def _disjoint_and_complete(s: object, n: int) -> None:
    parts = [s.train, s.validation, s.test]  # type: ignore[attr-defined]
    joined = np.concatenate(parts)
    assert len(joined) == len(set(joined.tolist())) and set(joined.tolist()) <= set(range(n))


def test_stratified_split_keeps_class_shares() -> None:
    df = synth.make_churn(5000, seed=1)
    s = split(df, "churned")
    assert s.method == "stratified"
    _disjoint_and_complete(s, len(df))
    assert len(s.train) + len(s.validation) + len(s.test) == len(df)
    assert abs(len(s.train) / len(df) - 0.70) < 0.001 and abs(len(s.test) / len(df) - 0.15) < 0.001
    overall = df["churned"].mean()
    for rows in (s.train, s.validation, s.test):
        assert abs(df["churned"].iloc[rows].mean() - overall) < 0.002


@pytest.mark.parametrize("gap", [None, timedelta(days=3)])
def test_temporal_split_never_trains_on_the_future(gap: timedelta | None) -> None:
    events = synth.make_transactions(2000, seed=2).assign(big=lambda d: d["amount"] > 50)
    events["ts"] = events["ts"].dt.floor("D")  # many rows share a timestamp
    s = split(events, "big", method="temporal", time_column="ts", gap=gap)
    t = events["ts"]
    pad = pd.Timedelta(gap or timedelta(0))
    assert t.iloc[s.train].max() + pad < t.iloc[s.validation].min()
    assert t.iloc[s.validation].max() + pad < t.iloc[s.test].min()
    _disjoint_and_complete(s, len(events))
    kept = len(s.train) + len(s.validation) + len(s.test)
    assert kept + s.dropped_for_gap == len(events) and (s.dropped_for_gap > 0) == (gap is not None)


def test_group_split_never_shares_an_entity() -> None:
    events = synth.make_transactions(1500, seed=3).assign(big=lambda d: d["amount"] > 50)
    s = split(events, "big", method="group", group_column="customer_id", seed=4)
    ids = [set(events["customer_id"].iloc[rows]) for rows in (s.train, s.validation, s.test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert len(s.train) + len(s.validation) + len(s.test) == len(events)
    assert abs(len(s.train) / len(events) - 0.70) < 0.03


def test_bad_input_is_refused_clearly() -> None:
    df = pd.DataFrame({"x": range(30), "y": ["a"] * 28 + ["b"] * 2})
    with pytest.raises(DataError, match="class 'b' has 2 member"):
        split(df, "y")
    with pytest.raises(DataError, match="Did you mean 'yy'"):
        split(df.rename(columns={"y": "yy"}), "y")
    with pytest.raises(DataError, match="fewer than two values"):
        split(df.assign(y="a"), "y")
    with pytest.raises(ParameterError, match="needs time_column"):
        split(df, "x", method="temporal")
    with pytest.raises(ParameterError, match="adding to 1"):
        split(df, "x", sizes=(0.5, 0.2, 0.2))
