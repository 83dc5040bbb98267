"""A result's sections as terminal text (rich, no colour codes), fitted to the width.

The width is the terminal's (``COLUMNS``, else the size of the terminal on stdout), or
:data:`DEFAULT_WIDTH` when there is none (a pipe, a file). A number is never split across
lines: every column is at least as wide as the longest number-like word in it (``0.09860``,
``-1.2e-05``, ``12.5%``, ``2024-03-01``, ``p=0.031``) and text columns give up the rest,
wrapping at spaces. When even that does not fit, a table is drawn one row at a time as
key/value blocks. A title is never wrapped: a table is drawn at least as wide as its title.
Figures are not drawn: one line at the end counts them and says how to write the HTML report
that holds them.
"""

from __future__ import annotations

import io
import re
import shutil
from typing import Any

from sds.report.sections import Figure, KeyValue, Note, Section, Table, format_value

DEFAULT_WIDTH = 100
"""Columns of text when the output is not a terminal and ``COLUMNS`` is not set."""
MIN_WIDTH = 40
"""Narrower terminals are drawn at this width (the lines then wrap in the terminal)."""
_SHORTEST_TEXT = 10  # a text column is not squeezed below this (or its own width)

_NUMBER = re.compile(
    r"(?:[A-Za-z_][\w.]*[=:<>])?"  # an optional name: p=0.03, n:120
    r"(?:[-+<>≈~]?[$€£]?[\d.,]*\d(?:[eE][-+]?\d+)?%?"  # 1,234.5  -1.2e-05  12.5%
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)"  # a date or timestamp
)
_EDGES = "()[]{},;\"'"
PLOTS_HINT = "add -o report.html (Python: to_html())"
"""How to get the figures, when the result does not say (see :func:`render_text`)."""


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` first), :data:`DEFAULT_WIDTH` without one."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _longest_line(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _longest_number(text: str) -> int:
    """The longest whitespace-separated word of ``text`` that is a number (or a date)."""
    words = (word.strip(_EDGES) for word in text.split())
    return max((len(w) for w in words if w and _NUMBER.fullmatch(w)), default=0)


def fit_widths(natural: list[int], floor: list[int], room: int) -> list[int] | None:
    """Column widths that sum to at most ``room``, each at least its ``floor``: the widest
    columns give up one character at a time. None when the floors alone do not fit."""
    widths = [max(n, f) for n, f in zip(natural, floor, strict=True)]
    if sum(floor) > room:
        return None
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: (widths[i] > floor[i], widths[i]))
        widths[widest] -= 1
    return widths


def _widths(header: list[str] | None, rows: list[list[str]], width: int) -> list[int] | None:
    count = len(header) if header is not None else len(rows[0]) if rows else 0
    columns = [[row[i] for row in rows] for i in range(count)]
    natural = [max(map(_longest_line, cells), default=1) for cells in columns]
    if header is not None:
        natural = [max(n, _longest_line(h)) for n, h in zip(natural, header, strict=True)]
    floor = [
        max(min(n, _SHORTEST_TEXT), *(_longest_number(c) for c in cells), 1)
        for n, cells in zip(natural, columns, strict=True)
    ]
    room = width - (3 * count + 1)  # borders and padding
    if header is not None:  # headers whole too, when that still fits
        words = [max((len(w) for w in h.split()), default=0) for h in header]
        whole = fit_widths(natural, [max(f, w) for f, w in zip(floor, words, strict=True)], room)
        if whole is not None:
            return whole
    return fit_widths(natural, floor, room)


def _grid(title: str, header: list[str] | None, rows: list[list[str]], width: int) -> Any | None:
    """A rich table with fitted column widths, or None when it cannot fit ``width``."""
    from rich.table import Table as RichTable
    from rich.text import Text

    widths = _widths(header, rows, width)
    if widths is None:
        return None
    table = RichTable(
        title=title,
        title_justify="left",
        show_header=header is not None,
        min_width=_title_room(title, width),
    )
    for i, w in enumerate(widths):
        name = header[i] if header is not None else ""
        style = "bold" if header is None and i == 0 else None
        table.add_column(name, width=w, overflow="fold", style=style)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # as written: no markup, no highlighting
    return table


def _title_room(title: str, width: int) -> int | None:
    """The width that keeps ``title`` on one line (when the page is that wide)."""
    from rich.cells import cell_len

    return min(cell_len(title), width)


def _key_values(title: str, items: list[list[str]], width: int) -> Any:
    from rich.table import Table as RichTable
    from rich.text import Text

    table = _grid(title, None, items, width)
    if table is None:  # not even a key and a number fit: let rich wrap what it can
        table = RichTable(
            title=title,
            title_justify="left",
            show_header=False,
            min_width=_title_room(title, width),
        )
        table.add_column("key", style="bold", overflow="fold")
        table.add_column("value", overflow="fold")
        for item in items:
            table.add_row(*(Text(cell) for cell in item))
    return table


def _tables(section: Table, width: int) -> list[Any]:
    """The table fitted to ``width``, else one key/value block per row."""
    rows = [
        [format_value(k, v) for k, v in zip(section.columns, row, strict=True)]
        for row in section.rows
    ]
    table = _grid(section.title, section.columns, rows, width)
    if table is not None:
        return [table]
    return [
        _key_values(
            f"{section.title} ({n} of {len(rows)})",
            [[k, v] for k, v in zip(section.columns, row, strict=True)],
            width,
        )
        for n, row in enumerate(rows, start=1)
    ]


def render_text(
    title: str, sections: list[Section], width: int | None = None, plots_hint: str | None = None
) -> str:
    """Plain terminal text drawn with rich (no colour codes), ``width`` columns wide (by
    default the terminal's, see :func:`terminal_width`). Figures are counted, not drawn: one
    closing line says how many are in the HTML report and ``plots_hint``, how to write it
    (by default :data:`PLOTS_HINT`)."""
    from rich.console import Console

    width = terminal_width() if width is None else width
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    console.print(title, style="bold")
    figures = sum(isinstance(section, Figure) for section in sections)
    for section in sections:
        if isinstance(section, KeyValue):
            items = [[key, format_value(key, value)] for key, value in section.items]
            console.print(_key_values(section.title, items, width))
        elif isinstance(section, Table):
            for table in _tables(section, width):
                console.print(table)
        elif isinstance(section, Note) and section.code:  # drawn as is, to be copied
            console.print(section.title, style="bold")
            console.print("\n".join(section.lines), highlight=False, markup=False, soft_wrap=True)
        elif isinstance(section, Note):
            console.print(section.title, style="bold")
            for line in section.lines:
                console.print(f"  - {line}", highlight=False, markup=False)
    if figures:
        plots = "1 plot is" if figures == 1 else f"{figures} plots are"
        line = f"{plots} in the HTML report: {plots_hint or PLOTS_HINT}"
        console.print(line, highlight=False, markup=False)
    return buffer.getvalue()
