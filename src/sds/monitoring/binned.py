"""PSI counts and a two-sample KS with a stated error bound for large inputs, from one
grouped scan per side and feature (:func:`numeric_drift`); :mod:`sds.monitoring.report`
uses it above ``EXACT_ROWS`` rows, and the exact queries of :mod:`sds.monitoring.drift`
below.

Each value x gets the cell ``round((x - lo) * scale)`` (``GRID`` equal-width cells between
the reference's smallest and largest value; values beyond that range get cells beyond the
grid; the rounding is plain IEEE arithmetic, see ``ROUND``, so it never overflows, and
null, NaN and +-inf keep cells of their own). The key only ever grows with x, so every
cell is an interval of values, and the engine returns one count per occupied cell.

- **PSI**: the reference's quantile edges are exact (the reference's cells locate the
  order statistics, whose values one small query fetches; interpolated as
  ``numpy.quantile``), and the few cells an edge can fall in are split by comparing their
  rows with the edges, so the bin counts, and the PSI, are those of
  :func:`sds.stats.psi.numeric_counts`.
- **KS**: ``ks`` is the largest gap between the two empirical CDFs at the cell edges, a
  lower bound of the exact statistic D. Inside a cell each CDF grows by at most its share
  of the cell, so D <= max over cells of max(gap before + reference share, current share -
  gap before); ``ks_error_bound`` is that bound minus ``ks`` (0 when exact). Cells whose
  bound exceeds ``ks`` by more than ``KS_TOLERANCE`` are refined: a 65,536 times finer
  grid inside them (with each sub-cell's smallest and largest value, so a single repeated
  value is known exact), then their distinct values. The bound is therefore at most
  ``KS_TOLERANCE``; the p-value is Smirnov's asymptotic one of ``ks``, as in
  :mod:`sds.monitoring.drift`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.data.finite import engine_count
from sds.data.together import execute_together
from sds.monitoring.drift import ks_p_value
from sds.stats import psi as rules

EXACT_ROWS = 1_000_000
GRID = 16_384
FINER = 65_536.0
KS_TOLERANCE = 1e-3
# adding then subtracting 1.5 * 2**52 rounds a double to a whole number (to nearest) in
# plain IEEE arithmetic: monotone, never overflows, keeps null, NaN and +-inf as they are
ROUND = 6_755_399_441_055_744.0


@dataclass(frozen=True)
class Grid:
    """The cells' origin and width: cell = round((x - lo) * scale), to nearest (see
    ``ROUND``)."""

    lo: float
    scale: float

    def key(self, x: Any, finer: float = 1.0) -> Any:
        """The cell of x (a float64 whole number; null and NaN stay so), in the engine."""
        return ((x - self.lo) * (self.scale * finer) + ROUND) - ROUND

    def python_key(self, value: float) -> float:
        """The same arithmetic in Python (IEEE doubles both), for the edges' cells."""
        return ((value - self.lo) * self.scale + ROUND) - ROUND


@dataclass(frozen=True)
class NumericDrift:
    """Bin counts of both sides (for PSI), the KS figures, and the sides whose outermost
    cells hold values that may be infinite (for the caller's finite check)."""

    ref_counts: np.ndarray
    cur_counts: np.ndarray
    ks: dict[str, float]
    maybe_infinite: tuple[bool, bool]


def ranges(table: Any, columns: list[str]) -> dict[str, tuple[float, float, int]]:
    """Each column's smallest and largest value (NaN left out; infinite if the column holds
    an infinity, which the caller refuses) and its count of infinite values, in one query
    (two when a column holds NaN or an infinity)."""
    t = table.expr
    plain = {}
    for i, c in enumerate(columns):
        x = t[c].cast("float64")
        plain[f"lo{i}"], plain[f"hi{i}"] = x.min(), x.max()
    row = table.engine.execute(t.aggregate(**plain), source=table.name).iloc[0]
    # engines sort NaN above every number, so finite extremes mean no NaN and no infinity
    # (a DuckDB Parquet scan may answer from the file's statistics, which leave NaN out:
    # the same extremes); otherwise the query below
    if all(pd.isna(row[f"lo{i}"]) or _finite(row, i) for i in range(len(columns))):
        return {c: _range(row, i, 0) for i, c in enumerate(columns)}
    aggs = {}
    for i, c in enumerate(columns):
        x = t[c].cast("float64")
        # NaN out (an engine may sort it above every number); an infinity is refused anyway
        clean = x.nullif(float("nan"))
        aggs[f"lo{i}"], aggs[f"hi{i}"] = clean.min(), clean.max()
        aggs[f"inf{i}"] = x.isinf().sum()
    row = table.engine.execute(t.aggregate(**aggs), source=table.name).iloc[0]
    return {c: _range(row, i, engine_count(row[f"inf{i}"])) for i, c in enumerate(columns)}


def _finite(row: Any, i: int) -> bool:
    return bool(np.isfinite(float(row[f"lo{i}"])) and np.isfinite(float(row[f"hi{i}"])))


def _range(row: Any, i: int, infinite: int) -> tuple[float, float, int]:
    lo, hi = row[f"lo{i}"], row[f"hi{i}"]
    return (float(lo), float(hi), infinite) if not pd.isna(lo) else (0.0, 1.0, infinite)


def grid_for(lo: float, hi: float, *_: int) -> Grid:
    """GRID cells between lo and hi (a constant column gets unit cells)."""
    scale = GRID / (hi - lo) if hi > lo else 1.0
    return Grid(lo, scale if np.isfinite(scale) and scale > 0 else 1.0)


def numeric_drift(
    ref: Any, cur: Any, r: str, c: str, bins: int, grid: Grid, ref_cells: Any = None
) -> NumericDrift:
    """PSI bin counts and KS of reference column ``r`` against current column ``c``;
    ``ref_cells``, the reference's cells if already counted (:func:`cells_by_column`)."""
    if ref_cells is None:
        ref_cells = _cells(ref, r, grid, np.array([]), set())
    edges, values = _edges(ref, r, grid, ref_cells, bins)
    split = {k + d for e in edges for d in (-1.0, 0.0, 1.0) for k in [grid.python_key(float(e))]}
    cur_cells = _cells(cur, c, grid, edges, split)
    counts = [
        _bin_counts(
            _split_values(ref, r, grid, ref_cells, edges, split, values), edges, grid, split
        ),
        _bin_counts(cur_cells, edges, grid, split),
    ]
    outer = (
        bool(np.isinf(ref_cells["k"].to_numpy(float)).any()),
        bool(np.isinf(cur_cells["k"].to_numpy(float)).any()),
    )
    return NumericDrift(
        counts[0], counts[1], _ks(ref, cur, r, c, grid, ref_cells, cur_cells), outer
    )


def _split_values(
    ref: Any,
    column: str,
    grid: Grid,
    cells: Any,
    edges: np.ndarray,
    split: set[float],
    values: Any,
) -> Any:
    """The reference's cells (as :func:`_cells` with ``edges``) without a second scan: in
    the split cells, one row per distinct value with its bin. ``values`` (from
    :func:`_edges`) holds the cells next to the edges' order statistics: an edge lies
    between two consecutive order statistics, so no occupied cell lies between their
    cells, and each occupied split cell is one of them or next to one. Any other occupied
    split cell (none, by that argument) is fetched."""
    occupied = {float(k) for k in _present(cells)["k"]}
    missing = sorted((split & occupied) - {float(k) for k in values["k"]})
    if missing:
        t = _keyed(ref, column, grid, missing)
        found = ref.engine.execute(t.group_by(["k", "v"]).aggregate(n=t.count()), source=ref.name)
        values = pd.concat([values, found[["k", "v", "n"]]])
    values = values[values["k"].isin(sorted(split))]
    v = values["v"].to_numpy(float)
    rows = pd.DataFrame(
        {
            "k": values["k"].to_numpy(float),
            "b": np.searchsorted(edges, v, side="right").astype(float),  # edges <= v
            "n": values["n"].to_numpy(float),
        }
    )
    rest = cells[~cells["k"].isin(sorted(split))]
    return pd.concat([rest, rows], ignore_index=True)


def _keyed(table: Any, column: str, grid: Grid, cells: list[float]) -> Any:
    """The rows in the given cells: their cell ``k``, finer cell ``k2`` and value ``v``."""
    x = table.expr[column].cast("float64")
    t = table.expr.select(k=grid.key(x), k2=grid.key(x, FINER), v=x)
    return t.filter(t.k.isin(cells))


def cells_by_column(
    table: Any, columns: list[str], grids: dict[str, Grid]
) -> dict[str, pd.DataFrame]:
    """Each column's cells (as :func:`_cells` with no edges) in one query: a GROUP BY per
    column joined by UNION ALL (on Spark one job, not one per column)."""
    if not columns:
        return {}
    parts = [_cell_counts(table, c, grids[c], np.array([]), set()) for c in columns]
    found = execute_together(table.engine, parts, source=table.name)
    return {c: _decoded(rows) for c, rows in zip(columns, found, strict=True)}


def _cells(table: Any, column: str, grid: Grid, edges: np.ndarray, split: set[float]) -> Any:
    """Rows per cell (k; null or NaN for missing values, +-inf for infinite ones) and, in
    the cells an edge may fall in, per PSI bin (b: how many edges are <= x; 0 elsewhere)."""
    t = _cell_counts(table, column, grid, edges, split)
    return _decoded(table.engine.execute(t, source=table.name))


def _cell_counts(table: Any, column: str, grid: Grid, edges: np.ndarray, split: set[float]) -> Any:
    """The query of :func:`_cells`: rows per code ``c`` (cell * 16 + bin)."""
    import ibis

    x = table.expr[column].cast("float64")
    t = table.expr.select(k=grid.key(x), x=x)
    if len(edges) and split:
        index = sum((t.x >= float(e)).cast("int32") for e in edges)
        t = t.select(c=t.k * 16 + ibis.ifelse(t.k.isin(sorted(split)), index, 0))
    else:
        t = t.select(c=t.k * 16)
    # one grouping column (cell * 16 + bin) hashes faster than two
    return t.group_by("c").aggregate(n=t.count())


def _decoded(out: Any) -> Any:
    """Cells ``k``, bins ``b`` and counts ``n`` from the codes and counts of a cell query."""
    code = out["c"].to_numpy(dtype=float)
    k = np.floor(code / 16)  # exact: 16 is a power of two
    with np.errstate(invalid="ignore"):  # +-inf cells
        b = np.where(np.isfinite(k), code - 16 * k, 0.0)
    return pd.DataFrame({"k": k, "b": b, "n": out["n"].to_numpy(dtype=float)})


def _present(cells: Any) -> Any:
    return cells[cells["k"].notna()]


def _bin_counts(cells: Any, edges: np.ndarray, grid: Grid, split: set[float]) -> np.ndarray:
    """The counts of :func:`sds.stats.psi.numeric_counts`: cells outside ``split`` lie
    wholly on one side of each edge (their key is more than one cell away from it)."""
    out = np.zeros(len(edges) + 2)
    out[-1] = cells.loc[cells["k"].isna(), "n"].sum()
    keys = np.sort([grid.python_key(float(e)) for e in edges])
    cells = _present(cells)
    k = cells["k"].to_numpy(dtype=float)
    inside = np.isin(k, sorted(split))
    # outside the split cells, "an edge's key < k" is "every value of the cell >= the edge"
    index = np.where(inside, cells["b"].to_numpy(dtype=int), np.searchsorted(keys, k, "left"))
    np.add.at(out, index, cells["n"].to_numpy(dtype=float))
    return out


def _edges(ref: Any, column: str, grid: Grid, cells: Any, bins: int) -> tuple[np.ndarray, Any]:
    """The reference's exact quantile edges: the cells holding the needed order statistics,
    then the distinct values and counts (``k``, ``v``, ``n``) of those cells and of the
    occupied cells next to them (returned too: :func:`_split_values` bins them)."""
    present = _present(cells).groupby("k", as_index=False)["n"].sum().sort_values("k")
    n = int(present["n"].sum())
    levels = rules.quantile_levels(bins)
    if not n or not levels:
        return np.array([]), pd.DataFrame({"k": [], "v": [], "n": []})
    h = (n - 1) * np.asarray(levels)
    ranks = {int(min(np.floor(v), n - 1)) for v in h} | {
        int(min(np.floor(v) + 1, n - 1)) for v in h
    }
    order, found = _order_statistics(ref, column, grid, present, ranks, near=True)
    quantiles = []
    for v in h:
        below = float(np.floor(v))
        if v >= n - 1:
            quantiles.append(order[n - 1])
            continue
        a, b, t_ = order[int(below)], order[int(below) + 1], v - below
        diff = b - a
        quantiles.append(b - diff * (1 - t_) if t_ >= 0.5 else a + diff * t_)  # numpy's _lerp
    return rules.inner_edges(quantiles), found


def quantiles(table: Any, column: str, levels: list[float], lo: float, hi: float) -> list[float]:
    """Exact quantiles of a column with no missing or infinite value (smallest ``lo``,
    largest ``hi``), as DuckDB's ``quantile_cont`` computes them (``lo * (1 - d) + hi * d``
    between the two order statistics), from one grouped scan and one small query instead
    of DuckDB's sorted copy of the whole column."""
    grid = grid_for(lo, hi)
    cells = _cells(table, column, grid, np.array([]), set())
    present = _present(cells).groupby("k", as_index=False)["n"].sum().sort_values("k")
    n = int(present["n"].sum())
    positions = [(n - 1) * q for q in levels]
    ranks = {int(np.floor(p)) for p in positions} | {int(np.ceil(p)) for p in positions}
    order, _ = _order_statistics(table, column, grid, present, ranks, near=False)
    out = []
    for p in positions:
        below, above = int(np.floor(p)), int(np.ceil(p))
        d = p - below
        a, b = order[below], order[above]
        out.append(a if below == above else a * (1 - d) + b * d)
    return out


def _order_statistics(
    table: Any, column: str, grid: Grid, present: Any, ranks: set[int], near: bool
) -> tuple[dict[int, float], Any]:
    """The values of the given ranks (0-based, in ascending order) from the occupied cells
    (``present``: k and n, sorted by k): the distinct values of the cells holding them (and
    with ``near``, of the occupied cells next to those), which are returned too."""
    ends = present["n"].cumsum().to_numpy()
    keys = present["k"].to_numpy()
    wanted = {float(keys[np.searchsorted(ends, rank, side="right")]) for rank in ranks}
    if near:
        wanted = {k + d for k in wanted for d in (-1.0, 0.0, 1.0)} & {float(k) for k in keys}
    t = _keyed(table, column, grid, sorted(wanted))
    found = table.engine.execute(t.group_by(["k", "v"]).aggregate(n=t.count()), source=table.name)
    found = found.astype({"k": float, "v": float}).sort_values(["k", "v"])
    before = {float(k): float(e - m) for k, e, m in zip(keys, ends, present["n"], strict=True)}
    starts = found.groupby("k")["n"].transform(lambda s: s.cumsum() - s).to_numpy()
    first = np.array([before[float(k)] for k in found["k"]]) + starts
    values, counts = found["v"].to_numpy(float), found["n"].to_numpy(float)
    at = np.searchsorted(first + counts, sorted(ranks), side="right")
    return {r: float(values[i]) for r, i in zip(sorted(ranks), at, strict=True)}, found


def _ks(
    ref: Any, cur: Any, r: str, c: str, grid: Grid, ref_cells: Any, cur_cells: Any
) -> dict[str, float]:
    """KS from the cells, refined where the bound is above the tolerance."""
    table = _merge(
        _present(ref_cells).groupby("k")["n"].sum(), _present(cur_cells).groupby("k")["n"].sum()
    )
    n1, n2 = table["n1"].sum(), table["n2"].sum()
    if not (n1 > 0 and n2 > 0):
        return {"ks": float("nan"), "ks_p_value": float("nan"), "ks_error_bound": float("nan")}
    table["k"] = table["k"].astype(float)
    table["k2"], table["v"], table["point"] = -np.inf, -np.inf, False
    for level in (2, 3):
        d, upper, offending = _gaps(table, n1, n2)
        if not offending.any():
            break
        finer = _refine(ref, cur, r, c, grid, table[offending], level)
        table = pd.concat([table[~offending], finer]).sort_values(["k", "k2", "v"])
    d, upper, _ = _gaps(table, n1, n2)
    return {"ks": d, "ks_p_value": ks_p_value(d, n1, n2), "ks_error_bound": max(upper - d, 0.0)}


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
    return d, upper, inside > d + KS_TOLERANCE


def _refine(ref: Any, cur: Any, r: str, c: str, grid: Grid, cells: Any, level: int) -> Any:
    """The offending cells split: level 2 on a finer grid (with each sub-cell's smallest
    and largest value), level 3 by distinct value."""
    keys = sorted({float(k) for k in cells["k"]})
    subs = sorted({float(k) for k in cells["k2"] if np.isfinite(k)})
    whole = level == 2 or not np.isfinite(cells["k2"]).all()
    by = ["k", "k2"] if level == 2 else ["k", "k2", "v"]
    parts = []
    for table, column in ((ref, r), (cur, c)):
        t = _keyed(table, column, grid, keys)
        t = t if whole else t.filter(t.k2.isin(subs))
        aggs = {"n": t.count()}
        if level == 2:
            aggs.update(lo=t.v.min(), hi=t.v.max())
        parts.append(t.group_by(by).aggregate(**aggs))
    # both sides in one query (one Spark job, not two)
    sides = execute_together(ref.engine, parts, source=f"{ref.name} and {cur.name}")
    a, b = (f.astype({"k": float, "k2": float}).set_index(by) for f in sides)
    out = pd.concat([a["n"].rename("n1"), b["n"].rename("n2")], axis=1).fillna(0.0)
    if level == 2:
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
