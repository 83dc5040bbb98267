"""``sds assign``: deterministic hash-based assignment of units to variants."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from sds.cli.common import (
    DataOutputOpt,
    EncodingOpt,
    FormatOpt,
    OutputOpt,
    TableOpt,
    emit,
    resolve_format,
    split_list,
    split_numbers,
)
from sds.data.engine import Engine
from sds.data.io import open_table
from sds.errors import ParameterError
from sds.params import check_weights


def command(
    experiment: Annotated[str, typer.Option(help="Experiment name (salts the hash).")],
    variants: Annotated[str, typer.Option(help="Comma-separated arm names, control first.")],
    shares: Annotated[
        str | None,
        typer.Option(help="Comma-separated arm shares summing to 1 or 100 (default: equal)."),
    ] = None,
    data: Annotated[str | None, typer.Option(help="Units to assign (file, glob or SQL).")] = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    id_column: Annotated[str, typer.Option(help="Unit id column in --data.")] = "user_id",
    ids: Annotated[
        str | None, typer.Option(help="Comma-separated ids, for a quick lookup.")
    ] = None,
    data_output: DataOutputOpt = None,
    write_table: Annotated[
        str | None,
        typer.Option(
            help="Write the assignment table as this table (schema.table) in the engine's "
            "database, computed there: the rows never leave it. Needs a database engine "
            "(--engine postgres://... or duckdb:///file.duckdb) and --data read there (a "
            "table or query, or --upload); not with --data-output. An existing table of "
            "that name is replaced atomically. --output still writes the summary.",
        ),
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Assign units by sha256(experiment:id): stable everywhere, independent across
    experiments. --data-output writes the assignment table to a file, --write-table into
    the engine's database; --output writes the summary."""
    from sds.experiments.assign import assign, summarize

    resolve_format(fmt, output)
    names = split_list(variants)
    split = split_numbers(shares, "shares")
    if split is not None:
        check_weights(split, "shares")
    if (data is None) == (ids is None):
        raise ParameterError("give exactly one of --data or --ids", parameter="data")
    if write_table is not None and (ids is not None or data_output is not None):
        other = "--ids" if ids is not None else "--data-output"
        raise ParameterError(
            f"--write-table goes with --data only, not {other}: the rows are written by "
            "the database",
            parameter="write-table",
        )
    if ids is not None:
        id_list = split_list(ids)
        if not id_list:
            raise ParameterError("--ids is empty, must list ids (a,b,c)", parameter="ids")
        chosen = assign(id_list, experiment, names, split)
        if fmt is None and output is None:  # a quick lookup: one "id<TAB>variant" line each
            for uid, variant in zip(id_list, chosen, strict=True):
                print(f"{uid}\t{variant}")
            return
        pairs = list(zip(id_list, chosen, strict=True))
        emit(summarize(experiment, names, split, Counter(chosen), None, pairs), fmt, output)
        return
    # the engine's writer judges folders (Spark outputs); the suffix is judged here
    if data_output is not None and Path(data_output).suffix.lower() not in (".csv", ".parquet"):
        raise ParameterError(
            f"data_output == {data_output!r}, must end in .csv or .parquet",
            parameter="data_output",
        )
    counts, written = _assign_data(
        str(data), table, encoding, id_column, experiment, names, split, data_output, write_table
    )
    emit(summarize(experiment, names, split, counts, written), fmt, output)


def _assign_data(
    data: str,
    table: str | None,
    encoding: str | None,
    id_column: str,
    experiment: str,
    names: list[str],
    shares: list[float] | None,
    output: str | None,
    write_table: str | None,
) -> tuple[dict[str, int], str | None]:
    """Assign in the engine; write the file or the database table if asked; return counts
    per variant and what was written."""
    from sds.experiments.assign import assign_table

    source = open_table(data, table=table, encoding=encoding)
    if write_table is not None:
        _require_database(source.engine, source.name)
    expr = assign_table(source, id_column, experiment, names, shares)
    written = None
    if output is not None:
        written = str(source.engine.write(expr, output, source=source.name))
    elif write_table is not None:
        name = source.engine.write_table(expr, write_table, source=source.name)
        written = f"table {name} on {source.engine.label}"
    counts = source.engine.execute(
        expr.group_by("variant").aggregate(n=expr.count()), source=source.name
    )
    per_variant = {str(v): int(n) for v, n in zip(counts["variant"], counts["n"], strict=True)}
    return per_variant, written


def _require_database(engine: Engine, source: str) -> None:
    """Refuse --write-table on an engine without a database that outlives the run (DuckDB
    in memory, which is also where local files are read when the engine is a server)."""
    if not engine.keeps_tables:
        raise ParameterError(
            f"--write-table needs a database engine, but {source} is read by DuckDB in "
            "memory, whose tables end with the run",
            parameter="write-table",
            hint="Use --engine postgres://... (naming a table or SELECT query there as "
            "--data, or with --upload) or --engine duckdb:///file.duckdb; or --data-output "
            "for a file.",
        )
