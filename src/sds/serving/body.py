"""Reading a request body within bounds of size and time.

The whole body must arrive within ``seconds`` (408 otherwise), so a client that sends one
byte now and then cannot hold a worker's slot for long. A body over ``limit`` bytes is
read to its end and dropped (up to ``DRAIN_MAX`` bytes) before the 413 answer: a server
that answers and closes while the client is still sending makes the kernel reset the
connection, which can destroy the answer on its way out. A declared length over
``DRAIN_MAX`` is refused at once. A client that goes away mid-body is a 499 (the nginx
convention): not the server's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sds.serving.validate import RequestError

DRAIN_MAX = 16 * 1_048_576  # bytes of an oversized body read and dropped before the 413
DISCONNECTED = 499

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


async def read_body(receive: Receive, declared: str | None, limit: int, seconds: float) -> bytes:
    """The body, or a :class:`RequestError` with status 408, 413 or 499."""
    length = int(declared) if declared is not None and declared.isdigit() else None
    if length is not None and length > DRAIN_MAX:
        raise _too_large(limit, length)
    chunks: list[bytes] = []
    size = 0
    more = True
    try:
        async with asyncio.timeout(seconds):
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
    except TimeoutError:
        raise RequestError(
            408, [_problem(f"body not received within {seconds:g} s", size)]
        ) from None
    if size > limit:
        raise _too_large(limit, length if length is not None else size)
    return b"".join(chunks)


def _too_large(limit: int, found: int) -> RequestError:
    return RequestError(413, [_problem(f"body larger than {limit} bytes", found)])


def _problem(problem: str, found: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"record": None, "field": None, "problem": problem}
    if found is not None:
        out["found"] = found
    return out
