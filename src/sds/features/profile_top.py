"""Each column's most frequent values, counted in the engine.

A column's top values are one ``GROUP BY`` of its non-null values, ordered by count (most
first) then value, and cut at ``k``. On Spark every column's query joins one UNION ALL (one
Spark job instead of one a column: each job's fixed cost, 0.2 to 1 s, came once per
column); the union carries each column's values in a column of their own type (the others
null), so values, counts and their order are what each query alone gives. Other engines
run one query a column, each shown on the progress bar under its column's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from sds.data.io import Table
    from sds.progress import Steps

TopValues = list[dict[str, Any]]


def top_steps(table: Table, n_columns: int) -> int:
    """How many progress steps :func:`top_values` counts for `n_columns` columns."""
    return 1 if table.engine.is_spark else n_columns


def top_values(
    table: Table,
    names: Sequence[str],
    wanted: Callable[[str], bool],
    n_rows: int,
    k: int,
    steps: Steps,
) -> dict[str, TopValues]:
    """The `k` most frequent non-null values of each of `names` that is `wanted`.

    Args:
        table: The profiled table.
        names: Every profiled column, in order (each counts a progress step, except on
            Spark, where one step counts them all).
        wanted: Whether a column gets top values (not for mostly unique or all-null ones).
        n_rows: The table's rows, the denominator of each value's share.
        k: How many values a column keeps at most.
        steps: The profile's progress steps.

    Returns:
        For each wanted column, its values (most frequent first, ties by value) with their
            count and share of rows.
    """
    if table.engine.is_spark:
        steps.show("top values")
        chosen = [name for name in names if wanted(name)]
        found = _together(table, chosen, k) if chosen else {}
        steps("top values")
        return {name: _listed(frame, n_rows) for name, frame in found.items()}
    out = {}
    for name in names:
        steps.show(f"{name}: top values")
        if wanted(name):
            out[name] = _listed(
                table.engine.execute(_query(table.expr, name, k), source=table.name), n_rows
            )
        steps(f"{name}: top values")
    return out


def _query(t: ir.Table, name: str, k: int) -> ir.Table:
    import ibis

    f = t.filter(t[name].notnull())
    grouped = f.group_by(value=f[name]).aggregate(count=f.count())
    return grouped.order_by([ibis.desc("count"), "value"]).limit(k)


def _listed(frame: pd.DataFrame, n_rows: int) -> TopValues:
    return [
        {"value": _plain(v), "count": int(c), "row_share": int(c) / n_rows}
        for v, c in zip(frame["value"], frame["count"], strict=True)
    ]


def _plain(value: Any) -> Any:
    """The value, or None for a float NaN (a missing value the engine let through)."""
    if isinstance(value, float) and value != value:
        return None
    return value


def _together(table: Table, names: list[str], k: int) -> dict[str, pd.DataFrame]:
    """Each column's top-value frame (``value``, ``count``), from one UNION ALL query: part
    ``i`` holds its values in column ``v{i}``, the other value columns null, and the
    union is ordered by part, count and value, as each part alone was."""
    import ibis
    import pyarrow as pa
    import pyarrow.compute as pc

    t = table.expr
    slots = {f"v{i}": t.schema()[name] for i, name in enumerate(names)}
    parts = []
    for i, name in enumerate(names):
        part = _query(t, name, k)
        values = {s: part.value if s == f"v{i}" else ibis.null(dtype) for s, dtype in slots.items()}
        parts.append(part.select(part=ibis.literal(i, "int64"), count=part["count"], **values))
    ordered = ibis.union(*parts).order_by(["part", ibis.desc("count"), *slots])
    found = table.engine.to_pyarrow(ordered, source=table.name)
    out = {}
    for i, name in enumerate(names):
        rows = found.filter(pc.equal(found["part"], i))
        frame = pa.table({"value": rows[f"v{i}"], "count": rows["count"]})
        out[name] = frame.to_pandas()
    return out
