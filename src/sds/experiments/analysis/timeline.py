"""The experiment day by day: new units per arm against the split (daily SRM) and the primary
metric's cumulative effect. Both are sums of the aggregate rows; no new query."""

from __future__ import annotations

import math
from typing import Any

from scipy import stats

from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis.sequential_run import cumulative_effects
from sds.experiments.analysis.spec import AnalysisSpec
from sds.experiments.srm import share_rule


def daily_srm(spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str]) -> list[dict[str, Any]]:
    """Per assignment day: each arm's new units, its share minus the designed share (with
    the band chance allows at the SRM threshold), and the day's chi-square p-value."""
    daily = agg.moments_by(ag.VARIANT, ag.DAY)
    split = _split(spec, arms)
    z = float(stats.norm.isf(spec.srm_threshold / 2))
    out = []
    for day in sorted({key[1] for key in daily}, key=str):
        counts = [daily[(a, day)].n if (a, day) in daily else 0.0 for a in arms]
        total = sum(counts)
        expected = [s * total for s in split]
        p = float(stats.chisquare(counts, expected).pvalue) if total > 0 else 1.0
        row: dict[str, Any] = {"date": day, "units": int(total), "p_value": p}
        row |= {"flag": p < spec.srm_threshold, **share_rule(counts, split)}
        for arm, n, s in zip(arms, counts, split, strict=True):
            row[f"n_{arm}"] = int(n)
            row[f"share_gap_{arm}"] = n / total - s if total else 0.0
            # the gap a day may show by chance at the SRM threshold (binomial, normal approx.)
            row[f"band_{arm}"] = z * math.sqrt(s * (1 - s) / total) if total else 0.0
        out.append(row)
    return out


def _split(spec: AnalysisSpec, arms: list[str]) -> list[float]:
    weights = list(spec.split) if spec.split else [1.0] * len(arms)
    total = sum(weights)
    return [w / total for w in weights]


def cumulative(
    spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The primary metric's effect on all units assigned up to each day."""
    primary = spec.primary_metrics[0]
    if next(m for m in spec.metrics if m.name == primary).type == "quantile":
        return {}
    return cumulative_effects(spec, agg, arms, primary)
