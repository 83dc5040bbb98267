"""``sds train`` and ``sds reproduce`` from Python: the whole training run as one call.

:func:`train_model` prepares and splits the data, fits the candidates, chooses one on
validation, runs the checks only training can run (leakage on the training rows, learning
curve, cross-validated spread, a second fit that must predict identically, and the
comparison of the candidates), evaluates on test, writes the model as a new version (with
the test rows, so ``sds evaluate --model`` needs nothing else), logs the run to MLflow and
only then switches the model folder to the new version (:mod:`sds.models.versions`): a
failure or a kill at any point leaves the model in use as it was.
:func:`reproduce` retrains from a logged run's config and checks its metrics to 1e-9.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.features.leakage import leakage
from sds.models.compare import compare
from sds.models.evaluate import Evaluation, evaluate, predictions
from sds.models.positive import binary_classes
from sds.models.predict import load_version, score_frame
from sds.models.records import Pairs, Record, plain, records
from sds.models.schema import input_schema
from sds.models.split import SplitSummary
from sds.models.stability import learning_curve
from sds.models.tracking import artifact_root, check_uri, flat, log_run, resolved
from sds.models.train import (
    Prepared,
    choose_threshold,
    fit_candidates,
    load_config,
    prepare,
    recalibrated,
)
from sds.models.training_records import CandidateRow, TrainingChecks
from sds.models.versions import new_version
from sds.progress import progress_steps
from sds.results import Figure, KeyValue, Result, Section, jsonable_dict, records_table


@dataclass(frozen=True)
class TrainingRun(Record):
    """The run: what was trained, the chosen candidate, where the model went, the split."""

    optional: ClassVar[tuple[str, ...]] = ("run_id", "tracking_uri")
    name: str
    task: str
    target: str
    chosen: str
    features: int
    threshold: float | None
    model_path: str
    sha256: str
    data_fingerprint: str
    split: SplitSummary
    params: Pairs
    run_id: str | None = None  # logged to MLflow (not with track=False)
    tracking_uri: str | None = None


@dataclass(frozen=True)
class TrainResult(Result):
    title: ClassVar[str] = "Model training"
    run: TrainingRun
    candidates: tuple[CandidateRow, ...]
    evaluation: Evaluation

    @property
    def passed(self) -> bool:
        return self.evaluation.passed

    def predict(self, data: Any) -> pd.DataFrame:
        """Score `data` with the model this run saved (its file is loaded, hash and signature
        checked, so the scores are the saved pipeline's, as `sds serve` and `sds evaluate`
        use it).

        Args:
            data: Rows holding the model's input columns: a DataFrame (its index is kept),
                or any source `sds.open_table` reads (a path, a query, a `Table`).

        Returns:
            Binary: `probability` (of the positive class recorded in the model's
                `model.json`, `positive_class`) and `label` (that class at or above the
                saved threshold, else the other, as text); multiclass: `probability_<class>`
                per class and `label`; regression: `prediction`. One row per input row.

        Raises:
            DataError: An input column is missing or holds values the model cannot take, or
                the model folder no longer holds this run's model.
        """
        saved = load_version(self.run.model_path, self.run.sha256)
        return score_frame(saved, data)

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                **self.run.to_dict(),
                "candidates": plain(self.candidates),
                "evaluation": self.evaluation.to_dict(),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        items = [(k, v) for k, v in d.items() if not isinstance(v, dict | list)]
        return [
            KeyValue("Run", items),
            records_table("Split", d["split"]["splits"]),
            records_table("Candidates (chosen on validation)", d["candidates"]),
            *self.evaluation.sections(),
        ]


def train_model(
    config: Any, data: Any = None, *, output: str | Path | None = None, track: bool = True
) -> TrainResult:
    """Train from a config (mapping, :class:`TrainConfig` or YAML/JSON path)."""
    cfg = load_config(config)
    folder = Path(output or cfg.output or Path("models") / cfg.name)
    if track:
        check_uri(cfg.tracking_uri)  # before training, not after it
    p = prepare(cfg, data)
    with progress_steps(len(cfg.candidates), "training candidates") as advance:
        fitted = fit_candidates(p, advance)
    best = max(fitted, key=lambda r: r["validation"])
    model, recalibration, threshold = _finalise(best, p)
    meta = _meta(p, best, model, threshold)
    checks = _training_checks(p, best, fitted, recalibration)
    evaluation = _evaluate(model, meta, p, checks)
    meta["train_score"] = evaluation.gap.train if evaluation.gap else None
    columns = list(dict.fromkeys([*p.features, p.cfg.target, *p.cfg.protected]))
    with new_version(folder) as stage:  # switched to on leaving, if nothing failed
        saved = stage.write(model, meta, p.test[columns])
        run = _run(p, best, saved, folder)
        if track:
            run_id, uri = _track(p, run, evaluation, stage.path, fitted)
            run = replace(run, run_id=run_id, tracking_uri=uri)
    return TrainResult(run, records(CandidateRow, fitted), evaluation)


def _finalise(
    best: dict[str, Any], p: Prepared
) -> tuple[Any, list[dict[str, Any]] | None, dict[str, Any]]:
    """The model (recalibrated on validation when asked), the recalibration rows, and the
    threshold rule chosen on validation."""
    model = best["model"]
    recalibration = None
    if p.cfg.recalibrate and p.task == "binary":
        model, recalibration = recalibrated(model, p)
    return model, recalibration, choose_threshold(model, p)


def _meta(
    p: Prepared, best: dict[str, Any], model: Any, threshold: dict[str, Any]
) -> dict[str, Any]:

    x = p.train[p.features]
    return {
        "name": p.cfg.name,
        "candidate": best["name"],
        "task": p.task,
        "target": p.cfg.target,
        "features": p.features,
        "schema": {c: str(x[c].dtype) for c in p.features},
        "input_schema": input_schema(x),
        **_classes(p, model),
        "threshold": threshold["threshold"],
        "threshold_rule": threshold,
        "protected": p.cfg.protected,
        "params": best["params"],
        "data_fingerprint": p.fingerprint,
        "seed": p.cfg.seed,  # sds evaluate samples and permutes with it, as training did
    }


def _classes(p: Prepared, model: Any) -> dict[str, Any]:
    """The classes in the original labels (strings): binary ``[negative, positive]``, the
    model's probability being for the positive class, with that class and why it was chosen."""
    if p.task != "binary" or p.positive is None:
        return {"classes": [str(c) for c in getattr(model, "classes_", [])]}
    classes = binary_classes(p.train[p.cfg.target], p.positive)
    return {
        "classes": [str(c) for c in classes],
        "positive_class": p.positive,
        "positive_rule": p.positive_rule,
    }


def _training_checks(
    p: Prepared,
    best: dict[str, Any],
    fitted: list[dict[str, Any]],
    recalibration: list[dict[str, Any]] | None,
) -> TrainingChecks:
    from sklearn.base import clone

    x, y = p.train[p.features], p.outcome(p.train)
    refit = clone(best["model"]).fit(x, y)
    x_test = p.test[p.features]
    difference = np.abs(
        predictions(refit, x_test, p.task) - predictions(best["model"], x_test, p.task)
    )
    scores = best["cv_scores"]
    return TrainingChecks.of(
        recalibration,
        leakage(p.train, p.cfg.target, p.features, p.task, seed=p.cfg.seed),
        learning_curve(clone(best["model"]), x, y, p.task, p.plan),
        {
            "scoring": best["scoring"],
            "folds": len(scores),
            "mean": float(np.mean(scores)),
            "std": float(np.std(scores, ddof=1)),
            "min": min(scores),
            "max": max(scores),
        },
        float(np.max(difference)),
        _comparison(p, fitted) if len(fitted) > 1 else [],
        p.plan.record(compared=len(fitted) > 1, recalibrated=recalibration is not None),
        p.warnings,  # the evaluation lists them first
    )


def _comparison(p: Prepared, fitted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from sklearn.base import clone

    models = {r["name"]: clone(r["model"]) for r in fitted}
    x_test = p.test[p.features]
    test_scores = y_test = None
    if p.task == "binary":
        test_scores = {r["name"]: predictions(r["model"], x_test, p.task) for r in fitted}
        y_test = p.outcome(p.test).to_numpy()  # 1 for the positive class
    return compare(
        models,
        p.train[p.features],
        p.outcome(p.train),
        p.task,
        plan=p.plan,
        test_scores=test_scores,
        y_test=y_test,
    )


def _evaluate(model: Any, meta: dict[str, Any], p: Prepared, checks: TrainingChecks) -> Evaluation:
    return evaluate(
        model, meta, p.test, train=p.train, limits=p.cfg.scorecard, training=checks, seed=p.cfg.seed
    )


def _run(p: Prepared, best: dict[str, Any], saved: dict[str, Any], folder: Path) -> TrainingRun:
    return TrainingRun(
        name=p.cfg.name,
        task=p.task,
        target=p.cfg.target,
        chosen=best["name"],
        features=len(p.features),
        threshold=saved["threshold"],
        model_path=str(folder / "model"),
        sha256=saved["sha256"],
        data_fingerprint=p.fingerprint,
        split=p.split.overview(),
        params=Pairs.of(best["params"]),
    )


def _track(
    p: Prepared,
    run: TrainingRun,
    evaluation: Evaluation,
    version: Path,
    fitted: list[dict[str, Any]],
) -> tuple[str, str]:

    uri = resolved(p.cfg.tracking_uri)
    config = p.cfg.model_dump(mode="json")
    config["data"] = _absolute(config["data"])
    config["candidates"] = [
        {**c, "trials": r["trials"] or None}
        for c, r in zip(config["candidates"], fitted, strict=True)
    ]
    ev = evaluation.to_dict()
    metrics = {k: v for k, v in flat("test", ev["metrics"]).items() if _number(v)}
    metrics.update({f"cv.{k}": v for k, v in ev["cv"].items() if _number(v)})
    figures = {s.title: s.draw() for s in evaluation.sections() if isinstance(s, Figure)}
    run_id = log_run(
        uri=uri,
        experiment=p.cfg.experiment,
        name=p.cfg.name,
        config=config,
        params={
            **flat("model", run.params.to_dict()),
            "candidate": run.chosen,
            "threshold": run.threshold,
            "seed": p.cfg.seed,
        },
        metrics=metrics,
        tags={
            "sds.data_fingerprint": p.fingerprint,
            "sds.model_sha256": run.sha256,
            "sds.scorecard_passed": str(evaluation.passed),
        },
        model_folder=version,
        figures=figures,
        artifacts=artifact_root(p.cfg.tracking_uri),
    )
    return run_id, uri


def _absolute(data: str) -> str:
    path = Path(data)
    return str(path.resolve()) if path.exists() else data


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)
