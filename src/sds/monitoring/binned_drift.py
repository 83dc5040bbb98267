"""PSI counts and KS of every numeric feature of a large input from the cells of
:mod:`sds.monitoring.binned`, each step one query for all features (a GROUP BY per feature
joined by UNION ALL): on Spark a query is at least one job, with a fixed cost of 0.3 to
1 s, so a query per feature and step made a 20-feature comparison launch some 60 jobs.

The steps, after the reference's cells (:func:`sds.monitoring.binned.cells_by_column`):

1. the values around the reference's order statistics, for the exact quantile edges
   (:func:`sds.monitoring.binned.edges_by_column`);
2. the current data's cells, split by PSI bin next to the edges
   (:func:`sds.monitoring.binned.cells_for`);
3. the KS refinement of the cells whose bound exceeds ``binned.KS_TOLERANCE``: a finer grid, then
   distinct values (at most two queries, none when no cell needs it).

Each feature's figures are those of the one-feature computation: the queries are the same,
only run together, and every step's rows are put in order by key before use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.data.together import execute_together
from sds.monitoring import binned
from sds.monitoring.binned import (
    Grid,
    cell_bin_counts,
    cells_by_column,
    cells_for,
    edges_by_column,
    keyed,
    present,
    split_values_by_column,
)
from sds.monitoring.drift import ks_p_value

Pair = tuple[str, str]  # a reference column and the current column compared with it


@dataclass(frozen=True)
class NumericDrift:
    """Bin counts of both sides (for PSI), the KS figures, and the sides whose outermost
    cells hold values that may be infinite (for the caller's finite check)."""

    ref_counts: np.ndarray
    cur_counts: np.ndarray
    ks: dict[str, float]
    maybe_infinite: tuple[bool, bool]


def numeric_drift(
    ref: Any, cur: Any, r: str, c: str, bins: int, grid: Grid, ref_cells: Any = None
) -> NumericDrift:
    """PSI bin counts and KS of reference column ``r`` against current column ``c``;
    ``ref_cells``, the reference's cells if already counted (:func:`cells_by_column`)."""
    cells = None if ref_cells is None else {r: ref_cells}
    return numeric_drifts(ref, cur, [(r, c)], bins, {r: grid}, cells)[(r, c)]


def numeric_drifts(
    ref: Any,
    cur: Any,
    pairs: list[Pair],
    bins: int,
    grids: dict[str, Grid],
    ref_cells: dict[str, Any] | None = None,
) -> dict[Pair, NumericDrift]:
    """PSI bin counts and KS of each pair (reference column, current column), keyed by
    pair; ``grids`` by reference column, and ``ref_cells`` the reference's cells by column
    if already counted (:func:`cells_by_column`)."""
    pairs = list(dict.fromkeys(pairs))
    columns = list(dict.fromkeys(r for r, _ in pairs))
    if ref_cells is None:
        ref_cells = cells_by_column(ref, columns, grids)
    mine = {r: ref_cells[r] for r in columns}
    found = edges_by_column(ref, grids, mine, bins)
    edges = {r: found[r][0] for r in columns}
    split = split_values_by_column(ref, grids, mine, found)
    cur_cells = dict(
        zip(pairs, cells_for(cur, [(c, grids[r], edges[r]) for r, c in pairs]), strict=True)
    )
    tests = ks_by_pair(ref, cur, grids, mine, cur_cells)
    out = {}
    for (r, c), cells in cur_cells.items():
        counts = [cell_bin_counts(split[r], edges[r], grids[r])]
        counts.append(cell_bin_counts(cells, edges[r], grids[r]))
        outer = (
            bool(np.isinf(mine[r]["k"].to_numpy(float)).any()),
            bool(np.isinf(cells["k"].to_numpy(float)).any()),
        )
        out[(r, c)] = NumericDrift(counts[0], counts[1], tests[(r, c)], outer)
    return out


def ks_by_pair(
    ref: Any,
    cur: Any,
    grids: dict[str, Grid],
    ref_cells: dict[str, Any],
    cur_cells: dict[Pair, Any],
) -> dict[Pair, dict[str, float]]:
    """KS of each pair from the cells, refined where the bound is above the tolerance (for
    all pairs together: one query a level)."""
    out: dict[Pair, dict[str, float]] = {}
    tables, sizes, single = {}, {}, {}
    for (r, c), cells in cur_cells.items():
        table = _merge(
            present(ref_cells[r]).groupby("k")["n"].sum(), present(cells).groupby("k")["n"].sum()
        )
        single[(r, c)] = _single_valued(table, ref_cells[r], cells)
        n1, n2 = table["n1"].sum(), table["n2"].sum()
        if not (n1 > 0 and n2 > 0):
            nan = float("nan")
            out[(r, c)] = {"ks": nan, "ks_p_value": nan, "ks_error_bound": nan}
            continue
        table["k"] = table["k"].astype(float)
        table["k2"], table["v"], table["point"] = -np.inf, -np.inf, False
        tables[(r, c)], sizes[(r, c)] = table, (n1, n2)
    for level in (2, 3):
        offending = {p: _gaps(t, *sizes[p])[2] for p, t in tables.items()}
        if level == 2:
            # a cell of one repeated value needs no finer look: its finer grid would be
            # the one sub-cell holding that value, exact (a point)
            for p, o in offending.items():
                tables[p].loc[o & single[p], "point"] = True
                offending[p] = o & ~single[p]
        offending = {p: o for p, o in offending.items() if o.any()}
        if not offending:
            break
        cells = {p: tables[p][o] for p, o in offending.items()}
        finer = _refine(ref, cur, grids, cells, level)
        for p, o in offending.items():
            tables[p] = pd.concat([tables[p][~o], finer[p]]).sort_values(["k", "k2", "v"])
    for p, table in tables.items():
        n1, n2 = sizes[p]
        d, upper, _ = _gaps(table, n1, n2)
        bound = max(upper - d, 0.0)
        out[p] = {"ks": d, "ks_p_value": ks_p_value(d, n1, n2), "ks_error_bound": bound}
    return out


def _single_valued(table: Any, ref: Any, cur: Any) -> Any:
    """For each cell of ``table`` (in its order), whether all its values on both sides are
    one value (the cells' smallest and largest values agree)."""
    both = pd.concat([present(ref), present(cur)]).groupby("k")
    same = both["lo"].min() == both["hi"].max()
    return same.reindex(table["k"].to_numpy(float)).to_numpy(bool)


def _merge(a: Any, b: Any) -> Any:
    both = pd.concat([a.rename("n1"), b.rename("n2")], axis=1).fillna(0.0)
    return both.rename_axis("k").reset_index().sort_values("k")


def _gaps(table: Any, n1: float, n2: float) -> tuple[float, float, Any]:
    """The largest gap at the cell edges, the bound inside cells, and the cells to refine."""
    c1, c2 = table["n1"].cumsum().to_numpy(), table["n2"].cumsum().to_numpy()
    after = c1 / n1 - c2 / n2
    before = np.concatenate([[0.0], after[:-1]])
    d = float(np.max(np.abs(after)))
    inside = np.maximum(before + table["n1"].to_numpy() / n1, table["n2"].to_numpy() / n2 - before)
    inside = np.where(table["point"].to_numpy(), 0.0, inside)
    upper = max(d, float(np.max(inside)))
    return d, upper, inside > d + binned.KS_TOLERANCE  # read here: tests may lower it


def _refine(
    ref: Any, cur: Any, grids: dict[str, Grid], todo: dict[Pair, Any], level: int
) -> dict[Pair, Any]:
    """Each pair's offending cells split: level 2 on a finer grid (with each sub-cell's
    smallest and largest value), level 3 by distinct value; both sides of every pair in
    one query (one Spark job, not two per feature)."""
    by = ["k", "k2"] if level == 2 else ["k", "k2", "v"]
    parts = []
    for (r, c), cells in todo.items():
        keys = sorted({float(k) for k in cells["k"]})
        subs = sorted({float(k) for k in cells["k2"] if np.isfinite(k)})
        whole = level == 2 or not np.isfinite(cells["k2"]).all()
        for table, column in ((ref, r), (cur, c)):
            t = keyed(table, column, grids[r], keys)
            t = t if whole else t.filter(t.k2.isin(subs))
            aggs = {"n": t.count()}
            if level == 2:
                aggs.update(lo=t.v.min(), hi=t.v.max())
            parts.append(t.group_by(by).aggregate(**aggs))
    found = execute_together(ref.engine, parts, source=f"{ref.name} and {cur.name}")
    sides = iter(found)
    return {p: _split(next(sides), next(sides), cells, by) for p, cells in todo.items()}


def _split(a: Any, b: Any, cells: Any, by: list[str]) -> Any:
    """The finer rows of one pair from its reference rows ``a`` and current rows ``b``."""
    a, b = (f.astype({"k": float, "k2": float}).set_index(by) for f in (a, b))
    out = pd.concat([a["n"].rename("n1"), b["n"].rename("n2")], axis=1).fillna(0.0)
    if "v" not in by:
        lo = pd.concat([a["lo"], b["lo"]], axis=1).min(axis=1)
        hi = pd.concat([a["hi"], b["hi"]], axis=1).max(axis=1)
        out["point"] = (lo == hi).reindex(out.index).to_numpy()
        out = out.reset_index()
        out["v"] = -np.inf
        return out
    out = out.reset_index()
    out["point"] = True
    pairs = set(zip(cells["k"].astype(float), cells["k2"].astype(float), strict=True))
    both = zip(out["k"], out["k2"], strict=True)
    mine = [(k, -np.inf) in pairs or (k, k2) in pairs for k, k2 in both]
    return out[np.array(mine, dtype=bool)]
