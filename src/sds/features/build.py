"""``sds.features.build``: a point-in-time feature table from a spec, and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sds.config import engine_scope
from sds.data.engine import Engine, default_engine, local_engine
from sds.data.io import Table, open_table
from sds.data.server import check_table_name, open_named
from sds.data.uri import URI
from sds.errors import DataError, ParameterError, missing_column_error
from sds.features.build_summary import observed_summary, summary_sql
from sds.features.build_summary import summary as _summary
from sds.features.spec import FeatureSpec, parse
from sds.features.temporal import (
    KNOWN_FLAG,
    carried_columns,
    coverage_from_flag,
    coverage_sql,
    coverage_warning,
    cutoff_coverage,
    features,
)
from sds.features.values import UNUSABLE_FLAG, check_values
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from sds.data.io import Table


@dataclass(frozen=True)
class FeatureBuild(Result):
    """What a feature build made: rows, each feature's type and missing share, warnings.
    ``label_columns``: the label table's other columns, carried between the keys and the
    features (the label itself, e.g. ``churned``); they are not features. ``table``: the
    database table the features were written to, if any."""

    title: ClassVar[str] = "Feature build"
    name: str
    events: str
    output: str | None
    rows: int
    entities: int
    label_times: tuple[str, str]
    features: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...] = ()
    label_columns: tuple[str, ...] = ()
    table: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "name": self.name,
                "events": self.events,
                "output": self.output,
                "table": self.table,
                "rows": self.rows,
                "entities": self.entities,
                "label_times": list(self.label_times),
                "label_columns": list(self.label_columns),
                "features": [dict(f) for f in self.features],
                "warnings": list(self.warnings),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        out: list[Section] = [
            KeyValue(
                "Feature set",
                [(k, d[k]) for k in ("name", "events", "output", "table", "rows", "entities")]
                + [("label times", " .. ".join(d["label_times"]))]
                + [("label columns", ", ".join(d["label_columns"]) or "none")],
            ),
            records_table("Features", d["features"]),
        ]
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out


def open_sources(
    spec: FeatureSpec, data: Any = None, labels: Any = None
) -> tuple[Table, Table | None]:
    """The events table and the label table (same engine, so they can be joined)."""
    import pandas as pd

    def one(source: Any, name: str) -> Table:
        if isinstance(source, Table):
            return source
        if isinstance(source, pd.DataFrame):
            return open_table(source, name=name)
        return open_table(source)

    source = data if data is not None else spec.data
    if source is None:
        raise DataError("the spec names no events", hint="Add 'data: events.parquet'.")
    events = one(source, "events")
    label_source = labels if labels is not None else spec.labels
    return events, (one(label_source, "labels") if label_source is not None else None)


def build(
    spec: FeatureSpec | dict[str, Any],
    data: Any = None,
    labels: Any = None,
    output: str | Path | None = None,
    *,
    table: str | None = None,
) -> tuple[FeatureBuild, pd.DataFrame | None]:
    """Build the features. With ``table`` (``schema.table``) they are written as that table
    in the engine's database, computed there; with ``output`` they are written to that
    Parquet file (from the table, when both are given), atomically. With either no frame
    is returned; with neither, the frame comes back."""

    spec = parse(spec)
    with engine_scope(spec):
        return _build(spec, data, labels, output, table)


def _build(
    spec: FeatureSpec, data: Any, labels: Any, output: str | Path | None, table: str | None
) -> tuple[FeatureBuild, pd.DataFrame | None]:
    events, label_table = open_sources(spec, data, labels)
    if table is not None:
        _check_table(events.engine, table)
    warnings: list[str] = []
    # a table in a database at one cutoff: the coverage is read from the written rows
    # (a hidden flag column), not from a second pass over the events
    flagged = table is not None and label_table is None and events.engine.backend in _FLAGS
    # a Spark file at one cutoff: the coverage is counted while Spark writes the file
    observed = (
        table is None
        and output is not None
        and label_table is None
        and events.engine.is_spark
        and not URI.match(str(output))
    )
    flagged = flagged or observed
    later = observed and _checks_in_order(spec, events)
    expr = features(
        spec,
        events,
        label_table,
        warnings,
        ordered=table is None,
        known_flag=flagged,
        check_later=later,
    )
    if not flagged:
        warnings += _label_coverage(spec, events, label_table)
    carried = carried_columns(spec, label_table)
    _check_transform_columns(spec, expr, events)
    engine, frame = events.engine, None
    if table is not None:

        def inspect(written: ir.Table) -> None:
            counts = coverage_from_flag(written, spec.entity)
            row = engine.execute(counts, source=events.name).iloc[0]
            warnings.extend(coverage_warning(int(row["total"] or 0), int(row["known"] or 0)))

        name = engine.write_table(
            expr,
            table,
            source=events.name,
            inspect=inspect if flagged else None,
            hidden=(KNOWN_FLAG,) if flagged else (),
        )
        written = Table(open_named(engine, name, name), name, engine)
        # a file as well is streamed from the table (sorted there), not computed again
        expr = written.expr.order_by([spec.entity, spec.label_time])
    if observed:
        assert output is not None
        summary = _write_observed(spec, expr, output, carried, warnings, events)
    elif output is not None:
        engine.write(expr, output, source=events.name)
        # the summary reads the file here (a server's rows are not sent back up to it)
        summary = _summary(
            open_table(str(output), engine=_here(engine), require_rows=False), carried
        )
    elif table is not None:
        summary = _summary(written, carried)
    else:
        frame = engine.execute(expr, source=events.name)
        summary = _summary(open_table(frame, engine=_here(engine), require_rows=False), carried)
    result = FeatureBuild(
        name=spec.name,
        events=events.name,
        output=None if output is None else str(output),
        table=table,
        warnings=tuple(warnings),
        label_columns=tuple(carried),
        **summary,
    )
    return result, frame


def _write_observed(
    spec: FeatureSpec,
    expr: ir.Table,
    output: str | Path,
    carried: list[str],
    warnings: list[str],
    events: Table,
) -> dict[str, Any]:
    """Write a cutoff's features to a local Spark file, counting the coverage (from the
    hidden flag) and the summary while Spark writes the rows: one Spark job fewer than
    reading the file back. The summary's types are the file's, read from its footers.
    With the values' flag (:func:`features`' ``check_later``), a flagged entity has the
    values checked before the file takes its place (their query raises the message)."""
    hidden = tuple(c for c in (KNOWN_FLAG, UNUSABLE_FLAG) if c in expr.columns)
    observe = coverage_sql(spec.entity)
    observe |= summary_sql([c for c in expr.columns if c not in hidden], carried)
    if UNUSABLE_FLAG in hidden:
        observe["unusable"] = f"count(CASE WHEN `{UNUSABLE_FLAG}` THEN 1 END)"

    def check(row: dict[str, Any]) -> None:
        if row.get("unusable"):
            check_values(spec, events, [])

    engine = events.engine
    row = engine.write_observing(
        expr, output, observe, hidden=hidden, source=events.name, check=check
    )
    warnings.extend(coverage_warning(int(row["total"] or 0), int(row["known"] or 0)))
    written = open_table(str(output), engine=engine, require_rows=False)
    return observed_summary(row, written, carried)


def _checks_in_order(spec: FeatureSpec, events: Table) -> bool:
    """Whether the values' check may wait for the write without another check's message
    coming first: times that need no parsing query, and no transform to check."""
    schema = events.expr.schema()
    times = [c for c in (spec.timestamp, spec.available_at) if c]
    texts = any(c in schema and schema[c].is_string() for c in times)
    return spec.transform is None and not texts


_FLAGS = frozenset({"postgres", "duckdb"})
"""Backends whose tables drop a column inside the transaction that names them."""


def _here(engine: Engine) -> Engine:
    """The engine that reads a local file or frame: a server's rows stay on this machine
    (the local DuckDB), any other engine reads them itself."""
    return local_engine() if engine.is_server else engine


def _check_table(engine: Engine, table: str) -> None:
    """Before any work: a table name, and an engine whose database outlives the run."""
    check_table_name(table)
    if default_engine().is_server and not engine.is_server:
        raise ParameterError(
            "the events are read by DuckDB on this machine, so the feature table would not "
            "be computed in the database",
            parameter="--write-table",
            hint="Name the events as a table (schema.table) or a SELECT query on the server, "
            "or pass --upload to copy local files there first.",
        )
    if not engine.keeps_tables:
        raise ParameterError(
            "a feature table written in DuckDB's in-memory database is lost when sds exits",
            parameter="--write-table",
            hint="Run with --engine postgres://user@host/db (the table is written there), "
            "or write a file with --data-output features.parquet.",
        )


def _check_transform_columns(spec: FeatureSpec, expr: Any, events: Table) -> None:
    """The spec's ``transform`` names columns of the feature table; text must have text.
    Checked before anything is written."""
    t = spec.transform
    if t is None:
        return
    named = [*t.onehot, *t.frequency, *t.target_encode, *t.interactions, *t.critical]
    named += [*t.text, *t.embeddings, *t.drop]
    named += [c.strip() for r in t.ratios for c in r.split("/")]
    columns = list(expr.columns)
    for column in dict.fromkeys(named):
        if column not in columns:
            raise missing_column_error(column, columns, "the feature table (transform)")
    texts = [*t.text, *t.embeddings]
    if not texts:
        return
    filled = {
        f"n{i}": (expr[c].cast("string").strip().length() > 0).sum() for i, c in enumerate(texts)
    }
    row = events.engine.execute(expr.aggregate(**filled), source=events.name).iloc[0]
    for i, c in enumerate(texts):
        if not int(row[f"n{i}"] or 0):
            raise DataError(
                "the text column is empty in every row",
                column=c,
                hint="Drop it from transform.text / transform.embeddings, or fix its source.",
            )


def _label_coverage(spec: FeatureSpec, events: Table, labels: Table | None) -> list[str]:
    """Label entities that never appear in the events: all of them is an error. With a
    cutoff: the entities without events before it."""
    if labels is None:
        return cutoff_coverage(spec, events)
    lab = labels.expr.select(entity=labels.expr[spec.entity]).distinct()
    seen = events.expr.select(entity=events.expr[spec.entity]).distinct()
    try:
        counted = lab.left_join(seen, lab.entity == seen.entity).aggregate(
            total=lambda t: t.count(), absent=lambda t: t.entity_right.isnull().sum()
        )
    except Exception as exc:  # ibis refuses to compare keys of different types
        raise DataError(
            "the label table's entity key cannot be matched to the events'",
            source=labels.name,
            column=spec.entity,
            found=f"{labels.expr[spec.entity].type()} vs {events.expr[spec.entity].type()}",
            hint="Cast both keys to the same type in the query.",
        ) from exc
    row = events.engine.execute(counted, source=labels.name).iloc[0]
    total, absent = int(row["total"]), int(row["absent"])
    if total and absent == total:
        raise DataError(
            "none of the label table's entities appear in the events",
            source=labels.name,
            column=spec.entity,
            found=f"{total} entities, 0 with events",
            hint="Check that both tables use the same key (and the same type of key).",
        )
    if absent:
        return [
            f"{absent} of {total} label entities have no events at all: their windowed "
            "counts and sums are 0 and other features missing"
        ]
    return []
