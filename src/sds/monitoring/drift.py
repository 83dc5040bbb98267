"""Input and output drift between a reference (training data) and current data (a request
log or a newer table), computed as engine aggregates: only bin counts, level counts and
one number per feature come back to Python, so a 10,000,000-row log needs little memory.

PSI is the project's one definition (:mod:`sds.stats.psi`, which ``sds features check`` uses
too): the engine counts the rows of each bin and :mod:`sds.stats.psi` turns the counts into
PSI. Numbers: ``bins`` quantile bins of the reference (exact ``quantile_cont``, as
``numpy.quantile``), missing values in a bin of their own, shares floored at 1e-4; and the
two-sample KS statistic (the largest gap between the two empirical CDFs, from cumulative
counts over the distinct values) with Smirnov's asymptotic p-value, as
``scipy.stats.ks_2samp(method="asymp")``. Categories: PSI over the reference's 20 most
common levels (ties by level) plus one bin for the rest and one for missing, the chi-square
test on those counts and the Jensen-Shannon distance (base 2). A request log's ``in_`` columns are
matched to the reference's columns, and its ``prediction`` column is the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from sds.data.together import execute_together
from sds.stats import psi as rules
from sds.stats.psi import EPSILON as EPSILON  # re-exported for the callers of drift
from sds.stats.psi import TOP_LEVELS as TOP_LEVELS
from sds.stats.psi import psi_from_counts as psi_from_counts


def _present(x: Any) -> Any:
    """Not missing: neither null nor NaN (a CSV's ``nan`` is read as a float NaN, which an
    engine would otherwise sort above every number)."""
    x = x.cast("float64")
    return x.notnull() & ~x.isnan()


def numeric_edges(table: Any, columns: list[str], bins: int) -> dict[str, np.ndarray]:
    """Each column's inner quantile edges in the reference, in one query (the edges of
    :func:`sds.stats.psi.numeric_edges`, computed in the engine)."""
    t = table.expr
    cuts = rules.quantile_levels(bins)
    if not columns or not cuts:
        return {c: np.array([]) for c in columns}
    # one list-valued quantile per column: one sorted copy of it, not one per cut
    aggs = {f"c{i}": t[c].quantile(cuts, where=_present(t[c])) for i, c in enumerate(columns)}
    row = table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0]
    out = {}
    for i, c in enumerate(columns):
        found = row[f"c{i}"]
        out[c] = rules.inner_edges(list(found) if found is not None else [])
    return out


def bin_counts(table: Any, column: str, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins ``(-inf, e1), [e1, e2), ..., [ek, inf)`` and of missing values,
    as :func:`sds.stats.psi.numeric_counts`, counted in the engine."""
    return bin_counts_of(table.engine, [(table, column, edges)], table.name)[0]


def bin_counts_of(
    engine: Any, specs: list[tuple[Any, str, np.ndarray]], source: str
) -> list[np.ndarray]:
    """:func:`bin_counts` of each ``(table, column, edges)`` (tables on ``engine``), from
    one query (on Spark one job, not one per feature and side)."""
    parts = [_binned_rows(table, column, edges) for table, column, edges in specs]
    out = []
    for (_, _, edges), counts in zip(
        specs, execute_together(engine, parts, source=source), strict=True
    ):
        found = np.zeros(len(edges) + 2)
        for b, n in zip(counts["__bin"], counts["n"], strict=True):
            found[int(b) if b >= 0 else -1] += n
        out.append(found)
    return out


def _binned_rows(table: Any, column: str, edges: np.ndarray) -> Any:
    """The rows per bin (``__bin``; -1 for missing values) of one column."""
    import ibis

    t = table.expr
    x = t[column].cast("float64")
    index = sum((x >= float(e)).cast("int32") for e in edges) if len(edges) else ibis.literal(0)
    binned = t.mutate(__bin=ibis.ifelse(_present(x), index, -1).cast("int64"))
    return binned.group_by("__bin").aggregate(n=binned.count())


def ks(ref: Any, cur: Any, ref_col: str, cur_col: str) -> dict[str, float]:
    """Two-sample KS from cumulative counts over the union of distinct values."""
    return ks_by_pair(ref, cur, [(ref_col, cur_col)])[(ref_col, cur_col)]


def ks_by_pair(
    ref: Any, cur: Any, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, float]]:
    """:func:`ks` of each pair (reference column, current column), keyed by pair, from one
    query (on Spark one job, not one per feature)."""
    pairs = list(dict.fromkeys(pairs))
    parts = [_ks_summary(ref, cur, r, c) for r, c in pairs]
    found = execute_together(ref.engine, parts, source=ref.name)
    return {p: _ks_figures(rows.iloc[0]) for p, rows in zip(pairs, found, strict=True)}


def _ks_summary(ref: Any, cur: Any, ref_col: str, cur_col: str) -> Any:
    """One row: the largest gap ``d`` between the two empirical CDFs and the sizes."""
    import ibis

    a = ref.expr.select(v=ref.expr[ref_col].cast("float64"), r=ibis.literal(1), c=ibis.literal(0))
    b = cur.expr.select(v=cur.expr[cur_col].cast("float64"), r=ibis.literal(0), c=ibis.literal(1))
    both = a.union(b).filter(lambda t: _present(t.v))
    by_value = both.group_by("v").aggregate(r=both.r.sum(), c=both.c.sum())
    window = ibis.window(order_by="v", preceding=None, following=0)
    cumulative = by_value.mutate(cr=by_value.r.sum().over(window), cc=by_value.c.sum().over(window))
    totals = cumulative.aggregate(n1=cumulative.r.sum(), n2=cumulative.c.sum())
    joined = cumulative.cross_join(totals)
    gap = (joined.cr / joined.n1 - joined.cc / joined.n2).abs()
    return joined.aggregate(d=gap.max(), n1=joined.n1.max(), n2=joined.n2.max())


def _ks_figures(row: Any) -> dict[str, float]:
    n1, n2 = float(row["n1"] or 0), float(row["n2"] or 0)
    if not (n1 > 0 and n2 > 0):  # an empty side sums to NULL (NaN here), not 0
        return {"ks": float("nan"), "ks_p_value": float("nan")}
    d = float(row["d"])
    return {"ks": d, "ks_p_value": ks_p_value(d, n1, n2)}


def ks_p_value(d: float, n1: float, n2: float) -> float:
    """Smirnov's asymptotic p-value of a two-sample KS statistic ``d`` on samples of ``n1``
    and ``n2`` values, as ``scipy.stats.ks_2samp(method="asymp")``.

    Args:
        d: The KS statistic.
        n1: The size of one sample.
        n2: The size of the other.

    Returns:
        The p-value.
    """
    m, n = max(n1, n2), min(n1, n2)
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))


def level_counts(
    ref: Any, cur: Any, ref_col: str, cur_col: str, totals: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the reference's top levels, all other levels, and missing, on each side
    (:func:`sds.stats.psi.level_counts`); ``totals`` are the two sides' row counts (counted
    here if not given). See :func:`level_counts_by_pair`."""
    return level_counts_by_pair(ref, cur, [(ref_col, cur_col)], totals)[(ref_col, cur_col)]


def level_counts_by_pair(
    ref: Any, cur: Any, pairs: list[tuple[str, str]], totals: tuple[int, int] | None = None
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """:func:`level_counts` of each pair (reference column, current column), keyed by pair,
    from two queries. The ranking happens in the engine, by the rule of
    :func:`sds.stats.psi.top_levels` (count, then level), so an ID-like column with
    millions of levels sends back only the top ones. Only the reference is grouped by
    level; the current data is counted just for the reference's top levels and missing
    values (everything else is "other", from its row count), so a 10,000,000-row log is
    filtered, not grouped by every level it holds. Each query joins the pairs' parts by
    UNION ALL (on Spark one job, not one per feature)."""
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return {}
    parts = [_reference_top(ref, r) for r, _ in pairs]
    tops = [t.sort_values("i") for t in execute_together(ref.engine, parts, source=ref.name)]
    named = [_named(t) for t in tops]
    parts = [_current_counts(cur, c, levels) for (_, c), levels in zip(pairs, named, strict=True)]
    seen = execute_together(cur.engine, parts, source=cur.name)
    n = totals if totals is not None else (ref.count(), cur.count())
    return {
        p: _level_counts(_joined(top, rows), n)
        for p, top, rows in zip(pairs, tops, seen, strict=True)
    }


def _reference_top(ref: Any, ref_col: str) -> Any:
    """The reference's missing values' row first (if any), then its top levels with their
    counts ``r``, numbered ``i`` in that order (the rows of a UNION ALL come in no set
    order)."""
    import ibis

    a = ref.expr.select(v=ref.expr[ref_col].cast("string"))
    by_level = a.group_by("v").aggregate(r=a.count())
    top = by_level.order_by([by_level.v.notnull(), ibis.desc("r"), "v"]).limit(TOP_LEVELS + 1)
    order = [top.v.notnull(), ibis.desc(top.r), top.v]
    return top.mutate(i=ibis.row_number().over(order_by=order))


def _named(top: Any) -> list[str]:
    """The reference's top levels (missing values left out), in rank order."""
    return [str(v) for v in top["v"] if not _missing(v)][:TOP_LEVELS]


def _current_counts(cur: Any, cur_col: str, levels: list[str]) -> Any:
    """The current data's counts ``c`` of ``levels`` and of missing values (one row each
    that occurs)."""
    v = cur.expr[cur_col].cast("string")
    wanted = v.isnull() | v.isin(levels) if levels else v.isnull()
    t = cur.expr.select(v=v).filter(wanted)
    return t.group_by("v").aggregate(c=t.count())


def _joined(top: Any, seen: Any) -> Any:
    """The reference's rows with the current counts ``c`` beside them (0 where a level does
    not occur), and a missing values' row when only the current data has one."""
    import pandas as pd

    counts = {
        None if _missing(v) else str(v): int(c) for v, c in zip(seen["v"], seen["c"], strict=True)
    }
    found = top.assign(c=[counts.get(None if _missing(v) else str(v), 0) for v in top["v"]])
    if counts.get(None) and not any(_missing(v) for v in top["v"]):
        lone = pd.DataFrame({"v": [None], "r": [0], "i": [0], "c": [counts[None]]})
        found = pd.concat([lone, found], ignore_index=True)
    return found


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _level_counts(found: Any, n: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    found = found.sort_values("i", kind="stable")
    missing = found[found["v"].isna()]
    listed = found[found["v"].notna()].iloc[:TOP_LEVELS]

    def lookup(side: str) -> dict[str, float]:
        mine = listed[listed[side] > 0]
        return {str(v): float(k) for v, k in zip(mine["v"], mine[side], strict=True)}

    ranked = rules.top_levels(lookup("r"))

    def counts(side: str, total: int) -> np.ndarray:
        lost = int(missing[side].sum())
        return rules.level_counts(lookup(side), ranked, total, lost)

    return counts("r", n[0]), counts("c", n[1])


def categorical_tests(ref: np.ndarray, cur: np.ndarray) -> dict[str, float]:
    from scipy.spatial.distance import jensenshannon

    keep = (ref + cur) > 0
    table = np.vstack([ref[keep], cur[keep]])
    if table.shape[1] < 2:
        return {"chi2": 0.0, "chi2_p_value": 1.0, "js_distance": 0.0}
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    js = float(jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2))
    return {"chi2": float(chi2), "chi2_p_value": float(p), "js_distance": js}
