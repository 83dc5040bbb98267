"""The request log, for monitoring: a sample of answered requests, written off the hot path.

A request adds its rows to an in-memory buffer (one dict per record: time, variant, model
version, HTTP status, latency, the inputs and the prediction) with probability
``sample``; a background thread swaps the buffer out every ``interval`` seconds (1 by
default, so a worker killed outright loses about a second of rows; or when it holds
``batch`` rows) and writes it as one Parquet file per flush, named by worker and sequence
and renamed into place when complete, so a reader of ``DIR/*.parquet`` never sees half a
file; what is left is written when the worker stops. Refusals (4xx) and errors (5xx) are
rows with their status and no prediction; a client gone mid-body is status 499; requests
without a valid API key are not logged. Rows that would overflow ``max_buffer`` are
dropped and counted rather than slowing the server down.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class RequestLog:
    """``schema``: the model's input schema (fixes each column's type in every file)."""

    def __init__(
        self,
        folder: str | Path,
        schema: list[dict[str, Any]],
        *,
        sample: float = 1.0,
        interval: float = 1.0,
        batch: int = 50_000,
        max_buffer: int = 500_000,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.types = {
            f"in_{c['name']}": "string" if c["kind"] == "category" else "float64" for c in schema
        }
        self.sample, self.interval, self.batch, self.max_buffer = (
            sample,
            interval,
            batch,
            max_buffer,
        )
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sequence = 0
        self.dropped = 0
        self._prefix = f"requests-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._thread = threading.Thread(target=self._run, name="sds-request-log", daemon=True)
        self._thread.start()

    def add(
        self, base: dict[str, Any], columns: Mapping[str, Any] | None = None, scores: Any = None
    ) -> None:
        """Log one request (sampled): one row per record with its validated inputs and
        score (positive-class probability, value, or for several classes the top one's
        probability), or one row for a refused request."""
        if self.sample < 1.0 and random.random() >= self.sample:
            return
        if columns is None:
            rows = [base]
        else:
            n = len(next(iter(columns.values())))
            top = scores if scores is None or scores.ndim == 1 else scores.max(axis=1)
            rows = [
                {
                    **base,
                    **{f"in_{c}": v[i] for c, v in columns.items()},
                    "prediction": None if top is None else float(top[i]),
                }
                for i in range(n)
            ]
        with self._lock:
            if len(self._rows) + len(rows) > self.max_buffer:
                self.dropped += len(rows)
                return
            self._rows.extend(rows)
            full = len(self._rows) >= self.batch
        if full:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> Path | None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return None
        import pandas as pd

        self._sequence += 1
        path = self.folder / f"{self._prefix}-{self._sequence:06d}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        frame = pd.DataFrame(rows).reindex(columns=[*BASE_TYPES, *self.types, "prediction"])
        frame.astype({**BASE_TYPES, **self.types, "prediction": "float64"}).to_parquet(
            tmp, index=False
        )
        os.replace(tmp, path)
        return path

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.flush()


BASE_TYPES = {
    "ts": "float64",
    "variant": "string",
    "model_version": "string",
    "status": "int64",
    "latency_ms": "float64",
}


def base_row(variant: str, version: str, status: int, seconds: float) -> dict[str, Any]:
    return {
        "ts": time.time(),
        "variant": variant,
        "model_version": version,
        "status": status,
        "latency_ms": seconds * 1000,
    }
