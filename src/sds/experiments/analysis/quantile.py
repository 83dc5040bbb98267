"""Difference of quantiles between arms by the bootstrap.

Resampling n values with replacement is the same as drawing multinomial counts over the
distinct values, so for data with few distinct values (counts, prices, rounded revenue) each
resample costs O(distinct values), not O(n); the quantile of a resample is read from
cumulative counts with numpy's default ("linear") definition. Small
samples can ask for BCa (scipy.stats.bootstrap); large ones use percentile intervals, since
BCa's jackknife costs O(n^2).

A quantile on or next to a point mass (p90 of revenue where 90% of units spend nothing) is
flagged: resamples flip between the tied value and the values beside it, so the interval
and p-value describe that flip, not a shift of the distribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sds.experiments.analysis.records import CONTRAST, Comparison, RelativeEffect
from sds.stats.estimate import Estimate

BCA_MAX_N = 20_000
MASS_SHARE = 0.05  # a value tied on at least this share of an arm's units is a point mass
MASS_MARGIN = 0.02  # ... and q within this many ranks (or 3 sampling SEs) of it is "next to"


def point_mass(x: np.ndarray, q: float) -> tuple[float, float] | None:
    """The tied value holding the largest share of ``x`` among those whose block of ranks
    (from ``share below`` to ``share at or below``) reaches within the margin of ``q``,
    and that share; None when no value ties on ``MASS_SHARE`` of the units there."""
    n = len(x)
    if n == 0:
        return None
    values, counts = np.unique(x, return_counts=True)
    share = counts / n
    upper = np.cumsum(counts) / n
    lower = upper - share
    margin = max(MASS_MARGIN, 3 * float(np.sqrt(q * (1 - q) / n)))
    near = (share >= MASS_SHARE) & (lower - margin <= q) & (q <= upper + margin)
    if not near.any():
        return None
    i = int(np.argmax(np.where(near, share, -1.0)))
    return float(values[i]), float(share[i])


def point_mass_warning(control: np.ndarray, treatment: np.ndarray, q: float) -> str | None:
    """Why the quantile comparison may mislead when either arm's quantile sits on or next
    to a point mass, naming the value and its share per arm; None otherwise."""
    found = {arm: point_mass(x, q) for arm, x in (("control", control), ("treatment", treatment))}
    if not any(found.values()):
        return None
    parts = []
    for arm, x in (("control", control), ("treatment", treatment)):
        mass = found[arm]
        here = f"{arm} q{q:g} = {float(np.quantile(x, q)):.4g}"
        if mass is not None:
            here = f"{mass[1]:.1%} of {arm} units equal {mass[0]:.4g} ({here})"
        parts.append(here)
    tied = next(m for m in found.values() if m is not None)[0]
    return (
        f"the q{q:g} quantile sits on or next to a point mass: {'; '.join(parts)}. Resamples "
        "flip between the tied value and the values beside it, so the effect, interval and "
        f"p-value are unreliable; analyse the mean, a conditional metric (units with a value "
        f"other than {tied:.4g}) or another quantile"
    )


def weighted_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """``np.quantile(np.repeat(values, counts_row), q)`` for each row of ``counts``.

    ``values`` are sorted and distinct; ``counts`` is (resamples, len(values)).
    """
    counts = np.atleast_2d(counts)
    n = counts.sum(axis=1)
    h = (n - 1) * q
    lo = np.floor(h).astype(np.int64)
    frac = h - lo
    cum = np.cumsum(counts, axis=1)
    # one searchsorted over all rows: shift row r by r * (max n + 1) so rows stay sorted
    offset = (np.arange(len(n)) * (int(n.max()) + 1))[:, None]
    flat = (cum + offset).ravel()
    width = cum.shape[1]
    start = np.arange(len(n)) * width
    hi_rank = np.minimum(lo + 1, n - 1)
    idx_lo = np.searchsorted(flat, lo + offset[:, 0], side="right") - start
    idx_hi = np.searchsorted(flat, hi_rank + offset[:, 0], side="right") - start
    out: np.ndarray = values[idx_lo] + frac * (values[idx_hi] - values[idx_lo])
    return out


def _resampled(x: np.ndarray, q: float, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap quantiles of ``x``: multinomial counts over distinct values when there are
    few of them (cost ~ distinct values per resample), plain index resampling otherwise."""
    values, counts = np.unique(x, return_counts=True)
    few_distinct = len(values) * 10 < len(x)
    per_draw = len(values) if few_distinct else len(x)
    out = np.empty(resamples)
    step = max(1, min(resamples, 20_000_000 // max(per_draw, 1)))
    for start in range(0, resamples, step):
        size = min(step, resamples - start)
        if few_distinct:
            draws = rng.multinomial(len(x), counts / len(x), size=size)
            out[start : start + size] = weighted_quantile(values, draws, q)
        else:
            picks = x[rng.integers(0, len(x), size=(size, len(x)))]
            out[start : start + size] = np.quantile(picks, q, axis=1)
    return out


def quantile_effect(
    control: np.ndarray,
    treatment: np.ndarray,
    q: float,
    *,
    alpha: float,
    resamples: int,
    method: str,
    seed: int,
) -> Comparison:
    """Quantile per arm, their difference and ratio with bootstrap intervals."""
    from scipy import stats

    qc, qt = float(np.quantile(control, q)), float(np.quantile(treatment, q))
    small = len(control) + len(treatment) <= BCA_MAX_N
    if method == "bca" and small:

        def diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> Any:
            return np.quantile(a, q, axis=axis) - np.quantile(b, q, axis=axis)

        res = stats.bootstrap(
            (treatment, control),
            diff,
            n_resamples=resamples,
            confidence_level=1 - alpha,
            method="BCa",
            rng=np.random.default_rng(seed),
        )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        se, used = float(res.standard_error), "BCa"
        rel: tuple[float | None, float | None] = (None, None)
    else:
        rng = np.random.default_rng(seed)
        bc = _resampled(control, q, resamples, rng)
        bt = _resampled(treatment, q, resamples, rng)
        d = bt - bc
        low, high = (float(v) for v in np.quantile(d, [alpha / 2, 1 - alpha / 2]))
        se, used = float(np.std(d, ddof=1)), "percentile"
        with np.errstate(divide="ignore", invalid="ignore"):
            r = bt / bc - 1
        finite = np.isfinite(r)
        rel = (None, None)
        if finite.mean() > 0.99 and qc > 0:
            r_low, r_high = np.quantile(r[finite], [alpha / 2, 1 - alpha / 2])
            rel = (float(r_low), float(r_high))
    # bootstrap p-value by test inversion of the normal approximation (reported, not exact)
    z = (qt - qc) / se if se > 0 else float("nan")
    p = float(2 * stats.norm.sf(abs(z))) if se > 0 else 1.0
    method_note = f"bootstrap {used}, {resamples} resamples (seed {seed})"
    if method == "bca" and not small:
        method_note += f"; BCa needs n <= {BCA_MAX_N:,}"
    effect = qt - qc
    estimate = Estimate(effect, se, low, high, p, 1 - alpha, method_note, CONTRAST, z, None)
    finite = all(np.isfinite(v) for v in (effect, low, high, se))
    warning = point_mass_warning(control, treatment, q)
    return Comparison(
        qc,
        qt,
        len(control),
        len(treatment),
        estimate,
        RelativeEffect(qt / qc - 1 if qc else None, rel[0], rel[1]),
        resamples=resamples,
        complete=bool(finite),
        warnings=(warning,) if warning else (),
    )
