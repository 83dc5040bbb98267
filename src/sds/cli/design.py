"""``sds design proportion|mean|ratio|spec``: sample size, power and MDE plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sds.cli.common import FormatOpt, OutputOpt, emit

app = typer.Typer(
    help="Plan an experiment: sample size, power or MDE, duration, CUPED, sequential looks.",
    no_args_is_help=True,
)

Opt = typer.Option
Mde = Annotated[
    float | None,
    Opt(
        help="Minimum detectable effect, relative (0.10 = +10%) "
        "unless --absolute. Omit it with --n-per-variant to solve "
        "for the MDE."
    ),
]
Absolute = Annotated[bool, Opt(help="Read --mde in the metric's own units.")]
N = Annotated[
    float | None,
    Opt("--n-per-variant", "-n", help="Control-arm units: solve for power (with --mde) or MDE."),
]
Alpha = Annotated[float, Opt(help="Significance level (family-wise for several variants).")]
Power = Annotated[float, Opt(help="Target power.")]
Alternative = Annotated[str, Opt(help="two-sided, greater or less.")]
Ratio = Annotated[float, Opt(help="Treatment:control allocation per treatment arm (2 = 2:1).")]
Variants = Annotated[int, Opt(help="Arms including control (3 = A/B/C).")]
Correction = Annotated[str, Opt(help="none, bonferroni, holm or sidak (several variants).")]
Method = Annotated[
    str | None,
    Opt(
        help="Test the plan is for (default: pooled for proportions, "
        "t for means, delta for ratios)."
    ),
]
Rho = Annotated[
    float | None,
    Opt(
        help="CUPED: correlation of the metric with its pre-period "
        "covariate (estimated from --data with --covariate)."
    ),
]
Daily = Annotated[float | None, Opt(help="Eligible units per day (all arms) for the duration.")]
MaxDays = Annotated[float, Opt(help="Warn past this many days and give the MDE reachable in it.")]
Looks = Annotated[int, Opt(help="Planned analyses (group-sequential when > 1).")]
Spending = Annotated[str, Opt(help="Alpha spending: obrien-fleming, pocock or power.")]
Gamma = Annotated[float | None, Opt(help="Exponent of the power spending function.")]
Data = Annotated[str | None, Opt(help="Historical unit-level data to estimate inputs from.")]
Covariate = Annotated[str | None, Opt(help="Pre-period covariate column (CUPED).")]
Name = Annotated[str | None, Opt(help="A name for the plan.")]


def _run(fields: dict[str, Any], fmt: str | None, output: Path | None) -> None:
    from sds.cli.common import resolve_format
    from sds.config import validate_mapping
    from sds.experiments.design import DesignSpec, design

    resolve_format(fmt, output)
    given = {k: v for k, v in fields.items() if v is not None and k not in ("fmt", "output")}
    spec = validate_mapping(given, DesignSpec, "command line")
    emit(design(spec), fmt, output)


@app.command("proportion")
def proportion(
    baseline: Annotated[float | None, Opt(help="Control conversion rate, e.g. 0.05.")] = None,
    mde: Mde = None,
    absolute: Absolute = False,
    n_per_variant: N = None,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    alternative: Alternative = "two-sided",
    ratio: Ratio = 1.0,
    variants: Variants = 2,
    correction: Correction = "bonferroni",
    method: Method = None,
    continuity: Annotated[bool, Opt(help="Fleiss continuity correction.")] = False,
    rho: Rho = None,
    daily_units: Daily = None,
    max_days: MaxDays = 56,
    looks: Looks = 1,
    spending: Spending = "obrien-fleming",
    spending_gamma: Gamma = None,
    data: Data = None,
    column: Annotated[str | None, Opt(help="0/1 metric column in --data.")] = None,
    covariate: Covariate = None,
    name: Name = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Conversion-rate metrics (0/1 per unit)."""
    _run({**locals(), "metric": "proportion"}, fmt, output)


@app.command("mean")
def mean(
    mean: Annotated[float | None, Opt(help="Control mean (needed for a relative --mde).")] = None,
    std: Annotated[float | None, Opt(help="Per-unit standard deviation.")] = None,
    mde: Mde = None,
    absolute: Absolute = False,
    n_per_variant: N = None,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    alternative: Alternative = "two-sided",
    ratio: Ratio = 1.0,
    variants: Variants = 2,
    correction: Correction = "bonferroni",
    method: Method = None,
    rho: Rho = None,
    daily_units: Daily = None,
    max_days: MaxDays = 56,
    looks: Looks = 1,
    spending: Spending = "obrien-fleming",
    spending_gamma: Gamma = None,
    data: Data = None,
    column: Annotated[str | None, Opt(help="Metric column in --data.")] = None,
    covariate: Covariate = None,
    name: Name = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Continuous metrics (revenue per user, session length)."""
    _run({**locals(), "metric": "mean"}, fmt, output)


@app.command("ratio")
def ratio_metric(
    data: Data = None,
    numerator: Annotated[str | None, Opt(help="Numerator column per unit, e.g. orders.")] = None,
    denominator: Annotated[str | None, Opt(help="Denominator column, e.g. sessions.")] = None,
    mean: Annotated[float | None, Opt(help="The ratio's value, without --data.")] = None,
    std: Annotated[float | None, Opt(help="Delta-method per-unit std, without --data.")] = None,
    mde: Mde = None,
    absolute: Absolute = False,
    n_per_variant: N = None,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    alternative: Alternative = "two-sided",
    ratio: Ratio = 1.0,
    variants: Variants = 2,
    correction: Correction = "bonferroni",
    rho: Rho = None,
    daily_units: Daily = None,
    max_days: MaxDays = 56,
    looks: Looks = 1,
    spending: Spending = "obrien-fleming",
    spending_gamma: Gamma = None,
    covariate: Covariate = None,
    name: Name = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Ratio metrics (orders per session, revenue per order) by the delta method."""
    _run({**locals(), "metric": "ratio"}, fmt, output)


@app.command("spec")
def from_spec(
    path: Annotated[Path, typer.Argument(help="A YAML/JSON design spec.")],
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Plan from a spec file (the keys are the options above, plus metric)."""
    from sds.cli.common import resolve_format
    from sds.config import load_config
    from sds.experiments.design import DesignSpec, design

    resolve_format(fmt, output)
    emit(design(load_config(path, DesignSpec)), fmt, output)
