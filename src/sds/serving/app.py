"""The model server's ASGI app (Starlette): predict, health, readiness, metrics, model
description and OpenAPI.

``POST /predict`` takes one record or ``{"instances": [...]}`` (``Content-Type:
application/json``) and answers ``{"predictions": [...], "model_version": ...,
"variant": ...}``. A bad request gets a JSON body listing its problems (400 malformed
JSON, 408 body too slow, 413 too large, 415 not JSON, 422 invalid records; at most 50
listed and 64 KB in all); an unexpected failure is logged and answered 500 with no
internals. A client gone before its body arrived is logged as 499. With an API key, every
route but the probes needs it (:mod:`sds.serving.auth`); refusals are not logged.
With a challenger, ``canary_weight`` of the traffic goes to it: deterministically by the
``X-Request-Key`` header when given (a hash of the key), at random otherwise.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sds.serving import metrics
from sds.serving.auth import PROBES, KeyGuard
from sds.serving.body import read_body
from sds.serving.model import ServedModel, load_served
from sds.serving.openapi import docs_page, document
from sds.serving.requestlog import RequestLog, base_row
from sds.serving.validate import RequestError, decode

MAX_BODY = 1_048_576  # bytes
BODY_SECONDS = 10.0  # the whole body must arrive within this
PATHS = {  # the deployment files' probes use these (checked in tests/deploy)
    "predict": "/predict",
    "health": "/health",
    "ready": "/ready",
    "model": "/model",
    "metrics": "/metrics",
    "openapi": "/openapi.json",
    "docs": "/docs",
}
log = logging.getLogger("sds.serving")


@dataclass
class ServerConfig:
    champion: ServedModel
    challenger: ServedModel | None = None
    canary_weight: float = 0.05
    api_key: str | None = None
    max_body: int = MAX_BODY
    log: Any = None  # a RequestLog, or None
    body_timeout: float = BODY_SECONDS
    public_metrics: bool = False  # /metrics open even with an API key


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def _route(cfg: ServerConfig, key: bytes | None) -> tuple[str, ServedModel]:
    if cfg.challenger is None:
        return "champion", cfg.champion
    if key is not None:
        digest = hashlib.sha256(key.decode("latin-1").encode()).digest()
        share = int.from_bytes(digest[:8], "big") / 2**64
    else:
        share = random.random()
    if share < cfg.canary_weight:
        return "challenger", cfg.challenger
    return "champion", cfg.champion


def _is_json(content_type: bytes | None) -> bool:
    media = (content_type or b"").partition(b";")[0]
    return media.strip().lower() == b"application/json"


def _refusal(exc: RequestError, variant: str) -> tuple[int, bytes, bool]:
    """A 4xx answer; after a too slow or too large body the connection is closed."""
    return exc.status, orjson.dumps({**exc.body(), "variant": variant}), exc.status in (408, 413)


def _headers(scope: MutableMapping[str, Any]) -> dict[bytes, bytes]:
    """The request's headers by (lower-case) name, the first of repeated ones."""
    return dict(reversed(scope["headers"]))


async def _predict(
    cfg: ServerConfig, scope: MutableMapping[str, Any], receive: Any
) -> tuple[int, bytes, bool]:
    """``POST /predict``: the status, the JSON body and whether to close the connection.
    Every request is counted in the metrics and (when a log is kept) logged."""
    started = time.perf_counter()
    headers = _headers(scope)
    variant, model = _route(cfg, headers.get(b"x-request-key"))
    columns: Mapping[str, Any] | None = None
    scores = None
    observed: list[Any] = []  # a 200's predictions, for the metrics
    try:
        body = await read_body(
            receive, _text(headers.get(b"content-length")), cfg.max_body, cfg.body_timeout
        )
        if not _is_json(headers.get(b"content-type")):
            raise RequestError(415, [_not_json(_text(headers.get(b"content-type")))])
        records = decode(body)
        columns = model.validator.columns(records)
        scores = model.scores(columns, len(records))
        predictions = model.answers(scores)
        answer = (
            200,
            orjson.dumps(
                {"predictions": predictions, "model_version": model.version, "variant": variant}
            ),
            False,
        )
        observed = predictions
    except RequestError as exc:
        answer = _refusal(exc, variant)
    except Exception:
        log.exception("prediction failed")
        answer = (500, orjson.dumps({"error": "internal error", "variant": variant}), False)
    seconds = time.perf_counter() - started
    metrics.observe(model, variant, answer[0], seconds, observed)
    if cfg.log is not None:
        cfg.log.add(base_row(variant, model.version, answer[0], seconds), columns, scores)
    return answer


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _send_json(send: Any, status: int, body: bytes, close: bool) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(cfg: ServerConfig) -> Any:
    """The ASGI app serving ``cfg``'s model(s), behind the API key if there is one.
    ``POST /predict`` is answered directly (no framework between granian and the model);
    the other routes go through Starlette."""

    async def predict_route(request: Request) -> Response:  # when Starlette routes it (a root path)
        status, body, close = await _predict(cfg, request.scope, request.receive)
        headers = {"connection": "close"} if close else None
        return Response(body, status, headers, media_type="application/json")

    async def health(request: Request) -> Response:
        return _json({"status": "alive"})

    async def ready(request: Request) -> Response:
        return _json(
            {
                "status": "ready",
                "model_version": cfg.champion.version,
                "runtime": cfg.champion.runtime.kind,
            }
        )

    async def model_info(request: Request) -> Response:
        out: dict[str, Any] = {"champion": cfg.champion.describe()}
        if cfg.challenger is not None:
            out["challenger"] = cfg.challenger.describe()
            out["canary_weight"] = cfg.canary_weight
        return _json(out)

    async def prometheus(request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    async def openapi(request: Request) -> Response:
        return _json(document(cfg.champion))

    async def docs(request: Request) -> Response:
        return HTMLResponse(docs_page(cfg.champion))

    _warm(cfg)
    routes = [
        Route(PATHS["predict"], predict_route, methods=["POST"]),
        Route(PATHS["health"], health, methods=["GET"]),
        Route(PATHS["ready"], ready, methods=["GET"]),
        Route(PATHS["model"], model_info, methods=["GET"]),
        Route(PATHS["metrics"], prometheus, methods=["GET"]),
        Route(PATHS["openapi"], openapi, methods=["GET"]),
        Route(PATHS["docs"], docs, methods=["GET"]),
    ]
    routed = Starlette(routes=routes, lifespan=_lifespan(cfg))
    path = PATHS["predict"]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == path and scope["method"] == "POST":
            await _send_json(send, *await _predict(cfg, scope, receive))
        else:
            await routed(scope, receive, send)

    if cfg.api_key is None:
        return app

    open_paths = [*PROBES, PATHS["metrics"]] if cfg.public_metrics else PROBES
    return KeyGuard(app, cfg.api_key, open_paths)


def _not_json(content_type: str | None) -> dict[str, Any]:
    found = (content_type or "none")[:100]
    return {
        "record": None,
        "field": None,
        "problem": "the body must be JSON",
        "found": f"Content-Type: {found}",
        "expected": "Content-Type: application/json",
    }


def _lifespan(cfg: ServerConfig) -> Any:
    """Write the metrics and what the request log still hold when the worker stops."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        metrics.flush()
        if cfg.log is not None:
            cfg.log.close()

    return lifespan


def _warm(cfg: ServerConfig) -> None:
    """One prediction per model before the first request, so /ready means ready."""
    for model in (cfg.champion, cfg.challenger):
        if model is None:
            continue
        example = example_record(model)
        model.predict([example])


def example_record(model: ServedModel) -> dict[str, Any]:
    """A valid record: each column's middle value or first level."""
    out: dict[str, Any] = {}
    for c in model.meta["input_schema"]:
        if c["kind"] == "category":
            out[c["name"]] = (c.get("levels") or ["x"])[0]
        elif c["kind"] == "boolean":
            out[c["name"]] = False
        elif "min" in c:
            mid = (c["min"] + c["max"]) / 2
            out[c["name"]] = round(mid) if c["kind"] == "integer" else mid
        else:
            out[c["name"]] = None
    return out


def app_from_environment() -> Any:
    """The app for ``sds serve``'s workers: the settings come in ``SDS_SERVE`` (JSON)."""

    settings = orjson.loads(os.environ["SDS_SERVE"])
    margin = settings.get("range_margin", 0.1)
    trust = bool(settings.get("trust_model", False))  # the signature key comes from the env
    champion = load_served(settings["model"], margin, trust)
    challenger = load_served(settings["canary"], margin, trust) if settings.get("canary") else None
    for served in (champion, challenger):  # whole records: fields the model does not use pass
        if served is not None:
            served.validator.ignore_unknown = bool(settings.get("ignore_unknown_fields", False))
    key_env = settings.get("api_key_env")
    api_key = os.environ.get(key_env) if key_env else None
    if key_env and not api_key:
        raise RuntimeError(f"the API key variable {key_env} is empty")
    log = None
    if settings.get("log_dir"):
        log = RequestLog(
            settings["log_dir"],
            champion.meta["input_schema"],
            sample=settings.get("log_sample", 1.0),
        )
    return create_app(
        ServerConfig(
            champion,
            challenger,
            settings.get("canary_weight", 0.05),
            api_key,
            settings.get("max_body", MAX_BODY),
            log,
            settings.get("body_timeout", BODY_SECONDS),
            settings.get("public_metrics", False),
        )
    )
