"""The demo's in-database chapter on the suite's server: the unit table goes into
PostgreSQL, the analysis runs there (the table read is the server's, never a local copy),
its effects equal the same spec's analysis of the same Parquet file on DuckDB, and the
chapter's table is dropped afterwards. Without ``SDS_DEMO_POSTGRES`` the chapter starts a
server of its own and leaves none behind."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sds.cli import demo_warehouse
from sds.config import read_mapping
from sds.data import io, localpg
from sds.data.engine import Engine
from sds.experiments.analysis.run import analyze
from sds.experiments.analysis.spec import parse
from tests.postgres.conftest import PostgresServer
from tests.spark.conftest import assert_same

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
USERS = 20_000


def _duckdb_twin(output: Path) -> Any:
    """The chapter's spec, analysed by DuckDB on the Parquet file the chapter loaded."""
    spec = read_mapping(output / "specs" / "checkout_units_postgres.yaml")
    spec["data"] = str(output / "data" / "checkout_units.parquet")
    return analyze(parse(spec), spec["data"])


def _compared(result: Any) -> dict[str, Any]:
    d = result.to_dict()
    return {"units": result.units, "effects": d["effects"], "srm": d["srm"]}


def test_the_chapter_analyses_inside_the_named_server(
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(demo_warehouse.ENV, postgres_server.url())
    engines: list[Any] = []
    real = io.open_table

    def spy(*args: Any, **kwargs: Any) -> Any:
        table = real(*args, **kwargs)
        engines.append(table.engine)
        return table

    monkeypatch.setattr(io, "open_table", spy)
    chapters = demo_warehouse.warehouse_chapters(tmp_path, seed=5, users=USERS)
    assert [c.title for c in chapters] == [demo_warehouse.TITLE]
    assert chapters[0].json_name == "analysis_postgres.json"
    result = chapters[0].result
    assert sum(n for _, n in result.units) == USERS
    assert engines and all(e.is_server and e.backend == "postgres" for e in engines)
    assert_same(_compared(result), _compared(_duckdb_twin(tmp_path)))
    engine = Engine.from_url(postgres_server.url())
    left = engine.con.list_tables(database=demo_warehouse.SCHEMA)
    engine.con.disconnect()
    assert [t for t in left if t.startswith("checkout_units_")] == []
    err = capsys.readouterr().err
    assert f"{USERS:,} units analysed inside postgres" in err


@contextlib.contextmanager
def _recording(seen: list[Any]) -> Iterator[None]:
    real = localpg.running

    @contextlib.contextmanager
    def running(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with real(*args, **kwargs) as (server, cluster):
            seen.append(server)
            yield server, cluster

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(localpg, "running", running)
        yield


def test_without_a_url_the_chapter_starts_and_removes_its_own_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(demo_warehouse.ENV, raising=False)
    seen: list[Any] = []
    with _recording(seen):
        chapters = demo_warehouse.warehouse_chapters(tmp_path, seed=6, users=USERS)
    assert len(chapters) == 1 and sum(n for _, n in chapters[0].result.units) == USERS
    assert len(seen) == 1
    assert not seen[0].socket_dir.exists()  # stopped and removed
