"""The engine that runs heavy aggregation: embedded DuckDB through Ibis by default.

Library code builds Ibis expressions and hands them to :meth:`Engine.execute`; only small
results come back to Python. Engine errors caused by the data (bad encoding, values that do
not convert, unreadable files) become :class:`~sds.errors.DataError` naming the source.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sds.config import get_settings
from sds.data.server import (
    db_error,
    fetch_arrow,
    is_db_error,
    prepare,
    sql_table,
    write_table,
)
from sds.data.spark import (
    is_spark_error,
    read_frame,
    require_pyspark,
    spark_error,
    spark_session,
    take_arrow,
    to_arrow,
    write_observed,
    write_uri,
)
from sds.data.spark_footer import Footer
from sds.data.uri import output_target
from sds.data.url import connect, parse, resolve_password
from sds.errors import AnalysisError, DataError, InputError, ParameterError
from sds.interrupts import Interrupted, received
from sds.report.tempfiles import (
    is_part_folder,
    remove_path,
    remove_stale,
    resolve_output,
    temp_path,
    write_direct,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa

    from sds.urls import EngineURL

SUPPORTED_BACKENDS = ("duckdb", "spark")
"""The engines sds starts itself; a database server is reached by URL (:meth:`Engine.from_url`)."""


class Engine:
    """A connection to one backend; DuckDB in memory unless told otherwise."""

    def __init__(
        self,
        backend: str = "duckdb",
        *,
        database: str = ":memory:",
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
        read_only: bool = False,
        spark_master: str | None = None,
        session: Any = None,
        con: Any = None,
        url: EngineURL | None = None,
        upload: bool = False,
    ) -> None:
        self._lock = threading.RLock()  # re-entered by write_table's inspect callback
        self.url = url
        self.secrets: list[str] = []
        self.upload = upload
        self._footers: dict[str, Footer] = {}  # views of local Parquet, by their footers
        if con is not None:  # a database server (or any Ibis backend) already connected
            self.backend = {"pyspark": "spark"}.get(con.name, str(con.name))
            self.con = con
            self.database = url.masked if url is not None else self.backend
            prepare(self)
            return
        if backend not in SUPPORTED_BACKENDS:
            raise ParameterError(
                f"engine == {backend!r}, must be one of {', '.join(SUPPORTED_BACKENDS)}",
                parameter="engine",
            )
        self.backend = backend
        if backend == "spark":
            self.database = spark_master or "spark"
            self.con = _connect_spark(spark_master, session, memory_limit)
            return
        import ibis

        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory:
            config["temp_directory"] = temp_directory
        self.database = database
        self.con = ibis.duckdb.connect(database, read_only=read_only, **config)
        # sds draws its own progress. In a Jupyter kernel without ipywidgets DuckDB starts
        # with its bar off and refuses any SET of it, so only a bar that is on is turned off.
        if self.con.raw_sql("SELECT current_setting('enable_progress_bar')").fetchone()[0]:
            self.con.raw_sql("SET enable_progress_bar = false")
        self.con.raw_sql("SET TimeZone = 'UTC'")  # zone-aware times compare and print in UTC

    @classmethod
    def spark(cls, session: Any = None, *, master: str | None = None) -> Engine:
        """A Spark engine on `session` (e.g. Databricks' `spark`), else a new session:
        Spark Connect if `SPARK_REMOTE` is set, otherwise a classic one on `master`.

        Args:
            session: An existing `SparkSession` to run on; `None` starts one.
            master: Spark master URL for a new classic session (`local[4]`,
                `spark://host:7077`, `yarn`); `None` uses Spark's default.

        Returns:
            An engine whose expressions run on Spark.

        Raises:
            ConfigError: PySpark (or Ibis' PySpark backend) is not installed.
        """
        return cls("spark", spark_master=master, session=session)

    @classmethod
    def from_url(cls, url: str, *, upload: bool = False) -> Engine:
        """The engine an engine URL names: `duckdb`, `spark[://master]`, or a database
        server such as `postgres://user@host:5432/db` (also `bigquery://`, `snowflake://`,
        `trino://`, `clickhouse://`, `mysql://`, `databricks://` with their Ibis driver).

        The password is best kept out of the URL: `PGPASSWORD`, a `~/.pgpass` entry, or
        `?password_env=NAME` naming an environment variable. It is never printed: messages
        show the URL masked.

        Args:
            url: The engine URL.
            upload: Copy local files and in-memory tables into temporary tables on the
                server; without it they are read by DuckDB on this machine.

        Returns:
            An engine connected to that backend.

        Raises:
            InputError: The URL is malformed or names an unknown backend.
            ConfigError: The backend's driver is not installed.
            DataError: The server cannot be reached or refuses the login.
        """
        parsed = parse(url)
        if parsed.backend == "duckdb":
            return cls("duckdb", database=parsed.database or ":memory:")
        if parsed.backend == "spark":
            return cls("spark", spark_master=None if parsed.text == "spark" else parsed.text)
        engine = cls(con=connect(parsed), url=parsed, upload=upload)
        engine.secrets = [s for s in (parsed.password, resolve_password(parsed)) if s]
        return engine

    @classmethod
    def from_connection(cls, con: Any, *, upload: bool = False) -> Engine:
        """An engine on an Ibis connection you already have (`ibis.postgres.connect(...)`,
        `ibis.bigquery.connect(...)`, ...).

        Args:
            con: A connected Ibis backend.
            upload: As for :meth:`from_url`.

        Returns:
            An engine whose jobs run on that connection.
        """
        return cls(con=con, upload=upload)

    @property
    def is_spark(self) -> bool:
        return self.backend == "spark"

    @property
    def is_server(self) -> bool:
        """A database server reached over a connection (not DuckDB or Spark run by sds)."""
        return self.backend not in SUPPORTED_BACKENDS

    @property
    def keeps_tables(self) -> bool:
        """Whether a table written here outlives the run: every engine but DuckDB in memory."""
        return not (self.backend == "duckdb" and self.database == ":memory:")

    @property
    def label(self) -> str:
        """How messages name this engine: the masked URL of a server, else the backend."""
        return self.url.masked if self.url is not None else self.backend

    def close(self) -> None:
        """Close the connection to a database server or DuckDB file (a Spark session stays:
        other work may share it)."""
        if not self.is_spark:
            import contextlib

            with contextlib.suppress(Exception):  # already closed, or the server went away
                self.con.disconnect()

    def guard(self, source: str) -> AbstractContextManager[None]:
        """A block in which this engine's errors become sds errors naming `source`.

        Args:
            source: Name of the data in error messages.

        Returns:
            A context manager; a database server's errors raised inside it show its URL
                masked.
        """
        return translate_errors(source, self)

    def __repr__(self) -> str:
        return f"Engine(backend={self.backend!r}, database={self.database!r})"

    def __str__(self) -> str:
        return self.label

    def execute(self, expr: ir.Table, *, source: str = "data") -> pd.DataFrame:
        """Run a table expression and return its (small) result as pandas.

        Results travel as Arrow and are converted here (not by Ibis), one conversion path
        for every backend.

        Args:
            expr: An Ibis table expression built on this engine's tables; it should already be
                aggregated or limited, since the whole result comes into memory.
            source: Name of the data in error messages.

        Returns:
            The expression's rows.

        Raises:
            DataError: The engine failed because of the data (encoding, conversion, unreadable
                file).
        """
        frame: pd.DataFrame = self.to_pyarrow(expr, source=source).to_pandas()
        return frame

    def scalar(self, expr: ir.Scalar, *, source: str = "data") -> Any:
        """Run a scalar expression and return a plain Python value.

        Args:
            expr: An Ibis scalar expression (a count, a sum, ...) on this engine's tables.
            source: Name of the data in error messages.

        Returns:
            The value as a Python object (`int`, `float`, `str`, `datetime`, or `None`).

        Raises:
            DataError: The engine failed because of the data.
        """
        return self.to_pyarrow(expr, source=source).as_py()

    def to_pyarrow(self, expr: ir.Expr, *, source: str = "data") -> pa.Table:
        """Run an expression and return an Arrow table (a scalar for a scalar).

        Args:
            expr: An Ibis table or scalar expression on this engine's tables.
            source: Name of the data in error messages.

        Returns:
            An Arrow table for a table expression, an Arrow scalar for a scalar one.

        Raises:
            DataError: The engine failed because of the data.
        """
        with self._lock, self.guard(source):
            if self.is_spark:
                return to_arrow(self.con, expr)
            if self.is_server:
                return fetch_arrow(self, expr)
            if self.backend == "duckdb":
                return _duckdb_arrow(self.con, expr)
            return self.con.to_pyarrow(expr)

    def first_rows(self, expr: ir.Table, n: int, *, source: str = "data") -> pa.Table:
        """The first `n` rows of `expr`, the same rows each run where the engine keeps an
        order: Spark takes them partition by partition from the first (`take`: one short
        job reading only those partitions, where a `LIMIT` query gathers every partition's
        first rows in whatever order they finish); other engines run `LIMIT n`.

        Args:
            expr: An Ibis table expression on this engine's tables.
            n: How many rows.
            source: Name of the data in error messages.

        Returns:
            At most `n` rows, as Arrow.

        Raises:
            DataError: The engine failed because of the data.
        """
        if not self.is_spark:
            return self.to_pyarrow(expr.limit(n), source=source)
        with self._lock, self.guard(source):
            return take_arrow(self.con, expr, n)

    def write_table(
        self,
        expr: ir.Table,
        name: str,
        *,
        source: str = "data",
        inspect: Callable[[ir.Table], None] | None = None,
        hidden: tuple[str, ...] = (),
    ) -> str:
        """Write a table expression as the table `name` in this engine's database, computed
        there (nothing passes through Python). Built under a temporary name and swapped in
        by one transaction, so a failed run leaves an earlier table of that name whole.

        Args:
            expr: The Ibis table expression to write.
            name: `table` or `schema.table`; an existing table of that name is replaced.
            source: Name of the data in error messages.
            inspect: Called with the written rows (a temporary table) before they take the
                name; what it raises leaves nothing written.
            hidden: Columns only `inspect` reads, dropped before the table takes the name.

        Returns:
            The table's name.

        Raises:
            DataError: Not a table name, or the database refuses the write.
        """
        with self._lock:
            return write_table(self, expr, name, source, inspect=inspect, hidden=hidden)

    def write(self, expr: ir.Table, path: str | Path, *, source: str = "data") -> Path | str:
        """Stream a table expression to Parquet (CSV if the path ends in .csv) in the engine,
        with no pandas copy. DuckDB writes one file; Spark writes a folder of part files at
        the path (which sds, Spark and most readers open as one table).

        Written under a temporary name in the same folder and renamed when complete, so a
        failed or interrupted run leaves no file and never damages an earlier one. A symlink
        is written through; a device or pipe is written directly (DuckDB only); a folder is
        refused unless it is an earlier Spark output (see `sds.report.tempfiles`).

        A URI (`s3a://`, `hdfs://`, `abfss://`, `file://`, as a string) goes to Spark's own
        writer, whose output committer makes it appear whole or not at all; DuckDB writes
        a `file://` URI as the local path and refuses any other (`sds.data.uri`).

        Args:
            expr: The Ibis table expression to write.
            path: Output file or URI; a `.csv` suffix writes CSV with a header, anything else
                Parquet.
            source: Name of the data in error messages.

        Returns:
            The path written, as given (not resolved through a symlink); a URI as a string.

        Raises:
            InputError: `path` is a folder that is not an earlier Spark output, a device or
                pipe with Spark, or a URI (other than `file://`) with DuckDB.
            DataError: The engine failed because of the data.
        """

        return self._write(
            expr, path, source, lambda tmp, csv: self._write_to(expr, tmp, csv, source)
        )

    def write_observing(
        self,
        expr: ir.Table,
        path: str | Path,
        observe: dict[str, str],
        *,
        hidden: tuple[str, ...] = (),
        source: str = "data",
        check: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """As :meth:`write` on Spark, to a local path, without the `hidden` columns; and
        the Spark SQL aggregates `observe` over the written rows (hidden columns included),
        computed while Spark writes them: no pass, and no Spark job, of their own.

        Args:
            expr: The Ibis table expression to write.
            path: Output file (a folder of part files); `.csv` writes CSV with a header.
            observe: Name: Spark SQL aggregate expression, e.g. `count(*)`.
            hidden: Columns only `observe` reads, left out of the file.
            source: Name of the data in error messages.
            check: Called with the values before the file takes its place; what it raises
                leaves nothing written.

        Returns:
            Each aggregate's value.

        Raises:
            ParameterError: Not a Spark engine, or `path` is a URI.
            DataError: The engine failed because of the data.
        """
        if not self.is_spark or isinstance(output_target(path, spark=True), str):
            raise ParameterError(
                "only Spark observes the rows it writes to a local path", parameter="observe"
            )
        observed: dict[str, Any] = {}

        def run(tmp: Path, csv: bool) -> None:
            with self._lock, self.guard(source):
                found = write_observed(
                    self.con, expr, str(tmp), csv=csv, hidden=hidden, observe=observe
                )
            observed.update(found)
            if check is not None:
                check(observed)

        self._write(expr, path, source, run)
        return observed

    def _write(
        self,
        expr: ir.Table,
        path: str | Path,
        source: str,
        write_to: Callable[[Path, bool], None],
    ) -> Path | str:
        """:meth:`write`'s placing of the output; ``write_to(tmp, csv)`` writes it."""
        where = output_target(path, spark=self.is_spark)
        if isinstance(where, str):  # a URI: Spark's writer and output committer
            with self._lock, translate_errors(source):
                write_uri(self.con, expr, where, csv=where.rstrip("/").lower().endswith(".csv"))
            return where
        target = resolve_output(where, allow_part_folder=True)
        csv = target.path.suffix.lower() == ".csv"
        if target.direct:
            self._write_into_stream(expr, target.path, csv, source)
            return target.path
        remove_stale(target.real)
        tmp = temp_path(target.real)
        try:
            write_to(tmp, csv)
            _swap_into_place(tmp, target.real)
        except BaseException:
            _remove(tmp)
            raise
        return target.path

    def _write_to(self, expr: ir.Table, path: Path, csv: bool, source: str) -> None:
        with self._lock, self.guard(source):
            if self.is_server:
                _stream_to_file(self.con.to_pyarrow_batches(expr), path, csv)
            elif not csv:
                self.con.to_parquet(expr, path)
            elif self.is_spark:
                self.con.to_csv_dir(expr, path, options={"header": "true"})
            else:
                self.con.to_csv(expr, path)

    def _write_into_stream(self, expr: ir.Table, path: Path, csv: bool, source: str) -> None:
        """Write to a file in a private temporary folder, then copy it into the device or
        pipe ``path``: the engine writes files, not streams."""
        import shutil
        import tempfile

        if self.is_spark:
            raise InputError(
                "Spark writes a folder of part files, which cannot go into a device or pipe",
                source=str(path),
                hint="Write to a file path, or use --engine duckdb.",
            )
        folder = Path(tempfile.mkdtemp(prefix="sds-write-"))
        try:
            tmp = folder / ("out.csv" if csv else "out.parquet")
            self._write_to(expr, tmp, csv, source)
            with tmp.open("rb") as data:
                write_direct(path, data)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def read_files(
        self, kind: str, paths: list[str], *, delim: str | None = None, encoding: str | None = None
    ) -> ir.Table:
        """A lazy table over Parquet, CSV or JSON-lines `paths` (local or URIs, untouched).

        CSV options mean the same on both engines: a header row, types inferred, `delim`
        between fields and `encoding` of the text (UTF-8 unless told).

        Args:
            kind: `parquet`, `csv` or `json` (JSON lines); every path is of this kind.
            paths: Files or URIs, read as one table; globs are expanded by the caller.
            delim: CSV field separator; `None` lets the engine choose (DuckDB detects it).
            encoding: CSV text encoding; `None` means UTF-8.

        Returns:
            An Ibis table over the files; nothing is read until it is run.
        """
        if not self.is_spark:
            reader = {"parquet": self.con.read_parquet, "json": self.con.read_json}.get(kind)
            if reader is not None:
                return reader(paths if len(paths) > 1 else paths[0])
            options = {"delim": delim, "encoding": encoding}
            return self.con.read_csv(paths, **{k: v for k, v in options.items() if v})
        import uuid

        frame, footer = read_frame(self.con._session, kind, paths, delim=delim, encoding=encoding)
        name = f"sds_read_{uuid.uuid4().hex[:12]}"
        frame.createOrReplaceTempView(name)
        if footer is not None:
            self._footers[name] = footer
        return self.con.table(name)

    def known_rows(self, expr: ir.Table) -> int | None:
        """The number of rows of `expr` if it is a table of files whose metadata told it
        when :meth:`read_files` opened them (local Parquet on Spark), else None: a count
        that needs no query.

        Args:
            expr: An Ibis table on this engine.

        Returns:
            The row count, or None when only a query can tell.
        """
        footer = self.footer(expr)
        return None if footer is None else footer.rows

    def footer(self, expr: ir.Table) -> Footer | None:
        """The footers of the local Parquet files `expr` reads on Spark: their row-group
        statistics (null counts, bounds) answer some checks without a query.

        Args:
            expr: A table, e.g. one :meth:`read_files` opened.

        Returns:
            The footers, or None when `expr` is not a Spark view of local Parquet files.
        """
        import ibis.expr.operations as ops

        op = expr.op()
        return self._footers.get(op.name) if isinstance(op, ops.DatabaseTable) else None

    def sql(self, query: str, *, source: str = "SQL query") -> ir.Table:
        """An Ibis table over a SQL query in this engine's dialect.

        Args:
            query: A query (`SELECT ...`) in DuckDB's or Spark SQL's dialect; it runs lazily.
            source: Name of the query in error messages.

        Returns:
            An Ibis table over the query's result.

        Raises:
            DataError: The engine rejects the query.
        """
        with self.guard(source):
            if self.is_server:
                return sql_table(self, query)
            return self.con.sql(query)

    @property
    def dialect(self) -> str:
        """The SQL dialect of this engine's queries (sqlglot's name for it)."""
        return {"spark": "spark", "pyspark": "spark", "postgres": "postgres"}.get(
            self.backend, self.backend
        )


def _duckdb_arrow(con: Any, expr: ir.Expr) -> Any:
    """``con.to_pyarrow(expr)`` as ibis runs it on DuckDB, without the module ibis takes
    its type mapper from there: that module imports pandas (0.17 s of CPU of a cold
    ``sds analyze``, which otherwise needs none). The mapper is ibis' Arrow one with
    DuckDB's rule for NULL-typed columns (:func:`_duckdb_mapper`)."""
    table = con._to_duckdb_relation(expr).to_arrow_table()
    return expr.__pyarrow_result__(table, data_mapper=_duckdb_mapper())


@functools.cache
def _duckdb_mapper() -> type:
    """ibis' ``DuckDBPyArrowData``: a NULL-typed value comes back as an Arrow null."""
    import pyarrow as pa
    from ibis.formats.pyarrow import PyArrowData

    class DuckDBArrow(PyArrowData):  # type: ignore[misc]
        @classmethod
        def convert_scalar(cls, scalar: Any, dtype: Any) -> Any:
            if dtype.is_null():
                return pa.scalar(None)
            return super().convert_scalar(scalar, dtype)

        @classmethod
        def convert_column(cls, column: Any, dtype: Any) -> Any:
            if dtype.is_null():
                return pa.nulls(len(column))
            return super().convert_column(column, dtype)

    return DuckDBArrow


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` (a file, or Spark's folder of part files) onto ``target``; an old
    folder at ``target`` (only ever an earlier Spark output) is moved aside first and removed
    only once the new one is in."""
    import os

    if not target.is_dir() and not (tmp.is_dir() and target.exists()):
        os.replace(tmp, target)  # a file onto a file (or onto nothing)
        return
    if target.is_dir() and not is_part_folder(target):  # checked before; it may have changed
        raise InputError("is a folder that is not an earlier Spark output", source=str(target))
    old = temp_path(target)  # a stale-looking name, so a killed run's leftover is cleaned
    os.replace(target, old)
    os.replace(tmp, target)
    _remove(old)


def _stream_to_file(batches: Any, path: Path, csv: bool) -> None:
    """Write Arrow record batches from a server to a local Parquet or CSV file."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with batches:
        writer: Any = (pacsv.CSVWriter if csv else pq.ParquetWriter)(str(path), batches.schema)
        with writer:
            for batch in batches:
                writer.write(batch) if csv else writer.write_batch(batch)


def _remove(path: Path) -> None:
    remove_path(path)


def _connect_spark(master: str | None, session: Any, memory: str | None) -> Any:
    require_pyspark()
    import ibis

    if session is None:
        session = spark_session(master, memory=memory)
    return ibis.pyspark.connect(session)


@contextmanager
def translate_errors(source: str, engine: Engine | None = None) -> Iterator[None]:
    """Turn engine exceptions raised inside the block into sds errors naming the source
    (and, for a database server, its masked URL)."""
    try:
        yield
    except Exception as exc:
        if (signum := received()) is not None:  # DuckDB cancelled the query on SIGINT/TERM
            raise Interrupted(signum) from exc
        if engine is not None and engine.is_server and is_db_error(exc):
            # raised without the driver's exception as its cause: the driver's frames and
            # message may hold the connection string
            raise db_error(exc, source, engine) from None
        if _is_engine_error(exc):
            raise engine_error(exc, source) from exc

        if is_spark_error(exc):
            raise spark_error(exc, source) from exc
        raise


def _is_engine_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("duckdb", "_duckdb"))


def engine_error(exc: BaseException, source: str) -> DataError | AnalysisError:
    """Map one engine exception to the sds error a user can act on."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    kind = type(exc).__name__
    if "Invalid unicode" in text or "not utf-8" in text.lower():
        return DataError(
            "file is not UTF-8 encoded",
            source=source,
            hint="Pass --encoding latin-1 (or the file's real encoding), or re-save it as UTF-8.",
        )
    if kind in ("ConversionException", "InvalidInputException", "IOException"):
        return DataError(f"the engine cannot read it: {first}", source=source)
    if kind in ("BinderException", "CatalogException", "ParserException"):
        return DataError(f"the query does not fit the data: {first}", source=source)
    if kind == "OutOfMemoryException":
        return AnalysisError(
            f"the engine ran out of memory: {first}",
            source=source,
            hint="Raise --memory-limit or set a temp directory with free disk space.",
        )
    return AnalysisError(f"the engine failed: {first}", source=source)


@functools.lru_cache(maxsize=8)
def _engine_for(
    backend: str,
    threads: int | None,
    memory_limit: str | None,
    temp_directory: str | None,
    spark_master: str | None,
) -> Engine:
    if backend == "spark":
        return Engine("spark", spark_master=spark_master, memory_limit=memory_limit)
    return Engine(
        backend, threads=threads, memory_limit=memory_limit, temp_directory=temp_directory
    )


_SERVERS: dict[tuple[str, bool], Engine] = {}
_SERVERS_LOCK = threading.Lock()


def _server_engine(url: str, upload: bool) -> Engine:
    """One connection per URL (and upload setting) per process, closed at exit."""
    with _SERVERS_LOCK:
        engine = _SERVERS.get((url, upload))
        if engine is None:
            if not _SERVERS:
                import atexit

                atexit.register(close_servers)
            engine = _SERVERS[url, upload] = Engine.from_url(url, upload=upload)
        return engine


def close_servers() -> None:
    """Close the connections :func:`default_engine` opened to database servers (done at
    exit; a notebook may call it when it is done with them)."""
    with _SERVERS_LOCK:
        engines = list(_SERVERS.values())
        _SERVERS.clear()
    for engine in engines:
        engine.close()


def default_engine() -> Engine:
    """The engine described by the settings in force (one per distinct setting): an
    :class:`Engine` given to ``settings(engine=...)``, a database server's URL, or a local
    DuckDB or Spark."""
    s = get_settings()
    backend = s.engine or "duckdb"
    if isinstance(backend, Engine):
        return backend
    if backend not in SUPPORTED_BACKENDS:
        return _server_engine(backend, s.upload)
    return _engine_for(backend, s.threads, s.memory_limit, s.temp_directory, s.spark_master)


def local_engine() -> Engine:
    """The DuckDB engine on this machine, with the settings' threads and memory: it reads
    local files when the engine in force is a database server and nothing is uploaded."""
    s = get_settings()
    return _engine_for("duckdb", s.threads, s.memory_limit, s.temp_directory, None)
