"""``sds srm``: sample-ratio mismatch from counts or from assignment data by day."""

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
    split_numbers,
)
from sds.errors import ParameterError
from sds.params import Interval, check, check_weights


def command(
    counts: Annotated[str | None, typer.Option(help="Units per arm, e.g. 50500,49500.")] = None,
    shares: Annotated[
        str | None, typer.Option(help="Designed arm shares, summing to 1 or 100 (default: equal).")
    ] = None,
    variants: Annotated[str | None, typer.Option(help="Arm names, control first.")] = None,
    data: Annotated[str | None, typer.Option(help="Assignment data (file, glob or SQL).")] = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    variant_column: Annotated[str, typer.Option(help="Variant column in --data.")] = "variant",
    date_column: Annotated[
        str | None, typer.Option(help="Date/time column: test per day and cumulatively.")
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="Significance level: flag a mismatch when p is below it.")
    ] = 0.001,
    share_tolerance: Annotated[
        float, typer.Option(help="Report (never flag) a relative share deviation above this.")
    ] = 0.01,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Check that arm sizes match the designed split (chi-square p; 1% share rule apart)."""
    from sds.experiments.srm import srm_by_day, srm_test  # scipy: loaded when a check runs

    resolve_format(fmt, output)
    check("alpha", alpha)
    check("share_tolerance", share_tolerance)
    split = split_numbers(shares, "shares")
    if split is not None:
        check_weights(split, "shares")
    names = split_list(variants) or None
    if (counts is None) == (data is None):
        raise ParameterError("give exactly one of --counts or --data", parameter="counts")
    if counts is not None:
        values = split_numbers(counts, "counts") or []
        for value in values:  # NaN, inf, negative or past 2**53: not a count of units
            check("counts", value, Interval(0, 2**53))
        if any(v != int(v) for v in values):
            raise ParameterError(f"counts == {counts!r}, must be whole numbers", parameter="counts")
        emit(srm_test([int(v) for v in values], split, alpha, share_tolerance, names), fmt, output)
        return
    if not names:
        raise ParameterError("with --data, give --variants too", parameter="variants")
    if not date_column:
        raise ParameterError("with --data, give --date-column too", parameter="date-column")

    from sds.data.io import open_table  # the engine: only for --data

    source = open_table(str(data), table=table, encoding=encoding)
    emit(
        srm_by_day(source, variant_column, date_column, names, split, alpha, share_tolerance),
        fmt,
        output,
    )
