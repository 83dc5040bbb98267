"""Segment breakdowns: per-segment effects against the pooled one, and the checks that make
a breakdown trustworthy or not.

For each segment column, from the same aggregate rows as the pooled analysis (no new query):

- **Traffic mix**: a chi-square test of independence between arm and segment level
  (:func:`sds.stats.split.mix_test`), a sample-ratio check within segments. Under
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

import sys
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis import moments as mo
from sds.experiments.analysis.kinds import Options
from sds.experiments.analysis.queries import VARIANT
from sds.experiments.analysis.records import (
    Effect,
    Heterogeneity,
    LevelShares,
    SegmentBreakdown,
    SegmentEffect,
    SegmentMix,
    adjusted,
)
from sds.experiments.analysis.spec import AnalysisSpec, MetricSpec
from sds.stats.distributions import chi2_sf
from sds.stats.split import mix_test

MAX_LEVELS = 30  # beyond this, the smallest levels are summed into "(other)"
OTHER, MISSING = "(other)", "(missing)"

Cells = dict[tuple[str, str], mo.Moments]


def breakdowns(
    spec: AnalysisSpec,
    agg: ag.Aggregates,
    arms: list[str],
    effects: tuple[Effect, ...] | list[Effect],
) -> tuple[SegmentBreakdown, ...]:
    """One breakdown per segment column: mix test, effect rows, heterogeneity and flags."""
    pooled = {(e.metric, e.variant): e for e in effects}
    skipped = {e.metric for e in effects if e.not_computed}  # no figures to split
    metrics = [m for m in spec.metrics if m.kind.segments and m.name not in skipped]
    options = Options(spec.alpha, spec.equal_var)
    out = []
    for column in spec.segments:
        cells, levels = _cells(agg, column)
        mix = traffic_mix(cells, arms, levels, spec.srm_alpha)
        rows: list[SegmentEffect] = []
        het = []
        for metric in metrics:
            for arm in arms[1:]:
                level_rows = _level_rows(metric, options, cells, levels, arms[0], arm)
                rows += level_rows
                q = heterogeneity([r.effect for r in level_rows], [r.std_error for r in level_rows])
                het.append(Heterogeneity(metric.name, arm, *q))
        rows = adjusted(rows, spec.correction)
        flags: list[str] = []
        for metric in metrics:
            for arm in arms[1:]:
                mine = [r for r in rows if r.metric == metric.name and r.variant == arm]
                flags += _flags(column, pooled[(metric.name, arm)], mine, spec.alpha)
        if mix.shift:
            mix = replace(mix, message=_mix_message(column, mix))
        out.append(SegmentBreakdown(column, mix, tuple(rows), tuple(het), tuple(flags)))
    return tuple(out)


def _cells(agg: ag.Aggregates, column: str) -> tuple[Cells, list[str]]:
    """Moments per (arm, level label), levels by size, the tail summed into ``(other)``."""
    raw = agg.moments_by(VARIANT, column)
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
    """None or NaN; with keys pandas grouped (numbers, times: pandas is loaded), also its
    own missing values (NaT, NA)."""
    pd = sys.modules.get("pandas")
    try:
        if pd is None:  # keys of text or dates (rows.pool): a missing one is NaN
            return level is None or bool(level != level)
        return bool(pd.isna(level))
    except (TypeError, ValueError):
        return False


def traffic_mix(cells: Cells, arms: list[str], levels: list[str], alpha: float) -> SegmentMix:
    """Chi-square test that every arm has the same segment mix, and each arm's shares."""
    counts = np.array(
        [[cells[(a, lv)].n if (a, lv) in cells else 0.0 for lv in levels] for a in arms]
    )
    shares = tuple(
        LevelShares(
            lv, tuple((a, float(counts[i, j] / counts[i].sum())) for i, a in enumerate(arms))
        )
        for j, lv in enumerate(levels)
    )
    found = mix_test(counts.tolist())
    return SegmentMix(found.chi2, found.df, found.p_value, found.p_value < alpha, shares)


def _level_rows(
    metric: MetricSpec,
    options: Options,
    cells: Cells,
    levels: list[str],
    control: str,
    arm: str,
) -> list[SegmentEffect]:
    rows = []
    for level in levels:
        c, t = cells.get((control, level)), cells.get((arm, level))
        if c is None or t is None or min(c.n, t.n) < 2:
            continue
        rows.append(
            SegmentEffect(metric.name, arm, level, metric.kind.compare(metric, c, t, options))
        )
    return rows


def heterogeneity(
    effects: Sequence[float | None], std_errors: Sequence[float | None]
) -> tuple[float | None, int, float | None]:
    """Cochran's Q, its degrees of freedom and p-value: do the segments share one effect?
    (fixed-effect, inverse variance; segments without a positive standard error are left
    out, and fewer than two leave nothing to test)."""
    usable = [(e, se) for e, se in zip(effects, std_errors, strict=True) if e is not None and se]
    usable = [(e, se) for e, se in usable if se > 0]
    if len(usable) < 2:
        return None, 0, None
    effect = np.array([e for e, _ in usable], dtype=float)
    weight = 1.0 / np.array([se for _, se in usable], dtype=float) ** 2
    center = float(np.sum(weight * effect) / np.sum(weight))
    q = float(np.sum(weight * (effect - center) ** 2))
    df = len(usable) - 1
    return q, df, chi2_sf(q, df)


def _flags(column: str, pooled: Effect, rows: list[SegmentEffect], alpha: float) -> list[str]:
    where = f"{pooled.metric} in {pooled.variant}, by {column}"
    effect = pooled.effect or 0.0
    sign = np.sign(effect)
    signs = {np.sign(r.effect) for r in rows if r.effect}
    flags = []
    if len(rows) >= 2 and sign != 0 and signs == {-sign}:
        flags.append(
            f"Simpson's paradox ({where}): the pooled effect is {effect:+.4g} but "
            "every segment's effect has the opposite sign; the arms' segment mix differs"
        )
    for r in rows:
        p = r.p_adjusted
        if p is not None and p < alpha and np.sign(r.effect or 0.0) == -sign and sign != 0:
            flags.append(
                f"sign reversal ({where}): segment {r.level!r} moves the other way "
                f"({r.effect:+.4g}, adjusted p = {p:.3g})"
            )
    return flags


def _mix_message(column: str, mix: SegmentMix) -> str:
    return (
        f"traffic-mix shift in {column!r}: the arms' mix of {column} differs "
        f"(chi-square p = {mix.p_value:.3g}). Assignment or logging differs by {column}, "
        f"or the treatment changes {column} (then it is no segment: drop it from 'segments'); "
        f"either way the arms are not comparable within {column}"
    )


def table_rows(breakdown: SegmentBreakdown, arms: list[str]) -> list[dict[str, object]]:
    """The segment table of the report: effects with each arm's share of the level."""
    return [
        {
            "metric": r.metric,
            "variant": r.variant,
            "level": r.level,
            "share_control": breakdown.mix.share(r.level, arms[0]),
            "share_treatment": breakdown.mix.share(r.level, r.variant),
            "effect": r.effect,
            "ci_lower": r.ci_lower,
            "ci_upper": r.ci_upper,
            "p_adjusted": r.p_adjusted,
        }
        for r in breakdown.effects
    ]
