"""The one shape of an estimate: a number, its uncertainty and what it compares.

Every two-group comparison in sds (a classic test, an experiment effect, a causal effect, the
canary's comparison of challenger and champion) states its estimate as an :class:`Estimate`:
the value, its standard error, the interval at ``level``, the p-value, the method and the
contrast (``"treatment - control"``, ``"p(b) - p(a)"``), so a reader always knows which
group was subtracted from which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Estimate:
    """An estimate with its standard error, interval, p-value, method and contrast.

    ``level`` is the interval's confidence level (0.95 for a 95% interval). Non-finite
    numbers are stored as ``None`` (not computable), never as NaN.
    """

    estimate: float | None
    std_error: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    level: float
    method: str
    contrast: str
    statistic: float | None = None
    df: float | None = None

    def __post_init__(self) -> None:
        for name in ("estimate", "std_error", "ci_lower", "ci_upper", "p_value"):
            object.__setattr__(self, name, _finite_or_none(getattr(self, name)))
        for name in ("statistic", "df"):
            object.__setattr__(self, name, _finite_or_none(getattr(self, name)))
        if not 0 < self.level < 1:
            raise ValueError(f"level == {self.level!r}, must lie in (0, 1)")

    @property
    def alpha(self) -> float:
        """One minus the interval's level."""
        return 1 - self.level

    def significant(self, alpha: float | None = None) -> bool:
        """True when the p-value is below ``alpha`` (default: one minus the level)."""
        cut = self.alpha if alpha is None else alpha
        return self.p_value is not None and self.p_value < cut

    def with_p_value(self, p_value: float | None) -> Estimate:
        """A copy with another p-value (e.g. after a multiple-testing adjustment)."""
        return replace(self, p_value=p_value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "std_error": self.std_error,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "p_value": self.p_value,
            "level": self.level,
            "method": self.method,
            "contrast": self.contrast,
            "statistic": self.statistic,
            "df": self.df,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        return cls(**fields)
