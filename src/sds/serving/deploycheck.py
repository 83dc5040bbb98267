"""Deployment readiness (``model_evaluation_suite.py --deploy``): start the real server
with the model on 127.0.0.1, put a bounded load on it, and check P95 latency (below
100 ms), the error rate (below 0.1%) and that online predictions equal offline ones on
the saved test rows (to 1e-9)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sds.errors import AnalysisError
from sds.models.evaluate import predictions
from sds.models.records import Criterion
from sds.models.suite import model_folders, model_name
from sds.models.training_records import DeploymentCheck, LoadSummary
from sds.serving.load import run_load
from sds.serving.model import check_servable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    model: Path, *extra: str, timeout: float = 60, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``sds serve MODEL`` in a child process (``env`` added to its environment); yields
    its base URL once /ready answers, and stops it on leaving."""
    import os

    import httpx

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "sds.cli.main",
        "serve",
        str(model),
        "--port",
        str(port),
        *extra,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise AnalysisError(f"the model server exited: {output.strip()[-500:]}")
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AnalysisError(f"the model server was not ready within {timeout:g} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready records (missing values as null)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {str(k): (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in clean.to_dict("records")
    ]


def deploy_check(
    model: Path,
    *,
    requests: int = 2_000,
    connections: int = 8,
    seconds: float = 60.0,
    p95_max_ms: float = 100.0,
    error_rate_max: float = 0.001,
    workers: int = 2,
) -> DeploymentCheck:
    """Criteria (pass/fail with figures) and the load's summary."""
    import httpx

    saved = check_servable(model)  # a model the server would refuse: exit 2, here
    test = pd.read_parquet(saved.path / "test.parquet")
    x = test[saved.meta["features"]]
    rows = records(x)
    with running_server(saved.path, "--workers", str(workers), "--range-margin", "-1") as url:
        load = LoadSummary.from_dict(
            run_load(
                url + "/predict", rows, connections=connections, requests=requests, seconds=seconds
            ).summary()
        )
        online = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for start in range(0, len(rows), 1_000):
                answer = client.post("/predict", json={"instances": rows[start : start + 1_000]})
                answer.raise_for_status()
                online += [_score(p) for p in answer.json()["predictions"]]
    offline = predictions(saved.model, x, saved.meta["task"])
    offline = offline.max(axis=1) if offline.ndim == 2 else offline
    difference = float(np.max(np.abs(np.array(online) - offline)))
    criteria = (
        Criterion("P95 latency (ms)", load.p95_ms, f"< {p95_max_ms}", load.p95_ms < p95_max_ms),
        Criterion(
            "error rate",
            load.error_rate,
            f"< {error_rate_max}",
            load.error_rate < error_rate_max,
        ),
        Criterion("online = offline (max difference)", difference, "≤ 1e-9", difference <= 1e-9),
    )
    return DeploymentCheck(criteria, load, len(online), connections, workers)


def deploy_folder(root: Path, **options: Any) -> tuple[tuple[str, DeploymentCheck], ...]:
    """:func:`deploy_check` for every model under ``root``, named as the evaluation suite
    names them (pass the result to ``SuiteResult.with_deployment``)."""
    return tuple((model_name(f, root), deploy_check(f, **options)) for f in model_folders(root))


def _score(prediction: Any) -> float:
    if isinstance(prediction, dict):
        if "probability" in prediction:
            return float(prediction["probability"])
        return float(max(prediction["probabilities"].values()))
    return float(prediction)
