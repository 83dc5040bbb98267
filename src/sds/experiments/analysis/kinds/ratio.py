"""A ratio of two per-unit sums (orders per session), by the delta method."""

from __future__ import annotations

from typing import ClassVar

from sds.experiments.analysis.effects import RatioTerms, ratio_of_means
from sds.experiments.analysis.kinds.base import Metric, MetricKind, Options, where
from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.records import Comparison


class Ratio(MetricKind):
    """``sum numerator / sum denominator`` per arm, with CUPED on the pre-period ratio when
    both ``numerator_covariate`` and ``denominator_covariate`` are given."""

    name: ClassVar[str] = "ratio"
    cuped: ClassVar[bool] = True

    def validate(self, metric: Metric) -> None:
        if not (metric.numerator and metric.denominator):
            raise ValueError(f"{where(metric)}: a ratio metric needs numerator and denominator")
        if bool(metric.numerator_covariate) != bool(metric.denominator_covariate):
            raise ValueError(
                f"{where(metric)}: give both numerator_covariate and denominator_covariate "
                "(the pre-period ratio), or neither"
            )
        if metric.covariate:
            raise ValueError(f"{where(metric)}: covariate (CUPED) applies to mean metrics")

    def denominators(self, metric: Metric) -> list[str]:
        named = [metric.denominator, metric.denominator_covariate]
        return [c for c in named if c]

    def compare(
        self, metric: Metric, control: Moments, treatment: Moments, options: Options
    ) -> Comparison:
        terms = RatioTerms(
            metric.numerator,
            metric.denominator,
            metric.numerator_covariate,
            metric.denominator_covariate,
            delta=True,
        )
        return ratio_of_means(terms, control, treatment, options.alpha, options.equal_var)
