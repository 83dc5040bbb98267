"""The analysis report: verdict first, then effects, checks and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

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
    """Everything ``sds analyze`` found about one experiment."""

    title: ClassVar[str] = "Experiment analysis"
    name: str
    source: str
    grain: str
    units: dict[str, int]
    verdict: str
    reasons: tuple[str, ...]
    effects: tuple[dict[str, Any], ...]
    srm: dict[str, Any]
    balance: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    alpha: float = 0.05
    correction: str = "holm"
    extra: dict[str, Any] = field(default_factory=dict)  # segments, novelty, sequential

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "name": self.name,
                "source": self.source,
                "verdict": self.verdict,
                "reasons": list(self.reasons),
                "grain": self.grain,
                "units": dict(self.units),
                "alpha": self.alpha,
                "correction": self.correction,
                "effects": [dict(e) for e in self.effects],
                "srm": dict(self.srm),
                "balance": [dict(b) for b in self.balance],
                **self.extra,
                "warnings": list(self.warnings),
            }
        )

    def effect(self, metric: str, variant: str | None = None) -> dict[str, Any]:
        """The effect row of ``metric`` (and ``variant`` when there are several arms)."""
        for e in self.effects:
            if e["metric"] == metric and (variant is None or e["variant"] == variant):
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
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out

    def _forest(self) -> str:
        from sds.report.plots import forest_svg

        rows = [e for e in self.effects if e.get("rel_ci_lower") is not None]
        rel = True
        if not rows:
            rows, rel = [e for e in self.effects if e.get("ci_lower") is not None], False
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
