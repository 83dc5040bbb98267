"""``sds assign --write-table`` on DuckDB: into a DuckDB database file named by
``--engine duckdb:///path``, computed there; refused on DuckDB in memory (its tables end
with the run) and together with --ids or --data-output."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sds.data.engine import _engine_for, _server_engine
from sds.experiments.assign import assign
from tests.conftest import invoke

ARGS = ["assign", "--experiment", "exp", "--variants", "a,b,c", "--shares", "20,30,50"]
IDS = [*range(300), 2**63 - 1, -(2**63)]


@pytest.fixture
def units(tmp_path: Path) -> Path:
    path = tmp_path / "units.parquet"
    pd.DataFrame({"user_id": IDS}).to_parquet(path)
    return path


def test_write_table_into_a_duckdb_file(tmp_path: Path, units: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    engine = ["--engine", f"duckdb://{database}"]
    try:
        done = invoke([*engine, *ARGS, "--data", str(units), "--write-table", "assigned"])
        again = invoke([*engine, *ARGS, "--data", str(units), "--write-table", "assigned"])
    finally:
        _server_engine.cache_clear()
        _engine_for.cache_clear()  # let go of the file before reading it back
    assert done.exit_code == 0, done.stderr
    assert again.exit_code == 0, again.stderr  # replaced, not appended to
    assert "table assigned on duckdb" in done.stdout
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.sql("SELECT user_id, variant FROM assigned").fetchall()
    got = dict(rows)
    assert len(rows) == len(IDS)
    assert [got[i] for i in IDS] == assign(IDS, "exp", ["a", "b", "c"], [20, 30, 50])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--write-table", "assigned"], "--write-table needs a database engine"),
        (["--write-table", "t", "--data-output", "x.parquet"], "not --data-output"),
    ],
)
def test_refused(units: Path, extra: list[str], message: str) -> None:
    result = invoke([*ARGS, "--data", str(units), *extra])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_refused_with_ids() -> None:
    result = invoke([*ARGS, "--ids", "1,2", "--write-table", "t"])
    assert result.exit_code == 2
    assert "--write-table goes with --data only, not --ids" in result.stderr
