"""A quantile of the per-unit values (p90 latency), compared by the bootstrap."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sds.experiments.analysis.kinds.base import Metric, MetricKind, Options, need_column, where
from sds.experiments.analysis.quantile import quantile_effect
from sds.experiments.analysis.records import Comparison


class Quantile(MetricKind):
    """Needs every unit's value (one unit-level read), so it has no engine moments: no
    CUPED, segment breakdown, novelty check or sequential looks."""

    name: ClassVar[str] = "quantile"
    from_moments: ClassVar[bool] = False
    segments: ClassVar[bool] = False
    novelty: ClassVar[bool] = False
    sequential: ClassVar[bool] = False

    def validate(self, metric: Metric) -> None:
        need_column(metric)
        if metric.q is None:
            raise ValueError(
                f"{where(metric)}: a quantile metric needs q between 0 and 1, e.g. 0.9"
            )
        if metric.covariate:
            raise ValueError(f"{where(metric)}: covariate (CUPED) applies to mean metrics")

    def values_column(self, metric: Metric) -> str | None:
        return metric.column

    def compare_values(
        self, metric: Metric, control: np.ndarray, treatment: np.ndarray, options: Options
    ) -> Comparison:
        return quantile_effect(
            control,
            treatment,
            float(metric.q or 0.5),
            alpha=options.alpha,
            resamples=options.resamples,
            method=options.bootstrap,
            seed=options.seed,
        )
