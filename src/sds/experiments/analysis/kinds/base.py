"""What a metric kind is: the columns it needs from the engine and how it compares two arms.

An analysis asks every question that depends on a metric's kind of its :class:`MetricKind`:
which columns are averaged per unit (and whether they must be 0/1), which checks and
adjustments apply (CUPED, segments, novelty, sequential looks), what a valid metric spec of
the kind names, and how treatment is compared with control. A new kind is one subclass in
one file, registered with :func:`sds.experiments.analysis.kinds.registry.register`; nothing
else in the analysis changes.

Kinds estimated from the engine's moments (``from_moments``: per-arm count, means and
centred co-moments of their columns) implement :meth:`MetricKind.compare`; kinds that need
every unit's value (a quantile) implement :meth:`MetricKind.compare_values` and name the
column in :meth:`MetricKind.values_column`.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.records import Comparison


class Metric(Protocol):
    """The fields of a metric spec that kinds read (:class:`analysis.spec.MetricSpec`)."""

    name: str
    type: str
    column: str | None
    numerator: str | None
    denominator: str | None
    covariate: str | None
    numerator_covariate: str | None
    denominator_covariate: str | None
    q: float | None

    @property
    def columns(self) -> list[str]: ...

    @property
    def covariates(self) -> list[str]: ...


@dataclass(frozen=True)
class Options:
    """The analysis settings a comparison uses."""

    alpha: float = 0.05
    equal_var: bool = False  # Student instead of Welch
    resamples: int = 2000  # bootstrap kinds
    bootstrap: str = "percentile"
    seed: int = 0


class MetricKind(ABC):
    """A metric kind. Subclasses set ``name`` and the flags and override what differs."""

    name: ClassVar[str]
    binary: ClassVar[bool] = False  # outcome columns hold 0/1 (checked; max per unit)
    from_moments: ClassVar[bool] = True  # compared from moments, not from unit values
    cuped: ClassVar[bool] = False  # accepts pre-period covariates (CUPED)
    segments: ClassVar[bool] = True  # broken down by segment columns
    novelty: ClassVar[bool] = True  # daily effects and their trend
    sequential: ClassVar[bool] = True  # cumulative effects and sequential looks

    def validate(self, metric: Metric) -> None:
        """Raise ValueError when the spec does not name what the kind needs. Default: a
        value column, and no covariate unless the kind supports CUPED."""
        need_column(metric)
        if metric.covariate and not self.cuped:
            raise ValueError(f"{where(metric)}: covariate (CUPED) applies to mean metrics")

    def outcomes(self, metric: Metric) -> list[str]:
        """Columns the engine averages per arm (empty for kinds compared from unit values)."""
        return metric.columns if self.from_moments else []

    def covariates(self, metric: Metric) -> list[str]:
        """Pre-period columns the engine averages beside the outcomes."""
        return metric.covariates if self.from_moments else []

    def denominators(self, metric: Metric) -> list[str]:
        """Columns whose mean must not be zero in any arm (kept exact, never shifted)."""
        return []

    def values_column(self, metric: Metric) -> str | None:
        """The column whose unit-level values :meth:`compare_values` needs, if any."""
        return None

    def compare(
        self, metric: Metric, control: Moments, treatment: Moments, options: Options
    ) -> Comparison:
        """Treatment against control from the two arms' moments."""
        raise NotImplementedError(f"a {self.name} metric is compared from unit values")

    def compare_values(
        self, metric: Metric, control: np.ndarray, treatment: np.ndarray, options: Options
    ) -> Comparison:
        """Treatment against control from the two arms' unit values."""
        raise NotImplementedError(f"a {self.name} metric is compared from moments")


def where(metric: Metric) -> str:
    return f"metric {metric.name!r}"


def need_column(metric: Metric) -> None:
    if not metric.column:
        raise ValueError(f"{where(metric)}: a {metric.type} metric needs column")
