"""One error hierarchy for the whole toolkit.

Every error carries fields (what was wrong, where, what is expected, how to fix it) and
builds its message from them in ``__str__``, so the CLI can print it and the server can turn
the same fields into a JSON body. ``exit_code`` tells the CLI how to exit: 2 for bad input
or usage, 1 for an analysis that ran and failed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class SdsError(Exception):
    """Base of every error sds raises on purpose."""

    exit_code: int = 1

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        column: str | None = None,
        parameter: str | None = None,
        found: Any = None,
        expected: str | None = None,
        hint: str | None = None,
        mentions: Iterable[str] = (),
    ) -> None:
        self.problem = problem
        # other parameters the problem or hint names by their Python name: the CLI renames
        # them to the options of the command that ran (``mde`` -> ``--mde``)
        self.mentions = tuple(mentions)
        self.source = source
        self.column = column
        self.parameter = parameter
        self.found = found
        self.expected = expected
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.column:
            where.append(f"column {self.column!r}")
        if self.parameter:
            where.append(f"parameter {self.parameter!r}")
        text = f"{': '.join(where)}: {self.problem}" if where else self.problem
        if self.found is not None:
            text += f"; found {self.found}"
        if self.expected:
            text += f"; expected {self.expected}"
        text += "."
        if self.hint:
            text += f" {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Fields for a JSON error body; `message` is the rendered text.

        Returns:
            `error` (the class name), `message`, `problem` and whichever of `source`,
                `column`, `parameter`, `found` (as text), `expected` and `hint` are set.
        """
        fields = {
            "error": type(self).__name__,
            "message": str(self),
            "problem": self.problem,
            "source": self.source,
            "column": self.column,
            "parameter": self.parameter,
            "found": None if self.found is None else str(self.found),
            "expected": self.expected,
            "hint": self.hint,
        }
        return {k: v for k, v in fields.items() if v is not None}


class InputError(SdsError, ValueError):
    """The input (file, column, parameter, config) is wrong; the user must change it."""

    exit_code = 2


class DataError(InputError):
    """A data source cannot be read or its contents cannot be used as asked."""


class ParameterError(InputError):
    """A parameter is outside its allowed values."""


class ConfigError(InputError):
    """A configuration file is missing, unreadable or invalid."""


class AnalysisError(SdsError, RuntimeError):
    """The input was acceptable but the analysis could not produce a sound answer."""

    exit_code = 1


def close_matches(name: str, options: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` options that look like ``name`` (case-insensitive), best first."""
    options = list(options)
    lowered = {o.lower(): o for o in options}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def missing_column_error(name: str, available: Iterable[str], source: str) -> DataError:
    """The one message shape for a column that is not in a table."""
    available = list(available)
    matches = close_matches(name, available)
    hint = f"Did you mean {', '.join(repr(m) for m in matches)}?" if matches else None
    shown = ", ".join(available[:20]) + (" ..." if len(available) > 20 else "")
    return DataError(
        "no such column",
        source=source,
        column=name,
        expected=f"one of: {shown}",
        hint=hint,
    )
