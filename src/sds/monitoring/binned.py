"""PSI counts and a two-sample KS with a stated error bound for large inputs, from one
grouped scan per side and feature (the cells here; :mod:`sds.monitoring.binned_drift`
compares all features with them, one query a step); :mod:`sds.monitoring.report` uses them
above ``EXACT_ROWS`` rows, and the exact queries of :mod:`sds.monitoring.drift` below.

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
  :mod:`sds.monitoring.drift` (the KS steps are in :mod:`sds.monitoring.binned_drift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.data.finite import engine_count
from sds.data.together import execute_together
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


def ranges(table: Any, columns: list[str]) -> dict[str, tuple[float, float, int]]:
    """Each column's smallest and largest value (NaN left out; infinite if the column holds
    an infinity, which the caller refuses) and its count of infinite values, in one query
    (two when a column holds NaN or an infinity)."""
    return ranges_with(table, columns, {})[0]


def ranges_with(
    table: Any, columns: list[str], extra: dict[str, Any]
) -> tuple[dict[str, tuple[float, float, int]], Any]:
    """:func:`ranges`, and the row of its first query, which also computes the ``extra``
    aggregates (named other than ``lo<i>`` and ``hi<i>``): a caller's figures of the same
    table ride in the same scan."""
    t = table.expr
    plain = dict(extra)
    for i, c in enumerate(columns):
        x = t[c].cast("float64")
        plain[f"lo{i}"], plain[f"hi{i}"] = x.min(), x.max()
    first = table.engine.execute(t.aggregate(**plain), source=table.name).iloc[0]
    return _ranges(table, columns, first), first


def _ranges(table: Any, columns: list[str], row: Any) -> dict[str, tuple[float, float, int]]:
    # engines sort NaN above every number, so finite extremes mean no NaN and no infinity
    # (a DuckDB Parquet scan may answer from the file's statistics, which leave NaN out:
    # the same extremes); otherwise the query below
    if all(pd.isna(row[f"lo{i}"]) or _finite(row, i) for i in range(len(columns))):
        return {c: _range(row, i, 0) for i, c in enumerate(columns)}
    t = table.expr
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


def split_keys(edges: np.ndarray, grid: Grid) -> set[float]:
    """The cells an edge may fall in (an edge's cell and its neighbours): the cells whose
    rows are split by bin."""
    return {k + d for e in edges for d in (-1.0, 0.0, 1.0) for k in [grid.python_key(float(e))]}


def split_values_by_column(
    ref: Any,
    grids: dict[str, Grid],
    cells: dict[str, Any],
    found: dict[str, tuple[np.ndarray, Any]],
) -> dict[str, Any]:
    """Each column's reference cells (as :func:`cells_for` with ``edges``) without a
    second scan: in the split cells, one row per distinct value with its bin. ``found``
    (from :func:`edges_by_column`) holds the edges and the cells next to the edges' order
    statistics: an edge lies between two consecutive order statistics, so no occupied cell
    lies between their cells, and each occupied split cell is one of them or next to one.
    Any other occupied split cell (none, by that argument) is fetched, for all columns in
    one query."""
    splits = {c: split_keys(edges, grids[c]) for c, (edges, _) in found.items()}
    missing = {}
    for c, (_, values) in found.items():
        occupied = {float(k) for k in present(cells[c])["k"]}
        missing[c] = sorted((splits[c] & occupied) - {float(k) for k in values["k"]})
    asked = [c for c in found if missing[c]]
    parts = []
    for c in asked:
        t = keyed(ref, c, grids[c], missing[c])
        parts.append(t.group_by(["k", "v"]).aggregate(n=t.count()))
    extra = dict(zip(asked, execute_together(ref.engine, parts, source=ref.name), strict=True))
    out = {}
    for c, (edges, values) in found.items():
        if c in extra:
            values = pd.concat([values, extra[c][["k", "v", "n"]]])
        out[c] = _split_values(cells[c], edges, splits[c], values)
    return out


def _split_values(cells: Any, edges: np.ndarray, split: set[float], values: Any) -> Any:
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


def keyed(table: Any, column: str, grid: Grid, cells: list[float]) -> Any:
    """The rows in the given cells: their cell ``k``, finer cell ``k2`` and value ``v``."""
    x = table.expr[column].cast("float64")
    t = table.expr.select(k=grid.key(x), k2=grid.key(x, FINER), v=x)
    return t.filter(t.k.isin(cells))


def cells_by_column(
    table: Any, columns: list[str], grids: dict[str, Grid]
) -> dict[str, pd.DataFrame]:
    """Each column's cells (as :func:`cells_for` with no edges) in one query."""
    found = cells_for(table, [(c, grids[c], np.array([])) for c in columns])
    return dict(zip(columns, found, strict=True))


def cells_for(table: Any, specs: list[tuple[str, Grid, np.ndarray]]) -> list[pd.DataFrame]:
    """For each ``(column, grid, edges)``, the column's rows per cell (k; null or NaN for
    missing values, +-inf for infinite ones) and, in the cells an edge may fall in, per PSI
    bin (b: how many edges are <= x; 0 elsewhere), in one query: a GROUP BY per column
    joined by UNION ALL (on Spark one job, not one per column)."""
    parts = [_cell_counts(table, c, grid, e, split_keys(e, grid)) for c, grid, e in specs]
    return [_decoded(rows) for rows in execute_together(table.engine, parts, source=table.name)]


def _cell_counts(table: Any, column: str, grid: Grid, edges: np.ndarray, split: set[float]) -> Any:
    """The query of :func:`cells_for`: rows per code ``c`` (cell * 16 + bin)."""
    import ibis

    x = table.expr[column].cast("float64")
    t = table.expr.select(k=grid.key(x), x=x)
    if len(edges) and split:
        index = sum((t.x >= float(e)).cast("int32") for e in edges)
        t = t.select(c=t.k * 16 + ibis.ifelse(t.k.isin(sorted(split)), index, 0), x=t.x)
    else:
        t = t.select(c=t.k * 16, x=t.x)
    # one grouping column (cell * 16 + bin) hashes faster than two; the smallest and
    # largest value tell a cell of one repeated value (its KS bound is exact)
    return t.group_by("c").aggregate(n=t.count(), lo=t.x.min(), hi=t.x.max())


def _decoded(out: Any) -> Any:
    """Cells ``k``, bins ``b``, counts ``n`` and smallest and largest values ``lo`` and
    ``hi`` from the rows of a cell query."""
    code = out["c"].to_numpy(dtype=float)
    k = np.floor(code / 16)  # exact: 16 is a power of two
    with np.errstate(invalid="ignore"):  # +-inf cells
        b = np.where(np.isfinite(k), code - 16 * k, 0.0)
    n, lo, hi = (out[c].to_numpy(dtype=float) for c in ("n", "lo", "hi"))
    return pd.DataFrame({"k": k, "b": b, "n": n, "lo": lo, "hi": hi})


def present(cells: Any) -> Any:
    """The cells of values that are not missing."""
    return cells[cells["k"].notna()]


def cell_bin_counts(cells: Any, edges: np.ndarray, grid: Grid) -> np.ndarray:
    """The counts of :func:`sds.stats.psi.numeric_counts`: cells outside the split ones lie
    wholly on one side of each edge (their key is more than one cell away from it)."""
    split = split_keys(edges, grid)
    out = np.zeros(len(edges) + 2)
    out[-1] = cells.loc[cells["k"].isna(), "n"].sum()
    keys = np.sort([grid.python_key(float(e)) for e in edges])
    cells = present(cells)
    k = cells["k"].to_numpy(dtype=float)
    inside = np.isin(k, sorted(split))
    # outside the split cells, "an edge's key < k" is "every value of the cell >= the edge"
    index = np.where(inside, cells["b"].to_numpy(dtype=int), np.searchsorted(keys, k, "left"))
    np.add.at(out, index, cells["n"].to_numpy(dtype=float))
    return out


def edges_by_column(
    ref: Any, grids: dict[str, Grid], cells: dict[str, Any], bins: int
) -> dict[str, tuple[np.ndarray, Any]]:
    """Each column's exact quantile edges in the reference, all from one query: the cells
    holding the needed order statistics, then the distinct values and counts (``k``, ``v``,
    ``n``) of those cells and of the occupied cells next to them (returned too:
    :func:`split_values_by_column` bins them)."""
    levels = rules.quantile_levels(bins)
    plans, parts = {}, []
    for c, found in cells.items():
        occupied = present(found).groupby("k", as_index=False)["n"].sum().sort_values("k")
        n = int(occupied["n"].sum())
        if n and levels:
            h = (n - 1) * np.asarray(levels)
            ranks = {int(min(np.floor(v), n - 1)) for v in h} | {
                int(min(np.floor(v) + 1, n - 1)) for v in h
            }
            plans[c] = (occupied, h, ranks)
            parts.append(_order_query(ref, c, grids[c], _wanted(occupied, ranks, near=True)))
    found = execute_together(ref.engine, parts, source=ref.name)
    out = {c: (np.array([]), pd.DataFrame({"k": [], "v": [], "n": []})) for c in cells}
    for c, rows in zip(plans, found, strict=True):
        occupied, h, ranks = plans[c]
        order, rows = _ranked(rows, occupied, ranks)
        out[c] = (_interpolated(order, h, int(occupied["n"].sum())), rows)
    return out


def _interpolated(order: dict[int, float], h: np.ndarray, n: int) -> np.ndarray:
    """The inner edges from the order statistics around each position ``h``, as
    ``numpy.quantile`` interpolates."""
    quantiles = []
    for v in h:
        below = float(np.floor(v))
        if v >= n - 1:
            quantiles.append(order[n - 1])
            continue
        a, b, t_ = order[int(below)], order[int(below) + 1], v - below
        diff = b - a
        quantiles.append(b - diff * (1 - t_) if t_ >= 0.5 else a + diff * t_)  # numpy's _lerp
    return rules.inner_edges(quantiles)


def quantiles(table: Any, column: str, levels: list[float], lo: float, hi: float) -> list[float]:
    """Exact quantiles of a column with no missing or infinite value (smallest ``lo``,
    largest ``hi``), as DuckDB's ``quantile_cont`` computes them (``lo * (1 - d) + hi * d``
    between the two order statistics), from one grouped scan and one small query instead
    of DuckDB's sorted copy of the whole column."""
    grid = grid_for(lo, hi)
    cells = cells_by_column(table, [column], {column: grid})[column]
    occupied = present(cells).groupby("k", as_index=False)["n"].sum().sort_values("k")
    n = int(occupied["n"].sum())
    positions = [(n - 1) * q for q in levels]
    ranks = {int(np.floor(p)) for p in positions} | {int(np.ceil(p)) for p in positions}
    query = _order_query(table, column, grid, _wanted(occupied, ranks, near=False))
    order, _ = _ranked(table.engine.execute(query, source=table.name), occupied, ranks)
    out = []
    for p in positions:
        below, above = int(np.floor(p)), int(np.ceil(p))
        d = p - below
        a, b = order[below], order[above]
        out.append(a if below == above else a * (1 - d) + b * d)
    return out


def _wanted(occupied: Any, ranks: set[int], near: bool) -> list[float]:
    """The cells holding the given ranks (0-based, ascending) among the occupied cells
    (``occupied``: k and n, sorted by k), and with ``near`` the occupied cells next to
    those."""
    ends = occupied["n"].cumsum().to_numpy()
    keys = occupied["k"].to_numpy()
    wanted = {float(keys[np.searchsorted(ends, rank, side="right")]) for rank in ranks}
    if near:
        wanted = {k + d for k in wanted for d in (-1.0, 0.0, 1.0)} & {float(k) for k in keys}
    return sorted(wanted)


def _order_query(table: Any, column: str, grid: Grid, wanted: list[float]) -> Any:
    """The distinct values and their counts (``k``, ``v``, ``n``) of the wanted cells."""
    t = keyed(table, column, grid, wanted)
    return t.group_by(["k", "v"]).aggregate(n=t.count())


def _ranked(found: Any, occupied: Any, ranks: set[int]) -> tuple[dict[int, float], Any]:
    """The values of the given ranks from the distinct values of the cells holding them
    (:func:`_order_query`), and those values sorted."""
    ends = occupied["n"].cumsum().to_numpy()
    keys = occupied["k"].to_numpy()
    found = found.astype({"k": float, "v": float}).sort_values(["k", "v"])
    before = {float(k): float(e - m) for k, e, m in zip(keys, ends, occupied["n"], strict=True)}
    starts = found.groupby("k")["n"].transform(lambda s: s.cumsum() - s).to_numpy()
    first = np.array([before[float(k)] for k in found["k"]]) + starts
    values, counts = found["v"].to_numpy(float), found["n"].to_numpy(float)
    at = np.searchsorted(first + counts, sorted(ranks), side="right")
    return {r: float(values[i]) for r, i in zip(sorted(ranks), at, strict=True)}, found
