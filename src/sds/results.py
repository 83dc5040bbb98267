"""Result records and the one path from ``to_dict()`` to every rendering.

A result is a frozen dataclass whose ``to_dict()`` is canonical. ``sections()`` lays that
dict out as key/value blocks, tables, notes and figures, reading nothing but ``to_dict()``;
the text (rich), Markdown and HTML renderers draw only those sections, and every value goes
through :func:`format_value`, so no two renderings can disagree. JSON is ``to_dict()`` itself.

Results are deeply frozen and hashable, and the base class makes them so: every dataclass
subclass of :class:`Result` runs :func:`freeze_fields` after its ``__init__`` (its own
``__post_init__``, if it has one, is wrapped to do it after), which turns each field's lists
into :class:`FrozenList`, dicts into :class:`FrozenDict`, sets into ``frozenset``, tuples
into tuples of frozen values, numpy arrays into read-only views, and freezes nested dataclass
records the same way. So a new result or record type needs no code of its own to be frozen;
its fields only have to hold data (no DataFrames or open handles outside ``compare=False``
fields). The frozen containers are ``list``/``dict`` subclasses, so reading code, ``json``
and pandas treat them as the lists and dicts they were.

In notebooks ``_repr_html_`` is an HTML fragment (one ``div`` with styles scoped to it);
``to_html()`` is the standalone page. ``to_pandas()`` and ``to_polars()`` return the
``Table`` sections, so they show the same rows as every rendering.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NoReturn

from sds.errors import DataError, InputError
from sds.params import OneOf, check
from sds.report.render import (
    render_html,
    render_html_fragment,
    render_markdown,
)

# The layout is re-exported: it is part of every result's vocabulary.
from sds.report.sections import Figure as Figure
from sds.report.sections import KeyValue as KeyValue
from sds.report.sections import Note as Note
from sds.report.sections import Section as Section
from sds.report.sections import Table as Table
from sds.report.sections import format_value as format_value
from sds.report.text import render_text

Format = Literal["text", "json", "markdown", "html"]
FORMATS: tuple[str, ...] = ("text", "json", "markdown", "html")

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


def _refuse(obj: object) -> NoReturn:
    raise TypeError(
        f"{type(obj).__name__} cannot be changed: results are frozen; copy it first "
        "(list(...), dict(...)) to work on it"
    )


class FrozenList(list[Any]):
    """A list that cannot change once made; hashable when its items are."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))

    def __setitem__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def __delitem__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def __iadd__(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def __imul__(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def append(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def extend(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def insert(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def remove(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def pop(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def clear(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def reverse(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)


class FrozenDict(dict[Any, Any]):
    """A mapping that cannot change once made; hashable when its values are."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __setitem__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def __delitem__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def __ior__(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def setdefault(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def pop(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def popitem(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def clear(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)


_ATOMS = (str, bytes, int, float, complex, bool, type(None), date, datetime)

_FROZEN = (*_ATOMS, FrozenList, FrozenDict, frozenset)


def _freeze_items(values: Iterable[Any]) -> list[Any]:
    return [v if type(v) in _ATOMS else freeze(v) for v in values]


def freeze(value: Any) -> Any:
    """The deeply immutable form of ``value`` (see the module docstring for the rule)."""
    if isinstance(value, _FROZEN):
        return value
    if isinstance(value, dict):
        return FrozenDict(zip(value, _freeze_items(value.values()), strict=True))
    if isinstance(value, list):
        return FrozenList(_freeze_items(value))
    if isinstance(value, tuple):
        items = _freeze_items(value)
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, set):
        return frozenset(_freeze_items(value))
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        if not value.flags.writeable:
            return value
        view = value.view()
        view.flags.writeable = False
        return view
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        freeze_fields(value)
    return value


def freeze_fields(obj: Any) -> None:
    """Freeze every field of the dataclass instance ``obj`` in place."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        frozen = freeze(value)
        if frozen is not value:
            object.__setattr__(obj, f.name, frozen)


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


SUBJECT_KEYS = (
    "source",
    "data",
    "name",
    "model",
    "experiment",
    "formula",
    "value",
    "outcome",
    "target",
    "test",
    "metric",
    "method",
    "project",
    "store",
    "run_id",
)


class Result:
    """Base of every result. Subclasses are frozen dataclasses implementing ``to_dict()``.

    The base freezes every instance deeply after ``__init__`` (see the module docstring).
    """

    title: ClassVar[str] = "Result"
    # keys of to_dict() that repr shows first; then its first other plain values
    headline: ClassVar[tuple[str, ...]] = ()
    # keys of to_dict() that can name what the result is about, in order (the page title)
    subject_keys: ClassVar[tuple[str, ...]] = SUBJECT_KEYS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:  # else @dataclass writes one of every field
            type.__setattr__(cls, "__repr__", Result.__repr__)
        own = cls.__dict__.get("__post_init__")
        if own is None or getattr(own, "_sds_freezes", False):
            return

        @functools.wraps(own)
        def post_init(self: Result, *args: Any, **kw: Any) -> None:
            own(self, *args, **kw)
            freeze_fields(self)

        post_init._sds_freezes = True  # type: ignore[attr-defined]
        type.__setattr__(cls, "__post_init__", post_init)

    def __post_init__(self) -> None:
        freeze_fields(self)

    def to_dict(self) -> dict[str, Any]:
        """The canonical record of the result: plain JSON types, every rendering
        and `to_json` are read from it. Each result class writes its own.

        Returns:
            The result's fields by name; numbers are plain floats and ints, non-finite values
                `None`, dates ISO strings.

        Raises:
            NotImplementedError: On the base class itself.
        """
        raise NotImplementedError

    def sections(self) -> list[Section]:
        """Default layout: scalars in one block, each list of records as a table.

        Returns:
            The blocks (key/value blocks, tables, notes, figures) every renderer draws, in
                order; subclasses lay out their own.
        """
        return default_sections(self.to_dict())

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON, from `to_dict`.

        Args:
            indent: Spaces per nesting level; `None` writes one line.

        Returns:
            Strict JSON text (no NaN or Infinity: non-finite numbers are `null`).
        """
        return json.dumps(jsonable(self.to_dict()), indent=indent, allow_nan=False)

    def to_text(self, width: int | None = None) -> str:
        """Terminal text, `width` columns wide (default: the terminal's, else 100).

        Args:
            width: Line width in characters; `None` uses the terminal's width, else 100.

        Returns:
            The title and every section (of `text_sections()`) as plain text tables and
                blocks; figures are one closing line saying how to write the HTML report.
        """
        return render_text(
            self.title, self.text_sections(), width=width, plots_hint=self.plots_hint()
        )

    def text_sections(self) -> list[Section]:
        """The terminal's layout: `sections()` unless a result lays out a shorter one.

        Returns:
            The blocks `to_text` draws; its figures are counted in one closing line.
        """
        return self.sections()

    def plots_hint(self) -> str | None:
        """How to write the HTML report that holds the figures, for the terminal's closing
        line; `None` gives the generic advice.

        Returns:
            A command or call, or `None`.
        """
        return None

    def to_markdown(self) -> str:
        """The result as Markdown, for a report or a pull request.

        Returns:
            A `#` title and every section as Markdown tables and lists; each figure is a
                line pointing to the HTML report.
        """
        return render_markdown(self.title, self.sections())

    def to_html(self) -> str:
        """The result as a standalone HTML page.

        Returns:
            A complete HTML document with its own styles and the figures as inline SVG,
                titled by the report type and its `subject()`.
        """
        return render_html(self.title, self.sections(), subject=self.subject())

    def subject(self) -> str | None:
        """What the result is about, for the page title: its data source, name or model.

        Returns:
            The first text value of `to_dict()` under one of `subject_keys`; `None` if none.
        """
        data = self.to_dict()
        for key in self.subject_keys:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value
        return None

    def summary(self) -> str:
        """The result as terminal text, as `print(result)` shows it.

        Returns:
            The same text as `to_text()` at the default width.
        """
        return self.to_text()

    def render(self, fmt: str) -> str:
        """The result in one of the output formats.

        Args:
            fmt: `text`, `json`, `markdown` or `html` (as the CLI's `--format`).

        Returns:
            The rendered text, as `to_text`, `to_json`, `to_markdown` or `to_html` give it.

        Raises:
            ParameterError: `fmt` is not one of the four formats.
        """
        renderers: dict[str, Callable[[], str]] = {
            "text": self.to_text,
            "json": self.to_json,
            "markdown": self.to_markdown,
            "html": self.to_html,
        }
        if fmt not in renderers:
            check("format", fmt, OneOf(FORMATS))
        return renderers[fmt]()

    def _repr_html_(self) -> str:
        """A fragment for notebooks: no page, and styles that apply only inside it."""
        return render_html_fragment(self.title, self.sections())

    def to_pandas(self) -> pd.DataFrame | dict[str, pd.DataFrame]:
        """The result's tables as DataFrames: one table alone, else a dict by table title.

        Returns:
            A DataFrame when the result has one table, else a dict title -> DataFrame (a
                repeated title gets ` (2)`, ...); columns are the tables' columns.

        Raises:
            DataError: The result has no tables (its figures are in `to_dict()`).
        """
        import pandas as pd

        frames = {
            name: pd.DataFrame([list(row) for row in t.rows], columns=list(t.columns))
            for name, t in self.table_sections().items()
        }
        return next(iter(frames.values())) if len(frames) == 1 else frames

    def to_polars(self) -> pl.DataFrame | dict[str, pl.DataFrame]:
        """`to_pandas` for Polars (installed separately: `pip install polars`).

        Returns:
            A Polars DataFrame when the result has one table, else a dict title -> DataFrame.

        Raises:
            InputError: Polars is not installed.
            DataError: The result has no tables.
        """
        try:
            import polars as pl
        except ImportError:
            raise InputError(
                "to_polars() needs polars, which is not installed", hint="pip install polars"
            ) from None
        frames = {
            name: pl.DataFrame(
                [list(row) for row in t.rows],
                schema=list(t.columns),
                orient="row",
                strict=False,
                infer_schema_length=None,
            )
            for name, t in self.table_sections().items()
        }
        return next(iter(frames.values())) if len(frames) == 1 else frames

    def table_sections(self) -> dict[str, Table]:
        """The `Table` sections by title (repeated titles get ` (2)`, ...).

        Returns:
            Each table section of `sections()` by its title, in order.

        Raises:
            DataError: The result has no tables.
        """
        tables: dict[str, Table] = {}
        for section in self.sections():
            if isinstance(section, Table):
                name, k = section.title, 1
                while name in tables:
                    k += 1
                    name = f"{section.title} ({k})"
                tables[name] = section
        if not tables:
            raise DataError(
                "this result has no tables",
                source=self.title,
                hint="Its figures are in to_dict().",
            )
        return tables

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """One short line: the class, a few headline figures, and where the rest is."""
        try:
            data = self.to_dict()
            tables = any(isinstance(s, Table) for s in self.sections())
        except Exception:  # a repr must not fail; the base class has no record
            return f"<{type(self).__name__}>"
        where = "print() or .render(fmt) for the report" + (
            ", .to_pandas() for its tables" if tables else ", .to_dict() for its figures"
        )
        return f"<{' '.join([type(self).__name__, *headline(data, self.headline)])}; {where}>"


REPR_FIGURES = 4  # headline figures a repr shows
_REPR_CHARS = 32  # a text value longer than this is cut


def headline(data: dict[str, Any], first: Iterable[str] = ()) -> list[str]:
    """A few ``key=value`` figures of a result's record for its repr: the keys ``first``,
    then the other plain values, then the plain values of its mappings (``rows.current=``),
    up to :data:`REPR_FIGURES`; a record with none gives the sizes of its lists and mappings."""
    keys = [*(k for k in first if k in data), *(k for k in data if k not in first)]
    plain = [(k, data[k]) for k in keys if isinstance(data[k], str | int | float | bool)]
    nested = [
        (f"{k}.{sub}", v)
        for k in keys
        if isinstance(data[k], dict)
        for sub, v in data[k].items()
        if isinstance(v, str | int | float | bool)
    ]
    sized = [(k, len(data[k])) for k in keys if isinstance(data[k], list | dict)]
    return [f"{k}={_short(v)}" for k, v in [*plain, *nested][:REPR_FIGURES]] or [
        f"{k}=[{n} items]" for k, n in sized[:REPR_FIGURES]
    ]


def _short(value: Any) -> str:
    """A headline value for a repr: plain, short, never a numpy type's repr."""
    value = jsonable(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        cut = value if len(value) <= _REPR_CHARS else value[: _REPR_CHARS - 1] + "…"
        return repr(cut)
    return str(value)


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
