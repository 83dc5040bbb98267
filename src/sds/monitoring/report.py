"""``sds monitor``: drift of every input and of the output, and the service's latency and
error rate from a request log, as one report with the drifted features first.

Data with a whole-number ``status`` and a ``latency_ms`` column is a request log: only its
answered requests (status 200) are compared for drift (a refused request's inputs are null,
and a share of refusals would otherwise read as drift in every feature); refusals, server
errors and client disconnects are reported as their own counts and rates
(:mod:`sds.monitoring.outcomes`). Each side needs at least one row per bin; infinite values
in a numeric feature, and a feature that is a number on one side only, are refused.

When the caller names no features, text columns that look like identifiers or free text are
not compared but listed as skipped (:mod:`sds.monitoring.identifiers`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sds.data.finite import engine_count
from sds.data.io import open_table
from sds.data.numeric import is_numeric_type
from sds.errors import DataError, ParameterError, missing_column_error
from sds.monitoring import binned, binned_drift, drift, identifiers
from sds.monitoring.drift import EPSILON, numeric_edges
from sds.monitoring.outcomes import (
    ANSWERED,
    answered_only,
    check_log,
    is_request_log,
    outcome_aggregates,
    outcome_figures,
    without_unauthorized,
)
from sds.params import Interval, check
from sds.report.plots import bar_svg
from sds.results import Figure, KeyValue, Note, Result, Section, jsonable_dict, records_table

PSI_WARN, PSI_ALERT = 0.1, 0.2
QUANTILES = ("p50_ms", "p95_ms", "p99_ms")
LOG_COLUMNS = {"ts", "variant", "model_version", "status", "latency_ms", "prediction"}


@dataclass(frozen=True)
class MonitorResult(Result):
    title: ClassVar[str] = "Drift and service monitor"
    features: list[dict[str, Any]]
    output: dict[str, Any] | None
    service: dict[str, Any] | None
    thresholds: dict[str, float]
    rows: dict[str, int]
    skipped: list[dict[str, Any]] = field(default_factory=list)  # identifier-like columns

    @property
    def alerts(self) -> list[str]:
        return [f["feature"] for f in self.features if f["status"] == "alert"]

    @property
    def skipped_lines(self) -> list[str]:
        """One line per column left out (see :mod:`sds.monitoring.identifiers`)."""
        return [identifiers.message(s) for s in self.skipped]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "rows": self.rows,
                "thresholds": self.thresholds,
                "alerts": self.alerts,
                "features": self.features,
                "skipped": self.skipped,
                "output": self.output,
                "service": self.service,
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        head = [
            ("reference rows", self.rows["reference"]),
            ("current rows", self.rows["current"]),
            ("features in alert", ", ".join(self.alerts) or "none"),
        ]
        if self.service:
            s = self.service
            head[1] = ("current rows (answered requests)", self.rows["current"])
            head.append(
                (
                    "not answered (not used for drift)",
                    f"{s['refused']:,} refused, {s['errors']:,} errors, "
                    f"{s['disconnected']:,} disconnected",
                )
            )
        out: list[Section] = [KeyValue("Summary", head)]
        if self.skipped:
            out.append(Note("Not compared", self.skipped_lines))
        warned = [f for f in self.features if f["status"] != "ok"]
        if warned:
            out.append(
                Note(
                    "Drift", [f"{f['feature']}: PSI {f['psi']:.3f} ({f['status']})" for f in warned]
                )
            )
        bounds = [f.get("ks_error_bound", 0.0) for f in self.features if f["kind"] == "numeric"]
        if any(b > 0 for b in bounds):
            out.append(
                Note(
                    "KS from binned counts",
                    [
                        "On this many rows the KS statistic is the largest gap at the edges "
                        "of fine bins: the exact statistic lies between ks and ks + "
                        f"ks_error_bound (largest bound here {max(bounds):.1e}; at most "
                        f"{binned.KS_TOLERANCE:g})."
                    ],
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

    check("bins", bins)  # before any data is read, for Python callers as for the CLI
    _check_thresholds(psi_warn, psi_alert)

    ref = _answered(open_table(reference))
    log = open_table(current, engine=ref.engine)
    service = None
    if is_request_log(log):
        check_log(log)
    cur = _answered(log)
    counts = {"reference": _rows(ref, bins, "reference"), "current": _rows(cur, bins, "current")}
    large = counts["reference"] + counts["current"] > binned.EXACT_ROWS
    if is_request_log(log):
        service = _service(log, cur if large else None)
    pairs = _pairs(ref.columns, cur.columns, features, cur.name)
    numeric = _numeric(ref, cur, pairs)
    # unnamed features: text columns that look like identifiers are left out (the caller
    # who names one gets it compared)
    texts = (
        [] if features else identifiers.candidates(ref, [r for r, _ in pairs if r not in numeric])
    )
    has_output = "prediction" in cur.columns and "prediction" in ref.columns
    compared = numeric + (["prediction"] if has_output else [])
    figures: dict[tuple[str, str], binned_drift.NumericDrift] | None = None
    edges: dict[str, np.ndarray] = {}
    if large:
        both = [(r, c) for r, c in pairs if r in numeric]
        both += [("prediction", "prediction")] if has_output else []
        figures, skipped = _binned(ref, cur, both, numeric, bins, texts)
    else:
        # the text columns' distinct counts ride in the reference's finite check
        row = _check_finite(ref, numeric, identifiers.aggregates(ref, texts, exact=True))
        skipped = identifiers.judged(ref, texts, row, exact=True)
        _check_finite(cur, [c for r, c in pairs if r in numeric])
        edges = numeric_edges(ref, compared, bins)
    pairs = [p for p in pairs if p[0] not in skipped]
    sides = (counts["reference"], counts["current"])
    # each categorical feature's level counts, all in one query
    levels = drift.level_counts_by_pair(ref, cur, [p for p in pairs if p[0] not in numeric], sides)
    exact = (
        {} if large else _exact(ref, cur, [p for p in pairs if p[0] in numeric], has_output, edges)
    )
    drifts = Drifts(ref, cur, bins, exact, figures, levels)
    warn_alert = (psi_warn, psi_alert)
    rows = [_feature(drifts, r, c, r in numeric, *warn_alert) for r, c in pairs]
    rows.sort(key=lambda f: -f["psi"])
    output = None
    if has_output:
        output = _feature(drifts, "prediction", "prediction", True, *warn_alert)
    return MonitorResult(
        rows,
        output,
        service,
        {"psi_warn": psi_warn, "psi_alert": psi_alert},
        counts,
        [s.to_dict() for s in skipped.values()],
    )


def _binned(
    ref: Any,
    cur: Any,
    pairs: list[tuple[str, str]],
    numeric: list[str],
    bins: int,
    texts: list[str],
) -> tuple[dict[tuple[str, str], binned_drift.NumericDrift], dict[str, identifiers.Skipped]]:
    """The numeric pairs' figures on large inputs: one grouped scan per side and feature
    (the current data's infinities are found in those scans; the reference's ``numeric``
    features' are refused here), a few queries in all; and the ``texts`` columns left out
    as identifiers, judged from sketches computed in the ranges' query."""
    estimates = identifiers.aggregates(ref, texts, exact=False)
    if not pairs:  # only categorical features: nothing to bin (an empty query otherwise)
        if not texts:
            return {}, {}
        row = ref.engine.execute(ref.expr.aggregate(**estimates), source=ref.name).iloc[0]
        return {}, identifiers.judged(ref, texts, row, exact=False)
    columns = list(dict.fromkeys(r for r, _ in pairs))
    found, row = binned.ranges_with(ref, columns, estimates)
    skipped = identifiers.judged(ref, texts, row, exact=False)
    _refuse_infinite(ref, {c: found[c][2] for c in numeric})
    grids = {c: binned.grid_for(*v) for c, v in found.items()}
    cells = binned.cells_by_column(ref, columns, grids)  # the reference's, one query
    return binned_drift.numeric_drifts(ref, cur, pairs, bins, grids, cells), skipped


def _exact(
    ref: Any, cur: Any, pairs: list[tuple[str, str]], output: bool, edges: dict[str, np.ndarray]
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, dict[str, float]]]:
    """Each numeric pair's (and the output's) bin counts on both sides, from one query, and
    KS, from another: the exact path's figures (on Spark two jobs, not three a feature)."""
    pairs = pairs + ([("prediction", "prediction")] if output else [])
    specs = [(ref, r, edges[r]) for r, _ in pairs] + [(cur, c, edges[r]) for r, c in pairs]
    counts = drift.bin_counts_of(ref.engine, specs, f"{ref.name} and {cur.name}")
    tests = drift.ks_by_pair(ref, cur, pairs)
    n = len(pairs)
    return {p: (counts[i], counts[n + i], tests[p]) for i, p in enumerate(pairs)}


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
            raise missing_column_error(f, cur_cols, source)
    if not out:
        raise DataError(
            "the reference and current data share no feature columns",
            source=source,
            hint="A request log names inputs in_<feature>.",
        )
    return out


def _numeric(ref: Any, cur: Any, pairs: list[tuple[str, str]]) -> list[str]:
    """The reference columns compared as numbers; a feature that is a number on one side
    and text on the other cannot be compared (PSI of "abc" against 12 means nothing)."""
    out = []
    for r, c in pairs:
        kinds = _is_numeric(ref, r), _is_numeric(cur, c)
        if kinds[0] != kinds[1]:
            raise DataError(
                "a feature is a number on one side and not on the other",
                source=cur.name,
                column=c,
                found=f"{ref.expr[r].type()} in the reference, {cur.expr[c].type()} here",
                hint="Both sides need the same column types.",
            )
        if kinds[0]:
            out.append(r)
    return out


def _check_finite(table: Any, columns: list[str], extra: dict[str, Any] | None = None) -> Any:
    """Refuse +-inf in a numeric feature: no bin or quantile can hold it as data. The
    ``extra`` aggregates (named other than ``c<i>``) are computed in the same query, whose
    row is returned (None when there was nothing to compute)."""
    if not columns and not extra:
        return None
    t = table.expr
    counts = {f"c{i}": t[c].cast("float64").isinf().sum() for i, c in enumerate(columns)}
    row = table.engine.execute(t.aggregate(**counts, **(extra or {})), source=table.name).iloc[0]
    _refuse_infinite(table, {c: engine_count(row[f"c{i}"]) for i, c in enumerate(columns)})
    return row


def _refuse_infinite(table: Any, counts: dict[str, int]) -> None:
    for c, n in counts.items():
        if n > 0:
            raise DataError(
                "infinite values in a numeric feature",
                source=table.name,
                column=c,
                found=f"{n:,} rows with inf or -inf",
                hint="Drop or fix those rows (missing values are fine: they get a bin).",
            )


def _is_numeric(table: Any, column: str) -> bool:
    return is_numeric_type(table.expr[column].type())


@dataclass(frozen=True)
class Drifts:
    """What a feature's comparison needs: both tables, the bins, the numeric features'
    figures of the exact queries (both sides' bin counts and KS; small inputs) or of the
    binned path (large inputs), and the categorical features' level counts (all by pair
    of columns)."""

    ref: Any
    cur: Any
    bins: int
    exact: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, dict[str, float]]]
    found: dict[tuple[str, str], binned_drift.NumericDrift] | None
    levels: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]  # categorical counts


def _feature(d: Drifts, r: str, c: str, numeric: bool, warn: float, alert: float) -> dict[str, Any]:
    row: dict[str, Any] = {"feature": r}
    if numeric and d.found is not None:
        found = d.found[(r, c)]
        if found.maybe_infinite[1]:
            _check_finite(d.cur, [c])
        row["psi"] = drift.psi_from_counts(found.ref_counts, found.cur_counts)
        row.update(found.ks)
        row["kind"] = "numeric"
    elif numeric:
        ref_counts, cur_counts, tests = d.exact[(r, c)]
        row["psi"] = drift.psi_from_counts(ref_counts, cur_counts)
        row.update(tests)
        row["ks_error_bound"] = 0.0 if np.isfinite(row["ks"]) else float("nan")  # exact
        row["kind"] = "numeric"
    else:
        ref_counts, cur_counts = d.levels[(r, c)]
        row["psi"] = drift.psi_from_counts(ref_counts, cur_counts)
        row.update(drift.categorical_tests(ref_counts, cur_counts))
        row["kind"] = "categorical"
    row["status"] = _status(row["psi"], warn, alert)
    return row


def _check_thresholds(warn: float, alert: float) -> None:
    # PSI with shares floored at EPSILON never exceeds 2 ln(1 / EPSILON) (about 18.4): a
    # threshold above that could never fire
    rule = Interval(0.0, round(2 * float(np.log(1 / EPSILON)), 2))
    check("psi_warn", warn, rule)
    check("psi_alert", alert, rule)
    if alert < warn:
        raise ParameterError(
            f"psi_alert == {alert:g}, must be >= psi_warn ({warn:g})",
            parameter="psi_alert",
            hint="A feature alerts at a larger drift than the one at which it warns.",
        )


def _rows(table: Any, bins: int, side: str) -> int:
    """The row count, at least one row per bin: a PSI over fewer rows than bins is noise."""
    n = int(table.count())
    if n < bins:
        raise DataError(
            f"too few rows in the {side} data to compare distributions",
            source=table.name,
            found=f"{n:,} rows",
            expected=f"at least one per bin ({bins})",
        )
    return n


def _answered(table: Any) -> Any:
    """A request log's answered requests (the rows that carry data); other tables whole."""

    if not is_request_log(table):
        return table
    answered = answered_only(table)
    if answered.count() == 0:
        raise DataError(
            "the request log has no answered request (status 200) to compare",
            source=table.name,
            found=f"{table.count():,} logged requests, none answered",
            hint="Every logged request was refused, failed or disconnected: see the "
            "server's logs, or point at a longer period.",
        )
    return answered


def _service(log: Any, answered: Any = None) -> dict[str, Any]:
    """Counts and rates by outcome and the latency of answered requests (401 rows of old
    logs dropped). Given the ``answered`` rows of a large log on DuckDB, the latency
    quantiles come from :func:`sds.monitoring.binned.quantiles` (the same numbers as
    DuckDB's ``quantile_cont``, without sorting a copy of the column)."""

    log = without_unauthorized(log)
    aggs = outcome_aggregates(log.expr)
    for k in QUANTILES:
        aggs.pop(k)
    where = log.expr.status == ANSWERED
    latency = log.expr.latency_ms.cast("float64")
    binned_latency = answered is not None and log.engine.backend == "duckdb"
    if binned_latency:  # the range for binned.quantiles' grid
        aggs.update(lat_lo=latency.min(where=where), lat_hi=latency.max(where=where))
    else:  # the three latency quantiles from one sorted copy (one list-valued quantile)
        aggs["q"] = log.expr.latency_ms.quantile([0.5, 0.95, 0.99], where=where)
    row = log.engine.execute(log.expr.aggregate(**aggs), source=log.name).iloc[0].to_dict()
    found: Any = row.pop("q") if not binned_latency else None
    if binned_latency and row["answered"]:
        levels = [0.5, 0.95, 0.99]
        found = binned.quantiles(answered, "latency_ms", levels, row["lat_lo"], row["lat_hi"])
    listed = found is not None and not isinstance(found, float)  # no answered row: null
    row.update(zip(QUANTILES, list(found) if listed else [None] * 3, strict=True))
    f = outcome_figures(row)
    return {
        "log_rows": f["requests"],
        "answered": f["answered"],
        "refused": f["refused"],
        "errors": f["errors"],
        "disconnected": f["disconnected"],
        "refused_rate": f["refused_rate"],
        "error_rate": f["error_rate"],
        "disconnect_rate": f["disconnect_rate"],
        "latency_p50_ms": f["p50_ms"],
        "latency_p95_ms": f["p95_ms"],
        "latency_p99_ms": f["p99_ms"],
    }
