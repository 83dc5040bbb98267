"""``sds features ...``: point-in-time feature tables from a spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sds.cli.common import FormatOpt

app = typer.Typer(
    help="Point-in-time features: windows, RFM and calendar parts, computed in the engine.",
    no_args_is_help=True,
)


@app.command("build")
def build_command(
    spec: Annotated[Path, typer.Argument(help="Feature spec (YAML or JSON).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Feature table to write (Parquet).")
    ],
    data: Annotated[
        str | None, typer.Option(help="Events (file, glob or SQL); overrides the spec's 'data'.")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(help="Label table (entity, label time); overrides the spec's 'labels'."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the build summary here instead of stdout.")
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Build one row per entity and label time; each feature uses only earlier events."""
    from sds.cli.common import beside, emit, resolve_format
    from sds.config import read_mapping
    from sds.errors import ParameterError
    from sds.features.build import build
    from sds.features.spec import parse

    resolve_format(fmt, report)
    if output.suffix.lower() != ".parquet":
        raise ParameterError(
            f"--output == {str(output)!r}, the feature table is written as Parquet",
            parameter="output",
            hint="Name it e.g. features.parquet.",
        )
    parsed = parse(read_mapping(spec), source=str(spec))
    events = data if data is not None else beside(parsed.data, spec)
    label_source = labels if labels is not None else beside(parsed.labels, spec)
    result, _ = build(parsed, events, label_source, output=output)
    emit(result, fmt, report)
