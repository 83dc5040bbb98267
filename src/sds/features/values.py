"""Checks of the event columns a feature spec sums, averages or spreads, before the query.

``sum``, ``mean`` and ``std`` (and the RFM ``monetary`` value) need numbers. A text column
(a CSV column with a word in it) is refused with the column, its type and an example; a
text column with no values at all (DuckDB reads an empty CSV column as VARCHAR) is used as
numbers, with a warning; numbers that are infinite or too large to square (1e307) are
refused, since their sums and deviations would overflow in the engine. One small aggregate
query, and one more only to show an offending value.

A Spark file written at one cutoff needs no query of its own for the floating columns
(:func:`deferrable`): the feature query flags each entity with such a value
(:func:`unusable_flag`), Spark counts the flags while it writes, and only when one is set
does :func:`check_values` run, to raise its message before the file takes its place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sds.data.finite import (
    MAX_MAGNITUDE,
    engine_count,
    unusable_aggregates,
    unusable_error,
    unusable_from_row,
)
from sds.errors import DataError
from sds.features.spec import FeatureSpec

if TYPE_CHECKING:
    from sds.data.io import Table

NUMERIC_FUNCTIONS = ("sum", "mean", "std")


def numeric_columns(spec: FeatureSpec) -> dict[str, list[str]]:
    """Each event column that must hold numbers, and what needs them."""
    out: dict[str, list[str]] = {}
    for agg in spec.aggregations:
        needs = [f for f in agg.functions if f in NUMERIC_FUNCTIONS]
        if needs:
            out.setdefault(agg.column, []).extend(needs)
    if spec.rfm is not None and spec.rfm.monetary:
        out.setdefault(spec.rfm.monetary, []).append("rfm monetary")
    return out


def check_values(spec: FeatureSpec, events: Table, warnings: list[str]) -> list[str]:
    """The text columns to read as numbers (no values, or only numbers); raises a
    DataError for text that is not numbers, other types, and infinite or huge values."""
    needs = numeric_columns(spec)
    text, floats = _kinds(events, needs)
    if not (text or floats):
        return []
    row = events.engine.execute(
        events.expr.aggregate(**_aggregates(events, text, floats)), source=events.name
    ).iloc[0]
    bad = unusable_from_row(row, floats)
    if bad:
        raise unusable_error(bad, events.name)
    for i, c in enumerate(text):
        wrong = engine_count(row[f"bad{i}"])
        if wrong:
            found = f"{wrong:,} value(s) that are not numbers, e.g. {_example(events, c)!r}"
            raise _not_numbers(c, needs[c], str(events.expr.schema()[c]), found, events.name)
        if not engine_count(row[f"filled{i}"]):
            warnings.append(
                f"column {c!r} has no values at all (read as text, used as numbers): its "
                "sums are 0 and its means and deviations missing"
            )
    return text


UNUSABLE_FLAG = "__sds_unusable"
"""The hidden column the feature query adds for :func:`deferrable`'s columns."""


def deferrable(spec: FeatureSpec, events: Table) -> list[str] | None:
    """The floating columns whose check can wait for the feature query's flag
    (:func:`unusable_flag`), after the checks of types that need no query (raised here, as
    :func:`check_values` raises them); None when text columns need the query first."""
    text, floats = _kinds(events, numeric_columns(spec))
    return None if text else floats


def unusable_flag(t: Any, floats: list[str]) -> Any:
    """An aggregate: whether a group has a value :func:`check_values` refuses (infinite,
    NaN, or beyond MAX_MAGNITUDE) in one of ``floats``."""
    import functools

    odd = [(v.isinf() | v.isnan() | (v.abs() > MAX_MAGNITUDE)) for v in _floats(t, floats)]
    return functools.reduce(lambda a, b: a | b, odd).any()


def _floats(t: Any, columns: list[str]) -> list[Any]:
    return [t[c].cast("float64") for c in columns]


def _kinds(events: Table, needs: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """The text and the floating columns among ``needs``; a DataError for other types."""
    schema = events.expr.schema()
    for c in needs:
        dtype = schema[c]
        if not (dtype.is_string() or dtype.is_numeric() or dtype.is_boolean()):
            raise _not_numbers(c, needs[c], str(dtype), "", events.name)
    text = [c for c in needs if schema[c].is_string()]
    return text, [c for c in needs if schema[c].is_floating()]


def _aggregates(events: Table, text: list[str], floats: list[str]) -> dict[str, Any]:
    t = events.expr
    aggs: dict[str, Any] = {}
    for i, c in enumerate(text):
        aggs[f"filled{i}"] = t[c].notnull().sum()
        aggs[f"bad{i}"] = (t[c].notnull() & t[c].try_cast("float64").isnull()).sum()
    aggs.update(unusable_aggregates(t, floats))
    return aggs


def _example(events: Table, column: str) -> Any:
    t = events.expr
    bad = t.filter(t[column].notnull() & t[column].try_cast("float64").isnull())
    frame = events.engine.execute(bad.select(column).limit(1), source=events.name)
    return frame.iloc[0, 0] if len(frame) else None


def _not_numbers(column: str, needs: list[str], dtype: str, found: str, source: str) -> DataError:
    return DataError(
        f"{', '.join(dict.fromkeys(needs))} need(s) a numeric column",
        source=source,
        column=column,
        found=f"type {dtype}" + (f" with {found}" if found else ""),
        expected="numbers (integer or floating point)",
        hint="Fix or filter the rows that are not numbers (or cast the column in a SQL "
        "query); or keep only count, nunique, min, max and last for this column.",
    )
