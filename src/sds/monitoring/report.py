"""``sds monitor``: drift of every input and of the output, and the service's latency and
error rate from a request log, as one report with the drifted features first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sds.errors import DataError
from sds.results import Figure, KeyValue, Note, Result, Section, jsonable_dict, records_table

PSI_WARN, PSI_ALERT = 0.1, 0.2
LOG_COLUMNS = {"ts", "variant", "model_version", "status", "latency_ms", "prediction"}


@dataclass(frozen=True)
class MonitorResult(Result):
    title: ClassVar[str] = "Drift and service monitor"
    features: list[dict[str, Any]]
    output: dict[str, Any] | None
    service: dict[str, Any] | None
    thresholds: dict[str, float]
    rows: dict[str, int]

    @property
    def alerts(self) -> list[str]:
        return [f["feature"] for f in self.features if f["status"] == "alert"]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "rows": self.rows,
                "thresholds": self.thresholds,
                "alerts": self.alerts,
                "features": self.features,
                "output": self.output,
                "service": self.service,
            }
        )

    def sections(self) -> list[Section]:
        from sds.report.plots import bar_svg

        d = self.to_dict()
        head = [
            ("reference rows", self.rows["reference"]),
            ("current rows", self.rows["current"]),
            ("features in alert", ", ".join(self.alerts) or "none"),
        ]
        out: list[Section] = [KeyValue("Summary", head)]
        warned = [f for f in self.features if f["status"] != "ok"]
        if warned:
            out.append(
                Note(
                    "Drift", [f"{f['feature']}: PSI {f['psi']:.3f} ({f['status']})" for f in warned]
                )
            )
        out.append(records_table("Features, most drifted first", d["features"]))
        top = self.features[:15]
        labels, values = [f["feature"] for f in top], [f["psi"] for f in top]
        out.append(Figure("PSI by feature", lambda: bar_svg(labels, values, "PSI")))
        if d["output"]:
            out.append(KeyValue("Output drift", list(d["output"].items())))
        if d["service"]:
            out.append(KeyValue("Service (from the request log)", list(d["service"].items())))
        return out


def _status(psi: float, warn: float, alert: float) -> str:
    return "alert" if psi >= alert else "warn" if psi >= warn else "ok"


def monitor(
    reference: Any,
    current: Any,
    *,
    features: list[str] | None = None,
    bins: int = 10,
    psi_warn: float = PSI_WARN,
    psi_alert: float = PSI_ALERT,
) -> MonitorResult:
    """Compare ``current`` (a request log or a table) with ``reference``."""
    from sds.data.io import open_table

    ref = open_table(reference)
    cur = open_table(current, engine=ref.engine)
    pairs = _pairs(ref.columns, cur.columns, features, cur.name)
    numeric = [r for r, _ in pairs if _is_numeric(ref, r)]
    from sds.monitoring.drift import numeric_edges

    edges = numeric_edges(ref, numeric, bins)
    rows = [_feature(ref, cur, r, c, edges.get(r), psi_warn, psi_alert) for r, c in pairs]
    rows.sort(key=lambda f: -f["psi"])
    output = None
    if "prediction" in cur.columns and "prediction" in ref.columns:
        output = _feature(
            ref,
            cur,
            "prediction",
            "prediction",
            numeric_edges(ref, ["prediction"], bins)["prediction"],
            psi_warn,
            psi_alert,
        )
    service = _service(cur) if {"latency_ms", "status"} <= set(cur.columns) else None
    return MonitorResult(
        rows,
        output,
        service,
        {"psi_warn": psi_warn, "psi_alert": psi_alert},
        {"reference": ref.count(), "current": cur.count()},
    )


def _pairs(
    ref_cols: list[str], cur_cols: list[str], features: list[str] | None, source: str
) -> list[tuple[str, str]]:
    wanted = features or [c for c in ref_cols if c not in LOG_COLUMNS]
    out = []
    for f in wanted:
        if f in cur_cols:
            out.append((f, f))
        elif f"in_{f}" in cur_cols:
            out.append((f, f"in_{f}"))
        elif features:
            from sds.errors import missing_column_error

            raise missing_column_error(f, cur_cols, source)
    if not out:
        raise DataError(
            "the reference and current data share no feature columns",
            source=source,
            hint="A request log names inputs in_<feature>.",
        )
    return out


def _is_numeric(table: Any, column: str) -> bool:
    dtype = table.expr[column].type()
    return bool(dtype.is_numeric() or dtype.is_boolean())


def _feature(
    ref: Any, cur: Any, r: str, c: str, edges: np.ndarray | None, warn: float, alert: float
) -> dict[str, Any]:
    from sds.monitoring import drift

    row: dict[str, Any] = {"feature": r}
    if edges is not None:
        ref_counts, cur_counts = drift.bin_counts(ref, r, edges), drift.bin_counts(cur, c, edges)
        row["psi"] = drift.psi_from_counts(ref_counts, cur_counts)
        row.update(drift.ks(ref, cur, r, c))
        row["kind"] = "numeric"
    else:
        ref_counts, cur_counts = drift.level_counts(ref, cur, r, c)
        row["psi"] = drift.psi_from_counts(ref_counts, cur_counts)
        row.update(drift.categorical_tests(ref_counts, cur_counts))
        row["kind"] = "categorical"
    row["status"] = _status(row["psi"], warn, alert)
    return row


def service_aggregates(t: Any) -> dict[str, Any]:
    """A request log's counts and latency quantiles, as engine expressions (for an
    ``aggregate``, grouped or not)."""
    return {
        "requests": t.count(),
        "errors": (t.status >= 500).cast("int64").sum(),
        "refused": ((t.status >= 400) & (t.status < 500)).cast("int64").sum(),
        "p50_ms": t.latency_ms.quantile(0.5),
        "p95_ms": t.latency_ms.quantile(0.95),
        "p99_ms": t.latency_ms.quantile(0.99),
    }


def _service(cur: Any) -> dict[str, Any]:
    summary = cur.expr.aggregate(**service_aggregates(cur.expr))
    row = cur.engine.execute(summary, source=cur.name).iloc[0]
    n = int(row["requests"])
    return {
        "log_rows": n,
        "error_rate": float(row["errors"]) / n if n else 0.0,
        "refused_rate": float(row["refused"]) / n if n else 0.0,
        "latency_p50_ms": float(row["p50_ms"]),
        "latency_p95_ms": float(row["p95_ms"]),
        "latency_p99_ms": float(row["p99_ms"]),
    }
