"""``sds demo``: the end-to-end tour on generated data, one chapter per capability."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from sds.cli.demo_analysis import analysis_chapter
from sds.cli.demo_assign import assignment_chapters
from sds.cli.demo_causal import causal_chapters
from sds.cli.demo_features import features_chapters
from sds.cli.demo_models import models_chapters
from sds.cli.demo_monitoring import monitoring_chapters
from sds.cli.demo_serving import canary_chapters, serving_chapters
from sds.cli.demo_warehouse import warehouse_chapters
from sds.data.io import open_table
from sds.errors import ParameterError
from sds.params import Interval, check


def command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder.")] = Path(
        "reports"
    ),
    rows: Annotated[int, typer.Option(help="Rows of the generated churn table.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the generators.")] = 42,
) -> None:
    """Generate data and run every capability on it, one report chapter each, in this
    order: profile the churn table (profile); plan three tests and check last month's split
    by day (design, srm); test and regress (stats); assign 50,000 generated ids and check
    the split (assign, srm); analyse a test from its spec (analyze), and a test inside
    PostgreSQL when a server is at hand (SDS_DEMO_POSTGRES, or the server binaries; one
    line saying how to get one otherwise); build, select and register point-in-time
    features (features); train churn models with and without a leak (train); serve the
    model live under 200 requests (serve); a canary of two models under 400 routed
    requests and its call (canary report); drift after a planted shift and the request
    log (monitor); causal methods on public data (causal; needs the causal extra).
    Writes OUTPUT/index.html, index.json and one JSON per chapter; every server it starts
    is stopped before it returns, also on an error or Ctrl-C."""
    from sds.data import synth
    from sds.features.profile import profile
    from sds.report.assemble import Chapter, write_report

    check("rows", rows, Interval(1_000, 10**9, integer=True))
    check("seed", seed)
    if output.exists() and not output.is_dir():
        raise ParameterError(f"--output == {str(output)!r} is a file, must be a folder")
    started = time.perf_counter()
    data_path = output / "data" / "churn.parquet"
    _say(f"generating {rows:,} churn rows -> {data_path}")
    synth.write_parquet("churn", data_path, seed=seed, n_rows=rows, progress=True)
    _say("profiling them in the engine")
    chapters = [Chapter("Data profile: churn table", profile(str(data_path)), "profile.json")]
    chapters += _design_chapters(output, seed)
    chapters += _stats_chapters(output / "data" / "ab_history.parquet", data_path)
    chapters += assignment_chapters(output, seed)
    chapters.append(analysis_chapter(output, seed, users=max(30_000, min(200_000, rows // 5))))
    chapters += warehouse_chapters(output, seed, users=max(20_000, min(100_000, rows // 10)))
    chapters += features_chapters(output, seed)
    chapters += models_chapters(output, seed, rows=min(20_000, max(3_000, rows)))
    chapters += serving_chapters(output, seed)
    chapters += canary_chapters(output, seed)
    chapters += monitoring_chapters(output, seed)
    chapters += causal_chapters(output)
    index = write_report(output, "sds demo", chapters)
    _say(f"done in {time.perf_counter() - started:.1f} s")
    print(f"report: {index}")
    print(f"json:   {output / 'index.json'} ({', '.join(c.json_name for c in chapters)})")


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _design_chapters(output: Path, seed: int) -> list[Any]:
    """Plan the next test from last month's (generated) traffic, with CUPED."""
    from sds.data import synth
    from sds.experiments.design import design
    from sds.report.assemble import Chapter

    history = output / "data" / "ab_history.parquet"
    _say(f"generating A/B history -> {history}; planning three metrics from it")
    synth.write_parquet("ab_test", history, seed=seed, n_users=200_000)
    common = {"data": str(history), "covariate": "pre_revenue", "daily_units": 20_000}
    plans: list[tuple[str, str, dict[str, Any]]] = [
        (
            "Plan: conversion",
            "plan_conversion.json",
            {"metric": "proportion", "column": "converted", "mde": 0.05, **common},
        ),
        (
            "Plan: revenue per user (CUPED)",
            "plan_revenue.json",
            {"metric": "mean", "column": "revenue", "mde": 0.05, **common},
        ),
        (
            "Plan: orders per session (delta method, 5 looks)",
            "plan_orders_per_session.json",
            {
                "metric": "ratio",
                "numerator": "orders",
                "denominator": "sessions",
                "mde": 0.05,
                "looks": 5,
                **common,
            },
        ),
    ]
    chapters = [Chapter(title, design(**spec), name) for title, name, spec in plans]
    return [*chapters, _srm_chapter(history)]


def _srm_chapter(history: Path) -> Any:
    """Check last month's split by day: the generated test has no mismatch."""
    from sds.experiments.srm import srm_by_day
    from sds.report.assemble import Chapter

    result = srm_by_day(
        open_table(str(history)), "variant", "assigned_at", ["control", "treatment"]
    )
    return Chapter("Sample-ratio check by day", result, "srm.json")


def _stats_chapters(history: Path, churn: Path) -> list[Any]:
    """Classic tests on last month's test, each chosen by sds stats auto, and a churn model."""
    from sds.report.assemble import Chapter
    from sds.stats.runner import StatsSpec, run

    _say("testing last month's A/B results (sds stats auto) and fitting a churn regression")
    table = open_table(str(history))
    specs = [
        ("Test: conversion by variant (auto)", "stats_conversion.json", "converted"),
        ("Test: revenue per user by variant (auto)", "stats_revenue.json", "revenue"),
    ]
    chapters = [
        Chapter(title, run(table, StatsSpec("auto", value=col, group="variant")), name)
        for title, name, col in specs
    ]
    return [*chapters, _churn_model_chapter(churn)]


CHURN_FORMULA = (
    "churned ~ tenure_months + monthly_charges + support_calls + last_login_days"
    " + C(contract) + C(region)"
)


def _churn_model_chapter(churn: Path) -> Any:
    """Which customers churn: a logistic regression with odds ratios and diagnostics."""
    from sds.report.assemble import Chapter
    from sds.stats.runner import StatsSpec, run

    result = run(open_table(str(churn)), StatsSpec("logit", formula=CHURN_FORMULA))
    return Chapter("Regression: what drives churn (logit, odds ratios)", result, "churn_logit.json")
