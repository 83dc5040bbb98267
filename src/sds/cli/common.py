"""What every command shares: the output options and how a result is emitted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sds.results import Result

FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="text, json, markdown or html (default: from the --output extension, else text).",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write here (atomically) instead of stdout."),
]


def resolve_format(fmt: str | None, output: Path | None) -> str:
    from sds.params import OneOf, check
    from sds.report.files import format_for_path
    from sds.results import FORMATS

    chosen = fmt or (format_for_path(output) if output else "text")
    check("format", chosen, OneOf(FORMATS))
    return chosen


def emit(result: Result, fmt: str | None, output: Path | None) -> None:
    """Render fully first, then write atomically (or print), so failures write nothing."""
    from sds.report.files import write_atomic

    chosen = resolve_format(fmt, output)
    text = result.render(chosen)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    write_atomic(output, text)
    print(f"wrote {output}", file=sys.stderr)


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def split_numbers(value: str | None, name: str) -> list[float] | None:
    """``"50,50"`` to ``[50.0, 50.0]``; a non-number names the parameter (exit 2)."""
    if not value:
        return None
    from sds.errors import ParameterError

    out = []
    for text in split_list(value):
        try:
            out.append(float(text))
        except ValueError as exc:
            raise ParameterError(f"{name} == {text!r}, must be numbers", parameter=name) from exc
    return out


def beside(path: str | None, spec_file: Path) -> str | None:
    """A relative path written in a spec, read from the spec's folder when it is there
    (else as given, so a missing file is reported under the name the user wrote)."""
    if path is None or Path(path).is_absolute():
        return path
    relative = spec_file.parent / path
    return str(relative) if relative.exists() or "*" in path else path
