"""Train / validation / test splits that respect how the data will be used.

- ``stratified`` (default for classification): each split keeps the class shares
  (scikit-learn's ``train_test_split`` with ``stratify``, twice);
- ``random`` (default for regression);
- ``temporal``: by a time column, earliest rows for training; cut points are times, so rows
  sharing a timestamp never straddle two splits, and an optional ``gap`` leaves out the
  rows just after each cut (training never ends right where validation starts); each
  split's rows are returned in time order (ties in the file's order);
- ``group``: whole groups (e.g. customers) go to one split, shuffled with the seed, so no
  entity is seen in training and again in test.

Sizes are shares of rows (``0.70/0.15/0.15`` by default); a group or temporal split meets
them as closely as whole groups or timestamps allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.errors import DataError, ParameterError, missing_column_error
from sds.models.records import Record
from sds.results import KeyValue, Result, Section, jsonable_dict, records_table

METHODS = ("stratified", "random", "temporal", "group")


@dataclass(frozen=True)
class SplitPart(Record):
    """What one split holds: rows, the class shares (or the target's mean) and, with a
    time column, its first and last time."""

    split: str
    rows: int
    shares: tuple[tuple[str, float], ...] = ()  # (class, share), classification
    target_mean: float | None = None  # regression
    start: str | None = None
    end: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"split": self.split, "rows": self.rows}
        out |= {f"share_{k}": v for k, v in self.shares}
        if self.target_mean is not None:
            out["target_mean"] = self.target_mean
        if self.start is not None:
            out |= {"from": self.start, "to": self.end}
        return out


@dataclass(frozen=True)
class SplitSummary(Record):
    """The split as a training run reports it: method, rows per split and each part."""

    method: str
    train: int
    validation: int
    test: int
    dropped_for_gap: int
    splits: tuple[SplitPart, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "rows": {"train": self.train, "validation": self.validation, "test": self.test},
            "dropped_for_gap": self.dropped_for_gap,
            "splits": [s.to_dict() for s in self.splits],
        }


@dataclass(frozen=True)
class Splits(Result):
    """Row positions of each split, and what each split holds."""

    title: ClassVar[str] = "Data split"
    method: str
    train: np.ndarray = field(compare=False)
    validation: np.ndarray = field(compare=False)
    test: np.ndarray = field(compare=False)
    splits: tuple[SplitPart, ...]
    dropped_for_gap: int = 0

    def overview(self) -> SplitSummary:
        sizes = (len(self.train), len(self.validation), len(self.test))
        return SplitSummary(self.method, *sizes, self.dropped_for_gap, self.splits)

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(self.overview().to_dict())

    def sections(self) -> list[Section]:
        d = self.to_dict()
        rows = [("method", d["method"]), ("rows left out by the gap", d["dropped_for_gap"])]
        return [KeyValue("Split", rows), records_table("Splits", d["splits"])]


def split(
    frame: pd.DataFrame,
    target: str,
    *,
    method: str | None = None,
    time_column: str | None = None,
    gap: timedelta | None = None,
    group_column: str | None = None,
    sizes: tuple[float, float, float] = (0.70, 0.15, 0.15),
    seed: int = 0,
    strata: Any = None,
) -> Splits:
    """Split ``frame``'s rows; ``method`` defaults to stratified for a categorical target
    with few values, else random. A stratified split keeps the shares of ``strata`` (one
    value per row; default: the target), e.g. the positive class as 0/1."""
    _check(frame, target, sizes, time_column, group_column)
    chosen = method or _default_method(frame[target])
    if chosen not in METHODS:
        raise ParameterError(f"split method == {chosen!r}, must be one of {', '.join(METHODS)}")
    dropped = 0
    if chosen in ("stratified", "random"):
        parts = _shuffled(frame, target, sizes, seed, chosen == "stratified", strata)
    elif chosen == "temporal":
        if time_column is None:
            raise ParameterError("a temporal split needs time_column", parameter="time_column")
        parts, dropped = _temporal(frame[time_column], sizes, gap)
    else:
        if group_column is None:
            raise ParameterError("a group split needs group_column", parameter="group_column")
        parts = _grouped(frame[group_column], sizes, seed)
    described = tuple(
        _describe(name, frame.iloc[rows], target, time_column)
        for name, rows in zip(("train", "validation", "test"), parts, strict=True)
    )
    train, validation, test = parts
    return Splits(chosen, train, validation, test, splits=described, dropped_for_gap=dropped)


def _check(
    frame: pd.DataFrame,
    target: str,
    sizes: tuple[float, float, float],
    time_column: str | None,
    group_column: str | None,
) -> None:
    for column in [target, *(c for c in (time_column, group_column) if c)]:
        if column not in frame.columns:
            raise missing_column_error(column, list(frame.columns), "training data")
    if len(sizes) != 3 or any(s <= 0 for s in sizes) or abs(sum(sizes) - 1) > 1e-9:
        raise ParameterError(f"sizes == {sizes}, must be three positive shares adding to 1")
    if frame[target].isna().all() or frame[target].nunique() < 2:
        raise DataError("the target has fewer than two values", column=target)


def _default_method(y: pd.Series) -> str:
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    return "random" if numeric and y.nunique() > 10 else "stratified"


def _shuffled(
    frame: pd.DataFrame,
    target: str,
    sizes: tuple[float, float, float],
    seed: int,
    stratify: bool,
    strata: Any = None,
) -> list[np.ndarray]:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(frame))
    y = frame[target].to_numpy() if strata is None else np.asarray(strata)
    if stratify:
        counts = frame[target].value_counts()
        if counts.min() < 3:
            raise DataError(
                "a class is too small to stratify into three splits",
                column=target,
                found=f"class {counts.idxmin()!r} has {int(counts.min())} member(s)",
                expected="at least 3 members per class",
                hint="Merge rare classes, or use method: random.",
            )
    first, rest = train_test_split(
        rows, train_size=sizes[0], random_state=seed, stratify=y if stratify else None
    )
    share = sizes[1] / (sizes[1] + sizes[2])
    second, third = train_test_split(
        rest, train_size=share, random_state=seed, stratify=y[rest] if stratify else None
    )
    return [np.sort(first), np.sort(second), np.sort(third)]


def _temporal(
    times: pd.Series, sizes: tuple[float, float, float], gap: timedelta | None
) -> tuple[list[np.ndarray], int]:
    t = pd.to_datetime(times)
    if t.isna().any():
        raise DataError("the time column has missing values", column=str(times.name))
    ns = t.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    cut1, cut2 = np.quantile(ns, [sizes[0], sizes[0] + sizes[1]], method="higher")
    pad = int(pd.Timedelta(gap or timedelta(0)).value)
    masks = [ns < cut1, (ns >= cut1 + pad) & (ns < cut2), ns >= cut2 + pad]
    if not all(m.any() for m in masks):
        raise DataError(
            "the time column cannot be cut into three non-empty periods",
            column=str(times.name),
            hint="Too few distinct times, or the gap is longer than a split's period.",
        )
    dropped = int(len(ns) - sum(int(m.sum()) for m in masks))
    return [_by_time(np.flatnonzero(m), ns) for m in masks], dropped


def _by_time(rows: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """``rows`` ordered by time (stable: ties keep the file's order), so the training rows
    of a temporal split are in time order whatever the file's order."""
    return rows[np.argsort(ns[rows], kind="stable")]


def _grouped(groups: pd.Series, sizes: tuple[float, float, float], seed: int) -> list[np.ndarray]:
    counts = groups.value_counts(sort=False)
    if len(counts) < 3:
        raise DataError("a group split needs at least 3 groups", column=str(groups.name))
    order = np.random.default_rng(seed).permutation(len(counts))
    cumulative = np.cumsum(counts.to_numpy()[order]) / len(groups)
    edges = (sizes[0], sizes[0] + sizes[1])
    part = np.searchsorted(edges, cumulative, side="left")  # 0, 1 or 2 for each group
    part = np.minimum(part, 2)
    assignment = dict(zip(counts.index[order], part, strict=True))
    labels = groups.map(assignment).to_numpy()
    out = [np.flatnonzero(labels == k) for k in range(3)]
    if any(len(o) == 0 for o in out):
        raise DataError(
            "a split got no group; too few groups for these sizes", column=str(groups.name)
        )
    return out


def _describe(name: str, rows: pd.DataFrame, target: str, time_column: str | None) -> SplitPart:
    y = rows[target]
    shares: tuple[tuple[str, float], ...] = ()
    mean = None
    if _default_method(y) == "stratified":
        counts = y.value_counts(normalize=True).sort_index()
        shares = tuple((str(k), float(v)) for k, v in counts.items())
    else:
        mean = float(y.mean())
    start = end = None
    if time_column:
        start, end = str(rows[time_column].min()), str(rows[time_column].max())
    return SplitPart(name, len(rows), shares, mean, start, end)
