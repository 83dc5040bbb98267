"""Feature selection with a reason for every feature that goes.

In order (the first reason that applies is the one reported):

1. more than ``null_limit`` (95%) missing;
2. constant, then near-zero variance by caret's ``nearZeroVar`` rule (most common value over
   95/5 times as frequent as the second, and under 10% distinct values) unless the column is
   associated with the target: each such column is tested against the target on the
   training rows only (the rows the models of step 6 fit on, never the held-out rows), by a
   univariate test suited to the two columns' kinds (:mod:`sds.features.near_zero`: the
   two-proportion test, Fisher's exact on small counts, for a flag and a binary target;
   chi-square, Kruskal-Wallis or Spearman otherwise), Holm-adjusted over the flagged
   columns; one whose adjusted p-value is below ``nzv_alpha`` (0.05) is kept, reported
   under "kept despite near-zero variance" with its rates, and goes on to the next steps;
3. ID-like (a distinct text value per row) or high-cardinality text (over 100 levels:
   encode it first, e.g. with target or frequency encoding);
4. leakage (:mod:`sds.features.leakage`);
5. pairwise |Pearson r| above ``corr_limit`` (0.95): the one less correlated with the target
   goes (the earlier column on a tie);
6. no importance: not kept by recursive feature elimination (a random forest; the number of
   features by cross-validation with the one-standard-error rule) and repeated permutation
   importance (a gradient-boosting model on held-out rows) not above zero by two standard
   deviations.

Every dropped feature's evidence gives its figures: the missing share, the constant value,
the top value's share, its ratio to the next, the distinct values and the association
test's p-value, the |r| and the partner, the permutation importance and RFE's verdict.

The report ranks the remaining features by permutation importance and gives the cumulative
importance curve and how many features cover 90% of it; with ``shap=True`` (the ``shap``
extra) it adds each feature's mean absolute SHAP value on the held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.data.finite import refuse_unusable
from sds.errors import DataError, missing_column_error
from sds.features.importance import holdout_rows, model_importance
from sds.features.leakage import encode, leakage, task_of
from sds.features.near_zero import Association, associations, near_zero, plain_value
from sds.params import PROBABILITY_OPEN, check
from sds.report.plots import lines_svg
from sds.results import Figure, KeyValue, Note, Result, Section, jsonable_dict, records_table

MAX_LEVELS = 100


@dataclass(frozen=True)
class SelectionResult(Result):
    """Kept features, dropped ones with reasons, importances and leakage findings."""

    title: ClassVar[str] = "Feature selection"
    target: str
    task: str
    rows: int
    kept: tuple[str, ...]
    dropped: tuple[dict[str, Any], ...]
    importance: tuple[dict[str, Any], ...]
    leaks: tuple[dict[str, Any], ...]
    covering_90: int
    warnings: tuple[str, ...] = ()
    rare_kept: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "target": self.target,
                "task": self.task,
                "rows": self.rows,
                "kept": list(self.kept),
                "dropped": [dict(d) for d in self.dropped],
                "importance": [dict(i) for i in self.importance],
                "features_covering_90pct_importance": self.covering_90,
                "leakage": [dict(x) for x in self.leaks],
                "kept_despite_near_zero_variance": [dict(r) for r in self.rare_kept],
                "warnings": list(self.warnings),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        out: list[Section] = [
            KeyValue(
                "Selection",
                [
                    ("target", d["target"]),
                    ("task", d["task"]),
                    ("rows", d["rows"]),
                    ("kept", ", ".join(d["kept"])),
                    (
                        "features covering 90% of importance",
                        d["features_covering_90pct_importance"],
                    ),
                ],
            ),
            records_table("Dropped, and why", d["dropped"]),
        ]
        if d["kept_despite_near_zero_variance"]:
            out.append(
                records_table(
                    "Kept despite near-zero variance (associated with the target)",
                    d["kept_despite_near_zero_variance"],
                )
            )
        out += [
            records_table("Permutation importance (held-out rows)", d["importance"]),
        ]
        if d["importance"]:
            out.append(Figure("Cumulative importance", self._curve))
        if d["leakage"]:
            out.append(records_table("Leakage checks", d["leakage"]))
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out

    def _curve(self) -> str:
        rows = [r for r in self.importance if r["cumulative_share"] is not None]
        x = list(range(1, len(rows) + 1))
        share = [100 * r["cumulative_share"] for r in rows]
        return lines_svg(x, {"cumulative": (share, None, None)}, "features", "% of importance")


def select_features(
    frame: pd.DataFrame,
    target: str,
    *,
    exclude: list[str] | None = None,
    label_time: str | None = None,
    null_limit: float = 0.95,
    corr_limit: float = 0.95,
    repeats: int = 5,
    max_rows: int = 50_000,
    seed: int = 0,
    shap: bool = False,
    source: str = "feature table",
    nzv_alpha: float = 0.05,
) -> SelectionResult:
    """Select features of ``frame`` (read from ``source``) for predicting ``target``.
    Infinite or huge numbers in the target or a feature are refused (a DataError), as in
    training: the correlations and models cannot use them. ``nzv_alpha`` is the level at
    which a near-zero-variance column's association with the target (on the training
    rows, Holm-adjusted over all such columns) keeps it."""
    check("nzv_alpha", nzv_alpha, PROBABILITY_OPEN)
    frame, warnings = _prepared(frame, target, label_time, max_rows, seed)
    skip = {target, *(exclude or []), *([label_time] if label_time else [])}
    candidates = [c for c in frame.columns if c not in skip]
    refuse_unusable(frame, [target, *candidates], source)
    task = task_of(frame[target])
    split = _holdout(frame[target], task, seed)
    dropped: list[dict[str, Any]] = []
    remaining, rare_kept = _filters(
        frame, target, candidates, task, split[0], null_limit, nzv_alpha, dropped, seed
    )
    leaks = leakage(frame, target, remaining, task, label_time=label_time, seed=seed)
    gone = {x["feature"]: x for x in leaks if x["drop"]}
    dropped += [_drop(f, f"leakage: {gone[f]['check']}", gone[f]["evidence"]) for f in gone]
    remaining = [f for f in remaining if f not in gone]
    remaining = _decorrelate(frame, target, remaining, corr_limit, dropped)
    importance, remaining = _importance(
        frame, target, remaining, task, repeats, seed, dropped, shap, split
    )
    return SelectionResult(
        target=target,
        task=task,
        rows=len(frame),
        kept=tuple(remaining),
        dropped=tuple(dropped),
        importance=tuple(importance),
        leaks=tuple(leaks),
        covering_90=_covering(importance, 0.9),
        warnings=tuple(warnings),
        rare_kept=tuple(rare_kept),
    )


def _prepared(
    frame: pd.DataFrame, target: str, label_time: str | None, max_rows: int, seed: int
) -> tuple[pd.DataFrame, list[str]]:
    for column in [target, *([label_time] if label_time else [])]:
        if column not in frame.columns:
            raise missing_column_error(column, list(frame.columns), "feature table")
    warnings = []
    missing = int(frame[target].isna().sum())
    if missing:
        warnings.append(f"{missing} row(s) without a target value were left out")
        frame = frame[frame[target].notna()]
    if frame[target].nunique() < 2:
        raise DataError("the target has fewer than two values", column=target)
    if len(frame) > max_rows:
        warnings.append(f"model-based steps used a random {max_rows:,} of {len(frame):,} rows")
        frame = frame.sample(max_rows, random_state=seed)
    return frame.reset_index(drop=True), warnings


def _holdout(y: pd.Series, task: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and held-out rows, split once for every step that needs them."""
    try:
        return holdout_rows(y, task, seed)
    except ValueError as exc:  # too few rows of a class to stratify 75/25
        counts = ", ".join(f"{plain_value(k)}: {v}" for k, v in y.value_counts().items())
        raise DataError(
            "too few rows per class to hold out 25% of the rows stratified by class",
            column=y.name if isinstance(y.name, str) else None,
            found=counts,
            expected="at least 2 rows of every class, and as many held-out rows as classes",
        ) from exc


def _drop(feature: str, reason: str, evidence: str) -> dict[str, Any]:
    return {"feature": feature, "reason": reason, "evidence": evidence}


def _filters(
    frame: pd.DataFrame,
    target: str,
    columns: list[str],
    task: str,
    train: np.ndarray,
    null_limit: float,
    nzv_alpha: float,
    dropped: list[dict[str, Any]],
    seed: int,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns that pass the filters (rules 1-3), and the near-zero-variance ones kept
    for their association with the target (tested on the ``train`` rows)."""
    kept, flagged = [], {}
    for c in columns:
        reason = _filter_reason(frame[c], null_limit)
        if reason and reason[0] == "near-zero variance":
            flagged[c] = reason[1]
        elif reason:
            dropped.append(_drop(c, *reason))
        if not reason or c in flagged:
            kept.append(c)
    tests = associations(frame.iloc[train], target, list(flagged), task, seed)
    tested = sum(1 for a in tests if a.p_value == a.p_value)
    rare_kept = []
    for a in tests:
        evidence = f"{flagged[a.feature]}; {a.text(tested)}"
        if a.significant(nzv_alpha):
            rare_kept.append(_rare_row(a, evidence))
        else:
            kept.remove(a.feature)
            dropped.append(_drop(a.feature, "near-zero variance", evidence))
    return kept, rare_kept


def _rare_row(a: Association, evidence: str) -> dict[str, Any]:
    return {
        "feature": a.feature,
        "p_adjusted": a.p_adjusted,
        "p_value": a.p_value,
        "test": a.test,
        "evidence": evidence,
    }


def _filter_reason(x: pd.Series, null_limit: float) -> tuple[str, str] | None:
    """The first of rules 1-3 that ``x`` breaks, with its figures; a near-zero-variance
    column is only a candidate here (its association with the target is tested later)."""
    share = float(x.isna().mean())
    if share > null_limit:
        return "null-heavy", f"{share:.1%} missing (limit {null_limit:.0%})"
    counts = x.value_counts()
    if len(counts) <= 1:
        value = f"one value: {plain_value(counts.index[0])}" if len(counts) else "no values"
        return "constant", f"{value} ({share:.1%} missing)"
    rare = near_zero(x)
    if rare is not None:
        return "near-zero variance", rare.text()
    text = not (pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x))
    if text and not pd.api.types.is_datetime64_any_dtype(x):
        if len(counts) == x.notna().sum():
            return "ID-like", f"a distinct value in each of {len(counts):,} rows"
        if len(counts) > MAX_LEVELS:
            return "high-cardinality text", f"{len(counts):,} levels (encode it first)"
    return None


def _decorrelate(
    frame: pd.DataFrame,
    target: str,
    columns: list[str],
    limit: float,
    dropped: list[dict[str, Any]],
) -> list[str]:
    numeric = [
        c
        for c in columns
        if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    values = frame[numeric].astype(float)
    corr = values.corr().abs()
    y = pd.Series(encode(frame[target]), index=frame.index)
    with_target = {c: float(v) for c, v in values.corrwith(y).abs().fillna(0.0).items()}
    gone: set[str] = set()
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            r = float(corr.loc[a, b])  # type: ignore[arg-type]
            if a in gone or b in gone or not r > limit:
                continue
            loser, winner = (a, b) if with_target[a] < with_target[b] else (b, a)
            gone.add(loser)
            evidence = (
                f"|r| = {r:.3f} with {winner!r}, which is as or more related "
                f"to the target (|r| {with_target[winner]:.3f} vs {with_target[loser]:.3f})"
            )
            dropped.append(_drop(loser, f"correlated above {limit}", evidence))
    return [c for c in columns if c not in gone]


def _importance(
    frame: pd.DataFrame,
    target: str,
    columns: list[str],
    task: str,
    repeats: int,
    seed: int,
    dropped: list[dict[str, Any]],
    shap: bool = False,
    split: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Permutation importance and RFECV on the remaining features; drop the unimportant."""
    if not columns:
        return [], []

    scores = model_importance(
        frame, target, columns, task, repeats, seed, with_shap=shap, rows=split
    )
    keep: list[str] = []
    rows: list[dict[str, Any]] = []
    for c in columns:
        mean, std, rfe, shap_value = scores[c]
        if mean - 2 * std <= 0 and not rfe:
            evidence = f"permutation {mean:+.4f} ± {std:.4f}; not kept by RFE"
            dropped.append(_drop(c, "no importance", evidence))
        else:
            keep.append(c)
        row = {"feature": c, "importance": mean, "std": std, "rfe_selected": rfe}
        if shap_value is not None:
            row["mean_abs_shap"] = shap_value
        rows.append(row)
    rows.sort(key=lambda r: -float(r["importance"]))
    total = sum(max(float(r["importance"]), 0.0) for r in rows)
    running = 0.0
    for r in rows:
        running += max(float(r["importance"]), 0.0)
        r["cumulative_share"] = running / total if total > 0 else None
    return rows, keep


def _covering(rows: list[dict[str, Any]], share: float) -> int:
    for i, r in enumerate(rows, start=1):
        if r["cumulative_share"] is not None and r["cumulative_share"] >= share - 1e-12:
            return i
    return len(rows)
