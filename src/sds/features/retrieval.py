"""Reading a stored feature set: all rows, as of a time, for a label table (point in time),
or the latest row of some entities (serving).

A stored row (entity, label time t, features) uses only events before t, so it is valid
from t on. "As of T" gives each entity's newest row with t <= T; a label table gets, for
each (entity, time), the newest row with t <= time (an as-of join in the engine).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sds.data.io import Table, open_table
from sds.errors import DataError, missing_column_error
from sds.features.store import FeatureStore, Version


def stored_table(store: FeatureStore, ref: str) -> tuple[Version, Table]:
    version = store.version(ref)
    table = open_table(str(store.table_path(version)), require_rows=False)
    return version, table


def _keys(version: Version) -> tuple[str, str]:
    return version.spec["entity"], version.spec["label_time"]


def _features(version: Version, table: Table) -> list[str]:
    """The stored features, in table order: the version's schema, never the label table's
    columns a build carried beside them (a label served or joined as a feature leaks)."""
    return [c for c in table.expr.columns if c in version.schema]


def as_of(store: FeatureStore, ref: str, when: str) -> Any:
    """Each entity's newest row valid at ``when``."""
    import ibis

    version, table = stored_table(store, ref)
    entity, label = _keys(version)
    try:
        moment = pd.Timestamp(when)
    except ValueError as exc:
        raise DataError("--as-of is not a time", found=repr(when)) from exc
    t = table.expr.select(entity, label, *_features(version, table))
    valid = t.filter(t[label] <= ibis.literal(moment.tz_localize(None), type="timestamp"))
    newest = valid[label].max().over(group_by=valid[entity])
    return valid.filter(valid[label] == newest)


def for_labels(
    store: FeatureStore,
    ref: str,
    labels: Any,
    time_column: str | None = None,
    keep: tuple[str, ...] = (),
) -> Any:
    """For each label row (entity, time): the newest stored row at or before that time;
    the label table's ``keep`` columns (a target, say) ride along. Rows come sorted by
    entity and time."""
    version, table = stored_table(store, ref)
    entity, label = _keys(version)
    lab = labels if isinstance(labels, Table) else open_table(labels, engine=table.engine)
    time_column = time_column or label
    for column in (entity, time_column, *keep):
        if column not in lab.columns:
            raise missing_column_error(column, lab.columns, lab.name)
    left = lab.expr.select(entity, *keep, __at=lab.expr[time_column].cast("timestamp"))
    right = table.expr.rename({"__entity": entity, "__valid_from": label})
    joined = left.asof_join(
        right,
        on=left["__at"] >= right["__valid_from"],
        predicates=left[entity] == right["__entity"],
    )
    features = _features(version, table)
    out = joined.select(
        left[entity],
        **{time_column: left["__at"]},
        **{c: left[c] for c in keep},
        **{c: joined[c] for c in features},
    )
    # A parallel as-of join returns rows in any order; training splits by row position,
    # so the same labels must always come back in the same order.
    return out.order_by([entity, time_column])


def latest(store: FeatureStore, ref: str, entities: list[Any]) -> Any:
    """The newest row of each entity in ``entities`` (for serving)."""
    version, table = stored_table(store, ref)
    entity, label = _keys(version)
    t = table.expr.select(entity, label, *_features(version, table))
    values = _typed(entities, t[entity].type())
    mine = t.filter(t[entity].isin(values))
    newest = mine[label].max().over(group_by=mine[entity])
    return mine.filter(mine[label] == newest)


def _typed(values: list[Any], dtype: Any) -> list[Any]:
    """Command-line entity ids arrive as text; match the stored key's type."""
    if dtype.is_integer():
        try:
            return [int(v) for v in values]
        except ValueError as exc:
            raise DataError("entity ids must be integers for this feature set") from exc
    return [str(v) for v in values]
