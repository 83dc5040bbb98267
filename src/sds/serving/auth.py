"""The API key, checked in front of every route but the probes.

With ``sds serve --api-key-env VAR`` every path except ``/health`` and ``/ready`` (and
``/metrics`` with ``--public-metrics``, for a Prometheus scraper) needs the key, in
``X-API-Key: KEY`` or ``Authorization: Bearer KEY`` (the scheme in any case, RFC 7235);
keys are compared in constant time. A refused request is answered 401 before its body is
read, is not written to the request log, and is counted in ``sds_unauthorized_total``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from sds.serving import metrics

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
PROBES = ("/health", "/ready")


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The key a request presents (empty if none): ``X-API-Key`` first, then a bearer
    token in ``Authorization``."""
    bearer = b""
    for name, value in headers:
        if name == b"x-api-key":
            return value
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                bearer = token.strip()
    return bearer


class KeyGuard:
    """ASGI middleware: requests without the key get 401, except on ``open_paths``."""

    def __init__(self, app: ASGIApp, key: str, open_paths: Iterable[str]) -> None:
        self.app = app
        self.key = key.encode()
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in self.open_paths
            or hmac.compare_digest(presented_key(scope["headers"]), self.key)
        ):
            await self.app(scope, receive, send)
            return

        metrics.UNAUTHORIZED.inc()
        body = orjson.dumps(
            {
                "error": "missing or wrong API key",
                "expected": "header X-API-Key: KEY or Authorization: Bearer KEY",
            }
        )
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="sds"'),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
