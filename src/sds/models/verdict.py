"""Noise-aware verdicts: a criterion decided on an interval, not on its point estimate.

A criterion passes when its figure lies in a region (``lower <= figure <= upper``, either
bound open-ended). Decided at a one-sided level ``alpha`` as in an equivalence (TOST)
test, on the two-sided ``1 - 2 * alpha`` interval (90% at the default 0.05):

- ``fail`` when the interval lies wholly outside the region (the evidence says the
  criterion is broken);
- ``pass`` when the interval lies wholly inside it;
- ``not enough data`` otherwise, with about how many test rows would make the interval
  decisive: ``rows * (half_width / |estimate - boundary|) ** 2`` for each boundary the
  interval reaches (the half-width on that boundary's side; intervals shrink as
  ``1 / sqrt(rows)``), the largest of them; none when the estimate sits on a boundary,
  where no sample size decides.

The seed's plain rule (the figure itself against the threshold) stays beside the verdict.
"""

from __future__ import annotations

import math
from typing import Literal

from scipy import stats

Verdict = Literal["pass", "fail", "not enough data"]
PASS: Verdict = "pass"
FAIL: Verdict = "fail"
UNDECIDED: Verdict = "not enough data"
VERDICTS: tuple[Verdict, ...] = (PASS, FAIL, UNDECIDED)
_RANK = {PASS: 0, UNDECIDED: 1, FAIL: 2}


def z_one_sided(alpha: float) -> float:
    """The normal quantile of a one-sided test at ``alpha`` (1.645 at 0.05): the half-width
    factor of the two-sided ``1 - 2 * alpha`` interval."""
    return float(stats.norm.isf(alpha))


def decide(
    low: float | None,
    high: float | None,
    lower: float | None = None,
    upper: float | None = None,
) -> Verdict:
    """The verdict of the interval ``[low, high]`` against the passing region
    ``[lower, upper]``; ``not enough data`` when there is no interval."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return UNDECIDED
    if (upper is not None and low > upper) or (lower is not None and high < lower):
        return FAIL
    if (upper is None or high <= upper) and (lower is None or low >= lower):
        return PASS
    return UNDECIDED


def rows_needed(
    estimate: float,
    low: float,
    high: float,
    rows: int,
    lower: float | None = None,
    upper: float | None = None,
) -> int | None:
    """About how many rows would make an undecided interval decisive (see the module
    docstring); None when the estimate sits on a boundary the interval reaches."""
    needed = 0.0
    for bound in (lower, upper):
        if bound is None or not low <= bound <= high:
            continue
        distance = abs(estimate - bound)
        if distance == 0:
            return None
        half = high - estimate if bound > estimate else estimate - low
        needed = max(needed, rows * (half / distance) ** 2)
    return math.ceil(needed) if needed else None


def worse(*verdicts: Verdict) -> Verdict:
    """The worst of several verdicts: fail, then not enough data, then pass."""
    return max(verdicts, key=_RANK.__getitem__)
