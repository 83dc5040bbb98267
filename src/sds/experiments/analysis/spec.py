"""What an experiment analysis reads and computes: the spec behind ``sds analyze SPEC.yaml``.

A spec names the data (a file, a glob, a DuckDB table or a SQL query), the unit, variant and
control, the expected split, and the metrics. Validation happens here, before any data is
read, so a typo in a metric type or a correction name costs nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from sds.config import EngineChoice, StrictModel
from sds.errors import close_matches

METRIC_TYPES = ("proportion", "mean", "ratio", "quantile")
CORRECTIONS = ("holm", "hochberg", "bonferroni", "benjamini-hochberg", "none")
GRAINS = ("auto", "unit", "event")
SEQUENTIAL_METHODS = ("group", "msprt")
SPENDING = ("obrien-fleming", "pocock", "power")


class MetricSpec(StrictModel):
    """One metric. ``type`` decides which columns it needs."""

    name: str
    type: str
    column: str | None = None  # proportion, mean, quantile
    numerator: str | None = None  # ratio
    denominator: str | None = None  # ratio
    covariate: str | None = None  # mean: pre-period value of the same quantity (CUPED)
    numerator_covariate: str | None = None  # ratio CUPED
    denominator_covariate: str | None = None
    q: float | None = None  # quantile, in (0, 1)
    better: str = "higher"  # which direction is an improvement

    @model_validator(mode="after")
    def _columns_fit_type(self) -> MetricSpec:
        where = f"metric {self.name!r}"
        if self.type not in METRIC_TYPES:
            raise _choice_error(f"{where}: type", self.type, METRIC_TYPES)
        if self.better not in ("higher", "lower"):
            raise _choice_error(f"{where}: better", self.better, ("higher", "lower"))
        if self.type == "ratio":
            if not (self.numerator and self.denominator):
                raise ValueError(f"{where}: a ratio metric needs numerator and denominator")
            if bool(self.numerator_covariate) != bool(self.denominator_covariate):
                raise ValueError(
                    f"{where}: give both numerator_covariate and denominator_covariate "
                    "(the pre-period ratio), or neither"
                )
        elif not self.column:
            raise ValueError(f"{where}: a {self.type} metric needs column")
        if self.type == "quantile" and not (self.q is not None and 0 < self.q < 1):
            raise ValueError(f"{where}: a quantile metric needs q between 0 and 1, e.g. 0.9")
        if self.covariate and self.type != "mean":
            raise ValueError(f"{where}: covariate (CUPED) applies to mean metrics")
        return self

    @property
    def columns(self) -> list[str]:
        """Outcome columns (not covariates)."""
        named = [self.column, self.numerator, self.denominator]
        return [c for c in named if c]

    @property
    def covariates(self) -> list[str]:
        named = [self.covariate, self.numerator_covariate, self.denominator_covariate]
        return [c for c in named if c]


class SequentialSpec(StrictModel):
    """A group-sequential plan (``looks`` planned analyses up to ``planned_units``) or an
    always-valid mixture SPRT (``msprt``) with normal mixing scale ``tau``."""

    method: str = "group"
    looks: int = 5
    planned_units: int | None = None  # all arms together, at the last look
    spending: str = "obrien-fleming"
    tau: float | None = None  # mSPRT mixing sd of the effect; default: the metric's MDE scale

    @model_validator(mode="after")
    def _valid(self) -> SequentialSpec:
        if self.method not in SEQUENTIAL_METHODS:
            raise _choice_error("sequential.method", self.method, SEQUENTIAL_METHODS)
        if self.spending not in SPENDING:
            raise _choice_error("sequential.spending", self.spending, SPENDING)
        if self.method == "group" and not self.planned_units:
            raise ValueError("sequential: a group-sequential plan needs planned_units")
        if not 1 <= self.looks <= 50:
            raise ValueError(f"sequential.looks == {self.looks}, must be between 1 and 50")
        return self


class AnalysisSpec(EngineChoice):
    """An experiment to analyse."""

    kind: str = "analysis"
    name: str | None = None
    data: str | None = None  # path, glob, or SQL query; a DataFrame may be passed instead
    table: str | None = None  # table inside a DuckDB database file
    unit: str
    variant: str
    control: str
    variants: list[str] | None = None  # every arm including control; default: from the data
    split: list[float] | None = None  # expected shares in the order of ``variants``
    date: str | None = None  # assignment (first exposure) date or time
    grain: str = "auto"  # unit: one row per unit; event: rows are aggregated to units
    metrics: list[MetricSpec] = Field(min_length=1)
    primary: list[str] | None = None  # default: the first metric
    guardrails: list[str] = Field(default_factory=list)
    alpha: float = 0.05
    equal_var: bool = False  # Student instead of Welch for means and ratios
    correction: str = "holm"
    segments: list[str] = Field(default_factory=list)
    sequential: SequentialSpec | None = None
    srm_threshold: float = 0.001
    balance_threshold: float = 0.1  # |standardized mean difference| of a covariate
    resamples: int = Field(default=2000, ge=100, le=100_000)  # bootstrap, quantile metrics
    bootstrap: str = "percentile"  # or "bca"
    seed: int = 0

    @model_validator(mode="after")
    def _valid(self) -> AnalysisSpec:
        if self.kind != "analysis":
            raise ValueError(f"kind == {self.kind!r}, an analysis spec has kind: analysis")
        if self.grain not in GRAINS:
            raise _choice_error("grain", self.grain, GRAINS)
        if self.correction not in CORRECTIONS:
            raise _choice_error("correction", self.correction, CORRECTIONS)
        if self.bootstrap not in ("percentile", "bca"):
            raise _choice_error("bootstrap", self.bootstrap, ("percentile", "bca"))
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha == {self.alpha}, must be between 0 and 1")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"metric names must be unique; found {names}")
        for role in [*(self.primary or []), *self.guardrails]:
            if role not in names:
                matches = close_matches(role, names)
                hint = f" (did you mean {matches[0]!r}?)" if matches else ""
                raise ValueError(f"primary/guardrail {role!r} is not a metric{hint}")
        if self.variants is not None and self.control not in self.variants:
            raise ValueError(f"control {self.control!r} is not in variants {self.variants}")
        if self.split is not None:
            arms = len(self.variants) if self.variants else None
            if arms is None or len(self.split) != arms:
                raise ValueError("split needs variants, one share per variant, in that order")
            if any(s <= 0 for s in self.split):
                raise ValueError(f"split == {self.split}, shares must be positive")
        return self

    @property
    def primary_metrics(self) -> list[str]:
        return self.primary or [self.metrics[0].name]


def _choice_error(key: str, value: Any, options: tuple[str, ...]) -> ValueError:
    matches = close_matches(str(value), options)
    hint = f"; did you mean {matches[0]!r}?" if matches else ""
    return ValueError(f"{key} == {value!r}, must be one of: {', '.join(options)}{hint}")


def parse(data: dict[str, Any] | AnalysisSpec, source: str = "spec") -> AnalysisSpec:
    """A validated spec from a mapping (YAML/JSON) or a spec."""
    from sds.config import parse_spec

    return parse_spec(data, AnalysisSpec, source, "an analysis spec")
