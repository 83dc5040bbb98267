"""The exact number of distinct whole rows, run on an engine.

On Spark, ``SELECT DISTINCT *`` builds a hash table of every whole row and moves all of
them through a shuffle (10,000,000 rows of 18 columns: about twice the CPU of the hashed
count below). There the count is made from 64-bit row hashes (``xxhash64``) and then made
exact:

1. one query groups the rows by hash: the number of hashes, and how many of them more
   than one row shares (a repeated row, or rarely two different rows that collide);
2. if no hash is shared, every row is different and the count is the number of hashes;
3. else a second pass fetches the shared hashes, and the rows under them (the hashes sent
   to Spark as a small table it broadcasts) are counted exactly with ``DISTINCT``; every
   unshared hash adds one row. A table with repeated rows thus costs two hash passes,
   about what ``DISTINCT *`` cost.

Past :data:`MAX_SHARED` shared hashes (a table with many repeated rows) it counts all rows
with ``DISTINCT`` as before. Two rows are equal when every column is, nulls equal to nulls
and ``-0.0`` to ``0.0``, as ``DISTINCT`` has it (Spark's hash gives equal rows equal hashes,
also for ``-0.0`` and NaN). Every other engine runs :func:`sds.data.rows.distinct_rows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sds.data.rows import distinct_rows, row_hash64

if TYPE_CHECKING:
    import ibis.expr.types as ir

MAX_SHARED = 100_000
"""Shared row hashes up to which Spark counts only their rows exactly (a broadcast table of
that many 64-bit keys); past it, every row with ``DISTINCT``."""


def count_distinct_rows(engine: Any, t: ir.Table, *, source: str) -> int:
    """The number of distinct rows of `t` (every column; nulls equal to nulls).

    Args:
        engine: The :class:`~sds.data.engine.Engine` `t` is built on.
        t: The table.
        source: Name of the data in error messages.

    Returns:
        The exact count on every engine but DuckDB, where it is a distinct count of 64-bit
            row hashes (see :mod:`sds.data.rows`).
    """
    if not engine.is_spark:
        return int(engine.scalar(distinct_rows(t, engine.backend), source=source))
    return _spark_distinct_rows(engine, t, source)


def _spark_distinct_rows(engine: Any, t: ir.Table, source: str) -> int:
    import ibis

    key = _free_name(t, "__sds_row_hash")
    hashed = t.mutate(**{key: row_hash64(t, "spark")})
    groups = hashed.group_by(key).aggregate(n=hashed.count())
    counts = groups.aggregate(hashes=groups.count(), shared=(groups.n > 1).sum())
    row = engine.execute(counts, source=source).iloc[0]
    hashes, shared = int(row["hashes"]), int(row["shared"] or 0)
    if shared == 0:
        return hashes
    if shared > MAX_SHARED:
        return int(engine.scalar(t.distinct().count(), source=source))
    repeated = engine.to_pyarrow(groups.filter(groups.n > 1).select(key), source=source)
    among = hashed.semi_join(ibis.memtable(repeated), key).drop(key).distinct().count()
    return hashes - shared + int(engine.scalar(among, source=source))


def _free_name(t: ir.Table, name: str) -> str:
    """`name`, with underscores added until no column of `t` has it."""
    while name in t.columns:
        name += "_"
    return name
