"""The analysis report: verdict first, then effects, checks and plots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sds.experiments.analysis.records import Balance, Effect, SegmentBreakdown
from sds.experiments.analysis.segments import table_rows
from sds.experiments.analysis.timeline_records import (
    CumulativeArm,
    DailySrm,
    NoveltyCheck,
    SequentialArm,
)
from sds.experiments.analysis.verdict import INVALID
from sds.experiments.srm import SrmResult
from sds.report.plots import forest_svg, lines_svg
from sds.results import Figure, KeyValue, Note, Result, Section, jsonable_dict, records_table

EFFECT_KEYS = [
    "metric",
    "variant",
    "control",
    "treatment",
    "effect",
    "ci_lower",
    "ci_upper",
    "rel_effect",
    "rel_ci_lower",
    "rel_ci_upper",
    "p_value",
    "p_adjusted",
]


@dataclass(frozen=True)
class AnalysisResult(Result):
    """Everything ``sds analyze`` found about one experiment. ``units``: (arm, units) in
    report order, control first. The checks that depend on the spec are None when it did
    not ask for them: ``segments`` (no segment columns), ``daily_srm`` and ``cumulative``
    (no date column), ``sequential`` (no sequential plan)."""

    title: ClassVar[str] = "Experiment analysis"
    name: str
    source: str
    grain: str
    units: tuple[tuple[str, int], ...]
    verdict: str
    reasons: tuple[str, ...]
    effects: tuple[Effect, ...]
    srm: SrmResult
    novelty: NoveltyCheck
    balance: tuple[Balance, ...] = ()
    warnings: tuple[str, ...] = ()
    alpha: float = 0.05
    correction: str = "holm"
    segments: tuple[SegmentBreakdown, ...] | None = None
    daily_srm: tuple[DailySrm, ...] | None = None
    cumulative: tuple[CumulativeArm, ...] | None = None
    sequential: tuple[SequentialArm, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "grain": self.grain,
            "units": dict(self.units),
            "alpha": self.alpha,
            "correction": self.correction,
            "effects": [e.to_dict() for e in self.effects],
            "srm": self.srm.to_dict(),
            "balance": [b.to_dict() for b in self.balance],
        }
        if self.segments is not None:
            out["segments"] = {s.column: s.to_dict() for s in self.segments}
        out["novelty"] = self.novelty.to_dict()
        if self.daily_srm is not None:
            out["daily_srm"] = [d.to_dict() for d in self.daily_srm]
        if self.cumulative is not None:
            out["cumulative"] = {
                a.variant: [look.to_dict() for look in a.looks] for a in self.cumulative
            }
        if self.sequential is not None:
            out["sequential"] = {a.variant: a.plan.to_dict() for a in self.sequential}
        out["warnings"] = list(self.warnings)
        return jsonable_dict(out)

    @property
    def arms(self) -> list[str]:
        """The arms, control first."""
        return [arm for arm, _ in self.units]

    @property
    def valid(self) -> bool:
        """False for an invalid experiment (a failed sample-ratio check) or an invalid
        analysis (a primary metric that could not be computed)."""
        return self.verdict not in INVALID

    def effect(self, metric: str, variant: str | None = None) -> Effect:
        """The effect row of ``metric`` (and ``variant`` when there are several arms)."""
        for e in self.effects:
            if e.metric == metric and (variant is None or e.variant == variant):
                return e
        raise KeyError((metric, variant))

    def sections(self) -> list[Section]:
        d = self.to_dict()
        out: list[Section] = [
            KeyValue("Verdict", [("verdict", d["verdict"]), ("source", d["source"])]),
            Note("Why", d["reasons"]),
            KeyValue("Units per arm", list(d["units"].items())),
            records_table(
                f"Effects (p adjusted: {self.correction})",
                [{k: e.get(k) for k in EFFECT_KEYS} for e in d["effects"]],
            ),
            Note("Methods", [f"{e['metric']}: {e['method']}" for e in d["effects"]]),
            Figure("Relative effects with intervals", self._forest),
        ]
        cuped = [
            {"metric": e["metric"], "variant": e["variant"], **e["cuped"]}
            for e in d["effects"]
            if e.get("cuped")
        ]
        if cuped:
            out.append(records_table("CUPED variance reduction", cuped))
        srm = d["srm"]
        out.append(KeyValue("Sample-ratio check", [(k, v) for k, v in srm.items() if k != "arms"]))
        if d["balance"]:
            out.append(records_table("Pre-experiment balance (SMD)", d["balance"]))
        for arm, seq in d.get("sequential", {}).items():
            summary = [(k, seq[k]) for k in ("metric", "method", "stop", "final") if k in seq]
            summary += [
                (k, seq[k]) for k in ("information_fraction", "next_look_units") if k in seq
            ]
            out.append(KeyValue(f"Sequential analysis: {arm}", summary))
            if seq.get("looks"):
                out.append(records_table(f"Looks so far: {arm}", seq["looks"]))
        out += self._check_sections(d)
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out

    def _check_sections(self, d: dict[str, Any]) -> list[Section]:
        """Segments, novelty and the day-by-day plots."""
        out: list[Section] = []
        arms = self.arms
        for breakdown in self.segments or ():
            column, seg = breakdown.column, d["segments"][breakdown.column]
            mix = seg["mix"]
            out.append(
                records_table(
                    f"Segment mix: {column} (chi-square p = {mix['p_value']:.3g})",
                    mix["shares"],
                )
            )
            out.append(records_table(f"Effects by {column}", table_rows(breakdown, arms)))
            het = [h for h in seg["heterogeneity"] if h["q"] is not None]
            if het:
                out.append(records_table(f"Heterogeneity across {column} (Cochran's Q)", het))
        nov = d.get("novelty", {})
        if nov.get("checked"):
            trend = [
                {"variant": arm, **{k: v for k, v in a.items() if k != "days"}}
                for arm, a in nov["arms"].items()
            ]
            out.append(records_table(f"Novelty check: {nov['metric']} by {nov['basis']}", trend))
            out.append(Figure(f"Effect of {nov['metric']} by {nov['basis']}", self._novelty))
        elif nov:
            out.append(Note("Novelty check", [f"not run: {nov['reason']}"]))
        if d.get("cumulative"):
            out.append(Figure("Cumulative effect of the primary metric", self._cumulative))
        if d.get("daily_srm"):
            out.append(Figure("Daily sample ratio: share minus designed share", self._daily_srm))
        return out

    def _novelty(self) -> str:
        nov = self.to_dict()["novelty"]
        first = next(iter(nov["arms"].values()))["days"]
        series = {
            arm: _band(a["days"], "effect", "ci_lower", "ci_upper")
            for arm, a in nov["arms"].items()
            if [r["day"] for r in a["days"]] == [r["day"] for r in first]
        }
        return lines_svg([r["day"] for r in first], series, xlabel=nov["basis"], ylabel="effect")

    def _cumulative(self) -> str:
        arms = self.to_dict()["cumulative"]
        first = next(iter(arms.values()))
        dates = [r["date"] for r in first]
        series = {
            arm: _band(rows, "effect", "ci_lower", "ci_upper")
            for arm, rows in arms.items()
            if [r["date"] for r in rows] == dates
        }
        return lines_svg(dates, series, xlabel="assignment date", ylabel="cumulative effect")

    def _daily_srm(self) -> str:
        rows = self.to_dict()["daily_srm"]
        series = {
            arm: (
                [100 * r[f"share_gap_{arm}"] for r in rows],
                [-100 * r[f"band_{arm}"] for r in rows],
                [100 * r[f"band_{arm}"] for r in rows],
            )
            for arm in self.arms[1:]
        }
        return lines_svg(
            [r["date"] for r in rows], series, xlabel="assignment date", ylabel="share gap, pp"
        )

    def _forest(self) -> str:
        rows = [e for e in self.to_dict()["effects"] if e.get("rel_ci_lower") is not None]
        rel = True
        if not rows:
            rows, rel = (
                [e for e in self.to_dict()["effects"] if e.get("ci_lower") is not None],
                False,
            )
        key = "rel_" if rel else ""
        scale = 100.0 if rel else 1.0
        return forest_svg(
            [f"{e['metric']} · {e['variant']}" for e in rows],
            [e[f"{key}effect"] * scale for e in rows],
            [e[f"{key}ci_lower"] * scale for e in rows],
            [e[f"{key}ci_upper"] * scale for e in rows],
            xlabel="relative effect, %" if rel else "effect",
            highlight=[e["p_adjusted"] < self.alpha for e in rows],
        )


def _band(
    rows: list[dict[str, Any]], mid: str, low: str, high: str
) -> tuple[list[float], list[float], list[float]]:
    return [r[mid] for r in rows], [r[low] for r in rows], [r[high] for r in rows]
