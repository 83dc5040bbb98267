"""Serving benchmark: sds serve against a plain FastAPI + scikit-learn app and against
``mlflow models serve``, on the same models, in one run.

Models: a 30-feature logistic-regression pipeline and a gradient-boosting model (scikit-
learn's HistGradientBoosting), both trained by ``sds train`` on generated data. Servers
listen on 127.0.0.1; the load comes from a separate process
(``benchmarks/loadgen.py``: asyncio, keep-alive) with single-row requests at 1, 8 and 32
connections, bounded by ``--seconds`` and a request budget. sds runs 2 workers; each
peer runs with 1 and with 2 uvicorn workers and keeps its better figure at each
concurrency. Prints req/s, P50/P95/P99 and
sds's ratios to each peer; writes ``benchmarks/out/serving.json``.

``mlflow models serve`` needs the full mlflow package, installed (once) in its own virtual
environment under ``benchmarks/out/mlflow-venv``, with sds (the pickled pipeline refers
to its classes). If that cannot be installed, the row says so.

    python benchmarks/serving.py [--seconds 8] [--connections 1,8,32] [--skip-mlflow]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sds.serving.deploycheck import free_port

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "serving"
MLFLOW_VENV = ROOT / "benchmarks" / "out" / "mlflow-venv"
PYTHON = sys.executable
THREADS_1 = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

FASTAPI_APP = """
import os
import joblib
import pandas as pd
from fastapi import FastAPI

model = joblib.load(os.environ["MODEL_FILE"])
app = FastAPI()


@app.post("/predict")
def predict(record: dict) -> dict:
    frame = pd.DataFrame([record])
    return {"predictions": model.predict_proba(frame)[:, 1].tolist()}
"""

SAVE_MLFLOW = """
import sys, joblib, mlflow.sklearn
mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2],
                          serialization_format="cloudpickle")
"""


def train_models() -> dict[str, Path]:
    from sds.models.run import train_model

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(20_000, 30)), columns=[f"f{i:02d}" for i in range(30)])
    logit = x.iloc[:, :10].to_numpy() @ rng.normal(size=10)
    x["y"] = (rng.random(len(x)) < 1 / (1 + np.exp(-logit))).astype(int)
    OUT.mkdir(parents=True, exist_ok=True)
    x.to_parquet(OUT / "data.parquet")
    models = {}
    for name, candidate in (("logistic", "logistic"), ("boosting", "hgb")):
        folder = OUT / name
        if not (folder / "model" / "model.json").exists():
            train_model(
                {
                    "name": name,
                    "data": str(OUT / "data.parquet"),
                    "target": "y",
                    "candidates": [{"name": candidate, "tune": False}],
                    "tuning": {"folds": 2},
                },
                output=folder,
                track=False,
            )
        models[name] = folder / "model"
    return models


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError("server not ready")


def start(kind: str, model: Path, workers: int = 2) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server process, its predict URL and the body format it takes."""
    port = free_port()
    env = {**os.environ, **THREADS_1}
    if kind == "sds":
        cmd = [
            PYTHON,
            "-m",
            "sds.cli.main",
            "serve",
            str(model),
            "--port",
            str(port),
            "--workers",
            "2",
            "--range-margin",
            "-1",
        ]
        ready, body = f"http://127.0.0.1:{port}/ready", "record"
    elif kind == "fastapi":
        (OUT / "fastapi_peer.py").write_text(FASTAPI_APP)
        env["MODEL_FILE"] = str(model / "model.joblib")
        cmd = [
            PYTHON,
            "-m",
            "uvicorn",
            "fastapi_peer:app",
            "--app-dir",
            str(OUT),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        ready, body = f"http://127.0.0.1:{port}/docs", "record"
    else:
        saved = OUT / f"mlflow-{model.parent.name}"
        if not saved.exists():
            subprocess.run(
                [
                    str(MLFLOW_VENV / "bin" / "python"),
                    "-c",
                    SAVE_MLFLOW,
                    str(model / "model.joblib"),
                    str(saved),
                ],
                check=True,
            )
        cmd = [
            str(MLFLOW_VENV / "bin" / "mlflow"),
            "models",
            "serve",
            "-m",
            str(saved),
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
            "--workers",
            str(workers),
        ]
        ready, body = f"http://127.0.0.1:{port}/ping", "mlflow"
        env["PATH"] = f"{MLFLOW_VENV / 'bin'}:{env['PATH']}"  # mlflow execs its uvicorn
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(ready, process)
    path = "/invocations" if kind == "mlflow" else "/predict"
    return process, f"http://127.0.0.1:{port}{path}", body


def ensure_mlflow() -> str | None:
    """None when the mlflow venv is ready, else why not."""
    if (MLFLOW_VENV / "bin" / "mlflow").exists():
        return None
    try:
        subprocess.run([PYTHON, "-m", "venv", str(MLFLOW_VENV)], check=True)
        pip = [str(MLFLOW_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "mlflow", "-e", str(ROOT)], check=True, timeout=1200)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"mlflow could not be installed: {exc}"
    return None


def load(
    url: str, body: bytes, connections: int, seconds: float, rate: float = 0.0
) -> dict[str, float]:
    """``loadgen.py`` in its own process: as fast as answered, or paced at ``rate``."""
    body_file = OUT / "body.json"
    body_file.write_bytes(body)
    command = [
        PYTHON,
        str(ROOT / "benchmarks" / "loadgen.py"),
        url,
        str(body_file),
        "--connections",
        str(connections),
        "--requests",
        "100000000",
        "--seconds",
        str(seconds),
        "--rate",
        str(rate),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    out: dict[str, float] = json.loads(done.stdout)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="sds serve against FastAPI and MLflow.")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    models = train_models()
    record = pd.read_parquet(OUT / "data.parquet").drop(columns="y").iloc[0].to_dict()
    bodies = {
        "record": json.dumps(record).encode(),
        "mlflow": json.dumps({"dataframe_records": [record]}).encode(),
    }
    kinds = ["sds", "fastapi"]
    skipped = "skipped (--skip-mlflow)" if args.skip_mlflow else ensure_mlflow()
    if skipped is None:
        kinds.append("mlflow")
    results = []
    for model_name, model in models.items():
        for kind in kinds:
            best: dict[int, dict[str, float]] = {}
            # uvicorn's multi-process mode costs ~50 ms a request at low concurrency here,
            # so each peer also runs with one worker and keeps its better figure
            for workers in (2,) if kind == "sds" else (1, 2):
                for row in measure(kind, model, workers, connections, bodies, args.seconds):
                    print(json.dumps({"model": model_name, **row}), flush=True)
                    if row["rps"] > best.get(row["connections"], {"rps": -1.0})["rps"]:
                        best[row["connections"]] = row
            results += [{"model": model_name, **best[c]} for c in connections]
    report(results, skipped)


def measure(
    kind: str,
    model: Path,
    workers: int,
    connections: list[int],
    bodies: dict[str, bytes],
    seconds: float,
) -> list[dict[str, float]]:
    process, url, body = start(kind, model, workers)
    rows = []
    try:
        for c in connections:
            load(url, bodies[body], c, 1.0)  # warm-up
            rows.append(
                {
                    "server": kind,
                    "workers": workers,
                    "connections": c,
                    **load(url, bodies[body], c, seconds),
                }
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return rows


def report(results: list[dict[str, float]], skipped: str | None) -> None:
    frame = pd.DataFrame(results)
    print()
    print(frame.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    ratios = []
    for (model, c), group in frame.groupby(["model", "connections"]):
        by = group.set_index("server")["rps"]
        row = {"model": model, "connections": c}
        for peer in ("fastapi", "mlflow"):
            if peer in by:
                row[f"sds_vs_{peer}"] = by["sds"] / by[peer]
        ratios.append(row)
    print()
    print(pd.DataFrame(ratios).to_string(index=False, float_format=lambda v: f"{v:.1f}x"))
    if skipped:
        print(f"\nmlflow models serve: {skipped}")
    (OUT.parent / "serving.json").write_text(
        json.dumps({"results": results, "ratios": ratios, "mlflow": skipped or "ran"}, indent=2)
    )


if __name__ == "__main__":
    main()
