"""Evaluating saved models: one (``sds evaluate --model``) or every model in a folder
(``scripts/model_evaluation_suite.py``), with DeLong comparisons between binary models
scored on the same rows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from sds.errors import DataError
from sds.models.config import ScorecardConfig
from sds.models.evaluate import Evaluation
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table


def scorecard_config(path: str | Path | None) -> ScorecardConfig:
    """Thresholds from a file holding a ``scorecard`` section (a training config) or the
    section itself; the defaults when no file is given."""
    if path is None:
        return ScorecardConfig()
    from sds.config import read_mapping, validate_mapping

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
    from sds.data.io import open_table

    table = open_table(data)
    return table.engine.execute(table.expr, source=table.name), table.name


def evaluate_saved(
    model_path: str | Path,
    data: str | None = None,
    config: str | Path | None = None,
    *,
    trust: bool = False,
) -> Evaluation:
    """The evaluation suite for a model folder written by ``sds train`` (``trust``: load
    it even if it is not signed with this user's key)."""
    from sds.models.evaluate import evaluate
    from sds.models.modelfile import load_model

    saved = load_model(model_path, trust=trust)
    rows, source = _rows(saved.path, data)
    return evaluate(saved.model, saved.meta, rows, limits=scorecard_config(config), source=source)


@dataclass(frozen=True)
class SuiteResult(Result):
    title: ClassVar[str] = "Model evaluation suite"
    models: dict[str, Evaluation]
    comparison: list[dict[str, Any]]
    deployment: dict[str, dict[str, Any]] = field(default_factory=dict)  # with --deploy

    @property
    def passed(self) -> bool:
        deployed = all(r["pass"] for d in self.deployment.values() for r in d["criteria"])
        return deployed and all(e.passed for e in self.models.values())

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "models": {k: v.to_dict() for k, v in self.models.items()},
                "comparison": self.comparison,
                "deployment": self.deployment,
            }
        )

    def sections(self) -> list[Section]:
        overview = [
            {
                "model": name,
                "criteria_passed": sum(r["pass"] for r in ev.report["scorecard"]),
                "criteria": len(ev.report["scorecard"]),
                "all_pass": ev.passed,
            }
            for name, ev in self.models.items()
        ]
        out: list[Section] = [records_table("Models", overview)]
        if self.comparison:
            out.append(records_table("DeLong comparison on shared test rows", self.comparison))
        elif len(self.models) > 1:
            out.append(
                Note(
                    "Comparison",
                    [
                        "The models were scored on different rows; "
                        "give one --data file to compare them."
                    ],
                )
            )
        for name, d in self.deployment.items():
            out.append(records_table(f"Deployment check: {name} behind sds serve", d["criteria"]))
            out.append(KeyValue(f"Load on {name}", list(d["load"].items())))
        for name, ev in self.models.items():
            out.append(Note(f"Model: {name}", [""]))
            out.extend(ev.sections())
        return out


def _rows_key(rows: pd.DataFrame) -> tuple[int, int]:
    hashed = pd.util.hash_pandas_object(rows.reset_index(drop=True), index=True)
    return len(rows), int(hashed.sum())


def model_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) holding a ``model.json``; of a
    versioned model folder, the version in use (``model``), not the kept ones."""
    from sds.models.versions import in_use

    found = sorted({in_use(p.parent, root) for p in root.rglob("model.json")})
    if not found:
        raise DataError(
            "no sds models found (no model.json)",
            source=str(root),
            hint="Point -i at a folder written by sds train / scripts/train.py.",
        )
    return found


def evaluate_folder(
    root: Path,
    data: str | None = None,
    config: str | Path | None = None,
    deploy: bool = False,
) -> SuiteResult:
    """Evaluate every model under ``root``; compare binary models scored on the same rows."""
    from sds.models.auc import delong_test
    from sds.models.evaluate import evaluate, positive, predictions
    from sds.models.modelfile import load_model

    limits = scorecard_config(config)
    evaluations, scored = {}, {}
    for folder in model_folders(root):
        saved = load_model(folder)
        rows, source = _rows(saved.path, data)
        name = str(folder.relative_to(root)) if folder != root else folder.name
        evaluations[name] = evaluate(saved.model, saved.meta, rows, limits=limits, source=source)
        if saved.meta["task"] == "binary":
            x = rows[saved.meta["features"]]
            y = positive(saved.model, rows[saved.meta["target"]])
            scored[name] = (_rows_key(rows), y, predictions(saved.model, x, "binary"))
    comparison = []
    for a, b in itertools.combinations(scored, 2):
        (key_a, y_a, s_a), (key_b, _, s_b) = scored[a], scored[b]
        if key_a != key_b:  # different rows: DeLong's paired test does not apply
            continue
        d = delong_test(y_a, s_a, s_b)
        comparison.append({"model_a": a, "model_b": b, **d})
    deployment = {}
    if deploy:
        from sds.serving.deploycheck import deploy_check

        deployment = {
            (str(f.relative_to(root)) if f != root else f.name): deploy_check(f)
            for f in model_folders(root)
        }
    return SuiteResult(evaluations, comparison, deployment)
