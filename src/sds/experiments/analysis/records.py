"""Typed records of an experiment analysis: what a two-group comparison holds, an effect row,
a balance row, a segment breakdown.

Every record is a frozen dataclass holding only immutable values (tuples inside, never lists
or dicts), so it can be hashed, and its ``to_dict()`` is the one source of its JSON and of
every rendering. The absolute effect of a comparison is an :class:`sds.stats.estimate.Estimate`
(value, standard error, interval, p-value, level, method and which arm minus which); the
relative effect and the CUPED adjustment sit beside it. The day-by-day records (novelty,
cumulative effect, sequential looks, daily SRM) are in :mod:`timeline_records`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sds.stats.estimate import Estimate
from sds.stats.multiple import adjust

CONTRAST = "treatment - control"
SEGMENT_KEYS = (  # the comparison's figures a segment row states
    "control",
    "treatment",
    "n_control",
    "n_treatment",
    "effect",
    "ci_lower",
    "ci_upper",
    "rel_effect",
    "std_error",
    "p_value",
)
NOT_COMPUTED = "not computed"


@dataclass(frozen=True)
class RelativeEffect:
    """``treatment / control - 1`` with its interval (``None`` where not computable)."""

    effect: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None

    @classmethod
    def of(cls, values: tuple[float | None, float | None, float | None]) -> RelativeEffect:
        return cls(*(_number(v) for v in values))


@dataclass(frozen=True)
class Cuped:
    """The CUPED adjustment of one comparison: theta and the variance it removed."""

    theta: float
    variance_reduction: float
    unadjusted_control: float
    unadjusted_treatment: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "theta": self.theta,
            "variance_reduction": self.variance_reduction,
            "unadjusted_control": self.unadjusted_control,
            "unadjusted_treatment": self.unadjusted_treatment,
        }


@dataclass(frozen=True)
class Comparison:
    """Treatment against control on one metric: each arm's value and size, the absolute
    effect as an :class:`Estimate`, the relative effect and, for kinds that support it,
    the CUPED adjustment (``reports_cuped``: the row states ``cuped``, null when unused).
    ``complete``: the effect, its interval and standard error were finite numbers;
    ``warnings``: why its figures may mislead (a quantile on a point mass)."""

    control: float | None
    treatment: float | None
    n_control: int
    n_treatment: int
    estimate: Estimate
    relative: RelativeEffect = RelativeEffect()
    cuped: Cuped | None = None
    reports_cuped: bool = False
    resamples: int | None = None
    complete: bool = True
    warnings: tuple[str, ...] = ()

    @property
    def effect(self) -> float | None:
        return self.estimate.estimate

    @property
    def ci_lower(self) -> float | None:
        return self.estimate.ci_lower

    @property
    def ci_upper(self) -> float | None:
        return self.estimate.ci_upper

    @property
    def std_error(self) -> float | None:
        return self.estimate.std_error

    @property
    def statistic(self) -> float | None:
        return self.estimate.statistic

    @property
    def p_value(self) -> float | None:
        return self.estimate.p_value

    @property
    def method(self) -> str:
        return self.estimate.method

    @property
    def rel_effect(self) -> float | None:
        return self.relative.effect

    def at_level(self, level: float) -> Comparison:
        """The same comparison, its estimate labelled with the interval's level."""
        return replace(self, estimate=replace(self.estimate, level=level))

    def not_computed(self) -> Comparison:
        """No figures: the arms' sizes (and resamples) only, method ``not computed``."""
        empty = empty_comparison(self.n_control, self.n_treatment, self.estimate.level)
        return replace(empty, resamples=self.resamples)

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        out: dict[str, Any] = {
            "control": self.control,
            "treatment": self.treatment,
            "n_control": self.n_control,
            "n_treatment": self.n_treatment,
            "effect": e.estimate,
            "ci_lower": e.ci_lower,
            "ci_upper": e.ci_upper,
            "rel_effect": self.relative.effect,
            "rel_ci_lower": self.relative.ci_lower,
            "rel_ci_upper": self.relative.ci_upper,
            "std_error": e.std_error,
            "statistic": e.statistic,
            "df": e.df,
            "p_value": e.p_value,
            "method": e.method,
        }
        if self.reports_cuped:
            out["cuped"] = self.cuped.to_dict() if self.cuped else None
        if self.resamples is not None:
            out["resamples"] = self.resamples
            if self.complete:  # a bootstrap row states its interval; its se stays inside
                del out["std_error"]
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def empty_comparison(n_control: int, n_treatment: int, level: float) -> Comparison:
    """A comparison that was never attempted (its metric's values are unusable)."""
    none = Estimate(None, None, None, None, None, level, NOT_COMPUTED, CONTRAST)
    return Comparison(None, None, n_control, n_treatment, none, reports_cuped=True, complete=False)


class _ReadsComparison:
    """The figures of a row's comparison, read as attributes of the row."""

    comparison: Comparison

    @property
    def estimate(self) -> Estimate:
        return self.comparison.estimate

    @property
    def effect(self) -> float | None:
        return self.comparison.effect

    @property
    def ci_lower(self) -> float | None:
        return self.comparison.ci_lower

    @property
    def ci_upper(self) -> float | None:
        return self.comparison.ci_upper

    @property
    def std_error(self) -> float | None:
        return self.comparison.std_error

    @property
    def p_value(self) -> float | None:
        return self.comparison.p_value

    @property
    def method(self) -> str:
        return self.comparison.estimate.method

    @property
    def rel_effect(self) -> float | None:
        return self.comparison.relative.effect

    @property
    def rel_ci_lower(self) -> float | None:
        return self.comparison.relative.ci_lower

    @property
    def rel_ci_upper(self) -> float | None:
        return self.comparison.relative.ci_upper


@dataclass(frozen=True)
class Effect(_ReadsComparison):
    """One effect row of the report: a metric, a treatment arm, its comparison with the
    control arm, the p-value adjusted across the report's rows, and, for a metric that
    could not be computed, why (``not_computed``)."""

    metric: str
    type: str
    variant: str
    comparison: Comparison
    p_adjusted: float | None = None
    not_computed: str | None = None

    def with_p_adjusted(self, p: float | None) -> Effect:
        return replace(self, p_adjusted=p)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric, "type": self.type, "variant": self.variant}
        out |= self.comparison.to_dict()
        out["p_adjusted"] = self.p_adjusted
        if self.not_computed is not None:
            out["not_computed"] = self.not_computed
        return out


@dataclass(frozen=True)
class Balance:
    """Standardized mean difference of one pre-period covariate between two arms."""

    covariate: str
    variant: str
    mean_control: float
    mean_treatment: float
    smd: float
    balanced: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "covariate": self.covariate,
            "variant": self.variant,
            "mean_control": self.mean_control,
            "mean_treatment": self.mean_treatment,
            "smd": self.smd,
            "balanced": self.balanced,
        }


@dataclass(frozen=True)
class SegmentEffect(_ReadsComparison):
    """The effect within one level of a segment column."""

    metric: str
    variant: str
    level: str
    comparison: Comparison
    p_adjusted: float | None = None

    def with_p_adjusted(self, p: float | None) -> SegmentEffect:
        return replace(self, p_adjusted=p)

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison.to_dict()
        return {
            "metric": self.metric,
            "variant": self.variant,
            "level": self.level,
            **{k: c[k] for k in SEGMENT_KEYS},
            "p_adjusted": self.p_adjusted,
        }


@dataclass(frozen=True)
class Heterogeneity:
    """Cochran's Q across a segment column's effects (fixed effect, inverse variance)."""

    metric: str
    variant: str
    q: float | None
    df: int
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "variant": self.variant,
            "q": self.q,
            "df": self.df,
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class LevelShares:
    """One segment level's share of each arm's units, arms in report order."""

    level: str
    shares: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, **dict(self.shares)}


@dataclass(frozen=True)
class SegmentMix:
    """Do all arms show the same mix of a segment column (chi-square of independence)?"""

    chi2: float
    df: int
    p_value: float
    shift: bool
    shares: tuple[LevelShares, ...]
    message: str | None = None

    def share(self, level: str, arm: str) -> float | None:
        for row in self.shares:
            if row.level == level:
                return dict(row.shares).get(arm)
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "chi2": self.chi2,
            "df": self.df,
            "p_value": self.p_value,
            "shift": self.shift,
            "shares": [s.to_dict() for s in self.shares],
        }
        if self.message is not None:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class SegmentBreakdown:
    """One segment column: its mix test, per-level effects, heterogeneity and flags."""

    column: str
    mix: SegmentMix
    effects: tuple[SegmentEffect, ...]
    heterogeneity: tuple[Heterogeneity, ...]
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mix": self.mix.to_dict(),
            "effects": [e.to_dict() for e in self.effects],
            "heterogeneity": [h.to_dict() for h in self.heterogeneity],
            "flags": list(self.flags),
        }


Row = TypeVar("Row", Effect, SegmentEffect)


def adjusted(rows: Iterable[Row], correction: str) -> list[Row]:
    """The rows with ``p_adjusted``: their p-values adjusted together with ``correction``
    (a row without a p-value gets none and does not count)."""
    rows = list(rows)
    raw = [math.nan if r.p_value is None else r.p_value for r in rows]
    return [
        r.with_p_adjusted(_number(p)) for r, p in zip(rows, adjust(raw, correction), strict=True)
    ]


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
