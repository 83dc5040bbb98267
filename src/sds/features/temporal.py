"""Point-in-time temporal features in the engine: windows, RFM, last values, calendar parts.

One query: the label rows (entity, label time) are left-joined to the entity's events that
happened strictly before the label time (and, with ``available_at``, were known before it),
then grouped per label row with one conditional aggregate per window and function. Windows
are half-open, ``[t - w, t)``. A label table must give each (entity, label time) once: a
repeated pair is refused with its count (it would get the same features twice, and copies
of one row on both sides of a train/test split inflate the score).

The rows: with a label table, one per label row, carrying the label table's other columns
(the label itself, e.g. ``churned``) between the keys and the features, as a feature
store's historical retrieval keeps the entity frame's columns; with ``cutoff``, one per
entity of the events table, at the cutoff, the same as a label table of every entity at
that time. Every entity in the events counts, also one first seen after the cutoff, so the
two modes share one rule; the features still read only events before the cutoff (and
known before it).

An entity without history keeps its row, in both modes: counts (``event_count``,
``nonnull``, ``nunique``, ``frequency``) and sums are 0; means, extremes, deviations, last
values, tenure and recency are missing. ``<column>_nonnull_<w>`` counts the events with a
value in the column; ``event_count_<w>`` counts the events.

All times are compared in UTC: zone-aware timestamps are converted, naive ones are taken as
UTC (the engine's session time zone is UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sds.errors import DataError, missing_column_error
from sds.features.spec import FeatureSpec
from sds.features.values import UNUSABLE_FLAG, check_values, deferrable, unusable_flag

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.io import Table

ENTITY, TS, KNOWN, LABEL_TIME = "__entity", "__ts", "__known", "__label_time"
CARRIED = "__label__"  # prefix of the label table's other columns inside the query


def carried_columns(spec: FeatureSpec, labels: Table | None) -> list[str]:
    """The label table's columns besides the keys, carried through to the feature table."""
    if labels is None:
        return []
    return [c for c in labels.columns if c not in (spec.entity, spec.label_time)]


def check_columns(spec: FeatureSpec, events: Table, labels: Table | None) -> None:
    for column in spec.event_columns:
        if column not in events.columns:
            raise missing_column_error(column, events.columns, events.name)
    if labels is not None:
        for column in (spec.entity, spec.label_time):
            if column not in labels.columns:
                raise missing_column_error(column, labels.columns, labels.name)


def as_utc(table: Table, column: str) -> Any:
    """The column as a naive UTC timestamp; a clear error when it is not a time."""
    value = table.expr[column]
    dtype = value.type()
    if dtype.is_timestamp():
        tz = getattr(dtype, "timezone", None)
        return value.cast("timestamp") if tz else value
    if dtype.is_date():
        return value.cast("timestamp")
    if dtype.is_string():
        parsed = value.try_cast("timestamp")
        bad = table.expr.filter(value.notnull() & parsed.isnull())
        example = table.engine.execute(bad.select(value).limit(1), source=table.name)
        if len(example):
            raise DataError(
                "the time column cannot be read as a timestamp",
                source=table.name,
                column=column,
                found=repr(example.iloc[0, 0]),
                expected="ISO times such as 2026-03-01 or 2026-03-01T12:30:00",
            )
        return parsed
    raise DataError(
        "the time column is not a date or timestamp",
        source=table.name,
        column=column,
        found=str(dtype),
        hint="Convert epoch numbers in the query, e.g. to_timestamp(seconds).",
    )


def label_rows(spec: FeatureSpec, labels: Table) -> ir.Table:
    """The label table's (entity, label time) rows, times in UTC, with its other columns
    renamed ``__label__<name>``; a DataError when a pair is given more than once."""
    times = as_utc(labels, spec.label_time)
    extra = {CARRIED + c: labels.expr[c] for c in carried_columns(spec, labels)}
    rows = labels.expr.select(**{ENTITY: labels.expr[spec.entity], LABEL_TIME: times}, **extra)
    _refuse_repeats(spec, labels, rows)
    return rows


def _refuse_repeats(spec: FeatureSpec, labels: Table, rows: ir.Table) -> None:
    """Repeated (entity, label time) pairs: refused with their count and an example, never
    merged (the caller's rows would no longer match the feature rows one to one)."""
    import ibis

    pairs = rows.group_by([ENTITY, LABEL_TIME]).aggregate(n=ibis._.count())
    totals = pairs.aggregate(rows=pairs.n.sum(), pairs=pairs.count())
    row = labels.engine.execute(totals, source=labels.name).iloc[0]
    total, distinct = int(row["rows"] or 0), int(row["pairs"] or 0)
    if total == distinct:
        return
    repeated = pairs.filter(pairs.n > 1)
    top = repeated.order_by([ibis.desc("n"), ENTITY, LABEL_TIME]).limit(1)
    example = labels.engine.execute(top, source=labels.name).iloc[0]
    entity = example[ENTITY].item() if hasattr(example[ENTITY], "item") else example[ENTITY]
    extra = total - distinct
    raise DataError(
        f"the label table gives some ({spec.entity}, {spec.label_time}) pairs more than once",
        source=labels.name,
        found=f"{extra:,} repeated row{'s' if extra != 1 else ''} in {total:,} "
        f"(e.g. {entity!r} at {example[LABEL_TIME]} appears {int(example['n'])} times)",
        expected="one row per (entity, label time)",
        hint="Build from the distinct pairs (SELECT DISTINCT entity, label time) and join the "
        "features back to your rows on (entity, label time).",
    )


def _utc_literal(text: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise DataError(
            "the cutoff is not a time",
            column="cutoff",
            found=repr(text),
            expected="an ISO time such as 2026-03-01 or 2026-03-01T00:00:00Z",
        ) from exc
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def features(
    spec: FeatureSpec,
    events: Table,
    labels: Table | None = None,
    warnings: list[str] | None = None,
    *,
    ordered: bool = True,
    known_flag: bool = False,
    check_later: bool = False,
) -> ir.Table:
    """The feature table expression: one row per label row, named as in the spec, sorted
    by entity and label time unless ``ordered`` is false (a table written in a database
    keeps no row order, so sorting it first only costs). Findings about the value columns
    go to ``warnings``. With ``known_flag`` (cutoff mode only) a last column
    :data:`KNOWN_FLAG` says whether the entity has events before the cutoff, from which
    :func:`coverage_warning` is read without a second pass over the events. With
    ``check_later`` (cutoff mode only) the floating value columns are not checked first:
    :data:`UNUSABLE_FLAG` flags the entities with values the check refuses (see
    :func:`sds.features.values.deferrable`), unless text columns need the check now."""

    check_columns(spec, events, labels)
    found = warnings if warnings is not None else []
    later = deferrable(spec, events) if check_later and labels is None else None
    empty = [] if later is not None else check_values(spec, events, found)
    e = events.expr
    cols: dict[str, Any] = {ENTITY: e[spec.entity], TS: as_utc(events, spec.timestamp)}
    if spec.available_at:
        cols[KNOWN] = as_utc(events, spec.available_at)
    value_columns = [c for c in spec.event_columns if c not in (spec.entity, spec.timestamp)]
    cols.update({c: e[c] for c in value_columns if c != spec.available_at})
    cols.update({c: e[c].cast("float64") for c in empty})  # all null, read as text
    ev = e.select(**cols)
    carried = carried_columns(spec, labels)
    spark = events.engine.is_spark
    if labels is None:  # one cutoff: every entity of the events, features from before it
        out = _at_cutoff(spec, ev, known_flag, later or [], spark)
    else:
        lab = label_rows(spec, labels)
        before = [lab[ENTITY] == ev[ENTITY], ev[TS] < lab[LABEL_TIME]]
        if spec.available_at:
            before.append(ev[KNOWN] < lab[LABEL_TIME])
        joined = lab.left_join(ev, before)
        label = joined[LABEL_TIME]
        # the carried columns are keys too: one value per label row, after the two keys
        keys = [joined[ENTITY], label, *(joined[CARRIED + c] for c in carried)]
        out = joined.group_by(keys).aggregate(
            **_aggregates(spec, joined, label, label.max(), joined[TS].notnull(), spark)
        )
    out = out.mutate(**_calendar(spec, out))
    _refuse_collisions(spec, labels, carried, out)
    # sorted, because a parallel join and group-by return rows in any order, and a model
    # trained on these rows splits them by position
    named = out.rename(
        {spec.entity: ENTITY, spec.label_time: LABEL_TIME, **{c: CARRIED + c for c in carried}}
    )
    return named.order_by([spec.entity, spec.label_time]) if ordered else named


def _refuse_collisions(
    spec: FeatureSpec, labels: Table | None, carried: list[str], out: ir.Table
) -> None:
    """A label column named like a feature would give the table two columns of one name."""
    made = set(out.columns) - {ENTITY, LABEL_TIME, *(CARRIED + c for c in carried)}
    clash = [c for c in carried if c in made]
    if clash and labels is not None:
        raise DataError(
            "a label table column has the name of a feature",
            source=labels.name,
            column=clash[0],
            found=", ".join(clash),
            hint="Rename the label column (or drop it from the label table); the feature "
            "table carries the label table's columns beside the features.",
        )


def _at_cutoff(
    spec: FeatureSpec,
    ev: ir.Table,
    known_flag: bool = False,
    unchecked: list[str] | None = None,
    spark: bool = False,
) -> ir.Table:
    """The same features without a join: every entity of the events, grouped, each
    aggregate reading only the events before the cutoff (so an entity without any keeps
    its row with the label rows' no-history values)."""
    import ibis

    cutoff = ibis.literal(_utc_literal(str(spec.cutoff)), type="timestamp")
    known = ev[TS] < cutoff
    if spec.available_at:
        known &= ev[KNOWN] < cutoff
    flag = {KNOWN_FLAG: known.any()} if known_flag else {}
    if unchecked:
        flag[UNUSABLE_FLAG] = unusable_flag(ev, unchecked)
    aggs = _aggregates(spec, ev, cutoff, cutoff, known, spark)
    out = ev.group_by(ENTITY).aggregate(**aggs, **flag)
    return out.mutate(**{LABEL_TIME: cutoff}).select(ENTITY, LABEL_TIME, *out.columns[1:])


KNOWN_FLAG = "__sds_known"
"""The column :func:`features` adds with ``known_flag`` (dropped before anyone sees it)."""


def cutoff_coverage(spec: FeatureSpec, events: Table) -> list[str]:
    """In cutoff mode, a warning naming how many entities have no events before the
    cutoff (first seen after it, or known only after it): they keep a row of zeros."""
    import ibis

    if spec.cutoff is None:
        return []
    cutoff = ibis.literal(_utc_literal(str(spec.cutoff)), type="timestamp")
    e, ts = events.expr, as_utc(events, spec.timestamp)
    known = ts < cutoff
    if spec.available_at:
        known &= as_utc(events, spec.available_at) < cutoff
    # one GROUP BY, then a count: an engine hashes it in parallel, where PostgreSQL runs a
    # COUNT(DISTINCT) as one sort on one core (2 of them cost more than the features)
    present = e.filter(e[spec.entity].notnull())  # as nunique: a missing entity is none
    per_entity = present.group_by(__entity=present[spec.entity]).aggregate(__known=known.any())
    counted = per_entity.aggregate(total=per_entity.count(), known=per_entity["__known"].sum())
    row = events.engine.execute(counted, source=events.name).iloc[0]
    return coverage_warning(int(row["total"] or 0), int(row["known"] or 0))


def coverage_from_flag(table: ir.Table, entity: str) -> ir.Table:
    """The entity counts :func:`coverage_warning` needs, from a feature table built with
    ``known_flag`` (one row per entity, missing entities aside)."""
    present = table.filter(table[entity].notnull())
    return present.aggregate(total=present.count(), known=present[KNOWN_FLAG].sum())


def coverage_sql(entity: str) -> dict[str, str]:
    """:func:`coverage_from_flag`'s counts as Spark SQL aggregates, for a Spark write to
    observe (``Engine.write_observing``) rather than a query of their own."""
    quoted = "`" + entity.replace("`", "``") + "`"
    present = f"{quoted} IS NOT NULL"
    return {
        "total": f"count(CASE WHEN {present} THEN 1 END)",
        "known": f"sum(CASE WHEN {present} AND `{KNOWN_FLAG}` THEN 1 ELSE 0 END)",
    }


def coverage_warning(total: int, known: int) -> list[str]:
    """The cutoff-mode warning for ``total`` entities of which ``known`` have events
    before the cutoff (none when all do)."""
    absent = total - known
    if not absent:
        return []
    return [
        f"{absent:,} of {total:,} entities have no events before the cutoff: their counts "
        "and sums are 0 and other features missing. With a past cutoff they are here only "
        "because of later events; to train on the entities known then, pass a label table "
        "of those entities instead"
    ]


def _aggregates(
    spec: FeatureSpec, j: ir.Table, label: Any, label_value: Any, known: Any, spark: bool = False
) -> dict[str, Any]:
    """``label``: the label time per row; ``label_value``: the same as an aggregate;
    ``known``: the rows that are events the features may read. ``spark``: the query runs
    on Spark (see :func:`_windowed`)."""
    import ibis

    ts = j[TS]
    aggs: dict[str, Any] = {}
    for window, length in spec.window_lengths.items():
        inside = known & (ts >= label - ibis.interval(seconds=int(length.total_seconds())))
        if spec.event_count:
            aggs[f"event_count_{window}"] = ts.count(where=inside)
        for agg in spec.aggregations:
            x = j[agg.column]
            for f in agg.functions:
                if f != "last":
                    aggs[f"{agg.column}_{f}_{window}"] = _windowed(x, f, inside, spark)
    for agg in spec.aggregations:
        if "last" in agg.functions:
            aggs[f"{agg.column}_last"] = j[agg.column].argmax(ts, where=known)
    if "days_since_first" in spec.calendar:
        aggs["days_since_first"] = _days(label_value, ts.min(where=known))
    if spec.rfm is not None:
        last = ts.max(where=known)
        aggs["recency_days"] = _days(label_value, last)
        aggs["frequency"] = ts.count(where=known)
        if spec.rfm.monetary:
            aggs["monetary"] = j[spec.rfm.monetary].sum(where=known).fill_null(0)
    return aggs


def _days(later: Any, earlier: Any) -> Any:
    """Days from ``earlier`` to ``later``, to the microsecond: every engine counts whole
    microseconds the same way (whole seconds it would not: DuckDB counts the second
    boundaries crossed, PostgreSQL rounds the interval)."""
    return later.delta(earlier, unit="microsecond").cast("float64") / 86_400_000_000.0


def _windowed(x: Any, f: str, inside: Any, spark: bool = False) -> Any:
    if f == "mean" and spark and x.type().is_float64():
        # Spark's avg of doubles is this very sum over this very count (its sum starts at
        # 0.0 and adds 0.0 for a missing value, which changes no sum of doubles), so the
        # value is the same to the bit; but Spark keeps one state per distinct aggregate,
        # and this one shares the window's sum and nonnull count instead of a sum and
        # count of its own (a tenth of the feature query's CPU with all three)
        return x.sum(where=inside) / x.count(where=inside).nullif(0)
    if f == "nonnull":
        return x.count(where=inside)
    if f == "sum":
        return x.sum(where=inside).fill_null(0)
    if f == "nunique":
        return x.nunique(where=inside)
    if f == "std":
        return x.std(where=inside, how="sample")
    return getattr(x, f)(where=inside)  # mean, min, max


def _calendar(spec: FeatureSpec, out: ir.Table) -> dict[str, Any]:
    t = out[LABEL_TIME]
    # int64 on every engine (each returns its own width, and a file keeps it)
    parts = {
        "dayofweek": t.day_of_week.index().cast("int64"),  # Monday = 0
        "hour": t.hour().cast("int64"),
        "month": t.month().cast("int64"),
        "weekend": t.day_of_week.index() >= 5,
    }
    return {f"label_{p}": parts[p] for p in spec.calendar if p in parts}
