"""Reading a request body within bounds of size and time.

The whole body must arrive within ``seconds`` (408 otherwise), so a client that sends one
byte now and then cannot hold a worker's slot for long. One timer per event loop checks
the deadlines of the bodies being read every ``TICK`` seconds (a timer per request costs
a fifth of the server's own time per answer), so a late body is cut between ``seconds``
and ``seconds + TICK`` after its request arrived. A body over ``limit`` bytes is
read to its end and dropped (up to ``DRAIN_MAX`` bytes) before the 413 answer: a server
that answers and closes while the client is still sending makes the kernel reset the
connection, which can destroy the answer on its way out. A declared length over
``DRAIN_MAX`` is refused at once. A client that goes away mid-body is a 499 (the nginx
convention): not the server's error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sds.serving.validate import RequestError

DRAIN_MAX = 16 * 1_048_576  # bytes of an oversized body read and dropped before the 413
DISCONNECTED = 499
TICK = 0.1  # seconds between checks of the deadlines

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class Deadlines:
    """The tasks of one event loop reading a body, each with its deadline (monotonic
    seconds); while there are any, a timer every ``TICK`` cancels those past it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.ticking = False

    def add(self, task: asyncio.Task[Any], seconds: float) -> None:
        self.waiting[task] = time.monotonic() + seconds
        if not self.ticking:
            self.ticking = True
            self.loop.call_later(TICK, self.check)

    def done(self, task: asyncio.Task[Any]) -> bool:
        """Forget the task; whether its deadline had passed."""
        self.waiting.pop(task, None)
        if task in self.expired:
            self.expired.discard(task)
            return True
        return False

    def check(self) -> None:
        now = time.monotonic()
        late = [task for task, deadline in self.waiting.items() if deadline <= now]
        for task in late:
            del self.waiting[task]
            self.expired.add(task)
            task.cancel()
        self.ticking = bool(self.waiting)
        if self.ticking:
            self.loop.call_later(TICK, self.check)
        else:
            _deadlines.pop(self.loop, None)


_deadlines: dict[asyncio.AbstractEventLoop, Deadlines] = {}


def _watch(loop: asyncio.AbstractEventLoop) -> Deadlines:
    """The loop's deadlines, new; those of closed loops (whose last timer never came) go."""
    for closed in [other for other in _deadlines if other.is_closed()]:
        del _deadlines[closed]
    deadlines = _deadlines[loop] = Deadlines(loop)
    return deadlines


async def read_body(receive: Receive, declared: str | None, limit: int, seconds: float) -> bytes:
    """The body, or a :class:`RequestError` with status 408, 413 or 499."""
    length = int(declared) if declared is not None and declared.isdigit() else None
    if length is not None and length > DRAIN_MAX:
        raise _too_large(limit, length)
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("read_body must run inside a task")
    deadlines = _deadlines.get(task.get_loop()) or _watch(task.get_loop())
    cancelling = task.cancelling()
    chunks: list[bytes] = []
    size = 0
    more = True
    deadlines.add(task, seconds)
    try:
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestError(DISCONNECTED, [_problem("client disconnected")])
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > DRAIN_MAX:
                break
            more = message.get("more_body", False)
    except asyncio.CancelledError:
        if not deadlines.done(task) or task.uncancel() > cancelling:
            raise  # cancelled by someone else too
        raise RequestError(
            408, [_problem(f"body not received within {seconds:g} s", size)]
        ) from None
    finally:
        deadlines.done(task)
    if size > limit:
        raise _too_large(limit, length if length is not None else size)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int, found: int) -> RequestError:
    return RequestError(413, [_problem(f"body larger than {limit} bytes", found)])


def _problem(problem: str, found: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"record": None, "field": None, "problem": problem}
    if found is not None:
        out["found"] = found
    return out
