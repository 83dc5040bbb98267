"""The experiment day by day: new units per arm against the split (daily SRM) and the primary
metric's cumulative effect. Both are sums of the aggregate rows; no new query."""

from __future__ import annotations

import math

from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis.queries import DAY, VARIANT
from sds.experiments.analysis.sequential_run import cumulative_effects
from sds.experiments.analysis.spec import AnalysisSpec
from sds.experiments.analysis.timeline_records import CumulativeArm, DailyArm, DailySrm
from sds.stats.distributions import norm_isf
from sds.stats.split import share_rule, split_test


def daily_srm(spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str]) -> list[DailySrm]:
    """Per assignment day: each arm's new units, its share minus the designed share (with
    the band chance allows at the SRM level), and the day's chi-square p-value."""
    daily = agg.moments_by(VARIANT, DAY)
    split = _split(spec, arms)
    z = norm_isf(spec.srm_alpha / 2)
    out = []
    for day in sorted({key[1] for key in daily}, key=str):
        counts = [daily[(a, day)].n if (a, day) in daily else 0.0 for a in arms]
        total = sum(counts)
        p = split_test(counts, split).p_value
        rule = share_rule(counts, split)
        day_arms = tuple(
            DailyArm(
                arm,
                int(n),
                n / total - s if total else 0.0,
                # the gap a day may show by chance at the SRM level (binomial, normal approx.)
                z * math.sqrt(s * (1 - s) / total) if total else 0.0,
            )
            for arm, n, s in zip(arms, counts, split, strict=True)
        )
        out.append(
            DailySrm(
                day,
                int(total),
                p,
                p < spec.srm_alpha,
                float(rule["max_share_deviation"]),
                bool(rule["share_deviation_over_tolerance"]),
                day_arms,
            )
        )
    return out


def _split(spec: AnalysisSpec, arms: list[str]) -> list[float]:
    weights = list(spec.split) if spec.split else [1.0] * len(arms)
    total = sum(weights)
    return [w / total for w in weights]


def cumulative(
    spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str]
) -> tuple[CumulativeArm, ...]:
    """The primary metric's effect on all units assigned up to each day (none for a kind
    without day-by-day views)."""
    primary = spec.primary_metrics[0]
    if not next(m for m in spec.metrics if m.name == primary).kind.sequential:
        return ()
    return cumulative_effects(spec, agg, arms, primary)
