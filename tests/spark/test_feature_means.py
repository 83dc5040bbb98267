"""A windowed mean on Spark is the window's sum over its count of values, sharing the sum
and nonnull features' aggregate states: the same value, to the bit, as Spark's own ``avg``,
and numpy's mean of the same events (to rounding)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.data.io import open_table
from sds.features.spec import parse
from sds.features.temporal import features
from tests.spark.conftest import on

pytestmark = pytest.mark.slow

CUTOFF = pd.Timestamp("2026-03-01")


def _events(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 1_500
    events = pd.DataFrame(
        {
            "customer": rng.integers(0, 300, n),
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 80 * 24, n), "h"),
            "amount": rng.normal(0.0, 1e3, n) * rng.choice([1e-6, 1.0, 1e6], n),
        }
    )
    events.loc[rng.random(n) < 0.2, "amount"] = np.nan  # missing values: not counted
    events.loc[:9, "amount"] = -0.0
    events.to_parquet(path)
    return events


def _spec(**extra: Any) -> dict[str, Any]:
    aggregations = [{"column": "amount", "functions": ["mean", "nonnull", "sum"]}]
    return (
        {"entity": "customer", "timestamp": "ts", "windows": ["7d", "30d"]}
        | {"aggregations": aggregations}
        | extra
    )


def _numpy_means(events: pd.DataFrame, entities: pd.Series, days: int) -> np.ndarray:
    inside = events[(events["ts"] < CUTOFF) & (events["ts"] >= CUTOFF - pd.Timedelta(days=days))]
    means = inside.groupby("customer")["amount"].mean()
    return entities.map(means).to_numpy(dtype="float64")


def test_windowed_means_are_sparks_avg_to_the_bit(spark_engine: Any, tmp_path: Path) -> None:
    from sds.features.build import build

    path = tmp_path / "events.parquet"
    events = _events(path)
    _, frame = on("spark", lambda: build(_spec(cutoff=str(CUTOFF.date())), str(path)))
    assert frame is not None
    windows = {"7d": 7, "30d": 30}

    def spark_avg() -> pd.DataFrame:  # Spark's own AVG of the same events
        t = open_table(str(path))
        ts, amount = t.expr["ts"], t.expr["amount"]
        means = {
            f"m{w}": amount.mean(where=(ts < CUTOFF) & (ts >= CUTOFF - pd.Timedelta(days=d)))
            for w, d in windows.items()
        }
        expr = t.expr.group_by("customer").aggregate(**means).order_by("customer")
        assert "AVG(" in str(spark_engine.con.compile(expr))
        return t.engine.execute(expr, source=t.name)

    spark_avg = on("spark", spark_avg)

    def feature_sql() -> str:
        spec = parse(_spec(cutoff=str(CUTOFF.date())))
        return str(spark_engine.con.compile(features(spec, open_table(str(path)))))

    assert "AVG(" not in on("spark", feature_sql)  # the sum's and count's states serve
    assert frame["customer"].tolist() == spark_avg["customer"].tolist()
    for w, d in windows.items():
        ours = frame[f"amount_mean_{w}"].to_numpy(dtype="float64")
        theirs = spark_avg[f"m{w}"].to_numpy(dtype="float64")
        assert np.array_equal(ours, theirs, equal_nan=True)  # the same bits
        reference = _numpy_means(events, frame["customer"], d)
        assert np.isnan(reference).sum() > 10  # entities with no value in the window
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-6)  # values up to about 1e9
        counts = frame[f"amount_nonnull_{w}"].to_numpy()
        assert np.array_equal(np.isnan(ours), counts == 0)


def test_windowed_means_with_a_label_table_as_on_duckdb(spark_engine: Any, tmp_path: Path) -> None:
    from sds.features.build import build

    path = tmp_path / "events.parquet"
    events = _events(path)
    labels = pd.DataFrame({"customer": np.arange(0, 320, 2), "label_time": CUTOFF})
    labels_path = tmp_path / "labels.parquet"
    labels.to_parquet(labels_path)
    spec = _spec(labels=str(labels_path))

    def job() -> pd.DataFrame:
        frame = build(spec, str(path))[1]
        assert frame is not None
        return frame

    duck, spark = on("duckdb", job), on("spark", job)
    for w, d in {"7d": 7, "30d": 30}.items():
        reference = _numpy_means(events, spark["customer"], d)
        ours = spark[f"amount_mean_{w}"].to_numpy(dtype="float64")
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-6)  # values up to about 1e9
        np.testing.assert_allclose(
            ours, duck[f"amount_mean_{w}"].to_numpy(dtype="float64"), rtol=1e-9, atol=1e-6
        )
