"""Evaluating saved models: one (``sds evaluate --model``) or every model in a folder
(``scripts/model_evaluation_suite.py``), with DeLong comparisons between binary models
scored on the same rows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.config import read_mapping, validate_mapping
from sds.data.io import open_table
from sds.errors import DataError
from sds.models.auc import delong_test
from sds.models.config import ScorecardConfig
from sds.models.evaluate import Evaluation, evaluate, predictions
from sds.models.modelfile import SavedModel, load_model
from sds.models.positive import outcome, recorded_positive
from sds.models.records import plain
from sds.models.training_records import DelongComparison, DeploymentCheck
from sds.models.versions import in_use
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table


def scorecard_config(path: str | Path | ScorecardConfig | None) -> ScorecardConfig:
    """Thresholds from a file holding a ``scorecard`` section (a training config) or the
    section itself; the defaults when no file is given; a ``ScorecardConfig`` as is."""
    if path is None:
        return ScorecardConfig()
    if isinstance(path, ScorecardConfig):
        return path

    raw = read_mapping(path)
    section = raw.get("scorecard", raw) if "scorecard" in raw else raw
    return validate_mapping(section, ScorecardConfig, str(path))


def _rows(saved_path: Path, data: str | None) -> tuple[pd.DataFrame, str]:
    if data is None:
        test = saved_path / "test.parquet"
        if not test.is_file():
            raise DataError(
                "no held-out rows: the model folder has no test.parquet",
                source=str(saved_path),
                hint="Give the rows with --data.",
            )
        return pd.read_parquet(test), str(test)

    table = open_table(data)
    return table.engine.execute(table.expr, source=table.name), table.name


def evaluate_saved(
    model_path: str | Path,
    data: str | None = None,
    config: str | Path | ScorecardConfig | None = None,
    *,
    trust: bool = False,
    positive: Any = None,
) -> Evaluation:
    """The evaluation suite for a model folder written by ``sds train`` (``trust``: load
    it even if it is not signed with this user's key; ``positive``: the positive class,
    which must be the one the model was trained for)."""

    saved = load_model(model_path, trust=trust)
    rows, source = _rows(saved.path, data)
    return _evaluated(saved, rows, scorecard_config(config), source, positive)


def _evaluated(
    saved: SavedModel, rows: pd.DataFrame, limits: ScorecardConfig, source: str, positive: Any
) -> Evaluation:
    """``saved`` evaluated on ``rows`` with the run's seed (0 for models saved before it
    was recorded), so the importance equals the one training reported."""
    seed = int(saved.meta.get("seed", 0))
    return evaluate(
        saved.model, saved.meta, rows, limits=limits, seed=seed, source=source, positive=positive
    )


@dataclass(frozen=True)
class SuiteResult(Result):
    """Every model's evaluation, DeLong comparisons of binary models scored on the same
    rows and, when the caller ran it (``sds.serving.deploycheck``), the deployment check."""

    title: ClassVar[str] = "Model evaluation suite"
    models: tuple[tuple[str, Evaluation], ...]
    comparison: tuple[DelongComparison, ...]
    deployment: tuple[tuple[str, DeploymentCheck], ...] = ()
    not_compared: tuple[tuple[str, str, str], ...] = ()  # (model a, model b, why not)

    @property
    def passed(self) -> bool:
        deployed = all(check.passed for _, check in self.deployment)
        return deployed and all(e.passed for _, e in self.models)

    def with_deployment(self, deployment: tuple[tuple[str, DeploymentCheck], ...]) -> SuiteResult:
        """This result with the deployment checks run by the serving layer."""
        return replace(self, deployment=tuple(deployment))

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "models": {k: v.to_dict() for k, v in self.models},
                "comparison": plain(self.comparison),
                "deployment": {k: v.to_dict() for k, v in self.deployment},
                "not_compared": [
                    {"model_a": a, "model_b": b, "reason": why} for a, b, why in self.not_compared
                ],
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        overview = [
            {
                "model": name,
                "criteria_passed": sum(c.passed for c in ev.scorecard),
                "criteria": len(ev.scorecard),
                "all_pass": ev.passed,
            }
            for name, ev in self.models
        ]
        out: list[Section] = [records_table("Models", overview)]
        if self.comparison:
            out.append(records_table("DeLong comparison on shared test rows", d["comparison"]))
        if d["not_compared"]:
            why = [f"{r['model_a']} vs {r['model_b']}: {r['reason']}" for r in d["not_compared"]]
            out.append(Note("Not compared", why))
        for name, check in d["deployment"].items():
            out.append(
                records_table(f"Deployment check: {name} behind sds serve", check["criteria"])
            )
            out.append(KeyValue(f"Load on {name}", list(check["load"].items())))
        for name, ev in self.models:
            out.append(Note(f"Model: {name}", [""]))
            out.extend(ev.sections())
        return out


def _rows_hash(rows: pd.DataFrame, columns: list[str]) -> int:
    hashed = pd.util.hash_pandas_object(rows[columns].reset_index(drop=True), index=True)
    return int(hashed.sum())


def _why_not_paired(a: _Scored, b: _Scored) -> str | None:
    """Why DeLong cannot pair two models' scores (None: it can). Rows are the same when
    they match on every column both test tables hold, so a model that dropped a feature
    is still compared with one that kept it."""
    if a.label != b.label:
        return f"different positive classes ({a.label} vs {b.label})"
    if len(a.rows) != len(b.rows):
        return f"scored on different rows ({len(a.rows):,} vs {len(b.rows):,} rows)"
    common = [c for c in a.rows.columns if c in set(b.rows.columns)]
    if _rows_hash(a.rows, common) != _rows_hash(b.rows, common):
        return "scored on different rows (values differ on their common columns)"
    if not np.array_equal(a.y, b.y):
        return "different outcomes on the same rows"
    return None


@dataclass(frozen=True)
class _Scored:
    """A binary model's test rows, outcomes (1 = its positive class) and scores."""

    rows: pd.DataFrame
    label: str
    y: Any
    scores: Any


def model_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) holding a ``model.json``; of a
    versioned model folder, the version in use (``model``), not the kept ones."""

    found = sorted({in_use(p.parent, root) for p in root.rglob("model.json")})
    if not found:
        raise DataError(
            "no sds models found (no model.json)",
            source=str(root),
            hint="Point -i at a folder written by sds train / scripts/train.py.",
        )
    return found


def model_name(folder: Path, root: Path) -> str:
    """How the suite names a model folder: its path under ``root`` (or its own name)."""
    return str(folder.relative_to(root)) if folder != root else folder.name


def evaluate_folder(
    root: Path,
    data: str | None = None,
    config: str | Path | ScorecardConfig | None = None,
) -> SuiteResult:
    """Evaluate every model under ``root``; compare binary models scored on the same rows.

    The deployment check starts the model server, so it belongs to the serving layer:
    ``sds.serving.deploycheck.deploy_folder`` runs it and :meth:`SuiteResult.with_deployment`
    adds its result."""
    limits = scorecard_config(config)
    evaluations, scored = [], {}
    for folder in model_folders(root):
        saved = load_model(folder)
        rows, source = _rows(saved.path, data)
        name = model_name(folder, root)
        ev = _evaluated(saved, rows, limits, source, None)
        evaluations.append((name, ev))
        if saved.meta["task"] == "binary":
            x = rows[saved.meta["features"]]
            label, _ = recorded_positive(saved.meta, saved.model)
            y = outcome(rows[saved.meta["target"]], label)
            scored[name] = _Scored(rows, str(label), y, predictions(saved.model, x, "binary"))
    comparison, skipped = [], []
    for a, b in itertools.combinations(scored, 2):
        why = _why_not_paired(scored[a], scored[b])
        if why is not None:  # DeLong pairs the same rows and one positive class
            skipped.append((a, b, why))
            continue
        d = delong_test(scored[a].y, scored[a].scores, scored[b].scores)
        comparison.append(DelongComparison(model_a=a, model_b=b, **d))
    return SuiteResult(tuple(evaluations), tuple(comparison), not_compared=tuple(skipped))
