"""A served model: the saved model loaded (hash and signature checked), its validator and its
runtime."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sds.errors import DataError
from sds.models.modelfile import load_model
from sds.models.positive import LEGACY
from sds.serving.runtime import Runtime, build_runtime
from sds.serving.validate import Validator

SAMPLE_ROWS = 1_000


@dataclass
class ServedModel:
    name: str
    version: str  # the first 12 hex digits of the model file's SHA-256
    meta: dict[str, Any]
    validator: Validator
    runtime: Runtime

    def predict(self, records: list[dict[str, Any]]) -> list[Any]:
        return self.answers(self.scores(self.validator.columns(records), len(records)))

    def scores(self, columns: Mapping[str, Any], n: int) -> np.ndarray:
        return self.runtime.predict(columns, n)

    def answers(self, out: np.ndarray) -> list[Any]:
        task = self.meta["task"]
        if task == "binary":
            threshold = self.meta.get("threshold") or 0.5
            classes = self.meta.get("classes") or ["0", "1"]
            return [  # Python floats: a numpy scalar is slow to compare and convert
                {"probability": p, "label": classes[1] if p >= threshold else classes[0]}
                for p in map(float, out.tolist())
            ]
        if task == "multiclass":
            classes = self.meta.get("classes", [])
            return [
                {
                    "probabilities": dict(zip(classes, map(float, row), strict=True)),
                    "label": classes[int(np.argmax(row))],
                }
                for row in out
            ]
        return [float(v) for v in out]

    def positive(self) -> dict[str, Any]:
        """Binary: the class ``probability`` is for (``label`` is it at or above the
        threshold) and why it was chosen at training; a model saved before this was
        recorded gives the probability of its second class."""
        m = self.meta
        if m["task"] != "binary":
            return {}
        if "positive_class" in m:
            return {"positive_class": m["positive_class"], "positive_rule": m.get("positive_rule")}
        classes = m.get("classes") or ["0", "1"]
        return {"positive_class": classes[1], "positive_rule": LEGACY}

    def describe(self) -> dict[str, Any]:
        m = self.meta
        return {
            "name": self.name,
            "version": self.version,
            "sha256": m["sha256"],
            "task": m["task"],
            "target": m["target"],
            "candidate": m.get("candidate"),
            "threshold": m.get("threshold"),
            "classes": m.get("classes"),
            **self.positive(),
            "input_schema": m.get("input_schema"),
            "training_metrics": {"train_score": m.get("train_score")},
            "runtime": {"kind": self.runtime.kind, "detail": self.runtime.reason},
        }


def check_servable(path: str | Path, trust: bool = False) -> Any:
    """The saved model (hash and signature checked; ``trust`` loads an unsigned one) if it
    can be served; a clear error if not. Nothing is predicted, so no thread pool starts
    before the server forks its workers."""

    saved = load_model(path, trust=trust)
    if "input_schema" not in saved.meta:
        raise DataError(
            "the model has no input schema to validate requests against",
            source=str(saved.path),
            hint="Retrain it with this version of sds train.",
        )
    return saved


def load_served(path: str | Path, margin: float | None = 0.1, trust: bool = False) -> ServedModel:
    """Load a model folder from ``sds train`` for serving; the runtime is compiled and
    checked against scikit-learn on the saved test rows."""
    import pandas as pd

    saved = check_servable(path, trust)
    meta = saved.meta
    test = saved.path / "test.parquet"
    sample = pd.read_parquet(test).head(SAMPLE_ROWS) if test.is_file() else None
    runtime = build_runtime(saved.model, meta, sample)
    return ServedModel(
        name=str(meta.get("name", "model")),
        version=str(meta["sha256"])[:12],
        meta=meta,
        validator=Validator(meta["input_schema"], margin, meta.get("protected", [])),
        runtime=runtime,
    )
