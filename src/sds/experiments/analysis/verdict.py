"""From effects and checks to one word and its reasons: ship, don't ship, inconclusive,
invalid experiment, invalid analysis. A failed sample-ratio check, overall or within a
segment column (a traffic-mix shift), makes the experiment invalid whatever the p-values say;
a primary metric that could not be computed (infinite or overflowing values) makes the
analysis invalid; a guardrail that got significantly worse, or could not be computed, blocks
shipping."""

from __future__ import annotations

from collections.abc import Sequence

from sds.experiments.analysis.records import Effect

MIXED_UNITS_LIMIT = 0.01  # share of units seen in more than one arm
INVALID = ("invalid experiment", "invalid analysis")


def decide(
    effects: Sequence[Effect],
    *,
    primary: list[str],
    guardrails: list[str],
    better: dict[str, str],
    alpha: float,
    srm_failed: bool,
    mixed_share: float,
    continue_running: bool = False,
    cautions: list[str] | tuple[str, ...] = (),
    mix_shifts: list[str] | tuple[str, ...] = (),
    uncomputed: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    """The verdict and the reasons, in the order a reader should see them. ``cautions``
    (segment and novelty findings) follow the reasons of any valid experiment's verdict;
    ``uncomputed``: metric -> why it could not be computed."""
    uncomputed = uncomputed or {}
    missing = [
        f"the primary metric {m!r} could not be computed: {r}"
        for m, r in uncomputed.items()
        if m in primary
    ]
    invalid = _invalid(srm_failed, mixed_share, mix_shifts)
    if invalid:
        return "invalid experiment", invalid + missing
    if missing:
        return "invalid analysis", missing
    verdict, reasons = _from_effects(
        effects,
        primary=primary,
        guardrails=guardrails,
        better=better,
        alpha=alpha,
        continue_running=continue_running,
    )
    blind = [m for m in uncomputed if m in guardrails]
    if blind and verdict == "ship":
        verdict = "inconclusive"
    reasons += [f"guardrail {m!r} could not be computed: {uncomputed[m]}" for m in blind]
    return verdict, reasons + [f"caution: {c}" for c in cautions]


def _invalid(
    srm_failed: bool, mixed_share: float, mix_shifts: list[str] | tuple[str, ...]
) -> list[str]:
    """Why the experiment cannot be read, or nothing: an overall SRM (with the segments'
    mix shifts, which often show where it comes from), an SRM within segments, or units
    that moved between arms."""
    if srm_failed:
        return [
            "the arms' sizes do not match the designed split (sample-ratio mismatch): "
            "assignment or logging is broken, so no effect estimate can be trusted",
            *(f"where: {m}" for m in mix_shifts),
        ]
    if mix_shifts:
        return [
            *mix_shifts,
            "a sample-ratio mismatch within segments: no effect estimate can be trusted "
            "until it is explained",
        ]
    if mixed_share > MIXED_UNITS_LIMIT:
        return [
            f"{mixed_share:.1%} of units appear in more than one arm (limit "
            f"{MIXED_UNITS_LIMIT:.0%}): assignment is not sticky"
        ]
    return []


def _from_effects(
    effects: Sequence[Effect],
    *,
    primary: list[str],
    guardrails: list[str],
    better: dict[str, str],
    alpha: float,
    continue_running: bool,
) -> tuple[str, list[str]]:
    """Ship, don't ship or inconclusive, from the primary and guardrail effects."""
    reasons: list[str] = []
    harmed = [e for e in effects if e.metric in guardrails and _worse(e, better, alpha)]
    for e in harmed:
        reasons.append(f"guardrail {e.metric} got significantly worse in {e.variant}")
    wins = [e for e in effects if e.metric in primary and _better(e, better, alpha)]
    losses = [e for e in effects if e.metric in primary and _worse(e, better, alpha)]
    for e in losses:
        reasons.append(f"primary metric {e.metric} got significantly worse in {e.variant}")
    if harmed or losses:
        return "don't ship", reasons
    if wins:
        reasons += [
            f"primary metric {e.metric} improved in {e.variant}: "
            f"{_describe(e)} (adjusted p = {e.p_adjusted:.3g})"
            for e in wins
        ]
        if continue_running:
            return "inconclusive", [*reasons, "but the sequential plan does not allow stopping yet"]
        return "ship", reasons
    if continue_running:
        return "inconclusive", ["no boundary crossed yet: keep the experiment running"]
    return "inconclusive", [
        "no primary metric changed significantly"
        + " (the intervals show which effects the data rule out)"
    ]


def _significant(e: Effect, alpha: float) -> bool:
    return e.p_adjusted is not None and e.p_adjusted < alpha


def _better(e: Effect, better: dict[str, str], alpha: float) -> bool:
    up = better.get(e.metric, "higher") == "higher"
    return (
        _significant(e, alpha) and e.effect is not None and (e.effect > 0) == up and e.effect != 0
    )


def _worse(e: Effect, better: dict[str, str], alpha: float) -> bool:
    up = better.get(e.metric, "higher") == "higher"
    return (
        _significant(e, alpha) and e.effect is not None and (e.effect < 0) == up and e.effect != 0
    )


def _describe(e: Effect) -> str:
    if e.rel_effect is None:
        return f"{e.effect:+.4g}"
    text = f"{e.rel_effect:+.2%}"
    if e.rel_ci_lower is not None and e.rel_ci_upper is not None:
        text += f" [{e.rel_ci_lower:+.2%}, {e.rel_ci_upper:+.2%}]"
    return text
