"""The record every causal estimator returns, and the verdict written from it.

One shape for every method, so that the CLI's JSON always has ``method``, ``contrast``,
``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``, ``n``, ``diagnostics``
and ``warnings``; method-specific tables (a balance table, event-study coefficients,
group-time effects, placebo runs) go in ``tables`` and plots are drawn from them. The main
effect is an :class:`~sds.stats.estimate.Estimate` (``effect``), as every two-group
comparison in sds; effects by period (event studies) are Estimates too
(``period_effects``), and their table rows are written from them (:func:`estimate_row`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from sds.results import Figure, KeyValue, Note, Result, Section, jsonable_dict, records_table
from sds.stats.estimate import Estimate

_MAIN = (
    "method", "estimand", "contrast", "estimate", "std_error", "ci_lower", "ci_upper", "p_value",
)  # fmt: skip
TREATED = "treated - control"  # the contrast of every estimator of a 0/1 treatment


@dataclass(frozen=True)
class CausalResult(Result):
    """An effect estimate with its interval, the checks of its assumptions and a verdict."""

    title: ClassVar[str] = "Causal estimate"
    headline: ClassVar[tuple[str, ...]] = ("method", "estimand", "estimate", "p_value")
    method: str
    estimand: str
    effect: Estimate
    n: dict[str, int]
    outcome: str = ""
    treatment: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()  # what the estimate needs, in words
    figures: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = field(
        default=(), compare=False
    )  # (title, draw(to_dict()) -> svg)
    period_effects: tuple[tuple[int, Estimate], ...] = ()  # (period, effect): event studies

    @property
    def estimate(self) -> float:
        return _number(self.effect.estimate)

    @property
    def std_error(self) -> float:
        return _number(self.effect.std_error)

    @property
    def ci_lower(self) -> float:
        return _number(self.effect.ci_lower)

    @property
    def ci_upper(self) -> float:
        return _number(self.effect.ci_upper)

    @property
    def p_value(self) -> float:
        return _number(self.effect.p_value)

    @property
    def confidence(self) -> float:
        return self.effect.level

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-ready record; every rendering reads it.

        Returns:
            `method`, `estimand`, `contrast`, `outcome`, `treatment`, `estimate`, `std_error`,
                `ci_lower`, `ci_upper`, `p_value`, `confidence`, `n`, `verdict`,
                `assumptions`, `diagnostics`, `warnings` and `tables`; non-finite numbers as
                `None`.
        """
        return jsonable_dict(
            {
                "method": self.method,
                "estimand": self.estimand,
                "contrast": self.effect.contrast,
                "outcome": self.outcome,
                "treatment": self.treatment,
                "estimate": self.estimate,
                "std_error": self.std_error,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
                "p_value": self.p_value,
                "confidence": self.confidence,
                "n": dict(self.n),
                "verdict": self.verdict,
                "assumptions": list(self.assumptions),
                "diagnostics": dict(self.diagnostics),
                "warnings": list(self.warnings),
                "tables": {k: [dict(r) for r in v] for k, v in self.tables.items()},
            }
        )

    def subject(self) -> str | None:
        """What the estimate is about, for the page title.

        Returns:
            `TREATMENT on OUTCOME`, the columns' names (the words themselves when unnamed).
        """
        return f"{self.treatment or 'treatment'} on {self.outcome or 'outcome'}"

    @property
    def verdict(self) -> str:
        """One plain sentence: the effect, its interval, and how much to trust it.

        Returns:
            Whether the effect is significant at `1 - confidence`, its direction, size and
                interval, and the number of warnings that limit it; a note that no estimate
                exists when it is not finite.
        """
        level = f"{self.confidence:.0%}"
        if not math.isfinite(self.estimate):
            return "No estimate could be computed; see the warnings."
        sign = "raises" if self.estimate > 0 else "lowers"
        what = f"{self.treatment or 'the treatment'} {sign} {self.outcome or 'the outcome'}"
        interval = (
            f"by {abs(self.estimate):.4g} (effect {self.estimate:.4g}, {level} CI "
            f"{self.ci_lower:.4g} to {self.ci_upper:.4g})"
        )
        alpha = 1 - self.confidence
        if self.p_value < alpha:
            head = f"The {self.estimand} is significant: {what} {interval}."
        else:
            head = (
                f"No significant effect at {alpha:.0%}: the {self.estimand} is {self.estimate:.4g} "
                f"({level} CI {self.ci_lower:.4g} to {self.ci_upper:.4g})."
            )
        if self.warnings:
            head += f" {len(self.warnings)} warning(s) below limit how far to trust it."
        return head

    def sections(self) -> list[Section]:
        """The report layout: verdict, estimate, sample, warnings, assumptions,
        diagnostics, every table and the plots.

        Returns:
            The blocks every renderer draws, in order; plots are drawn only when rendered.
        """
        d = self.to_dict()
        out: list[Section] = [
            Note("Verdict", [d["verdict"]]),
            KeyValue("Estimate", [(k, d[k]) for k in _MAIN if d[k] is not None]),
            KeyValue("Sample", list(d["n"].items())),
        ]
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        if d["assumptions"]:
            out.append(Note("Assumptions this estimate needs", d["assumptions"]))
        scalars = [(k, v) for k, v in d["diagnostics"].items() if not isinstance(v, dict | list)]
        if scalars:
            out.append(KeyValue("Diagnostics", scalars))
        for name, value in d["diagnostics"].items():
            if isinstance(value, dict):
                out.append(KeyValue(name.replace("_", " ").capitalize(), list(value.items())))
        for name, rows in d["tables"].items():
            if rows:
                out.append(records_table(name.replace("_", " ").capitalize(), rows))
        for title, draw in self.figures:
            out.append(Figure(title, partial(draw, d)))
        return out


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def estimate_row(effect: Estimate) -> dict[str, float | None]:
    """The columns of a table row of effects (event-study periods, group-time effects)."""
    keys = ("estimate", "std_error", "ci_lower", "ci_upper", "p_value")
    return {k: getattr(effect, k) for k in keys}


def normal_effect(
    estimate: float, std_error: float, confidence: float, method: str, contrast: str = TREATED
) -> Estimate:
    """An :class:`Estimate` with a Wald interval and two-sided p-value (normal)."""
    lo, hi, p = normal_summary(estimate, std_error, confidence)
    return Estimate(estimate, std_error, lo, hi, p, confidence, method, contrast)


def normal_summary(
    estimate: float, std_error: float, confidence: float
) -> tuple[float, float, float]:
    """Wald interval and two-sided p-value from a normal approximation."""
    from scipy import stats

    if not (math.isfinite(std_error) and std_error > 0):
        return math.nan, math.nan, math.nan
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = float(2 * stats.norm.sf(abs(estimate / std_error)))
    return float(estimate - z * std_error), float(estimate + z * std_error), p
