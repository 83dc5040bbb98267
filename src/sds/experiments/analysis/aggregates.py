"""Sufficient statistics from the engine, in one query.

Every mean, ratio, CUPED adjustment and balance check needs only per-group counts, means
and centred co-moments (:mod:`moments`). The engine computes them at the finest grain the
analysis needs (variant x segments x assignment day) as ``count``, ``avg`` and
``covar_samp`` (an online, numerically stable update in DuckDB; ``var_samp`` is
``covar_samp(x, x)``, which DuckDB does not refuse on overflow), never sums of squares:
those cancel catastrophically for values like N(1e8, 1). Each variable is first shifted by
an origin near its mean (one small query on the source), so the engine's own rounding is
that of the spread, not of the magnitude. Every coarser breakdown (per variant, per segment,
per day, cumulative) pools those rows, so one query serves the whole report. Event level
data is first rolled up to one row per unit inside the same query.

On a database server (PostgreSQL, ...) and on Spark the query asks for plain sums of the
shifted values and of their products instead, and for counts of present values instead of
counts of missing ones: each aggregate's state is then one number, where ``avg`` and
``covar_samp`` keep arrays. PostgreSQL sizes a hash aggregate by that state times the
groups it expects, and it expects about a million for an assignment day (it has no
statistics on ``date_trunc``), so the wide states made it sort, or hash on one core, where
the narrow ones hash in parallel (3.5 s against 2.6 s, and 7.5 s against 2.6 s with
sorting off, on 10,000,000 rows: ``benchmarks/warehouse_bench.py``). Spark keeps four
numbers per ``covar_samp`` (two divisions a row to update them) in each group's row of
its hash map: the plain sums take a sixth less of its CPU time on the same 10,000,000
rows (``benchmarks/spark_bench.py``'s analysis). The co-moments follow as
``S_xy - S_x S_y / n`` per group; with the origin shift, ``S_x / n`` is the group's small
distance from the origin, so nothing large cancels.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sds.data.io import no_rows, require_rows
from sds.errors import DataError, missing_column_error
from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.queries import (
    DAY,
    VARIANT,
    Known,
    Layout,
    from_sums,
    layout,
    moment_query,
    sum_query,
)
from sds.experiments.analysis.rows import Rows, from_frame, missing, moment_rows, pool
from sds.experiments.analysis.spec import AnalysisSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.io import Table

HEAD_ROWS = 10_000  # rows whose means serve as origins when the table is not scanned for them
CHECKED = "__checked"  # first_scan's mark: the 0/1 columns were checked before the aggregate
IDS_LATER = "__ids_later"  # first_scan's mark: the aggregate query counts the null ids
WHOLE = "__whole"  # first_scan's mark: the columns the footers show without missing values


def require_columns(table: Table, spec: AnalysisSpec) -> None:
    named = [spec.unit, spec.variant, *spec.segments, *([spec.date] if spec.date else [])]
    for m in spec.metrics:
        named += [*m.columns, *m.covariates]
    for column in dict.fromkeys(named):
        if column not in table.columns:
            raise missing_column_error(column, table.columns, table.name)


def detect_grain(table: Table, spec: AnalysisSpec) -> str:
    """``unit`` when every unit has one row, else ``event``. Rows without a unit id are
    refused: grouped together they would make one unit out of many."""
    return first_scan(table, spec)[0]


def first_scan(
    table: Table, spec: AnalysisSpec, rows_checked: bool = True
) -> tuple[str, dict[str, Any] | None]:
    """The grain (as :func:`detect_grain`), and, for unit-level data, the source means that
    :func:`origins` needs, read in the same scan (one pass over the table fewer: on a
    database server a pass over 10,000,000 rows costs most of a second). Unit-level data
    declared as such in DuckDB needs no pass at all (:func:`_declared_units`), nor on
    Spark (:func:`_spark_units`). Without ``rows_checked`` (a table opened without
    ``require_rows``) an empty table is refused first, as ``open_table`` refuses it."""
    if spec.grain == "unit" and table.engine.backend == "duckdb" and not table.text_source:
        return "unit", _declared_units(table, spec, rows_checked)
    if not rows_checked:
        require_rows(table)
    if spec.grain == "unit" and table.engine.is_spark:
        return "unit", _spark_units(table, spec)
    t = table.expr
    aggs: dict[str, Any] = {"missing": t.count(where=t[spec.unit].isnull()), "rows": t.count()}
    if spec.grain == "auto":
        aggs["units"] = t[spec.unit].nunique()
    shifted = _shifted(spec, layout(spec)) if spec.grain != "event" else []
    aggs |= _source_means(t, shifted)
    counts = _first_row(table, t.aggregate(**aggs))
    grain = _grain(table, spec, counts)
    return grain, (dict(counts) if grain == "unit" else None)


def _declared_units(table: Table, spec: AnalysisSpec, rows_checked: bool) -> dict[str, Any]:
    """What :func:`first_scan` reads, for data declared unit-level in DuckDB (not CSV or
    JSON text), without a pass over the table. Null ids and the values of 0/1 columns
    other than 0 and 1 are counted with filters, which DuckDB answers from the row groups'
    statistics (Parquet, its own tables: a few milliseconds where the same counts inside
    the aggregate query cost a third of it); the origins are the means of the first
    :data:`HEAD_ROWS` rows, inside the data's bulk as the origins need (DuckDB keeps the
    insertion order, so they are the same rows each run), and whether there are any rows
    at all is their count. The aggregate query is then the analysis' only pass (2.6 s
    instead of 4.7 s on 10,000,000 rows). All of it is one small query (each query costs
    a few milliseconds of planning and of reading the Parquet footer); if the engine fails
    on it, the checks run one by one, so that the first problem is the one reported."""
    lay = layout(spec)
    t = table.expr
    head = t.limit(HEAD_ROWS)
    means = _source_means(head, _shifted(spec, lay))
    checks = {"missing": t.filter(t[spec.unit].isnull()).count().as_scalar()}
    for i, v in enumerate(lay.binary):
        checks[f"bad{i}"] = t.filter(_not_binary(t[v])).count().as_scalar()
    try:
        row = _first_row(table, head.aggregate(__head=head.count(), **means).mutate(**checks))
    except DataError:
        return _declared_stepwise(table, spec, lay, rows_checked)
    if not rows_checked and not row["__head"]:
        raise no_rows(table.name)
    counts: dict[str, Any] = {"missing": row["missing"], CHECKED: True}
    _refuse_null_ids(table, spec, counts)
    for i, v in enumerate(lay.binary):
        if row[f"bad{i}"]:
            raise not_binary(v, row[f"bad{i}"], table.name)
    return counts | {k: row[k] for k in means}


def _declared_stepwise(
    table: Table, spec: AnalysisSpec, lay: Layout, rows_checked: bool
) -> dict[str, Any]:
    """:func:`_declared_units`' checks one query at a time, in the order they report."""
    if not rows_checked:
        require_rows(table)
    t = table.expr
    counts: dict[str, Any] = {"missing": _count(table, t[spec.unit].isnull()), CHECKED: True}
    _refuse_null_ids(table, spec, counts)
    for v in lay.binary:
        bad = _count(table, _not_binary(t[v]))
        if bad:
            raise not_binary(v, bad, table.name)
    head = t.limit(HEAD_ROWS)
    shifted = _shifted(spec, lay)
    if shifted:
        counts |= _first_row(table, head.aggregate(**_source_means(head, shifted)))
    return counts


def _refuse_null_ids(table: Table, spec: AnalysisSpec, counts: dict[str, Any]) -> None:
    """Stop at null ids (the message gives the rows too: counted only then)."""
    if counts["missing"]:
        rows = int(table.engine.scalar(table.expr.count(), source=table.name))
        _grain(table, spec, counts | {"rows": rows})


def _spark_units(table: Table, spec: AnalysisSpec) -> dict[str, Any]:
    """What :func:`first_scan` reads, for data declared unit-level on Spark, without a pass
    over the table: each Spark job costs a fixed 0.3 to 1 s, so the null ids are counted
    inside the aggregate query (:func:`aggregate` checks them before anything else, with
    :func:`_grain`'s message), and the origins are the means of the first
    :data:`HEAD_ROWS` rows, taken in order from the first partition (a short job that reads
    only them; the same rows DuckDB's :func:`_declared_units` averages). Local Parquet's
    footers can spare the query both checks (:func:`_footer_checks`), and one file's
    footer the job too (:func:`_footer_head`)."""
    counts: dict[str, Any] = _footer_checks(table, spec)
    shifted = _shifted(spec, layout(spec))
    if shifted:
        rows = _footer_head(table, shifted)
        if rows is None:
            t = table.expr
            head = t.select(**{f"o{i}": t[v].cast("float64") for i, v in enumerate(shifted)})
            rows = table.engine.first_rows(head, HEAD_ROWS, source=table.name)
        counts |= {name: _mean(rows[name]) for name in rows.column_names}
    return counts


def _footer_head(table: Table, shifted: list[str]) -> Any:
    """The first :data:`HEAD_ROWS` rows of the ``shifted`` columns as floats, read with
    pyarrow from a single local Parquet file (:meth:`Footer.head`: the rows Spark's
    ``take`` collects, without its job: about a tenth of a warm analysis' time), named
    ``o0``, ``o1`` ...; None when Spark must take them (several files, or a type whose
    conversion to a float pyarrow might round otherwise than Spark, such as decimals)."""
    import pyarrow as pa

    footer = table.engine.footer(table.expr)
    schema = table.expr.schema()
    exact = all(schema[v].is_integer() or schema[v].is_floating() for v in shifted)
    head = footer.head(shifted, HEAD_ROWS) if footer is not None and exact else None
    if head is None:
        return None
    columns = [head[v].cast(pa.float64(), safe=False) for v in shifted]
    return pa.table(columns, names=[f"o{i}" for i in range(len(shifted))])


def _footer_checks(table: Table, spec: AnalysisSpec) -> dict[str, Any]:
    """The checks local Parquet's row-group statistics answer on Spark, as DuckDB answers
    them from the same statistics: no null ids (else :data:`IDS_LATER`: the aggregate
    query counts them), and integer 0/1 columns between 0 and 1 (:data:`CHECKED`). Each
    check a query need not make leaves a column it need not read (a sixth of the
    aggregate's CPU time on 10,000,000 rows). The variables without missing values
    (:data:`WHOLE`) need no count of present values in the query (:func:`sum_query`)."""
    footer = table.engine.footer(table.expr)
    counts: dict[str, Any] = {}
    if footer is None or footer.nulls(spec.unit) != 0:
        counts[IDS_LATER] = True
    lay = layout(spec)
    if footer is not None:
        counts[WHOLE] = frozenset(v for v in lay.variables if footer.nulls(v) == 0)
    binary = lay.binary
    schema = table.expr.schema()
    if footer is not None and binary and all(_zero_one(footer, schema[v], v) for v in binary):
        counts[CHECKED] = True
    return counts


def _zero_one(footer: Any, dtype: Any, column: str) -> bool:
    """Whether the statistics show an integer or boolean column within 0 and 1."""
    bounds = footer.bounds(column)
    integral = dtype.is_integer() or dtype.is_boolean()
    return integral and bounds is not None and bounds[0] >= 0 and bounds[1] <= 1


def _mean(column: Any) -> float | None:
    """The mean of an Arrow column's present values (NaN if one is NaN; None if none)."""
    import pyarrow.compute as pc

    value: float | None = pc.mean(column).as_py()
    return value


def _first_row(table: Table, expr: ir.Table) -> dict[str, Any]:
    """The one row of an aggregate, as Python values (None where missing)."""
    row: dict[str, Any] = table.engine.to_pyarrow(expr, source=table.name).to_pylist()[0]
    return row


def _not_binary(column: Any) -> Any:
    """Values other than 0 and 1. On an integer column that is ``< 0 or > 1``, which the
    row groups' min and max answer without reading the values (20 times faster than the
    ``!= 0 and != 1`` other types need, on 10,000,000 rows)."""
    if column.type().is_integer():
        return (column < 0) | (column > 1)
    value = column.cast("float64")
    return (value != 0) & (value != 1)


def _count(table: Table, condition: Any) -> int:
    """Rows where ``condition`` holds, with a filter (see :func:`_declared_units`)."""
    rows = table.expr.filter(condition).count()
    return int(table.engine.scalar(rows, source=table.name) or 0)


def _grain(table: Table, spec: AnalysisSpec, counts: dict[str, Any]) -> str:
    missing, rows = int(counts["missing"] or 0), int(counts["rows"])
    if missing:
        raise DataError(
            "rows have no unit id",
            source=table.name,
            column=spec.unit,
            found=f"{missing:,} of {rows:,} row(s) with a null id",
            hint=f"Filter them out in the query (WHERE {spec.unit} IS NOT NULL), or fix "
            "the logging; they cannot be counted as units.",
        )
    if spec.grain != "auto":
        return spec.grain
    return "unit" if rows == int(counts["units"]) else "event"


def units(table: Table, spec: AnalysisSpec, grain: str, *, ids: bool = False) -> ir.Table:
    """One row per unit with the variant, segments, day and every metric column; with
    ``ids`` (unit grain) also ``__noid``, 1 where the unit id is null."""
    import ibis  # heavy: loaded when an analysis runs

    lay = layout(spec)
    t = table.expr
    day = day_of(t, spec)
    if grain == "unit":
        cols: dict[str, Any] = {VARIANT: t[spec.variant].cast("string")}
        cols.update({s: t[s] for s in spec.segments})
        if day is not None:
            cols[DAY] = day
        cols.update({c: t[c].cast("float64") for c in _value_columns(spec)})
        cols.update({v: t[v].cast("float64") for v in lay.variables})
        if ids:
            cols["__noid"] = t[spec.unit].isnull().cast("int64")
        return t.select(**cols, __mixed=ibis.literal(0, type="int64"))
    aggs: dict[str, Any] = {
        VARIANT: t[spec.variant].cast("string").min(),
        # min != max: "more than one arm" without a per-unit distinct count
        "__mixed": ibis.ifelse(
            t[spec.variant].cast("string").min() != t[spec.variant].cast("string").max(), 1, 0
        ).cast("int64"),
    }
    aggs.update({s: t[s].min() for s in spec.segments})
    if day is not None:
        aggs[DAY] = day.min()
    for v in [*lay.variables, *_value_columns(spec)]:
        value = t[v].cast("float64")
        kept = v in lay.binary or v in lay.covariates
        aggs[v] = value.max() if kept else value.sum()
    return t.group_by(t[spec.unit]).aggregate(**aggs)


def day_of(t: ir.Table, spec: AnalysisSpec) -> Any:
    """The date (day) column expression, or None when the spec names no date. A time's
    date is its day: no truncation first, which costs Spark a quarter of the analysis'
    aggregate query (a zone-aware ``date_trunc`` per row); the cast to a time stays, so
    text with an offset is read as the same UTC time."""
    if not spec.date:
        return None
    return t[spec.date].cast("timestamp").cast("date")


def _value_columns(spec: AnalysisSpec) -> list[str]:
    """Columns some kind compares from unit values (a quantile's), beyond the moments'."""
    averaged = {c for m in spec.metrics for c in m.kind.outcomes(m)}
    cols = [m.kind.values_column(m) for m in spec.metrics]
    return [c for c in dict.fromkeys(cols) if c and c not in averaged]


@dataclass(frozen=True)
class Aggregates:
    """The finest-grain aggregate rows and the layout that names their columns."""

    rows: Rows
    layout: Layout
    grain: str
    mixed_units: int = 0
    null_covariates: dict[str, int] = field(default_factory=dict)
    origin: dict[str, float] = field(default_factory=dict)
    _by: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def moments_by(self, *keys: str) -> dict[tuple[object, ...], Moments]:
        """Moments per combination of ``keys``; each breakdown is pooled once per analysis
        (the effects, segments, novelty and day-by-day views share them)."""
        if keys not in self._by:
            self._by[keys] = pool(self.rows, self.layout, keys, self.origin)
        return self._by[keys]  # type: ignore[no-any-return]


def aggregate(
    table: Table,
    spec: AnalysisSpec,
    unit_rows: ir.Table,
    grain: str,
    scanned: dict[str, Any] | None = None,
) -> Aggregates:
    """Run the one aggregate query and check the data it summarizes (``scanned``: the
    means :func:`first_scan` read, if any)."""
    lay = layout(spec)
    origin = origins(table, spec, lay, grain, scanned)
    ids_later = bool(scanned and scanned.get(IDS_LATER))
    u = units(table, spec, grain, ids=True) if ids_later else unit_rows
    sums = table.engine.is_server or table.engine.is_spark
    checked = bool(scanned and scanned.get(CHECKED))
    asked = replace(lay, binary=[]) if checked else lay
    whole = scanned.get(WHOLE, frozenset()) if scanned else frozenset()
    known = Known(whole, frozenset(lay.binary) if checked else frozenset())
    query = sum_query(u, asked, origin, known) if sums else moment_query(u, asked, origin)
    if grain == "unit":  # one row per unit is in one arm: no sum of 10,000,000 zeros
        del query["mixed"]
    if ids_later:
        query["noid"] = u["__noid"].sum()
    expr = u.group_by(lay.keys).aggregate(**query)
    if sums:
        frame = table.engine.execute(expr, source=table.name)
        if grain == "unit":
            frame["mixed"] = 0
        rows = from_frame(from_sums(known.fill(frame, lay), lay))
    else:
        rows = moment_rows(table.engine.to_pyarrow(expr, source=table.name), lay)
        if grain == "unit":
            rows = rows.with_column("mixed", np.zeros(len(rows), dtype=np.int64))
    if ids_later:  # first, as first_scan would have raised it before this query
        _grain(table, spec, {"missing": int(rows["noid"].sum()), "rows": int(rows["n"].sum())})
    _check(rows, spec, asked, table.name)
    nulls = {c: int(rows[f"null_{lay.mean_name(c)}"].sum()) for c in lay.covariates}
    return Aggregates(
        rows, lay, grain, int(rows["mixed"].sum()), {k: v for k, v in nulls.items() if v}, origin
    )


def _source_means(t: ir.Table, shifted: list[str]) -> dict[str, Any]:
    """The per-row means :func:`origins` centres on, named ``o0``, ``o1`` ... (one home for
    the grain scan and origins' own query)."""
    return {f"o{i}": t[v].cast("float64").mean() for i, v in enumerate(shifted)}


def _shifted(spec: AnalysisSpec, lay: Layout) -> list[str]:
    dens = {c for m in spec.metrics for c in m.kind.denominators(m)}
    return [v for v in lay.variables if v not in lay.binary and v not in dens]


def origins(
    table: Table,
    spec: AnalysisSpec,
    lay: Layout,
    grain: str,
    scanned: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Per variable, a value near its per-unit mean (one aggregate of the source, or the
    means :func:`first_scan` already read, ``scanned``) that the aggregate query subtracts
    before averaging: any value inside the data's bulk serves. 0/1 columns and ratio
    denominators keep origin 0, so their means (and a zero denominator) stay exact; so does
    a column whose mean is not finite (the analysis then says it cannot be computed)."""
    shifted = _shifted(spec, lay)
    if not shifted:
        return {}
    row: Any = scanned if grain == "unit" else None
    if row is None:
        t = table.expr
        aggs = _source_means(t, shifted)
        if grain == "event":
            aggs["rows"] = t[spec.variant].count()
            aggs["units"] = t[spec.unit].approx_nunique()
        row = _first_row(table, t.aggregate(**aggs))
    per_unit = 1.0
    if grain == "event" and float(row["units"] or 0) > 0:
        per_unit = float(row["rows"]) / float(row["units"])
    out = {}
    for i, v in enumerate(shifted):
        value = row[f"o{i}"]
        if value is None or value != value:  # missing (None, NaN)
            continue
        kept = v in lay.covariates  # rolled up by max, not sum (see units)
        centre = float(value) * (1.0 if kept or grain == "unit" else per_unit)
        if np.isfinite(centre) and abs(centre) < 1e300:
            out[v] = centre
    return out


def _check(rows: Rows, spec: AnalysisSpec, lay: Layout, source: str) -> None:
    absent = missing(rows[VARIANT])
    if absent.any():
        raise DataError(
            "some units have no variant",
            source=source,
            column=spec.variant,
            found=f"{int(rows['n'][absent].sum())} unit(s)",
            hint="Filter them out in the query, or fix the assignment log.",
        )
    for v in lay.outcomes:
        nulls = int(rows[f"null_{lay.mean_name(v)}"].sum())
        if nulls:
            raise missing_values(v, nulls, source)
    for v in lay.binary:
        bad = int(rows[f"bad_{lay.mean_name(v)}"].sum())
        if bad:
            raise not_binary(v, bad, source)
    for v in lay.covariates:
        if int(rows[f"null_{lay.mean_name(v)}"].sum()) == int(rows["n"].sum()):
            raise DataError(
                "the CUPED covariate has no values at all",
                source=source,
                column=v,
                hint="Check the pre-period join; or drop the covariate from the spec.",
            )


def not_binary(column: str, count: int, source: str) -> DataError:
    """The one message for a proportion's column with values other than 0 and 1."""
    return DataError(
        "a proportion metric needs a 0/1 column",
        source=source,
        column=column,
        found=f"{count} unit(s) with other values",
        hint="Use type: mean for a numeric outcome, or recode the column to 0/1.",
    )


def missing_values(column: str, count: int, source: str) -> DataError:
    """The one message for outcome values that are missing, from aggregates or unit rows."""
    return DataError(
        "metric values are missing",
        source=source,
        column=column,
        found=f"{count} unit(s) with no value",
        hint="Fill them in the query (e.g. COALESCE(revenue, 0) for users who bought "
        "nothing), or filter those units out deliberately.",
    )
