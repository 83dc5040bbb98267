"""Training runs and evaluations as typed, frozen records: the JSON keys of the dicts they
replaced (listed here as the code before them wrote them), the figures equal to
scikit-learn computed here, hashable results, and a models package that never imports the
serving layer (the deployment check is run by the caller and added to the suite result).
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

import sds.models
from sds.data.synth import make_churn
from sds.models.modelfile import load_model
from sds.models.records import BinaryMetrics, Calibration, Criterion
from sds.models.run import TrainResult, train_model
from sds.models.suite import SuiteResult, evaluate_folder, evaluate_saved

RUN_KEYS = [
    "name",
    "task",
    "target",
    "chosen",
    "features",
    "threshold",
    "model_path",
    "sha256",
    "data_fingerprint",
    "split",
    "params",
    "candidates",
    "evaluation",
]
EVALUATION_KEYS = [
    "model",
    "task",
    "target",
    "rows",
    "positive_class",
    "positive_rule",
    "metrics",
    "threshold_rule",
    "calibration",
    "roc",
    "pr",
    "fairness",
    "gap",
    "importance",
]
TRAINING_KEYS = [
    "recalibration",
    "leakage",
    "learning_curve",
    "cv",
    "reproducibility",
    "comparison",
    "resampling",
]
NESTED_KEYS = {
    "metrics": [
        "auc",
        "auc_ci_lower",
        "auc_ci_upper",
        "auc_std_error",
        "pr_auc",
        "log_loss",
        "threshold",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "confusion",
        "report",
    ],
    "calibration": [
        "brier",
        "brier_ci_lower",
        "brier_ci_upper",
        "ece",
        "deciles",
        "within_tolerance",
        "tolerance",
        "alpha",
        "verdict",
        "rows_needed",
    ],
    "gap": ["train", "test", "relative_gap", "limit", "overfit"],
    "importance": ["features", "repeats", "coverage", "features_for_coverage", "top_share"],
    "cv": ["scoring", "folds", "mean", "std", "min", "max"],
    "reproducibility": ["max_abs_difference"],
    "resampling": [
        "method",
        "split",
        "folds",
        "rows",
        "seed",
        "description",
        "folds_used_by",
        "validation_used_by",
        "test_used_by",
        "fold_rows",
    ],
    "roc": ["fpr", "tpr"],
    "pr": ["recall", "precision"],
    "threshold_rule": ["threshold", "by", "f1"],
}
ROW_KEYS = {
    ("calibration", "deciles"): [
        "bin",
        "rows",
        "predicted",
        "observed",
        "gap",
        "gap_ci_lower",
        "gap_ci_upper",
        "within",
        "verdict",
    ],
    ("importance", "features"): ["feature", "importance", "std", "share", "cumulative_share"],
    ("metrics", "report"): ["class", "precision", "recall", "f1_score", "support"],
}
CRITERION_KEYS = [
    "criterion",
    "value",
    "ci_lower",
    "ci_upper",
    "threshold",
    "verdict",
    "plain_rule",
    "rows_needed",
    "pass",
]
LIST_ROW_KEYS = {
    "fairness": [
        "column",
        "groups",
        "demographic_parity_difference",
        "equalized_odds_difference",
        "demographic_parity_ratio",
        "limit",
        "ratio_min",
        "warning",
        "criteria",
    ],
    "recalibration": ["model", "brier", "ece", "deciles_within"],
    "learning_curve": ["rows", "train", "validation", "validation_std"],
    "comparison": [
        "model_a",
        "model_b",
        "cv_mean_difference",
        "cv_t",
        "cv_df",
        "cv_p_value",
        "test_auc_difference",
        "delong_p_value",
    ],
    "scorecard": CRITERION_KEYS,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("records")
    make_churn(1_500, seed=4).to_parquet(root / "churn.parquet")
    return root


@pytest.fixture(scope="module")
def run(folder: Path) -> TrainResult:
    config = {
        "data": str(folder / "churn.parquet"),
        "target": "churned",
        # referral_code: rare codes unseen in training, which the server refuses (422)
        "drop": ["customer_id", "retention_call", "referral_code"],
        "protected": ["gender"],
        "candidates": ["dummy", "logistic"],
        "recalibrate": "isotonic",
        "tuning": {"trials": 2, "folds": 3},
    }
    return train_model(config, output=folder / "models" / "churn", track=False)


def _scores(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The saved model's positive-class probabilities on its test rows, by scikit-learn."""
    saved = load_model(path)
    test = pd.read_parquet(Path(path) / "test.parquet")
    y = (test[saved.meta["target"]] == saved.model.classes_[1]).astype(int).to_numpy()
    return y, saved.model.predict_proba(test[saved.meta["features"]])[:, 1]


def test_training_run_keeps_the_json_keys(run: TrainResult) -> None:
    d = run.to_dict()
    assert list(d) == RUN_KEYS
    assert list(d["split"]) == ["method", "rows", "dropped_for_gap", "splits"]
    assert list(d["split"]["splits"][0]) == ["split", "rows", "share_0", "share_1"]
    assert [list(c) for c in d["candidates"]] == [
        ["name", "params", "scoring", "cv_mean", "cv_std", "trials", "pruned", "validation"]
    ] * 2
    ev = d["evaluation"]
    assert list(ev) == [*EVALUATION_KEYS, *TRAINING_KEYS, "scorecard", "warnings"]
    for key, keys in NESTED_KEYS.items():
        assert list(ev[key]) == keys, key
    for (key, rows), keys in ROW_KEYS.items():
        assert all(list(r) == keys for r in ev[key][rows]), key
    for key, keys in LIST_ROW_KEYS.items():
        assert ev[key] and all(list(r) == keys for r in ev[key]), key
    assert json.loads(run.to_json()) == d


def test_figures_equal_scikit_learn(run: TrainResult) -> None:
    y, p = _scores(run.run.model_path)
    metrics, cal = run.evaluation.metrics, run.evaluation.calibration
    assert isinstance(metrics, BinaryMetrics) and isinstance(cal, Calibration)
    assert metrics.auc == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert metrics.log_loss == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-12)
    assert cal.brier == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert sum(d.rows for d in cal.deciles) == len(y) == run.evaluation.rows
    d = run.to_dict()["evaluation"]
    assert d["metrics"]["auc"] == metrics.auc and d["calibration"]["brier"] == cal.brier
    card = {c.criterion: c for c in run.evaluation.scorecard}
    assert card["AUC-ROC"].value == metrics.auc and card["Brier score"].value == cal.brier


def test_saved_evaluation_and_suite_are_records(run: TrainResult, folder: Path) -> None:
    saved = evaluate_saved(run.run.model_path)
    d = saved.to_dict()
    assert list(d) == [*EVALUATION_KEYS, "scorecard", "warnings"]
    assert saved.training is None
    train_metrics = run.evaluation.metrics
    assert isinstance(saved.metrics, BinaryMetrics) and isinstance(train_metrics, BinaryMetrics)
    assert saved.metrics.auc == train_metrics.auc
    suite = evaluate_folder(folder / "models")
    assert [name for name, _ in suite.models] == ["churn/model"]  # the version in use
    assert list(suite.to_dict()) == ["models", "comparison", "deployment", "not_compared"]
    assert suite.to_dict()["deployment"] == {} and suite.deployment == ()
    assert suite.passed == saved.passed


def _deep_fields(value: Any) -> list[Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = []
        for f in dataclasses.fields(value):
            out += [getattr(value, f.name), *_deep_fields(getattr(value, f.name))]
        return out
    if isinstance(value, tuple):
        return [x for v in value for x in (v, *_deep_fields(v))]
    return []


def test_results_are_deeply_frozen_and_hashable(run: TrainResult, folder: Path) -> None:
    suite = evaluate_folder(folder / "models")
    for result in (run, run.evaluation, suite):
        assert hash(result) == hash(dataclasses.replace(result))
        inside = _deep_fields(result)
        assert not [v for v in inside if isinstance(v, list | dict | set)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.evaluation.rows = 0  # type: ignore[misc]
    first = run.evaluation.scorecard[0]
    assert isinstance(first, Criterion) and first.to_dict()["pass"] is first.passed


def test_models_never_import_serving() -> None:
    package = Path(sds.models.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + [
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        ]
        assert not [n for n in names if n.startswith("sds.serving")], path.name


@pytest.mark.slow
def test_deployment_check_is_added_by_the_serving_layer(run: TrainResult, folder: Path) -> None:
    from sds.serving.deploycheck import deploy_folder

    checks = deploy_folder(folder / "models", requests=200, seconds=20.0, p95_max_ms=1e6)
    suite: SuiteResult = evaluate_folder(folder / "models").with_deployment(checks)
    ((name, check),) = suite.deployment
    assert name == "churn/model" and check.rows_compared == run.evaluation.rows
    assert check.load.requests == 200 and check.load.errors == 0
    online = {c.criterion: c for c in check.criteria}["online = offline (max difference)"]
    assert online.passed and isinstance(online.value, float) and online.value <= 1e-9
    d = suite.to_dict()["deployment"]["churn/model"]
    assert [list(c) for c in d["criteria"]] == [CRITERION_KEYS] * 3
    assert list(d) == ["criteria", "load", "rows_compared", "connections", "workers"]
    assert hash(suite) == hash(dataclasses.replace(suite))
