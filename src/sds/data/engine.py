"""The engine that runs heavy aggregation: embedded DuckDB through Ibis by default.

Library code builds Ibis expressions and hands them to :meth:`Engine.execute`; only small
results come back to Python. Engine errors caused by the data (bad encoding, values that do
not convert, unreadable files) become :class:`~sds.errors.DataError` naming the source.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sds.config import get_settings
from sds.errors import AnalysisError, DataError, ParameterError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa

SUPPORTED_BACKENDS = ("duckdb",)


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
    ) -> None:
        if backend not in SUPPORTED_BACKENDS:
            raise ParameterError(
                f"engine == {backend!r}, must be one of {', '.join(SUPPORTED_BACKENDS)}",
                parameter="engine",
            )
        import ibis

        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory:
            config["temp_directory"] = temp_directory
        self.backend = backend
        self.database = database
        self.con = ibis.duckdb.connect(database, read_only=read_only, **config)
        self.con.raw_sql("SET enable_progress_bar = false")  # sds draws its own
        self.con.raw_sql("SET TimeZone = 'UTC'")  # zone-aware times compare and print in UTC
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Engine(backend={self.backend!r}, database={self.database!r})"

    def execute(self, expr: ir.Table, *, source: str = "data") -> pd.DataFrame:
        """Run a table expression and return its (small) result as pandas.

        Results travel as Arrow and are converted here (not by Ibis), one conversion path
        for every backend.
        """
        frame: pd.DataFrame = self.to_pyarrow(expr, source=source).to_pandas()
        return frame

    def scalar(self, expr: ir.Scalar, *, source: str = "data") -> Any:
        """Run a scalar expression and return a plain Python value."""
        with self._lock, translate_errors(source):
            return self.con.to_pyarrow(expr).as_py()

    def to_pyarrow(self, expr: ir.Expr, *, source: str = "data") -> pa.Table:
        """Run an expression and return an Arrow table."""
        with self._lock, translate_errors(source):
            return self.con.to_pyarrow(expr)

    def write_parquet(self, expr: ir.Table, path: str | Path, *, source: str = "data") -> Path:
        """Stream a table expression to a Parquet file in the engine (no pandas copy).

        Written under a temporary name in the same folder and renamed when complete, so a
        failed run leaves no file and never damages an earlier one.
        """
        import os
        import uuid

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with self._lock, translate_errors(source):
                self.con.to_parquet(expr, tmp)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target

    def sql(self, query: str, *, source: str = "SQL query") -> ir.Table:
        """An Ibis table over a SQL query in this engine's dialect."""
        with translate_errors(source):
            return self.con.sql(query)


@contextmanager
def translate_errors(source: str) -> Iterator[None]:
    """Turn engine exceptions raised inside the block into sds errors naming the source."""
    try:
        yield
    except Exception as exc:
        if _is_engine_error(exc):
            raise engine_error(exc, source) from exc
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
    backend: str, threads: int | None, memory_limit: str | None, temp_directory: str | None
) -> Engine:
    return Engine(
        backend, threads=threads, memory_limit=memory_limit, temp_directory=temp_directory
    )


def default_engine() -> Engine:
    """The engine described by the settings in force (one per distinct setting)."""
    s = get_settings()
    return _engine_for(s.engine, s.threads, s.memory_limit, s.temp_directory)
