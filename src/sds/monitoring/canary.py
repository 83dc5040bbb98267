"""``sds canary report LOG``: champion against challenger from the request log, and a call.

Per variant (engine aggregates): requests by outcome (answered 200, refused 4xx, server
errors 5xx, disconnected 499; see :mod:`sds.monitoring.outcomes`), the refusal and error
rates among the requests the variant responded to, latency P50/P95/P99 of answered
requests and their mean prediction. Between them: for refusals and for errors, a one-sided
test that the challenger's rate is higher, stated challenger minus champion as an
:class:`~sds.stats.estimate.Estimate` (:func:`sds.stats.proportions.compare_proportions`:
the z test, or Fisher's exact test when a variant has fewer than 5 of either outcome), the
ratio of answered P95 latencies, and the PSI and KS of the challenger's predictions against
the champion's. The call:

- **roll back** when the challenger refuses or errs significantly more (p < ``alpha``,
  each) or its P95 latency exceeds ``latency_ratio_max`` (1.5) times the champion's;
- **keep waiting** while either variant has answered fewer than ``min_requests`` (1,000),
  and always while the challenger has answered none: it is never promoted unheard;
- **promote** otherwise (with a warning when its predictions drift from the champion's:
  PSI at or above 0.2 means the new model behaves differently, which may be the point).

Disconnects (the client left first) are counted and shown but are in neither rate: they
say nothing against the variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sds.data.io import Table, open_table
from sds.errors import DataError
from sds.monitoring.drift import bin_counts, ks, numeric_edges, psi_from_counts
from sds.monitoring.outcomes import (
    ANSWERED,
    answered_only,
    check_log,
    outcome_aggregates,
    outcome_figures,
    without_unauthorized,
)
from sds.params import POSITIVE_INT, Interval, check
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table
from sds.stats.estimate import Estimate
from sds.stats.proportions import compare_proportions

_OUTCOME_KEYS = [
    "variant",
    "requests",
    "answered",
    "refused",
    "errors",
    "disconnected",
    "refused_rate",
    "error_rate",
]
_ANSWERED_KEYS = ["variant", "p50_ms", "p95_ms", "p99_ms", "mean_prediction"]
_RATE_KEYS = ["rate", "estimate", "ci_lower", "ci_upper", "level", "p_value", "method"]
CONTRAST = "challenger - champion"


@dataclass(frozen=True)
class CanaryResult(Result):
    title: ClassVar[str] = "Canary report"
    decision: str
    reasons: list[str]
    variants: list[dict[str, Any]]
    comparison: dict[str, Any]
    # challenger minus champion on the refusal and the error rate (None: a variant
    # responded to no request)
    refusals: Estimate | None = None
    errors: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "decision": self.decision,
                "reasons": self.reasons,
                "variants": self.variants,
                "comparison": self.comparison,
                "rates": [
                    {"rate": name, **(e.to_dict() if e is not None else {})}
                    for name, e in (("refused_rate", self.refusals), ("error_rate", self.errors))
                ],
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        return [
            KeyValue("Decision", [("decision", d["decision"])]),
            Note("Why", d["reasons"]),
            records_table("Requests by outcome", d["variants"], _OUTCOME_KEYS),
            records_table("Answered requests", d["variants"], _ANSWERED_KEYS),
            KeyValue("Challenger against champion", list(d["comparison"].items())),
            records_table("Rates, challenger - champion", d["rates"], _RATE_KEYS),
        ]


def _per_variant(log: Any) -> list[dict[str, Any]]:
    t = log.expr
    summary = t.group_by("variant").aggregate(
        **outcome_aggregates(t), mean_prediction=t.prediction.mean(where=t.status == ANSWERED)
    )
    frame = log.engine.execute(summary.order_by("variant"), source=log.name)
    return [
        {"variant": r["variant"], **outcome_figures(r), "mean_prediction": r["mean_prediction"]}
        for r in frame.to_dict("records")
    ]


def _check_options(alpha: float, min_requests: int, latency_ratio_max: float) -> None:
    check("alpha", alpha)
    check("min_requests", min_requests, POSITIVE_INT)
    # a challenger 1,000 times slower is never acceptable: a larger limit only hides one
    check("latency_ratio_max", latency_ratio_max, Interval(0.0, 1_000.0, low_open=True))


def canary_report(
    log: Any,
    *,
    alpha: float = 0.05,
    min_requests: int = 1_000,
    latency_ratio_max: float = 1.5,
) -> CanaryResult:
    """The report for a request log (folder of Parquet files, file or table)."""

    _check_options(alpha, min_requests, latency_ratio_max)
    table = open_table(log)
    table.require("variant", "status", "latency_ms", "prediction")
    check_log(table)
    table = without_unauthorized(table)
    rows = {r["variant"]: r for r in _per_variant(table)}
    if set(rows) != {"champion", "challenger"}:
        raise DataError(
            "the log needs requests of both variants, champion and challenger",
            source=table.name,
            found=", ".join(sorted(map(str, rows))) or "no requests",
            hint="Serve with --canary MODEL and --log-dir.",
        )
    a, b = rows["champion"], rows["challenger"]
    refusals, errors = _more_often(b, a, "refused", alpha), _more_often(b, a, "errors", alpha)
    comparison = {
        "refused_rate_difference": b["refused_rate"] - a["refused_rate"],
        "p_value_challenger_refuses_more": _p(refusals),
        "refusal_test": _test(refusals),
        "error_rate_difference": b["error_rate"] - a["error_rate"],
        "p_value_challenger_errs_more": _p(errors),
        "error_test": _test(errors),
        "p95_latency_ratio": _ratio(b["p95_ms"], a["p95_ms"]),
        **_prediction_drift(table, a, b),
    }
    decision, reasons = _decide(a, b, comparison, alpha, min_requests, latency_ratio_max)
    return CanaryResult(decision, reasons, [a, b], comparison, refusals, errors)


def _more_often(b: dict[str, Any], a: dict[str, Any], key: str, alpha: float) -> Estimate | None:
    """Challenger minus champion on the share of ``key`` among the requests each responded
    to, with the one-sided p-value that the challenger's is higher: the one two-proportion
    comparison of sds (Fisher's exact test when an arm has fewer than 5 of either outcome).
    None when a variant responded to no request."""

    if min(b["responded"], a["responded"]) == 0:
        return None
    return compare_proportions(
        b[key],
        b["responded"],
        a[key],
        a["responded"],
        alpha=alpha,
        contrast=CONTRAST,
        alternative="greater",
    )


def _p(estimate: Estimate | None) -> float:
    if estimate is None or estimate.p_value is None:
        return float("nan")
    return estimate.p_value


def _test(estimate: Estimate | None) -> str:
    return "none: a variant responded to no request" if estimate is None else estimate.method


def _ratio(b: float, a: float) -> float:
    if np.isnan(a) or np.isnan(b):
        return float("nan")
    if a == 0:
        return float("inf") if b > 0 else 1.0
    return b / a


def _prediction_drift(table: Any, a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """PSI and KS of the challenger's answered predictions against the champion's."""

    if not a["answered"] or not b["answered"]:
        return {"prediction_psi": float("nan"), "ks": float("nan"), "ks_p_value": float("nan")}
    champion, challenger = _served(table, "champion"), _served(table, "challenger")
    edges = numeric_edges(champion, ["prediction"], 10)["prediction"]
    psi = psi_from_counts(
        bin_counts(champion, "prediction", edges), bin_counts(challenger, "prediction", edges)
    )
    return {"prediction_psi": psi, **ks(champion, challenger, "prediction", "prediction")}


def _served(table: Any, variant: str) -> Any:
    answered = answered_only(table)
    t = answered.expr
    return Table(t.filter(t.variant == variant), table.name, table.engine)


def _figures(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> dict[str, str]:
    def rate(key: str, p: str) -> str:
        shown = "p < 1e-300" if c[p] == 0 else f"p = {c[p]:.2g}"
        return f"{b[key]:.2%} against the champion's {a[key]:.2%}, {shown}"

    return {
        "refusals": rate("refused_rate", "p_value_challenger_refuses_more"),
        "errors": rate("error_rate", "p_value_challenger_errs_more"),
        "latency": f"P95 latency of answered requests {c['p95_latency_ratio']:.2f}x the champion's",
    }


def _disconnects(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    if not a["disconnected"] and not b["disconnected"]:
        return []
    return [
        f"{b['disconnected']:,} challenger and {a['disconnected']:,} champion requests "
        "were disconnected by the client (499): counted in neither rate"
    ]


def _decide(
    a: dict[str, Any],
    b: dict[str, Any],
    c: dict[str, Any],
    alpha: float,
    min_requests: int,
    latency_ratio_max: float,
) -> tuple[str, list[str]]:
    figures, notes = _figures(a, b, c), _disconnects(a, b)
    reasons = []
    if c["p_value_challenger_refuses_more"] < alpha:
        reasons.append(f"the challenger refuses more: {figures['refusals']}")
    if c["p_value_challenger_errs_more"] < alpha:
        reasons.append(f"the challenger errs more: {figures['errors']}")
    if c["p95_latency_ratio"] > latency_ratio_max:
        reasons.append(f"the challenger's {figures['latency']} (limit {latency_ratio_max}x)")
    if reasons:
        return "roll back", reasons + notes
    status = [f"refusals {figures['refusals']}; errors {figures['errors']}; {figures['latency']}"]
    if not b["answered"]:
        return "keep waiting", [
            f"the challenger has answered no request ({b['refused']:,} refused, "
            f"{b['errors']:,} errors): it cannot be promoted",
            *status,
            *notes,
        ]
    fewest = min(a["answered"], b["answered"])
    if fewest < min_requests:
        return "keep waiting", [
            f"{fewest:,} answered requests in the smaller variant; {min_requests:,} needed "
            "before a call",
            *status,
            *notes,
        ]
    out = [
        f"no more refusals ({figures['refusals']}), no more errors ({figures['errors']}) "
        f"and {figures['latency']}"
    ]
    if c["prediction_psi"] >= 0.2:
        out.append(
            f"its predictions differ from the champion's (PSI {c['prediction_psi']:.2f}): "
            "check that this is the change intended"
        )
    return "promote", out + notes
