"""The newcomer walk-through's findings fixed in this round, one test each, named for the
item (the walk-through was written at commit ca1617b; each test fails on that behaviour).

Items fixed earlier have their own tests (B5 and B6 in tests/hostile/test_monitoring_hostile.py,
B7 in tests/cli/test_spec_options.py ...): the answers to every item are in the closing note.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.data.synth import make_churn
from sds.models.run import train_model
from sds.serving.deploycheck import records
from sds.serving.server import start_line
from tests.conftest import invoke


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 unique customers whose (age, country) pairs repeat, as in the finding."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1_000),
            "age": rng.integers(20, 30, 1_000),
            "country": rng.choice(np.array(["US", "FR"]), 1_000),
            "plan": "basic",  # constant: --strict fails on it
        }
    )
    path = tmp_path_factory.mktemp("users") / "users.csv"
    frame.to_csv(path, index=False)
    return path


def test_m5_duplicates_with_columns_are_whole_row_duplicates(users: Path, tmp_path: Path) -> None:
    """M5: ``--columns age,country`` reported 9,938 of 10,000 unique rows as duplicates (the
    repeats within the two chosen columns); duplicate rows are whole rows."""
    result = invoke(["profile", str(users), "--format", "json", "--columns", "age,country"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n_columns"] == 2
    assert report["duplicate_rows"] == 0 and report["duplicate_share"] == 0.0
    assert "duplicate_rows" not in {f["flag"] for f in report["flags"]}
    # a real repeat of a whole row is still found, with or without --columns
    frame = pd.read_csv(users)
    twice = tmp_path / "twice.csv"
    pd.concat([frame, frame.iloc[:3]]).to_csv(twice, index=False)
    for extra in ([], ["--columns", "age,country"]):
        report = json.loads(invoke(["profile", str(twice), "-f", "json", *extra]).stdout)
        assert report["duplicate_rows"] == 3, extra


def test_notebook_profile_takes_columns_as_the_cli_does(users: Path) -> None:
    """Section 3: ``sds.profile(df, columns=["age"])`` raised ``TypeError: open_table() got
    an unexpected keyword argument 'columns'``; the keyword is ``--columns``' twin."""
    import sds

    frame = pd.read_csv(users)
    report = sds.profile(frame, columns=["age", "country"])
    assert [c.name for c in report.columns] == ["age", "country"]
    assert report.duplicate_rows == 0  # whole rows, as on the command line (M5)
    assert report.to_dict()["columns"][0]["distinct_count"] == frame["age"].nunique()


def test_f1_a_failing_gate_still_writes_the_report(users: Path, tmp_path: Path) -> None:
    """F1: ``--strict -o strict.html`` exited 2 and wrote nothing, so the CI artifact that
    explains the failure was missing; now the report is written, then the gate fails."""
    out = tmp_path / "strict.html"
    result = invoke(["profile", str(users), "--strict", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "data-quality check failed: constant in column 'plan'" in result.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "constant" in page and "plan" in page
    printed = invoke(["profile", str(users), "--fail-on", "constant", "-f", "json"])
    assert printed.exit_code == 2
    assert json.loads(printed.stdout)["n_rows"] == 1_000  # the report, then the error line
    assert printed.stderr.startswith("error: ") and len(printed.stderr.splitlines()) == 1


def test_f2_expect_takes_a_comma_list_and_names_every_failure(users: Path) -> None:
    """F2: ``--expect age=string,churned=boolean`` was refused as one malformed item, and
    repeated options reported only the first failure."""
    ok = invoke(["profile", str(users), "-f", "json", "--expect", "age=integer,country=string"])
    assert ok.exit_code == 0, ok.stderr
    for args in (
        ["--expect", "age=string,country=numeric"],
        ["--expect", "age=string", "--expect", "country=numeric"],
    ):
        result = invoke(["profile", str(users), *args])
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert "2 columns have the wrong type" in line
        assert "column 'age': found integer (int64), expected string" in line
        assert "column 'country': found string" in line and "expected numeric" in line
    typo = invoke(["profile", str(users), "--expect", "agee=integer,country=string"])
    assert typo.exit_code == 2 and "Did you mean 'age'?" in typo.stderr


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small churn models as in the walk-through: gender protected, customer_id dropped;
    the challenger also drops the leaky retention_call (another input schema)."""
    folder = tmp_path_factory.mktemp("models")
    make_churn(600, seed=3).to_parquet(folder / "churn.parquet")
    out = {}
    for name, drop in (("champion", ["customer_id"]), ("small", ["customer_id", "retention_call"])):
        train_model(
            {
                "name": f"churn-{name}",
                "data": str(folder / "churn.parquet"),
                "target": "churned",
                "drop": drop,
                "protected": ["gender"],
                "candidates": ["dummy"],
            },
            output=folder / name,
            track=False,
        )
        out[name] = folder / name
    return out


def _client(model: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Any:
    from starlette.testclient import TestClient

    from sds.serving.app import app_from_environment

    monkeypatch.setenv("SDS_SERVE", json.dumps({"model": str(model), **settings}))
    return TestClient(app_from_environment())


def test_f5_whole_records_are_served_with_ignore_unknown_fields(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """F5: a record as the model's own test.parquet holds it (with the protected gender and
    the dropped customer_id) was refused; gender is accepted, and --ignore-unknown-fields
    lets every field the model does not use pass."""
    rows = pd.read_parquet(models["champion"] / "model" / "test.parquet").head(3)
    assert "gender" in rows.columns
    body = {"instances": [{**r, "customer_id": i} for i, r in enumerate(records(rows))]}
    with _client(models["champion"], monkeypatch) as strict:
        refused = strict.post("/predict", json=body)
        assert (
            strict.get("/openapi.json").json()["components"]["schemas"]["Record"][
                "additionalProperties"
            ]
            is False
        )
    assert refused.status_code == 422
    fields = {p["field"] for p in refused.json()["problems"]}
    assert fields == {"customer_id", "churned"}  # gender (protected) is accepted already
    with _client(models["champion"], monkeypatch, ignore_unknown_fields=True) as lenient:
        answer = lenient.post("/predict", json=body)
        schema = lenient.get("/openapi.json").json()["components"]["schemas"]["Record"]
        missing = lenient.post("/predict", json={"customer_id": 1})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 3
    assert schema["additionalProperties"] is True
    assert missing.status_code == 422  # the model's own fields are still required
    assert "missing field" in missing.json()["problems"][0]["problem"]
    help_text = invoke(["serve", "--help"]).stdout
    assert "--ignore-unknown-fields" in help_text


def test_f6_a_canary_with_another_schema_is_named_at_start(models: dict[str, Path]) -> None:
    """F6: ``--canary`` with a challenger on other features started silently (the start
    line did not even name the canary) and failed every request routed to it. Now it is
    refused, or with --allow-schema-change served with a warning naming the difference,
    and the start line names the canary and its share."""
    champion, challenger = str(models["champion"]), str(models["small"])
    refused = invoke(["serve", champion, "--canary", challenger, "--canary-weight", "0.5"])
    assert refused.exit_code == 2
    assert "input schema differs" in refused.stderr and "retention_call" in refused.stderr
    with socket.socket() as busy:  # the address check fails after the warning: nothing starts
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        args = ["--canary", challenger, "--allow-schema-change", "--port", port]
        warned = invoke(["serve", champion, *args])
    assert warned.exit_code == 2 and "already in use" in warned.stderr
    warning = warned.stderr.splitlines()[0]
    assert warning.startswith(f"warning: canary {challenger}: ") and "retention_call" in warning
    meta = {"name": "churn", "sha256": "a" * 64}
    challenger_model = SimpleNamespace(meta={"name": "churn-small", "sha256": "b" * 64})
    line = start_line(meta, challenger_model, 0.5, "127.0.0.1", 8000, 2)
    assert line == (
        "serving churn aaaaaaaaaaaa and canary churn-small bbbbbbbbbbbb (50% of requests) "
        "on http://127.0.0.1:8000 with 2 worker(s)"
    )
    assert "(0.5% of requests)" in start_line(meta, challenger_model, 0.005, "::1", 80, 1)
    assert "canary" not in start_line(meta, None, 0.05, "127.0.0.1", 8000, 2)


def test_f14_a_local_spark_session_writes_no_log_lines(tmp_path: Path) -> None:
    """F14: a local Spark session wrote five log4j lines to stderr before sds's output
    (default profile, loopback hostname, "Setting default log level", native-hadoop). Only
    the JVM's own "Using incubator modules" line, printed before any logging, remains."""
    script = (
        "from sds.data.spark import spark_session\n"
        "s = spark_session('local[1]', memory='1GB')\n"
        "print(s.range(5).count())\n"
        "s.stop()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_CONF_DIR", "SPARK_REMOTE")}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["WARNING: Using incubator modules: jdk.incubator.vector"], lines
    assert not list(tmp_path.glob("sds-log4j2-*"))  # its configuration file is removed at exit


def _calibration_rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(2, n)),
            "plan": rng.choice(np.array(["a", "b", "c"]), n),
        }
    )
    score = frame.x1 + 0.3 * frame.x2.fillna(0) + (frame.plan == "b")
    frame["y"] = (score + rng.normal(size=n) > 0.8).astype(int)
    return frame


@pytest.mark.parametrize(
    ("candidate", "method"),
    [("logistic", "isotonic"), ("logistic", "sigmoid"), ("dummy", "isotonic"), ("hgb", "sigmoid")],
)
def test_f7_a_recalibrated_model_is_served_by_the_numpy_runtime(
    candidate: str, method: str
) -> None:
    """F7: with ``recalibrate: isotonic`` the server fell back to scikit-learn
    ("CalibratedClassifierCV is not an sds training pipeline"); the calibrator now runs on
    the compiled pipeline's score, equal to scikit-learn to 1e-9 on rows it never saw."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    from sds.models.candidates import auto_preprocessing, pipeline
    from sds.serving.runtime import build_runtime
    from sds.serving.validate import Validator

    features = ["x1", "x2", "plan"]
    train, validation = _calibration_rows(1_500, 0), _calibration_rows(800, 1)
    spec = auto_preprocessing(train[features], {})
    model = pipeline(candidate, "binary", {}, spec, seed=0).fit(train[features], train["y"])
    wrapped = CalibratedClassifierCV(FrozenEstimator(model), method=method)
    wrapped.fit(validation[features], validation["y"])
    meta = {
        "task": "binary",
        "features": features,
        "schema": {c: str(train[c].dtype) for c in features},
    }
    runtime = build_runtime(wrapped, meta, _calibration_rows(300, 2))
    assert runtime.kind.startswith("numpy") and method in runtime.kind, runtime.reason
    fresh = _calibration_rows(2_000, 3)
    schema = [
        {"name": "x1", "kind": "number", "nullable": False},
        {"name": "x2", "kind": "number", "nullable": True},
        {"name": "plan", "kind": "category", "nullable": False},
    ]
    columns = Validator(schema, margin=None).columns(records(fresh[features]))
    got = runtime.predict(columns, len(fresh))
    expected = wrapped.predict_proba(fresh[features])[:, 1]
    assert np.max(np.abs(got - expected)) <= 1e-9


def test_profile_flags_a_duplicated_column(tmp_path: Path) -> None:
    """Section 1.1: ``monthly_fee`` equals ``monthly_charges`` in make_churn and the
    profile said nothing (``features select`` caught it). Checked against pandas' own
    column comparison, with near-copies that differ in one value or one null."""
    import sds

    frame = make_churn(400, seed=8)[["customer_id", "monthly_charges", "monthly_fee", "age"]]
    frame["one_off"] = frame["monthly_charges"].where(frame.index != 7, -1.0)
    frame["null_moved"] = frame["monthly_charges"].where(frame.index != 9)
    frame["age_copy"] = frame["age"]
    flagged = {
        f["column"]: f["detail"]
        for f in sds.profile(frame).flags
        if f["flag"] == "duplicate_column"
    }
    brute = {
        b: a
        for j, b in enumerate(frame.columns)
        for a in frame.columns[:j]
        if frame[a].equals(frame[b])
    }
    assert set(flagged) == set(brute) == {"monthly_fee", "age_copy"}
    assert flagged["monthly_fee"] == "equal to 'monthly_charges' in every row"
    path = tmp_path / "churn.parquet"
    frame.to_parquet(path)
    result = invoke(["profile", str(path), "--fail-on", "duplicate_column", "-f", "json"])
    assert result.exit_code == 2 and "duplicate_column in column 'monthly_fee'" in result.stderr
