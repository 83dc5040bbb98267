"""Text columns that look like identifiers or free text, left out of a comparison that did
not name its features.

PSI over a categorical feature's 20 most common levels plus "other" says nothing about a
column whose values are nearly all different (a customer id: each level holds one row in
millions, so everything is "other" on both sides), and grouping millions of distinct
values is the costliest step of a comparison. So when the caller did not name the features,
a **text** column of the reference whose distinct values exceed half of its non-null rows
and number more than ``MIN_DISTINCT`` (1,000) is not compared; the report lists it with
those figures. Named in ``features``, it is compared as any other column. Numbers are never
left out (an integer column may be a measure).

On small inputs (the exact path) the distinct values are counted exactly. On large inputs
they are estimated by the engine's HyperLogLog sketch (``approx_nunique``: DuckDB's
``approx_count_distinct``, about 15% relative standard error as measured on DuckDB 1.5;
Spark's ``approx_count_distinct``, 5%; on PostgreSQL, MySQL and SQLite Ibis compiles it
to an exact ``count(DISTINCT)``, so there the exact rule applies as is) in a query
that scans the reference anyway. The estimate decides only when it is clearly on one side
of the threshold: above ``MARGIN`` times the threshold (skipped) or below the threshold
divided by ``MARGIN`` (compared). In between, the column's distinct values are counted
exactly (one more query, for those columns only). The decision is therefore the exact
rule's unless the sketch errs by more than a third downwards or a half upwards, far beyond
either sketch's spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sds.data.finite import engine_count

MIN_DISTINCT = 1_000
SHARE = 0.5  # distinct values above this share of the non-null rows
MARGIN = 1.5  # how clearly an estimate must pass the threshold to decide alone
REASON = "looks like an identifier or free text"
# Ibis compiles approx_nunique to an exact count(DISTINCT) on these
EXACT_BACKENDS = frozenset({"postgres", "mysql", "sqlite"})


@dataclass(frozen=True)
class Skipped:
    """A reference column left out: its distinct values (``approximate``: a sketch's
    estimate) among its ``rows`` non-null rows."""

    feature: str
    distinct: int
    rows: int
    approximate: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "reason": REASON,
            "distinct": self.distinct,
            "distinct_approximate": self.approximate,
            "non_null_rows": self.rows,
        }


def message(entry: dict[str, Any]) -> str:
    """The report's line for a column left out (an entry of :meth:`Skipped.to_dict`)."""
    about = "about " if entry["distinct_approximate"] else ""
    return (
        f"{entry['feature']}: skipped, {entry['reason']} ({about}{entry['distinct']:,} "
        f"distinct of {entry['non_null_rows']:,} non-null rows); name it in --features to "
        "compare it anyway"
    )


def threshold(rows: int) -> float:
    """The distinct count a column must exceed to be left out."""
    return max(SHARE * rows, float(MIN_DISTINCT))


def candidates(table: Any, columns: list[str]) -> list[str]:
    """The text columns among ``columns`` (reference columns of categorical features)."""
    return [c for c in columns if table.expr[c].type().is_string()]


def aggregates(table: Any, columns: list[str], exact: bool) -> dict[str, Any]:
    """Each column's distinct count (``d<i>``; estimated unless ``exact``) and non-null
    count (``n<i>``), to ride in a query over the reference."""
    t, out = table.expr, {}
    exact = exact or table.engine.backend in EXACT_BACKENDS
    for i, c in enumerate(columns):
        out[f"d{i}"] = t[c].nunique() if exact else t[c].approx_nunique()
        out[f"n{i}"] = t[c].count()
    return out


def judged(table: Any, columns: list[str], row: Any, exact: bool) -> dict[str, Skipped]:
    """The columns to leave out, from a row holding :func:`aggregates`; estimates near the
    threshold are settled by an exact count (one query for all of them)."""
    found = {
        c: (engine_count(row[f"d{i}"]), engine_count(row[f"n{i}"])) for i, c in enumerate(columns)
    }
    # an estimate may pass the row count; distinct values never do
    found = {c: (min(d, n), n) for c, (d, n) in found.items()}
    exact = exact or table.engine.backend in EXACT_BACKENDS
    unsure = [] if exact else [c for c, (d, n) in found.items() if _unsure(d, n)]
    if unsure:
        t = table.expr
        aggs = {f"d{i}": t[c].nunique() for i, c in enumerate(unsure)}
        counted = table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0]
        for i, c in enumerate(unsure):
            found[c] = (engine_count(counted[f"d{i}"]), found[c][1])
    out = {}
    for c, (d, n) in found.items():
        sure = exact or c in unsure
        if d > threshold(n) * (1.0 if sure else MARGIN):
            out[c] = Skipped(c, d, n, approximate=not sure)
    return out


def _unsure(distinct: int, rows: int) -> bool:
    limit = threshold(rows)
    return limit / MARGIN <= distinct <= limit * MARGIN
