"""A small, fast HTTP/1.1 load generator (asyncio streams, keep-alive), run as its own
process so it does not share an interpreter with the server under test.

    python benchmarks/loadgen.py URL BODY_FILE --connections 8 --requests 20000 --seconds 20

Each connection sends a POST, reads the answer (Content-Length framed), and repeats, until
the request budget or the time budget is spent. Prints one JSON line: requests, errors
(non-2xx or broken connections), seconds, req/s and latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

import numpy as np


async def _connection(
    host: str,
    port: int,
    request: bytes,
    budget: list[int],
    deadline: float,
    latencies: list[float],
    errors: list[int],
    interval: float = 0.0,
) -> None:
    """One keep-alive connection; ``interval`` > 0 paces it (open loop at a fixed rate),
    and a broken connection is reopened (a worker may die under the test)."""
    reader, writer = await asyncio.open_connection(host, port)
    next_at = time.perf_counter()
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            if interval:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 300:
                errors[0] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors[0] += 1
        writer.close()
        if budget[0] > 0 and time.perf_counter() < deadline:
            await _connection(host, port, request, budget, deadline, latencies, errors, interval)
        return
    writer.close()


async def _main(
    url: str, body: bytes, connections: int, requests: int, seconds: float, rate: float = 0.0
) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    budget, latencies, errors = [requests], [], [0]
    started = time.perf_counter()
    deadline = started + seconds
    interval = connections / rate if rate else 0.0
    await asyncio.gather(
        *(
            _connection(host, port, request, budget, deadline, latencies, errors, interval)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    q = np.percentile(latencies, [50, 95, 99]) if latencies else [float("nan")] * 3
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": float(q[0]),
        "p95_ms": float(q[1]),
        "p99_ms": float(q[2]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("body_file")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="Requests per second in all (0: as fast as answered).",
    )
    args = parser.parse_args()
    with open(args.body_file, "rb") as f:
        body = f.read()
    result = asyncio.run(
        _main(args.url, body, args.connections, args.requests, args.seconds, args.rate)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
