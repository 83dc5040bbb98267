"""``sds profile --data DATA`` (or ``sds profile DATA``): per-column statistics and
data-quality flags."""

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
from sds.data.io import Table, open_table
from sds.data.schema import parse_expectations, require_kind
from sds.errors import DataError, ParameterError

FLAGS = (
    "single_row",
    "duplicate_rows",
    "duplicate_column",
    "all_null",
    "mostly_null",
    "constant",
    "near_constant",
    "non_finite",
    "overflow",
    "id_like",
    "high_cardinality",
)
STRICT = ("single_row", "duplicate_rows", "all_null", "constant", "non_finite", "overflow")


def command(
    path: Annotated[
        str | None,
        typer.Argument(metavar="DATA", help="Shorthand for --data.", show_default=False),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", help="The table to read: a file, directory, glob or SQL query."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Only these columns (comma-separated).")
    ] = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    top_k: Annotated[int, typer.Option(help="Most frequent values shown per column.")] = 10,
    bins: Annotated[int, typer.Option(help="Histogram bins.")] = 20,
    exact_distinct_max_rows: Annotated[
        int | None,
        typer.Option(
            help="Count distinct values exactly up to this many rows, approximately "
            "(HyperLogLog) beyond them; by default 10,000,000 rows on DuckDB, 2,000,000 on "
            "Spark."
        ),
    ] = None,
    expect: Annotated[
        list[str] | None,
        typer.Option(
            help="COLUMN=KIND the column must have (numeric, integer, float, string, "
            "boolean, temporal); comma-separated or repeated."
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help=f"Exit 2 if any of these flags is raised: {', '.join(FLAGS)} "
            "(the report is still written)."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help=f"Shorthand for --fail-on {','.join(STRICT)}.")
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Profile a table: types, nulls, distincts, statistics, top values, histograms, flags."""
    from sds.features.profile import profile
    from sds.features.profile_result import ProfileOptions

    resolve_format(fmt, output)  # a bad --format fails before any work
    source_name = _source(path, data)
    gates = _gates(fail_on, strict)
    expected = parse_expectations([e for item in expect or [] for e in split_list(item)])
    opts = ProfileOptions(
        columns=tuple(split_list(columns)) or None,
        top_k=top_k,
        bins=bins,
        exact_distinct_max_rows=exact_distinct_max_rows,
    )
    source = open_table(source_name, table=table, encoding=encoding)
    if opts.columns:
        source.require(*opts.columns)
    _expectations(source, expected)
    result = profile(source, opts)
    # a failed gate still writes the report: it is the CI artifact that explains the failure
    emit(result, fmt, output)
    _enforce(result.to_dict(), gates)


def _source(path: str | None, data: str | None) -> str:
    """The table named by ``--data`` or by the positional shorthand (one of them)."""
    if path is not None and data is not None and path != data:
        raise ParameterError(f"two tables given: {path!r} and --data {data!r}", parameter="--data")
    chosen = data if data is not None else path
    if chosen is None:
        raise ParameterError("give the table with --data FILE", parameter="--data")
    return chosen


def _gates(fail_on: str | None, strict: bool) -> set[str]:
    gates = set(split_list(fail_on)) | (set(STRICT) if strict else set())
    unknown = gates - set(FLAGS)
    if unknown:
        raise ParameterError(
            f"fail_on == {','.join(sorted(unknown))!r}, must name flags among {', '.join(FLAGS)}",
            parameter="fail-on",
        )
    return gates


def _expectations(source: Table, expected: dict[str, str]) -> None:
    """Check every ``--expect``, then name every column that failed in one error."""
    source.require(*expected)  # a misspelt column first, with its close matches
    failed: list[DataError] = []
    for column, kind in expected.items():
        try:
            require_kind(source, column, kind)
        except DataError as exc:
            failed.append(exc)
    if len(failed) == 1:
        raise failed[0]
    if failed:
        raise DataError(
            f"{len(failed)} columns have the wrong type: "
            + "; ".join(
                f"column {e.column!r}: found {e.found}, expected {e.expected}" for e in failed
            ),
            source=source.name,
            hint="Clean or convert the columns, or choose others.",
        )


def _enforce(profile: dict[str, object], gates: set[str]) -> None:
    flags = [f for f in profile["flags"] if f["flag"] in gates]  # type: ignore[attr-defined]
    if flags:
        problems = "; ".join(
            f"{f['flag']}"
            + (f" in column {f['column']!r}" if f["column"] != "*" else "")
            + f" ({f['detail']})"
            for f in flags
        )
        raise DataError(f"data-quality check failed: {problems}", source=str(profile["source"]))
