"""The jobs behind ``scripts/train.py``, ``scripts/evaluate.py`` and
``scripts/model_evaluation_suite.py``.

- ``train.py --config prod.yaml [-o MODEL_DIR]``: ``sds train``; the model folder gets
  ``report.json`` and ``report.html`` beside the model.
- ``evaluate.py --model PATH [--data FILE] [-c scorecard.yaml] [-o DIR]``: ``sds evaluate``;
  the report goes to ``DIR`` (default: ``evaluation/`` inside the model folder).
- ``model_evaluation_suite.py -i models/ -o evaluation/ [-c config.yaml]``: every model
  under ``models/``, compared by DeLong's test where they share test rows. ``--deploy``
  also starts ``sds serve`` with each model on 127.0.0.1, puts a bounded load on it and
  checks P95 latency < 100 ms, error rate < 0.1% and online = offline predictions on the
  test rows; a failed check exits 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from sds.cli.common import beside
from sds.cli.seed import SeedContext, SeedJob
from sds.errors import AnalysisError, InputError
from sds.models.config import TrainConfig
from sds.report.files import write_atomic


class ScorecardFile(BaseModel):
    """Read as a plain mapping here; :func:`sds.models.suite.scorecard_config` validates the
    thresholds (a training config's ``scorecard`` section, or the section alone)."""

    model_config = ConfigDict(extra="allow")


def _write_reports(result: Any, folder: Path) -> None:
    html, text = result.render("html"), result.render("json")  # render both before writing
    write_atomic(folder / "report.json", text)
    write_atomic(folder / "report.html", html)


def run_train(ctx: SeedContext) -> int:
    from sds.models.run import train_model

    cfg = ctx.config
    assert isinstance(cfg, TrainConfig)
    assert ctx.args.config is not None
    cfg = cfg.model_copy(update={"data": beside(cfg.data, ctx.args.config)})
    folder = ctx.output or Path(cfg.output or Path("models") / cfg.name)
    result = train_model(cfg, output=folder, track=not ctx.args.no_track)
    _write_reports(result, folder)
    ctx.log.info("model %s in %s, run %s", result.run.chosen, folder, result.run.run_id)
    return int(sum(s.rows for s in result.run.split.splits))


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-track", action="store_true", help="Do not log to MLflow.")


TRAIN_JOB = SeedJob(
    name="train.py",
    description="Train models from a config: scripts/train.py --config prod.yaml "
    "[-o MODEL_DIR]. Keys as in 'sds train --help'.",
    run=run_train,
    config_model=TrainConfig,
    input_required=False,
    output_required=False,
    config_required="a training config (--config prod.yaml)",
    extra_arguments=_train_arguments,
)


def run_evaluate(ctx: SeedContext) -> int:
    from sds.models.suite import evaluate_saved

    model = ctx.args.model or ctx.input
    if model is None:
        raise InputError("give the model folder with --model PATH (see --help)")
    result = evaluate_saved(model, ctx.args.data, ctx.args.config)
    folder = ctx.output or Path(model) / "evaluation"
    _write_reports(result, folder)
    return int(result.rows)


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="Model folder written by train.py.")
    parser.add_argument("--data", help="Held-out rows (default: the model's test split).")


EVALUATE_JOB = SeedJob(
    name="evaluate.py",
    description="Evaluate a saved model: scripts/evaluate.py --model PATH [--data FILE] "
    "[-c scorecard.yaml] [-o DIR].",
    run=run_evaluate,
    config_model=ScorecardFile,
    input_required=False,
    output_required=False,
    config_required="scorecard thresholds",
    extra_arguments=_evaluate_arguments,
)


def run_suite(ctx: SeedContext) -> int:
    from sds.models.suite import evaluate_folder
    from sds.serving.deploycheck import deploy_folder

    assert ctx.input is not None and ctx.output is not None
    result = evaluate_folder(ctx.input, ctx.args.data, ctx.args.config)
    if ctx.args.deploy:  # the serving layer starts the server; the models layer never does
        result = result.with_deployment(deploy_folder(ctx.input))
    _write_reports(result, ctx.output)
    if ctx.args.deploy and not all(check.passed for _, check in result.deployment):
        raise AnalysisError(f"a deployment check failed; see {ctx.output / 'report.html'}")
    return len(result.models)


def _suite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", help="Score every model on these rows (default: each model's own test split)."
    )
    parser.add_argument(
        "--deploy", action="store_true", help="Also load-test the model behind the model server."
    )


SUITE_JOB = SeedJob(
    name="model_evaluation_suite.py",
    description="Evaluate every model in a folder: scripts/model_evaluation_suite.py "
    "-i models/ -o evaluation/ [-c config.yaml] [--deploy].",
    run=run_suite,
    config_model=ScorecardFile,
    config_required="scorecard thresholds",
    extra_arguments=_suite_arguments,
)
