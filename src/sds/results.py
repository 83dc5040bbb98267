"""Result records and the one path from ``to_dict()`` to every rendering.

A result is a frozen dataclass whose ``to_dict()`` is canonical. ``sections()`` lays that
dict out as key/value blocks, tables, notes and figures, reading nothing but ``to_dict()``;
the text (rich), Markdown and HTML renderers draw only those sections, and every value goes
through :func:`format_value`, so no two renderings can disagree. JSON is ``to_dict()`` itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Literal

Format = Literal["text", "json", "markdown", "html"]
FORMATS: tuple[str, ...] = ("text", "json", "markdown", "html")

_PERCENT_SUFFIXES = ("_share", "_rate", "_pct")


@dataclass(frozen=True)
class KeyValue:
    title: str
    items: list[tuple[str, Any]]


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Note:
    title: str
    lines: list[str]


@dataclass(frozen=True)
class Figure:
    """A plot drawn from data in ``to_dict()``; ``draw`` returns inline SVG markup."""

    title: str
    draw: Callable[[], str] = field(compare=False)


Section = KeyValue | Table | Note | Figure


_PERCENT_PREFIXES = ("rel_", "power", "alpha")


def is_percent_key(key: str) -> bool:
    """Field names drive units: shares, rates, relative effects, power and alpha print as %."""
    return key.endswith((*_PERCENT_SUFFIXES, "_relative")) or key.startswith(_PERCENT_PREFIXES)


def format_value(key: str, value: Any) -> str:
    """The single formatting rule for every rendering; field names drive units."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if is_percent_key(key):
            return f"{value:.2%}"
        if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-4):
            return f"{value:.4g}"
        if abs(value) >= 1e6:
            return f"{value:,.0f}"
        return f"{value:,.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(key, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(k, v)}" for k, v in value.items())
    return str(value)


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, non-finite floats to None, dates to ISO."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def jsonable_dict(value: dict[str, Any]) -> dict[str, Any]:
    """:func:`jsonable` for a mapping, typed as one."""
    out: dict[str, Any] = jsonable(value)
    return out


class Result:
    """Base of every result. Subclasses are frozen dataclasses implementing ``to_dict()``."""

    title: ClassVar[str] = "Result"

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def sections(self) -> list[Section]:
        """Default layout: scalars in one block, each list of records as a table."""
        return default_sections(self.to_dict())

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_text(self, width: int = 120) -> str:
        from sds.report.render import render_text

        return render_text(self.title, self.sections(), width=width)

    def to_markdown(self) -> str:
        from sds.report.render import render_markdown

        return render_markdown(self.title, self.sections())

    def to_html(self) -> str:
        from sds.report.render import render_html

        return render_html(self.title, self.sections())

    def summary(self) -> str:
        return self.to_text()

    def render(self, fmt: str) -> str:
        """The result in one of :data:`FORMATS`."""
        renderers: dict[str, Callable[[], str]] = {
            "text": self.to_text,
            "json": self.to_json,
            "markdown": self.to_markdown,
            "html": self.to_html,
        }
        if fmt not in renderers:
            from sds.params import OneOf, check

            check("format", fmt, OneOf(FORMATS))
        return renderers[fmt]()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


def default_sections(data: dict[str, Any], title: str = "Summary") -> list[Section]:
    """Scalars and short lists go in one key/value block; lists of records become tables."""
    items: list[tuple[str, Any]] = []
    tables: list[Section] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(records_table(key.replace("_", " ").capitalize(), value))
        elif isinstance(value, dict):
            tables.extend(default_sections(value, title=key.replace("_", " ").capitalize()))
        else:
            items.append((key, value))
    return ([KeyValue(title, items)] if items else []) + tables


def records_table(
    title: str, records: Sequence[dict[str, Any]], keys: list[str] | None = None
) -> Table:
    """A table of records; columns are ``keys`` or the union of the records' keys in order."""
    if keys is None:
        keys = []
        for rec in records:
            keys.extend(k for k in rec if k not in keys)
    return Table(title, keys, [[rec.get(k) for k in keys] for rec in records])
