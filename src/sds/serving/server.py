"""``sds serve``: the app under granian, a Rust HTTP server, with several worker processes.

The model is loaded once here first, and every setting checked (the address free, the log
folder writable, a challenger's schema equal to the champion's: :mod:`sds.serving.preflight`),
so a mistake fails at once with a clear error (exit 2) rather than in every worker. Each
worker takes up to ``BACKPRESSURE`` connections at once (granian counts idle and slow ones
too, so its default of 512 let ~1,000 slow clients stop a 2-worker server); bodies must
arrive within ``body_timeout`` seconds and headers within ``HEADER_SECONDS``. The workers
get their settings in ``SDS_SERVE``,
their numeric libraries limited to one thread each (several threads per request only
contend under concurrent load), and a shared folder for Prometheus' multiprocess metrics.
A worker that dies is replaced.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from sds.errors import ParameterError
from sds.serving import preflight
from sds.serving.model import check_servable

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
BACKPRESSURE = 4_096  # connections per worker
BACKLOG = 4_096  # connections waiting to be accepted
HEADER_SECONDS = 10  # to receive a request's headers


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
    trust_model: bool = False,
    body_timeout: float = 10.0,
    public_metrics: bool = False,
    allow_schema_change: bool = False,
    ignore_unknown_fields: bool = False,
) -> None:
    """Check the model(s) and settings, then serve until interrupted."""
    from granian import Granian

    limits = {"workers": workers, "canary_weight": canary_weight, "log_sample": log_sample}
    preflight.check_settings(
        {**limits, "max_body": max_body, "body_timeout": body_timeout, "range_margin": range_margin}
    )
    if api_key_env and not os.environ.get(api_key_env):
        raise ParameterError(
            f"the environment variable {api_key_env} holding the API key is not set",
            parameter="api_key_env",
        )
    checked = check_servable(model, trust_model)  # loads, predicts nothing: OpenMP and fork
    challenger = check_servable(canary, trust_model) if canary is not None else None
    if challenger is not None and not allow_schema_change:
        preflight.check_canary_schema(checked, challenger, str(canary))
    elif challenger is not None:
        for difference in preflight.schema_differences(checked.meta, challenger.meta):
            print(f"warning: canary {canary}: {difference}", file=sys.stderr, flush=True)
    preflight.check_address(host, port)
    settings: dict[str, Any] = {  # the workers load the very versions checked here
        "model": str(checked.path.resolve()),
        "canary": str(challenger.path.resolve()) if challenger else None,
        "trust_model": trust_model,
        "canary_weight": canary_weight,
        "api_key_env": api_key_env,
        "range_margin": range_margin,
        "max_body": max_body,
        "log_dir": str(preflight.check_log_dir(log_dir)) if log_dir else None,
        "log_sample": log_sample,
        "body_timeout": body_timeout,
        "public_metrics": public_metrics,
        "ignore_unknown_fields": ignore_unknown_fields,
    }
    os.environ["SDS_SERVE"] = json.dumps(settings)
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    metrics_dir = tempfile.mkdtemp(prefix="sds-metrics-")
    atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    print(start_line(checked.meta, challenger, canary_weight, host, port, workers), flush=True)
    _raise_open_files_limit(workers * BACKPRESSURE + 256)
    Granian(
        "sds.serving.app:app_from_environment",
        factory=True,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        **granian_settings(host, port, workers),
    ).serve()


def granian_settings(host: str, port: int, workers: int) -> dict[str, Any]:
    """granian's settings for ``sds serve`` (the serving benchmark's floor uses them too).

    Args:
        host: Address to listen on.
        port: Port to listen on.
        workers: Worker processes.

    Returns:
        Keyword arguments for ``granian.Granian``.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return {
        "address": host,
        "port": port,
        "interface": Interfaces.ASGI,
        "workers": workers,
        "http": HTTPModes.http1,
        "websockets": False,
        "log_level": LogLevels.warning,
        "backlog": BACKLOG,
        "backpressure": BACKPRESSURE,
        "http1_settings": HTTP1Settings(header_read_timeout=HEADER_SECONDS * 1_000),
    }


def start_line(
    meta: dict[str, Any], challenger: Any, weight: float, host: str, port: int, workers: int
) -> str:
    """The start line: the model, the challenger and its share of traffic, the address."""

    def name(m: dict[str, Any]) -> str:
        return f"{m.get('name', 'model')} {str(m['sha256'])[:12]}"

    canary = (
        f" and canary {name(challenger.meta)} ({weight * 100:g}% of requests)" if challenger else ""
    )
    return f"serving {name(meta)}{canary} on http://{host}:{port} with {workers} worker(s)"


def _raise_open_files_limit(wanted: int) -> None:
    """Raise the soft limit on open files towards ``wanted`` (within the hard limit), so
    the connections granian may hold do not run out of descriptors first."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
