"""``sds causal METHOD --data FILE ...``: effects without a randomized experiment."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sds.cli.common import (
    EncodingOpt,
    FormatOpt,
    OutputOpt,
    TableOpt,
    emit,
    resolve_format,
    split_list,
)
from sds.data.io import open_table
from sds.errors import ParameterError
from sds.params import Interval, check, check_all

app = typer.Typer(
    help="Causal inference: matching and weighting, difference-in-differences, regression "
    "discontinuity, instrumental variables; each with its diagnostics and a verdict.",
    no_args_is_help=True,
)

Data = Annotated[str, typer.Option(help="A file, glob, DuckDB file or SQL query.")]
Outcome = Annotated[str, typer.Option(help="Outcome column.")]
Treatment = Annotated[str, typer.Option(help="Treatment column (0/1).")]
OptTreatment = Annotated[
    str | None, typer.Option(help="Treatment take-up column (makes the design fuzzy).")
]
Covariates = Annotated[str | None, typer.Option(help="Covariate columns, comma-separated.")]
Unit = Annotated[str, typer.Option(help="Unit (panel id) column.")]
Time = Annotated[str, typer.Option(help="Time period column.")]
Cluster = Annotated[
    str | None, typer.Option(help="Cluster column for the errors (default: the unit).")
]
WeightColumn = Annotated[
    str | None, typer.Option("--weight-column", help="Observation weight column.")
]
Alpha = Annotated[
    float,
    typer.Option(help="Significance level: intervals at 1 - alpha, p-values judged at alpha."),
]
Placebo = Annotated[
    str | None,
    typer.Option(
        "--placebo-outcome", help="Outcomes the treatment cannot move, comma-separated: rerun."
    ),
]
EstimandATT = Annotated[str, typer.Option(help="ATT (effect on the treated) or ATE.")]
EstimandATE = Annotated[str, typer.Option(help="ATE (average effect) or ATT.")]
Trim = Annotated[
    float | None, typer.Option(help="Drop rows with propensity below trim or above 1 - trim.")
]
Model = Annotated[str, typer.Option(help="Propensity model: logistic or boosting.")]


def _run(
    fn: Any,
    data: tuple[str, str | None, str | None],
    outcome: str,
    placebo: str | None,
    fmt: str | None,
    output: Any,
    alpha: float,
    **kwargs: Any,
) -> None:
    """Check the options, open ``data`` (path, --table, --encoding) and run ``fn`` on it
    with intervals at 1 - ``alpha``, then the placebo outcomes, and emit the result."""
    from sds.causal.refute import with_placebo_outcomes

    resolve_format(fmt, output)
    check("alpha", alpha)
    path, table, encoding = data
    if not path:
        raise ParameterError("give the data with --data FILE", parameter="data")
    for name, value in {"outcome": outcome, **kwargs}.items():
        if value == "" or (name == "instruments" and not value):
            option = "--weight-column" if name == "weights" else f"--{name}"
            raise ParameterError(f"{option} is empty, must name a column", parameter=option)
    source = open_table(path, table=table, encoding=encoding)
    kwargs["confidence"] = 1 - alpha
    result = fn(source, outcome, **kwargs)
    result = with_placebo_outcomes(result, fn, source, split_list(placebo), **kwargs)
    emit(result, fmt, output)


def _covs(value: str | None) -> list[str]:
    return split_list(value)


@app.command("psm")
def psm_command(
    data: Data, outcome: Outcome, treatment: Treatment,
    covariates: Covariates = None, estimand: EstimandATT = "ATT",
    k: Annotated[int, typer.Option(help="Matches per unit.")] = 1,
    replace: Annotated[bool, typer.Option(help="Match with replacement.")] = True,
    caliper: Annotated[
        float | None, typer.Option(help="Caliper in SDs of the logit propensity (0 = none).")
    ] = 0.2,
    model: Model = "logistic", trim: Trim = None, alpha: Alpha = 0.05,
    placebo: Placebo = None, table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Propensity-score matching with Abadie-Imbens errors, balance and Rosenbaum bounds."""
    from sds.causal.matching import psm

    check("k", k, Interval(1, 100, integer=True))
    check("caliper", caliper or 0.0, Interval(0.0, None))
    _run(
        psm, (data, table, encoding), outcome,
        placebo, fmt, output, alpha, treatment=treatment,
        covariates=_covs(covariates), estimand=estimand, k=k, replace=replace,
        caliper=caliper or None, model=model, trim=trim)  # fmt: skip


@app.command("ipw")
def ipw_command(
    data: Data, outcome: Outcome, treatment: Treatment,
    covariates: Covariates = None, estimand: EstimandATE = "ATE",
    errors: Annotated[str, typer.Option(help="robust or bootstrap.")] = "robust",
    model: Model = "logistic", trim: Trim = None, alpha: Alpha = 0.05,
    placebo: Placebo = None, table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Inverse-probability weighting, with balance, overlap and weight diagnostics."""
    from sds.causal.weighting import ipw

    _run(
        ipw, (data, table, encoding), outcome,
        placebo, fmt, output, alpha, treatment=treatment,
        covariates=_covs(covariates), estimand=estimand, errors=errors, model=model,
        trim=trim)  # fmt: skip


@app.command("aipw")
def aipw_command(
    data: Data, outcome: Outcome, treatment: Treatment,
    covariates: Covariates = None, estimand: EstimandATE = "ATE",
    model: Model = "logistic", trim: Trim = None, alpha: Alpha = 0.05,
    placebo: Placebo = None, table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Doubly robust augmented IPW with influence-function errors."""
    from sds.causal.weighting import aipw

    _run(
        aipw, (data, table, encoding), outcome,
        placebo, fmt, output, alpha, treatment=treatment,
        covariates=_covs(covariates), estimand=estimand, model=model, trim=trim)  # fmt: skip


@app.command("did")
def did_command(
    data: Data, outcome: Outcome, treatment: Treatment, unit: Unit,
    time: Time, covariates: Covariates = None, cluster: Cluster = None,
    weight_column: WeightColumn = None,
    permutations: Annotated[int, typer.Option(help="Randomization-inference draws.")] = 500,
    alpha: Alpha = 0.05, placebo: Placebo = None, table: TableOpt = None,
    encoding: EncodingOpt = None, fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:  # fmt: skip
    """Difference-in-differences (2x2 or two-way fixed effects), clustered errors."""
    from sds.causal.did import did

    check("permutations", permutations)
    _run(
        did, (data, table, encoding), outcome,
        placebo, fmt, output, alpha, treatment=treatment, unit=unit, time=time,
        covariates=_covs(covariates), cluster=cluster, weights=weight_column,
        permutations=permutations)  # fmt: skip


@app.command("event-study")
def event_study_command(
    data: Data, outcome: Outcome, treatment: Treatment, unit: Unit,
    time: Time, covariates: Covariates = None, cluster: Cluster = None,
    weight_column: WeightColumn = None,
    leads: Annotated[int | None, typer.Option(help="Bin periods before this many.")] = None,
    lags: Annotated[int | None, typer.Option(help="Bin periods after this many.")] = None,
    alpha: Alpha = 0.05, table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Effects by period relative to adoption, with a joint pre-trend test and plot."""
    from sds.causal.event_study import event_study

    check_all({"leads": leads, "lags": lags})
    window = None if leads is None and lags is None else (leads or 10**6, lags or 10**6)
    _run(
        event_study, (data, table, encoding), outcome,
        None, fmt, output, alpha, treatment=treatment, unit=unit,
        time=time, covariates=_covs(covariates), cluster=cluster, weights=weight_column,
        window=window)  # fmt: skip


@app.command("staggered")
def staggered_command(
    data: Data, outcome: Outcome, treatment: Treatment, unit: Unit,
    time: Time, covariates: Covariates = None, cluster: Cluster = None,
    weight_column: WeightColumn = None,
    control: Annotated[str, typer.Option(help="never or not-yet (treated units).")] = "never",
    aggregation: Annotated[
        str, typer.Option(help="group, simple, dynamic or calendar.")
    ] = "group",
    alpha: Alpha = 0.05, table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Callaway-Sant'Anna group-time effects for staggered adoption."""
    from sds.causal.staggered import staggered

    _run(
        staggered, (data, table, encoding), outcome,
        None, fmt, output, alpha, treatment=treatment, unit=unit,
        time=time, covariates=_covs(covariates), cluster=cluster, weights=weight_column,
        control=control, aggregation=aggregation)  # fmt: skip


@app.command("rdd")
def rdd_command(
    data: Data, outcome: Outcome,
    running: Annotated[str, typer.Option(help="Running variable (score) column.")],
    cutoff: Annotated[float, typer.Option(help="Threshold of the running variable.")] = 0.0,
    treatment: OptTreatment = None, covariates: Covariates = None, cluster: Cluster = None,
    weight_column: WeightColumn = None, alpha: Alpha = 0.05, placebo: Placebo = None,
    table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Regression discontinuity (rdrobust) with density, continuity and placebo checks."""
    from sds.causal.rdd import rdd

    _run(
        rdd, (data, table, encoding), outcome,
        placebo, fmt, output, alpha, running=running, cutoff=cutoff,
        treatment=treatment, covariates=_covs(covariates), cluster=cluster,
        weights=weight_column)  # fmt: skip


@app.command("iv")
def iv_command(
    data: Data, outcome: Outcome, treatment: Treatment,
    instrument: Annotated[str, typer.Option(help="Instrument column(s), comma-separated.")],
    covariates: Covariates = None,
    estimator: Annotated[str, typer.Option(help="2sls or liml.")] = "2sls",
    cluster: Cluster = None, weight_column: WeightColumn = None, alpha: Alpha = 0.05,
    placebo: Placebo = None, table: TableOpt = None, encoding: EncodingOpt = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Instrumental variables with first-stage, weak-instrument and specification tests."""
    from sds.causal.iv import iv

    _run(
        iv, (data, table, encoding), outcome,
        placebo, fmt, output, alpha, treatment=treatment,
        instruments=_covs(instrument), covariates=_covs(covariates), estimator=estimator,
        cluster=cluster, weights=weight_column)  # fmt: skip


def _ask(value: Any, flag: str, prompt: str, choices: list[str] | None = None) -> Any:
    """A flag's value, or (on a terminal) the answer to a question, or an error naming the
    flag that answers it."""
    import sys

    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise ParameterError(
           f"missing answer to {prompt!r}", parameter=flag,
           expected=f"one of {', '.join(choices)}" if choices else f"{flag} or --no-{flag[2:]}",
           hint="Give every flag when not on a terminal (see sds causal advise --help).",
        )  # fmt: skip
    if choices:
        return typer.prompt(f"{prompt} [{'/'.join(choices)}]")
    return typer.confirm(prompt)


@app.command("advise")
def advise_command(
    assignment: Annotated[
        str | None,
        typer.Option(help="randomized, cutoff, instrument, policy or self-selected."),
    ] = None,
    panel: Annotated[
        bool | None, typer.Option(help="The same units are observed before and after.")
    ] = None,
    staggered: Annotated[
        bool | None, typer.Option(help="Treatment started at several different times.")
    ] = None,
    full_compliance: Annotated[
        bool | None, typer.Option(help="A cutoff decides treatment fully (sharp).")
    ] = None,
    measured: Annotated[
        bool | None, typer.Option(help="What drove treatment is measured in the data.")
    ] = None,
    fmt: FormatOpt = None, output: OutputOpt = None,
) -> None:  # fmt: skip
    """Recommend a method from how treatment was assigned and what data exist."""
    from sds.causal.advise import ASSIGNMENTS, advise

    resolve_format(fmt, output)
    how = _ask(assignment, "--assignment", "How was treatment assigned?", list(ASSIGNMENTS))
    kwargs: dict[str, bool] = {}
    if how == "cutoff":
        kwargs["full_compliance"] = _ask(
            full_compliance, "--full-compliance", "Does the cutoff decide treatment fully?"
        )
    elif how in ("policy", "self-selected"):
        kwargs["panel"] = _ask(panel, "--panel", "Are the same units observed before and after?")
        if kwargs["panel"]:
            kwargs["staggered"] = _ask(
                staggered, "--staggered", "Did treatment start at several times?"
            )
        elif how == "self-selected":
            kwargs["confounders_measured"] = _ask(
                measured, "--measured", "Is what drove treatment measured?"
            )
    emit(advise(how, **kwargs), fmt, output)
