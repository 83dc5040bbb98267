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
    """Split, tune and fit the config's candidates on ``data`` (a DataFrame, path, SQL or
    Table; ``None`` for the table the config names), evaluate on the held-out rows and save
    the model to ``model_dir`` (default: the config's ``output``, else ``models/NAME``)."""
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
    """The evaluation suite of the saved ``model`` folder on ``data`` (a path, SQL or
    DataFrame; ``None`` for the rows held out when it was trained). ``config`` holds the
    scorecard limits; ``trust`` loads a model not signed with this machine's key;
    ``positive`` names the positive class, which must be the one the model was trained for
    (recorded in its ``model.json``; the report states it and why it was chosen)."""
    return evaluate_saved(model, data, config, trust=trust, positive=positive)
