"""``sds.analyze(spec, data)``: read aggregates once, run the checks, estimate, decide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sds.errors import DataError
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import computable as comp
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis.balance import balance
from sds.experiments.analysis.effects import add_adjusted, compare
from sds.experiments.analysis.result import AnalysisResult
from sds.experiments.analysis.spec import AnalysisSpec, MetricSpec, parse
from sds.experiments.analysis.verdict import decide

if TYPE_CHECKING:
    from sds.data.io import Table


def analyze(spec: AnalysisSpec | dict[str, Any], data: Any = None) -> AnalysisResult:
    """Analyse an experiment. ``data`` (a DataFrame, path, SQL or Table) overrides
    ``spec.data``."""
    from sds.config import engine_scope

    spec = parse(spec)
    with engine_scope(spec):
        return _analyze(spec, data)


def _analyze(spec: AnalysisSpec, data: Any) -> AnalysisResult:
    table = _open(spec, data)
    ag.require_columns(table, spec)
    grain = ag.detect_grain(table, spec)
    unit_rows = ag.units(table, spec, grain)
    agg = ag.aggregate(table, spec, unit_rows, grain)
    arms = _arms(spec, agg, table.name)
    per_arm = {k[0]: v for k, v in agg.moments_by(ag.VARIANT).items()}
    _check_denominators(spec, per_arm, table.name)
    srm = _srm(spec, arms, per_arm)
    effects = _effects(spec, arms, per_arm, table, unit_rows)
    add_adjusted(effects, spec.correction)
    comp.finish(effects)
    uncomputed = {e["metric"]: e["not_computed"] for e in effects if e.get("not_computed")}
    covariates = [c for m in spec.metrics for c in m.covariates]
    control = per_arm[spec.control]
    treated = {a: per_arm[a] for a in arms if a != spec.control}
    balance_rows = balance(
        list(dict.fromkeys(covariates)), control, treated, spec.balance_threshold
    )
    total_units = sum(m.n for m in per_arm.values())
    extra = _breakdowns(spec, agg, table, arms, effects)
    continue_running = False
    if spec.sequential is not None:
        from sds.experiments.analysis.sequential_run import sequential

        extra["sequential"] = sequential(spec, extra.get("cumulative", {}), table.name)
        looks = list(extra["sequential"].values())
        continue_running = not any(s["stop"] for s in looks) and not all(s["final"] for s in looks)
    cautions = _cautions(extra)
    verdict, reasons = decide(
        effects,
        primary=spec.primary_metrics,
        guardrails=spec.guardrails,
        better={m.name: m.better for m in spec.metrics},
        alpha=spec.alpha,
        srm_failed=srm.p_value < srm.threshold,
        mix_shifts=[
            s["mix"]["message"] for s in extra.get("segments", {}).values() if s["mix"]["shift"]
        ],
        mixed_share=agg.mixed_units / total_units if total_units else 0.0,
        continue_running=continue_running,
        cautions=cautions,
        uncomputed=uncomputed,
    )
    return AnalysisResult(
        name=spec.name or "experiment",
        source=table.name,
        grain=grain,
        units={a: int(per_arm[a].n) for a in arms},
        verdict=verdict,
        reasons=tuple(reasons),
        effects=tuple(effects),
        srm=srm.to_dict(),
        balance=tuple(balance_rows),
        warnings=(
            *(f"metric {m!r} could not be computed: {r}" for m, r in uncomputed.items()),
            *_warnings(spec, agg, balance_rows, srm),
            *(cautions if verdict.startswith("invalid") else []),  # else among reasons
        ),
        alpha=spec.alpha,
        correction=spec.correction,
        extra=extra,
    )


def _breakdowns(
    spec: AnalysisSpec,
    agg: ag.Aggregates,
    table: Table,
    arms: list[str],
    effects: list[dict[str, Any]],
) -> dict[str, Any]:
    """Segments, novelty and the day-by-day views: checks on the same aggregates."""
    from sds.experiments.analysis import timeline
    from sds.experiments.analysis.novelty import novelty
    from sds.experiments.analysis.segments import breakdowns

    extra: dict[str, Any] = {}
    if spec.segments:
        extra["segments"] = breakdowns(spec, agg, arms, effects)
    extra["novelty"] = novelty(spec, agg, table, arms)
    if spec.date:
        extra["daily_srm"] = timeline.daily_srm(spec, agg, arms)
        extra["cumulative"] = timeline.cumulative(spec, agg, arms)
    return extra


def _cautions(extra: dict[str, Any]) -> list[str]:
    """Findings of the checks that a verdict must carry along."""
    out = [flag for seg in extra.get("segments", {}).values() for flag in seg["flags"]]
    for arm, found in extra["novelty"].get("arms", {}).items():
        if found.get("p_value") is not None and not found["pattern"].startswith("stable"):
            out.append(
                f"{found['pattern']} ({extra['novelty']['metric']} in {arm}, by "
                f"{extra['novelty']['basis']}: slope {found['slope']:+.4g} per day, "
                f"p = {found['p_value']:.3g})"
            )
    return out


def _open(spec: AnalysisSpec, data: Any) -> Table:
    from sds.data.io import Table, open_table

    if isinstance(data, Table):
        return data
    source = data if data is not None else spec.data
    if source is None:
        raise DataError(
            "the spec names no data",
            hint="Add 'data: path/to/file.parquet' (or a glob, or a SQL query) to the spec.",
        )
    if isinstance(source, pd.DataFrame):
        return open_table(source, name="DataFrame")
    return open_table(source, table=spec.table)


def _arms(spec: AnalysisSpec, agg: ag.Aggregates, source: str) -> list[str]:
    seen = sorted(str(v) for v in agg.rows[ag.VARIANT].unique())
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
        if m.type != "ratio":
            continue
        for arm, mom in per_arm.items():
            if mom.mean(str(m.denominator)) == 0:
                raise DataError(
                    f"metric {m.name!r}: the denominator sums to zero in arm {arm!r}",
                    source=source,
                    column=m.denominator,
                    hint="A ratio of means needs some units with a positive denominator.",
                )


def _srm(spec: AnalysisSpec, arms: list[str], per_arm: dict[Any, mo.Moments]) -> Any:
    from sds.experiments.srm import srm_test

    counts = [int(per_arm[a].n) for a in arms]
    return srm_test(counts, spec.split, threshold=spec.srm_threshold, variants=arms)


def _effects(
    spec: AnalysisSpec,
    arms: list[str],
    per_arm: dict[Any, mo.Moments],
    table: Table,
    unit_rows: Any,
) -> list[dict[str, Any]]:
    rows = []
    for metric in spec.metrics:
        values = _quantile_values(metric, table, unit_rows)
        broken = comp.broken(metric, per_arm, values)
        reason = None
        for arm in arms:
            if arm == spec.control:
                continue
            head = {"metric": metric.name, "type": metric.type, "variant": arm}
            row: dict[str, Any] = {
                "n_control": int(per_arm[spec.control].n),
                "n_treatment": int(per_arm[arm].n),
            }
            if not broken and values is not None:
                row = _quantile(metric, spec, values[spec.control], values[arm])
            elif not broken:
                row = compare(
                    metric, per_arm[spec.control], per_arm[arm], spec.alpha, spec.equal_var
                )
            if broken or not comp.finite_row(row):
                reason = reason or comp.diagnose(metric, table, unit_rows)
                row = comp.not_computed(row, reason)
            rows.append({**head, **row})
    return rows


def _quantile_values(metric: MetricSpec, table: Table, unit_rows: Any) -> Any:
    if metric.type != "quantile":
        return None
    return ag.quantile_values(table, unit_rows, str(metric.column))


def _quantile(metric: MetricSpec, spec: AnalysisSpec, c: Any, t: Any) -> dict[str, Any]:
    from sds.experiments.analysis.quantile import quantile_effect

    return quantile_effect(
        c,
        t,
        float(metric.q or 0.5),
        alpha=spec.alpha,
        resamples=spec.resamples,
        method=spec.bootstrap,
        seed=spec.seed,
    )


def _warnings(
    spec: AnalysisSpec, agg: ag.Aggregates, balance_rows: list[dict[str, Any]], srm: Any
) -> list[str]:
    out = []
    if srm.share_deviation_over_tolerance and not srm.flag:  # the 1% rule alone: noise?
        out.append(f"sample ratio: {srm.note()}")
    for column, nulls in agg.null_covariates.items():
        out.append(
            f"covariate {column!r} is missing for {nulls} unit(s); they count as 0 (no history)"
        )
    for row in balance_rows:
        if not row["balanced"]:
            out.append(
                f"covariate {row['covariate']!r} is imbalanced in {row['variant']} "
                f"(SMD {row['smd']:+.3f}, limit {spec.balance_threshold}): check that it is "
                "measured before assignment and that assignment is random"
            )
    if agg.mixed_units:
        out.append(f"{agg.mixed_units} unit(s) appear in more than one arm")
    return out
