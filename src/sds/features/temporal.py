"""Point-in-time temporal features in the engine: windows, RFM, last values, calendar parts.

One query: the label rows (entity, label time) are left-joined to the entity's events that
happened strictly before the label time (and, with ``available_at``, were known before it),
then grouped per label row with one conditional aggregate per window and function. Windows
are half-open, ``[t - w, t)``. An entity without history keeps its row: counts, sums and
distinct counts are 0, means, extremes, deviations, last values and recency are missing.
All times are compared in UTC: zone-aware timestamps are converted, naive ones are taken as
UTC (the engine's session time zone is UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sds.errors import DataError, missing_column_error
from sds.features.spec import FeatureSpec
from sds.features.values import check_values

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.io import Table

ENTITY, TS, KNOWN, LABEL_TIME = "__entity", "__ts", "__known", "__label_time"


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
    """The label table's distinct (entity, label time) rows, times in UTC."""
    times = as_utc(labels, spec.label_time)
    return labels.expr.select(**{ENTITY: labels.expr[spec.entity], LABEL_TIME: times}).distinct()


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
) -> ir.Table:
    """The feature table expression: one row per label row, named as in the spec, sorted
    by entity and label time. Findings about the value columns go to ``warnings``."""

    check_columns(spec, events, labels)
    empty = check_values(spec, events, warnings if warnings is not None else [])
    e = events.expr
    cols: dict[str, Any] = {ENTITY: e[spec.entity], TS: as_utc(events, spec.timestamp)}
    if spec.available_at:
        cols[KNOWN] = as_utc(events, spec.available_at)
    value_columns = [c for c in spec.event_columns if c not in (spec.entity, spec.timestamp)]
    cols.update({c: e[c] for c in value_columns if c != spec.available_at})
    cols.update({c: e[c].cast("float64") for c in empty})  # all null, read as text
    ev = e.select(**cols)
    if labels is None:  # one cutoff: the entities known then are those with earlier events
        out = _at_cutoff(spec, ev)
    else:
        lab = label_rows(spec, labels)
        before = [lab[ENTITY] == ev[ENTITY], ev[TS] < lab[LABEL_TIME]]
        if spec.available_at:
            before.append(ev[KNOWN] < lab[LABEL_TIME])
        joined = lab.left_join(ev, before)
        label = joined[LABEL_TIME]
        out = joined.group_by([joined[ENTITY], label]).aggregate(
            **_aggregates(spec, joined, label, label.max())
        )
    # sorted, because a parallel join and group-by return rows in any order, and a model
    # trained on these rows splits them by position
    return (
        out.mutate(**_calendar(spec, out))
        .rename({spec.entity: ENTITY, spec.label_time: LABEL_TIME})
        .order_by([spec.entity, spec.label_time])
    )


def _at_cutoff(spec: FeatureSpec, ev: ir.Table) -> ir.Table:
    """The same features without a join: filter the events, group by entity."""
    import ibis

    cutoff = ibis.literal(_utc_literal(str(spec.cutoff)), type="timestamp")
    known = ev[TS] < cutoff
    if spec.available_at:
        known &= ev[KNOWN] < cutoff
    before = ev.filter(known)
    out = before.group_by(ENTITY).aggregate(**_aggregates(spec, before, cutoff, cutoff))
    return out.mutate(**{LABEL_TIME: cutoff}).select(ENTITY, LABEL_TIME, *out.columns[1:])


def _aggregates(spec: FeatureSpec, j: ir.Table, label: Any, label_value: Any) -> dict[str, Any]:
    """``label``: the label time per row; ``label_value``: the same as an aggregate."""
    import ibis

    ts = j[TS]
    aggs: dict[str, Any] = {}
    for window, length in spec.window_lengths.items():
        inside = ts >= label - ibis.interval(seconds=int(length.total_seconds()))
        for agg in spec.aggregations:
            x = j[agg.column]
            for f in agg.functions:
                if f != "last":
                    aggs[f"{agg.column}_{f}_{window}"] = _windowed(x, f, inside)
    for agg in spec.aggregations:
        if "last" in agg.functions:
            aggs[f"{agg.column}_last"] = j[agg.column].argmax(ts, where=ts.notnull())
    if "days_since_first" in spec.calendar:
        aggs["days_since_first"] = (
            label_value.delta(ts.min(), unit="second").cast("float64") / 86_400.0
        )
    if spec.rfm is not None:
        last = ts.max()
        aggs["recency_days"] = label_value.delta(last, unit="second").cast("float64") / 86_400.0
        aggs["frequency"] = ts.count()
        if spec.rfm.monetary:
            aggs["monetary"] = j[spec.rfm.monetary].sum().fill_null(0)
    return aggs


def _windowed(x: Any, f: str, inside: Any) -> Any:
    if f == "count":
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
    parts = {
        "dayofweek": t.day_of_week.index(),  # Monday = 0
        "hour": t.hour(),
        "month": t.month(),
        "weekend": t.day_of_week.index() >= 5,
    }
    return {f"label_{p}": parts[p] for p in spec.calendar if p in parts}
