"""The layout every result is drawn from, and the one rule that formats a value.

A result's ``sections()`` are key/value blocks, tables, notes and figures; the renderers in
:mod:`sds.report.render` draw only these, and every value goes through :func:`format_value`.
They live here, below both :mod:`sds.results` and the renderers, so neither imports the other
in a circle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    """Lines of text; ``code``: one preformatted block (e.g. YAML to copy), drawn as is."""

    title: str
    lines: list[str]
    code: bool = False


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
