"""Fairness across protected groups, computed by fairlearn, each criterion decided on its
interval.

Per group of each protected column: rows, selection rate, TPR, FPR (at the decision
threshold) and AUC (when the group holds both outcomes); then the demographic-parity
difference (largest gap in selection rate between groups) and the equalized-odds
difference (the larger of the largest TPR gap and the largest FPR gap), and the
demographic-parity ratio (lowest selection rate over the highest).

Three criteria per column, decided at a one-sided ``alpha`` on ``1 - 2 * alpha`` intervals
(:mod:`sds.models.verdict`), so a small group's noise is not read as unfairness:

- demographic parity: the pair of groups with the highest and lowest selection rate, the
  interval of their difference from the one two-proportion core
  (:func:`sds.stats.proportions.compare_proportions`: Wald, or Newcombe on small counts);
  fail when it lies wholly above ``limit`` (default 0.10), pass when wholly below;
- equalized odds: likewise for the largest TPR gap and the largest FPR gap (groups with
  positives, resp. negatives); the worse verdict of the two, shown with its gap;
- selection-rate ratio (the four-fifths rule of US employment practice, ``ratio_min``
  0.8): lowest over highest rate with the log-scale (Katz) interval of
  :func:`sds.stats.proportions.relative_proportions`; fail when it lies wholly below
  ``ratio_min``. A group that selects nobody leaves the ratio without an interval: ``not
  enough data`` there, while the difference still decides.

A failed criterion gives a warning: the model treats the groups differently, whether or
not the protected column is a feature (a proxy such as region is enough). The pair is the
one the data show furthest apart; with many groups, that choice is itself noisy.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import pandas as pd

from sds.models.records import Criterion
from sds.models.verdict import FAIL, UNDECIDED, Verdict, decide, rows_needed, worse
from sds.stats.estimate import Estimate
from sds.stats.proportions import compare_proportions, relative_proportions


def fairness(
    y: Any,
    p: Any,
    threshold: float,
    groups: pd.DataFrame,
    limit: float = 0.10,
    ratio_min: float = 0.8,
    alpha: float = 0.05,
) -> list[dict[str, Any]]:
    """One entry per protected column: per-group table, the two differences and the
    ratio, the three criteria decided on their intervals, a warning for a failed one."""
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    decided = (p >= threshold).astype(int)
    out = []
    for column in groups.columns:
        sensitive = groups[column].astype("string").fillna("(missing)").to_numpy()
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "count": lambda t, _: len(t),
            },
            y_true=y,
            y_pred=decided,
            sensitive_features=sensitive,
        )
        table = frame.by_group.reset_index().rename(columns={"sensitive_feature_0": "group"})
        table["auc"] = [_group_auc(y, p, sensitive == g) for g in table["group"]]
        # fairlearn's demographic_parity_difference / _ratio and equalized_odds_difference
        # are these, each computed on a new frame
        between = frame.difference(method="between_groups")
        dp = float(between["selection_rate"])
        eo = float(max(between["tpr"], between["fpr"]))
        ratio = float(frame.ratio(method="between_groups")["selection_rate"])
        criteria = fairness_criteria(y, decided, sensitive, column, limit, ratio_min, alpha)
        out.append(
            {
                "column": column,
                "groups": table.to_dict("records"),
                "demographic_parity_difference": dp,
                "equalized_odds_difference": eo,
                "demographic_parity_ratio": ratio,
                "limit": limit,
                "ratio_min": ratio_min,
                "warning": _warning(column, criteria, alpha),
                "criteria": [c.to_dict() for c in criteria],
            }
        )
    return out


def fairness_criteria(
    y: Any,
    decided: Any,
    sensitive: Any,
    column: str = "group",
    limit: float = 0.10,
    ratio_min: float = 0.8,
    alpha: float = 0.05,
) -> list[Criterion]:
    """The three criteria of one protected column from the outcomes (0/1), the decisions
    (0/1) and each row's group: demographic parity, equalized odds and the selection-rate
    ratio, each decided on its ``1 - 2 * alpha`` interval (see the module docstring)."""
    counts = _counts(np.asarray(y, dtype=int), np.asarray(decided, dtype=int), sensitive)
    rows = int(counts["rows"].sum())
    parity = _gap(counts["selected"], counts["rows"], alpha)
    name = f"fairness by {column} (demographic-parity difference)"
    return [
        _difference(name, parity, rows, limit, parity.estimate if parity else None),
        _odds(column, counts, rows, limit, alpha),
        _ratio(column, counts, rows, ratio_min, alpha),
    ]


def _counts(y: np.ndarray, decided: np.ndarray, sensitive: Any) -> dict[str, np.ndarray]:
    """Per group: rows and selected; positives and true positives; negatives and false
    positives."""
    _, group = np.unique(np.asarray(sensitive, dtype=object).astype(str), return_inverse=True)

    def total(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(group, weights=weights).astype(int)

    rows, positives = total(), total(y)
    return {
        "rows": rows,
        "selected": total(decided),
        "positives": positives,
        "true_positives": total(decided * y),
        "negatives": rows - positives,
        "false_positives": total(decided * (1 - y)),
    }


def _extremes(hits: np.ndarray, totals: np.ndarray) -> tuple[int, int, int, int] | None:
    """(hits, total) of the group with the highest rate, then of the one with the lowest,
    among the groups with a non-zero total; None with fewer than two such groups."""
    usable = totals > 0
    if usable.sum() < 2:
        return None
    hits, totals = hits[usable], totals[usable]
    rate = hits / totals
    high, low = int(np.argmax(rate)), int(np.argmin(rate))
    if high == low:  # every rate equal: any two groups
        low = 1 if high == 0 else 0
    return int(hits[high]), int(totals[high]), int(hits[low]), int(totals[low])


def _gap(hits: np.ndarray, totals: np.ndarray, alpha: float) -> Estimate | None:
    """Highest minus lowest rate with its ``1 - 2 * alpha`` interval."""
    pair = _extremes(hits, totals)
    if pair is None:
        return None
    return compare_proportions(*pair, alpha=2 * alpha, contrast="highest - lowest rate")


def _difference(
    name: str, found: Estimate | None, rows: int, limit: float, plain_value: float | None
) -> Criterion:
    """A difference at most ``limit`` passes; no interval (fewer than two groups to
    compare) is ``not enough data``."""
    value = found.estimate if found and found.estimate is not None else None
    low, high = (found.ci_lower, found.ci_upper) if found else (None, None)
    verdict = decide(low, high, None, limit)
    needed = None
    if verdict == UNDECIDED and value is not None and low is not None and high is not None:
        needed = rows_needed(value, low, high, rows, None, limit)
    plain = "pass" if plain_value is None or plain_value <= limit else "fail"
    return Criterion(name, value, f"≤ {limit}", verdict != FAIL, low, high, verdict, plain, needed)


def _odds(
    column: str, counts: dict[str, np.ndarray], rows: int, limit: float, alpha: float
) -> Criterion:
    """The TPR gap and the FPR gap judged alike; the worse verdict, shown with its gap
    (of two alike, the one whose interval reaches higher). The plain rule: the larger gap
    (the equalized-odds difference) at most ``limit``."""
    found = {
        "TPR": _gap(counts["true_positives"], counts["positives"], alpha),
        "FPR": _gap(counts["false_positives"], counts["negatives"], alpha),
    }
    gaps = [f.estimate for f in found.values() if f is not None and f.estimate is not None]
    eo = max(gaps) if gaps else None
    parts = [
        _difference(
            f"fairness by {column} (equalized-odds difference: {rate} gap)", f, rows, limit, eo
        )
        for rate, f in found.items()
    ]
    verdict = worse(*(cast(Verdict, p.verdict) for p in parts))
    return max(
        (p for p in parts if p.verdict == verdict),
        key=lambda p: -math.inf if p.ci_upper is None else p.ci_upper,
    )


def _ratio(
    column: str, counts: dict[str, np.ndarray], rows: int, ratio_min: float, alpha: float
) -> Criterion:
    """Lowest over highest selection rate, with the Katz log-scale interval; none when the
    lowest group selects nobody (or no group anybody)."""
    pair = _extremes(counts["selected"], counts["rows"])
    value = low = high = None
    if pair is not None and pair[0] > 0:
        x_high, n_high, x_low, n_low = pair
        found = relative_proportions(x_low, n_low, x_high, n_high, alpha=2 * alpha)
        value = (x_low / n_low) / (x_high / n_high)
        if found.ci_lower is not None and found.ci_upper is not None:
            low, high = found.ci_lower + 1, found.ci_upper + 1
    verdict = decide(low, high, ratio_min, None)
    needed = None
    if verdict == UNDECIDED and value is not None and low is not None and high is not None:
        needed = rows_needed(value, low, high, rows, ratio_min, None)
    plain = "pass" if value is None or value >= ratio_min else "fail"
    return Criterion(
        f"fairness by {column} (selection-rate ratio)",
        value,
        f"≥ {ratio_min}",
        verdict != FAIL,
        low,
        high,
        verdict,
        plain,
        needed,
    )


def _warning(column: str, criteria: list[Criterion], alpha: float) -> str | None:
    """The failed criteria (their intervals lie wholly on the wrong side), in words."""
    found = []
    for c in criteria:
        if c.verdict != FAIL or c.ci_lower is None or c.ci_upper is None:
            continue
        value = float(c.value or 0.0)
        interval = f"{1 - 2 * alpha:.0%} interval {c.ci_lower:.3f} to {c.ci_upper:.3f}"
        if c.criterion.endswith("(selection-rate ratio)"):
            found.append(
                f"the lowest selection rate is {value:.0%} of the highest ({interval}; at "
                f"least {c.threshold.removeprefix('≥ ')} expected)"
            )
        else:
            what = c.criterion.split("(", 1)[1].rstrip(")")
            found.append(f"{what} {value:.3f} ({interval}; limit {c.threshold[2:]})")
    return f"{column}: " + "; ".join(found) if found else None


def _group_auc(y: np.ndarray, p: np.ndarray, inside: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y[inside])) < 2:
        return None
    return float(roc_auc_score(y[inside], p[inside]))
