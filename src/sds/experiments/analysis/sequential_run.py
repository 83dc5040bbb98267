"""The primary metric's cumulative effect day by day, fed to the sequential tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sds.errors import ConfigError
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis.kinds import Options
from sds.experiments.analysis.queries import DAY, VARIANT
from sds.experiments.analysis.sequential_analysis import group_sequential, msprt
from sds.experiments.analysis.spec import AnalysisSpec
from sds.experiments.analysis.timeline_records import (
    CumulativeArm,
    CumulativeLook,
    Sequential,
    SequentialArm,
)

DEFAULT_RELATIVE_TAU = 0.05  # mSPRT mixing scale: 5% of the control value


def cumulative_effects(
    spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str], metric_name: str
) -> tuple[CumulativeArm, ...]:
    """Per treatment arm, per day: cumulative units (all arms), effect, se and z."""
    metric = next(m for m in spec.metrics if m.name == metric_name)
    options = Options(spec.alpha, spec.equal_var)
    daily = agg.moments_by(VARIANT, DAY)
    days = sorted({key[1] for key in daily}, key=str)  # ISO dates sort as text
    running: dict[str, mo.Moments | None] = dict.fromkeys(arms)
    out: dict[str, list[CumulativeLook]] = {a: [] for a in arms if a != spec.control}
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
            row = metric.kind.compare(metric, control, treated, options)
            out[arm].append(
                CumulativeLook(
                    date=day,
                    units=units,
                    effect=row.effect,
                    ci_lower=row.ci_lower,
                    ci_upper=row.ci_upper,
                    se=row.std_error,
                    z=row.statistic,
                    control=row.control,
                )
            )
    return tuple(CumulativeArm(arm, tuple(looks)) for arm, looks in out.items())


def sequential(
    spec: AnalysisSpec, cumulative: Sequence[CumulativeArm], source: str
) -> tuple[SequentialArm, ...]:
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
    metric = next(m for m in spec.metrics if m.name == primary)
    if not metric.kind.sequential:
        raise ConfigError(
            f"sequential analysis of the {metric.type} metric {primary!r} is not supported",
            source=source,
            hint="Make a mean, proportion or ratio metric primary.",
        )
    out = []
    for arm in cumulative:
        looks = arm.looks
        result: Sequential
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
            default = DEFAULT_RELATIVE_TAU * abs(looks[-1].control or 0.0) if looks else 1.0
            tau = seq.tau or default or 1.0
            result = msprt(looks, tau=float(tau), alpha=spec.alpha)
        out.append(SequentialArm(arm.variant, replace(result, metric=primary)))
    return tuple(out)
