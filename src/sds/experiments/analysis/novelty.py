"""Novelty and primacy: does the primary metric's effect change with time since exposure?

Event-level data with a date column: each unit's first event is its exposure; the metric is
rolled up per unit and day since exposure in the engine (one query), and on day ``k`` every
unit exposed at least ``k`` days before the data ends counts (units without events that day
contribute zero, so the daily populations are the exposed cohorts, not the survivors).
Unit-level data has no event times, so the effect is shown by assignment-day cohort, which
mixes novelty with cohort differences and exposure length: the report says which it is.

Trend test: weighted least squares of the daily effect on the day (weights 1 / se^2, t test
of the slope; the closed form of a straight line, equal to statsmodels ``WLS`` to 1e-12,
whose import with scipy.stats' would cost more than the analysis). A slope against the
effect's sign is a fading (novelty) effect; with it, a growing (primacy or learning)
effect. CUPED is not applied to the daily effects: the check is about the shape, not the
precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sds.data.io import Table
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis.kinds import Options
from sds.experiments.analysis.queries import DAY, VARIANT
from sds.experiments.analysis.spec import AnalysisSpec, MetricSpec
from sds.experiments.analysis.timeline_records import NoveltyArm, NoveltyCheck, NoveltyDay, Trend
from sds.stats.distributions import t_sf

SINCE = "__since"
MIN_DAYS = 3


def novelty(
    spec: AnalysisSpec,
    agg: ag.Aggregates,
    table: Table,
    arms: list[str],
) -> NoveltyCheck:
    """Daily effects and the trend test per treatment arm, or why the check did not run."""
    metric = _plain(next(m for m in spec.metrics if m.name == spec.primary_metrics[0]))
    if not spec.date:
        return NoveltyCheck(False, reason="the spec names no date column")
    if not metric.kind.novelty:
        return NoveltyCheck(False, reason=f"the primary metric is a {metric.type}")
    if agg.grain == "event":
        cells, basis = _since_exposure(spec, agg, table, metric), "days since exposure"
    else:
        cells, basis = _cohorts(agg), "assignment-day cohort (unit-level data)"
    days = sorted({day for _, day in cells})
    found = []
    for arm in arms[1:]:
        rows = _daily(spec, metric, cells, days, arms[0], arm)
        found.append(NoveltyArm(arm, tuple(rows), trend(rows, spec.alpha)))
    return NoveltyCheck(True, metric=metric.name, basis=basis, arms=tuple(found))


def _plain(metric: MetricSpec) -> MetricSpec:
    none = {"covariate": None, "numerator_covariate": None, "denominator_covariate": None}
    return metric.model_copy(update=none)


def _cohorts(agg: ag.Aggregates) -> dict[tuple[str, int], mo.Moments]:
    daily = agg.moments_by(VARIANT, DAY)
    first = min(_date(day) for _, day in daily)
    return {(str(arm), int((_date(day) - first).astype(int))): m for (arm, day), m in daily.items()}


def _since_exposure(
    spec: AnalysisSpec, agg: ag.Aggregates, table: Table, metric: MetricSpec
) -> dict[tuple[str, int], mo.Moments]:
    """Per (arm, day since exposure): the exposed cohorts' moments of the metric's columns."""
    t = table.expr
    day = ag.day_of(t, spec)
    columns = metric.kind.outcomes(metric)
    binary = set(columns) if metric.kind.binary else set()
    events = t.mutate(
        **{SINCE: day.delta(day.min().over(group_by=t[spec.unit]), unit="day")},
        **{VARIANT: t[spec.variant].cast("string")},
    )
    per_day = events.group_by([spec.unit, SINCE]).aggregate(
        **{VARIANT: events[VARIANT].min()},
        **{
            c: events[c].cast("float64").max() if c in binary else events[c].cast("float64").sum()
            for c in columns
        },
    )
    pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i:]]
    aggs: dict[str, Any] = {"k": per_day.count()}
    aggs.update({f"m_{c}": per_day[c].mean() for c in columns})
    aggs.update({f"c_{a}_{b}": per_day[a].cov(per_day[b], how="sample") for a, b in pairs})
    rows = table.engine.execute(
        per_day.group_by([VARIANT, SINCE]).aggregate(**aggs), source=table.name
    )
    last = table.engine.execute(t.aggregate(last=day.max()), source=table.name)["last"][0]
    eligible = _eligible(agg, _date(last))
    out = {}
    for _, r in rows.iterrows():
        arm, k, seen = str(r[VARIANT]), int(r[SINCE]), float(r["k"])
        means = {c: float(r[f"m_{c}"]) for c in columns}
        co = {(a, b): _float(r[f"c_{a}_{b}"]) * (seen - 1) for a, b in pairs}
        # the exposed units without an event that day: zeros, pooled in (Chan et al.)
        silent = mo.Moments(
            max(eligible(arm, k) - seen, 0.0),
            dict.fromkeys(columns, 0.0),
            dict.fromkeys(pairs, 0.0),
        )
        out[(arm, k)] = mo.Moments(seen, means, co) + silent
    return out


def _float(value: Any) -> float:
    """A sample covariance of one row is NULL: its co-moment is 0."""
    return 0.0 if value is None or value != value else float(value)


def _date(value: object) -> np.datetime64:
    """A day from a date, timestamp or ISO string (engines differ in what they return)."""
    return np.datetime64(str(value)[:10], "D")


def _eligible(agg: ag.Aggregates, last: np.datetime64) -> Any:
    """Units of an arm exposed at least ``k`` days before the last day of data."""
    first = agg.moments_by(VARIANT, DAY)
    exposed = [(str(arm), _date(day), m.n) for (arm, day), m in first.items()]

    def count(arm: str, k: int) -> float:
        return sum(n for a, d, n in exposed if a == arm and int((last - d).astype(int)) >= k)

    return count


def _daily(
    spec: AnalysisSpec,
    metric: MetricSpec,
    cells: dict[tuple[str, int], mo.Moments],
    days: list[int],
    control: str,
    arm: str,
) -> list[NoveltyDay]:
    options = Options(spec.alpha, spec.equal_var)
    rows = []
    for k in days:
        c, t = cells.get((control, k)), cells.get((arm, k))
        if c is None or t is None or min(c.n, t.n) < 2:
            continue
        r = metric.kind.compare(metric, c, t, options)
        rows.append(
            NoveltyDay(k, r.n_control, r.n_treatment, r.effect, r.ci_lower, r.ci_upper, r.std_error)
        )
    return rows


def _weighted_slope(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Slope of the weighted least-squares line, its standard error and two-sided p-value
    (t on n - 2 degrees of freedom), as statsmodels ``WLS(y, [1, x], weights=w)``."""
    total = np.sum(w)
    dx, dy = x - np.sum(w * x) / total, y - np.sum(w * y) / total
    sxx = float(np.sum(w * dx * dx))
    slope = float(np.sum(w * dx * dy)) / sxx
    df = len(x) - 2
    residual = float(np.sum(w * (dy - slope * dx) ** 2)) / df
    se = math.sqrt(residual / sxx)
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect line: se 0, as WLS
        statistic = float(np.float64(slope) / se)
    return slope, se, 2 * t_sf(abs(statistic), df)


def trend(rows: Sequence[NoveltyDay], alpha: float) -> Trend:
    """WLS slope of the daily effect per day, its t test, and what it means."""
    usable = [r for r in rows if r.std_error and r.std_error > 0 and r.effect is not None]
    if len(usable) < MIN_DAYS:
        return Trend("too few days to test a trend")
    x = np.array([r.day for r in usable], dtype=float)
    y = np.array([r.effect for r in usable], dtype=float)
    w = 1.0 / np.array([r.std_error for r in usable], dtype=float) ** 2
    slope, se, p = _weighted_slope(x, y, w)
    level = float(np.sum(w * y) / np.sum(w))
    if p >= alpha:
        pattern = "stable: no trend in the effect over time"
    elif np.sign(slope) == -np.sign(level):
        pattern = "novelty: the effect fades with time; the long-run effect may be smaller"
    else:
        pattern = "primacy: the effect grows with time; the long-run effect may be larger"
    return Trend(pattern, slope, se, p)
