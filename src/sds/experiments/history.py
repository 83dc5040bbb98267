"""Design inputs estimated from historical unit-level data, as one engine aggregate.

Baseline rate, mean and standard deviation, the delta-method variance of a ratio metric and,
with a pre-period covariate, the correlation CUPED will exploit. Variances and covariances
are the engine's own (numerically stable) aggregates, not sums of squares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sds.data.finite import (
    engine_count,
    unusable_aggregates,
    unusable_error,
    unusable_from_row,
)
from sds.data.io import Table
from sds.data.schema import require_kind
from sds.errors import DataError


@dataclass(frozen=True)
class HistoryEstimate:
    """What history says about a metric (per unit)."""

    n: int
    mean: float  # the rate, the mean, or the ratio R = mean(x) / mean(y)
    std: float  # per-unit standard deviation (delta-method for ratios)
    rho: float | None = None  # correlation with the covariate (of the linearised metric)
    covariate: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "rho": self.rho,
            "covariate": self.covariate,
        }


def _aggregate(table: Table, columns: list[str], covariate: str | None) -> dict[str, Any]:
    for col in [*columns, *([covariate] if covariate else [])]:
        require_kind(table, col, "numeric")
    used = [*columns, *([covariate] if covariate else [])]
    t = table.expr.select([table.expr[c].cast("float64").name(c) for c in used])
    _refuse_unusable(table, t, used)
    t = t.filter([t[c].notnull() & ~t[c].isnan() for c in used])
    aggs: dict[str, Any] = {"n": t.count()}
    for c in used:
        aggs[f"mean_{c}"] = t[c].mean()
        aggs[f"var_{c}"] = t[c].var(how="sample")
        aggs[f"min_{c}"] = t[c].min()
        aggs[f"max_{c}"] = t[c].max()
        aggs[f"nd_{c}"] = t[c].nunique()
    for i, a in enumerate(used):
        for b in used[i + 1 :]:
            aggs[f"cov_{a}_{b}"] = t[a].cov(t[b], how="sample")
    row = table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0]
    out = {
        str(k): (None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
        for k, v in row.items()
    }
    if engine_count(out["n"]) < 2:
        raise DataError(
            f"needs at least 2 rows with finite values in {', '.join(used)}",
            source=table.name,
            found=f"{engine_count(out['n'])} row(s)",
        )
    return out


def _refuse_unusable(table: Table, t: Any, used: list[str]) -> None:
    """Infinite values, and values too large to square (they make the engine's variance
    fail), are refused naming the column, as training and analysis refuse them; NaN is
    missing here."""
    aggs = unusable_aggregates(t, used, nan_counts=False)
    row = table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0]
    bad = unusable_from_row(row, used)
    if bad:
        raise unusable_error(bad, table.name)


def _rho(cov: float | None, var_a: float, var_b: float | None) -> float | None:
    if cov is None or not var_b or var_a <= 0:
        return None
    return float(cov / math.sqrt(var_a * var_b))


def _constant(table: Table, column: str, s: dict[str, Any]) -> None:
    if not s[f"var_{column}"]:
        raise DataError(
            "column is constant: its variance is 0",
            source=table.name,
            column=column,
            hint="A design needs a metric that varies.",
        )


def estimate_proportion(table: Table, column: str, covariate: str | None = None) -> HistoryEstimate:
    """Baseline conversion rate from a 0/1 column."""
    s = _aggregate(table, [column], covariate)
    if s[f"min_{column}"] < 0 or s[f"max_{column}"] > 1 or s[f"nd_{column}"] > 2:
        raise DataError(
            "a proportion metric needs a 0/1 column",
            source=table.name,
            column=column,
            found=f"values from {s[f'min_{column}']:g} to "
            f"{s[f'max_{column}']:g} ({s[f'nd_{column}']} distinct)",
        )
    _constant(table, column, s)
    var = s[f"var_{column}"]
    rho = _rho(s.get(f"cov_{column}_{covariate}"), var, s.get(f"var_{covariate}"))
    return HistoryEstimate(int(s["n"]), float(s[f"mean_{column}"]), math.sqrt(var), rho, covariate)


def estimate_mean(table: Table, column: str, covariate: str | None = None) -> HistoryEstimate:
    """Mean and standard deviation of a numeric column."""
    s = _aggregate(table, [column], covariate)
    _constant(table, column, s)
    var = s[f"var_{column}"]
    rho = _rho(s.get(f"cov_{column}_{covariate}"), var, s.get(f"var_{covariate}"))
    return HistoryEstimate(int(s["n"]), float(s[f"mean_{column}"]), math.sqrt(var), rho, covariate)


def estimate_ratio(
    table: Table, numerator: str, denominator: str, covariate: str | None = None
) -> HistoryEstimate:
    """R = mean(x) / mean(y) and the per-unit delta-method variance of its estimate.

    ``Var(R_hat) ~ (var_x - 2 R cov_xy + R^2 var_y) / (n mean_y^2)``; with a covariate ``c``
    the correlation is that of the linearised metric ``(x - R y) / mean_y`` with ``c``.
    """
    x, y = numerator, denominator
    s = _aggregate(table, [x, y], covariate)
    my = s[f"mean_{y}"]
    if not my:
        raise DataError(
            "the denominator's mean is 0, so the ratio is undefined", source=table.name, column=y
        )
    r = s[f"mean_{x}"] / my
    var = (s[f"var_{x}"] - 2 * r * s[f"cov_{x}_{y}"] + r**2 * s[f"var_{y}"]) / my**2
    if var <= 0:
        raise DataError(
            "the ratio does not vary between units (delta-method variance 0)",
            source=table.name,
            column=f"{x}/{y}",
        )
    rho = None
    if covariate:
        cov_l = (s[f"cov_{x}_{covariate}"] - r * s[f"cov_{y}_{covariate}"]) / my
        rho = _rho(cov_l, var, s[f"var_{covariate}"])
    return HistoryEstimate(int(s["n"]), float(r), math.sqrt(var), rho, covariate)
