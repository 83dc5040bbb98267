"""Parameter constraints written as data, shared by the library, the CLI and config files.

Each rule knows its parameter's name and allowed values and produces the one message shape
used everywhere: ``"alpha == 1.5, must be < 1."``. Library functions call :func:`check`;
config models call the same rules from their validators, so a value is judged once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sds.errors import ParameterError


@dataclass(frozen=True)
class Interval:
    """A real number in an interval; ``None`` means unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def violation(self, value: Any) -> str | None:
        kind = "an integer" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be {kind}"
        if self.integer and not isinstance(value, int):
            return "must be an integer"
        if isinstance(value, float) and not math.isfinite(value):
            return "must be finite"
        if self.low is not None:
            if self.low_open and value <= self.low:
                return f"must be > {self.low:g}"
            if not self.low_open and value < self.low:
                return f"must be >= {self.low:g}"
        if self.high is not None:
            if self.high_open and value >= self.high:
                return f"must be < {self.high:g}"
            if not self.high_open and value > self.high:
                return f"must be <= {self.high:g}"
        return None

    def describe(self) -> str:
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        kind = "integer" if self.integer else "number"
        return f"{kind} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of values."""

    options: tuple[Any, ...]

    def violation(self, value: Any) -> str | None:
        if value in self.options:
            return None
        return f"must be one of {', '.join(repr(o) for o in self.options)}"

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)


Constraint = Interval | OneOf


@dataclass(frozen=True)
class Rule:
    """Field metadata naming the rule of :data:`RULES` a spec field obeys, as in
    ``alpha: Annotated[float, Rule("alpha")]``; the spec base (``sds.config.StrictModel``)
    judges the value with it, once, in the one message shape."""

    name: str

    @property
    def constraint(self) -> Constraint:
        return RULES[self.name]


# Option vocabularies shared by specs, the CLI (as choices) and RULES.
Alternative = Literal["two-sided", "greater", "less"]
Spending = Literal["obrien-fleming", "pocock", "power"]
Correction = Literal[
    "holm", "hochberg", "bonferroni", "benjamini-hochberg", "benjamini-yekutieli", "sidak", "none"
]

PROBABILITY_OPEN = Interval(0.0, 1.0, low_open=True, high_open=True)
SHARE = Interval(0.0, 1.0, low_open=True)
POSITIVE_INT = Interval(1, None, integer=True)
NON_NEGATIVE_INT = Interval(0, None, integer=True)

POSITIVE = Interval(0.0, None, low_open=True)
ALTERNATIVES = OneOf(get_args(Alternative))
# Multiple-testing corrections, holm (the default everywhere) first. sds.stats.multiple
# publishes this object as CORRECTIONS and implements each name; it lives here because
# params sits below stats in the layer order.
CORRECTIONS = OneOf(get_args(Correction))

# The shared table: one rule per parameter name used across sds.
RULES: dict[str, Constraint] = {
    "alpha": PROBABILITY_OPEN,
    "power": PROBABILITY_OPEN,
    "beta": PROBABILITY_OPEN,
    "confidence": PROBABILITY_OPEN,
    "alternative": ALTERNATIVES,
    # experiment design
    "baseline": PROBABILITY_OPEN,
    "mean": Interval(None, None),
    "mu": Interval(None, None),  # finite
    "std": POSITIVE,
    "mde": POSITIVE,
    "ratio": Interval(0.0, 1000.0, low_open=True),  # treatment:control allocation
    "variants": Interval(2, 100, integer=True),  # arms including the control
    "arms": Interval(2, 100, integer=True),  # design: arms including the control
    "correction": CORRECTIONS,  # the one vocabulary, sds.stats.multiple.CORRECTIONS
    "daily_units": Interval(0.0, 1e12, low_open=True),
    "max_days": Interval(0.0, 36_500.0, low_open=True),
    "n_per_variant": Interval(2, 1e12),  # a trillion units per arm is already absurd
    "rho": Interval(-1.0, 1.0, low_open=True, high_open=True),
    "looks": Interval(1, 50, integer=True),
    "spending": OneOf(get_args(Spending)),
    "spending_gamma": Interval(0.0, 50.0, low_open=True),
    "information": Interval(0.0, 1.0, low_open=True),
    "srm_alpha": PROBABILITY_OPEN,
    "bootstrap_resamples": Interval(100, 100_000, integer=True),  # analysis quantile metrics
    "balance_threshold": POSITIVE,  # |standardized mean difference| of a covariate
    "q": PROBABILITY_OPEN,  # quantile metric
    "planned_units": Interval(2, 1e12, integer=True),
    "tau": POSITIVE,
    "share_tolerance": Interval(0.0, 1.0, low_open=True, high_open=True),
    "weight": Interval(0.0, None, low_open=True),
    "bucket_count": Interval(2, 2**32, integer=True),
    # profiling
    "top_k": Interval(1, 1000, integer=True),
    "bins": Interval(2, 1000, integer=True),
    "exact_distinct_max_rows": NON_NEGATIVE_INT,
    "near_constant_share": SHARE,
    "null_share_flag": SHARE,
    "high_cardinality": Interval(2, None, integer=True),
    "id_like_share": SHARE,
    "seed": Interval(0, 2**32 - 1, integer=True),  # numpy's seed range
    "n_rows": POSITIVE_INT,
    "chunk_rows": POSITIVE_INT,
    "threads": Interval(1, 4096, integer=True),
    "workers": Interval(1, 256, integer=True),
    "port": Interval(1, 65535, integer=True),
    # statistics
    "resamples": Interval(100, 10**8, integer=True),
    # resource knobs: each unit of these is a model fit or a pass over the data
    "permutations": Interval(0, 100_000, integer=True),
    "bootstrap": Interval(0, 100_000, integer=True),
    "trials": Interval(1, 10_000, integer=True),
    # causal
    "leads": Interval(0, 10_000, integer=True),
    "lags": Interval(0, 10_000, integer=True),
}


def _format(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value}"


def check(name: str, value: Any, rule: Constraint | None = None) -> Any:
    """Return ``value`` if it satisfies the rule for ``name``, else raise ParameterError."""
    rule = rule or RULES[name]
    problem = rule.violation(value)
    if problem is not None:
        raise ParameterError(
            f"{name} == {_format(value)}, {problem}",
            parameter=name,
            expected=rule.describe() if isinstance(rule, Interval) else None,
        )
    return value


def check_all(values: dict[str, Any], names: Iterable[str] | None = None) -> None:
    """Check every named value against the shared table (``None`` values are skipped)."""
    for name in names or values:
        if values.get(name) is not None:
            check(name, values[name])


def check_weights(weights: Iterable[float], name: str = "weights") -> list[float]:
    """Positive weights, returned normalised to sum to 1.

    Weights given as shares must sum to 1, as percentages to 100; anything else is an error,
    so a typo such as ``50,40`` is caught instead of silently rescaled.
    """
    values = [float(w) for w in weights]
    if len(values) < 2:
        raise ParameterError(
            f"{name} == {values}, must list at least 2 weights",
            parameter=name,
            expected="one positive weight per variant",
        )
    for w in values:
        check("weight", w)
    total = sum(values)
    if not (math.isclose(total, 1.0, abs_tol=1e-6) or math.isclose(total, 100.0, abs_tol=1e-4)):
        raise ParameterError(
            f"{name} == {','.join(f'{w:g}' for w in values)}, must sum to 1 (or 100); "
            f"they sum to {total:g}",
            parameter=name,
            expected="shares summing to 1 or percentages summing to 100",
        )
    return [w / total for w in values]
