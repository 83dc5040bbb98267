"""Interim analyses that survive peeking.

- ``group``: the design's Lan-DeMets boundaries (:mod:`sds.experiments.sequential`)
  recomputed at the information fractions actually reached. A planned look k happens on
  the first day the cumulative units reach k/K of ``planned_units``; its z-statistic comes
  from the cumulative aggregates up to that day. Stopping is allowed once a z crosses its
  boundary; otherwise the experiment runs to the last look.
- ``msprt``: the mixture sequential probability ratio test with a normal mixing
  distribution N(0, tau^2) on the effect (Robbins 1970; Johari et al. 2017). With the
  effect estimate d and its variance v at each daily look, the likelihood ratio is
  sqrt(v / (v + tau^2)) exp(d^2 tau^2 / (2 v (v + tau^2))); the always-valid p-value is
  the running minimum of 1 / ratio, and the confidence sequence is
  d +- sqrt(v (v + tau^2) / tau^2 * (log((v + tau^2) / v) + 2 log(1 / alpha))).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from sds.experiments.analysis.timeline_records import (
    CumulativeLook,
    GroupLook,
    GroupSequential,
    Msprt,
    MsprtLook,
)
from sds.experiments.sequential import boundaries


def group_sequential(
    looks_data: Sequence[CumulativeLook],
    *,
    planned_units: int,
    looks: int,
    spending: str,
    alpha: float,
) -> GroupSequential:
    """``looks_data``: per day, in order, the cumulative ``units`` and ``z``."""
    planned = [k / looks for k in range(1, looks + 1)]
    happened: list[CumulativeLook] = []
    for target in planned:
        day = next((d for d in looks_data if d.units >= target * planned_units - 0.5), None)
        if day is None:
            break
        happened.append(day)
    method = f"group sequential, {looks} looks, {spending} spending"
    fraction_now = looks_data[-1].units / planned_units
    if not happened:
        first = math.ceil(planned[0] * planned_units)
        return GroupSequential(method, planned_units, fraction_now, (), False, False, first)
    fractions = [min(h.units / planned_units, 1.0) for h in happened]
    fractions = _strictly_increasing(fractions)
    bounds = _boundaries(tuple(fractions), alpha, spending)
    done = tuple(
        # a z that is not a number (no variance yet) crosses nothing
        GroupLook(k, h.date, h.units, h.z, t, b, h.z is not None and abs(h.z) >= b)
        for k, (h, t, b) in enumerate(zip(happened, fractions, bounds, strict=True), start=1)
    )
    final = len(happened) == looks
    next_units = None if final else math.ceil(planned[len(happened)] * planned_units)
    stop = any(look.crossed for look in done)
    return GroupSequential(method, planned_units, fraction_now, done, stop, final, next_units)


@functools.lru_cache(maxsize=256)
def _boundaries(fractions: tuple[float, ...], alpha: float, spending: str) -> list[float]:
    """Boundaries depend only on the fractions: cached, since every arm and day repeats them."""
    return boundaries(list(fractions), alpha=alpha, spending=spending)


def _strictly_increasing(fractions: list[float]) -> list[float]:
    out: list[float] = []
    for t in fractions:
        out.append(t if not out or t > out[-1] else out[-1] + 1e-6)
    return out


def msprt(looks_data: Sequence[CumulativeLook], *, tau: float, alpha: float) -> Msprt:
    """``looks_data``: per day the cumulative ``effect`` and its standard error ``se``."""
    p_running = 1.0
    rows = []
    for d in looks_data:
        if d.se is None or d.effect is None or not d.se**2 > 0:
            continue
        v = d.se**2
        log_ratio = 0.5 * math.log(v / (v + tau**2)) + d.effect**2 * tau**2 / (2 * v * (v + tau**2))
        p_running = min(p_running, math.exp(-log_ratio) if log_ratio > 0 else 1.0)
        half = math.sqrt(
            v * (v + tau**2) / tau**2 * (math.log((v + tau**2) / v) + 2 * math.log(1 / alpha))
        )
        rows.append(MsprtLook(d.date, d.effect, p_running, d.effect - half, d.effect + half))
    stop = bool(rows) and rows[-1].always_valid_p < alpha
    return Msprt(
        method=f"mSPRT, normal mixture tau = {tau:.4g}",
        tau=tau,
        looks=tuple(rows),
        always_valid_p=rows[-1].always_valid_p if rows else 1.0,
        stop=stop,
    )
