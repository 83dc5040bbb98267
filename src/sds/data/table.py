"""The lazy table every entry point reads: an Ibis expression on an engine, with its name.

Nothing is read until a method runs it: :meth:`Table.head`, :meth:`Table.to_pandas`,
:meth:`Table.to_polars` and :meth:`Table.count` run one query each; ``repr`` runs none (it
shows the row count only once a count is known), and a notebook shows the first rows as an
HTML fragment scoped like a result's (:meth:`Table._repr_html_`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sds.data.engine import Engine, translate_errors
from sds.data.spark import cache_table
from sds.errors import InputError, missing_column_error
from sds.params import Interval, check
from sds.report.render import render_html_fragment
from sds.report.sections import Note, Section
from sds.report.sections import Table as TableSection

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    import polars as pl

HTML_ROWS = 10  # rows a notebook shows
_NAME_CHARS = 100  # a SQL source can be long; repr shows its start


@dataclass(frozen=True)
class Table:
    """A lazy table on an engine, with the name of where it came from."""

    expr: ir.Table
    name: str
    engine: Engine
    text_source: bool = False  # CSV/JSON: every scan re-parses the text
    # what a query has already told about this table (the row count): repr shows it, and
    # never runs a query to learn it
    _known: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __repr__(self) -> str:
        name = self.name if len(self.name) <= _NAME_CHARS else self.name[: _NAME_CHARS - 1] + "…"
        rows = self._known.get("rows")
        counted = f", {rows:,} rows" if rows is not None else ""
        return f"Table({name!r}, {len(self.expr.columns):,} columns{counted})"

    @contextmanager
    def materialized(self) -> Iterator[Table]:
        """For text sources, a copy in the engine, so many scans parse once; released (its
        memory and disk freed) when the block ends, also on an error.

        DuckDB keeps it in a temp table, in memory up to its limit and spilled to disk past
        it; Spark caches it in executor memory, spilling to disk, under a temp view.

        Yields:
            This table unchanged for a non-text source, else a table over the engine's copy
                (same name and engine).

        Raises:
            DataError: The text cannot be parsed.
        """
        if not self.text_source:
            yield self
            return
        with translate_errors(self.name):
            if self.engine.is_spark:
                temp, release = cache_table(self.engine.con, self.expr)
            else:
                temp, release = _duckdb_temp_table(self.engine.con, self.expr)
        try:
            yield Table(temp, self.name, self.engine, _known=self._known)
        except BaseException:
            with suppress(Exception):  # the job's own error is the one to report
                release()
            raise
        release()

    @property
    def columns(self) -> list[str]:
        return list(self.expr.columns)

    def require(self, *columns: str) -> None:
        """Raise a DataError naming close matches if any column is missing.

        Args:
            *columns: Column names that must exist.

        Raises:
            DataError: A column is missing; the message lists close matches.
        """
        for col in columns:
            if col not in self.expr.columns:
                raise missing_column_error(col, self.expr.columns, self.name)

    def select(self, columns: list[str]) -> Table:
        """The same table with only `columns`, in that order.

        Args:
            columns: Column names to keep.

        Returns:
            A lazy table over those columns, same name, engine and text-source flag.

        Raises:
            DataError: A column is missing.
        """
        self.require(*columns)
        return Table(
            self.expr.select(columns), self.name, self.engine, self.text_source, self._known
        )

    def count(self) -> int:
        """Count the rows, in the engine.

        Returns:
            The number of rows (a full scan of text sources); `repr` shows it from then on.
        """
        rows = int(self.engine.scalar(self.expr.count(), source=self.name))
        self._known["rows"] = rows
        return rows

    def head(self, n: int = 5) -> pd.DataFrame:
        """The first `n` rows, in the source's order, as pandas.

        Args:
            n: How many rows (0 or more); a table with fewer gives all of its rows.

        Returns:
            The rows, with the table's columns and a fresh 0-based index.

        Raises:
            ParameterError: `n` is not a whole number of 0 or more.
            DataError: The engine cannot read the source.
        """
        check("n", n, Interval(low=0, integer=True))
        return self.engine.execute(self.expr.limit(n), source=self.name)

    def _limited(self, limit: int | None) -> ir.Table:
        if limit is None:
            return self.expr
        check("limit", limit, Interval(low=0, integer=True))
        return self.expr.limit(limit)

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """The table (or its first `limit` rows) loaded into pandas.

        Args:
            limit: Rows to load at most; `None` loads every row into memory, so check
                `count()` first on a large source.

        Returns:
            The rows, with the table's columns and a fresh 0-based index.

        Raises:
            ParameterError: `limit` is not a whole number of 0 or more.
            DataError: The engine cannot read the source.
        """
        frame = self.engine.execute(self._limited(limit), source=self.name)
        if limit is None:
            self._known["rows"] = len(frame)
        return frame

    def to_polars(self, limit: int | None = None) -> pl.DataFrame:
        """`to_pandas` for Polars (the `polars` extra: `pip install 'sds-toolkit[polars]'`).

        Args:
            limit: Rows to load at most; `None` loads every row.

        Returns:
            The rows as a Polars DataFrame, read from the engine's Arrow result.

        Raises:
            InputError: Polars is not installed.
            ParameterError: `limit` is not a whole number of 0 or more.
            DataError: The engine cannot read the source.
        """
        try:
            import polars as pl
        except ImportError:
            raise InputError(
                "to_polars() needs polars, which is not installed",
                hint="Install the polars extra: pip install 'sds-toolkit[polars]'.",
            ) from None
        frame = pl.DataFrame(self.engine.to_pyarrow(self._limited(limit), source=self.name))
        if limit is None:
            self._known["rows"] = frame.height
        return frame

    def _repr_html_(self) -> str:
        """A notebook fragment: the first rows in one ``div`` with styles scoped to it."""
        rows = self.head(HTML_ROWS + 1)  # one more tells whether there are more
        if len(rows) <= HTML_ROWS:
            self._known["rows"] = len(rows)
        shown = rows.iloc[:HTML_ROWS]
        what = f"First {len(shown):,} rows" if len(rows) > HTML_ROWS else f"All {len(shown):,} rows"
        cells = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
        sections: list[Section] = [
            TableSection(what, [str(c) for c in shown.columns], cells),
            Note("About", [repr(self), "head(n), to_pandas(), to_polars() and count() run it."]),
        ]
        return render_html_fragment(f"Table: {self.name}", sections)


def _duckdb_temp_table(con: Any, expr: ir.Table) -> tuple[ir.Table, Callable[[], None]]:
    """A DuckDB temp table holding `expr`'s rows, and the function that drops it."""
    import uuid

    name = f"sds_{uuid.uuid4().hex[:12]}"
    temp = con.create_table(name, obj=expr, temp=True)
    # Ibis' drop_table names no table for a temp one (Ibis 12), so the SQL is spelled out
    return temp, lambda: con.raw_sql(f'DROP TABLE IF EXISTS temp.main."{name}"')


def _cell(value: Any) -> str:
    """A value as the preview shows it: as the data holds it, missing values as ``null``."""
    import pandas as pd

    missing = value is None or value is pd.NA or value is pd.NaT
    if missing or (isinstance(value, float) and math.isnan(value)):
        return "null"
    return str(value)
