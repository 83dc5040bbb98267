"""``sds train``, ``sds evaluate`` and ``sds reproduce``: models from a config, their
evaluation suite and scorecard, and a logged run retrained to confirm its metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sds.cli.common import FormatOpt, OutputOpt, beside, emit, resolve_format
from sds.config import read_mapping, validate_mapping
from sds.params import Interval, check

StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Exit 1 when a scorecard criterion fails.")
]
TrustOpt = Annotated[
    bool,
    typer.Option(
        "--trust-model",
        help="Load a model not signed with this machine's key (SDS_MODEL_KEY); "
        "a model file can run any code when loaded.",
    ),
]


def train_command(
    config: Annotated[Path, typer.Argument(help="Training config (YAML or JSON).")],
    model_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the model (default: the config's output, else models/NAME)."),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="Training data; overrides the config's 'data'.")
    ] = None,
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (default: sqlite:///mlruns.db).")
    ] = None,
    no_track: Annotated[bool, typer.Option("--no-track", help="Do not log to MLflow.")] = False,
    strict: StrictOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Split, tune and fit the candidates, choose on validation, evaluate on test, save the
    model with its SHA-256 and log the run."""
    from sds.models.config import TrainConfig
    from sds.models.run import train_model

    resolve_format(fmt, output)
    raw = read_mapping(config)
    cfg = validate_mapping(raw, TrainConfig, str(config))
    updates: dict[str, Any] = {"data": data if data is not None else beside(cfg.data, config)}
    if tracking_uri:
        updates["tracking_uri"] = tracking_uri
    if cfg.output and model_dir is None:
        updates["output"] = beside(cfg.output, config) or cfg.output
    result = train_model(cfg.model_copy(update=updates), output=model_dir, track=not no_track)
    emit(result, fmt, output)
    _strict_exit(strict, result.passed)


def evaluate_command(
    model: Annotated[Path, typer.Option("--model", "-m", help="Model folder from sds train.")],
    data: Annotated[
        str | None,
        typer.Option(help="Held-out rows (default: the test split saved with the model)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Scorecard thresholds (YAML/JSON, the 'scorecard' "
            "section of a training config or the section itself).",
        ),
    ] = None,
    positive: Annotated[
        str | None,
        typer.Option(
            help="The positive class; it must be the one the model was trained for (see "
            "positive_class in its model.json; retrain with 'positive:' for the other).",
        ),
    ] = None,
    strict: StrictOpt = False,
    trust_model: TrustOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The evaluation suite and scorecard for a saved model, with the run's seed."""
    from sds.models.suite import evaluate_saved

    resolve_format(fmt, output)
    result = evaluate_saved(model, data, config, trust=trust_model, positive=positive)
    emit(result, fmt, output)
    _strict_exit(strict, result.passed)


def reproduce_command(
    run_id: Annotated[str, typer.Argument(help="The MLflow run id that sds train printed.")],
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (default: sqlite:///mlruns.db).")
    ] = None,
    tolerance: Annotated[float, typer.Option(help="Largest metric difference allowed.")] = 1e-9,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Retrain a logged run from its config and data; exit 1 unless every metric matches."""
    from sds.models.reproduce import reproduce

    resolve_format(fmt, output)
    check("tolerance", tolerance, Interval(0.0, None))  # NaN would match nothing, inf anything
    result = reproduce(run_id, tracking_uri, tolerance)
    emit(result, fmt, output)
    if not result.matched:
        raise typer.Exit(1)


def _strict_exit(strict: bool, passed: bool) -> None:
    if strict and not passed:
        import sys

        print("scorecard: at least one criterion failed (--strict)", file=sys.stderr)
        raise typer.Exit(1)
