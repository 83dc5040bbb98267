"""What an experiment plan is asked for: :class:`DesignSpec`, the one source of the
parameters of ``sds.design``, ``sds design proportion|mean|ratio|spec``, design spec files
and ``scripts/experiment_designer.py`` (its fields become the ``--kebab-case`` options).

Kept apart from the planning code so the command line can build its options from it
without importing scipy.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sds.config import StrictModel
from sds.params import Alternative, Correction, Rule, Spending


class DesignSpec(StrictModel):
    """What to plan. Give ``mde`` to get a sample size, ``n_per_variant`` (control units)
    to get power (with ``mde``) or the MDE (without). The fields are the keys of a design
    spec file and, as ``--kebab-case`` options, of ``sds design``."""

    name: str | None = Field(default=None, description="A name for the plan.")
    metric: Literal["proportion", "mean", "ratio"] = Field(
        default="proportion", description="Metric kind: proportion (0/1 per unit), mean or ratio."
    )
    baseline: Annotated[float | None, Rule("baseline")] = Field(
        default=None, description="Control conversion rate of a proportion metric, e.g. 0.05."
    )
    mean: Annotated[float | None, Rule("mean")] = Field(
        default=None, description="Control mean (a ratio's value); needed for a relative mde."
    )
    std: Annotated[float | None, Rule("std")] = Field(
        default=None, description="Per-unit standard deviation (delta-method std for a ratio)."
    )
    mde: Annotated[float | None, Rule("mde")] = Field(
        default=None,
        description="Minimum detectable effect, relative (0.10 = +10%) unless absolute; "
        "omit it with n_per_variant to solve for the MDE.",
    )
    absolute: bool = Field(default=False, description="Read mde in the metric's own units.")
    n_per_variant: Annotated[float | None, Rule("n_per_variant")] = Field(
        default=None, description="Control-arm units: solve for power (with mde) or for the MDE."
    )
    alpha: Annotated[float, Rule("alpha")] = Field(
        default=0.05, description="Significance level (family-wise for several arms)."
    )
    power: Annotated[float, Rule("power")] = Field(
        default=0.8,
        description="Target power: the chance of a significant result when the true effect "
        "is mde (0.8 = 80%).",
    )
    alternative: Alternative = Field(
        default="two-sided", description="Alternative hypothesis: two-sided, greater or less."
    )
    ratio: Annotated[float, Rule("ratio")] = Field(
        default=1.0, description="Treatment:control allocation per treatment arm (2 = 2:1)."
    )
    arms: Annotated[int, Rule("arms")] = Field(
        default=2, description="Number of arms including the control (3 = A/B/C)."
    )
    correction: Correction = Field(
        default="holm", description="Multiple-testing correction across the treatment arms."
    )
    method: Literal["pooled", "unpooled", "arcsine", "t", "z", "delta"] | None = Field(
        default=None,
        description="Test the plan is for (default: pooled for proportions, t for means, "
        "delta for ratios).",
    )
    continuity: bool = Field(
        default=False, description="Fleiss continuity correction (proportions)."
    )
    rho: Annotated[float | None, Rule("rho")] = Field(
        default=None,
        description="CUPED: correlation of the metric with its pre-period covariate "
        "(estimated from data with covariate).",
    )
    daily_units: Annotated[float | None, Rule("daily_units")] = Field(
        default=None, description="Eligible units per day (all arms), for the duration."
    )
    max_days: Annotated[float, Rule("max_days")] = Field(
        default=56, description="Warn past this many days and give the MDE reachable in them."
    )
    looks: Annotated[int, Rule("looks")] = Field(
        default=1, description="Planned analyses (group-sequential when > 1)."
    )
    spending: Spending = Field(
        default="obrien-fleming", description="Alpha spending: obrien-fleming, pocock or power."
    )
    spending_gamma: Annotated[float | None, Rule("spending_gamma")] = Field(
        default=None, description="Exponent of the power spending function."
    )
    data: str | None = Field(
        default=None,
        description="Historical unit-level data to estimate inputs from (file or SQL).",
    )
    table: str | None = Field(default=None, description="Table inside a DuckDB file given as data.")
    encoding: str | None = Field(default=None, description="CSV encoding of data, e.g. latin-1.")
    column: str | None = Field(
        default=None, description="Metric column in data (0/1 for proportions)."
    )
    numerator: str | None = Field(
        default=None, description="Ratio numerator column in data, e.g. orders."
    )
    denominator: str | None = Field(
        default=None, description="Ratio denominator column in data, e.g. sessions."
    )
    covariate: str | None = Field(
        default=None, description="Pre-period covariate column in data (CUPED)."
    )
