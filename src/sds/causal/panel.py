"""Panel checks shared by the difference-in-differences estimators.

A panel is rows of (unit, time). Before any DiD: each pair appears once; the treatment is
absorbing (once on, it stays on); each unit's adoption time (cohort) is known; units treated
from the first period, units with gaps inside their span and a treatment that never varies
are found and named.
"""

from __future__ import annotations

import warnings as pywarnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sds.errors import DataError


@dataclass(frozen=True)
class Panel:
    frame: pd.DataFrame  # sorted by unit and time; with ``_cohort`` (adoption time or NaN)
    periods: list[float]  # every period in the data, sorted
    cohorts: list[float]  # distinct adoption times
    always_treated: int  # units treated in their first observed period
    gaps: int  # units missing a period inside their own span
    warnings: tuple[str, ...]
    unit_codes: np.ndarray  # per row of ``frame``: the unit's number, 0..units-1
    period_index: np.ndarray  # per row: the period's position in ``periods``

    @property
    def staggered(self) -> bool:
        return len(self.cohorts) > 1


def check_panel(frame: pd.DataFrame, unit: str, time: str, treatment: str, source: str) -> Panel:
    """Sort, check and describe a unit-by-time panel with a 0/1 treatment column."""
    if not pd.api.types.is_numeric_dtype(frame[time]):
        try:
            with pywarnings.catch_warnings():  # pandas' format guess: its error says it all
                pywarnings.simplefilter("ignore", UserWarning)
                dates = pd.to_datetime(frame[time])
            frame = frame.assign(**{time: dates.map(pd.Timestamp.toordinal)})
        except (ValueError, TypeError) as exc:
            raise DataError(
                "the time column must be numeric or dates", source=source, column=time,
                found=f"{frame[time].dtype} values such as {frame[time].iloc[0]!r}",
            ) from exc  # fmt: skip
    codes, units = pd.factorize(frame[unit])
    periods_arr = np.sort(pd.unique(frame[time].to_numpy()))
    pos = np.searchsorted(periods_arr, frame[time].to_numpy())
    key = codes.astype(np.int64) * len(periods_arr) + pos
    if not (np.diff(key) > 0).all():  # sort only when not already unique and in order
        order = np.argsort(key, kind="stable")
        frame, codes, pos, key = (frame.iloc[order].reset_index(drop=True), codes[order],
                                  pos[order], key[order])  # fmt: skip
    else:
        frame = frame.reset_index(drop=True)
    dupes = np.r_[False, np.diff(key) == 0]
    if dupes.any():
        row = _first(frame, dupes, unit, time)
        raise DataError(
            "each unit must appear once per period",
            source=source,
            found=f"{int(dupes.sum()):,} repeated (unit, time) pairs, e.g. "
            f"{unit}={plain(row[unit])!r}, {time}={plain(row[time])!r}",
            hint="Aggregate to one row per unit and period first.",
        )
    d = frame[treatment].to_numpy()
    same_unit = np.r_[False, codes[1:] == codes[:-1]]
    reversed_ = same_unit & (np.r_[0, np.diff(d)] < 0)
    if reversed_.any():
        row = _first(frame, reversed_, unit, time)
        raise DataError(
            "the treatment switches off again for some units; these estimators need a "
            "treatment that stays on once it starts (staggered adoption)",
            source=source,
            column=treatment,
            found=f"{len(np.unique(codes[reversed_])):,} unit(s), e.g. {unit}="
            f"{plain(row[unit])!r} untreated again at {time}={plain(row[time])!r}",
            hint="Define treatment as 'ever treated so far', or analyse each episode.",
        )
    n_units = len(units)
    big = len(periods_arr)
    first_on = np.full(n_units, big)
    np.minimum.at(first_on, codes[d == 1], pos[d == 1])
    first_seen = np.full(n_units, big)
    np.minimum.at(first_seen, codes, pos)
    last_seen = np.zeros(n_units, dtype=np.int64)
    np.maximum.at(last_seen, codes, pos)
    treated = first_on < big
    cohort_pos = first_on[codes]
    frame["_cohort"] = np.where(cohort_pos < big, periods_arr[np.minimum(cohort_pos, big - 1)],
                                np.nan).astype(float)  # fmt: skip
    always = int((treated & (first_on == first_seen)).sum())
    gaps = int((last_seen - first_seen + 1 > np.bincount(codes, minlength=n_units)).sum())
    cohorts = sorted(float(periods_arr[p]) for p in np.unique(first_on[treated]))
    warnings = _warnings(n_units, int(treated.sum()), always, gaps, cohorts, treatment, source)
    return Panel(frame, periods_arr.tolist(), cohorts, always, gaps, tuple(warnings), codes, pos)


def _first(frame: pd.DataFrame, mask: np.ndarray, unit: str, time: str) -> dict[str, object]:
    """The unit and time of the first flagged row, each in its own column's type."""
    i = int(np.flatnonzero(mask)[0])
    return {unit: frame.at[i, unit], time: frame.at[i, time]}


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, for messages."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _warnings(
    n_units: int,
    treated_units: int,
    always: int,
    gaps: int,
    cohorts: list[float],
    treatment: str,
    source: str,
) -> list[str]:
    if treated_units == 0 or (treated_units == n_units and always == n_units):
        raise DataError(
            "the treatment gives no comparison: "
            + ("no unit is ever treated" if treated_units == 0 else "every unit is always treated"),
            source=source,
            column=treatment,
            hint="DiD compares units whose treatment changes with units whose does not.",
        )
    out = []
    if gaps:
        out.append(
            f"unbalanced panel with gaps: {gaps:,} of {n_units:,} units miss periods inside "
            "their own span; the estimate uses whatever rows exist, so the units behind each "
            "period differ. Check why rows are missing."
        )
    if always:
        out.append(
            f"{always:,} unit(s) are treated from their first observed period: they have no "
            "before-period and identify nothing but fixed effects"
        )
    if len(cohorts) > 1:
        out.append(
            f"staggered adoption: treatment starts at {len(cohorts)} different times. "
            "Plain TWFE then compares later adopters with earlier ones and is "
            "biased when effects change over time (Goodman-Bacon 2021); use the "
            "Callaway-Sant'Anna estimator (sds causal staggered)."
        )
    return out


def twfe_weights(frame: pd.DataFrame, unit: str, time: str, treatment: str) -> np.ndarray:
    """De Chaisemartin & D'Haultfoeuille (2020): the weight TWFE puts on each treated
    row's effect is proportional to the residual of the treatment on unit and time
    effects; treated rows with a negative residual enter with a negative weight."""
    from pyfixest.estimation import demean

    codes = np.column_stack([pd.factorize(frame[unit])[0], pd.factorize(frame[time])[0]]).astype(
        np.uint64
    )
    d = frame[[treatment]].to_numpy(np.float64)
    resid, _ = demean(d, codes, np.ones(len(frame)))
    treated = frame[treatment].to_numpy() == 1
    w = resid[treated, 0]
    return np.asarray(w / w.sum())
