"""``sds stats TEST --data FILE``: classic tests, regressions and ``--test auto``."""

from __future__ import annotations

from typing import Annotated

import typer

from sds.cli.common import FormatOpt, OutputOpt

TEST_HELP = (
    "ttest (Welch; --equal-var for Student; --pair-id for paired; no --group for one-sample), "
    "welch, student, paired, one-sample, mannwhitney, wilcoxon, sign, ks, chi2, fisher, ztest, "
    "anova, welch-anova, kruskal, tukey, games-howell, levene, brown-forsythe, pearson, "
    "spearman, kendall, shapiro, anderson, dagostino, ols, logit, poisson, or auto (check the "
    "assumptions and choose)."
)


def command(
    test: Annotated[str, typer.Argument(help=TEST_HELP)] = "auto",
    data: Annotated[str, typer.Option(help="A file, glob, DuckDB file or SQL query.")] = "",
    value: Annotated[
        str | None,
        typer.Option(help="Outcome column (two, comma-separated, for correlations or wide pairs)."),
    ] = None,
    group: Annotated[str | None, typer.Option(help="Grouping column.")] = None,
    pair_id: Annotated[
        str | None, typer.Option(help="Id that pairs rows across the two groups (paired tests).")
    ] = None,
    formula: Annotated[
        str | None, typer.Option(help="Regression formula, e.g. 'revenue ~ price + C(region)'.")
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(
            help="Control (reference) group of a two-group comparison: results are treatment "
            "minus control. Default: a level named control, ctrl, baseline or a, else the "
            "first level in sorted order (the first column for two --value columns)."
        ),
    ] = None,
    alternative: Annotated[
        str, typer.Option(help="two-sided, greater or less (greater: treatment above control).")
    ] = "two-sided",
    alpha: Annotated[float, typer.Option(help="Level for the assumption checks.")] = 0.05,
    equal_var: Annotated[
        bool, typer.Option("--equal-var", help="Student's t instead of Welch's.")
    ] = False,
    mu: Annotated[float, typer.Option(help="Hypothesised mean or median (one-sample).")] = 0.0,
    by: Annotated[
        str | None, typer.Option(help="Run the test per level of this column, p-values adjusted.")
    ] = None,
    correction: Annotated[
        str,
        typer.Option(
            help="Adjustment across --by levels: holm, hochberg, bonferroni, "
            "benjamini-hochberg, benjamini-yekutieli, none."
        ),
    ] = "holm",
    cov_type: Annotated[
        str | None,
        typer.Option(help="Regression errors: nonrobust, HC0-HC3, cluster (default HC3/HC0)."),
    ] = None,
    cluster: Annotated[
        str | None, typer.Option(help="Cluster column for clustered standard errors.")
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(help="Outcome level counted as the event (chi2, fisher, ztest odds/risk)."),
    ] = None,
    table: Annotated[str | None, typer.Option(help="Table name inside a DuckDB file.")] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding, e.g. latin-1.")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Run a hypothesis test or regression on a table, with effect sizes and checks."""
    from sds.cli.common import emit, resolve_format
    from sds.data.io import open_table
    from sds.errors import ParameterError
    from sds.params import Interval, check
    from sds.stats.runner import StatsSpec, run, test_name

    resolve_format(fmt, output)
    if not data:
        raise ParameterError("give the data with --data FILE", parameter="data")
    check("mu", mu, Interval())  # finite
    spec = StatsSpec(
        test=test_name(test),
        value=value,
        group=group,
        pair_id=pair_id,
        formula=formula,
        alternative=alternative,
        alpha=alpha,
        equal_var=equal_var,
        mu=mu,
        by=by,
        correction=correction,
        cov_type=cov_type,
        cluster=cluster,
        event=event,
        control=control,
    )
    emit(run(open_table(data, table=table, encoding=encoding), spec), fmt, output)
