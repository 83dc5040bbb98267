"""The server's OpenAPI 3 document, built from the model's input schema, and a plain
docs page (no scripts from the internet)."""

from __future__ import annotations

import html
import math
from typing import Any

_KINDS = {"number": "number", "integer": "integer", "boolean": "boolean", "category": "string"}


def record_schema(model: Any) -> dict[str, Any]:
    """A record as the validator accepts it: types, closed levels, the range checked."""
    properties = {}
    for c in model.meta["input_schema"]:
        prop: dict[str, Any] = {"type": _KINDS[c["kind"]]}
        if c.get("levels"):
            prop["enum"] = c["levels"]
        low, high = model.validator.bounds[c["name"]]
        if c["kind"] in ("number", "integer") and math.isfinite(low):
            integer = c["kind"] == "integer"
            prop["minimum"] = math.ceil(low) if integer else low
            prop["maximum"] = math.floor(high) if integer else high
        if c["nullable"]:
            prop["nullable"] = True
        properties[c["name"]] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": bool(model.validator.ignore_unknown),
    }


def document(model: Any) -> dict[str, Any]:
    record = {"$ref": "#/components/schemas/Record"}
    body = {
        "oneOf": [
            record,
            {
                "type": "object",
                "required": ["instances"],
                "properties": {"instances": {"type": "array", "items": record, "minItems": 1}},
            },
        ]
    }
    ok = {
        "description": "predictions",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "predictions": {"type": "array"},
                        "model_version": {"type": "string"},
                        "variant": {"type": "string"},
                    },
                }
            }
        },
    }
    problems = {"description": "the request's problems, by record and field"}
    simple = {"200": {"description": "OK"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"sds model server: {model.name}", "version": model.version},
        "paths": {
            "/predict": {
                "post": {
                    "summary": "Predict for one record or a batch",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": {
                        "200": ok,
                        "400": problems,
                        "401": problems,
                        "408": problems,
                        "413": problems,
                        "415": problems,
                        "422": problems,
                    },
                }
            },
            "/health": {"get": {"summary": "Alive", "responses": simple}},
            "/ready": {"get": {"summary": "Model loaded and warmed", "responses": simple}},
            "/model": {"get": {"summary": "Version, input schema, metrics", "responses": simple}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": simple}},
        },
        "components": {"schemas": {"Record": record_schema(model)}},
    }


def docs_page(model: Any) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c['name'])}</td><td>{c['kind']}</td>"
        f"<td>{'yes' if c['nullable'] else 'no'}</td>"
        f"<td>{html.escape(_allowed(c))}</td></tr>"
        for c in model.meta["input_schema"]
    )
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(model.name)}</title>"
        f"<h1>sds model server: {html.escape(model.name)} ({model.version})</h1>"
        '<p>POST /predict with one record or {"instances": [records]}; '
        "the OpenAPI document is at <a href=/openapi.json>/openapi.json</a>.</p>"
        "<table><tr><th>field</th><th>type</th><th>nullable</th><th>allowed</th></tr>"
        f"{rows}</table>"
    )


def _allowed(c: dict[str, Any]) -> str:
    if c.get("levels"):
        return ", ".join(c["levels"][:30]) + (" ..." if len(c["levels"]) > 30 else "")
    if "min" in c:
        return f"training range {c['min']:g} to {c['max']:g}"
    return "any"
