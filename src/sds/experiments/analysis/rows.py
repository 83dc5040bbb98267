"""The aggregate query's rows as numpy columns, and their pooling into moments.

The rows (a few hundred: variant x segments x day) come from the engine as Arrow and stay
numpy arrays: a cold ``sds analyze`` spent 0.17 s of CPU importing pandas for them. Pooling
groups them as ``DataFrame.groupby(keys, sort=True, dropna=False)`` did, with the same
arithmetic in the same order, so the moments are the same to the last bit: keys sorted,
missing ones last and given as NaN, each group's rows in their order, co-moment sums that
skip NaN (an overflow's) as pandas' ``sum`` does. Key columns of other types than text and
dates (numbers, booleans, times) are grouped by pandas itself, whose key objects
(``numpy.int64``, ``Timestamp``) the reports then show as before; so are the rows a
database server's sums give (already a DataFrame).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sds.experiments.analysis.moments import Moments

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class Layout(Protocol):
    """What pooling reads of ``queries.Layout`` (whose module's users import this one)."""

    @property
    def variables(self) -> list[str]: ...

    @property
    def pairs(self) -> list[tuple[str, str]]: ...

    @property
    def keys(self) -> list[str]: ...

    def mean_name(self, v: str) -> str: ...

    def comoment_name(self, v: str, w: str) -> str: ...


@dataclass(frozen=True)
class Rows:
    """Columns by name; key columns of text or dates hold Python objects (None if missing).
    ``source`` is what pandas groups when a key is of another type: the Arrow table of the
    query, or the DataFrame a server's rows came as."""

    columns: dict[str, np.ndarray]
    source: Any = None
    own_keys: frozenset[str] = frozenset()  # key columns this module groups itself

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["n"])

    def with_column(self, name: str, values: np.ndarray) -> Rows:
        return Rows({**self.columns, name: values}, self.source, self.own_keys)

    def frame(self, keys: list[str]) -> pd.DataFrame:
        """The keys as pandas gives them, beside the numeric columns (for pandas' groupby)."""
        import pandas as pd

        if isinstance(self.source, pd.DataFrame):
            return self.source
        out: pd.DataFrame = self.source.select(keys).to_pandas()
        for name, values in self.columns.items():
            if name not in keys:
                out[name] = values
        return out


def _own_key(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind)) or bool(
        pa.types.is_date32(kind)
    )


def from_arrow(table: pa.Table, keys: list[str]) -> Rows:
    """Rows from the query's Arrow result; missing numbers are NaN (as in pandas)."""
    columns: dict[str, np.ndarray] = {}
    own = set()
    for name in table.column_names:
        column = table[name]
        if name in keys:
            columns[name] = np.array(column.to_pylist(), dtype=object)
            if _own_key(column.type):
                own.add(name)
        else:
            columns[name] = _numbers(column)
    return Rows(columns, table, frozenset(own))


def _numbers(column: Any) -> np.ndarray:
    """An Arrow column of numbers as pandas holds it: integers as int64, or float64 with
    NaN where missing. Through Python values: pyarrow's ``to_numpy`` imports pandas, and
    these are a few hundred rows."""
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_integer(column.type) and column.null_count == 0:
        return np.array(values, dtype=np.int64)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.array(values, dtype=object)


def from_frame(frame: pd.DataFrame) -> Rows:
    """Rows from a DataFrame (a server's sums): pandas groups them."""
    columns = {str(c): frame[c].to_numpy() for c in frame.columns}
    return Rows(columns, frame)


def missing(values: np.ndarray) -> np.ndarray:
    """Where a column has no value (None or NaN)."""
    return np.array([v is None or v != v for v in values], dtype=bool)


def moment_rows(table: pa.Table, lay: Layout) -> Rows:
    """The finest-grain rows of the moment query: co-moments as centred sums (a one-unit
    group has no sample covariance, NULL: its co-moments are 0)."""
    rows = from_arrow(table, lay.keys)
    columns = dict(rows.columns)
    for name, values in columns.items():
        if name not in lay.keys and values.dtype.kind == "f":
            columns[name] = np.where(np.isnan(values), 0.0, values)
    n = columns["n"].astype(float)
    for a, b in lay.pairs:
        name = lay.comoment_name(a, b)
        columns[name] = columns[name].astype(float) * (n - 1)
    return Rows(columns, rows.source, rows.own_keys)


def pool(
    rows: Rows, lay: Layout, keys: Iterable[str], origin: dict[str, float] | None = None
) -> dict[tuple[object, ...], Moments]:
    """Moments per combination of ``keys``, pooling the finest-grain rows (count ``n``,
    means from ``origin`` and centred co-moments per row). Pooling k rows at once is Chan's
    formula applied k-fold: C = sum C_i + sum n_i (m_i,v - M_v)(m_i,w - M_w)."""
    keys = list(keys)
    origin = origin or {}
    if not set(keys) <= rows.own_keys:
        return _pool_pandas(rows.frame(keys), lay, keys, origin)
    out = {}
    for key, index in _groups([rows[k] for k in keys]):
        columns = {c: v[index] for c, v in rows.columns.items() if c not in keys}
        out[key] = _moments(columns, lay, origin)
    return out


def _groups(keys: list[np.ndarray]) -> list[tuple[tuple[object, ...], np.ndarray]]:
    """Each combination of key values with its rows' positions (in row order), sorted with
    missing values last and shown as NaN, as pandas' groupby gives them."""
    found: dict[tuple[object, ...], list[int]] = {}
    for i, key in enumerate(zip(*keys, strict=True)):
        found.setdefault(tuple(None if v is None or v != v else v for v in key), []).append(i)
    order = sorted(found, key=lambda k: tuple((v is None, v) for v in k))
    return [
        (tuple(np.nan if v is None else v for v in k), np.array(found[k], dtype=np.intp))
        for k in order
    ]


def _moments(columns: dict[str, np.ndarray], lay: Layout, origin: dict[str, float]) -> Moments:
    # overflowing values (1e307) give inf and nan here: computable.broken reports them
    with np.errstate(over="ignore", invalid="ignore"):
        n = columns["n"].astype(float)
        total = float(n.sum())
        weights = n / total
        offsets = {v: columns[lay.mean_name(v)].astype(float) for v in lay.variables}
        pooled = {v: float(weights @ m) for v, m in offsets.items()}
        dev = {v: offsets[v] - pooled[v] for v in lay.variables}
        co = {
            (a, b): float(np.nansum(columns[lay.comoment_name(a, b)]) + n @ (dev[a] * dev[b]))
            for a, b in lay.pairs
        }
    return Moments(total, pooled, co, origin)


def _pool_pandas(
    rows: pd.DataFrame, lay: Layout, keys: list[str], origin: dict[str, float]
) -> dict[tuple[object, ...], Moments]:
    out = {}
    for index, group in rows.groupby(keys, sort=True, dropna=False):
        key = index if isinstance(index, tuple) else (index,)
        columns = {str(c): group[c].to_numpy() for c in group.columns if c not in keys}
        out[key] = _moments(columns, lay, origin)
    return out
