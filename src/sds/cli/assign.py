"""``sds assign``: deterministic hash-based assignment of units to variants."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sds.cli.common import FormatOpt, split_list, split_numbers


def command(
    experiment: Annotated[str, typer.Option(help="Experiment name (salts the hash).")],
    variants: Annotated[str, typer.Option(help="Comma-separated variant names, control first.")],
    weights: Annotated[
        str | None,
        typer.Option(help="Comma-separated weights summing to 1 or 100 (default: equal)."),
    ] = None,
    data: Annotated[str | None, typer.Option(help="Units to assign (file, glob or SQL).")] = None,
    id_column: Annotated[str, typer.Option(help="Unit id column in --data.")] = "user_id",
    ids: Annotated[
        str | None, typer.Option(help="Comma-separated ids, for a quick lookup.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the assignment table (.csv or .parquet)."),
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Assign units by sha256(experiment:id): stable everywhere, independent across experiments."""
    from sds.cli.common import emit, resolve_format
    from sds.errors import ParameterError
    from sds.experiments.assign import assign, summarize

    chosen = resolve_format(fmt, None)
    names = split_list(variants)
    shares = split_numbers(weights, "weights")
    if (data is None) == (ids is None):
        raise ParameterError("give exactly one of --data or --ids", parameter="data")
    if ids is not None:
        id_list = split_list(ids)
        if not id_list:
            raise ParameterError("--ids is empty, must list ids (a,b,c)", parameter="ids")
        for uid, variant in zip(id_list, assign(id_list, experiment, names, shares), strict=True):
            print(f"{uid}\t{variant}")
        return
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise ParameterError(
            f"output == {str(output)!r}, must end in .csv or .parquet", parameter="output"
        )
    counts = _assign_data(str(data), id_column, experiment, names, shares, output)
    emit(
        summarize(experiment, names, shares, counts, str(output) if output else None), chosen, None
    )


def _assign_data(
    data: str,
    id_column: str,
    experiment: str,
    names: list[str],
    shares: list[float] | None,
    output: Path | None,
) -> dict[str, int]:
    """Assign in the engine; write the table if asked; return counts per variant."""
    from sds.data.io import open_table
    from sds.experiments.assign import assign_table

    table = open_table(data)
    expr = assign_table(table, id_column, experiment, names, shares)
    if output is not None:
        table.engine.write(expr, output, source=table.name)
    counts = table.engine.execute(
        expr.group_by("variant").aggregate(n=expr.count()), source=table.name
    )
    return {str(v): int(n) for v, n in zip(counts["variant"], counts["n"], strict=True)}
