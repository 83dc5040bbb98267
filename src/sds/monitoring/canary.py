"""``sds canary report LOG``: champion against challenger from the request log, and a call.

Per variant (engine aggregates): requests, server errors (5xx), refused requests (4xx),
latency P50/P95/P99 and the mean prediction; between them: a one-sided two-proportion z
test that the challenger errs more, the ratio of P95 latencies, and the PSI and KS of the
challenger's predictions against the champion's. The call:

- **roll back** when the challenger errs significantly more (p < ``alpha``) or its P95
  latency exceeds ``latency_ratio_max`` (1.5) times the champion's;
- **keep waiting** while either variant has fewer than ``min_requests`` (1,000);
- **promote** otherwise (with a warning when its predictions drift from the champion's:
  PSI at or above 0.2 means the new model behaves differently, which may be the point).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from sds.errors import DataError
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table


@dataclass(frozen=True)
class CanaryResult(Result):
    title: ClassVar[str] = "Canary report"
    decision: str
    reasons: list[str]
    variants: list[dict[str, Any]]
    comparison: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "decision": self.decision,
                "reasons": self.reasons,
                "variants": self.variants,
                "comparison": self.comparison,
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        return [
            KeyValue("Decision", [("decision", d["decision"])]),
            Note("Why", d["reasons"]),
            records_table("Variants", d["variants"]),
            KeyValue("Challenger against champion", list(d["comparison"].items())),
        ]


def _per_variant(log: Any) -> list[dict[str, Any]]:
    from sds.monitoring.report import service_aggregates

    t = log.expr
    summary = t.group_by("variant").aggregate(
        **service_aggregates(t), mean_prediction=t.prediction.mean()
    )
    frame = log.engine.execute(summary.order_by("variant"), source=log.name)
    rows: list[dict[str, Any]] = frame.to_dict("records")
    for r in rows:
        r["error_rate"] = r["errors"] / r["requests"] if r["requests"] else 0.0
    return rows


def canary_report(
    log: Any,
    *,
    alpha: float = 0.05,
    min_requests: int = 1_000,
    latency_ratio_max: float = 1.5,
) -> CanaryResult:
    """The report for a request log (folder of Parquet files, file or table)."""
    from sds.data.io import open_table
    from sds.monitoring.drift import bin_counts, ks, numeric_edges, psi_from_counts

    table = open_table(log)
    table.require("variant", "status", "latency_ms", "prediction")
    rows = {r["variant"]: r for r in _per_variant(table)}
    if set(rows) != {"champion", "challenger"}:
        raise DataError(
            "the log needs requests of both variants, champion and challenger",
            source=table.name,
            found=", ".join(sorted(rows)) or "no requests",
            hint="Serve with --canary MODEL and --log-dir.",
        )
    a, b = rows["champion"], rows["challenger"]
    pooled = (a["errors"] + b["errors"]) / (a["requests"] + b["requests"])
    se = np.sqrt(pooled * (1 - pooled) * (1 / a["requests"] + 1 / b["requests"]))
    z = (b["error_rate"] - a["error_rate"]) / se if se > 0 else 0.0
    p_worse = float(stats.norm.sf(z))
    ratio = b["p95_ms"] / a["p95_ms"] if a["p95_ms"] else float("inf")
    champion = _served(table, "champion")
    challenger = _served(table, "challenger")
    edges = numeric_edges(champion, ["prediction"], 10)["prediction"]
    psi = psi_from_counts(
        bin_counts(champion, "prediction", edges), bin_counts(challenger, "prediction", edges)
    )
    comparison = {
        "error_rate_difference": b["error_rate"] - a["error_rate"],
        "p_value_challenger_errs_more": p_worse,
        "p95_latency_ratio": ratio,
        "prediction_psi": psi,
        **ks(champion, challenger, "prediction", "prediction"),
    }
    decision, reasons = _decide(a, b, p_worse, ratio, psi, alpha, min_requests, latency_ratio_max)
    return CanaryResult(decision, reasons, [a, b], comparison)


def _served(table: Any, variant: str) -> Any:
    from sds.data.io import Table

    t = table.expr
    return Table(t.filter((t.variant == variant) & (t.status == 200)), table.name, table.engine)


def _decide(
    a: dict[str, Any],
    b: dict[str, Any],
    p_worse: float,
    ratio: float,
    psi: float,
    alpha: float,
    min_requests: int,
    latency_ratio_max: float,
) -> tuple[str, list[str]]:
    reasons = []
    if p_worse < alpha:
        reasons.append(
            f"the challenger errs more: {b['error_rate']:.2%} against "
            f"{a['error_rate']:.2%} (p = {p_worse:.2g})"
        )
    if ratio > latency_ratio_max:
        reasons.append(
            f"the challenger's P95 latency is {ratio:.2f}x the champion's "
            f"(limit {latency_ratio_max}x)"
        )
    if reasons:
        return "roll back", reasons
    fewest = min(a["requests"], b["requests"])
    if fewest < min_requests:
        return "keep waiting", [
            f"{fewest:,} requests in the smaller variant; {min_requests:,} needed before a call"
        ]
    out = [f"no more errors (p = {p_worse:.2g}) and P95 latency {ratio:.2f}x the champion's"]
    if psi >= 0.2:
        out.append(
            f"its predictions differ from the champion's (PSI {psi:.2f}): check that "
            "this is the change intended"
        )
    return "promote", out
