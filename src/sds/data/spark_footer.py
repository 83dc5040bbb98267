"""Spark's schema and row count of local Parquet files, read from their footers.

Spark infers a Parquet schema with a job of its own (it reads a footer on an executor), and
sds then probed each new table for a first row with another: two of the four jobs of a warm
``sds analyze`` on a local session, each costing Spark's fixed start-up of a job (0.3 to
1 s). The footers hold both, so for files this process can read as Spark would (a local
session whose default file system is the local one) they are read here with pyarrow and
the schema handed to Spark's reader. Anything whose type Spark might read otherwise
(unsigned or nanosecond columns, nested types, files whose schemas differ)
keeps Spark's own inference.

The footers' row-group statistics also tell a column's null count and its bounds
(:meth:`Footer.nulls`, :meth:`Footer.bounds`), so a check they answer needs no work in a
query (an analysis' null ids and 0/1 columns: a sixth of its aggregate's CPU time). The
first rows of one file are read here too (:meth:`Footer.head`): the rows Spark's ``take``
would collect, without its job and its row-by-row transfer to Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sds.data.uri import URI

MAX_FILES = 64  # more footers than this are left to Spark (its listing runs in parallel)


@dataclass(frozen=True)
class Footer:
    """The Spark schema (a ``StructType``) and the number of rows of some Parquet files,
    and their metadata (pyarrow's ``FileMetaData``, one per file)."""

    schema: Any
    rows: int
    metas: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    paths: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def head(self, columns: list[str], n: int) -> Any:
        """The first ``n`` rows of ``columns`` (Arrow) when the footers are one file's, else
        None. They are the rows Spark's ``take(n)`` collects from that file: its splits
        are in file order (the first, at offset 0, is the longest, and Spark's sort of the
        splits by length keeps ties in order), and each reads its row groups in order."""
        if len(self.paths) != 1 or any(c not in self.schema.names for c in columns):
            return None
        import pyarrow as pa
        import pyarrow.parquet as pq

        batches, rows = [], 0
        with pq.ParquetFile(self.paths[0]) as source:
            empty = source.schema_arrow.empty_table().select(columns)
            for batch in source.iter_batches(batch_size=n, columns=columns):
                batches.append(batch.slice(0, n - rows))
                rows += batches[-1].num_rows
                if rows >= n:
                    break
        return pa.Table.from_batches(batches, schema=empty.schema) if batches else empty

    def nulls(self, column: str) -> int | None:
        """The column's null count, or None when a row group's statistics do not say."""
        total = 0
        for stats in self._statistics(column):
            if stats is None or not stats.has_null_count:
                return None
            total += stats.null_count
        return total if self.metas else None

    def bounds(self, column: str) -> tuple[Any, Any] | None:
        """The smallest and largest value of the column, or None when a row group's
        statistics do not say (no statistics, or only nulls in it)."""
        lows, highs = [], []
        for stats in self._statistics(column):
            if stats is None or not stats.has_min_max:
                return None
            lows.append(stats.min)
            highs.append(stats.max)
        return (min(lows), max(highs)) if lows else None

    def _statistics(self, column: str) -> list[Any]:
        out = []
        for meta in self.metas:
            names = meta.schema.names
            if column not in names:
                return [None]
            index = names.index(column)
            out += [meta.row_group(g).column(index).statistics for g in range(meta.num_row_groups)]
        return out


def local_footer(session: Any, paths: list[str]) -> Footer | None:
    """The schema and rows of ``paths`` from their footers, or None when Spark must infer
    them: not a classic local session on the local file system, a path behind a URI, too
    many files, schemas that differ, or a type outside :func:`_spark_type`'s list."""
    if len(paths) > MAX_FILES or not _reads_local_files(session):
        return None
    local = [p.removeprefix("file://") for p in paths]
    if any(URI.match(p) for p in local):
        return None
    import pyarrow.parquet as pq

    try:
        metas = [pq.read_metadata(p) for p in local]
    except (OSError, ValueError):  # unreadable or not Parquet: Spark names the problem
        return None
    first = metas[0].schema
    if any(not m.schema.equals(first) for m in metas[1:]):
        return None
    schema = _struct(session, first)
    if schema is None:
        return None
    return Footer(schema, sum(m.num_rows for m in metas), tuple(metas), tuple(local))


def _reads_local_files(session: Any) -> bool:
    """A classic session on a local master whose default file system is this machine's
    (a path without a scheme then names the file pyarrow reads)."""
    try:
        context = session.sparkContext
        default_fs = context._jsc.hadoopConfiguration().get("fs.defaultFS") or "file:///"
        master = str(context.master)
    except Exception:  # Spark Connect: no context in this process
        return False
    return master.startswith("local") and default_fs.startswith("file:")


def _struct(session: Any, parquet_schema: Any) -> Any:
    """The ``StructType`` Spark infers for a Parquet schema, or None if unsure."""
    from pyspark.sql import types as st

    conf = session.conf
    ntz = conf.get("spark.sql.parquet.inferTimestampNTZ.enabled", "true") == "true"
    int96 = conf.get("spark.sql.parquet.int96AsTimestamp", "true") == "true"
    arrow = parquet_schema.to_arrow_schema()
    fields = []
    for i, arrow_field in enumerate(arrow):
        if parquet_schema.column(i).physical_type == "INT96":
            # Spark's default for the times it writes; it reads them as zoned timestamps
            kind = st.TimestampType() if int96 else None
        else:
            kind = _spark_type(arrow_field.type, ntz)
        if kind is None:
            return None
        fields.append(st.StructField(arrow_field.name, kind, nullable=True))
    return st.StructType(fields)


def _spark_type(arrow_type: Any, ntz: bool) -> Any:
    """Spark's type for a flat Arrow type as its Parquet reader infers it, else None."""
    import pyarrow as pa
    from pyspark.sql import types as st

    simple = {
        pa.bool_(): st.BooleanType(),
        pa.int8(): st.ByteType(),
        pa.int16(): st.ShortType(),
        pa.int32(): st.IntegerType(),
        pa.int64(): st.LongType(),
        pa.float32(): st.FloatType(),
        pa.float64(): st.DoubleType(),
        pa.string(): st.StringType(),
        pa.large_string(): st.StringType(),
        pa.date32(): st.DateType(),
    }
    if arrow_type in simple:
        return simple[arrow_type]
    if pa.types.is_decimal128(arrow_type):
        return st.DecimalType(arrow_type.precision, arrow_type.scale)
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit in ("ms", "us"):
        if arrow_type.tz is not None:
            return st.TimestampType()  # adjusted to UTC
        return st.TimestampNTZType() if ntz else st.TimestampType()
    return None
