"""Scores from a saved model, as a DataFrame: what ``TrainResult.predict`` returns.

The model is loaded from its folder like every other reader does (SHA-256 and signature
checked, :mod:`sds.models.modelfile`), and it must be the very file the training run wrote:
if the folder has since switched to a newer version, the run's own version is used while it
is still kept under ``versions/``, else the call fails rather than score with another model.
The inputs are checked against the saved input schema (:mod:`sds.models.inputs`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sds.data.io import open_table
from sds.errors import DataError, missing_column_error
from sds.models.evaluate import predictions
from sds.models.inputs import checked_inputs
from sds.models.modelfile import META_FILE, SavedModel, load_model
from sds.models.versions import VERSIONS


def load_version(model_path: str | Path, sha256: str) -> SavedModel:
    """The saved model whose file has SHA-256 ``sha256``: the one at ``model_path``, else
    the version kept beside it under ``versions/``."""
    saved = load_model(model_path)
    if saved.meta.get("sha256") == sha256:
        return saved
    kept = Path(model_path).parent / VERSIONS
    for meta in sorted(kept.glob(f"*/{META_FILE}")):
        try:
            found = json.loads(meta.read_text(encoding="utf-8")).get("sha256")
        except (OSError, ValueError, AttributeError):  # unreadable: not the version sought
            continue
        if found == sha256:
            return load_model(meta.parent)
    raise DataError(
        "the model folder no longer holds the model this run trained",
        source=str(model_path),
        found=f"sha256 {str(saved.meta.get('sha256'))[:12]}…",
        expected=f"sha256 {sha256[:12]}…",
        hint="It was retrained since; load the new run's result, or train again.",
    )


def score_frame(saved: SavedModel, data: Any) -> pd.DataFrame:
    """Scores of ``data`` (a DataFrame, or any source ``open_table`` reads) by ``saved``.

    Binary: ``probability`` of the recorded positive class and ``label`` (that class at or
    above the saved threshold, else the other, as text: as the server answers);
    multiclass: ``probability_<class>`` per class and ``label``; regression:
    ``prediction``. A DataFrame keeps its index.
    """
    frame = data if isinstance(data, pd.DataFrame) else open_table(data).to_pandas()
    source = "data" if isinstance(data, pd.DataFrame) else str(getattr(data, "name", data))
    meta = saved.meta
    for column in meta["features"]:
        if column not in frame.columns:
            raise missing_column_error(column, list(frame.columns), source)
    x, notes = checked_inputs(frame[meta["features"]], meta, source)
    for note in notes:
        warnings.warn(f"{source}: {note}", UserWarning, stacklevel=3)
    scores = predictions(saved.model, x, meta["task"])
    if meta["task"] == "binary":
        return _binary(saved, scores, frame.index)
    if meta["task"] == "multiclass":
        classes = [str(c) for c in meta.get("classes") or saved.model.classes_]
        out = pd.DataFrame(scores, columns=[f"probability_{c}" for c in classes])
        out["label"] = np.asarray(classes, dtype=object)[np.argmax(scores, axis=1)]
        return out.set_axis(frame.index)
    return pd.DataFrame({"prediction": scores}, index=frame.index)


def _binary(saved: SavedModel, scores: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """``[negative, positive]`` as model.json records them (text), as the server reads them."""
    classes = saved.meta.get("classes") or [str(c) for c in saved.model.classes_]
    threshold = saved.meta.get("threshold") or 0.5
    labels = np.where(scores >= threshold, classes[1], classes[0]).astype(object)
    return pd.DataFrame({"probability": scores, "label": labels}, index=index)
