"""The model server, started for real (``sds serve``, granian, two workers) on 127.0.0.1
and exercised over HTTP: every endpoint, every refusal, canary routing, the API key, and
online predictions equal to offline ones on 10,000 rows (max abs difference 1e-9)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from sds.data.synth import make_churn
from sds.models.modelfile import load_model
from sds.models.run import train_model
from sds.serving.deploycheck import free_port, records, running_server
from tests.conftest import invoke
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("serve")
    make_churn(4_000, seed=11).to_parquet(folder / "churn.parquet")
    out = {}
    for name, candidate in (("lr", "logistic"), ("hgb", "hgb")):
        train_model(
            {
                "name": f"churn-{name}",
                "data": str(folder / "churn.parquet"),
                "target": "churned",
                "drop": ["customer_id", "retention_call"],
                "candidates": [candidate],
                "tuning": {"trials": 2, "folds": 3},
            },
            output=folder / name,
            track=False,
        )
        out[name] = folder / name
    return out


@pytest.fixture(scope="module")
def server(models: dict[str, Path]) -> Iterator[str]:
    with running_server(models["lr"], "--workers", "2", "--range-margin", "-1") as url:
        yield url


def test_online_predictions_equal_offline_on_10000_rows(
    server: str, models: dict[str, Path]
) -> None:
    saved = load_model(models["lr"])
    rows = make_churn(10_000, seed=99)[saved.meta["features"]]
    offline = saved.model.predict_proba(rows)[:, 1]
    rows_json = records(rows)
    online = []
    with httpx.Client(base_url=server, timeout=30) as client:
        for start in range(0, len(rows_json), 1_000):
            answer = client.post("/predict", json={"instances": rows_json[start : start + 1_000]})
            assert answer.status_code == 200, answer.text
            online += [p["probability"] for p in answer.json()["predictions"]]
    assert len(online) == 10_000
    assert np.max(np.abs(np.array(online) - offline)) <= 1e-9


def test_endpoints(server: str, models: dict[str, Path]) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.get("/health").json() == {"status": "alive"}
        ready = client.get("/ready").json()
        assert ready["status"] == "ready" and ready["runtime"] == "numpy"
        info = client.get("/model").json()["champion"]
        assert info["sha256"] == load_model(models["lr"]).meta["sha256"]
        assert {c["name"] for c in info["input_schema"]} >= {"tenure_months", "contract"}
        spec = client.get("/openapi.json").json()
        assert "/predict" in spec["paths"]
        assert spec["components"]["schemas"]["Record"]["properties"]["contract"]["enum"]
        assert "tenure_months" in client.get("/docs").text
        record = records(make_churn(1, seed=1)[info_features(info)])[0]
        one = client.post("/predict", json=record).json()
        assert one["variant"] == "champion" and one["model_version"] == info["version"]
        assert 0 < one["predictions"][0]["probability"] < 1
        for _ in range(3):
            client.post("/predict", json=record)
        # each worker writes its tally on a timer and before it answers a scrape
        text = wait_until(lambda: _answered(server, 4), 10, "the 4 answers are in /metrics")
        assert "sds_request_latency_seconds_bucket" in text and "sds_prediction_bucket" in text


def _answered(server: str, at_least: float) -> str | None:
    """The metrics text once it counts ``at_least`` answered requests (a new connection
    each time, so either worker may answer)."""
    text = httpx.get(server + "/metrics", timeout=10).text
    counts = [
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("sds_requests_total") and 'status="200"' in line
    ]
    return text if counts and counts[0] >= at_least else None


def info_features(info: dict[str, Any]) -> list[str]:
    return [c["name"] for c in info["input_schema"]]


def test_bad_requests_get_4xx_with_problems_by_field(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        info = client.get("/model").json()["champion"]
        good = records(make_churn(1, seed=2)[info_features(info)])[0]
        json_type = {"content-type": "application/json"}
        answer = client.post("/predict", content=b"{not json", headers=json_type)
        assert answer.status_code == 400
        bad = {**good, "contract": "weekly", "support_calls": "many", "shoe_size": 42}
        del bad["tenure_months"]
        answer = client.post("/predict", json={"instances": [good, bad]})
        assert answer.status_code == 422
        problems = {(p["field"], p["problem"]) for p in answer.json()["problems"]}
        assert ("tenure_months", "missing field (seen at fit time)") in problems
        assert ("shoe_size", "unknown field (unseen at fit time)") in problems
        answer = client.post(
            "/predict", json={**good, "contract": "weekly", "support_calls": "many"}
        )
        problems = {(p["field"], p["problem"]) for p in answer.json()["problems"]}
        assert problems == {("contract", "unseen category"), ("support_calls", "wrong type")}
        assert all(p["record"] == 0 for p in answer.json()["problems"])
        answer = client.post("/predict", json={**good, "tenure_months": None})
        assert answer.status_code == 422 and "training had none" in answer.text
        assert client.post("/predict", json={"instances": []}).status_code == 422
        assert client.post("/predict", json=[1, 2]).status_code == 422
        assert client.post("/predict", content=b"x" * 2_000_000).status_code == 413
        assert client.get("/predict").status_code == 405


def test_canary_routing_and_api_key(models: dict[str, Path], tmp_path: Path) -> None:
    args = [
        "--log-dir",
        str(tmp_path / "log"),
        "--canary",
        str(models["hgb"]),
        "--canary-weight",
        "0.3",
        "--workers",
        "1",
        "--api-key-env",
        "SDS_TEST_KEY",
    ]
    with (
        running_server(models["lr"], *args, env={"SDS_TEST_KEY": "s3cret"}) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        info = client.get("/model", headers={"X-API-Key": "s3cret"}).json()
        assert info["canary_weight"] == 0.3
        features = info_features(info["champion"])
        record = records(make_churn(1, seed=3)[features])[0]
        assert client.post("/predict", json=record).status_code == 401
        wrong = {"X-API-Key": "guess"}
        assert client.post("/predict", json=record, headers=wrong).status_code == 401
        variants = []
        for i in range(400):
            headers = {"X-API-Key": "s3cret", "X-Request-Key": f"user-{i}"}
            variants.append(client.post("/predict", json=record, headers=headers).json()["variant"])
        share = variants.count("challenger") / len(variants)
        assert 0.22 < share < 0.38  # 30% +- 4 SE
        again = [
            client.post(
                "/predict",
                json=record,
                headers={"X-API-Key": "s3cret", "X-Request-Key": f"user-{i}"},
            ).json()["variant"]
            for i in range(20)
        ]
        assert again == variants[:20]  # the same key goes to the same model
        text = client.get("/metrics", headers={"X-API-Key": "s3cret"}).text
        assert 'variant="challenger"' in text
    log = pd.read_parquet(tmp_path / "log")  # flushed when the worker stopped
    assert len(log) == 420 and set(log["variant"]) == {"champion", "challenger"}
    assert (log["status"] == 401).sum() == 0 and log["in_tenure_months"].notna().sum() == 420
    # latency on a shared test machine is noise here; the latency rule is tested on logs
    report = invoke(
        [
            "canary",
            "report",
            str(tmp_path / "log"),
            "--format",
            "json",
            "--latency-ratio-max",
            "100",
        ]
    )
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["decision"] == "keep waiting"  # 1,000 needed


def test_bad_model_refused_before_serving(tmp_path: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"junk")
    done = subprocess.run(
        [sys.executable, "-m", "sds.cli.main", "serve", str(tmp_path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "not an sds model" in done.stderr


def test_health_check_script(server: str, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "health_check.py"

    def run(url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                str(script),
                "--url",
                url,
                "--timeout",
                "2",
                "-o",
                str(tmp_path / "h.json"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = run(server)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status["status"] == "completed" and status["processed_items"] == 2
    done = run(f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status["status"] == "failed" and "unreachable" in status["error"]
