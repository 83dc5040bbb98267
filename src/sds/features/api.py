"""The feature entry point of the public namespace, ``sds.features.run``, in the namespace's
one argument order (see :mod:`sds`): the data first, then the spec, then keyword-only
options. ``sds.features`` stays the package, so ``sds.features.<module>`` imports work.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sds.features.build import FeatureBuild, build
from sds.features.spec import FeatureSpec


def run(
    data: Any,
    spec: FeatureSpec | Mapping[str, Any],
    /,
    *,
    labels: Any = None,
    data_output: str | Path | None = None,
    write_table: str | None = None,
) -> tuple[FeatureBuild, pd.DataFrame | None]:
    """Build the spec's point-in-time features from the events in `data` and `labels`.

    Each feature of an entity is computed from its events before that entity's label time,
    so no row sees its own future.

    Args:
        data: The events: a DataFrame, path, SQL query or `Table`, or `None` for the events
            the spec names.
        spec: A `FeatureSpec` or a mapping of its fields: entity and time columns, windows
            and aggregations.
        labels: A table of entity and label time (and label), in the same forms; `None`
            for the labels the spec names (or its single `cutoff`).
        data_output: Parquet file to write the feature table to, in the engine, instead of
            returning it.
        write_table: Table (`schema.table`) to write the feature table as, computed in
            the engine's database (a server named by `settings(engine=...)`), instead of
            returning it; an earlier table of that name is replaced whole.

    Returns:
        The build's summary (rows, entities, each feature's type and missing share,
            warnings) and the feature table; with `data_output` or `write_table` the
            table is written there instead and the second item is `None`.

    Raises:
        ConfigError: The spec is not a valid feature spec (a mapping's key names it).
        DataError: A named column is missing or unusable.
    """
    chosen = spec if isinstance(spec, FeatureSpec) else dict(spec)
    return build(chosen, data, labels, data_output, table=write_table)
