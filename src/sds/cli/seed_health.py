"""The job behind ``scripts/health_check.py [--url URL]``: is a model server healthy?

Checks ``/health`` (alive) and ``/ready`` (model loaded and warmed), each within a
timeout; exit 0 when both answer 200, 1 with the reason otherwise (unreachable, timed
out, an error status, not ready). The URL: ``--url``, else the ``SDS_URL`` environment
variable, else ``http://127.0.0.1:8000``. ``-o FILE`` also writes the findings as JSON
(``-o DIR/``, a name without a suffix or an existing folder: ``DIR/health.json``), healthy or not.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from sds.cli.seed import SeedContext, SeedJob
from sds.config import StrictModel
from sds.errors import AnalysisError
from sds.report.files import write_atomic

ENDPOINTS = ("/health", "/ready")
URL_VARIABLE = "SDS_URL"
DEFAULT_URL = "http://127.0.0.1:8000"


def _check(url: str, path: str, timeout: float) -> dict[str, Any]:
    import httpx

    try:
        answer = httpx.get(url.rstrip("/") + path, timeout=timeout)
    except httpx.TimeoutException:
        return {"endpoint": path, "ok": False, "reason": f"no answer within {timeout:g} s"}
    except httpx.TransportError as exc:
        return {"endpoint": path, "ok": False, "reason": f"unreachable: {exc}"}
    ok = answer.status_code == 200
    reason = "" if ok else f"HTTP {answer.status_code}: {answer.text[:200]}"
    return {
        "endpoint": path,
        "ok": ok,
        "status": answer.status_code,
        "reason": reason,
        "seconds": answer.elapsed.total_seconds(),
    }


def health_file(output: Path) -> Path:
    """``-o``: a file (``health.json``), or a folder (an existing one, or a name without a
    suffix such as ``health/``) that gets ``health.json``."""
    return output / "health.json" if output.is_dir() or not output.suffix else output


def run_health(ctx: SeedContext) -> int:
    url = ctx.args.url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
    timeout = ctx.args.timeout
    ctx.log.info("checking %s", url)
    found = [_check(url, path, timeout) for path in ENDPOINTS]
    if ctx.output is not None:
        target = health_file(ctx.output)
        write_atomic(target, json.dumps({"url": url, "checks": found}, indent=2))
        ctx.log.info("wrote %s", target)
    bad = [f"{f['endpoint']}: {f['reason']}" for f in found if not f["ok"]]
    if bad:
        raise AnalysisError(f"{url} is not healthy: " + "; ".join(bad))
    ctx.log.info("%s healthy", url)
    return len(found)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        help=f"Server base URL (default: ${URL_VARIABLE}, else {DEFAULT_URL}).",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="Seconds per request.")


JOB = SeedJob(
    name="health_check.py",
    description="Check a model server: scripts/health_check.py [--url URL] [-o FILE]; exit 0 "
    f"when /health and /ready answer, 1 with the reason when not. The URL defaults to "
    f"${URL_VARIABLE}, else {DEFAULT_URL}. -o writes the checks as JSON (a "
    "folder, or a name without a suffix: health.json in it). No config keys.",
    run=run_health,
    config_model=StrictModel,
    input_required=False,
    output_required=False,
    extra_arguments=_arguments,
)
