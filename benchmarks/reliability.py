"""Reliability of sds serve, bounded in time: sustained load, memory growth, a killed worker.

1. Capacity: the server's req/s at 8 connections, as fast as it answers (10 s).
2. Sustained: ``--minutes`` (default 10) at 80% of that rate, paced (open loop): no errors
   allowed; the server's resident memory (main process and workers, from /proc) at the
   end against after the first minute must grow less than 10%.
3. A worker killed (SIGKILL) in the middle of 60 s of load at 50% of capacity: granian
   replaces it, and the error rate over the run stays under 0.1%.

    python benchmarks/reliability.py [--minutes 10]

Uses the logistic model of ``benchmarks/serving.py`` (trained if missing). Prints one
JSON line per phase and a pass/fail summary; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import OUT, load, start, train_models


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(c) for c in text]
    return out


def _rss_mb(pid: int) -> float:
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return total


def _load(url: str, body: bytes, seconds: float, rate: float = 0.0) -> dict[str, float]:
    return load(url, body, 8, seconds, rate)


def main() -> None:
    parser = argparse.ArgumentParser(description="Sustained load, memory, a killed worker.")
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    model = train_models()["logistic"]
    import pandas as pd

    record = pd.read_parquet(OUT / "data.parquet").drop(columns="y").iloc[0].to_dict()
    body = json.dumps(record).encode()
    process, url, _ = start("sds", model)
    checks = []
    try:
        capacity = _load(url, body, 10)
        print(json.dumps({"phase": "capacity", **capacity}), flush=True)
        rate = 0.8 * capacity["rps"]
        memory: dict[str, float] = {}
        timer = threading.Timer(60, lambda: memory.setdefault("start", _rss_mb(process.pid)))
        timer.start()
        sustained = _load(url, body, args.minutes * 60, rate)
        memory["end"] = _rss_mb(process.pid)
        timer.cancel()
        memory.setdefault("start", memory["end"])
        growth = memory["end"] / memory["start"] - 1
        print(
            json.dumps(
                {
                    "phase": "sustained",
                    "rate": rate,
                    **sustained,
                    "rss_start_mb": memory["start"],
                    "rss_end_mb": memory["end"],
                }
            ),
            flush=True,
        )
        checks += [
            ("no errors under sustained load", sustained["errors"] == 0),
            (f"memory growth {growth:.1%} < 10%", growth < 0.10),
        ]
        workers = _children(process.pid)
        killer = threading.Timer(20, lambda: os.kill(workers[0], signal.SIGKILL))
        killer.start()
        killed = _load(url, body, 60, 0.5 * capacity["rps"])
        replaced = [w for w in _children(process.pid) if w not in workers]
        rate_err = killed["errors"] / max(killed["requests"], 1)
        print(
            json.dumps(
                {"phase": "worker killed", **killed, "killed": workers[0], "new_workers": replaced}
            ),
            flush=True,
        )
        checks += [
            ("the killed worker was replaced", bool(replaced)),
            (f"error rate {rate_err:.3%} < 0.1% with a worker killed", rate_err < 0.001),
        ]
    finally:
        process.terminate()
        process.wait(timeout=30)
    for name, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    sys.exit(0 if all(ok for _, ok in checks) else 1)


if __name__ == "__main__":
    main()
