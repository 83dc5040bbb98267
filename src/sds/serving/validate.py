"""Request decoding and validation against the input schema saved at training.

A body is one record (``{"feature": value, ...}``) or many (``{"instances": [...]}``).
Every problem is collected, not just the first, each naming the record, the field, what
was found and what is expected: a missing field (seen at fit time, yet now missing), an
unknown field (unseen at fit time), a wrong type, a number outside the training range
(widened by ``margin`` of its span on each side), an unseen category, or a missing value
where training had none. Valid records become one array per column, ready for the
runtime: floats (NaN for missing) for numbers and booleans, strings or None for
categories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_RECORDS = 10_000


@dataclass
class RequestError(Exception):
    """A request the server refuses: HTTP status and the problems found."""

    status: int
    problems: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"error": "invalid request", "problems": self.problems}


def decode(body: bytes) -> list[dict[str, Any]]:
    """The records in a JSON body."""
    import orjson

    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, [_problem(None, None, "body is not valid JSON", str(exc))]) from exc
    if isinstance(data, dict) and "instances" in data and len(data) == 1:
        records = data["instances"]
        if not isinstance(records, list) or not records:
            found = type(records).__name__ if not isinstance(records, list) else "an empty list"
            raise RequestError(
                422, [_problem(None, "instances", "must be a non-empty list of records", found)]
            )
    elif isinstance(data, dict):
        records = [data]
    else:
        raise RequestError(
            422,
            [
                _problem(
                    None,
                    None,
                    'body must be a record or {"instances": [records]}',
                    type(data).__name__,
                )
            ],
        )
    if len(records) > MAX_RECORDS:
        raise RequestError(
            413,
            [
                _problem(
                    None,
                    "instances",
                    f"at most {MAX_RECORDS} records per request",
                    str(len(records)),
                )
            ],
        )
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise RequestError(
                422, [_problem(i, None, "each record must be an object", type(r).__name__)]
            )
    return records


def _problem(
    record: int | None, field: str | None, problem: str, found: Any = None, expected: Any = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"record": record, "field": field, "problem": problem}
    if found is not None:
        out["found"] = found
    if expected is not None:
        out["expected"] = expected
    return out


class Validator:
    """Checks records against a schema and turns them into columns."""

    def __init__(self, schema: list[dict[str, Any]], margin: float | None = 0.1) -> None:
        self.schema = schema
        self.names = [c["name"] for c in schema]
        self.known = set(self.names)
        self.bounds = {c["name"]: _bounds(c, margin) for c in schema}
        self.levels = {c["name"]: set(c["levels"]) for c in schema if c.get("levels")}

    def columns(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        problems: list[dict[str, Any]] = []
        for i, r in enumerate(records):
            if r.keys() != self.known:
                problems += self._fields(i, r)
        if problems:
            raise RequestError(422, problems)
        out = {}
        for column in self.schema:
            values = [r[column["name"]] for r in records]
            out[column["name"]] = self._column(column, values, problems)
        if problems:
            raise RequestError(422, problems)
        return out

    def _fields(self, i: int, record: dict[str, Any]) -> list[dict[str, Any]]:
        missing = [n for n in self.names if n not in record]
        unknown = [k for k in record if k not in self.known]
        return [_problem(i, n, "missing field (seen at fit time)") for n in missing] + [
            _problem(i, k, "unknown field (unseen at fit time)") for k in unknown
        ]

    def _column(self, column: dict[str, Any], values: list[Any], problems: list[Any]) -> Any:
        name, kind = column["name"], column["kind"]
        if kind == "category":
            return self._category(column, values, problems)
        out = np.empty(len(values))
        low, high = self.bounds[name]
        for i, v in enumerate(values):
            if v is None:
                if not column["nullable"]:
                    problems.append(
                        _problem(i, name, "missing value, but training had none", None, kind)
                    )
                out[i] = math.nan
                continue
            number = _number(v, kind)
            if number is None:
                problems.append(_problem(i, name, "wrong type", _json_type(v), kind))
                continue
            if not low <= number <= high:
                problems.append(_problem(i, name, "out of range", number, [low, high]))
            out[i] = number
        return out

    def _category(self, column: dict[str, Any], values: list[Any], problems: list[Any]) -> Any:
        name = column["name"]
        levels = self.levels.get(name)
        for i, v in enumerate(values):
            if v is None:
                if not column["nullable"]:
                    problems.append(
                        _problem(i, name, "missing value, but training had none", None, "category")
                    )
            elif not isinstance(v, str):
                problems.append(_problem(i, name, "wrong type", _json_type(v), "string"))
            elif levels is not None and v not in levels:
                shown = sorted(levels)[:20]
                problems.append(_problem(i, name, "unseen category", v, shown))
        return values


def _bounds(column: dict[str, Any], margin: float | None) -> tuple[float, float]:
    if margin is None or "min" not in column:
        return -math.inf, math.inf
    span = column["max"] - column["min"]
    return column["min"] - margin * span, column["max"] + margin * span


def _number(v: Any, kind: str) -> float | None:
    if kind == "boolean":
        return float(v) if isinstance(v, bool) else None
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if kind == "integer" and float(v) != int(v):
        return None
    return float(v)


def _json_type(v: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }
    return names.get(type(v), type(v).__name__)
