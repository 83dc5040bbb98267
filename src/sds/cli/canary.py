"""``sds canary report LOG``: promote, keep waiting or roll back the challenger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sds.cli.common import FormatOpt, OutputOpt, emit, resolve_format
from sds.errors import ParameterError

app = typer.Typer(
    help="Canary releases: compare challenger and champion from the request log.",
    no_args_is_help=True,
)


@app.command("report")
def report_command(
    log: Annotated[
        Path | None, typer.Argument(help="Request log folder (sds serve --log-dir).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="The request log, as LOG (a folder or Parquet file).")
    ] = None,
    min_requests: Annotated[int, typer.Option(help="Requests per variant before a call.")] = 1_000,
    alpha: Annotated[float, typer.Option(help="Level of the error-rate test.")] = 0.05,
    latency_ratio_max: Annotated[
        float, typer.Option(help="Largest P95 latency ratio (challenger / champion).")
    ] = 1.5,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Error rate, latency and predictions of the two variants, and the call; exit 1 when
    the call is to roll back."""
    from sds.monitoring.canary import canary_report  # scipy: loaded when a report is made

    resolve_format(fmt, output)
    if (log is None) == (data is None):
        raise ParameterError("give the request log once, as LOG or --data", parameter="data")
    path = log or data
    assert path is not None
    source = str(path / "*.parquet") if path.is_dir() else str(path)
    result = canary_report(
        source, alpha=alpha, min_requests=min_requests, latency_ratio_max=latency_ratio_max
    )
    emit(result, fmt, output)
    if result.decision == "roll back":
        raise typer.Exit(1)
