"""The model entry points of the public namespace: ``sds.train`` and ``sds.evaluate``, in
the namespace's one argument order (see :mod:`sds`): the data first, then the config or
the model, then keyword-only options.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sds.models.config import TrainConfig
from sds.models.evaluate import Evaluation
from sds.models.run import TrainResult, train_model
from sds.models.suite import evaluate_saved


def train(
    data: Any,
    config: TrainConfig | Mapping[str, Any] | str | Path,
    /,
    *,
    model_dir: str | Path | None = None,
    track: bool = True,
) -> TrainResult:
    """Split, tune and fit the config's candidates on `data`, evaluate on the held-out
    rows and save the model.

    Args:
        data: A DataFrame, path, SQL query or `Table`, or `None` for the table the config
            names.
        config: A `TrainConfig`, a mapping of its fields, or a YAML/JSON config file: target,
            features, split, candidates, metrics.
        model_dir: Folder the signed model is saved to; `None` uses the config's `output`,
            else `models/NAME`.
        track: Record the run (config, metrics, model) in the tracking store, so
            `sds reproduce` can rerun it; `False` trains without recording.

    Returns:
        The training run, each candidate's tuned parameters and cross-validated scores,
            and the evaluation of the chosen model on the held-out rows.

    Raises:
        ConfigError: The config is invalid.
        DataError: The data lacks a configured column or cannot be trained on.
    """
    return train_model(_with_data(config, data), data, output=model_dir, track=track)


def _with_data(config: TrainConfig | Mapping[str, Any] | str | Path, data: Any) -> Any:
    """The config naming ``data`` when it is a path or SQL, so the tracked run (and
    ``sds reproduce``) reads the same rows; a frame is named only if the config names none."""
    if data is None or isinstance(config, str | Path):
        return config
    name = str(data) if isinstance(data, str | Path) else None
    if isinstance(config, TrainConfig):
        return config.model_copy(update={"data": name}) if name else config
    return {**config, "data": name or config.get("data", "data frame")}


def evaluate(
    data: Any,
    model: str | Path,
    /,
    *,
    config: str | Path | None = None,
    trust: bool = False,
    positive: str | int | float | bool | None = None,
) -> Evaluation:
    """The evaluation suite of a saved model on `data`.

    Args:
        data: A path, SQL query or DataFrame with the features and the target, or `None`
            for the rows held out when the model was trained.
        model: The model folder written by `sds train` / `sds.train`.
        config: Scorecard config file with the limits each criterion is judged against;
            `None` uses the defaults.
        trust: Load a model not signed with this machine's key (only for models from a
            source you trust: loading runs its code).
        positive: The positive class; it must be the one the model was trained for
            (recorded in its `model.json`; the report states it and why it was chosen).
            `None` uses the recorded one.

    Returns:
        The task's metrics with intervals, calibration, fairness, the train-test gap,
            importance, the scorecard (pass / fail / not enough data) and warnings.

    Raises:
        DataError: The model folder is missing or is not an sds model, its file was
            changed, its signature does not verify (without `trust`), or the data lacks a
            feature or the target.
        ParameterError: `positive` is given for a model that is not binary, or is not
            the model's class.
    """
    return evaluate_saved(model, data, config, trust=trust, positive=positive)
