"""``TrainResult.predict``: the scores of the model a training run saved, as a DataFrame.

The notebook used to predict through ``sds.serving`` helpers. The reference here is the
saved pipeline itself, unpickled with joblib from the run's ``model.joblib`` (no sds code):
its ``predict_proba`` column of the positive class, or its ``predict``, to 1e-12.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest

import sds
from sds.data.synth import make_churn
from sds.errors import DataError
from sds.models.run import TrainResult

DROP = ["customer_id", "retention_call", "referral_code"]
OUT_OF_RANGE = "ignore:.*outside the training range:UserWarning"  # its own test below
pytestmark = pytest.mark.filterwarnings(OUT_OF_RANGE)


def _train(frame: pd.DataFrame, folder: Path, **config: Any) -> TrainResult:
    base = {
        "name": "churn",
        "target": "churned",
        "drop": DROP,
        "candidates": [{"name": "logistic", "tune": False}],
        "seed": 3,
    }
    return sds.train(frame, {**base, **config}, model_dir=folder, track=False)


def _pipeline(result: TrainResult) -> Any:
    """The saved pipeline, read straight from the file the run wrote."""
    folder = Path(result.run.model_path).resolve()
    return joblib.load(folder / "model.joblib")


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    frame = make_churn(800, seed=11)
    frame["churned"] = np.where(frame["churned"] == 1, "left", "stayed")  # text labels
    return frame


@pytest.fixture(scope="module")
def binary(churn: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    # the positive class is the majority label, so column 1 of predict_proba is not simply
    # the label sorting last
    return _train(churn, tmp_path_factory.mktemp("binary"), positive="stayed")


def test_binary_scores_are_the_saved_pipelines(churn: pd.DataFrame, binary: TrainResult) -> None:
    rows = churn.sample(200, random_state=1)  # a shuffled index is kept
    got = binary.predict(rows)
    assert list(got.columns) == ["probability", "label"]
    assert got.index.equals(rows.index)
    pipeline = _pipeline(binary)
    features = [c for c in churn.columns if c not in [*DROP, "churned"]]
    expected = pipeline.predict_proba(rows[features])[:, 1]
    np.testing.assert_allclose(got["probability"].to_numpy(), expected, rtol=0, atol=1e-12)
    threshold = binary.run.threshold
    assert threshold is not None
    want = np.where(expected >= threshold, "stayed", "left")
    assert got["label"].tolist() == want.tolist()
    # the probability is for "stayed": its mean follows that class's share, not "left"'s
    share = float((churn["churned"] == "stayed").mean())
    assert abs(got["probability"].mean() - share) < 0.1 < abs(share - (1 - share))


def test_binary_predict_reads_any_source(
    churn: pd.DataFrame, binary: TrainResult, tmp_path: Path
) -> None:
    path = tmp_path / "rows.parquet"
    churn.iloc[:50].to_parquet(path)
    from_file = binary.predict(str(path))
    from_frame = binary.predict(churn.iloc[:50].reset_index(drop=True))
    pd.testing.assert_frame_equal(from_file, from_frame, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(binary.predict(sds.open_table(str(path))), from_file)


def test_a_missing_input_column_is_named(churn: pd.DataFrame, binary: TrainResult) -> None:
    with pytest.raises(DataError, match="no such column") as caught:
        binary.predict(churn.drop(columns=["tenure_months"]))
    assert caught.value.column == "tenure_months"


@pytest.mark.filterwarnings("error")
def test_inputs_outside_the_training_range_are_scored_with_a_warning(
    churn: pd.DataFrame, binary: TrainResult
) -> None:
    rows = churn.iloc[:5].assign(support_calls=1_000)
    with pytest.warns(UserWarning, match="'support_calls': 5 of 5 value"):
        got = binary.predict(rows)
    assert len(got) == 5 and got["probability"].between(0, 1).all()


def test_regression_scores_are_the_saved_pipelines(tmp_path: Path) -> None:
    frame = make_churn(500, seed=12)
    result = _train(
        frame,
        tmp_path,
        target="monthly_fee",
        drop=[*DROP, "churned"],
        candidates=[{"name": "linear", "tune": False}],
    )
    got = result.predict(frame.iloc[:100])
    assert list(got.columns) == ["prediction"]
    features = [c for c in frame.columns if c not in [*DROP, "churned", "monthly_fee"]]
    expected = _pipeline(result).predict(frame.iloc[:100][features])
    np.testing.assert_allclose(got["prediction"].to_numpy(), expected, rtol=0, atol=1e-12)


def test_a_retrained_folder_still_scores_with_this_runs_model(
    churn: pd.DataFrame, tmp_path: Path
) -> None:
    first = _train(churn, tmp_path)
    before = first.predict(churn.iloc[:40])
    reference = _pipeline(first)  # read now: the folder's link moves below
    second = _train(churn.iloc[:500], tmp_path)  # the folder now serves another model
    assert second.run.sha256 != first.run.sha256
    pd.testing.assert_frame_equal(first.predict(churn.iloc[:40]), before, rtol=0, atol=0)
    features = [c for c in churn.columns if c not in [*DROP, "churned"]]
    np.testing.assert_allclose(
        before["probability"], reference.predict_proba(churn.iloc[:40][features])[:, 1], atol=1e-12
    )
    _train(churn.iloc[:400], tmp_path)  # two versions later the first one is pruned
    with pytest.raises(DataError, match="no longer holds the model this run trained"):
        first.predict(churn.iloc[:40])
