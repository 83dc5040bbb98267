"""``sds analyze SPEC.yaml``: analyse an experiment described by a spec file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sds.cli.common import EncodingOpt, FormatOpt, OutputOpt, TableOpt, beside, emit, resolve_format
from sds.config import read_mapping


def command(
    spec: Annotated[Path, typer.Argument(help="Analysis spec (YAML or JSON).")],
    data: Annotated[
        str | None,
        typer.Option(help="Data to analyse (file, glob or SQL); overrides the spec's 'data'."),
    ] = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 on an invalid experiment (failed sample-ratio check) or an invalid "
            "analysis (a primary metric that could not be computed).",
        ),
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Effects with intervals, SRM and balance checks, and a verdict, for every metric
    (--data, --table and --encoding override the spec's keys)."""
    # scipy (through the metric kinds): loaded when an analysis runs, not for `sds --help`
    from sds.experiments.analysis.run import analyze
    from sds.experiments.analysis.spec import parse

    resolve_format(fmt, output)
    overrides = {k: v for k, v in {"table": table, "encoding": encoding}.items() if v}
    parsed = parse({**read_mapping(spec), **overrides}, source=str(spec))
    result = analyze(parsed, data if data is not None else beside(parsed.data, spec))
    emit(result, fmt, output)
    if strict and not result.valid:
        import sys

        print(f"verdict: {result.verdict}: {result.reasons[0]} (--strict)", file=sys.stderr)
        raise typer.Exit(1)
