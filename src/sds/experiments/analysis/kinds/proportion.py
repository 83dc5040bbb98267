"""A share of units: a 0/1 column per unit, compared as two proportions."""

from __future__ import annotations

from typing import ClassVar

from sds.experiments.analysis.effects import two_proportions
from sds.experiments.analysis.kinds.base import Metric, MetricKind, Options
from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.records import Comparison


class Proportion(MetricKind):
    """Conversion-type metrics: the column is 0/1 per unit (checked in the engine; rows of
    one unit are rolled up by max)."""

    name: ClassVar[str] = "proportion"
    binary: ClassVar[bool] = True

    def compare(
        self, metric: Metric, control: Moments, treatment: Moments, options: Options
    ) -> Comparison:
        assert metric.column is not None
        return two_proportions(metric.column, control, treatment, options.alpha)
