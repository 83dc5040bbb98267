"""Prometheus metrics of the model server, per model and variant: requests by status,
a latency histogram, and the distribution of predictions; requests whose client went away
mid-body (status 499, also in ``sds_disconnected_total``, not a server error) and requests
refused for a wrong API key (``sds_unauthorized_total``).

Under several workers (``sds serve --workers N``) each process writes its samples to
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up (prometheus_client's
multiprocess mode), so a scrape that reaches any worker sees the whole server.
"""

from __future__ import annotations

import os
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


# the labelled series, looked up once: ``labels()`` takes a lock and builds a key each call
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_scores: dict[tuple[str, str], Any] = {}


def observe_request(model: Any, variant: str, status: int, seconds: float) -> None:
    key = (model.name, variant, status)
    series = _series.get(key)
    if series is None:
        series = (REQUESTS.labels(key[0], variant, str(status)), LATENCY.labels(key[0], variant))
        _series[key] = series
    series[0].inc()
    series[1].observe(seconds)
    if status == 499:
        DISCONNECTED.labels(model.name, variant).inc()


def observe_predictions(model: Any, variant: str, predictions: list[Any]) -> None:
    histogram = _scores.get((model.name, variant))
    if histogram is None:
        histogram = _scores[model.name, variant] = PREDICTIONS.labels(model.name, variant)
    for p in predictions:
        if isinstance(p, dict) and "probability" in p:
            histogram.observe(p["probability"])
        elif isinstance(p, float):
            histogram.observe(p)


def exposition() -> tuple[bytes, str]:
    """The metrics text; summed over worker processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
