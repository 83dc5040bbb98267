"""The engine on a database server: how sources are read (in the database, or locally with a
warning), results written as tables, errors shown, and queries checked."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from sds.config import settings
from sds.data.engine import Engine, default_engine
from sds.data.io import open_table
from sds.errors import DataError, InputError
from tests.postgres.conftest import SECRET_PASSWORD, SECRET_USER, PostgresServer

pytestmark = pytest.mark.postgres


def test_from_url_reads_a_schema_table_in_the_database(pg_engine: Engine) -> None:
    orders = open_table("sales.orders", engine=pg_engine)
    assert orders.engine is pg_engine and pg_engine.is_server
    assert orders.count() == 1000
    total = pg_engine.scalar(orders.expr.amount.sum())
    assert total == pytest.approx(sum(i * 0.5 for i in range(1, 1001)), rel=1e-12)


def test_a_select_query_runs_in_the_database(pg_engine: Engine) -> None:
    query = "SELECT region, count(*) AS n, sum(amount) AS total FROM sales.orders GROUP BY 1"
    table = open_table(query, engine=pg_engine)
    assert table.engine is pg_engine
    got = table.to_pandas().set_index("region")
    assert got.loc["north", "n"] == 333 and got.loc["south", "n"] == 667
    # the whole numbers PostgreSQL returns as numeric come back as int, the rest as float
    assert isinstance(got.loc["north", "n"].item(), int)


def test_server_functions_that_reach_files_or_sessions_are_refused(pg_engine: Engine) -> None:
    for query in (
        "SELECT pg_read_file('/etc/passwd') AS x",
        "SELECT lo_export(1, '/tmp/x') AS x",
        "SELECT set_config('search_path', 'x', false) AS x",
        "SELECT 1 AS x; DROP TABLE sales.orders",
        "SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)",
    ):
        with pytest.raises(InputError, match="only one read-only query"):
            open_table(query, engine=pg_engine)
    assert open_table("sales.orders", engine=pg_engine).count() == 1000


def test_a_missing_table_names_the_schema_and_close_matches(pg_engine: Engine) -> None:
    with pytest.raises(DataError) as caught:
        open_table("sales.order", engine=pg_engine)
    text = str(caught.value)
    assert "no table 'order' in schema 'sales'" in text
    assert "orders" in text and pg_engine.label in text


def test_a_local_file_is_read_by_duckdb_with_a_warning(
    pg_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "local.parquet"
    pd.DataFrame({"x": [1, 2, 3]}).to_parquet(path)
    with caplog.at_level(logging.WARNING, logger="sds.data"):
        table = open_table(str(path), engine=pg_engine)
    assert table.engine.backend == "duckdb"
    assert "read by DuckDB on this machine, not uploaded" in caplog.text
    assert "--upload" in caplog.text and pg_engine.label in caplog.text


def test_upload_copies_a_local_file_into_a_temporary_table(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    path = tmp_path / "local.csv"
    pd.DataFrame({"x": [1.5, 2.5, 4.0], "g": ["a", "b", "a"]}).to_csv(path, index=False)
    engine = Engine.from_url(postgres_server.url(), upload=True)
    try:
        table = open_table(str(path), engine=engine)
        assert table.engine is engine
        sql = ibis.to_sql(table.expr.x.sum().name("s"), dialect="postgres")
        assert "sds_upload_" in sql  # the expression reads the server's temporary table
        assert engine.scalar(table.expr.x.sum()) == 8.0
    finally:
        engine.con.disconnect()


def test_settings_take_an_engine_or_a_url(
    pg_engine: Engine, postgres_server: PostgresServer
) -> None:
    with settings(engine=pg_engine):
        assert default_engine() is pg_engine
    with settings(engine=postgres_server.url()):
        first = default_engine()
        assert first.is_server and default_engine() is first  # one connection per URL


def test_an_existing_ibis_connection_is_an_engine(postgres_server: PostgresServer) -> None:
    con = ibis.postgres.connect(
        host=postgres_server.host,
        port=postgres_server.port,
        user=postgres_server.user,
        database=postgres_server.database,
    )
    engine = Engine.from_connection(con)
    assert engine.backend == "postgres" and engine.is_server
    assert open_table("sales.orders", engine=engine).count() == 1000
    con.disconnect()


def test_write_table_builds_then_swaps_in_one_transaction(pg_engine: Engine) -> None:
    orders = open_table("sales.orders", engine=pg_engine).expr
    assert pg_engine.write_table(orders.filter(orders.id <= 10), "sales.written") == "sales.written"
    assert open_table("sales.written", engine=pg_engine).count() == 10
    pg_engine.write_table(orders.filter(orders.id <= 20), "sales.written")  # replaced
    assert open_table("sales.written", engine=pg_engine).count() == 20
    bad = orders.select(boom=(orders.region.cast("int64")))  # fails inside the database
    with pytest.raises(DataError):
        pg_engine.write_table(bad, "sales.written")
    assert open_table("sales.written", engine=pg_engine).count() == 20  # the old one whole
    leftovers = [t for t in pg_engine.con.list_tables(database="sales") if "__sds_" in t]
    assert leftovers == []


@pytest.mark.parametrize("name", ["bad name", "x;drop table y", "a.b.c.d", "1abc"])
def test_write_table_refuses_what_is_not_a_table_name(pg_engine: Engine, name: str) -> None:
    orders = open_table("sales.orders", engine=pg_engine).expr
    with pytest.raises(DataError, match="is not a table name"):
        pg_engine.write_table(orders, name)


def test_an_operation_the_backend_lacks_names_it_and_the_engines_that_have_it(
    pg_engine: Engine,
) -> None:
    orders = open_table("sales.orders", engine=pg_engine).expr
    row_hash = ibis.struct({"id": orders.id}).hash()
    with pytest.raises(InputError) as caught:
        pg_engine.scalar(row_hash.max(), source="orders")
    text = str(caught.value)
    assert "needs the operation Hash" in text and "postgres engine does not have" in text
    assert "--engine duckdb" in text and pg_engine.label in text


def test_a_missing_server_function_is_named(pg_engine: Engine) -> None:
    with pytest.raises(InputError) as caught:
        pg_engine.to_pyarrow(
            pg_engine.con.sql("SELECT 1 AS x", schema={"x": "int64"})
            .select(y=ibis.literal(1))
            .mutate(z=_missing_function()(ibis.literal(1)))
        )
    assert "needs the function no_such_fn" in str(caught.value)


def _missing_function() -> Any:
    @ibis.udf.scalar.builtin(name="no_such_fn")
    def no_such_fn(x: int) -> int:  # type: ignore[empty-body]
        """A function the server does not have."""

    return no_such_fn


def test_errors_on_a_password_engine_never_show_the_password(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.url(SECRET_USER, SECRET_PASSWORD)
    engine = Engine.from_url(url)
    try:
        assert SECRET_PASSWORD not in repr(engine) + str(engine) + engine.label
        with pytest.raises(DataError) as caught:
            open_table("sales.nothing_here", engine=engine)
        with pytest.raises(DataError) as query_error:
            open_table("SELECT no_column FROM sales.orders", engine=engine)
        for error in (caught.value, query_error.value):
            shown = str(error) + repr(error.to_dict())
            assert SECRET_PASSWORD not in shown and "***" in shown
            assert error.__cause__ is None
    finally:
        engine.con.disconnect()


def test_the_cli_says_where_a_local_file_is_read(
    postgres_server: PostgresServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """(In a terminal the lines go to stderr; under pytest, to its log capture.)"""
    from tests.conftest import invoke

    path = tmp_path / "local.csv"
    pd.DataFrame({"x": [1, 2, 3], "g": ["a", "b", "a"]}).to_csv(path, index=False)
    url = postgres_server.url()
    with caplog.at_level(logging.WARNING, logger="sds.data"):
        local = invoke(["--engine", url, "profile", str(path), "--format", "json"])
    assert local.exit_code == 0, local.stderr
    assert "read by DuckDB on this machine, not uploaded" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sds.data"):
        uploaded = invoke(["--engine", url, "--upload", "profile", str(path), "--format", "json"])
    assert uploaded.exit_code == 0, uploaded.stderr
    assert "uploading" in caplog.text and "as a temporary table" in caplog.text
    assert "read by DuckDB" not in caplog.text
    assert '"n_rows": 3' in local.stdout and '"n_rows": 3' in uploaded.stdout
