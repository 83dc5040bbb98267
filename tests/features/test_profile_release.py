"""A profile of a text source parses it once into an engine copy and frees that copy when
it ends, also when it fails: a long-lived process (a notebook, the server) keeps nothing.

DuckDB here; the Spark tier checks Spark's cache (``tests/spark/test_release.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sds.features.profile as profile_module
from sds.data.engine import Engine, default_engine
from sds.features.profile import profile


class PlantedError(RuntimeError):
    """The failure planted in the middle of a job."""


def watch_copies(monkeypatch: pytest.MonkeyPatch, held: Callable[[], int], fail: bool) -> list[int]:
    """Record ``held()`` while the profile runs (after its column statistics); with
    ``fail`` the job then raises :class:`PlantedError`."""
    seen: list[int] = []
    stats = profile_module._column_stats

    def watched(*args: Any) -> Any:
        result = stats(*args)
        seen.append(held())
        if fail:
            raise PlantedError("planted")
        return result

    monkeypatch.setattr(profile_module, "_column_stats", watched)
    return seen


def duckdb_temp_tables(engine: Engine) -> int:
    query = "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'sds_%'"
    return int(engine.con.raw_sql(query).fetchone()[0])


@pytest.mark.parametrize("fail", [False, True])
def test_duckdb_temp_table_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    path = tmp_path / "rows.csv"
    pd.DataFrame({"a": range(100), "b": ["x", "y"] * 50}).to_csv(path, index=False)
    engine = default_engine()
    before = duckdb_temp_tables(engine)
    seen = watch_copies(monkeypatch, lambda: duckdb_temp_tables(engine), fail)
    if fail:
        with pytest.raises(PlantedError):
            profile(str(path))
    else:
        assert profile(str(path)).n_rows == 100
    assert seen == [before + 1]  # the copy existed while the job ran
    assert duckdb_temp_tables(engine) == before
