"""A profile of a CSV on Spark caches it for its many scans and releases the cache when it
ends, also when it fails: a long-lived session keeps no data a finished job read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sds.features.profile import profile
from tests.features.test_profile_release import PlantedError, watch_copies
from tests.spark.conftest import on

pytestmark = pytest.mark.slow


def cached(spark_engine: Any) -> int:
    """Persisted RDDs plus sds' cache views in the session."""
    session = spark_engine.con._session
    views = [t.name for t in session.catalog.listTables() if t.name.startswith("sds_cache_")]
    return int(session.sparkContext._jsc.getPersistentRDDs().size()) + len(views)


@pytest.mark.parametrize("fail", [False, True])
def test_csv_cache_released_after_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark_engine: Any, fail: bool
) -> None:
    path = tmp_path / "rows.csv"
    pd.DataFrame({"a": range(1_000), "b": ["x", "y"] * 500}).to_csv(path, index=False)
    assert cached(spark_engine) == 0
    seen = watch_copies(monkeypatch, lambda: cached(spark_engine), fail)
    if fail:
        with pytest.raises(PlantedError):
            on("spark", lambda: profile(str(path)))
    else:
        assert on("spark", lambda: profile(str(path))).n_rows == 1_000
    assert seen == [2]  # while the job ran: the cached data and its view
    assert cached(spark_engine) == 0
