"""One resampling plan per training run: the folds of the training rows that every step
inside the training split uses (tuning, the cross-validated spread, the learning curve and
the comparison of the candidates), built once from the split.

- ``temporal`` split: forward-chained folds in time order. The training rows, ordered by
  time, are cut into ``folds + 1`` blocks as scikit-learn's ``TimeSeriesSplit`` would cut
  them (the first block only ever fits), except that each cut is a timestamp, so rows
  sharing a timestamp never straddle fit and score rows. Fold ``k`` scores block ``k + 1``
  with a model fitted on every earlier row whose time is more than the split's ``gap``
  before the block starts (the rows within ``gap`` are left out, as the split leaves them
  out between its periods).
- ``group`` split: grouped folds, no group in both the fit and the score rows of a fold
  (``StratifiedGroupKFold`` for classification, ``GroupKFold`` for regression, both
  shuffled with the seed).
- otherwise: ``StratifiedKFold`` (classification) or ``KFold`` (regression), shuffled with
  the seed.

The plan is scikit-learn's ``cv=`` (``split`` and ``get_n_splits``) and always yields the
same precomputed index arrays, so every consumer gets exactly the same folds. What the
folds are not used for is said too: the model choice, the threshold and the recalibration
are made on the validation split, the evaluation, permutation importance and DeLong's
comparison run on the test rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.errors import DataError
from sds.models.records import Record

Fold = tuple[np.ndarray, np.ndarray]  # (fit rows, score rows), positions in the training rows
KINDS = ("forward-chained", "grouped", "stratified", "shuffled")


@dataclass(frozen=True)
class FoldRows(Record):
    """One fold's size: rows fitted on, rows scored, and fit rows left out by the gap."""

    fold: int
    fit_rows: int
    score_rows: int
    left_out_for_gap: int


@dataclass(frozen=True)
class ResamplingRecord(Record):
    """The plan as the report names it, and which steps use the folds, the validation
    split and the test rows."""

    optional: ClassVar[tuple[str, ...]] = ("gap", "column")
    nested: ClassVar[dict[str, type[Record]]] = {"fold_rows": FoldRows}
    method: str  # forward-chained, grouped, stratified or shuffled
    split: str  # the split's method the plan follows
    folds: int
    rows: int
    seed: int
    description: str
    folds_used_by: tuple[str, ...]
    validation_used_by: tuple[str, ...]
    test_used_by: tuple[str, ...]
    fold_rows: tuple[FoldRows, ...]
    gap: str | None = None
    column: str | None = None  # the time or group column


@dataclass(frozen=True)
class ResamplingPlan:
    """The folds of the training rows (positions ``0 .. rows - 1``) and how they were cut."""

    kind: str
    split_method: str
    task: str
    rows: int
    seed: int
    folds: tuple[Fold, ...] = field(compare=False, repr=False)
    left_out: tuple[int, ...] = ()  # fit rows left out by the gap, per fold
    gap: timedelta | None = None
    column: str | None = None
    groups: np.ndarray | None = field(default=None, compare=False, repr=False)

    def get_n_splits(self, x: Any = None, y: Any = None, groups: Any = None) -> int:
        return len(self.folds)

    def split(self, x: Any = None, y: Any = None, groups: Any = None) -> Iterator[Fold]:
        """The folds (copies), for ``x`` with exactly the plan's rows."""
        if x is not None and len(x) != self.rows:
            raise DataError(
                "the resampling plan was built for other rows",
                found=f"{len(x):,} rows",
                expected=f"the {self.rows:,} training rows of the plan",
            )
        for fit, score in self.folds:
            yield fit.copy(), score.copy()

    def describe(self) -> str:
        """One line: the folds, how they were cut, on how many rows."""
        k, rows = len(self.folds), f"on {self.rows:,} training rows"
        if self.kind == "forward-chained":
            gap = f", gap {_duration(self.gap)}" if self.gap else ""
            return f"{k} forward-chained folds in time order by {self.column}{gap}, {rows}"
        if self.kind == "grouped":
            return f"{k} grouped folds by {self.column} (no group on both sides), {rows}"
        return f"{k} {self.kind} folds (seed {self.seed}), {rows}"

    def fit_subset(self, fit: np.ndarray, share: float, y: Any) -> np.ndarray:
        """About ``share`` of a fold's fit rows, for the learning curve, without breaking
        time order or groups: the most recent rows (forward-chained, so the distance to
        the score block stays the plan's), whole groups in a seeded order (grouped), a
        seeded stratified or shuffled sample otherwise."""
        n = max(2, round(share * len(fit)))
        if n >= len(fit):
            return fit
        if self.kind == "forward-chained":
            return fit[-n:]
        rng = np.random.default_rng(self.seed)
        if self.kind == "grouped":
            assert self.groups is not None
            labels = self.groups[fit]
            names = pd.unique(labels)
            chosen = names[rng.permutation(len(names))]
            counts = pd.Series(labels).value_counts().reindex(chosen).to_numpy()
            keep = chosen[: int(np.searchsorted(np.cumsum(counts), n)) + 1]
            return fit[np.isin(labels, keep)]
        if self.kind == "stratified":
            from sklearn.model_selection import train_test_split

            labels = np.asarray(y)[fit]
            part = train_test_split(fit, train_size=n, stratify=labels, random_state=self.seed)
            return np.sort(part[0])
        return np.sort(rng.permutation(fit)[:n])

    def record(self, *, compared: bool, recalibrated: bool) -> ResamplingRecord:
        """The plan for the report; ``compared``: more than one candidate (the comparison
        ran), ``recalibrated``: a recalibration was fitted on validation."""
        binary = self.task == "binary"
        on_folds = ["tuning", "cross-validated spread", "learning curve"]
        on_validation = ["model choice"] + ["decision threshold"] * binary
        on_test = ["evaluation", "permutation importance"]
        if compared:
            on_folds.append("model comparison (Nadeau-Bengio)")
            on_test += ["model comparison (DeLong)"] * binary
        if recalibrated:
            on_validation.append("recalibration")
        sizes = tuple(
            FoldRows(i + 1, len(fit), len(score), left)
            for i, ((fit, score), left) in enumerate(zip(self.folds, self._left(), strict=True))
        )
        return ResamplingRecord(
            method=self.kind,
            split=self.split_method,
            folds=len(self.folds),
            rows=self.rows,
            seed=self.seed,
            description=self.describe(),
            folds_used_by=tuple(on_folds),
            validation_used_by=tuple(on_validation),
            test_used_by=tuple(on_test),
            fold_rows=sizes,
            gap=_duration(self.gap) if self.gap else None,
            column=self.column,
        )

    def _left(self) -> tuple[int, ...]:
        return self.left_out or (0,) * len(self.folds)


def resampling_plan(
    train: pd.DataFrame,
    y: Any,
    task: str,
    *,
    method: str,
    folds: int,
    seed: int,
    time_column: str | None = None,
    gap: timedelta | None = None,
    group_column: str | None = None,
) -> ResamplingPlan:
    """The plan for the training rows ``train`` (target ``y``) of a split made by
    ``method``, with ``folds`` folds."""
    target = np.asarray(y)
    classify = task != "regression"
    common: dict[str, Any] = {"split_method": method, "task": task, "rows": len(train)}
    if method == "temporal" and time_column:
        cut, left = _forward_chained(train[time_column], folds, gap)
        _check_classes(cut, target, classify, time_column)
        return ResamplingPlan(
            "forward-chained",
            **common,
            seed=seed,
            folds=cut,
            left_out=left,
            gap=gap,
            column=time_column,
        )
    if method == "group" and group_column:
        labels = train[group_column].to_numpy()
        grouped = _grouped(labels, target, folds, seed, classify, group_column)
        return ResamplingPlan(
            "grouped", **common, seed=seed, folds=grouped, column=group_column, groups=labels
        )
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold if classify else KFold)(folds, shuffle=True, random_state=seed)
    shuffled = tuple(splitter.split(np.zeros(len(train)), target))
    kind = "stratified" if classify else "shuffled"
    return ResamplingPlan(kind, **common, seed=seed, folds=shuffled)


def _forward_chained(
    times: pd.Series, k: int, gap: timedelta | None
) -> tuple[tuple[Fold, ...], tuple[int, ...]]:
    """Forward-chained folds cut at timestamps, each score block after its fit rows."""
    ns = pd.to_datetime(times).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.argsort(ns, kind="stable")
    ordered = ns[order]
    n = len(ns)
    size = n // (k + 1)  # TimeSeriesSplit's block size; the first block takes the rest
    if size == 0:
        raise _too_few(times, f"{n:,} training rows", k)
    cuts = [int(ordered[n - (k + 1 - i) * size]) for i in range(1, k + 1)]
    pad = int(pd.Timedelta(gap or timedelta(0)).value)
    folds: list[Fold] = []
    left: list[int] = []
    for i, start in enumerate(cuts):
        end = cuts[i + 1] if i + 1 < k else None
        in_block = (ordered >= start) & (ordered < end) if end is not None else ordered >= start
        fit, score = order[ordered < start - pad], order[in_block]
        if not len(fit) or not len(score):
            found = f"fold {i + 1} has {len(fit):,} fit and {len(score):,} score rows"
            raise _too_few(times, found, k)
        folds.append((fit, score))
        left.append(int(((ordered >= start - pad) & (ordered < start)).sum()))
    return tuple(folds), tuple(left)


def _too_few(times: pd.Series, found: str, k: int) -> DataError:
    return DataError(
        f"the training rows cannot be cut into {k} forward-chained folds",
        column=str(times.name),
        found=found,
        hint="Use fewer folds (tuning: {folds: 3}), a shorter gap, or more distinct times.",
    )


def _grouped(
    labels: np.ndarray, y: np.ndarray, k: int, seed: int, classify: bool, column: str
) -> tuple[Fold, ...]:
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    distinct = len(pd.unique(labels))
    if distinct < k:
        raise DataError(
            f"grouped folds need at least {k} groups in the training rows",
            column=column,
            found=f"{distinct} group(s)",
            hint="Use fewer folds (tuning: folds), or a column with more groups.",
        )
    if classify:
        splitter: Any = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
    else:
        splitter = GroupKFold(k, shuffle=True, random_state=seed)
    return tuple(splitter.split(np.zeros(len(labels)), y, labels))


def _check_classes(folds: tuple[Fold, ...], y: np.ndarray, classify: bool, column: str) -> None:
    """Each forward-chained fold must fit and score on at least two classes."""
    if not classify:
        return
    for i, (fit, score) in enumerate(folds):
        if len(np.unique(y[fit])) < 2 or len(np.unique(y[score])) < 2:
            raise DataError(
                f"forward-chained fold {i + 1} has a single class in its fit or score rows",
                column=column,
                found=f"classes {sorted(map(str, np.unique(y[fit])))} fitted, "
                f"{sorted(map(str, np.unique(y[score])))} scored",
                hint="Use fewer folds (tuning: {folds: 3}) or more training rows.",
            )


def _duration(gap: timedelta | None) -> str:
    """``7 days``, ``12 hours``, or pandas' spelling of anything else."""
    delta = pd.Timedelta(gap or timedelta(0))
    for unit, name in ((pd.Timedelta(days=1), "day"), (pd.Timedelta(hours=1), "hour")):
        if delta >= unit and delta % unit == pd.Timedelta(0):
            count = int(delta / unit)
            return f"{count} {name}{'s' * (count != 1)}"
    return str(delta)
