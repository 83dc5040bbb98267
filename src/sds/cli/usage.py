"""One line for every error the command line reports.

Click and Typer print usage errors as a ``Usage:`` line plus a boxed message; ``sds``
prints every error, its own and theirs, as one ``error: ...`` line (exit 2 for bad usage),
so scripts can read it and a person sees what to change.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

# pydantic's error type (typer validates option values with it) -> what sds says
_TYPE_WORDS = {
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "int_parsing_size": "is too large a whole number",
    "bool_parsing": "is not true or false",
}


def click_errors() -> ModuleType:
    """The exceptions module of the click that typer runs on (its own copy since 0.2x)."""
    try:
        from typer._click import exceptions
    except ImportError:  # older typer: the click package
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def one_line(text: str) -> str:
    """``text`` with its lines joined, so an error never spans several lines."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def usage_message(exc: Exception) -> str:
    """The one-line text of a click usage error, e.g. ``--baseline: 'abc' is not a number.``"""
    errors = click_errors()
    missing = isinstance(exc, errors.MissingParameter)
    if isinstance(exc, errors.BadParameter) and not missing and exc.param is not None:
        return one_line(f"{_name(exc.param)}: {_bad_value(exc)}")
    if isinstance(exc, errors.MissingParameter) and exc.param is not None:
        text = f"missing {exc.param.param_type_name} {_name(exc.param)}."
    else:
        text = one_line(str(exc.format_message()))  # type: ignore[attr-defined]
    context = getattr(exc, "ctx", None)
    if context is not None:
        text += f" See '{context.command_path} --help'."
    return text


def _bad_value(exc: Any) -> str:
    """``'abc' is not a number.`` from the validation error behind ``exc``, else its text."""
    cause = exc.__cause__
    problems = cause.errors() if hasattr(cause, "errors") else []
    if problems and problems[0].get("type") in _TYPE_WORDS:
        first = problems[0]
        return f"{first.get('input')!r} {_TYPE_WORDS[first['type']]}."
    return str(exc.message).removeprefix("Value error, ")  # a choice: "'x' is not one of"


def _name(param: Any) -> str:
    """``--baseline`` for an option (its long name), ``SPEC`` for an argument."""
    if param.param_type_name == "option":
        longs = [o for o in param.opts if o.startswith("--")]
        return str((longs or param.opts)[0])
    return str(param.name).upper()
