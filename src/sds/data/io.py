"""Open any supported source as an Ibis table on the engine.

Sources: CSV/TSV (optionally gzipped), Parquet (a file, a directory or a glob), JSON lines,
Arrow IPC/Feather, a table in a DuckDB database file, a SQL query, or an in-memory pandas,
Polars or Arrow object. Nothing is loaded into Python: the result is a lazy table whose
heavy work runs in the engine.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sds.data.csvtypes import numbers_as_numbers
from sds.data.engine import Engine, default_engine, local_engine, translate_errors
from sds.data.server import TABLE_NAME, open_named, upload
from sds.data.sqlguard import check_query, looks_like_statement
from sds.data.table import Table as Table  # defined beside its methods; imported from here
from sds.data.uri import URI
from sds.errors import DataError, ParameterError

if TYPE_CHECKING:
    import ibis.expr.types as ir

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES + JSON_SUFFIXES + ARROW_SUFFIXES + DUCKDB_SUFFIXES
_SQL_START = re.compile(r"^\s*(select|with|from|values)\b", re.IGNORECASE)
_GLOB_CHARS = re.compile(r"[*?\[]")
_KIND = (
    dict.fromkeys(PARQUET_SUFFIXES, "parquet")
    | dict.fromkeys(CSV_SUFFIXES, "csv")
    | dict.fromkeys(JSON_SUFFIXES, "json")
)


def open_table(
    source: Any,
    *,
    engine: Engine | None = None,
    table: str | None = None,
    encoding: str | None = None,
    name: str | None = None,
    require_rows: bool = True,
) -> Table:
    """Open `source` as a lazy `Table`.

    `table` names the table inside a DuckDB database file; `encoding` is the CSV text
    encoding (`utf-8` by default; DuckDB also reads `latin-1` and `utf-16`).
    With `require_rows` (the default) a source with columns but no rows is an error.

    Args:
        source: A path or glob (CSV/TSV, optionally gzipped; Parquet file or folder; JSON
            lines; Arrow/Feather; DuckDB file), a URI, a SQL query, a pandas, Polars or
            Arrow object, or a `Table` (returned unchanged).
        engine: The engine to open it on; `None` uses the engine the settings describe
            (DuckDB in memory by default).
        table: Table name inside a DuckDB database file.
        encoding: CSV text encoding; `None` means UTF-8.
        name: Name used for the source in messages and reports; `None` derives it from
            the source (the file name, say).
        require_rows: Refuse a source with no data rows.

    Returns:
        A lazy table: nothing is loaded into Python until it is run.

    Raises:
        DataError: The source has no columns, no rows (with `require_rows`), or cannot be
            read.
        ParameterError: `table` is given for a source that is not a DuckDB file.
    """
    if isinstance(source, Table):
        return source
    engine = engine or default_engine()
    label = name or _label(source)
    if engine.is_server and not _in_database(source):
        return _open_local(
            source, engine, table=table, encoding=encoding, label=label, require_rows=require_rows
        )
    expr = _open(source, engine, table=table, encoding=encoding, label=label)
    if not expr.columns:
        raise DataError("has no columns", source=label)
    if require_rows and not _has_a_row(expr, engine, label):
        raise no_rows(label)
    return Table(expr, label, engine, text_source=_is_text(source))


def require_rows(table: Table) -> None:
    """The check ``open_table`` makes with ``require_rows``, for a table opened without it
    (a caller that learns the answer from a query it runs anyway checks later)."""
    if not _has_a_row(table.expr, table.engine, table.name):
        raise no_rows(table.name)


def no_rows(label: str) -> DataError:
    """The one message for a source with columns but no data rows."""
    return DataError(
        "has no data rows",
        source=label,
        hint="Only a header (or an empty result) was found; check the file or query.",
    )


def _has_a_row(expr: ir.Table, engine: Engine, label: str) -> bool:
    """Whether ``expr`` has at least one row: one row of a constant, fetched (Spark takes it
    from the first partition in one job; a count over ``LIMIT 1`` is a job for the limit and
    one for the count), or no query when the files' metadata gave the engine their rows."""
    import ibis

    known = engine.known_rows(expr)
    if known is not None:
        return known > 0
    probe = expr.select(one=ibis.literal(1)).limit(1)
    return len(engine.to_pyarrow(probe, source=label)) > 0


def _in_database(source: Any) -> bool:
    """A source a database-server engine reads itself: a query, a table name, or one of
    its own Ibis tables (anything else is a local file or an in-memory table)."""
    import ibis.expr.types as ir

    if isinstance(source, ir.Table):
        return True
    if not isinstance(source, str):
        return False
    return is_sql(source) or is_table_name(source)


def is_table_name(source: str) -> bool:
    """``orders`` or ``sales.orders`` that is not a local file or folder (nor a glob, a URI
    or a name with a data-file suffix)."""
    if not TABLE_NAME.match(source) or _suffix(Path(source)) in SUPPORTED:
        return False
    try:
        return not Path(source).exists()
    except OSError:
        return False


def _open_local(
    source: Any,
    engine: Engine,
    *,
    table: str | None,
    encoding: str | None,
    label: str,
    require_rows: bool,
) -> Table:
    """A local file (or in-memory table) with a database engine: read by DuckDB here, or,
    with ``upload``, copied to a temporary table on the server."""
    import logging

    here = open_table(
        source,
        engine=local_engine(),
        table=table,
        encoding=encoding,
        name=label,
        require_rows=require_rows,
    )
    if not engine.upload:
        logging.getLogger("sds.data").warning(
            "%s is read by DuckDB on this machine, not uploaded to %s (pass --upload to "
            "run this job in the database)",
            label,
            engine,
        )
        return here
    return Table(upload(engine, here.expr, label), label, engine)


def is_sql(source: Any) -> bool:
    """A query (or any statement, to be refused) rather than a path."""
    if not isinstance(source, str):
        return False
    if not (_SQL_START.match(source) or looks_like_statement(source)):
        return False
    try:
        return not Path(source).exists()  # a file named like a keyword stays a file
    except (OSError, ValueError):  # too long, or a NUL byte: not a path
        return True


def _is_text(source: Any) -> bool:
    if not isinstance(source, str | Path) or is_sql(source):
        return False
    text = str(source)
    if Path(text).is_dir():
        return False
    return _suffix(Path(text.replace("*", "x"))) in CSV_SUFFIXES + JSON_SUFFIXES


def _label(source: Any) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return f"<{type(source).__module__.split('.')[0]}.{type(source).__name__}>"


def _open(
    source: Any, engine: Engine, *, table: str | None, encoding: str | None, label: str
) -> ir.Table:
    import ibis.expr.types as ir

    if isinstance(source, ir.Table):
        return source
    if table is not None and not (
        isinstance(source, Path | str) and _suffix(Path(str(source))) in DUCKDB_SUFFIXES
    ):
        raise ParameterError(
            "--table applies to DuckDB database files only",
            parameter="table",
            found=label if len(label) <= 80 else label[:77] + "...",
            hint="Drop --table (or the spec's 'table:'), or point to a .duckdb file.",
        )
    if isinstance(source, Path | str):
        text = str(source)
        if is_sql(source):
            query = check_query(text, dialect=engine.dialect)
            return engine.sql(query, source="SQL query")
        if engine.is_server:
            return open_named(engine, text, label)
        return _open_path(text, engine, table=table, encoding=encoding, label=label)
    return _open_memory(source, label)


def _open_memory(obj: Any, label: str) -> ir.Table:
    import ibis

    module = type(obj).__module__.split(".")[0]
    if module not in ("pandas", "polars", "pyarrow"):
        raise DataError(
            "cannot open an object of this type",
            source=label,
            expected="a path, a SQL query, or a pandas/Polars/Arrow table",
        )
    if module == "polars" and type(obj).__name__ == "LazyFrame":
        obj = obj.collect()
    if module == "pyarrow" and type(obj).__name__ == "RecordBatchReader":
        obj = obj.read_all()
    if module == "pandas":
        import pyarrow as pa

        # Arrow conversion here (not in Ibis) keeps pandas semantics: NaN is missing.
        obj = pa.Table.from_pandas(obj, preserve_index=False)
    return ibis.memtable(obj)


def _open_path(
    path: str, engine: Engine, *, table: str | None, encoding: str | None, label: str
) -> ir.Table:
    if path.startswith("file://") and not engine.is_spark:
        path = path.removeprefix("file://")  # DuckDB reads plain local paths
    elif URI.match(path):
        return _open_uri(path, engine, encoding, label)
    if _GLOB_CHARS.search(path):
        files = sorted(globlib.glob(path, recursive=True))
        if not files:
            raise DataError("no files match this pattern", source=path)
        return _read_parquet_or_csv(files, engine, encoding, label)
    p = Path(path)
    if p.is_dir():
        files = _files_in(p, PARQUET_SUFFIXES) or _files_in(p, CSV_SUFFIXES)
        if not files:
            raise DataError(
                "directory holds no Parquet or CSV files",
                source=path,
                expected="a directory of .parquet files (or of .csv files)",
            )
        return _read_parquet_or_csv(files, engine, encoding, label)
    if not p.exists():
        raise DataError("file not found", source=path, hint="Check the path and the working dir.")
    if p.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", source=path)
    return _read_file(p, engine, table=table, encoding=encoding, label=label)


def _open_uri(path: str, engine: Engine, encoding: str | None, label: str) -> ir.Table:
    """hdfs://, s3a://, abfss://, gs://, https://...: handed to the engine untouched (globs
    and folders included); a path without a known suffix is read as Parquet."""
    suffix = _suffix(Path(path.rstrip("/")))
    kind = _KIND.get(suffix, "parquet" if suffix not in SUPPORTED else "")
    if not kind:
        raise DataError(
            f"a {suffix} file cannot be read from a URI",
            source=label,
            expected="Parquet, CSV or JSON lines",
        )
    with translate_errors(label):
        expr = engine.read_files(kind, [path], **_csv_options(path, encoding))
    return numbers_as_numbers(expr, engine, label) if kind == "csv" else expr


def _files_in(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Data files under ``folder``, skipping hidden and ``_`` files (Spark's markers)."""
    return sorted(
        str(f)
        for f in folder.rglob("*")
        if _suffix(f) in suffixes and not f.name.startswith((".", "_"))
    )


def _suffix(p: Path) -> str:
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _read_parquet_or_csv(
    files: list[str], engine: Engine, encoding: str | None, label: str
) -> ir.Table:
    kinds = {_suffix(Path(f)) for f in files}
    with translate_errors(label):
        if kinds <= set(PARQUET_SUFFIXES):
            return engine.read_files("parquet", files)
        if kinds <= set(CSV_SUFFIXES):
            expr = engine.read_files("csv", files, **_csv_options(files[0], encoding))
            return numbers_as_numbers(expr, engine, label)
    raise DataError(
        "matched files of mixed or unsupported kinds",
        source=label,
        found=", ".join(sorted(kinds)),
        expected="all Parquet or all CSV",
    )


def _csv_options(path: str, encoding: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if _suffix(Path(path)) not in CSV_SUFFIXES:
        return options
    if _suffix(Path(path)) == ".tsv":
        options["delim"] = "\t"
    if encoding and encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        options["encoding"] = encoding
    return options


def _read_file(
    p: Path, engine: Engine, *, table: str | None, encoding: str | None, label: str
) -> ir.Table:
    suffix = _suffix(p)
    with translate_errors(label):
        if suffix in _KIND:
            expr = engine.read_files(_KIND[suffix], [str(p)], **_csv_options(str(p), encoding))
            return numbers_as_numbers(expr, engine, label) if _KIND[suffix] == "csv" else expr
        if suffix in ARROW_SUFFIXES:
            return _read_arrow(p)
        if suffix in DUCKDB_SUFFIXES:
            return _read_duckdb(p, engine, table, label)
    raise DataError(
        f"unknown file type {suffix or '(no extension)'!r}",
        source=label,
        expected="one of " + ", ".join(SUPPORTED),
        hint="Rename the file with its real extension.",
    )


def _read_arrow(p: Path) -> ir.Table:
    import ibis
    import pyarrow as pa

    with pa.memory_map(str(p)) as source:
        try:
            data = pa.ipc.open_file(source).read_all()
        except pa.ArrowInvalid:
            source.seek(0)
            data = pa.ipc.open_stream(source).read_all()
    return ibis.memtable(data)


def _attach_alias(p: Path) -> str:
    """The name a database file is attached under: its stem for readability, plus a digest
    of its resolved path, size and modification time, so that two files with one name in
    different folders (or a file rewritten since) never answer for each other in one
    process."""
    resolved = p.resolve()
    stat = resolved.stat()
    key = f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    stem = re.sub(r"\W", "_", p.stem)
    return f"src_{stem}_{hashlib.sha256(key).hexdigest()[:12]}"


def _read_duckdb(p: Path, engine: Engine, table: str | None, label: str) -> ir.Table:
    if engine.is_spark:
        raise DataError(
            "a DuckDB database file can only be read by the duckdb engine",
            source=label,
            hint="Export the table to Parquet (COPY t TO 't.parquet') for Spark.",
        )
    alias = _attach_alias(p)
    attached = dict(
        engine.con.raw_sql("SELECT database_name, path FROM duckdb_databases()").fetchall()
    )
    if alias not in attached:
        resolved = str(p.resolve())
        for stale in [name for name, path in attached.items() if path == resolved]:
            engine.con.raw_sql(f'DETACH "{stale}"')  # the file was rewritten since
        escaped = resolved.replace("'", "''")
        engine.con.raw_sql(f"ATTACH '{escaped}' AS \"{alias}\" (READ_ONLY)")
    rows = engine.con.raw_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "ORDER BY table_name",
        parameters=[alias],
    ).fetchall()
    tables = [row[0] for row in rows]
    if table is None:
        if len(tables) != 1:
            raise DataError(
                "database holds several tables; say which",
                source=label,
                expected="one of: " + ", ".join(tables),
                hint="Pass --table NAME.",
            )
        table = tables[0]
    if table not in tables:
        raise DataError(
            f"no table {table!r} in the database",
            source=label,
            expected="one of: " + (", ".join(tables) or "(none)"),
        )
    return engine.con.table(table, database=(alias, "main"))
