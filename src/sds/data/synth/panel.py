"""A unit-by-period panel with a known treatment effect, for difference-in-differences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sds.params import Interval, check


@dataclass(frozen=True)
class PanelParams:
    """True parameters of :func:`sds.data.synth.make_panel`.

    ``y[i, t] = unit_effect[i] + time_effect[t] + effect * d[i, t] + beta_x * x[i, t] + e``
    with ``unit_effect ~ N(0, unit_sd)``, ``time_effect[t] = trend * t``,
    ``e ~ N(0, noise_sd)``. A ``treated_share`` of units is treated. Without staggering,
    every treated unit starts at ``treatment_period``; with ``staggered=True`` treated units
    fall evenly into cohorts starting at ``cohorts``. ``cohort`` is the first treated period
    (0 for never treated) and ``d`` is 1 from that period on. ``post`` is
    ``period >= treatment_period`` for the 2x2 design and equals ``d`` when staggered.
    The true ATT is ``effect``.
    """

    n_units: int = 1_000
    n_periods: int = 10
    effect: float = 2.0
    treated_share: float = 0.5
    treatment_period: int = 6
    staggered: bool = False
    cohorts: tuple[int, ...] = (4, 6, 8)
    unit_sd: float = 2.0
    trend: float = 0.3
    beta_x: float = 0.5
    noise_sd: float = 1.0

    def __post_init__(self) -> None:
        check("n_units", self.n_units, Interval(1, None, integer=True))
        check("n_periods", self.n_periods, Interval(2, None, integer=True))
        check("treated_share", self.treated_share, Interval(0.0, 1.0))
        starts = self.cohorts if self.staggered else (self.treatment_period,)
        for start in starts:
            check("treatment_period", start, Interval(2, self.n_periods, integer=True))


def panel_block(p: PanelParams, rng: Any, start: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    treated = rng.random(n) < p.treated_share
    starts = np.array(p.cohorts if p.staggered else (p.treatment_period,))
    cohort = np.where(treated, starts[rng.integers(0, len(starts), n)], 0)
    unit_effect = rng.normal(0, p.unit_sd, n)
    periods = np.arange(1, p.n_periods + 1)
    unit = np.repeat(np.arange(start, start + n), p.n_periods)
    period = np.tile(periods, n)
    cohort_long = np.repeat(cohort, p.n_periods)
    d = (cohort_long > 0) & (period >= cohort_long)
    x = rng.normal(0, 1, n * p.n_periods)
    y = (
        np.repeat(unit_effect, p.n_periods)
        + p.trend * period
        + p.effect * d
        + p.beta_x * x
        + rng.normal(0, p.noise_sd, n * p.n_periods)
    )
    return pa.table(
        {
            "unit": unit.astype(np.int64),
            "period": period.astype(np.int64),
            "cohort": cohort_long.astype(np.int64),
            "treated": (cohort_long > 0).astype(np.int8),
            "post": (d if p.staggered else period >= p.treatment_period).astype(np.int8),
            "d": d.astype(np.int8),
            "x": x,
            "y": y,
        }
    )
