"""``sds serve``: the app under granian, a Rust HTTP server, with several worker processes.

The model is loaded once here first, so a bad model file fails at once with a clear error
(exit 2) rather than in every worker. The workers get their settings in ``SDS_SERVE``,
their numeric libraries limited to one thread each (several threads per request only
contend under concurrent load), and a shared folder for Prometheus' multiprocess metrics.
A worker that dies is replaced.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def serve(
    model: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 2,
    canary: str | Path | None = None,
    canary_weight: float = 0.05,
    api_key_env: str | None = None,
    range_margin: float | None = 0.1,
    max_body: int = 1_048_576,
    log_dir: str | Path | None = None,
    log_sample: float = 1.0,
) -> None:
    """Check the model(s), then serve until interrupted."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    from sds.errors import ParameterError
    from sds.serving.model import check_servable

    if not 0 <= canary_weight <= 1:
        raise ParameterError(
            f"canary weight == {canary_weight}, must be in [0, 1]", parameter="canary_weight"
        )
    if api_key_env and not os.environ.get(api_key_env):
        raise ParameterError(
            f"the environment variable {api_key_env} holding the API key is not set",
            parameter="api_key_env",
        )
    checked = check_servable(model)  # loads, but predicts nothing: OpenMP and fork do not mix
    if canary is not None:
        check_servable(canary)
    settings: dict[str, Any] = {
        "model": str(Path(model).resolve()),
        "canary": str(Path(canary).resolve()) if canary else None,
        "canary_weight": canary_weight,
        "api_key_env": api_key_env,
        "range_margin": range_margin,
        "max_body": max_body,
        "log_dir": str(Path(log_dir).resolve()) if log_dir else None,
        "log_sample": log_sample,
    }
    os.environ["SDS_SERVE"] = json.dumps(settings)
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    metrics_dir = tempfile.mkdtemp(prefix="sds-metrics-")
    atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    meta = checked.meta
    print(
        f"serving {meta.get('name', 'model')} {str(meta['sha256'])[:12]} on "
        f"http://{host}:{port} with {workers} worker(s)",
        flush=True,
    )
    Granian(
        "sds.serving.app:app_from_environment",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        log_level=LogLevels.warning,
    ).serve()
