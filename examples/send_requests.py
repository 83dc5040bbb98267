"""Send a model server real traffic: one POST /predict per row of a table.

    python examples/send_requests.py --url http://127.0.0.1:8000 --requests 1500

It asks the server (GET /model) which inputs the model takes, sends those columns of
``--rows`` (default: examples/data/churn_current.parquet, this month's customers) one
record per request from a few threads, and prints how many answers came back and their
latency. The server's request log (``sds serve --log-dir``) then holds the traffic that
``sds monitor`` and ``sds canary report`` read. Only the standard library and pandas.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

ROWS = Path(__file__).parent / "data" / "churn_current.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server.")
    parser.add_argument("--rows", type=Path, default=ROWS, help="Parquet or CSV rows to send.")
    parser.add_argument("--requests", type=int, default=1_500, help="Requests to send.")
    parser.add_argument("--threads", type=int, default=4, help="Concurrent clients.")
    args = parser.parse_args()
    inputs = [c["name"] for c in get_json(args.url + "/model")["champion"]["input_schema"]]
    frame = read(args.rows)[inputs]
    records = [clean(r) for r in frame.to_dict("records")]
    bodies = [json.dumps(records[i % len(records)]).encode() for i in range(args.requests)]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        answers = list(pool.map(lambda body: post(args.url + "/predict", body), bodies))
    seconds = time.perf_counter() - started
    ok = sorted(ms for status, ms, _ in answers if status == 200)
    refused = [why for status, _, why in answers if 400 <= status < 500]
    failed = len(answers) - len(ok) - len(refused)
    p95 = ok[int(0.95 * (len(ok) - 1))] if ok else math.nan
    print(
        f"sent {len(answers):,} requests in {seconds:.1f} s: {len(ok):,} answered, "
        f"{len(refused):,} refused, {failed:,} failed; P95 latency {p95:.1f} ms"
    )
    if refused:  # the server's validator at work (e.g. a value far outside training's range)
        print(f"first refusal: {refused[0][:300]}")
    if failed or not ok:
        raise SystemExit(1)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready record: numpy scalars as Python numbers, missing values as null."""
    out = {}
    for key, value in row.items():
        value = value.item() if hasattr(value, "item") else value
        out[str(key)] = None if isinstance(value, float) and math.isnan(value) else value
    return out


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def post(url: str, body: bytes) -> tuple[int, float, str]:
    """(HTTP status, latency in ms, the error's text); status 0 when the server could not
    be reached."""
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    started = time.perf_counter()
    why = ""
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as exc:
        status, why = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        status, why = 0, str(exc)
    return status, (time.perf_counter() - started) * 1000, why


if __name__ == "__main__":
    main()
