"""The positive class is explicit: chosen by a stated rule (``positive:``, else 1, else
true/yes, else the minority class), fitted as 1, recorded in ``model.json`` and read back by
``sds evaluate`` (with the run's seed) and by the server. The same rows spelled ``1/0`` or
``churn/stay`` give the same figures and verdicts; which label sorts second changes nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import sds
from sds.data.synth import make_churn
from sds.errors import DataError, ParameterError
from sds.features.spec import TransformSpec
from sds.models.candidates import auto_preprocessing, pipeline
from sds.models.evaluate import evaluate
from sds.models.modelfile import load_model, save_model
from sds.models.positive import LEGACY, choose_positive, training_positive
from sds.models.records import BinaryMetrics
from sds.models.run import TrainResult, train_model
from sds.models.suite import evaluate_saved
from sds.serving.deploycheck import records
from tests.conftest import invoke

BASE: dict[str, Any] = {
    "data": "frame",
    "target": "churned",
    # referral_code and zip_code: rare levels unseen in training, which the server refuses
    "drop": ["customer_id", "retention_call", "referral_code", "zip_code"],
    "protected": ["gender"],
    "candidates": [{"name": "logistic", "tune": False}, {"name": "dummy"}],
    "tuning": {"folds": 3},
    "seed": 7,  # not evaluate's default 0: sds evaluate must read it from model.json
}
DIFFERENT_BY_DESIGN = {"positive_class", "positive_rule"}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_churn(3_000, seed=5)


def _spelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with the target spelled churn/stay: 'stay' sorts second."""
    return frame.assign(churned=np.where(frame["churned"] == 1, "churn", "stay"))


@pytest.fixture(scope="module")
def runs(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrainResult]:
    folder = tmp_path_factory.mktemp("positive")
    spelled = _spelled(frame)
    configs = {
        "ones": (BASE, frame),
        "churn": ({**BASE, "positive": "churn"}, spelled),
        "minority": (BASE, spelled),
    }
    return {
        name: train_model(config, data, output=folder / name, track=False)
        for name, (config, data) in configs.items()
    }


def _same(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON trees differ (numbers to 1e-12, relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{path}: keys {list(a)} != {list(b)}"]
        return [
            d for k in a if k not in DIFFERENT_BY_DESIGN for d in _same(a[k], b[k], f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [
            d
            for i, (u, v) in enumerate(zip(a, b, strict=True))
            for d in _same(u, v, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        ok = math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
        return [] if ok else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_the_default_rule_and_its_reason() -> None:
    cases: list[tuple[list[Any], Any, str]] = [
        ([0, 1, 1, 0, 0], 1, "the label 1"),
        (["0", "1", "0"], "1", "the label 1"),
        ([1.0, 0.0, 0.0], 1.0, "the label 1"),
        ([-1, 1, -1], 1, "the label 1"),
        ([True, False, False], True, "the label true"),
        (["no", "yes", "no"], "yes", "the label true"),
    ]
    for values, label, rule in cases:
        assert choose_positive(pd.Series(values, name="y")) == (label, rule), values
    y = pd.Series(["stay"] * 77 + ["churn"] * 23, name="y")
    counts = y.value_counts()  # the reference: pandas' own count of the smaller class
    assert choose_positive(y) == (counts.idxmin(), "the minority class (23% of the rows)")
    tie = choose_positive(pd.Series(["b", "a", "a", "b"], name="y"))
    assert tie[0] == "b" and "neither class is the minority" in tie[1] and "'b'" in tie[1]
    assert choose_positive(y, "stay") == ("stay", "configured")
    assert choose_positive(pd.Series(["0", "1"]), 1) == ("1", "configured")  # 1 names "1"


def test_a_positive_class_that_is_not_a_label_is_refused() -> None:
    y = pd.Series(["churn", "stay", "stay"], name="churned")
    with pytest.raises(ParameterError) as caught:
        choose_positive(y, "churned")
    assert caught.value.parameter == "positive"
    assert "'churn', 'stay'" in str(caught.value) and "'churned'" in str(caught.value)
    with pytest.raises(ParameterError, match="binary target; this one is regression"):
        training_positive("regression", pd.Series([1.5, 2.5]), 1)
    assert training_positive("multiclass", pd.Series(["a", "b", "c"]), None) == (None, None)
    with pytest.raises(DataError, match="needs a binary target"):
        choose_positive(pd.Series(["a", "b", "c"], name="y"))


def test_spelling_the_labels_changes_no_figure_and_no_verdict(
    runs: dict[str, TrainResult],
) -> None:
    ones, churn = runs["ones"].evaluation, runs["churn"].evaluation
    assert (ones.positive_class, ones.positive_rule) == (1, "the label 1")
    assert (churn.positive_class, churn.positive_rule) == ("churn", "configured")
    a, b = ones.to_dict(), churn.to_dict()
    # AUC, PR-AUC, log loss, Brier, confusion matrix, calibration, fairness (gender), the
    # gap, importance, learning curve, cross-validation, comparison, leakage, scorecard
    for key in ("metrics", "calibration", "fairness", "gap", "importance", "scorecard"):
        assert key in a
    assert _same(a, b) == []
    assert [c.verdict for c in ones.scorecard] == [c.verdict for c in churn.scorecard]
    assert runs["ones"].candidates == runs["churn"].candidates


def test_the_minority_is_chosen_when_stay_sorts_second(
    runs: dict[str, TrainResult], frame: pd.DataFrame
) -> None:
    minority = runs["minority"].evaluation
    share = frame["churned"].mean()  # churn is the smaller class of the rows
    assert share < 0.5 and sorted(["churn", "stay"])[1] == "stay"
    assert minority.positive_class == "churn"
    assert minority.positive_rule == f"the minority class ({share:.0%} of the rows)"
    assert _same(runs["ones"].evaluation.to_dict(), minority.to_dict()) == []
    # what the old rule (the label sorting second) would have reported: another PR-AUC
    saved = load_model(runs["minority"].run.model_path)
    test = pd.read_parquet(saved.path / "test.parquet")
    p = saved.model.predict_proba(test[saved.meta["features"]])[:, 1]
    churned = (test["churned"] == "churn").to_numpy()
    metrics = minority.metrics
    assert isinstance(metrics, BinaryMetrics)
    assert metrics.pr_auc == pytest.approx(average_precision_score(churned, p), abs=1e-12)
    assert metrics.auc == pytest.approx(roc_auc_score(churned, p), abs=1e-12)
    assert abs(average_precision_score(~churned, 1 - p) - metrics.pr_auc) > 0.05


def test_model_json_records_the_positive_class_and_the_seed(runs: dict[str, TrainResult]) -> None:
    meta = json.loads((Path(runs["churn"].run.model_path) / "model.json").read_text())
    assert meta["positive_class"] == "churn" and meta["positive_rule"] == "configured"
    assert meta["classes"] == ["stay", "churn"] and meta["seed"] == 7
    ones = json.loads((Path(runs["ones"].run.model_path) / "model.json").read_text())
    assert ones["positive_class"] == 1 and ones["classes"] == ["0", "1"]


def test_sds_evaluate_reproduces_the_training_figures(runs: dict[str, TrainResult]) -> None:
    run = runs["churn"]
    result = invoke(["evaluate", "--model", run.run.model_path, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report, trained = json.loads(result.stdout), run.evaluation.to_dict()
    for key in ("positive_class", "positive_rule", "metrics", "calibration", "fairness", "gap"):
        assert report[key] == trained[key], key
    assert report["importance"] == trained["importance"]  # the run's seed, 7
    criteria = {c["criterion"]: c for c in trained["scorecard"]}
    assert all(c == criteria[c["criterion"]] for c in report["scorecard"])
    saved = load_model(run.run.model_path)
    rows = pd.read_parquet(saved.path / "test.parquet")
    seed0 = evaluate(saved.model, saved.meta, rows, seed=0).to_dict()["importance"]
    assert seed0 != trained["importance"]  # so the seed read from model.json mattered
    confirmed = invoke(
        ["evaluate", "--model", run.run.model_path, "--positive", "churn", "--format", "json"]
    )
    assert confirmed.exit_code == 0 and json.loads(confirmed.stdout) == report


def test_positive_must_be_the_models_class(runs: dict[str, TrainResult]) -> None:
    model = runs["churn"].run.model_path
    wrong = invoke(["evaluate", "--model", model, "--positive", "churned"])
    assert wrong.exit_code == 2 and wrong.stdout == ""
    (line,) = wrong.stderr.strip().splitlines()
    assert line.startswith("error: ") and "--positive" in line
    assert "'stay', 'churn'" in line and "'churned'" in line
    other = invoke(["evaluate", "--model", model, "--positive", "stay"])
    assert other.exit_code == 2 and len(other.stderr.strip().splitlines()) == 1
    assert "--positive 'stay' is not the class this model was trained for" in other.stderr
    assert "'churn'" in other.stderr and "positive: stay" in other.stderr
    with pytest.raises(ParameterError) as caught:
        sds.evaluate(None, model, positive="nope")
    assert caught.value.parameter == "positive"


def test_a_model_saved_before_keeps_its_second_class_and_says_so(
    runs: dict[str, TrainResult], frame: pd.DataFrame, tmp_path: Path
) -> None:
    new = load_model(runs["churn"].run.model_path)
    test = pd.read_parquet(new.path / "test.parquet")
    old_meta = {
        k: v
        for k, v in new.meta.items()
        if k
        not in {"positive_class", "positive_rule", "seed", "sha256", "signature", "format", "file"}
    }
    spelled = _spelled(frame)
    x = spelled[new.meta["features"]]
    prep = auto_preprocessing(x, TransformSpec().model_dump())
    model = pipeline("logistic", "binary", {}, prep, 0).fit(x, spelled["churned"])  # raw labels
    assert list(model.classes_) == ["churn", "stay"]
    save_model(model, tmp_path, {**old_meta, "classes": ["churn", "stay"]})
    test.to_parquet(tmp_path / "test.parquet")
    ev = evaluate_saved(tmp_path)
    assert (ev.positive_class, ev.positive_rule) == ("stay", LEGACY)
    p = model.predict_proba(test[new.meta["features"]])[:, 1]
    assert isinstance(ev.metrics, BinaryMetrics)
    assert ev.metrics.auc == pytest.approx(roc_auc_score(test["churned"] == "stay", p), abs=1e-12)
    seed0 = evaluate(model, load_model(tmp_path).meta, test, seed=0)
    assert ev.importance == seed0.importance  # no seed recorded: 0, as before


def test_the_server_answers_with_the_original_labels(runs: dict[str, TrainResult]) -> None:
    from starlette.testclient import TestClient

    from sds.serving.app import ServerConfig, create_app
    from sds.serving.model import load_served

    path = runs["churn"].run.model_path
    served = load_served(path)
    saved = load_model(path)
    rows = pd.read_parquet(saved.path / "test.parquet")
    p = saved.model.predict_proba(rows[saved.meta["features"]])[:, 1]
    order = np.argsort(p)
    picked = rows.iloc[[*order[:5], *order[-5:]]]  # the five lowest and highest P(churn)
    with TestClient(create_app(ServerConfig(served))) as client:
        answer = client.post(
            "/predict", json={"instances": records(picked[saved.meta["features"]])}
        )
        assert answer.status_code == 200, answer.text
        predictions = answer.json()["predictions"]
        described = client.get("/model").json()["champion"]
    threshold = saved.meta["threshold"]
    assert [a["label"] for a in predictions] == ["stay"] * 5 + ["churn"] * 5
    for a, q in zip(predictions, p[[*order[:5], *order[-5:]]], strict=True):
        assert a["probability"] == pytest.approx(q, abs=1e-9)
        assert a["label"] == ("churn" if a["probability"] >= threshold else "stay")
    assert p[order[-1]] > 0.9 and picked["churned"].iloc[-1] == "churn"
    assert described["positive_class"] == "churn" and described["classes"] == ["stay", "churn"]
    assert described["positive_rule"] == "configured"
