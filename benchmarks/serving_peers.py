"""The servers ``serving.py`` compares, each started as its own process on a free port.

- ``sds``: ``sds serve`` with 2 workers, on the model folder ``sds train`` wrote.
- ``floor``: a no-op ASGI callable (reads and drops the body, answers a fixed JSON body of
  the size sds answers) under granian with exactly ``sds serve``'s settings
  (``sds.serving.server.granian_settings``): the fastest any Python ASGI app can answer here.
- ``fastapi-plain``: what a user writes without sds: FastAPI + uvicorn, a pydantic model of
  the 30 float fields, ``predict_proba`` on a one-row DataFrame of a plain scikit-learn
  model trained directly on the same data (StandardScaler + LogisticRegression, or
  HistGradientBoostingClassifier), loaded with joblib.
- ``fastapi-sds``: the same FastAPI app serving sds's own training pipeline.
- ``bentoml``: BentoML 1.x (``@bentoml.service`` / ``@bentoml.api``) serving the plain model,
  from its own virtual environment (``benchmarks/out/bentoml-venv``, installed once).
- ``mlflow``: ``mlflow models serve`` on sds's pipeline, from ``benchmarks/out/mlflow-venv``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sds.serving.deploycheck import free_port

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "serving"
APPS = OUT / "apps"
MLFLOW_VENV = ROOT / "benchmarks" / "out" / "mlflow-venv"
BENTOML_VENV = ROOT / "benchmarks" / "out" / "bentoml-venv"
PYTHON = sys.executable
THREADS_1 = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

FLOOR_APP = """
BODY = (b'{"predictions":[{"probability":0.5,"label":"1"}],'
        b'"model_version":"0123456789ab","variant":"champion"}')
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

FLOOR_RUN = """
import sys
from granian import Granian
from sds.serving.server import granian_settings

Granian("floor_app:app", **granian_settings("127.0.0.1", int(sys.argv[1]), 2)).serve()
"""

FASTAPI_APP = """
import os
import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import create_model

model = joblib.load(os.environ["MODEL_FILE"])
Record = create_model("Record", **{f"f{i:02d}": (float, ...) for i in range(30)})
app = FastAPI()


@app.post("/predict")
def predict(record: Record) -> dict:
    frame = pd.DataFrame([record.model_dump()])
    return {"predictions": model.predict_proba(frame)[:, 1].tolist()}
"""

BENTOML_APP = """
import os
import bentoml
import joblib
import pandas as pd


@bentoml.service(workers=int(os.environ["BENTO_WORKERS"]))
class Plain:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["MODEL_FILE"])

    @bentoml.api
    def predict(self, record: dict[str, float]) -> dict:
        frame = pd.DataFrame([record])
        return {"predictions": self.model.predict_proba(frame)[:, 1].tolist()}
"""

SAVE_MLFLOW = """
import sys, joblib, mlflow.sklearn
mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2],
                          serialization_format="cloudpickle")
"""


def write_apps() -> None:
    APPS.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("floor_app.py", FLOOR_APP),
        ("floor_run.py", FLOOR_RUN),
        ("fastapi_peer.py", FASTAPI_APP),
        ("bentoml_peer.py", BENTOML_APP),
    ):
        (APPS / name).write_text(text)


def ensure_venv(venv: Path, executable: str, packages: list[str]) -> str | None:
    """None when ``venv`` has ``executable`` (installed once), else why not."""
    if (venv / "bin" / executable).exists():
        return None
    try:
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, *packages], check=True, timeout=1200)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"{executable} could not be installed: {exc}"
    return None


def ensure_mlflow() -> str | None:
    return ensure_venv(MLFLOW_VENV, "mlflow", ["mlflow", "-e", str(ROOT)])


def ensure_bentoml() -> str | None:
    import sklearn

    return ensure_venv(
        BENTOML_VENV, "bentoml", ["bentoml", f"scikit-learn=={sklearn.__version__}", "pandas"]
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server not ready")


def command(kind: str, model: Path, plain: Path, port: int, workers: int) -> list[str]:
    """The command line starting server ``kind``."""
    if kind == "sds":
        return [PYTHON, "-m", "sds.cli.main", "serve", str(model), "--port", str(port), "--workers"]
    if kind == "floor":
        return [PYTHON, str(APPS / "floor_run.py"), str(port)]
    if kind.startswith("fastapi"):
        return [
            *(PYTHON, "-m", "uvicorn", "fastapi_peer:app", "--app-dir", str(APPS)),
            *("--port", str(port), "--workers", str(workers), "--log-level", "warning"),
        ]
    if kind == "bentoml":
        return [
            str(BENTOML_VENV / "bin" / "bentoml"),
            *("serve", "bentoml_peer:Plain", "--host", "127.0.0.1", "--port", str(port)),
        ]
    return [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        *("models", "serve", "-m", str(mlflow_model(model)), "--env-manager", "local"),
        *("--host", "127.0.0.1", "-p", str(port), "--workers", str(workers)),
    ]


READY = {
    "sds": "/ready",
    "floor": "/",
    "fastapi-plain": "/docs",
    "fastapi-sds": "/docs",
    "bentoml": "/readyz",
    "mlflow": "/ping",
}
PREDICT = {"bentoml": "/predict", "mlflow": "/invocations"}
BODY = {"bentoml": "bentoml", "mlflow": "mlflow"}


def start(
    kind: str, model: Path, plain: Path, workers: int
) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server process, its predict URL and the body format it takes."""
    port = free_port()
    paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    env = {**os.environ, **THREADS_1, "PYTHONPATH": ":".join([str(APPS), *paths])}
    env["MODEL_FILE"] = str(
        plain if kind in ("fastapi-plain", "bentoml") else model / "model.joblib"
    )
    env["BENTO_WORKERS"] = str(workers)
    env["BENTOML_HOME"] = str(OUT / "bentoml-home")
    env["BENTOML_DO_NOT_TRACK"] = "True"
    env["PATH"] = f"{MLFLOW_VENV / 'bin'}:{env['PATH']}"  # mlflow execs its uvicorn
    cmd = command(kind, model, plain, port, workers)
    if kind == "sds":
        cmd += [str(workers), "--range-margin", "-1"]
    process = subprocess.Popen(
        cmd, env=env, cwd=APPS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}{READY[kind]}", process)
    except RuntimeError:
        stop(process)
        raise
    url = f"http://127.0.0.1:{port}{PREDICT.get(kind, '/predict')}"
    return process, url, BODY.get(kind, "record")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def mlflow_model(model: Path) -> Path:
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
    return saved
