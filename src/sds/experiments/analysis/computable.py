"""Metrics that cannot be computed, found before any estimate is attempted.

A metric whose values are infinite, or so large that their sums and squares overflow double
precision (revenue recorded as 1e307), has no mean, variance or quantile: its effect row
says so (``not_computed``: the columns and values at fault) instead of carrying a missing
effect with a p-value of 1, and the verdict of an experiment whose primary metric is among
them is ``invalid analysis``, not "inconclusive".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sds.data.finite import unusable_aggregates, unusable_from_row
from sds.data.io import Table
from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.spec import MetricSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.experiments.analysis.unit_values import UnitValues


def broken(metric: MetricSpec, per_arm: dict[Any, Moments], values: UnitValues | None) -> bool:
    """True when the metric's means or co-moments (or, for a quantile, its unit values)
    are unusable."""
    if values is not None:
        return bool(values.unusable)
    columns = {*metric.columns, *metric.covariates}
    for mom in per_arm.values():
        if any(not math.isfinite(mom.mean(c)) for c in mom.means if c in columns):
            return True
        if any(not math.isfinite(x) for k, x in mom.comoments.items() if columns & set(k)):
            return True
    return False


def diagnose(metric: MetricSpec, table: Table, unit_rows: ir.Table) -> str:
    """Which of the metric's columns hold infinite or huge unit values (one small query)."""
    columns = list(dict.fromkeys([*metric.columns, *metric.covariates]))
    aggs = unusable_aggregates(unit_rows, columns)
    row = table.engine.execute(unit_rows.aggregate(**aggs), source=table.name).iloc[0]
    found = unusable_from_row(row, columns)
    bad = [f.describe() for f in found]
    if not bad:
        return "its sums or variances overflow double precision"
    return (
        f"unit values in {'; '.join(bad)} make its sums and variances overflow; fix or "
        "filter those rows, or rescale the column"
    )
