"""Reading a body within bounds: the whole body, a late one cut by the per-loop deadline
timer (408 between the deadline and a tick after it), an oversized one (413), a client
gone (499), and a task cancelled by someone else still cancelled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import pytest

from sds.serving import body
from sds.serving.body import TICK, read_body
from sds.serving.validate import RequestError


def _messages(*parts: bytes, then: str = "") -> Any:
    """A receive callable giving ``parts``; then waiting forever or a disconnect."""
    queue = list(parts)

    async def receive() -> MutableMapping[str, Any]:
        if queue:
            chunk = queue.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(queue) or bool(then)}
        if then == "disconnect":
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # a client that never sends the rest
        raise AssertionError("unreachable")

    return receive


def _run(receive: Any, declared: str | None = None, limit: int = 100, seconds: float = 1.0) -> Any:
    async def go() -> Any:
        return await read_body(receive, declared, limit, seconds)

    return asyncio.run(go())


def test_a_body_in_one_or_several_messages() -> None:
    assert _run(_messages(b'{"a": 1}'), "8") == b'{"a": 1}'
    assert _run(_messages(b'{"a"', b": 1", b"}")) == b'{"a": 1}'
    assert _run(_messages(b"")) == b""


def test_a_late_body_is_408_between_its_deadline_and_a_tick_later() -> None:
    started = time.monotonic()
    with pytest.raises(RequestError) as caught:
        _run(_messages(b'{"a"', then="wait"), seconds=0.3)
    took = time.monotonic() - started
    assert caught.value.status == 408 and caught.value.problems[0]["found"] == 4
    assert "within 0.3 s" in caught.value.problems[0]["problem"]
    assert 0.3 <= took < 0.3 + TICK + 0.5  # the last term: a loaded machine's slack
    assert len(body._deadlines) <= 1  # each new loop drops those of the closed ones


def test_too_large_and_disconnected() -> None:
    with pytest.raises(RequestError) as caught:
        _run(_messages(b"x" * 60, b"x" * 60), limit=100)
    assert caught.value.status == 413 and caught.value.problems[0]["found"] == 120
    with pytest.raises(RequestError) as caught:
        _run(_messages(), declared=str(body.DRAIN_MAX + 1))
    assert caught.value.status == 413
    with pytest.raises(RequestError) as caught:
        _run(_messages(b"{", then="disconnect"))
    assert caught.value.status == 499


def test_a_task_cancelled_by_someone_else_stays_cancelled() -> None:
    async def go() -> None:
        reading = asyncio.ensure_future(read_body(_messages(then="wait"), None, 100, 10.0))
        await asyncio.sleep(0)  # pacing: let it start waiting for the body
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(go())


def test_many_bodies_each_cut_at_its_own_deadline() -> None:
    async def go() -> list[int]:
        async def one(seconds: float) -> int:
            try:
                await read_body(_messages(b"{", then="wait"), None, 100, seconds)
            except RequestError as exc:
                return exc.status
            return 200

        slow = [asyncio.ensure_future(one(0.2)) for _ in range(20)]
        late = asyncio.ensure_future(one(30.0))
        statuses = await asyncio.gather(*slow)
        assert not late.done()  # its deadline has not come
        late.cancel()
        return statuses

    assert asyncio.run(go()) == [408] * 20
