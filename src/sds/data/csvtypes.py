"""Numbers written as ``inf``, ``-inf``, ``Infinity`` or ``NaN`` in a CSV stay numbers.

DuckDB's CSV sniffer types a column VARCHAR when such a value is in its first data row, so
a numeric column would turn into text: quality checks miss the infinite values and models
treat the column as a category. :func:`numbers_as_numbers` re-types those columns as
DOUBLE. It costs one small query on the first :data:`SAMPLE_ROWS` rows when the table has
text columns, and a scan of the suspected columns only when the sample holds such a value
and nothing but numbers; a file without text columns is not read at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.engine import Engine

SAMPLE_ROWS = 10_000
NON_FINITE = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan")


def numbers_as_numbers(expr: ir.Table, engine: Engine, source: str) -> ir.Table:
    """``expr`` with its text columns that hold only numbers, some non-finite, as DOUBLE."""
    if engine.is_spark:  # not handled on Spark yet (its local CSVs use the same sniffer)
        return expr
    text = [name for name, dtype in expr.schema().items() if dtype.is_string()]
    if not text:
        return expr
    suspects = _all_numbers(expr.limit(SAMPLE_ROWS), text, engine, source)
    if not suspects:
        return expr
    numeric = _all_numbers(expr, suspects, engine, source)
    return expr.mutate(**{c: expr[c].try_cast("float64") for c in numeric}) if numeric else expr


def _all_numbers(table: ir.Table, columns: list[str], engine: Engine, source: str) -> list[str]:
    """The columns whose non-null values all read as numbers, at least one non-finite."""
    aggregates = {}
    for i, name in enumerate(columns):
        col = table[name]
        aggregates[f"bad{i}"] = (col.notnull() & col.try_cast("float64").isnull()).sum()
        aggregates[f"odd{i}"] = col.strip().lower().isin(NON_FINITE).sum()
    row = engine.execute(table.aggregate(**aggregates), source=source).iloc[0]
    return [
        name
        for i, name in enumerate(columns)
        if _count(row[f"bad{i}"]) == 0 and _count(row[f"odd{i}"]) > 0
    ]


def _count(value: Any) -> int:
    """A SUM over no rows is NULL (NaN once in pandas): zero."""
    return 0 if value is None or value != value else int(value)
