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
from typing import Any

from sds.experiments.sequential import boundaries


def group_sequential(
    looks_data: list[dict[str, Any]],
    *,
    planned_units: int,
    looks: int,
    spending: str,
    alpha: float,
) -> dict[str, Any]:
    """``looks_data``: per day (in order) ``date``, ``units`` (cumulative) and ``z``."""
    planned = [k / looks for k in range(1, looks + 1)]
    happened: list[dict[str, Any]] = []
    for k, target in enumerate(planned, start=1):
        day = next((d for d in looks_data if d["units"] >= target * planned_units - 0.5), None)
        if day is None:
            break
        happened.append({"look": k, "date": day["date"], "units": day["units"], "z": day["z"]})
    current = looks_data[-1]
    fraction_now = current["units"] / planned_units
    out: dict[str, Any] = {
        "method": f"group sequential, {looks} looks, {spending} spending",
        "planned_units": planned_units,
        "information_fraction": fraction_now,
    }
    if not happened:
        out.update(
            looks=[], stop=False, final=False, next_look_units=math.ceil(planned[0] * planned_units)
        )
        return out
    fractions = [min(h["units"] / planned_units, 1.0) for h in happened]
    fractions = _strictly_increasing(fractions)
    bounds = _boundaries(tuple(fractions), alpha, spending)
    stop = False
    for h, t, b in zip(happened, fractions, bounds, strict=True):
        h.update(information_fraction=t, boundary=b, crossed=abs(h["z"]) >= b)
        stop = stop or h["crossed"]
    final = len(happened) == looks
    next_units = None if final else math.ceil(planned[len(happened)] * planned_units)
    out.update(looks=happened, stop=stop, final=final, next_look_units=next_units)
    return out


@functools.lru_cache(maxsize=256)
def _boundaries(fractions: tuple[float, ...], alpha: float, spending: str) -> list[float]:
    """Boundaries depend only on the fractions: cached, since every arm and day repeats them."""
    return boundaries(list(fractions), alpha=alpha, spending=spending)


def _strictly_increasing(fractions: list[float]) -> list[float]:
    out: list[float] = []
    for t in fractions:
        out.append(t if not out or t > out[-1] else out[-1] + 1e-6)
    return out


def msprt(looks_data: list[dict[str, Any]], *, tau: float, alpha: float) -> dict[str, Any]:
    """``looks_data``: per day ``date``, ``effect`` and ``se`` of the cumulative estimate."""
    p_running = 1.0
    rows = []
    for d in looks_data:
        v = d["se"] ** 2
        if not v > 0:
            continue
        log_ratio = 0.5 * math.log(v / (v + tau**2)) + d["effect"] ** 2 * tau**2 / (
            2 * v * (v + tau**2)
        )
        p_running = min(p_running, math.exp(-log_ratio) if log_ratio > 0 else 1.0)
        half = math.sqrt(
            v * (v + tau**2) / tau**2 * (math.log((v + tau**2) / v) + 2 * math.log(1 / alpha))
        )
        rows.append(
            {
                "date": d["date"],
                "effect": d["effect"],
                "always_valid_p": p_running,
                "cs_lower": d["effect"] - half,
                "cs_upper": d["effect"] + half,
            }
        )
    stop = bool(rows) and rows[-1]["always_valid_p"] < alpha
    return {
        "method": f"mSPRT, normal mixture tau = {tau:.4g}",
        "tau": tau,
        "looks": rows,
        "always_valid_p": rows[-1]["always_valid_p"] if rows else 1.0,
        "stop": stop,
        "final": False,
    }
