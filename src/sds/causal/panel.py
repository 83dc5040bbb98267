"""Panel checks shared by the difference-in-differences estimators.

A panel is rows of (unit, time). Before any DiD: each pair appears once; the treatment is
absorbing (once on, it stays on); each unit's adoption time (cohort) is known; units treated
from the first period, units with gaps inside their span and a treatment that never varies
are found and named.
"""

from __future__ import annotations

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

    @property
    def staggered(self) -> bool:
        return len(self.cohorts) > 1


def check_panel(frame: pd.DataFrame, unit: str, time: str, treatment: str, source: str) -> Panel:
    """Sort, check and describe a unit-by-time panel with a 0/1 treatment column."""
    if not pd.api.types.is_numeric_dtype(frame[time]):
        try:
            frame = frame.assign(**{time: pd.to_datetime(frame[time]).map(pd.Timestamp.toordinal)})
        except (ValueError, TypeError) as exc:
            raise DataError(
                "the time column must be numeric or dates", source=source, column=time,
                found=f"{frame[time].dtype} values such as {frame[time].iloc[0]!r}",
            ) from exc  # fmt: skip
    frame = frame.sort_values([unit, time], kind="stable").reset_index(drop=True)
    dupes = frame.duplicated([unit, time])
    if dupes.any():
        row = _first(frame, dupes, unit, time)
        raise DataError(
            "each unit must appear once per period",
            source=source,
            found=f"{int(dupes.sum()):,} repeated (unit, time) pairs, e.g. "
            f"{unit}={_plain(row[unit])!r}, {time}={_plain(row[time])!r}",
            hint="Aggregate to one row per unit and period first.",
        )
    d = frame[treatment]
    reversed_ = (frame.groupby(unit, sort=False)[treatment].diff() < 0) & d.eq(0)
    if reversed_.any():
        row = _first(frame, reversed_, unit, time)
        raise DataError(
            "the treatment switches off again for some units; these estimators need a "
            "treatment that stays on once it starts (staggered adoption)",
            source=source,
            column=treatment,
            found=f"{frame.loc[reversed_, unit].nunique():,} unit(s), e.g. {unit}="
            f"{_plain(row[unit])!r} untreated again at {time}={_plain(row[time])!r}",
            hint="Define treatment as 'ever treated so far', or analyse each episode.",
        )
    first_on = frame[d.eq(1)].groupby(unit)[time].min()
    frame["_cohort"] = frame[unit].map(first_on).astype(float)
    periods = sorted(frame[time].unique().tolist())
    start = frame.groupby(unit)[time].transform("min")
    always = int(frame.loc[frame["_cohort"].eq(start), unit].nunique())
    gaps = _gaps(frame, unit, time, periods)
    cohorts = sorted(first_on.unique().tolist())
    warnings = _warnings(frame, unit, treatment, always, gaps, cohorts, source)
    return Panel(frame, periods, cohorts, always, gaps, tuple(warnings))


def _first(frame: pd.DataFrame, mask: pd.Series, unit: str, time: str) -> dict[str, object]:
    """The unit and time of the first flagged row, each in its own column's type."""
    i = mask[mask].index[0]
    return {unit: frame.at[i, unit], time: frame.at[i, time]}


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, for messages."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _gaps(frame: pd.DataFrame, unit: str, time: str, periods: list[float]) -> int:
    position = frame[time].map({p: i for i, p in enumerate(periods)})
    span = position.groupby(frame[unit]).agg(["min", "max", "count"])
    return int((span["max"] - span["min"] + 1 > span["count"]).sum())


def _warnings(
    frame: pd.DataFrame,
    unit: str,
    treatment: str,
    always: int,
    gaps: int,
    cohorts: list[float],
    source: str,
) -> list[str]:
    n_units = frame[unit].nunique()
    treated_units = frame.loc[frame[treatment].eq(1), unit].nunique()
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
