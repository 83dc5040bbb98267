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
) -> tuple[FeatureBuild, pd.DataFrame | None]:
    """Build the spec's point-in-time features from the events in ``data`` (a DataFrame,
    path, SQL or Table; ``None`` for the events the spec names) and ``labels``.

    Returns the build's summary and the feature table; with ``data_output`` the table is
    written to that Parquet file instead and the second item is ``None``.
    """
    return build(spec if isinstance(spec, FeatureSpec) else dict(spec), data, labels, data_output)
