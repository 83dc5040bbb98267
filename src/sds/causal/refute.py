"""Refutation by placebo outcomes: outcomes the treatment cannot have moved.

Re-run the same estimator with each placebo outcome in place of the real one (an outcome
measured before treatment, say, or one with no plausible link). A significant 'effect'
on a placebo points to confounding or a broken design; the result carries the runs as a
table and a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from sds.causal.result import CausalResult
from sds.errors import ParameterError
from sds.stats.multiple import adjust

CORRECTION = "holm"  # across the placebo outcomes


def with_placebo_outcomes(
    result: CausalResult,
    fn: Callable[..., CausalResult],
    data: Any,
    outcomes: Sequence[str],
    **kwargs: Any,
) -> CausalResult:
    """`result` plus a `placebo_outcomes` table from `fn(data, outcome, **kwargs)`
    for each placebo outcome, p-values Holm-adjusted across them.

    Args:
        result: The estimate on the real outcome; it is returned with the table added.
        fn: The estimator that produced `result` (e.g. `sds.causal.did`).
        data: The same data `result` was estimated on.
        outcomes: Placebo outcome columns: outcomes the treatment cannot have moved (measured
            before it, or unrelated). None of them may be a column the estimator already
            uses. Empty returns `result` unchanged.
        **kwargs: The estimator's other arguments, as used for `result`.

    Returns:
        A copy of `result` with a `placebo_outcomes` table (estimate, interval, p-value and
            Holm-adjusted p-value per placebo) and a warning when any adjusted p-value is
            below `1 - confidence`.

    Raises:
        ParameterError: A placebo outcome is a column the estimator already uses.
    """
    if not outcomes:
        return result
    used = {kwargs.get(k) for k in ("treatment", "running", "unit", "time")}
    used |= set(kwargs.get("covariates") or ()) | set(kwargs.get("instruments") or ())
    for outcome in outcomes:
        if outcome in used:
            raise ParameterError(
                "a placebo outcome cannot be a column the estimator already uses: its "
                "'effect' would be zero or the treatment's own by construction",
                parameter="placebo-outcome", found=outcome,
            )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        r = fn(data, outcome, **kwargs)
        rows.append(
            {"outcome": outcome, "estimate": r.estimate, "std_error": r.std_error,
             "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "p_value": r.p_value}
        )  # fmt: skip
    for row, p in zip(rows, adjust([r["p_value"] for r in rows], CORRECTION), strict=True):
        row["p_adjusted"], row["correction"] = p, CORRECTION
    alpha = 1 - result.confidence
    moved = [r["outcome"] for r in rows if r["p_adjusted"] < alpha]
    warnings = list(result.warnings)
    if moved:
        warnings.append(
            f"the treatment 'affects' placebo outcome(s) {', '.join(moved)} (Holm p < "
            f"{alpha:g}): confounding or a broken design is likely"
        )
    return dataclasses.replace(
        result, tables={**result.tables, "placebo_outcomes": rows}, warnings=tuple(warnings)
    )
