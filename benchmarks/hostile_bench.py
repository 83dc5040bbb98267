"""Hostile clients against ``sds serve`` (2 workers, 127.0.0.1 only), bounded in time:
how normal requests fare, and what the request log keeps when a worker is killed.

1. baseline: ``--rate`` normal single-row requests per second over 8 connections.
2. slow bodies: ``--slow`` connections (1,000) that send complete headers announcing
   10,000 bytes and then one byte every 2 s, reopened when the server cuts them; the same
   normal load meanwhile. The server must answer 408 after ``--body-timeout`` (10 s) and
   keep the normal P99 under 100 ms.
3. problem flood: 4 clients posting ``{"instances": [{}, ... x10,000]}`` (30 KB) in a loop
   with the normal load; every answer must stay under 64 KB.
4. oversized bodies: 100 bodies of 2 MB; each must get 413, never a reset.
5. request log: a server with ``--log-dir``, the normal load for 6 s, one worker
   SIGKILLed after 3 s; rows logged with status 200 against answers 200 received.

    python benchmarks/hostile_bench.py [--slow 1000] [--seconds 20] [--rate 200]

Uses the logistic model of ``benchmarks/serving.py`` (trained if missing). The slow
clients run in a child process (this script with ``slow-clients``), so the normal
load's timings do not share an event loop with them. Prints one JSON line per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

HOST = "127.0.0.1"


async def _normal(port: int, body: bytes, seconds: float, rate: float) -> dict[str, float]:
    """Paced single-row requests over 8 keep-alive connections; latencies of answers."""
    request = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    broken = [0]
    deadline = time.perf_counter() + seconds
    connections = 8

    async def one() -> None:
        interval, next_at = connections / rate, time.perf_counter()
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                broken[0] += 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.perf_counter() < deadline:
                    next_at += interval
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    started = time.perf_counter()
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    await reader.readexactly(length)
                    latencies.append((time.perf_counter() - started) * 1000)
                    status = int(head[9:12])
                    statuses[status] = statuses.get(status, 0) + 1
            except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
                broken[0] += 1
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    q = np.percentile(latencies, [50, 99]) if latencies else [float("nan")] * 2
    return {
        "answered": len(latencies),
        "ok": statuses.get(200, 0),
        "not_ok": len(latencies) - statuses.get(200, 0),
        "broken": broken[0],
        "p50_ms": round(float(q[0]), 2),
        "p99_ms": round(float(q[1]), 2),
        "max_ms": round(max(latencies, default=float("nan")), 1),
    }


async def _slow_clients(port: int, count: int, seconds: float) -> dict[str, int]:
    """``count`` connections dribbling a body (1 byte / 2 s), reopened when cut."""
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000\r\n\r\n"
    ).encode()
    counts = {"opened": 0, "answered_408": 0, "other_answer": 0, "cut": 0}
    deadline = time.monotonic() + seconds

    async def one(i: int) -> None:
        await asyncio.sleep(i * 0.002)  # ramp up over ~2 s
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
                counts["opened"] += 1
                writer.write(head)
                while time.monotonic() < deadline:
                    writer.write(b" ")
                    await writer.drain()
                    try:
                        answer = await asyncio.wait_for(reader.read(200), 2.0)
                    except TimeoutError:
                        continue
                    key = "answered_408" if answer[9:12] == b"408" else "other_answer"
                    counts[key if answer else "cut"] += 1
                    break
                writer.close()
            except OSError:
                counts["cut"] += 1
                await asyncio.sleep(0.1)

    await asyncio.gather(*(one(i) for i in range(count)))
    return counts


def _flood(port: int, seconds: float) -> dict[str, int]:
    """4 clients posting 10,000 empty records in a loop; the largest answer's size."""
    import httpx

    body = json.dumps({"instances": [{}] * 10_000}).encode()
    largest, sent = [0], [0]
    deadline = time.monotonic() + seconds

    async def one() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < deadline:
                answer = await client.post(
                    f"http://{HOST}:{port}/predict",
                    content=body,
                    headers={"content-type": "application/json"},
                )
                largest[0] = max(largest[0], len(answer.content))
                sent[0] += 1

    async def run() -> None:
        await asyncio.gather(*(one() for _ in range(4)))

    asyncio.run(run())
    return {"flood_requests": sent[0], "flood_request_bytes": len(body), "largest": largest[0]}


def _start(model: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    from serving import THREADS_1, wait_ready  # isort: skip

    from sds.serving.deploycheck import free_port

    port = free_port()
    command = [sys.executable, "-m", "sds.cli.main", "serve", str(model), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--range-margin", "-1", *extra],
        env={**os.environ, **THREADS_1},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(f"http://{HOST}:{port}/ready", process)
    return process, port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _phase(name: str, **figures: object) -> None:
    print(json.dumps({"phase": name, **figures}), flush=True)


def _oversized(port: int, count: int) -> dict[str, int]:
    import httpx

    outcomes: dict[str, int] = {}
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            try:
                answer = client.post(
                    f"http://{HOST}:{port}/predict",
                    content=b"x" * 2_000_000,
                    headers={"content-type": "application/json"},
                )
                key = str(answer.status_code)
            except httpx.TransportError as exc:
                key = type(exc).__name__
            outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


def _killed_worker_log(model: Path, body: bytes, rate: float) -> dict[str, object]:
    import pandas as pd

    folder = Path(tempfile.mkdtemp(prefix="sds-hostile-log-"))
    process, port = _start(model, "--log-dir", str(folder))
    try:
        worker = _children(process.pid)[0]

        async def run() -> dict[str, float]:
            loop = asyncio.get_running_loop()
            loop.call_later(3.0, os.kill, worker, signal.SIGKILL)
            return await _normal(port, body, 6.0, rate)

        load = asyncio.run(run())
    finally:
        _stop(process)
    log = pd.read_parquet(folder)
    logged = int((log["status"] == 200).sum())
    lost = load["ok"] - logged
    return {"answered_200": load["ok"], "logged_200": logged, "lost": lost, "rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description="Hostile clients against sds serve.")
    parser.add_argument("--slow", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    import pandas as pd
    from serving import OUT, train_models  # isort: skip

    model = OUT / "logistic" / "model"
    if not (model / "model.json").exists():
        model = train_models()["logistic"]
    record = pd.read_parquet(OUT / "data.parquet").drop(columns="y").iloc[0].to_dict()
    body = json.dumps(record).encode()
    process, port = _start(model)
    try:
        _phase("baseline", **asyncio.run(_normal(port, body, 10.0, args.rate)))
        slow = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "slow-clients",
                str(port),
                str(args.slow),
                str(args.seconds + 15),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(5)  # all connections open and sending
        normal = asyncio.run(_normal(port, body, args.seconds, args.rate))
        attack = json.loads(slow.communicate(timeout=120)[0])
        _phase("slow bodies", slow_connections=args.slow, **normal, **attack)
        with _InThread(_flood, port, args.seconds) as flood:
            normal = asyncio.run(_normal(port, body, args.seconds, args.rate))
        _phase("problem flood", **normal, **flood.result())
        _phase("oversized bodies", **_oversized(port, 100))
    finally:
        _stop(process)
    _phase("worker killed, request log", **_killed_worker_log(model, body, args.rate))


class _InThread:
    """Run ``function(*args)`` in a thread for the ``with`` block; ``result()`` after."""

    def __init__(self, function: object, *args: object) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(1)
        self.future = self.pool.submit(function, *args)  # type: ignore[arg-type]

    def __enter__(self) -> _InThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True)

    def result(self) -> dict[str, int]:
        out: dict[str, int] = self.future.result()
        return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["slow-clients"]:
        port, count, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        print(json.dumps(asyncio.run(_slow_clients(port, count, seconds))))
    else:
        main()
