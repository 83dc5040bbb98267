"""How each logged request ended, from the request log's ``status`` column.

- **answered** (200): the model saw the inputs and returned a prediction; only these rows
  carry data for drift, and only their latency is the model's latency;
- **refused** (4xx but 401 and 499: 400, 408, 413, 415, 422): the server turned the request
  down before the model; its inputs are usually null and its fast answer says nothing of
  the model's speed;
- **errors** (5xx): the server failed;
- **disconnected** (499): the client left before the answer; the variant did nothing wrong,
  so these count in neither rate;
- 401 rows (a wrong API key, written by older servers) are not requests to the model and
  are dropped.

Rates are shares of the requests the server **responded** to (every request but the
disconnected ones).
"""

from __future__ import annotations

from typing import Any

from sds.data.finite import engine_count
from sds.data.io import Table
from sds.errors import DataError

ANSWERED = 200
UNAUTHORIZED = 401
DISCONNECTED = 499


def is_request_log(table: Any) -> bool:
    """A request log (or a table shaped like one): a whole-number ``status`` column (the
    HTTP status) and a ``latency_ms`` column; a feature that happens to be called status
    (an order's "shipped", say) does not make a table a log."""
    if not {"status", "latency_ms"} <= set(table.columns):
        return False
    return bool(table.expr["status"].type().is_integer())


def without_unauthorized(table: Any) -> Any:
    """The table without 401 rows (old logs wrote them; they are not model requests)."""

    t = table.expr
    return Table(t.filter(t.status != UNAUTHORIZED), table.name, table.engine)


def answered_only(table: Any) -> Any:
    """Only the answered requests (status 200): the rows that are data."""

    t = table.expr
    return Table(t.filter(t.status == ANSWERED), table.name, table.engine)


def outcome_aggregates(t: Any) -> dict[str, Any]:
    """Counts by outcome and the latency quantiles of answered requests, as engine
    expressions for an ``aggregate`` (grouped or not) over a log without 401 rows."""
    s = t.status
    answered = s == ANSWERED
    refused = (s >= 400) & (s < 500) & (s != UNAUTHORIZED) & (s != DISCONNECTED)
    return {
        "requests": t.count(),
        "answered": answered.sum(),
        "refused": refused.sum(),
        "errors": (s >= 500).sum(),
        "disconnected": (s == DISCONNECTED).sum(),
        "p50_ms": t.latency_ms.quantile(0.5, where=answered),
        "p95_ms": t.latency_ms.quantile(0.95, where=answered),
        "p99_ms": t.latency_ms.quantile(0.99, where=answered),
    }


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def outcome_figures(row: Any) -> dict[str, Any]:
    """Counts, rates and answered-request latency from one row of
    :func:`outcome_aggregates`."""
    counts = {k: engine_count(row[k]) for k in ("requests", "answered", "refused", "errors")}
    counts["disconnected"] = engine_count(row["disconnected"])
    responded = counts["requests"] - counts["disconnected"]

    def share(k: str, of: int) -> float:
        return counts[k] / of if of else float("nan")

    return {
        **counts,
        "responded": responded,
        "refused_rate": share("refused", responded),
        "error_rate": share("errors", responded),
        "disconnect_rate": share("disconnected", counts["requests"]),
        "p50_ms": _number(row["p50_ms"]),
        "p95_ms": _number(row["p95_ms"]),
        "p99_ms": _number(row["p99_ms"]),
    }


def check_log(table: Any) -> None:
    """Refuse a log whose columns cannot be what the server writes, or whose answered
    requests lack a finite latency: such rows would be read as speed or as data."""

    t = table.expr
    kinds = {"status": "whole-number HTTP statuses", "latency_ms": "numbers (milliseconds)"}
    if "prediction" in table.columns:
        kinds["prediction"] = "numbers"
    for column, expected in kinds.items():
        dtype = t[column].type()
        if not (dtype.is_integer() if column == "status" else dtype.is_numeric()):
            raise DataError(
                "this column of the request log has the wrong type",
                source=table.name,
                column=column,
                found=str(dtype),
                expected=expected,
            )
    latency = t.latency_ms.cast("float64")
    bad = (t.status == ANSWERED) & (latency.isnull() | latency.isnan() | latency.isinf())
    row = table.engine.execute(t.aggregate(n=bad.sum()), source=table.name)
    n = engine_count(row["n"].iloc[0])
    if n:
        raise DataError(
            "answered requests without a finite latency",
            source=table.name,
            column="latency_ms",
            found=f"{n:,} such rows",
            hint="The log is damaged: check where it was written or copied.",
        )
