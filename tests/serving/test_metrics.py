"""The server's metrics tallied in memory and written on a timer: what a tally writes is
what ``Histogram.observe`` gives value by value, and the samples reach the registry by
the timer on the worker's loop or at once before a scrape."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from sds.serving import metrics
from tests.waiting import wait_until

BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
VALUES = [0.0, 0.0005, 0.00050001, 0.003, 0.1, 2.5, 2.6, 1e9, math.inf, -1.0, math.nan, 0.7]


def _samples(histogram: Histogram) -> dict[tuple[str, str], float]:
    return {
        (s.name, s.labels.get("le", "")): s.value
        for metric in histogram.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }


def test_a_tally_writes_what_observe_gives_value_by_value() -> None:
    reference = Histogram("h", "reference", buckets=BOUNDS, registry=CollectorRegistry())
    tallied = Histogram("h", "tallied", buckets=BOUNDS, registry=CollectorRegistry())
    tally = metrics.Tally(BOUNDS)
    for v in VALUES:
        reference.observe(v)
        tally.add(v)
    tally.write(tallied)
    want, got = _samples(reference), _samples(tallied)
    assert want.keys() == got.keys() and len(want) == len(BOUNDS) + 3  # buckets, count, sum
    for key, value in want.items():
        assert got[key] == value or (math.isnan(value) and math.isnan(got[key])), key
    assert want[("h_count", "")] == len(VALUES) - 1  # NaN is summed but in no bucket


def _count(name: str, status: str = "200") -> float | None:
    labels = {"model": name, "variant": "champion", "status": status}
    return REGISTRY.get_sample_value("sds_requests_total", labels)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread, as a worker's is."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def test_samples_are_written_by_the_timer_and_before_a_scrape(
    loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # this process's own registry: a test that ran ``sds serve`` in this worker may have
    # left the multiprocess folder in the environment
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    model = SimpleNamespace(name="timer-model")

    async def answer(n: int, status: int = 200) -> float | None:
        for _ in range(n):
            metrics.observe(model, "champion", status, 0.002, [{"probability": 0.35}, 0.95])
        return _count(model.name, str(status))

    assert asyncio.run_coroutine_threadsafe(answer(3), loop).result(10) is None  # tallied
    wait_until(lambda: _count(model.name) == 3, 10, "the timer writes the tally")
    asyncio.run_coroutine_threadsafe(answer(2, 499), loop).result(10)
    text = metrics.exposition()[0].decode()  # a scrape writes what is pending first
    assert 'sds_requests_total{model="timer-model",status="499",variant="champion"} 2.0' in text
    labels = {"model": model.name, "variant": "champion"}
    assert REGISTRY.get_sample_value("sds_disconnected_total", labels) == 2
    assert REGISTRY.get_sample_value("sds_request_latency_seconds_count", labels) == 5
    bucket = "sds_request_latency_seconds_bucket"
    assert REGISTRY.get_sample_value(bucket, {**labels, "le": "0.0025"}) == 5
    assert REGISTRY.get_sample_value(bucket, {**labels, "le": "0.001"}) == 0
    assert REGISTRY.get_sample_value("sds_prediction_bucket", {**labels, "le": "0.4"}) == 5
    assert REGISTRY.get_sample_value("sds_prediction_count", labels) == 10
    assert REGISTRY.get_sample_value("sds_prediction_sum", labels) == pytest.approx(6.5)


def test_outside_a_loop_a_sample_is_written_at_once() -> None:
    model = SimpleNamespace(name="sync-model")
    metrics.observe(model, "champion", 422, 0.01)
    assert _count(model.name, "422") == 1
