"""The primary metric's cumulative effect day by day, fed to the sequential tests."""

from __future__ import annotations

from typing import Any

from sds.errors import ConfigError
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis.effects import compare
from sds.experiments.analysis.sequential_analysis import group_sequential, msprt
from sds.experiments.analysis.spec import AnalysisSpec

DEFAULT_RELATIVE_TAU = 0.05  # mSPRT mixing scale: 5% of the control value


def cumulative_effects(
    spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str], metric_name: str
) -> dict[str, list[dict[str, Any]]]:
    """Per treatment arm, per day: cumulative units (all arms), effect, se and z."""
    metric = next(m for m in spec.metrics if m.name == metric_name)
    daily = agg.moments_by(ag.VARIANT, ag.DAY)
    days = sorted({key[1] for key in daily}, key=str)  # ISO dates sort as text
    running: dict[str, mo.Moments | None] = dict.fromkeys(arms)
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in arms if a != spec.control}
    for day in days:
        for arm in arms:
            today = daily.get((arm, day))
            if today is not None:
                before = running[arm]
                running[arm] = today if before is None else before + today
        control = running[spec.control]
        units = sum(m.n for m in running.values() if m is not None)
        for arm in out:
            treated = running[arm]
            if control is None or treated is None or min(control.n, treated.n) < 2:
                continue
            row = compare(metric, control, treated, spec.alpha, spec.equal_var)
            out[arm].append(
                {
                    "date": day,
                    "units": units,
                    "effect": row["effect"],
                    "ci_lower": row["ci_lower"],
                    "ci_upper": row["ci_upper"],
                    "se": row["std_error"],
                    "z": row["statistic"],
                    "control": row["control"],
                }
            )
    return out


def sequential(
    spec: AnalysisSpec, cumulative: dict[str, list[dict[str, Any]]], source: str
) -> dict[str, dict[str, Any]]:
    """The sequential verdict per treatment arm from the primary metric's ``cumulative``
    effects (:func:`cumulative_effects`, computed once for the report's plot too)."""
    seq = spec.sequential
    assert seq is not None
    if not spec.date:
        raise ConfigError(
            "a sequential analysis needs the assignment date column",
            source=source,
            hint="Add 'date: assigned_at' (or your column) to the spec.",
        )
    primary = spec.primary_metrics[0]
    if next(m for m in spec.metrics if m.name == primary).type == "quantile":
        raise ConfigError(
            f"sequential analysis of the quantile metric {primary!r} is not supported",
            source=source,
            hint="Make a mean, proportion or ratio metric primary.",
        )
    out = {}
    for arm, looks in cumulative.items():
        if seq.method == "group":
            assert seq.planned_units is not None
            result = group_sequential(
                looks,
                planned_units=seq.planned_units,
                looks=seq.looks,
                spending=seq.spending,
                alpha=spec.alpha,
            )
        else:
            default = DEFAULT_RELATIVE_TAU * abs(looks[-1]["control"]) if looks else 1.0
            tau = seq.tau or default or 1.0
            result = msprt(looks, tau=float(tau), alpha=spec.alpha)
        out[arm] = {"metric": primary, **result}
    return out
