"""Column kinds and the checks that a column has the kind a computation needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sds.errors import DataError, ParameterError

if TYPE_CHECKING:
    from sds.data.io import Table

KINDS = ("numeric", "integer", "float", "boolean", "string", "temporal", "other")


def kind_of(dtype: Any) -> str:
    """The coarse kind of an Ibis data type (``numeric`` is never returned: it is a family)."""
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_floating() or dtype.is_decimal():
        return "float"
    if dtype.is_string():
        return "string"
    if dtype.is_timestamp() or dtype.is_date():
        return "temporal"
    return "other"


def matches(kind: str, expected: str) -> bool:
    return kind == expected or (expected == "numeric" and kind in ("integer", "float"))


def require_kind(table: Table, column: str, expected: str) -> None:
    """Raise a DataError naming the column, its kind and a few offending values."""
    if expected not in KINDS:
        raise ParameterError(
            f"kind == {expected!r}, must be one of {', '.join(KINDS)}", parameter="kind"
        )
    table.require(column)
    kind = kind_of(table.expr.schema()[column])
    if matches(kind, expected):
        return
    examples = _offending_examples(table, column, expected) if kind == "string" else []
    dtype = str(table.expr.schema()[column])
    found = kind if dtype == kind else f"{kind} ({dtype})"
    if examples:
        found += "; values such as " + ", ".join(repr(v) for v in examples)
    raise DataError(
        "column has the wrong type",
        source=table.name,
        column=column,
        found=found,
        expected=expected,
        hint="Clean or convert the column, or choose another one.",
    )


def _offending_examples(table: Table, column: str, expected: str) -> list[Any]:
    """Up to three values of a text column that do not convert to ``expected``."""
    target = {
        "numeric": "float64",
        "integer": "int64",
        "float": "float64",
        "boolean": "boolean",
        "temporal": "timestamp",
    }.get(expected)
    if target is None:
        return []
    col = table.expr[column]
    bad = table.expr.filter(col.notnull() & col.try_cast(target).isnull()).select(column).limit(3)
    return list(table.engine.execute(bad, source=table.name)[column])


def parse_expectations(items: list[str]) -> dict[str, str]:
    """``["revenue=numeric", "ts=temporal"]`` to a mapping, with one error shape."""
    out: dict[str, str] = {}
    for item in items:
        column, sep, kind = item.partition("=")
        if not sep or not column or kind not in KINDS:
            raise ParameterError(
                f"expect == {item!r}, must be COLUMN=KIND with KIND one of {', '.join(KINDS)}",
                parameter="expect",
            )
        out[column] = kind
    return out
