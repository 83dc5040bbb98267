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

from pydantic import BaseModel, ConfigDict, Field

from sds.cli.common import beside
from sds.cli.seed import SeedContext, SeedJob
from sds.config import StrictModel, validate_mapping
from sds.errors import AnalysisError, InputError
from sds.models.config import ScorecardConfig, TrainConfig
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
    "[-o MODEL_DIR]. Config keys as in 'sds train --help' (data, target, candidates, split, "
    "tuning, scorecard, output ...; data relative to the config's folder). The model goes "
    "to -o, else the config's output, else models/<name>, with report.json and report.html.",
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
    raw = ctx.config.model_dump() if ctx.config is not None else None
    scorecard = None if raw is None else suite_config(raw, ctx.args.config).scorecard
    result = evaluate_saved(model, ctx.args.data, scorecard)
    folder = ctx.output or Path(model) / "evaluation"
    _write_reports(result, folder)
    return int(result.rows)


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="Model folder written by train.py.")
    parser.add_argument("--data", help="Held-out rows (default: the model's test split).")


EVALUATE_JOB = SeedJob(
    name="evaluate.py",
    description="Evaluate a saved model: scripts/evaluate.py --model PATH [--data FILE] "
    "[-c scorecard.yaml] [-o DIR]. The report (report.json, report.html) goes to -o, else "
    "PATH/evaluation/. Config keys (-c): the scorecard thresholds (auc_min, brier_max ...), "
    "alone, under scorecard:, or a training config's scorecard.",
    run=run_evaluate,
    config_model=ScorecardFile,
    input_required=False,
    output_required=False,
    config_required="scorecard thresholds",
    extra_arguments=_evaluate_arguments,
)


class DeployConfig(StrictModel):
    """The load ``--deploy`` puts on each model behind ``sds serve``, and its criteria."""

    requests: int = Field(default=2_000, ge=1, description="Requests sent per model.")
    connections: int = Field(default=8, ge=1, description="Concurrent connections.")
    seconds: float = Field(default=60.0, gt=0, description="Longest time the load may take.")
    workers: int = Field(default=2, ge=1, description="Server worker processes.")
    p95_max_ms: float = Field(default=100.0, gt=0, description="Highest P95 latency that passes.")
    error_rate_max: float = Field(
        default=0.001, ge=0, description="Highest share of failed requests that passes."
    )


class SuiteConfig(StrictModel):
    """The suite's ``-c`` file. Relative paths are read from the config file's folder;
    ``-i``, ``-o`` and ``--data`` win over ``models``, ``output`` and ``data``."""

    models: str = Field(default="models", description="Folder of models (as -i).")
    output: str = Field(default="evaluation", description="Folder the report goes to (as -o).")
    data: str | None = Field(
        default=None, description="Rows every model is scored on (default: its test split)."
    )
    scorecard: ScorecardConfig = Field(
        default_factory=ScorecardConfig, description="Thresholds, as in a training config."
    )
    deploy: DeployConfig = Field(
        default_factory=DeployConfig, description="The load and criteria of --deploy."
    )


def suite_config(raw: dict[str, Any] | None, path: Path | None) -> SuiteConfig:
    """The suite's settings from ``-c`` (``raw``, read from ``path``): a suite config
    (:class:`SuiteConfig`), a training config (its ``scorecard``; its ``output``, the model
    folder, as ``models``) or a bare scorecard section; the defaults without a file."""
    if raw is None or path is None:
        return SuiteConfig()
    if raw.get("kind") == "train" or "target" in raw:
        train = validate_mapping(raw, TrainConfig, str(path))
        models = train.output or str(Path("models") / train.name)
        config = SuiteConfig(models=models, scorecard=train.scorecard)
    elif raw and set(raw) <= set(ScorecardConfig.model_fields):
        config = SuiteConfig(scorecard=validate_mapping(raw, ScorecardConfig, str(path)))
    else:
        config = validate_mapping(raw, SuiteConfig, str(path))
    folder = {k: str(path.parent / getattr(config, k)) for k in ("models", "output")}
    return config.model_copy(update={**folder, "data": beside(config.data, path)})


def run_suite(ctx: SeedContext) -> int:
    from sds.models.suite import evaluate_folder
    from sds.serving.deploycheck import deploy_folder

    raw = ctx.config.model_dump() if ctx.config is not None else None
    config = suite_config(raw, ctx.args.config)
    models = ctx.input or Path(config.models)
    output = ctx.output or Path(config.output)
    ctx.log.info("evaluating the models under %s", models)
    result = evaluate_folder(models, ctx.args.data or config.data, config.scorecard)
    if ctx.args.deploy:  # the serving layer starts the server; the models layer never does
        result = result.with_deployment(deploy_folder(models, **config.deploy.model_dump()))
    _write_reports(result, output)
    ctx.log.info("wrote %s and %s", output / "report.json", output / "report.html")
    if ctx.args.deploy and not all(check.passed for _, check in result.deployment):
        raise AnalysisError(f"a deployment check failed; see {output / 'report.html'}")
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
    description="Evaluate every model in a folder and compare them (DeLong, on the test "
    "rows they share): scripts/model_evaluation_suite.py -i models/ -o evaluation/ "
    "[-c config.yaml] [--deploy], or --config config.yaml --deploy with the paths in the "
    "config. Config keys: models (default models/), output (the report's folder, default "
    "evaluation/), data (rows to score; default each model's test split), scorecard "
    "(thresholds: auc_min, brier_max, ...), deploy (requests, connections, seconds, "
    "workers, p95_max_ms, error_rate_max). A training config is accepted too: its "
    "scorecard, and its output as models. Relative paths are read from the config's folder.",
    run=run_suite,
    config_model=ScorecardFile,
    input_required=False,
    output_required=False,
    config_required="the suite config (read by the job)",
    extra_arguments=_suite_arguments,
)
