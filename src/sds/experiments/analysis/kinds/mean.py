"""A mean per unit, optionally adjusted with a pre-period covariate (CUPED)."""

from __future__ import annotations

from typing import ClassVar

from sds.experiments.analysis.effects import RatioTerms, ratio_of_means
from sds.experiments.analysis.kinds.base import Metric, MetricKind, Options
from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.records import Comparison


class Mean(MetricKind):
    """Revenue-type metrics: Welch (or Student) t on the per-unit values; a mean is a ratio
    of means with denominator 1, so it shares the ratio's formula."""

    name: ClassVar[str] = "mean"
    cuped: ClassVar[bool] = True

    def compare(
        self, metric: Metric, control: Moments, treatment: Moments, options: Options
    ) -> Comparison:
        terms = RatioTerms(metric.column, None, metric.covariate, None, delta=False)
        return ratio_of_means(terms, control, treatment, options.alpha, options.equal_var)
