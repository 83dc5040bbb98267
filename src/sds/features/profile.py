"""Profile a table with engine aggregates: nothing but small summaries reaches Python.

One grouped-free aggregate query computes every column's counts, distincts, moments and
quantiles in a single scan; one more counts duplicate (whole) rows
(:mod:`sds.data.rowcount`); then one small GROUP BY per column gives its top values (on
Spark all in one query, :mod:`sds.features.profile_top`), and one query (a UNION ALL of a
GROUP BY per column) every histogram.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sds.data.finite import MAX_MAGNITUDE
from sds.data.io import Table, open_table
from sds.data.rowcount import count_distinct_rows
from sds.data.schema import kind_of
from sds.data.together import execute_together
from sds.features.profile_result import (
    QUANTILE_NAMES,
    QUANTILES,
    ColumnProfile,
    Profile,
    ProfileOptions,
    column_flags,
    table_flags,
)
from sds.features.profile_top import top_steps, top_values
from sds.progress import progress_steps

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.engine import Engine


def profile(
    source: Any,
    options: ProfileOptions | None = None,
    *,
    columns: Sequence[str] | None = None,
    engine: Engine | None = None,
    **open_kwargs: Any,
) -> Profile:
    """Profile `source` (anything `sds.open_table` opens); `columns`
    profiles only those (as `sds profile --columns`; the options' own list otherwise).

    Args:
        source: A DataFrame, path, glob, SQL query or `Table`.
        options: What to compute and where the data-quality flags trip (top-k, bins,
            thresholds); `None` uses the defaults of `ProfileOptions`.
        columns: Column name(s) to profile; duplicate rows are still counted on whole
            rows. `None` uses `options.columns`, else every column.
        engine: The engine to open `source` on; `None` uses the settings' engine.
        **open_kwargs: Passed to `sds.open_table` (`table=`, `encoding=`, `name=`).

    Returns:
        Row and column counts, duplicate rows, each column's statistics and the
            data-quality flags.

    Raises:
        DataError: The source cannot be read, or a named column is missing.

    Examples:
        >>> import sds
        >>> from sds.data import synth
        >>> p = sds.profile(synth.make_churn(n_rows=500, seed=1))
        >>> p.n_rows
        500
    """
    opts = options or ProfileOptions()
    if columns is not None:
        chosen = (columns,) if isinstance(columns, str) else tuple(columns)  # one name or many
        opts = replace(opts, columns=chosen or None)
    table = (
        source if isinstance(source, Table) else open_table(source, engine=engine, **open_kwargs)
    )
    whole = table  # duplicate rows are whole rows, whichever columns are profiled
    if opts.columns:
        table = table.select(list(opts.columns))
    with table.materialized() as copy:  # released when the profile is done, or fails
        return _profile(copy, whole if opts.columns else copy, opts)


def _profile(table: Table, whole: Table, opts: ProfileOptions) -> Profile:
    """The profile of `table`, with duplicate rows counted on `whole`."""
    t = table.expr
    names = list(t.columns)
    kinds = [kind_of(t.schema()[n]) for n in names]
    # each step's label is shown before it runs (the first, one scan of every column, is
    # the longest) and the step counted when it ends
    with progress_steps(4 + top_steps(table, len(names)), f"profiling {table.name}") as steps:
        steps.show("column statistics")
        n_rows = int(table.engine.scalar(t.count(), source=table.name))
        exact = n_rows <= _exact_limit(table, opts) or not _has_sketch(table.engine)
        stats = _column_stats(table, names, kinds, exact)
        steps("column statistics")
        steps.show("duplicate rows")
        duplicates = n_rows - _distinct_rows(whole)
        steps("duplicate rows")
        profiles = [
            _column(table, i, name, kind, stats, n_rows)
            for i, (name, kind) in enumerate(zip(names, kinds, strict=True))
        ]
        wanted = {c.name for c in profiles if _wants_top(c, n_rows)}
        tops = top_values(table, names, wanted.__contains__, n_rows, opts.top_k, steps)
        profiles = [replace(c, top_values=tops.get(c.name, [])) for c in profiles]
        steps.show("histograms")
        found = _histograms(table, profiles, opts.bins)
        profiles = [replace(c, histogram=found.get(c.name)) for c in profiles]
        steps("histograms")
        steps.show("duplicate columns")
        flags = table_flags(n_rows, duplicates) + duplicate_columns(table, profiles)
        steps("duplicate columns")
    flags += [
        {"column": c.name, "flag": f, "detail": d}
        for c in profiles
        for f, d in column_flags(c, n_rows, opts)
    ]
    return Profile(
        source=table.name,
        n_rows=n_rows,
        n_columns=len(names),
        duplicate_rows=duplicates,
        distinct_method="exact" if exact else _sketch_error(table),
        columns=tuple(_with_flags(c, flags) for c in profiles),
        flags=tuple(flags),
        options=opts,
    )


MAX_PAIRS = 200  # candidate column pairs compared exactly, in one query


def duplicate_columns(table: Table, profiles: list[ColumnProfile]) -> list[dict[str, str]]:
    """Columns equal to an earlier column in every row (nulls in the same rows), flagged
    ``duplicate_column``. Candidates share dtype, null count, distinct count and, for
    numbers, min and max (already computed); each pair is then confirmed exactly in the
    engine (``IS NOT DISTINCT FROM`` in every row), all pairs in one query."""
    groups: dict[tuple[Any, ...], list[ColumnProfile]] = {}
    for c in profiles:
        if c.distinct_count > 1:  # constant and all-null columns have flags of their own
            numeric = c.numeric or {}
            key = (c.dtype, c.null_count, c.distinct_count, numeric.get("min"), numeric.get("max"))
            groups.setdefault(key, []).append(c)
    pairs = [
        (a.name, b.name)
        for group in groups.values()
        for j, b in enumerate(group)
        for a in group[:j]
    ][:MAX_PAIRS]
    if not pairs:
        return []
    t = table.expr
    differing = {
        f"p{i}": (~t[a].identical_to(t[b])).sum() for i, (a, b) in enumerate(pairs)
    }  # a sum of booleans, as the zero counts: PostgreSQL has no boolean-to-bigint cast
    row = table.engine.execute(t.aggregate(**differing), source=table.name).iloc[0]
    flags: dict[str, dict[str, str]] = {}
    for i, (a, b) in enumerate(pairs):
        if _count(row[f"p{i}"]) == 0 and b not in flags:
            detail = f"equal to {a!r} in every row"
            flags[b] = {"column": b, "flag": "duplicate_column", "detail": detail}
    return list(flags.values())


def _with_flags(col: ColumnProfile, flags: list[dict[str, str]]) -> ColumnProfile:
    return replace(col, flags=[f["flag"] for f in flags if f["column"] == col.name])


def _finite(col: ir.Column, kind: str) -> ir.Column:
    import ibis

    if kind == "float":
        col = col.cast("float64")
        return ibis.ifelse(col.isnan() | col.isinf(), ibis.null("float64"), col)
    return col


def _moments(v: ir.Column, p: str, kind: str) -> dict[str, Any]:
    """Mean and standard deviation; for floats, over the values small enough to square
    (the engine refuses a deviation that overflows), with a count of the others, which
    void both (see :mod:`sds.data.finite`)."""
    import ibis

    if kind != "float":
        return {p + "mean": v.mean(), p + "std": v.std()}

    huge = v.abs() > MAX_MAGNITUDE
    safe = ibis.ifelse(huge, ibis.null("float64"), v)
    return {p + "mean": safe.mean(), p + "std": safe.std(), p + "huge": huge.sum()}


def _exact_limit(table: Table, opts: ProfileOptions) -> int:
    """Rows up to which distinct values are counted exactly. DuckDB: 10,000,000 (1.9 GB for
    18 columns; its sketch is coarse). Spark: 2,000,000, since many exact distinct counts in
    one Spark query copy the data once per column, and its sketch is good to about 5%."""
    if opts.exact_distinct_max_rows is not None:
        return opts.exact_distinct_max_rows
    return 2_000_000 if table.engine.is_spark else 10_000_000


def _has_sketch(engine: Engine) -> bool:
    """Whether the engine's approximate distinct counts and quantiles differ from the exact
    ones: PostgreSQL has no sketch (Ibis compiles both to ``COUNT(DISTINCT)`` and
    ``percentile_cont``), so its profile is always exact."""
    return engine.backend != "postgres"


def _sketch_error(table: Table) -> str:
    """What the approximate distinct counts are worth, measured per engine: Spark's
    HyperLogLog++ runs at 5% relative standard deviation; DuckDB 1.5's sketch was measured
    10-20% off on 1,000 to 1,000,000 distinct values (see docs/spark.md)."""
    if table.engine.is_spark:
        return "approximate (HyperLogLog++, about 5% error)"
    if table.engine.backend == "duckdb":
        return "approximate (HyperLogLog, often 10-20% error)"
    return f"approximate (the {table.engine.backend} engine's own sketch)"


def _column_stats(table: Table, names: list[str], kinds: list[str], exact: bool) -> dict[str, Any]:
    """Every column's summary statistics in one aggregate query (one scan); on Spark, the
    sketches and quantiles in a query of their own (see :func:`_on_spark`) and the exact
    distinct counts in another (see :func:`_spark_distincts`)."""
    t = table.expr
    aggs: dict[str, Any] = {}
    sketches: set[str] = set()  # distinct counts and quantiles: Spark's imperative aggregates
    apart = exact and table.engine.is_spark
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        col = t[name]
        p = f"c{i}_"
        aggs[p + "nn"] = col.count()
        if not apart:
            aggs[p + "distinct"] = col.nunique() if exact else col.approx_nunique()
            sketches.add(p + "distinct")
        if kind in ("integer", "float"):
            v = _finite(col, kind)
            aggs.update(
                {
                    p + "min": v.min(),
                    p + "max": v.max(),
                    p + "zeros": (v == 0).sum(),
                }
            )
            aggs.update(_moments(v, p, kind))
            aggs[p + "q"] = (
                v.quantile(list(QUANTILES)) if exact else v.approx_quantile(list(QUANTILES))
            )
            sketches.add(p + "q")
            if kind == "float":
                fv = col.cast("float64")
                aggs[p + "nan"] = fv.isnan().sum()
                aggs[p + "inf"] = fv.isinf().sum()
        elif kind == "string":
            length = col.length()
            aggs.update(
                {
                    p + "lmin": length.min(),
                    p + "lmax": length.max(),
                    p + "lmean": length.mean(),
                    p + "empty": (length == 0).sum(),
                }
            )
        elif kind == "temporal":
            aggs.update({p + "min": col.min(), p + "max": col.max()})
    if table.engine.is_spark:
        row = _on_spark(table, aggs, sketches)
    else:
        row = dict(table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0])
    if apart:
        row.update(_spark_distincts(table, names))
    return row


def _on_spark(table: Table, aggs: dict[str, Any], sketches: set[str]) -> dict[str, Any]:
    """`aggs` on Spark as two aggregate queries: the `sketches` (``approx_count_distinct``,
    ``percentile_approx``, ``percentile``) and the plain aggregates. A sketch is an
    imperative aggregate, which Spark never compiles to code: in one query with them, every
    count, sum, minimum and moment ran interpreted too, and a second scan costs less (at
    10,000,000 rows of 18 columns 65 s of task CPU as one query, 12 s and 44 s as two).
    Each figure is computed by the same function over the same rows: the answers are the
    same."""
    import pandas as pd

    t = table.expr
    parts = [
        {k: a for k, a in aggs.items() if k not in sketches},
        {k: a for k, a in aggs.items() if k in sketches},
    ]
    found = [table.engine.execute(t.aggregate(**part), source=table.name) for part in parts if part]
    # one frame in the aggregates' order: its row has the types the single query's had
    return dict(pd.concat(found, axis=1)[list(aggs)].iloc[0])


def _spark_distincts(table: Table, names: list[str]) -> dict[str, int]:
    """Each column's exact distinct count on Spark, one small aggregate per column joined by
    UNION ALL (one query). Several ``COUNT(DISTINCT)`` in one aggregate make Spark copy every
    row once per column (its Expand operator), and every other aggregate of the query then
    runs over the copies: at 1,000,000 rows of 18 columns the single query took minutes."""
    import ibis

    t = table.expr
    parts = [
        t.aggregate(i=ibis.literal(i, "int64"), n=t[name].nunique().cast("int64"))
        for i, name in enumerate(names)
    ]
    found = table.engine.execute(ibis.union(*parts), source=table.name)
    return {f"c{i}_distinct": int(n) for i, n in zip(found["i"], found["n"], strict=True)}


def _distinct_rows(table: Table) -> int:
    """Count of distinct whole rows (every column of the source, also when ``--columns``
    profiles only some: a repeat of two chosen columns is not a duplicate row): exact, or
    by 64-bit row hashes on DuckDB (see :mod:`sds.data.rowcount`)."""
    return count_distinct_rows(table.engine, table.expr, source=table.name)


def _num(value: Any) -> Any:
    if value is None:
        return None
    try:
        if isinstance(value, float) and math.isnan(value):
            return None
    except TypeError:
        return value
    return value


def _count(value: Any) -> int:
    """An engine count; a SUM over no rows comes back null (None or NaN), meaning 0."""
    value = _num(value)
    return 0 if value is None else int(value)


def _column(
    table: Table, i: int, name: str, kind: str, stats: dict[str, Any], n_rows: int
) -> ColumnProfile:
    """One column's profile from the aggregate ``stats``; its top values and histogram
    come later (:func:`sds.features.profile_top.top_values`, :func:`_histograms`)."""
    p = f"c{i}_"
    non_null = int(stats[p + "nn"])
    distinct = int(stats[p + "distinct"])
    numeric = text = temporal = None
    if kind in ("integer", "float"):
        numeric = _numeric_block(stats, p)
    elif kind == "string":
        text = {
            "min_length": _num(stats[p + "lmin"]),
            "max_length": _num(stats[p + "lmax"]),
            "mean_length": _num(stats[p + "lmean"]),
            "empty_count": _count(stats[p + "empty"]),
        }
    elif kind == "temporal":
        temporal = {"min": _num(stats[p + "min"]), "max": _num(stats[p + "max"])}
    return ColumnProfile(
        name=name,
        dtype=str(table.expr.schema()[name]),
        kind=kind,
        null_count=n_rows - non_null,
        null_share=(n_rows - non_null) / n_rows,
        distinct_count=distinct,
        numeric=numeric,
        text=text,
        temporal=temporal,
        top_values=[],
        histogram=None,
    )


def _numeric_block(stats: dict[str, Any], p: str) -> dict[str, Any]:
    quantiles = stats[p + "q"]
    qs = [None] * len(QUANTILES) if quantiles is None else [_num(q) for q in quantiles]
    block = {
        "min": _num(stats[p + "min"]),
        "max": _num(stats[p + "max"]),
        "mean": _num(stats[p + "mean"]),
        "std": _num(stats[p + "std"]),
    }
    block.update(dict(zip(QUANTILE_NAMES, qs, strict=True)))
    block["nan_count"] = _count(stats.get(p + "nan"))
    block["inf_count"] = _count(stats.get(p + "inf"))
    huge = _count(stats.get(p + "huge"))
    if huge:  # beyond 1e150: no mean or deviation in double precision
        block.update(mean=None, std=None, huge_count=huge)
    block["zero_count"] = _count(stats[p + "zeros"])
    return block


def _wants_top(col: ColumnProfile, n_rows: int) -> bool:
    """Whether a column gets top values: not when it has no values, nor when it is mostly
    unique (more distinct values than half its non-null rows), booleans excepted."""
    non_null = n_rows - col.null_count
    mostly_unique = col.distinct_count > 0.5 * non_null and col.kind != "boolean"
    return non_null > 0 and not mostly_unique


def _histograms(
    table: Table, profiles: list[ColumnProfile], bins: int
) -> dict[str, dict[str, list[Any]]]:
    """Equal-width bins over each numeric or temporal column's finite range, counted in the
    engine: every column's GROUP BY joined by UNION ALL, one query (on Spark one job, not
    one per column)."""
    plans = {}
    for c in profiles:
        plan = _histogram_plan(table.expr, c.name, c.kind, c.numeric, c.temporal, bins)
        if plan is not None:
            plans[c.name] = (c, *plan)
    if not plans:
        return {}
    found = execute_together(table.engine, [p[1] for p in plans.values()], source=table.name)
    out = {}
    for (c, _, lo, width), rows in zip(plans.values(), found, strict=True):
        counts = [0] * bins
        for b, n in zip(rows["b"], rows["n"], strict=True):
            counts[int(b)] = int(n)
        edges: list[Any] = [lo + width * j for j in range(bins + 1)]
        if c.temporal:
            edges = [_iso(e) for e in edges]
        out[c.name] = {"edges": edges, "counts": counts}
    return out


def _histogram_plan(
    t: ir.Table,
    name: str,
    kind: str,
    numeric: dict[str, Any] | None,
    temporal: dict[str, Any] | None,
    bins: int,
) -> tuple[ir.Table, float, float] | None:
    """A column's ``bins`` bin counts (``b``, ``n``) as an expression, with the first edge
    and the width; None for a column without a histogram."""
    if numeric and numeric["min"] is not None:
        lo, hi = float(numeric["min"]), float(numeric["max"])
        value = _finite(t[name], kind).cast("float64")
        if kind == "integer":  # whole-number bins so every bar holds as many integers
            step = math.ceil((hi - lo + 1) / bins)
            bins = math.ceil((hi - lo + 1) / step)
            lo, hi = lo - 0.5, lo - 0.5 + step * bins
    elif temporal and temporal["min"] is not None:
        value = t[name].cast("timestamp").epoch_seconds().cast("float64")
        lo, hi = _epoch(temporal["min"]), _epoch(temporal["max"])
    else:
        return None
    width = (hi - lo) / bins if hi > lo else 1.0
    values = t.select(v=value).filter(lambda s: s.v.notnull())
    bucket = ((values.v - lo) / width).floor().cast("int64").clip(0, bins - 1)
    return values.group_by(b=bucket).aggregate(n=values.count()), lo, width


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None).isoformat()


def _epoch(value: Any) -> float:
    import pandas as pd

    return float(pd.Timestamp(value).timestamp())
