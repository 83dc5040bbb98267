"""``sds srm``: sample-ratio mismatch from counts or from assignment data by day."""

from __future__ import annotations

from typing import Annotated

import typer

from sds.cli.common import FormatOpt, OutputOpt, split_list, split_numbers


def command(
    counts: Annotated[str | None, typer.Option(help="Units per arm, e.g. 50500,49500.")] = None,
    weights: Annotated[str | None, typer.Option(help="Designed split (sum 1 or 100).")] = None,
    variants: Annotated[str | None, typer.Option(help="Variant names, control first.")] = None,
    data: Annotated[str | None, typer.Option(help="Assignment data (file, glob or SQL).")] = None,
    variant_column: Annotated[str, typer.Option(help="Variant column in --data.")] = "variant",
    date_column: Annotated[
        str | None, typer.Option(help="Date/time column: test per day and cumulatively.")
    ] = None,
    threshold: Annotated[float, typer.Option(help="Flag when p is below this.")] = 0.001,
    share_tolerance: Annotated[
        float, typer.Option(help="Report (never flag) a relative share deviation above this.")
    ] = 0.01,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Check that arm sizes match the designed split (chi-square p; 1% share rule apart)."""
    from sds.cli.common import emit, resolve_format
    from sds.errors import ParameterError
    from sds.experiments.srm import srm_by_day, srm_test
    from sds.params import Interval, check

    resolve_format(fmt, output)
    shares = split_numbers(weights, "weights")
    names = split_list(variants) or None
    if (counts is None) == (data is None):
        raise ParameterError("give exactly one of --counts or --data", parameter="counts")
    if counts is not None:
        values = split_numbers(counts, "counts") or []
        for value in values:  # NaN, inf, negative or past 2**53: not a count of units
            check("counts", value, Interval(0, 2**53))
        if any(v != int(v) for v in values):
            raise ParameterError(f"counts == {counts!r}, must be whole numbers", parameter="counts")
        emit(
            srm_test([int(v) for v in values], shares, threshold, share_tolerance, names),
            fmt,
            output,
        )
        return
    if not names:
        raise ParameterError("with --data, give --variants too", parameter="variants")
    if not date_column:
        raise ParameterError("with --data, give --date-column too", parameter="date-column")
    from sds.data.io import open_table

    table = open_table(str(data))
    emit(
        srm_by_day(table, variant_column, date_column, names, shares, threshold, share_tolerance),
        fmt,
        output,
    )
