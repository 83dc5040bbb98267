"""What every command shares: the output options and how a result is emitted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sds.errors import ParameterError
from sds.params import OneOf, check
from sds.report.files import format_for_path, write_atomic

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
DataOpt = Annotated[
    str, typer.Option("--data", help="The table to read: a file, glob, DuckDB file or SQL query.")
]
TableOpt = Annotated[
    str | None, typer.Option("--table", help="Table name inside a DuckDB file given as --data.")
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="CSV encoding of --data, e.g. latin-1.")
]
# a string, not a Path: pathlib folds a URI's "//" (s3a://bucket becomes s3a:/bucket)
DataOutputOpt = Annotated[
    str | None,
    typer.Option(
        "--data-output",
        help="Write the data product here (.csv or .parquet; a URI with --engine spark).",
    ),
]


def resolve_format(fmt: str | None, output: Path | None) -> str:
    from sds.results import FORMATS

    chosen = fmt or (format_for_path(output, default="") if output else "text")
    if not chosen and output is not None and output.suffix:  # e.g. report.xlsx
        raise ParameterError(
            f"output == {str(output)!r}: cannot tell the format from {output.suffix!r}",
            parameter="output",
            expected="a name ending in .txt, .json, .md or .html",
            hint="Or give --format text|json|markdown|html.",
        )
    chosen = chosen or "text"
    check("format", chosen, OneOf(FORMATS))
    if output is not None:
        check_output_path(output)
    return chosen


def check_output_path(output: Path) -> None:
    """Refuse, before any work, an output that is a folder or lies under a file."""

    if output.is_dir():
        raise ParameterError(f"output == {str(output)!r} is a folder, must be a file name")
    parent = output.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ParameterError(
            f"output == {str(output)!r}, cannot be written: {str(parent)!r} is not a folder",
            parameter="output",
        )


def emit(result: Result, fmt: str | None, output: Path | None) -> None:
    """Render fully first, then write atomically (or print), so failures write nothing."""

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

    from sds.data.io import is_sql  # the engine: loaded by the commands that read data

    if path is None or Path(path).is_absolute() or is_sql(path):  # a query stays a query
        return path
    relative = spec_file.parent / path
    return str(relative) if relative.exists() or "*" in path else path


_UNITS = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def check_memory(text: str) -> str:
    """``text`` if it is a memory size both engines read (``2GB``, ``512MiB``, ``1.5G``) of
    at least 16 MB, else a ParameterError naming ``--memory-limit``."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT])(i?B)?\s*", text, re.IGNORECASE)
    if match is None or float(match.group(1)) * _UNITS[match.group(2).upper()] < 16e6:
        raise ParameterError(
            f"memory_limit == {text!r}, must be a size of at least 16MB",
            parameter="memory-limit",
            expected="a number with KB, MB, GB or TB (or KiB, MiB, GiB, TiB), e.g. 2GB",
        )
    return text
