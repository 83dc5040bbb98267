"""A bounded HTTP load: ``connections`` concurrent clients POST records until ``requests``
have been sent or ``seconds`` have passed, whichever comes first. Used by the deployment
check and the serving benchmark (there from a separate process)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LoadResult:
    sent: int
    errors: int  # transport failures and non-2xx answers
    seconds: float
    latencies_ms: np.ndarray

    @property
    def rps(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        q = np.percentile(self.latencies_ms, [50, 95, 99]) if len(self.latencies_ms) else [0] * 3
        return {
            "requests": self.sent,
            "errors": self.errors,
            "error_rate": self.errors / self.sent if self.sent else 0.0,
            "rps": self.rps,
            "p50_ms": float(q[0]),
            "p95_ms": float(q[1]),
            "p99_ms": float(q[2]),
        }


async def _run(
    url: str, bodies: list[bytes], connections: int, requests: int, seconds: float
) -> LoadResult:
    import httpx

    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                try:
                    answer = await client.post(
                        url, content=bodies[i % len(bodies)], headers=headers
                    )
                    ok = answer.status_code < 300
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), errors, elapsed, np.array(latencies))


def run_load(
    url: str,
    records: list[dict[str, Any]],
    *,
    connections: int = 8,
    requests: int = 2_000,
    seconds: float = 30.0,
) -> LoadResult:
    """Send single-record requests cycling through ``records``.

    The event loop runs in a daemon thread while this (main) thread waits: a signal
    (Ctrl-C, SIGTERM through :mod:`sds.interrupts`) then raises here, where the caller's
    cleanup runs (the server is stopped), instead of inside an asyncio callback, which
    would log the exception and go on loading."""
    import orjson

    bodies = [orjson.dumps(r) for r in records]
    outcome: list[LoadResult | BaseException] = []

    def work() -> None:
        try:
            outcome.append(asyncio.run(_run(url, bodies, connections, requests, seconds)))
        except BaseException as exc:  # handed to the waiting thread
            outcome.append(exc)

    thread = threading.Thread(target=work, name="sds-load", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]
