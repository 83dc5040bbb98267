"""The record every classic test returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table
from sds.stats.estimate import Estimate


def interval_label(confidence: float) -> str:
    """How a report names the intervals' level: ``"95% CI"`` for 0.95, ``"97.5% CI"``."""
    return f"{round(100 * confidence, 6):g}% CI"


def has_interval(record: dict[str, Any]) -> bool:
    """Whether a ``to_dict()`` record of a test states an interval: of its estimate, its
    effect size, another effect size or a comparison."""
    rows = [record, *record.get("other_effect_sizes", ()), *record.get("comparisons", ())]
    keys = ("ci_lower", "ci_upper", "effect_size_ci_lower", "effect_size_ci_upper")
    return any(row.get(key) is not None for row in rows for key in keys)


@dataclass(frozen=True)
class TestResult(Result):
    """A test's statistic, p-value, estimate with interval, effect size with interval."""

    __test__ = False  # not a pytest class, despite the name
    title: ClassVar[str] = "Hypothesis test"
    test: str
    statistic: float
    p_value: float
    df: float | None
    n: dict[str, int]
    alternative: str
    estimate: float | None = None
    estimate_name: str | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    confidence: float = 0.95
    effect_size: float | None = None
    effect_size_name: str | None = None
    effect_size_ci_lower: float | None = None
    effect_size_ci_upper: float | None = None
    assumptions: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    other_effect_sizes: dict[str, tuple[float, float | None, float | None]] = field(
        default_factory=dict
    )  # name -> (value, ci_lower, ci_upper)
    comparisons: tuple[dict[str, Any], ...] = ()  # post-hoc pairs or per-group rows
    reasons: tuple[str, ...] = ()  # why this test (``sds stats auto``)
    notes: tuple[str, ...] = ()  # how to read the estimate and effect sizes
    std_error: float | None = None  # of the estimate, where the test has one
    # each group's size and mean (sd) or event rate, in the order the estimate subtracts
    # (or a ratio divides) them: the first group is the estimate's first term
    groups: tuple[dict[str, Any], ...] = ()

    def estimate_record(self) -> Estimate:
        """The test's estimate as an `Estimate` (contrast: `estimate_name`;
        method: the test). Empty when the test states no estimate.

        Returns:
            The estimate with its standard error, interval, p-value, confidence, method,
                contrast name, statistic and df; its value is `None` when the test has no
                estimate.
        """
        return Estimate(
            self.estimate,
            self.std_error,
            self.ci_lower,
            self.ci_upper,
            self.p_value,
            self.confidence,
            self.test,
            self.estimate_name or "",
            self.statistic,
            self.df,
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-ready record of the test; every rendering reads it.

        Returns:
            Every field by name (`test`, `statistic`, `p_value`, `df`, `n`, the estimate and
                effect size with their intervals, `other_effect_sizes` as a list of records,
                `comparisons`, `reasons`, `notes`, `assumptions`, `warnings`), NaN and
                infinities as `None`.
        """
        return jsonable_dict(
            {
                "test": self.test,
                "statistic": self.statistic,
                "p_value": self.p_value,
                "df": self.df,
                "n": dict(self.n),
                "alternative": self.alternative,
                "estimate": self.estimate,
                "estimate_name": self.estimate_name,
                "std_error": self.std_error,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
                "confidence": self.confidence,
                "effect_size": self.effect_size,
                "effect_size_name": self.effect_size_name,
                "effect_size_ci_lower": self.effect_size_ci_lower,
                "effect_size_ci_upper": self.effect_size_ci_upper,
                "groups": [dict(g) for g in self.groups],
                "other_effect_sizes": [
                    {"name": name, "value": v, "ci_lower": lo, "ci_upper": hi}
                    for name, (v, lo, hi) in self.other_effect_sizes.items()
                ],
                "comparisons": [dict(c) for c in self.comparisons],
                "reasons": list(self.reasons),
                "notes": list(self.notes),
                "assumptions": dict(self.assumptions),
                "warnings": list(self.warnings),
            }
        )

    def sections(self) -> list[Section]:
        """The report layout: the result (with the intervals' level, e.g. "90% CI"), how to
        read it, why this test, sample sizes, other effect sizes, comparisons, assumptions
        and warnings (empty blocks left out).

        Returns:
            The blocks every renderer (text, Markdown, HTML) draws, in order.
        """
        d = self.to_dict()
        keys = [
            "test",
            "statistic",
            "df",
            "p_value",
            "alternative",
            "estimate_name",
            "estimate",
            "std_error",
            "ci_lower",
            "ci_upper",
            "effect_size_name",
            "effect_size",
            "effect_size_ci_lower",
            "effect_size_ci_upper",
        ]
        items = [(k, d[k]) for k in keys if d[k] is not None]
        if has_interval(d):  # the level, just above the first interval
            at = next((i for i, (k, _) in enumerate(items) if k.endswith("ci_lower")), len(items))
            items.insert(at, ("confidence", interval_label(self.confidence)))
        out: list[Section] = [KeyValue("Result", items)]
        if d["notes"]:
            out.append(Note("Reading the result", d["notes"]))
        if d["groups"]:
            out.append(records_table("Groups", d["groups"]))
        if d["reasons"]:
            out.append(Note("Why this test", d["reasons"]))
        out.append(KeyValue("Sample sizes", list(d["n"].items())))
        if d["other_effect_sizes"]:
            out.append(records_table("Other effect sizes", d["other_effect_sizes"]))
        if d["comparisons"]:
            out.append(records_table("Comparisons", d["comparisons"]))
        if d["assumptions"]:
            out.append(KeyValue("Assumptions", list(d["assumptions"].items())))
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out
