"""What an engine on a database server (PostgreSQL, or another Ibis backend) needs beyond
DuckDB: naming tables, uploading a local table on request, writing a result as a table, and
turning the driver's and Ibis' errors into one-line sds errors that show the URL masked.

Only aggregates travel: a job builds Ibis expressions on the server's tables and brings
back their (small) results. Nothing here pulls rows silently: a function the backend lacks
is an error that names it, never a fallback that reads the table into Python.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sds.errors import AnalysisError, DataError, InputError, SdsError, close_matches
from sds.urls import EngineURL, scrub

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import ibis.expr.types as ir


class Engine(Protocol):
    """What this module uses of :class:`sds.data.engine.Engine` (which imports this
    module, so it is described here rather than imported)."""

    backend: str
    con: Any
    url: EngineURL | None
    secrets: list[str]

    @property
    def label(self) -> str: ...

    def guard(self, source: str) -> AbstractContextManager[None]: ...


log = logging.getLogger("sds.data")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
"""A table as a database names it: ``table``, ``schema.table`` or ``catalog.schema.table``."""
LOCAL_ENGINES = "--engine duckdb (or spark)"


def prepare(engine: Engine) -> None:
    """Set up a new connection: PostgreSQL's ``numeric`` (what it returns for ``sum`` and
    ``avg`` of integers) is read as a Python int when whole and a float otherwise, which
    Arrow converts to the types Ibis expects (a ``Decimal`` fails to convert).

    Ibis reads every result through a cursor, for which PostgreSQL plans for the first
    10% of rows (``cursor_tuple_fraction``): a sort-based GROUP BY instead of a hash, 2.7x
    slower on the analysis's aggregate (``benchmarks/warehouse_bench.py``). sds always
    fetches all of a result, so the planner is told to plan for all of it."""
    if engine.backend != "postgres":
        return
    with engine.con.begin() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0")
    from psycopg.adapt import Loader

    class _NumericLoader(Loader):
        def load(self, data: Any) -> int | float | None:
            text = bytes(data).decode()
            if text in ("NaN", "Infinity", "-Infinity"):
                return float(text.replace("Infinity", "inf"))
            return int(text) if text.lstrip("-").isdigit() else float(text)

    engine.con.con.adapters.register_loader("numeric", _NumericLoader)


def fetch_arrow(engine: Engine, expr: ir.Expr) -> Any:
    """Run an expression whose result is small and return it as Arrow (a table, a column or
    a scalar, as Ibis' own ``to_pyarrow``).

    On PostgreSQL the query is sent on a plain (client-side) cursor: Ibis reads through a
    named server-side cursor, and PostgreSQL never runs a cursor's query with parallel
    workers, so one core did all of an aggregate over millions of rows. Results here are
    aggregates, fetched whole either way. Other backends use Ibis' own path."""
    if engine.backend != "postgres":
        return engine.con.to_pyarrow(expr)
    import pyarrow as pa

    engine.con._run_pre_execute_hooks(expr)  # registers in-memory tables, as Ibis does
    table_expr = expr.as_table()
    schema = table_expr.schema()
    query = engine.con.compile(table_expr)
    with engine.con.con.cursor() as cursor, engine.con.con.transaction():
        rows = cursor.execute(query).fetchall()
    struct = schema.as_struct().to_pyarrow()
    batch = pa.RecordBatch.from_struct_array(pa.array(rows, type=struct))
    return expr.__pyarrow_result__(pa.Table.from_batches([batch], schema=schema.to_pyarrow()))


def job_name() -> str:
    """The command running (``sds analyze``), or ``this job`` from Python."""
    for name in ("typer._click.globals", "click"):  # typer carries its own copy of click
        click = sys.modules.get(name)
        ctx = click.get_current_context(silent=True) if click is not None else None
        if ctx is not None:
            return f"'{ctx.command_path}'"
    return "this job"


def open_named(engine: Engine, name: str, label: str) -> ir.Table:
    """The table ``name`` (``[catalog.][schema.]table``) in the engine's database.

    Raises:
        DataError: No such table; the message lists close matches in that schema.
    """
    parts = name.split(".")
    table, database = parts[-1], tuple(parts[:-1]) or None
    where = database[0] if database and len(database) == 1 else database
    try:
        return engine.con.table(table, database=where)
    except Exception as exc:  # TableNotFound, or the driver's own class
        if type(exc).__name__ not in ("TableNotFound", "UndefinedTable", "NoSuchTableError"):
            with engine.guard(label):
                raise
    raise _missing_table(engine, table, where, label)


def sql_table(engine: Engine, query: str) -> ir.Table:
    """A lazy table over a (checked, read-only) query on the server. Its schema is read
    from a temporary view made and dropped here: Ibis' own way drops the view with a
    statement that recent sqlglot renders without the view's name."""
    name = f"sds_query_{uuid.uuid4().hex[:12]}"
    begin = getattr(engine.con, "begin", None)
    if begin is None:
        return engine.con.sql(query)
    with begin() as cursor:
        cursor.execute(f"CREATE TEMPORARY VIEW {_quote(engine, name)} AS {query}")
    try:
        schema = engine.con.get_schema(name)
    finally:
        with begin() as cursor:
            cursor.execute(f"DROP VIEW IF EXISTS {_quote(engine, name)}")
    return engine.con.sql(query, schema=schema)


def _missing_table(engine: Engine, table: str, where: Any, label: str) -> DataError:
    try:
        with engine.guard(label):
            tables = list(engine.con.list_tables(database=where))
    except SdsError:
        tables = []
    near = close_matches(table, tables)
    schema = ".".join(where) if isinstance(where, tuple) else where
    return DataError(
        f"no table {table!r} in {'schema ' + repr(schema) if schema else 'the database'}",
        source=engine.label,
        expected=", ".join(near) if near else None,
        hint="Name it as schema.table (for example sales.orders), or give a SELECT query.",
    )


def upload(engine: Engine, expr: ir.Table, label: str) -> ir.Table:
    """Copy a local table into a temporary table on the server (``--upload``); it lasts as
    long as the connection."""
    local = expr.to_pyarrow()
    name = f"sds_upload_{uuid.uuid4().hex[:12]}"
    log.warning("uploading %s (%d rows) to %s as a temporary table", label, len(local), engine)
    with engine.guard(label):
        return engine.con.create_table(name, obj=local, temp=True)


def write_table(
    engine: Engine,
    expr: ir.Table,
    name: str,
    source: str,
    *,
    inspect: Callable[[ir.Table], None] | None = None,
    hidden: tuple[str, ...] = (),
) -> str:
    """Write ``expr`` as the table ``name`` in the engine's database, atomically: built
    under a temporary name, then swapped in by one transaction (an earlier table of that
    name stays whole until the new one is complete).

    ``inspect`` is called with the temporary table before the swap (a job's checks read
    the written rows, not the source again; an error it raises leaves nothing written),
    and the ``hidden`` columns, which only those checks read, are dropped in the swap's
    transaction (PostgreSQL and DuckDB).

    Returns:
        The table's name as written.
    """
    check_table_name(name)
    *schema_parts, table = name.split(".")
    schema = ".".join(schema_parts) or None
    temp = f"{table}__sds_{uuid.uuid4().hex[:8]}"
    with engine.guard(source):
        if engine.backend == "spark":  # SQL: Ibis' create_table asks the catalog API, whose
            # py4j calls leave sockets open
            engine.con._run_pre_execute_hooks(expr)  # registers in-memory tables
            query = engine.con.compile(expr)
            engine.con.raw_sql(f"CREATE TABLE {_qualified(engine, schema, temp)} AS {query}")
        else:
            engine.con.create_table(temp, obj=expr, database=schema)
        try:
            if inspect is not None:
                inspect(engine.con.table(temp, database=schema))
            _swap(engine, schema, temp, table, hidden)
        except BaseException:
            _drop(engine, schema, temp)
            raise
    return name


def check_table_name(name: str) -> None:
    """A DataError unless ``name`` is ``table``, ``schema.table`` or ``catalog.schema.table``."""
    if not TABLE_NAME.match(name):
        raise DataError(
            f"{name!r} is not a table name",
            source="--write-table",
            expected="table or schema.table (letters, digits and _)",
        )


def _swap(
    engine: Engine, schema: str | None, temp: str, table: str, hidden: tuple[str, ...] = ()
) -> None:
    """Drop the old table and rename the new one onto its name: one transaction where the
    backend has them (PostgreSQL, DuckDB); two statements on Spark, whose catalog has none
    (a failure between them leaves the new table under its temporary name, never half of
    one)."""
    statements = [
        *(
            f"ALTER TABLE {_qualified(engine, schema, temp)} DROP COLUMN {_quote(engine, c)}"
            for c in hidden
        ),
        f"DROP TABLE IF EXISTS {_qualified(engine, schema, table)}",
        f"ALTER TABLE {_qualified(engine, schema, temp)} RENAME TO "
        + (
            _qualified(engine, schema, table)
            if engine.backend == "spark"
            else _quote(engine, table)
        ),
    ]
    begin = getattr(engine.con, "begin", None)
    if begin is None or engine.backend == "spark":
        for statement in statements:
            engine.con.raw_sql(statement)
        return
    with begin() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _drop(engine: Engine, schema: str | None, table: str) -> None:
    engine.con.raw_sql(f"DROP TABLE IF EXISTS {_qualified(engine, schema, table)}")


def _qualified(engine: Engine, schema: str | None, table: str) -> str:
    name = _quote(engine, table)
    return f"{_quote(engine, schema)}.{name}" if schema else name


def _quote(engine: Engine, name: str) -> str:
    mark = "`" if engine.backend in _BACKTICK else '"'
    return mark + name.replace(mark, mark * 2) + mark


_BACKTICK = frozenset({"spark", "mysql", "bigquery", "databricks", "clickhouse"})


def is_db_error(exc: BaseException) -> bool:
    """An exception from a database driver or from Ibis compiling for a backend."""
    module = type(exc).__module__ or ""
    return module.startswith(
        ("psycopg", "ibis.common.exceptions", "pymysql", "MySQLdb", "trino", "clickhouse",
         "snowflake", "google.api_core", "google.cloud", "databricks", "sqlalchemy")
    )  # fmt: skip


_MISSING_FUNCTION = re.compile(r"function (\S+?)\(.*\) does not exist", re.IGNORECASE)


def db_error(exc: BaseException, source: str, engine: Engine) -> SdsError:
    """One driver or Ibis exception as the sds error a user can act on (no password)."""
    text = scrub(_first_line(str(exc)), engine.url, engine.secrets) if engine.url else str(exc)
    text = _first_line(text)
    kind = type(exc).__name__
    where = f"{source} on {engine.label}"
    if kind in ("OperationNotDefinedError", "UnsupportedOperationError"):
        op = _operation(text)
        return InputError(
            f"{job_name()} needs {op}, which the {engine.backend} engine does not have",
            source=where,
            hint=f"Run this job with {LOCAL_ENGINES}, which has it.",
        )
    if (found := _MISSING_FUNCTION.search(text)) or kind == "UndefinedFunction":
        name = found.group(1) if found else text
        return InputError(
            f"{job_name()} needs the function {name}, which this {engine.backend} server "
            "does not have",
            source=where,
            hint=f"Install the extension that provides it, or run with {LOCAL_ENGINES}.",
        )
    if kind in ("UndefinedTable", "UndefinedColumn", "SyntaxError", "TableNotFound"):
        return DataError(f"the query does not fit the data: {text}", source=where)
    if kind == "InvalidSchemaName":
        return DataError(
            f"no such schema: {text}", source=where, hint="Create it first, or name another."
        )
    if kind == "InsufficientPrivilege":
        return DataError(f"permission denied: {text}", source=where)
    if kind in ("OperationalError", "InterfaceError", "AdminShutdown"):
        return DataError(f"lost the connection to the server: {text}", source=where)
    if kind in ("DataError", "NumericValueOutOfRange", "InvalidTextRepresentation"):
        return DataError(f"the database cannot convert a value: {text}", source=where)
    return AnalysisError(f"the {engine.backend} engine failed: {text}", source=where)


def _operation(text: str) -> str:
    found = re.search(r"'(\w+)' operation|(\w+)\(", text)
    if not found:
        return "an operation"
    return f"the operation {found.group(1) or found.group(2)}"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""
