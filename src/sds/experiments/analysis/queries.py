"""The aggregate query's columns: which variables are averaged and which co-moments kept
(:class:`Layout`), and the aggregates that compute them, as ``avg`` and ``covar_samp``
(:func:`moment_query`, DuckDB) or as plain sums (:func:`sum_query`, database servers and
Spark). :mod:`aggregates` runs them; its note says why each form is used where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sds.experiments.analysis.spec import AnalysisSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

VARIANT, DAY = "__variant", "__day"


@dataclass(frozen=True)
class Layout:
    """Which columns are averaged, which co-moments are kept, and what each is called."""

    outcomes: list[str]
    covariates: list[str]
    binary: list[str]
    pairs: list[tuple[str, str]]
    keys: list[str]  # grouping columns of the aggregate, variant first

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys([*self.outcomes, *self.covariates]))

    def mean_name(self, v: str) -> str:
        return f"m{self.variables.index(v)}"

    def comoment_name(self, v: str, w: str) -> str:
        i, j = sorted((self.variables.index(v), self.variables.index(w)))
        return f"c{i}_{j}"


def layout(spec: AnalysisSpec) -> Layout:
    outcomes, covariates, binary, pairs = [], [], [], []
    for m in spec.metrics:
        kind = m.kind
        if not kind.from_moments:
            continue
        outcomes += kind.outcomes(m)
        covariates += kind.covariates(m)
        if kind.binary:
            binary += kind.outcomes(m)
        names = [*kind.outcomes(m), *kind.covariates(m)]
        pairs += [(a, b) for i, a in enumerate(names) for b in names[i:]]
    covariates = [c for c in dict.fromkeys(covariates) if c not in outcomes]
    pairs += [(c, c) for c in covariates]
    keys = [VARIANT, *spec.segments, *([DAY] if spec.date else [])]
    return Layout(
        list(dict.fromkeys(outcomes)),
        covariates,
        list(dict.fromkeys(binary)),
        list(dict.fromkeys(pairs)),
        keys,
    )


def moment_query(u: ir.Table, lay: Layout, origin: dict[str, float]) -> dict[str, Any]:
    """Counts, means and sample covariances of the shifted values, per group."""
    aggs: dict[str, Any] = {"n": u.count(), "mixed": u["__mixed"].sum()}
    values = shifted_values(u, lay, origin)
    for v in lay.variables:
        # n - count(v): DuckDB counts a column its statistics show without NULLs for free
        aggs[f"null_{lay.mean_name(v)}"] = aggs["n"] - u[v].count()
        aggs[lay.mean_name(v)] = values[v].mean()
    for v in lay.binary:
        aggs[f"bad_{lay.mean_name(v)}"] = ((u[v] != 0) & (u[v] != 1)).sum()
    for a, b in lay.pairs:
        aggs[lay.comoment_name(a, b)] = values[a].cov(values[b], how="sample")
    return aggs


@dataclass(frozen=True)
class Known:
    """What the source's metadata already tells of the aggregate's columns (local Parquet's
    footers on Spark, ``aggregates._footer_checks``): the variables without missing
    values (``whole``: their count of present values is the group's count) and the 0/1
    columns checked before the query (``zero_one``: a 0/1 value is its own square, and its
    origin is 0, so its sum of squares is its sum). Each answer is one aggregate fewer for
    every row (together a twentieth of Spark's CPU time for the analysis' query on
    10,000,000 rows)."""

    whole: frozenset[str] = frozenset()
    zero_one: frozenset[str] = frozenset()

    def squares(self, lay: Layout) -> list[str]:
        """The 0/1 columns whose sum of squares the query need not ask for."""
        return [v for v in lay.variables if v in self.zero_one and (v, v) in lay.pairs]

    def fill(self, rows: pd.DataFrame, lay: Layout) -> pd.DataFrame:
        """:func:`sum_query`'s rows with the columns it did not ask for, as it would have
        got them."""
        for v in lay.variables:
            if v in self.whole:
                rows[f"count_{lay.mean_name(v)}"] = rows["n"]
        for v in self.squares(lay):
            rows[f"sum_{lay.comoment_name(v, v)}"] = rows[f"sum_{lay.mean_name(v)}"]
        return rows


def sum_query(
    u: ir.Table, lay: Layout, origin: dict[str, float], known: Known | None = None
) -> dict[str, Any]:
    """Counts of present values and plain sums (see the module's note on servers). The
    products are summed over every row: an outcome with a missing value stops the analysis
    (``_check``) and a covariate's missing values count as 0, so a pair is always whole.
    What ``known`` answers is not asked (:meth:`Known.fill` adds it to the rows)."""
    known = known or Known()
    aggs: dict[str, Any] = {"n": u.count(), "mixed": u["__mixed"].sum()}
    values = shifted_values(u, lay, origin)
    for v in lay.variables:
        if v not in known.whole:
            aggs[f"count_{lay.mean_name(v)}"] = u[v].count()
        aggs[f"sum_{lay.mean_name(v)}"] = values[v].sum()
    for v in lay.binary:
        aggs[f"bad_{lay.mean_name(v)}"] = ((u[v] != 0) & (u[v] != 1)).sum()
    squares = known.squares(lay)
    for a, b in lay.pairs:
        if not (a == b and a in squares):
            aggs[f"sum_{lay.comoment_name(a, b)}"] = (values[a] * values[b]).sum()
    return aggs


def from_sums(rows: pd.DataFrame, lay: Layout) -> pd.DataFrame:
    """The rows :func:`rows.moment_rows` gives (as a DataFrame), from :func:`sum_query`'s
    sums."""
    bad = [c for c in rows.columns if c.startswith("bad_") or c == "noid"]
    out = rows[[*lay.keys, "n", "mixed", *bad]].copy()
    n = rows["n"].astype(float)
    sums = {v: rows[f"sum_{lay.mean_name(v)}"].astype(float).fillna(0.0) for v in lay.variables}
    for v in lay.variables:
        name = lay.mean_name(v)
        # a covariate's missing values are summed as 0 (see _values): its mean is over
        # every unit, as moment_query's avg of the filled values
        present = n if v in lay.covariates else rows[f"count_{name}"].astype(float)
        out[f"null_{name}"] = rows["n"] - rows[f"count_{name}"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = rows[f"sum_{name}"].astype(float) / present.where(present > 0)
    for a, b in lay.pairs:
        name = lay.comoment_name(a, b)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            co = rows[f"sum_{name}"].astype(float).fillna(0.0) - sums[a] * sums[b] / n
        out[name] = co.where(n > 1, 0.0)  # one unit has no co-moment (as covar_samp: NULL)
    return out


def shifted_values(u: ir.Table, lay: Layout, origin: dict[str, float]) -> dict[str, Any]:
    """Each variable minus its origin, built once for every aggregate that reads it (Ibis
    builds and compiles the query in a few milliseconds fewer). Covariates' missing values
    count as 0 (a unit without history); outcomes' are checked."""
    out = {}
    for v in lay.variables:
        value = u[v].fill_null(0.0) if v in lay.covariates else u[v]
        out[v] = value - origin[v] if v in origin else value
    return out
