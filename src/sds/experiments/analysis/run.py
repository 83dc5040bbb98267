"""``sds.analyze(data, spec)`` runs here: read aggregates once, run the checks, estimate, decide."""

from __future__ import annotations

import sys
from typing import Any

from sds.config import engine_scope
from sds.data.io import Table, open_table, require_rows
from sds.errors import DataError
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import computable as comp
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis import timeline, unit_values
from sds.experiments.analysis.balance import balance
from sds.experiments.analysis.kinds import Options
from sds.experiments.analysis.novelty import novelty
from sds.experiments.analysis.queries import VARIANT
from sds.experiments.analysis.records import (
    Balance,
    Effect,
    SegmentBreakdown,
    adjusted,
    empty_comparison,
)
from sds.experiments.analysis.result import AnalysisResult
from sds.experiments.analysis.segments import breakdowns
from sds.experiments.analysis.sequential_run import sequential
from sds.experiments.analysis.spec import AnalysisSpec, parse
from sds.experiments.analysis.timeline_records import NoveltyCheck, SequentialArm
from sds.experiments.analysis.verdict import decide
from sds.experiments.srm import SrmResult, srm_test


def analyze(spec: AnalysisSpec | dict[str, Any], data: Any = None) -> AnalysisResult:
    """Analyse an experiment. ``data`` (a DataFrame, path, SQL or Table) overrides
    ``spec.data``."""
    spec = parse(spec)
    with engine_scope(spec):
        return _analyze(spec, data)


def _analyze(spec: AnalysisSpec, data: Any) -> AnalysisResult:
    table, rows_checked = _open(spec, data)
    try:
        ag.require_columns(table, spec)
    except DataError:
        if not rows_checked:  # an empty source is reported first, as open_table does
            require_rows(table)
        raise
    grain, scanned = ag.first_scan(table, spec, rows_checked)
    unit_rows = ag.units(table, spec, grain)
    agg = ag.aggregate(table, spec, unit_rows, grain, scanned)
    arms = _arms(spec, agg, table.name)
    per_arm = {k[0]: v for k, v in agg.moments_by(VARIANT).items()}
    _check_denominators(spec, per_arm, table.name)
    srm = _srm(spec, arms, per_arm)
    effects = adjusted(_effects(spec, arms, per_arm, table, unit_rows), spec.correction)
    uncomputed = {e.metric: e.not_computed for e in effects if e.not_computed}
    flagged = [  # a quantile on a point mass: every report lists it, a primary's verdict too
        (e.metric, f"metric {e.metric!r} in {e.variant}: {w}")
        for e in effects
        for w in e.comparison.warnings
    ]
    listed = {w for _, w in flagged}
    covariates = [c for m in spec.metrics for c in m.kind.covariates(m)]
    control = per_arm[spec.control]
    treated = {a: per_arm[a] for a in arms if a != spec.control}
    balance_rows = balance(
        list(dict.fromkeys(covariates)), control, treated, spec.balance_threshold
    )
    total_units = sum(m.n for m in per_arm.values())
    segments = breakdowns(spec, agg, arms, effects) if spec.segments else None
    checked = novelty(spec, agg, table, arms)
    daily = tuple(timeline.daily_srm(spec, agg, arms)) if spec.date else None
    cumulative = timeline.cumulative(spec, agg, arms) if spec.date else None
    plans = sequential(spec, cumulative or (), table.name) if spec.sequential else None
    continue_running = plans is not None and _continue(plans)
    cautions = _cautions(segments or (), checked)
    cautions += [w for m, w in flagged if m in spec.primary_metrics]
    verdict, reasons = decide(
        effects,
        primary=spec.primary_metrics,
        guardrails=spec.guardrails,
        better={m.name: m.better for m in spec.metrics},
        alpha=spec.alpha,
        srm_failed=srm.flag,
        mix_shifts=[s.mix.message for s in segments or () if s.mix.message],
        mixed_share=agg.mixed_units / total_units if total_units else 0.0,
        continue_running=continue_running,
        cautions=cautions,
        uncomputed=uncomputed,
    )
    return AnalysisResult(
        name=spec.name or "experiment",
        source=table.name,
        grain=grain,
        units=tuple((a, int(per_arm[a].n)) for a in arms),
        verdict=verdict,
        reasons=tuple(reasons),
        effects=tuple(effects),
        srm=srm,
        balance=tuple(balance_rows),
        warnings=(
            *(f"metric {m!r} could not be computed: {r}" for m, r in uncomputed.items()),
            *(w for _, w in flagged),
            *_warnings(spec, agg, balance_rows, srm),
            *(c for c in cautions if verdict.startswith("invalid") and c not in listed),
        ),
        alpha=spec.alpha,
        correction=spec.correction,
        segments=segments,
        novelty=checked,
        daily_srm=daily,
        cumulative=cumulative,
        sequential=plans,
    )


def _continue(plans: tuple[SequentialArm, ...]) -> bool:
    """The sequential plan does not allow a decision yet: no arm crossed and not all
    reached their last look."""
    return not any(a.plan.stop for a in plans) and not all(a.plan.final for a in plans)


def _cautions(segments: tuple[SegmentBreakdown, ...], checked: NoveltyCheck) -> list[str]:
    """Findings of the checks that a verdict must carry along."""
    out = [flag for seg in segments for flag in seg.flags]
    for arm in checked.arms:
        found = arm.trend
        if found.p_value is not None and not found.pattern.startswith("stable"):
            out.append(
                f"{found.pattern} ({checked.metric} in {arm.variant}, by "
                f"{checked.basis}: slope {found.slope:+.4g} per day, "
                f"p = {found.p_value:.3g})"
            )
    return out


def _open(spec: AnalysisSpec, data: Any) -> tuple[Table, bool]:
    """The table, and whether it is known to have rows (a Table passed in is taken as it
    is). A source opened here is checked for rows by the first scan, which can tell in the
    query it runs anyway (one query fewer)."""
    if isinstance(data, Table):
        return data, True
    source = data if data is not None else spec.data
    if source is None:
        raise DataError(
            "the spec names no data",
            hint="Add 'data: path/to/file.parquet' (or a glob, or a SQL query) to the spec.",
        )
    pd = sys.modules.get("pandas")  # a DataFrame means pandas is loaded; else not imported
    if pd is not None and isinstance(source, pd.DataFrame):
        return open_table(source, name="DataFrame", require_rows=False), False
    return open_table(source, table=spec.table, encoding=spec.encoding, require_rows=False), False


def _arms(spec: AnalysisSpec, agg: ag.Aggregates, source: str) -> list[str]:
    seen = sorted({str(v) for v in agg.rows[VARIANT]})
    if spec.control not in seen:
        raise DataError(
            "the control arm is not in the data",
            source=source,
            column=spec.variant,
            found=f"control {spec.control!r}; arms in the data: {', '.join(seen)}",
            hint="Check the control name (case and spelling) in the spec.",
        )
    if spec.variants is not None:
        unknown = [v for v in seen if v not in spec.variants]
        if unknown:
            raise DataError(
                "the data holds arms the spec does not name",
                source=source,
                column=spec.variant,
                found=", ".join(unknown),
                expected=", ".join(spec.variants),
                hint="Add them to 'variants', or filter them out in the query.",
            )
        missing = [v for v in spec.variants if v not in seen]
        if missing:
            raise DataError(
                "arms named in the spec have no units",
                source=source,
                column=spec.variant,
                found=", ".join(missing),
            )
        return list(spec.variants)
    if len(seen) < 2:
        raise DataError("the data holds only one arm", source=source, column=spec.variant)
    return [spec.control, *[v for v in seen if v != spec.control]]


def _check_denominators(spec: AnalysisSpec, per_arm: dict[Any, mo.Moments], source: str) -> None:
    for m in spec.metrics:
        for arm, mom in per_arm.items():
            zero = [c for c in m.kind.denominators(m) if mom.mean(c) == 0]
            if zero:
                raise DataError(
                    f"metric {m.name!r}: the denominator sums to zero in arm {arm!r}",
                    source=source,
                    column=zero[0],
                    hint="A ratio of means needs some units with a positive denominator.",
                )


def _srm(spec: AnalysisSpec, arms: list[str], per_arm: dict[Any, mo.Moments]) -> SrmResult:
    counts = [int(per_arm[a].n) for a in arms]
    return srm_test(counts, spec.split, spec.srm_alpha, variants=arms)


def _effects(
    spec: AnalysisSpec,
    arms: list[str],
    per_arm: dict[Any, mo.Moments],
    table: Table,
    unit_rows: Any,
) -> list[Effect]:
    """Each metric against control in each treatment arm; a metric whose values are unusable
    gets rows that say why instead of figures."""
    options = options_of(spec)
    rows = []
    for metric in spec.metrics:
        kind = metric.kind
        column = kind.values_column(metric)
        values = None
        if column:  # a quantile: only the values its bootstrap can read cross
            values = unit_values.read(table, unit_rows, column, float(metric.q or 0.5))
        broken = comp.broken(metric, per_arm, values)
        reason = None
        for arm in arms:
            if arm == spec.control:
                continue
            nc, nt = int(per_arm[spec.control].n), int(per_arm[arm].n)
            found = empty_comparison(nc, nt, 1 - spec.alpha)
            if not broken and values is not None:
                found = kind.compare_values(metric, values[spec.control], values[arm], options)
            elif not broken:
                found = kind.compare(metric, per_arm[spec.control], per_arm[arm], options)
            if broken or not found.complete:
                reason = reason or comp.diagnose(metric, table, unit_rows)
                rows.append(
                    Effect(metric.name, metric.type, arm, found.not_computed(), None, reason)
                )
            else:
                rows.append(Effect(metric.name, metric.type, arm, found))
    return rows


def options_of(spec: AnalysisSpec) -> Options:
    """The settings every comparison of the analysis uses."""
    return Options(spec.alpha, spec.equal_var, spec.resamples, spec.bootstrap, spec.seed)


def _warnings(
    spec: AnalysisSpec, agg: ag.Aggregates, balance_rows: list[Balance], srm: SrmResult
) -> list[str]:
    out = []
    if srm.share_deviation_over_tolerance and not srm.flag:  # the 1% rule alone: noise?
        out.append(f"sample ratio: {srm.note()}")
    for column, nulls in agg.null_covariates.items():
        out.append(
            f"covariate {column!r} is missing for {nulls} unit(s); they count as 0 (no history)"
        )
    for row in balance_rows:
        if not row.balanced:
            out.append(
                f"covariate {row.covariate!r} is imbalanced in {row.variant} "
                f"(SMD {row.smd:+.3f}, limit {spec.balance_threshold}): check that it is "
                "measured before assignment and that assignment is random"
            )
    if agg.mixed_units:
        out.append(f"{agg.mixed_units} unit(s) appear in more than one arm")
    return out
