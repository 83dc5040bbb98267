"""A feature build's summary: rows, entities, label-time range, each feature's type and
missing share. Read from the feature table by one aggregate query, or, for a Spark file
written at one cutoff, observed while Spark writes it (:func:`summary_sql`: no job of its
own, where reading the file back cost a pass and a Spark job)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sds.data.io import Table


def summary(table: Table, carried: list[str]) -> dict[str, Any]:
    """Rows, entities, label-time range and each feature's type and missing share (the
    carried label columns are not features), by one aggregate query over ``table``."""
    t = table.expr
    entity, label = t.columns[0], t.columns[1]
    aggs: dict[str, Any] = {
        "rows": t.count(),
        "entities": t[entity].nunique(),
        "first": t[label].min().cast("string"),
        "last": t[label].max().cast("string"),
    }
    names = feature_names(t.columns, carried)
    aggs.update({f"null_{i}": t[c].isnull().mean() for i, c in enumerate(names)})
    row = table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0]
    return _result(row, table, names, prefix="")


def feature_names(columns: list[str] | tuple[str, ...], carried: list[str]) -> list[str]:
    """The features among a feature table's columns: after the two keys, not carried."""
    return [c for c in columns[2:] if c not in carried]


def summary_sql(columns: list[str], carried: list[str]) -> dict[str, str]:
    """:func:`summary`'s aggregates as Spark SQL, for a Spark write at one cutoff to observe
    (``Engine.write_observing``), over the written ``columns`` (entity and label time
    first). At a cutoff the rows are grouped by entity, so the entities are the rows with
    one (``count``, where an observed aggregate may not be ``DISTINCT``)."""
    entity, label = (_quoted(c) for c in columns[:2])
    aggs = {
        "summary_rows": "count(*)",
        "summary_entities": f"count({entity})",
        "summary_first": f"CAST(min({label}) AS STRING)",
        "summary_last": f"CAST(max({label}) AS STRING)",
    }
    for i, c in enumerate(feature_names(columns, carried)):
        aggs[f"summary_null_{i}"] = f"avg(CASE WHEN {_quoted(c)} IS NULL THEN 1 ELSE 0 END)"
    return aggs


def observed_summary(row: dict[str, Any], written: Table, carried: list[str]) -> dict[str, Any]:
    """:func:`summary` from :func:`summary_sql`'s observed values; the types are the
    written file's (read from its footers, no query). An average over no rows is NULL,
    read as NaN, as :func:`summary`'s pandas row reads it."""
    row = {k: float("nan") if v is None and "_null_" in k else v for k, v in row.items()}
    return _result(row, written, feature_names(written.columns, carried), prefix="summary_")


def _result(row: Any, table: Table, names: list[str], prefix: str) -> dict[str, Any]:
    schema = table.expr.schema()
    features = tuple(
        {
            "feature": c,
            "type": str(schema[c]),
            "missing": float(row[f"{prefix}null_{i}"] or 0.0),
        }
        for i, c in enumerate(names)
    )
    return {
        "rows": int(row[f"{prefix}rows"]),
        "entities": int(row[f"{prefix}entities"]),
        "label_times": (str(row[f"{prefix}first"]), str(row[f"{prefix}last"])),
        "features": features,
    }


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
