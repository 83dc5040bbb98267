"""``sds features ...``: point-in-time feature tables from a spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sds.cli.common import (
    EncodingOpt,
    FormatOpt,
    OutputOpt,
    TableOpt,
    beside,
    emit,
    resolve_format,
    split_list,
)
from sds.config import engine_scope, read_mapping
from sds.data.engine import default_engine
from sds.data.io import open_table
from sds.errors import ParameterError, missing_column_error
from sds.params import PROBABILITY_OPEN, Interval, check

app = typer.Typer(
    help="Point-in-time features computed in the engine, selection with leakage checks, "
    "train/test alignment, and a versioned feature store.",
    no_args_is_help=True,
)


@app.command("build")
def build_command(
    spec: Annotated[Path, typer.Argument(help="Feature spec (YAML or JSON).")],
    data_output: Annotated[
        str | None,  # not a Path, which folds a URI's "//"
        typer.Option(
            "--data-output", help="Feature table to write (Parquet; a URI with --engine spark)."
        ),
    ] = None,
    write_table: Annotated[
        str | None,
        typer.Option(
            "--write-table",
            help="Write the feature table as this table (schema.table) in the engine's "
            "database, computed there (with --engine URL).",
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="Events (file, glob or SQL); overrides the spec's 'data'.")
    ] = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    labels: Annotated[
        str | None,
        typer.Option(help="Label table (entity, label time); overrides the spec's 'labels'."),
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Build one row per entity and label time; each feature uses only earlier events.
    The table goes to --data-output and/or --write-table, the build summary to --output
    (else stdout)."""
    from sds.features.build import build
    from sds.features.spec import parse

    resolve_format(fmt, output)
    if data_output is None and write_table is None:
        raise ParameterError(
            "the feature table needs a destination",
            parameter="--data-output",
            hint="Pass --data-output features.parquet, or --write-table schema.table with "
            "--engine postgres://...",
        )
    if data_output is not None and Path(data_output).suffix.lower() != ".parquet":
        raise ParameterError(
            f"--data-output == {data_output!r}, the feature table is written as Parquet",
            parameter="--data-output",
            hint="Name it e.g. features.parquet.",
        )
    parsed = parse(read_mapping(spec), source=str(spec))
    events: Any = data if data is not None else beside(parsed.data, spec)
    if events is not None and (table or encoding):  # in the engine the spec chooses
        with engine_scope(parsed):
            events = open_table(events, table=table, encoding=encoding)
    label_source = labels if labels is not None else beside(parsed.labels, spec)
    result, _ = build(parsed, events, label_source, output=data_output, table=write_table)
    emit(result, fmt, output)


@app.command("select")
def select_command(
    data: Annotated[str, typer.Option(help="Feature table (file, glob or SQL).")],
    target: Annotated[str, typer.Option(help="The column to predict.")],
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    exclude: Annotated[
        str | None, typer.Option(help="Columns that are not features (comma-separated).")
    ] = None,
    label_time: Annotated[
        str | None, typer.Option(help="Label-time column (time columns after it are leaks).")
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows sampled for the checks.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample and the models.")] = 0,
    shap: Annotated[
        bool,
        typer.Option(
            "--shap", help="Add mean |SHAP| per feature (needs the shap extra of sds-toolkit)."
        ),
    ] = False,
    nzv_alpha: Annotated[
        float,
        typer.Option(
            help="Level (Holm-adjusted) at which a near-zero-variance feature's association "
            "with the target on the training rows keeps it."
        ),
    ] = 0.05,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Drop null-heavy, constant, ID-like, leaky, duplicated and unimportant features, and
    say why for each."""
    from sds.features.select import select_features

    resolve_format(fmt, output)
    check("max_rows", max_rows, Interval(100, None, integer=True))
    check("seed", seed)
    check("nzv_alpha", nzv_alpha, PROBABILITY_OPEN)
    source = open_table(data, table=table, encoding=encoding)
    frame = source.engine.execute(_sampled(source, max_rows, seed), source=source.name)
    result = select_features(
        frame,
        target,
        exclude=split_list(exclude),
        label_time=label_time,
        max_rows=max_rows,
        seed=seed,
        shap=shap,
        source=source.name,
        nzv_alpha=nzv_alpha,
    )
    emit(result, fmt, output)


def _sampled(table: Any, max_rows: int, seed: int) -> Any:
    """At most about ``max_rows`` rows, sampled in the engine (the whole table if smaller)."""
    rows = int(table.engine.scalar(table.expr.count(), source=table.name))
    if rows <= max_rows:
        return table.expr
    return table.expr.sample(min(1.0, 1.2 * max_rows / rows), seed=seed)


@app.command("check")
def check_command(
    reference: Annotated[str, typer.Option(help="Reference set, e.g. training features.")],
    data: Annotated[str, typer.Option(help="Set to compare, e.g. test or live features.")],
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    exclude: Annotated[
        str | None, typer.Option(help="Columns to leave out (comma-separated), e.g. the target.")
    ] = None,
    bins: Annotated[int, typer.Option(help="Quantile bins of the reference for PSI.")] = 10,
    max_rows: Annotated[int, typer.Option(help="Rows sampled from each set.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed of the samples and the classifier.")] = 0,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Train/test alignment: PSI and KS per feature, and whether a classifier can tell the
    two sets apart (adversarial validation), with the features that give them away."""
    from sds.features.alignment import align

    resolve_format(fmt, output)
    check("bins", bins, Interval(2, 100, integer=True))
    check("max_rows", max_rows, Interval(100, None, integer=True))
    check("seed", seed)
    frames = []
    for source in (open_table(reference), open_table(data, table=table, encoding=encoding)):
        frames.append(source.engine.execute(_sampled(source, max_rows, seed), source=source.name))
    for name in split_list(exclude):  # a misspelled target would be compared as a feature
        if name not in frames[0].columns:
            raise missing_column_error(name, list(frames[0].columns), reference)
    result = align(
        frames[0], frames[1], exclude=split_list(exclude), bins=bins, names=(reference, data)
    )
    emit(result, fmt, output)


StoreOpt = Annotated[Path, typer.Option("--store", help="Feature store folder.")]
DEFAULT_STORE = Path("feature_store")


@app.command("register")
def register_command(
    spec: Annotated[Path, typer.Argument(help="Feature spec (YAML or JSON) with a 'name'.")],
    store: StoreOpt = DEFAULT_STORE,
    data: Annotated[
        str | None,
        typer.Option(help="Events (file, glob, SQL or store://name@vN); overrides 'data'."),
    ] = None,
    labels: Annotated[str | None, typer.Option(help="Label table; overrides 'labels'.")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Build the feature set and register it as a new immutable version (or return the
    existing version when the spec and the data are unchanged)."""
    from sds.features.spec import parse
    from sds.features.store import FeatureStore
    from sds.features.store_result import Registered

    resolve_format(fmt, output)
    parsed = parse(read_mapping(spec), source=str(spec))
    events = data if data is not None else _spec_data(parsed.data, spec)
    label_source = labels if labels is not None else beside(parsed.labels, spec)
    version, new = FeatureStore(store).register(parsed, events, label_source)
    emit(Registered(version, new), fmt, output)


def _spec_data(path: str | None, spec: Path) -> str | None:
    from sds.features.store import STORE_SCHEME

    return path if path and path.startswith(STORE_SCHEME) else beside(path, spec)


@app.command("list")
def list_command(
    name: Annotated[str | None, typer.Argument(help="Only this feature set.")] = None,
    store: StoreOpt = DEFAULT_STORE,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The versions in the store, with their lineage."""
    from sds.features.store import FeatureStore
    from sds.features.store_result import VersionList

    resolve_format(fmt, output)
    fs = FeatureStore(store)
    versions = tuple(fs.versions(name))  # checks the name first
    fs.require()
    emit(VersionList(str(store), versions), fmt, output)


@app.command("get")
def get_command(
    ref: Annotated[str, typer.Argument(help="name (latest version) or name@vN.")],
    store: StoreOpt = DEFAULT_STORE,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Each entity's newest row valid then.")
    ] = None,
    labels: Annotated[
        str | None, typer.Option(help="Label table: each row gets the row valid at its time.")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option(help="The label table's time column (default: label_time).")
    ] = None,
    entity: Annotated[
        list[str] | None, typer.Option(help="Latest row of this entity (repeatable).")
    ] = None,
    data_output: Annotated[
        str | None,  # not a Path, which folds a URI's "//"
        typer.Option(
            "--data-output",
            help="Parquet file (a URI with --engine spark); else JSON on stdout.",
        ),
    ] = None,
) -> None:
    """Point-in-time retrieval for training, or the latest values of entities for serving."""
    import sys

    from sds.features import retrieval
    from sds.features.store import FeatureStore

    fs = FeatureStore(store)
    chosen = [x for x in (as_of, labels, entity) if x]
    if len(chosen) > 1:
        raise ParameterError("give one of --as-of, --labels and --entity", parameter="get")
    if as_of:
        expr = retrieval.as_of(fs, ref, as_of)
    elif labels:
        expr = retrieval.for_labels(fs, ref, labels, time_column)
    elif entity:
        expr = retrieval.latest(fs, ref, entity)
    else:
        expr = retrieval.stored_table(fs, ref)[1].expr
    engine = default_engine()  # the one every retrieval above opened its table in
    if data_output is not None:
        if Path(data_output).suffix.lower() != ".parquet":
            raise ParameterError(
                f"--data-output == {data_output!r}, must end in .parquet",
                parameter="--data-output",
            )
        engine.write(expr, data_output, source=ref)
        print(f"wrote {data_output}", file=sys.stderr)
        return
    frame = engine.execute(expr.limit(10_001), source=ref)
    if len(frame) > 10_000:
        raise ParameterError("more than 10,000 rows: write them with --data-output rows.parquet")
    print(frame.to_json(orient="records", date_format="iso"))
