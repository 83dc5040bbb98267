"""From a table to the arrays a test needs: column checks, auto-detection, pairing, grouping.

The table is opened through :mod:`sds.data.io` (any file, glob, DuckDB table or SQL); only
the columns a test names are read into memory. When the value or group column is not given,
it is detected from the schema and distinct counts, computed by the engine in one query:
the value is the one numeric column with more than two distinct values that is not an id
(integers, all distinct), the group the one column with exactly two distinct values. When
more than one column fits, the error lists the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sds.data.numeric import as_numeric, is_numeric_type
from sds.errors import DataError, missing_column_error

if TYPE_CHECKING:
    from sds.data.io import Table


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    numeric: bool
    integer: bool
    distinct: int


def describe_columns(table: Table) -> tuple[list[ColumnInfo], int]:
    """Type and distinct count of every column, in one engine query; also the row count."""
    expr = table.expr
    schema = expr.schema()
    aggs = {f"d{i}": expr[c].nunique() for i, c in enumerate(expr.columns)}
    aggs["rows"] = expr.count()
    row = table.engine.execute(expr.aggregate(**aggs), source=table.name).iloc[0]
    out = []
    for i, c in enumerate(expr.columns):
        dtype = schema[c]
        out.append(
            ColumnInfo(c, is_numeric_type(dtype), bool(dtype.is_integer()), int(row[f"d{i}"]))
        )
    return out, int(row["rows"])


def _listing(columns: list[ColumnInfo]) -> str:
    kinds = [
        f"{c.name} ({'numeric' if c.numeric else 'text'}, {c.distinct} distinct)" for c in columns
    ]
    return "; ".join(kinds)


def _candidates(columns: list[ColumnInfo]) -> str:
    if not columns:
        return "no column"
    return f"{len(columns)} candidates ({', '.join(c.name for c in columns)})"


def detect_value_group(
    table: Table, value: str | None, group: str | None, *, need_group: bool = True
) -> tuple[str, str | None]:
    """Fill in a missing value or group column, or explain why it cannot be done."""
    for name in (value, group):
        if name is not None:
            table.require(name)
    if value is not None and (group is not None or not need_group):
        return value, group
    columns, rows = describe_columns(table)
    if value is None:
        values = [
            c
            for c in columns
            if c.numeric
            and c.distinct > 2
            and c.name != group
            and not (c.integer and c.distinct == rows)
        ]
        if len(values) != 1:
            raise DataError(
                "cannot tell which column holds the values to test",
                source=table.name,
                found=f"{_candidates(values)} numeric; columns: {_listing(columns)}",
                hint="Name it with --value (and the groups with --group).",
            )
        value = values[0].name
    if group is None and need_group:
        groups = [c for c in columns if c.distinct == 2 and c.name != value]
        if len(groups) != 1:
            raise DataError(
                "cannot tell which column holds the two groups",
                source=table.name,
                found=f"{_candidates(groups)} with two levels; columns: {_listing(columns)}",
                hint="Name it with --group.",
            )
        group = groups[0].name
    return value, group


def load(table: Table, columns: list[str | None]) -> pd.DataFrame:
    """Read only the named columns (missing ones raise with close matches)."""
    wanted = list(dict.fromkeys(c for c in columns if c is not None))
    table.require(*wanted)
    return table.engine.execute(table.expr.select(wanted), source=table.name)


def numeric(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """The column as floats under the one numeric rule (:mod:`sds.data.numeric`): numbers
    and booleans (0/1); text, dates and infinities are refused with its one message."""
    return as_numeric(frame[column], column, source)


def split_groups(
    frame: pd.DataFrame, value: str, group: str, source: str, order: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Values per group level (sorted levels unless ``order`` is given); missing groups drop."""
    values = numeric(frame, value, source)
    labels = frame[group]
    keep = labels.notna().to_numpy()
    levels = order or sorted({str(v) for v in labels[keep]})
    text = labels.astype(str).to_numpy()
    out = {level: values[keep & (text == level)] for level in levels}
    for level, arr in out.items():
        if len(arr) == 0:
            raise DataError(
                f"group {level!r} has no rows", source=source, column=group, expected="a level"
            )
    return out


def paired_arrays(
    frame: pd.DataFrame, value: str, group: str, pair_id: str, source: str
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Long format (id, condition, value) to two aligned arrays; incomplete pairs drop."""
    levels = sorted({str(v) for v in frame[group].dropna()})
    if len(levels) != 2:
        raise DataError(
            "a paired test needs exactly two conditions",
            source=source,
            column=group,
            found=f"{len(levels)} level(s): {', '.join(levels[:10])}",
        )
    data = pd.DataFrame(
        {
            "id": frame[pair_id],
            "g": frame[group].astype(str),
            "v": numeric(frame, value, source),
        }
    )
    dupes = data.duplicated(["id", "g"])
    if dupes.any():
        example = data.loc[dupes, "id"].iloc[0]
        raise DataError(
            "a pair id appears more than once in a condition",
            source=source,
            column=pair_id,
            found=f"{int(dupes.sum())} duplicate(s), e.g. id {example!r}",
            hint="Aggregate to one row per id and condition first.",
        )
    wide = data.pivot(index="id", columns="g", values="v")
    complete = wide.dropna()
    return (
        complete[levels[0]].to_numpy(),
        complete[levels[1]].to_numpy(),
        levels,
        len(wide) - len(complete),
    )


def require_column(frame: pd.DataFrame, name: str, source: str) -> None:
    if name not in frame.columns:
        raise missing_column_error(name, frame.columns, source)


def crosstab(frame: pd.DataFrame, row: str, column: str) -> tuple[np.ndarray, list[Any], list[Any]]:
    """Counts of ``row`` by ``column`` levels (rows with a missing value drop)."""
    table = pd.crosstab(frame[row], frame[column])
    return table.to_numpy(dtype=float), list(table.index), list(table.columns)
