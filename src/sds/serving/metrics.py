"""Prometheus metrics of the model server, per model and variant: requests by status,
a latency histogram, and the distribution of predictions; requests whose client went away
mid-body (status 499, also in ``sds_disconnected_total``, not a server error) and requests
refused for a wrong API key (``sds_unauthorized_total``).

Under several workers (``sds serve --workers N``) each process writes its samples to
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up (prometheus_client's
multiprocess mode), so a scrape that reaches any worker sees the whole server.

A request's samples are tallied in memory and written every ``FLUSH_SECONDS`` by a timer on
the worker's event loop, and before the worker answers ``/metrics`` (five writes to the
shared files per request cost more than the rest of the bookkeeping): a scrape sees every
request the answering worker has finished and those of the other workers up to
``FLUSH_SECONDS`` ago; a worker killed outright loses at most its last ``FLUSH_SECONDS``
of samples (one stopped normally writes them). Called outside an event loop, a sample is
written at once.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCORE_BUCKETS = tuple(i / 10 for i in range(1, 11))
FLUSH_SECONDS = 0.5

REQUESTS = Counter(
    "sds_requests",
    "Prediction requests by model, variant and HTTP status",
    ["model", "variant", "status"],
)
LATENCY = Histogram(
    "sds_request_latency_seconds",
    "Time to answer a prediction request",
    ["model", "variant"],
    buckets=LATENCY_BUCKETS,
)
DISCONNECTED = Counter(
    "sds_disconnected",
    "Prediction requests whose client went away before the answer (status 499)",
    ["model", "variant"],
)
UNAUTHORIZED = Counter(
    "sds_unauthorized", "Requests refused for a missing or wrong API key (not logged)"
)
PREDICTIONS = Histogram(
    "sds_prediction",
    "Predicted probability of the positive class (binary) or value",
    ["model", "variant"],
    buckets=SCORE_BUCKETS,
)


class Tally:
    """Observations of one histogram series not written yet: how many, their sum and
    the count per bucket (the last one +Inf), as ``Histogram.observe`` would add them."""

    __slots__ = ("bounds", "counts", "n", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.n = 0
        self.sum = 0.0
        self.counts = [0] * (len(bounds) + 1)

    def add(self, value: float) -> None:
        self.n += 1
        self.sum += value
        if value == value:  # NaN is in no bucket, as prometheus_client has it
            self.counts[bisect_left(self.bounds, value)] += 1

    def write(self, histogram: Any) -> None:
        """Add the tally to a labelled ``Histogram`` (its sum and bucket values: the
        public ``observe`` takes one value at a time)."""
        histogram._sum.inc(self.sum)
        for bucket, count in zip(histogram._buckets, self.counts, strict=True):
            if count:
                bucket.inc(count)


class _Pending:
    """The samples not written yet, and the loop whose timer will write them."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], Tally] = {}  # latencies by status
        self.scores: dict[tuple[str, str], Tally] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def due(self) -> None:
        """Write on the running loop's next timer tick, or now outside a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            flush()
            return
        if self.loop is not loop:
            self.loop = loop
            loop.call_later(FLUSH_SECONDS, flush)


_pending = _Pending()


def observe(
    model: Any, variant: str, status: int, seconds: float, predictions: Sequence[Any] = ()
) -> None:
    """One answered request: its status and latency, and its predictions (a probability
    per record, or a value)."""
    name = model.name
    key = (name, variant, status)
    tally = _pending.requests.get(key)
    if tally is None:
        tally = _pending.requests[key] = Tally(LATENCY_BUCKETS)
    tally.add(seconds)
    if predictions:
        scores = _pending.scores.get((name, variant))
        if scores is None:
            scores = _pending.scores[name, variant] = Tally(SCORE_BUCKETS)
        for p in predictions:
            if isinstance(p, dict) and "probability" in p:
                scores.add(p["probability"])
            elif isinstance(p, float):
                scores.add(p)
    _pending.due()


def flush() -> None:
    """Write the tallied samples to the metrics (the shared files under several workers)."""
    requests, scores = _pending.requests, _pending.scores
    _pending.requests, _pending.scores, _pending.loop = {}, {}, None
    for (name, variant, status), tally in requests.items():
        REQUESTS.labels(name, variant, str(status)).inc(tally.n)
        tally.write(LATENCY.labels(name, variant))
        if status == 499:
            DISCONNECTED.labels(name, variant).inc(tally.n)
    for (name, variant), tally in scores.items():
        tally.write(PREDICTIONS.labels(name, variant))


def exposition() -> tuple[bytes, str]:
    """The metrics text; summed over worker processes in multiprocess mode."""
    flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
