"""Typed records of the experiment day by day: the novelty check, the cumulative effect of the
primary metric, the sequential looks and the daily sample-ratio check.

Frozen dataclasses with tuples inside (hashable); ``to_dict()`` gives the report's JSON. A
day is whatever the engine returns for a date (``datetime.date`` or an ISO string); JSON
writes it as ISO text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NoveltyDay:
    """The effect on one day (since exposure, or of one assignment-day cohort)."""

    day: int
    n_control: int
    n_treatment: int
    effect: float | None
    ci_lower: float | None
    ci_upper: float | None
    std_error: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "n_control": self.n_control,
            "n_treatment": self.n_treatment,
            "effect": self.effect,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "std_error": self.std_error,
        }


@dataclass(frozen=True)
class Trend:
    """The weighted least-squares slope of the daily effect and what it means; ``slope`` is
    None when there were too few days to test."""

    pattern: str
    slope: float | None = None
    slope_se: float | None = None
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.slope is None:
            return {"slope": None, "p_value": None, "pattern": self.pattern}
        return {
            "slope": self.slope,
            "slope_se": self.slope_se,
            "p_value": self.p_value,
            "pattern": self.pattern,
        }


@dataclass(frozen=True)
class NoveltyArm:
    """One treatment arm's daily effects and their trend."""

    variant: str
    days: tuple[NoveltyDay, ...]
    trend: Trend

    def to_dict(self) -> dict[str, Any]:
        return {"days": [d.to_dict() for d in self.days], **self.trend.to_dict()}


@dataclass(frozen=True)
class NoveltyCheck:
    """Does the primary metric's effect change with time since exposure? Either the check
    (``checked``: metric, basis, arms) or why it did not run (``reason``)."""

    checked: bool
    reason: str | None = None
    metric: str | None = None
    basis: str | None = None
    arms: tuple[NoveltyArm, ...] = ()

    def arm(self, variant: str) -> NoveltyArm:
        return next(a for a in self.arms if a.variant == variant)

    def to_dict(self) -> dict[str, Any]:
        if not self.checked:
            return {"checked": False, "reason": self.reason}
        return {
            "checked": True,
            "metric": self.metric,
            "basis": self.basis,
            "arms": {a.variant: a.to_dict() for a in self.arms},
        }


@dataclass(frozen=True)
class CumulativeLook:
    """The primary metric's effect on all units assigned up to ``date``; ``units`` counts
    every arm, ``control`` is the control arm's value."""

    date: Any
    units: float
    effect: float | None
    ci_lower: float | None
    ci_upper: float | None
    se: float | None
    z: float | None
    control: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "units": self.units,
            "effect": self.effect,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "se": self.se,
            "z": self.z,
            "control": self.control,
        }


@dataclass(frozen=True)
class CumulativeArm:
    """One treatment arm's cumulative effect, day by day."""

    variant: str
    looks: tuple[CumulativeLook, ...]


@dataclass(frozen=True)
class GroupLook:
    """A planned look of a group-sequential plan that has happened."""

    look: int
    date: Any
    units: float
    z: float | None
    information_fraction: float
    boundary: float
    crossed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "look": self.look,
            "date": self.date,
            "units": self.units,
            "z": self.z,
            "information_fraction": self.information_fraction,
            "boundary": self.boundary,
            "crossed": self.crossed,
        }


@dataclass(frozen=True)
class GroupSequential:
    """Where a group-sequential plan stands: the looks so far, whether a boundary was
    crossed (``stop``), whether the last look has happened (``final``)."""

    method: str
    planned_units: int
    information_fraction: float
    looks: tuple[GroupLook, ...]
    stop: bool
    final: bool
    next_look_units: int | None
    metric: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **({"metric": self.metric} if self.metric is not None else {}),
            "method": self.method,
            "planned_units": self.planned_units,
            "information_fraction": self.information_fraction,
            "looks": [look.to_dict() for look in self.looks],
            "stop": self.stop,
            "final": self.final,
            "next_look_units": self.next_look_units,
        }


@dataclass(frozen=True)
class MsprtLook:
    """One daily look of the mixture SPRT: the always-valid p-value and confidence
    sequence."""

    date: Any
    effect: float | None
    always_valid_p: float
    cs_lower: float
    cs_upper: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "effect": self.effect,
            "always_valid_p": self.always_valid_p,
            "cs_lower": self.cs_lower,
            "cs_upper": self.cs_upper,
        }


@dataclass(frozen=True)
class Msprt:
    """Where an always-valid mixture SPRT stands (it never has a final look)."""

    method: str
    tau: float
    looks: tuple[MsprtLook, ...]
    always_valid_p: float
    stop: bool
    final: bool = False
    metric: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **({"metric": self.metric} if self.metric is not None else {}),
            "method": self.method,
            "tau": self.tau,
            "looks": [look.to_dict() for look in self.looks],
            "always_valid_p": self.always_valid_p,
            "stop": self.stop,
            "final": self.final,
        }


Sequential = GroupSequential | Msprt


@dataclass(frozen=True)
class SequentialArm:
    """The sequential verdict of one treatment arm."""

    variant: str
    plan: Sequential


@dataclass(frozen=True)
class DailyArm:
    """One arm on one day: new units, share minus designed share, and the band chance
    allows at the SRM level."""

    variant: str
    n: int
    share_gap: float
    band: float


@dataclass(frozen=True)
class DailySrm:
    """The sample-ratio check of one assignment day: the chi-square p-value sets ``flag``;
    the share rule's fields are reported beside it."""

    date: Any
    units: int
    p_value: float
    flag: bool
    max_share_deviation: float
    share_deviation_over_tolerance: bool
    arms: tuple[DailyArm, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date": self.date,
            "units": self.units,
            "p_value": self.p_value,
            "flag": self.flag,
            "max_share_deviation": self.max_share_deviation,
            "share_deviation_over_tolerance": self.share_deviation_over_tolerance,
        }
        for a in self.arms:
            out[f"n_{a.variant}"] = a.n
            out[f"share_gap_{a.variant}"] = a.share_gap
            out[f"band_{a.variant}"] = a.band
        return out
