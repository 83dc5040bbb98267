"""What an experiment analysis reads and computes: the spec behind ``sds analyze SPEC.yaml``.

A spec names the data (a file, a glob, a DuckDB table or a SQL query), the unit, variant and
control, the expected split, and the metrics. Validation happens here, before any data is
read, so a typo in a metric type or a correction name costs nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sds.config import EngineChoice, StrictModel, parse_spec
from sds.errors import close_matches
from sds.experiments.analysis import kinds
from sds.experiments.analysis.kinds import MetricKind
from sds.params import Correction, Rule, Spending


class MetricSpec(StrictModel):
    """One metric. ``type`` names its kind (:mod:`analysis.kinds`), which decides the
    columns it needs and how it is compared."""

    name: str = Field(description="The metric's name in the report.")
    type: str = Field(description="Metric kind: proportion, mean, ratio or quantile.")
    column: str | None = Field(
        default=None, description="Value column (proportion, mean, quantile)."
    )
    numerator: str | None = Field(default=None, description="Numerator column of a ratio metric.")
    denominator: str | None = Field(
        default=None, description="Denominator column of a ratio metric."
    )
    covariate: str | None = Field(
        default=None, description="Pre-period value of the same quantity, for CUPED (mean metrics)."
    )
    numerator_covariate: str | None = Field(
        default=None, description="Pre-period numerator, for CUPED on a ratio metric."
    )
    denominator_covariate: str | None = Field(
        default=None, description="Pre-period denominator, for CUPED on a ratio metric."
    )
    q: Annotated[float | None, Rule("q")] = Field(
        default=None, description="Quantile of a quantile metric, in (0, 1), e.g. 0.9."
    )
    better: Literal["higher", "lower"] = Field(
        default="higher", description="Which direction is an improvement."
    )

    @model_validator(mode="after")
    def _columns_fit_type(self) -> MetricSpec:
        try:
            kind = kinds.get(self.type)
        except ValueError as e:
            raise ValueError(f"metric {self.name!r}: {e}") from None
        kind.validate(self)
        return self

    @property
    def kind(self) -> MetricKind:
        """The metric's kind: what it needs from the engine and how it is compared."""
        return kinds.get(self.type)

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

    method: Literal["group", "msprt"] = Field(
        default="group",
        description="group (planned looks, alpha spending) or msprt (always valid).",
    )
    looks: Annotated[int, Rule("looks")] = Field(default=5, description="Planned analyses.")
    planned_units: Annotated[int | None, Rule("planned_units")] = Field(
        default=None, description="Units of all arms together at the last look (group plans)."
    )
    spending: Spending = Field(
        default="obrien-fleming", description="Alpha spending: obrien-fleming, pocock or power."
    )
    tau: Annotated[float | None, Rule("tau")] = Field(
        default=None, description="mSPRT mixing sd of the effect (default: the metric's MDE scale)."
    )

    @model_validator(mode="after")
    def _valid(self) -> SequentialSpec:
        if self.method == "group" and not self.planned_units:
            raise ValueError("sequential: a group-sequential plan needs planned_units")
        return self


class AnalysisSpec(EngineChoice):
    """An experiment to analyse: the keys of an analysis spec file and the parameters of
    ``sds.analyze``."""

    kind: Literal["analysis"] = Field(default="analysis", description="Always analysis.")
    name: str | None = Field(default=None, description="A name for the analysis.")
    data: str | None = Field(
        default=None, description="Data to analyse: a path, glob or SQL query (or a DataFrame)."
    )
    table: str | None = Field(default=None, description="Table inside a DuckDB file given as data.")
    encoding: str | None = Field(default=None, description="CSV encoding of data, e.g. latin-1.")
    unit: str = Field(description="Unit id column (the randomisation unit).")
    variant: str = Field(description="Column holding each unit's arm.")
    control: str = Field(description="The control arm's value in the variant column.")
    variants: list[str] | None = Field(
        default=None, description="Every arm including control (default: from the data)."
    )
    split: list[float] | None = Field(
        default=None, description="Expected arm shares, in the order of variants."
    )
    date: str | None = Field(
        default=None, description="Assignment (first exposure) date or time column."
    )
    grain: Literal["auto", "unit", "event"] = Field(
        default="auto", description="unit: one row per unit; event: rows are aggregated to units."
    )
    metrics: list[MetricSpec] = Field(min_length=1, description="The metrics to analyse.")
    primary: list[str] | None = Field(
        default=None, description="Primary metrics, by name (default: the first metric)."
    )
    guardrails: list[str] = Field(default_factory=list, description="Guardrail metrics, by name.")
    alpha: Annotated[float, Rule("alpha")] = Field(
        default=0.05, description="Significance level of the effects."
    )
    equal_var: bool = Field(
        default=False, description="Student instead of Welch for means and ratios."
    )
    correction: Correction = Field(
        default="holm", description="Multiple-testing correction across metrics and arms."
    )
    segments: list[str] = Field(
        default_factory=list, description="Columns to break the effects down by."
    )
    sequential: SequentialSpec | None = Field(
        default=None, description="A sequential plan (group-sequential or mSPRT)."
    )
    srm_alpha: Annotated[float, Rule("srm_alpha")] = Field(
        default=0.001, description="Significance level of the sample-ratio-mismatch check."
    )
    balance_threshold: Annotated[float, Rule("balance_threshold")] = Field(
        default=0.1,
        description="Flag a covariate whose |standardized mean difference| exceeds this.",
    )
    resamples: Annotated[int, Rule("bootstrap_resamples")] = Field(
        default=2000, description="Bootstrap resamples for quantile metrics."
    )
    bootstrap: Literal["percentile", "bca"] = Field(
        default="percentile", description="Bootstrap interval: percentile or bca."
    )
    seed: Annotated[int, Rule("seed")] = Field(
        default=0, description="Random seed of the bootstrap."
    )

    @model_validator(mode="after")
    def _valid(self) -> AnalysisSpec:
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


def parse(data: dict[str, Any] | AnalysisSpec, source: str = "spec") -> AnalysisSpec:
    """A validated spec from a mapping (YAML/JSON) or a spec."""
    return parse_spec(data, AnalysisSpec, source, "an analysis spec")
