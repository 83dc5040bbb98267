"""``sds monitor``: input and output drift, latency and errors, against a reference."""

from __future__ import annotations

from typing import Annotated

import typer

from sds.cli.common import (
    EncodingOpt,
    FormatOpt,
    OutputOpt,
    TableOpt,
    emit,
    resolve_format,
    split_list,
)
from sds.data.io import open_table
from sds.params import check


def command(
    reference: Annotated[
        str, typer.Option(help="Reference data (training rows): file, glob or SQL.")
    ],
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="Current data: a request log folder (sds serve --log-dir), a file, glob or SQL.",
        ),
    ],
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    features: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated features (default: every shared column, except text "
            "columns that look like identifiers or free text: distinct values in more than "
            "half of the reference's non-null rows and more than 1,000; those are listed "
            "as skipped, and compared when named here)."
        ),
    ] = None,
    bins: Annotated[int, typer.Option(help="Quantile bins for numbers.")] = 10,
    psi_warn: Annotated[float, typer.Option(help="PSI at which a feature warns.")] = 0.1,
    psi_alert: Annotated[
        float, typer.Option(help="PSI at which a feature alerts (at least --psi-warn).")
    ] = 0.2,
    fail_on_alert: Annotated[
        bool, typer.Option("--fail-on-alert", help="Exit 1 when a feature is in alert.")
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """PSI and KS per numeric feature, PSI, chi-square and Jensen-Shannon per category,
    output drift, and P50/P95/P99 latency and error rate from a request log. From a log,
    only answered requests are compared; refused, failed and disconnected ones are counted."""
    import sys
    from pathlib import Path

    from sds.monitoring.report import monitor

    resolve_format(fmt, output)
    check("bins", bins)
    if Path(data).is_dir():
        data = str(Path(data) / "*.parquet")
    result = monitor(
        reference,
        open_table(data, table=table, encoding=encoding),
        features=split_list(features) or None,
        bins=bins,
        psi_warn=psi_warn,
        psi_alert=psi_alert,
    )
    emit(result, fmt, output)
    for line in result.skipped_lines:  # also in the report; said here for a written file
        print(line, file=sys.stderr)
    if fail_on_alert and result.alerts:
        raise typer.Exit(1)
