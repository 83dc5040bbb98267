"""One test per level of a column (``--by``), with the p-values adjusted across levels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from sds.errors import SdsError
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table
from sds.stats.multiple import adjust
from sds.stats.result import interval_label

if TYPE_CHECKING:
    from sds.stats.spec import StatsSpec


@dataclass(frozen=True)
class ByResult(Result):
    title: ClassVar[str] = "Tests by group"
    test: str
    by: str
    correction: str
    rows: tuple[dict[str, Any], ...]
    results: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...] = ()
    confidence: float = 0.95  # of every level's intervals: 1 - alpha

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "test": self.test,
                "by": self.by,
                "correction": self.correction,
                "confidence": self.confidence,
                "rows": [dict(r) for r in self.rows],
                "results": [dict(r) for r in self.results],
                "warnings": list(self.warnings),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        head = [("test", d["test"]), ("by", d["by"]), ("correction", d["correction"])]
        if any(r.get("ci_lower") is not None or r.get("ci_upper") is not None for r in d["rows"]):
            head.append(("confidence", interval_label(self.confidence)))
        out: list[Section] = [KeyValue("Tests", head), records_table("Per level", d["rows"])]
        by_level = _level_warnings(self.by, d["results"])
        if by_level:
            out.append(Note("Warnings by level", by_level))
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out


def _summary(level: Any, result: Any) -> dict[str, Any]:
    """One level's row: the estimate with its interval beside the test, the warnings'
    count (their text is listed under the table)."""
    if isinstance(result, SdsError):
        return {"level": str(level), "test": None, "p_value": None, "error": str(result)}
    d = result.to_dict()
    return {
        "level": str(level),
        "test": d.get("test"),
        "estimate_name": d.get("estimate_name"),
        "estimate": d.get("estimate"),
        "ci_lower": d.get("ci_lower"),
        "ci_upper": d.get("ci_upper"),
        "statistic": d.get("statistic"),
        "p_value": d.get("p_value"),
        "p_adjusted": None,  # set once every level is in
        "effect_size_name": d.get("effect_size_name"),
        "effect_size": d.get("effect_size"),
        "n": sum(v for v in (d.get("n") or {}).values() if isinstance(v, int)),
        "warnings": len(d.get("warnings") or []),
    }


def _level_warnings(by: str, results: tuple[dict[str, Any], ...]) -> list[str]:
    """Each level's own warnings, named by level."""
    return [f"{by} = {r['level']}: {w}" for r in results for w in r.get("warnings") or []]


def run_by(
    df: pd.DataFrame,
    spec: StatsSpec,
    source: str,
    handler: Callable[[pd.DataFrame, StatsSpec, str], Result],
) -> ByResult:
    """Run ``handler`` per level of ``spec.by``; a level that fails is reported, not fatal."""
    assert spec.by is not None
    inner = spec.model_copy(update={"by": None})
    rows, results, warnings = [], [], []
    for level, part in df.groupby(spec.by, sort=True, dropna=True):
        try:
            result: Any = handler(
                part.reset_index(drop=True), inner, f"{source} [{spec.by}={level}]"
            )
        except SdsError as exc:
            result = exc
            warnings.append(f"{spec.by} = {level}: {exc}")
        rows.append(_summary(level, result))
        results.append(
            {
                "level": str(level),
                **(result.to_dict() if isinstance(result, Result) else {"error": str(result)}),
            }
        )
    adjusted = adjust(
        [float("nan") if r["p_value"] is None else float(r["p_value"]) for r in rows],
        spec.correction,
    )
    for row, p in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = None if p != p else p
    return ByResult(
        test=spec.test,
        by=spec.by,
        correction=spec.correction,
        rows=tuple(rows),
        results=tuple(results),
        warnings=tuple(warnings),
        confidence=spec.confidence,
    )
