"""Segment breakdowns: per-segment effects against the pooled one, and the checks that make
a breakdown trustworthy or not.

For each segment column, from the same aggregate rows as the pooled analysis (no new query):

- **Traffic mix**: a chi-square test of independence between arm and segment level
  (``scipy.stats.chi2_contingency``), a sample-ratio check within segments. Under
  randomization every arm has the same mix; a mix that differs (p below the SRM threshold)
  means assignment or logging differs by segment, or the treatment changes the segment
  column itself. Either way the arms compare unlike groups, and a pooled effect can disagree
  with every segment's: like a failed SRM, it makes the experiment invalid until explained.
- **Simpson's paradox**: every segment's effect has one sign and the pooled effect the
  other.
- **Sign reversal**: a segment whose effect is significantly (after correction) opposite to
  the pooled one.
- **Heterogeneity**: Cochran's Q across segment effects (inverse-variance weights), the
  fixed-effect test that the segments share one effect.

Segment p-values are adjusted with the spec's correction across the rows of one segment
column; they remain exploratory: a segment table has many chances to find something.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis.effects import add_adjusted, compare
from sds.experiments.analysis.spec import AnalysisSpec, MetricSpec

MAX_LEVELS = 30  # beyond this, the smallest levels are summed into "(other)"
OTHER, MISSING = "(other)", "(missing)"

Cells = dict[tuple[str, str], mo.Moments]
KEPT = (
    "control",
    "treatment",
    "n_control",
    "n_treatment",
    "effect",
    "ci_lower",
    "ci_upper",
    "rel_effect",
    "std_error",
    "p_value",
)


def breakdowns(
    spec: AnalysisSpec, agg: ag.Aggregates, arms: list[str], effects: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """One breakdown per segment column: mix test, effect rows, heterogeneity and flags."""
    pooled = {(e["metric"], e["variant"]): e for e in effects}
    skipped = {e["metric"] for e in effects if e.get("not_computed")}  # no figures to split
    metrics = [m for m in spec.metrics if m.type != "quantile" and m.name not in skipped]
    out = {}
    for column in spec.segments:
        cells, levels = _cells(agg, column)
        mix = traffic_mix(cells, arms, levels, spec.srm_threshold)
        rows, het, flags = [], [], []
        for metric in metrics:
            for arm in arms[1:]:
                level_rows = _level_rows(spec, metric, cells, levels, arms[0], arm)
                rows += level_rows
                het.append({"metric": metric.name, "variant": arm, **heterogeneity(level_rows)})
        add_adjusted(rows, spec.correction)
        for metric in metrics:
            for arm in arms[1:]:
                mine = [r for r in rows if r["metric"] == metric.name and r["variant"] == arm]
                flags += _flags(column, pooled[(metric.name, arm)], mine, spec.alpha)
        if mix["shift"]:
            mix["message"] = _mix_message(column, mix)
        out[column] = {"mix": mix, "effects": rows, "heterogeneity": het, "flags": flags}
    return out


def _cells(agg: ag.Aggregates, column: str) -> tuple[Cells, list[str]]:
    """Moments per (arm, level label), levels by size, the tail summed into ``(other)``."""
    raw = agg.moments_by(ag.VARIANT, column)
    cells: Cells = {}
    for (arm, level), moments in raw.items():
        key = (str(arm), _label(level))
        cells[key] = cells[key] + moments if key in cells else moments
    sizes: dict[str, float] = {}
    for (_, level), moments in cells.items():
        sizes[level] = sizes.get(level, 0.0) + moments.n
    levels = sorted(sizes, key=lambda lv: (-sizes[lv], lv))
    if len(levels) <= MAX_LEVELS:
        return cells, levels
    kept = set(levels[: MAX_LEVELS - 1])
    lumped: Cells = {}
    for (arm, level), moments in cells.items():
        key = (arm, level if level in kept else OTHER)
        lumped[key] = lumped[key] + moments if key in lumped else moments
    return lumped, [*levels[: MAX_LEVELS - 1], OTHER]


def _label(level: object) -> str:
    return MISSING if _is_missing(level) else str(level)


def _is_missing(level: object) -> bool:
    try:
        return bool(pd.isna(level))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def traffic_mix(
    cells: Cells, arms: list[str], levels: list[str], threshold: float
) -> dict[str, Any]:
    """Chi-square test that every arm has the same segment mix, and each arm's shares."""
    counts = np.array(
        [[cells[(a, lv)].n if (a, lv) in cells else 0.0 for lv in levels] for a in arms]
    )
    shares = [
        {"level": lv, **{a: counts[i, j] / counts[i].sum() for i, a in enumerate(arms)}}
        for j, lv in enumerate(levels)
    ]
    used = counts[:, counts.sum(axis=0) > 0]
    if used.shape[1] < 2:
        return {"chi2": 0.0, "df": 0, "p_value": 1.0, "shift": False, "shares": shares}
    result = stats.chi2_contingency(used, correction=False)
    p = float(result.pvalue)
    return {
        "chi2": float(result.statistic),
        "df": int(result.dof),
        "p_value": p,
        "shift": p < threshold,
        "shares": shares,
    }


def _level_rows(
    spec: AnalysisSpec,
    metric: MetricSpec,
    cells: Cells,
    levels: list[str],
    control: str,
    arm: str,
) -> list[dict[str, Any]]:
    rows = []
    for level in levels:
        c, t = cells.get((control, level)), cells.get((arm, level))
        if c is None or t is None or min(c.n, t.n) < 2:
            continue
        r = compare(metric, c, t, spec.alpha, spec.equal_var)
        rows.append(
            {"metric": metric.name, "variant": arm, "level": level, **{k: r[k] for k in KEPT}}
        )
    return rows


def heterogeneity(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Cochran's Q: do the segments share one effect? (fixed-effect, inverse variance)"""
    usable = [r for r in rows if r.get("std_error") and r["std_error"] > 0]
    if len(usable) < 2:
        return {"q": None, "df": 0, "p_value": None}
    effect = np.array([r["effect"] for r in usable])
    weight = 1.0 / np.array([r["std_error"] for r in usable]) ** 2
    center = float(np.sum(weight * effect) / np.sum(weight))
    q = float(np.sum(weight * (effect - center) ** 2))
    df = len(usable) - 1
    return {"q": q, "df": df, "p_value": float(stats.chi2.sf(q, df))}


def _flags(
    column: str, pooled: dict[str, Any], rows: list[dict[str, Any]], alpha: float
) -> list[str]:
    where = f"{pooled['metric']} in {pooled['variant']}, by {column}"
    sign = np.sign(pooled["effect"])
    signs = {np.sign(r["effect"]) for r in rows if r["effect"] != 0}
    flags = []
    if len(rows) >= 2 and sign != 0 and signs == {-sign}:
        flags.append(
            f"Simpson's paradox ({where}): the pooled effect is {pooled['effect']:+.4g} but "
            "every segment's effect has the opposite sign; the arms' segment mix differs"
        )
    for r in rows:
        if r["p_adjusted"] < alpha and np.sign(r["effect"]) == -sign and sign != 0:
            flags.append(
                f"sign reversal ({where}): segment {r['level']!r} moves the other way "
                f"({r['effect']:+.4g}, adjusted p = {r['p_adjusted']:.3g})"
            )
    return flags


def _mix_message(column: str, mix: dict[str, Any]) -> str:
    return (
        f"traffic-mix shift in {column!r}: the arms' mix of {column} differs "
        f"(chi-square p = {mix['p_value']:.3g}). Assignment or logging differs by {column}, "
        f"or the treatment changes {column} (then it is no segment: drop it from 'segments'); "
        f"either way the arms are not comparable within {column}"
    )


def table_rows(breakdown: dict[str, Any], arms: list[str]) -> list[dict[str, Any]]:
    """The segment table of the report: effects with each arm's share of the level."""
    shares = {s["level"]: s for s in breakdown["mix"]["shares"]}
    out = []
    for r in breakdown["effects"]:
        share = shares.get(r["level"], {})
        out.append(
            {
                "metric": r["metric"],
                "variant": r["variant"],
                "level": r["level"],
                "share_control": share.get(arms[0]),
                "share_treatment": share.get(r["variant"]),
                "effect": r["effect"],
                "ci_lower": r["ci_lower"],
                "ci_upper": r["ci_upper"],
                "p_adjusted": r["p_adjusted"],
            }
        )
    return out
