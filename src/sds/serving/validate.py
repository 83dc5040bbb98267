"""Request decoding and validation against the input schema saved at training.

A body is one record (``{"feature": value, ...}``) or many (``{"instances": [...]}``).
Every problem is collected, not just the first, each naming the record, the field, what
was found and what is expected: a missing field (seen at fit time, yet now missing), an
unknown field (unseen at fit time), a wrong type, a number outside the training range
(widened by ``margin`` of its span on each side), an unseen category, or a missing value
where training had none. The first ``MAX_PROBLEMS`` are listed and the rest counted, each
echoed value cut to ``MAX_ECHO`` characters, so no refusal exceeds ``MAX_ANSWER`` bytes.
Protected columns saved with the test rows are accepted and ignored, and so is every other
field the model does not use when the server runs with ``--ignore-unknown-fields`` (whole
customer records sent as they are). Valid records become
one array per column, ready for the runtime: floats (NaN for missing) for numbers and
booleans, strings or None for categories.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter, le
from typing import Any

import numpy as np

MAX_RECORDS = 10_000
MAX_PROBLEMS = 50  # listed in an answer; the rest are counted
MAX_ECHO = 100  # characters of a value, field name or level echoed back
MAX_ITEMS = 20  # items of a list echoed back (e.g. the known levels)
MAX_ANSWER = 65_536  # bytes of a refusal's body, whatever the request
NUMBERS = ("number", "integer")
PLAIN_NUMBERS = frozenset({float, int})  # bool is a subclass of int, not one of these types


@dataclass
class RequestError(Exception):
    """A request the server refuses: HTTP status, the problems listed and how many more
    were found but not listed."""

    status: int
    problems: list[dict[str, Any]]
    more: int = 0

    def body(self) -> dict[str, Any]:
        """The JSON answer, at most ``MAX_ANSWER`` bytes: problems past that are counted."""
        import orjson

        listed, more = self.problems, self.more
        while True:
            out: dict[str, Any] = {"error": "invalid request", "problems": listed}
            if more:
                out["more_problems"] = more
            if len(listed) <= 1 or len(orjson.dumps(out)) <= MAX_ANSWER - 1_024:
                return out
            keep = len(listed) // 2
            listed, more = listed[:keep], more + len(listed) - keep


class Problems:
    """Collects a request's problems: the first ``MAX_PROBLEMS`` listed, the rest counted,
    so a hostile request cannot make the server build (or send) a huge answer."""

    def __init__(self) -> None:
        self.listed: list[dict[str, Any]] = []
        self.more = 0

    def add(
        self,
        record: int | None,
        field: str | None,
        problem: str,
        found: Any = None,
        expected: Any = None,
    ) -> None:
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(_problem(record, field, problem, found, expected))
        else:
            self.more += 1

    @property
    def full(self) -> bool:
        """No more problems will be listed, only counted."""
        return len(self.listed) >= MAX_PROBLEMS

    def __bool__(self) -> bool:
        return bool(self.listed)

    def error(self, status: int = 422) -> RequestError:
        return RequestError(status, self.listed, self.more)


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
    out: dict[str, Any] = {"record": record, "field": _clip(field), "problem": problem}
    if found is not None:
        out["found"] = _clip(found)
    if expected is not None:
        out["expected"] = _clip(expected)
    return out


def _clip(value: Any) -> Any:
    """A value as echoed back: strings cut to ``MAX_ECHO`` characters, lists to
    ``MAX_ITEMS`` items."""
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return value[:MAX_ECHO] + f"... ({len(value)} characters)"
    if isinstance(value, list | tuple):
        clipped = [_clip(v) for v in value[:MAX_ITEMS]]
        return [*clipped, "..."] if len(value) > MAX_ITEMS else clipped
    return value


class Validator:
    """Checks records against a schema and turns them into columns. Fields named in
    ``ignored`` (the protected columns sds saves beside the features in the test rows)
    are accepted and left out; with ``ignore_unknown``, every field outside the schema is."""

    def __init__(
        self,
        schema: list[dict[str, Any]],
        margin: float | None = 0.1,
        ignored: Iterable[str] = (),
        ignore_unknown: bool = False,
    ) -> None:
        self.schema = schema
        self.ignore_unknown = ignore_unknown
        self.names = [c["name"] for c in schema]
        self.known = set(self.names)
        self.ignored = set(ignored) - self.known
        self.bounds = {c["name"]: _bounds(c, margin) for c in schema}
        self.levels = {c["name"]: set(c["levels"]) for c in schema if c.get("levels")}
        self.shown = {name: sorted(levels)[:MAX_ITEMS] for name, levels in self.levels.items()}
        numbers = [c for c in schema if c["kind"] in NUMBERS]
        self.numbers = [c["name"] for c in numbers]
        self.others = [c for c in schema if c["kind"] not in NUMBERS]
        self.low = np.array([self.bounds[n][0] for n in self.numbers], dtype=float)
        self.high = np.array([self.bounds[n][1] for n in self.numbers], dtype=float)
        self.bounded = bool(np.isfinite(self.low).any() or np.isfinite(self.high).any())
        self.integers = [j for j, c in enumerate(numbers) if c["kind"] == "integer"]
        self.edges = (tuple(self.low.tolist()), tuple(self.high.tolist()))  # for one record
        self.index = {n: j for j, n in enumerate(self.numbers)}
        self.positions: dict[tuple[str, ...], np.ndarray | slice] = {}
        self._row: Callable[[dict[str, Any]], Sequence[Any]] = (
            itemgetter(*self.numbers)
            if len(self.numbers) > 1
            else lambda r: tuple(r[n] for n in self.numbers)
        )

    def columns(self, records: list[dict[str, Any]]) -> Mapping[str, Any]:
        """The records as one array (or list) per column; a :class:`RequestError` (422)
        listing every problem if any."""
        rows = self._exact(records)
        if rows is None:
            known = self.known
            if any(r.keys() != known for r in records):
                problems = Problems()
                for i, r in enumerate(records):
                    if r.keys() != known:
                        self._fields(i, r, problems)
                if problems:
                    raise problems.error()
            rows = [self._row(r) for r in records]
        fast = self._plain(records, rows)
        if fast is not None:
            return fast
        problems = Problems()
        out = {}
        for column in self.schema:
            values = [r[column["name"]] for r in records]
            out[column["name"]] = self._column(column, values, problems)
        if problems:
            raise problems.error()
        return out

    def _exact(self, records: list[dict[str, Any]]) -> list[Sequence[Any]] | None:
        """Each record's numbers, when every column is a number and every record holds
        just the schema's fields (as many fields, each number among them: the same as
        comparing its keys with the schema's names, a third of the time); None
        otherwise, and the fields are compared."""
        if len(self.numbers) != len(self.names):
            return None
        width = len(self.known)
        if any(len(r) != width for r in records):
            return None
        try:
            return [self._row(r) for r in records]
        except KeyError:
            return None

    def _plain(self, records: list[dict[str, Any]], rows: list[Sequence[Any]]) -> Columns | None:
        """The columns when every number (``rows``: each record's, in ``numbers``' order)
        is a plain JSON number in range (and an integer where one is expected), built as
        one matrix; None sends the records through the value-by-value checks, which name
        the problems. Both give the same columns."""
        if self.numbers:
            for row in rows:
                if not PLAIN_NUMBERS.issuperset(map(type, row)):
                    return None
        try:
            x = (  # one record: from its values, without numpy's look at nested sequences
                np.fromiter(rows[0], float, len(self.numbers)).reshape(1, -1)
                if len(rows) == 1
                else np.array(rows, dtype=float).reshape(len(records), len(self.numbers))
            )
        except OverflowError:  # an integer past float's range: the careful path's error
            return None
        if self.bounded and not self._in_range(rows, x):
            return None
        if self.integers and not self._whole(rows, x):
            return None
        if not self.others:
            return Columns(x, self, {})
        problems = Problems()
        others = {}
        for column in self.others:
            values = [r[column["name"]] for r in records]
            others[column["name"]] = self._column(column, values, problems)
        return None if problems else Columns(x, self, others)

    def _in_range(self, rows: list[Sequence[Any]], x: np.ndarray) -> bool:
        """Every number within its bounds. One record is compared in Python (a third of
        numpy's four calls): its ints exactly, so an int that only its float rounds into
        range is sent the careful way, which takes it as numpy does."""
        if len(rows) == 1:
            low, high = self.edges
            return all(map(le, low, rows[0])) and all(map(le, rows[0], high))
        return bool(((x >= self.low) & (x <= self.high)).all())

    def _whole(self, rows: list[Sequence[Any]], x: np.ndarray) -> bool:
        """Every number of an integer column a whole number (its float finite and
        unchanged by truncation); one record in Python, where an int is whole."""
        if len(rows) == 1:
            row = rows[0]
            return all(type(row[j]) is int or row[j].is_integer() for j in self.integers)
        whole = x[:, self.integers]
        return bool((np.isfinite(whole) & (whole == np.trunc(whole))).all())

    def _fields(self, i: int, record: dict[str, Any], problems: Problems) -> None:
        if problems.full:  # only counted: set arithmetic, not a loop per field
            keys = record.keys()
            problems.more += len(self.known - keys) + len(self._unknown(keys))
            return
        for n in self.names:
            if n not in record:
                problems.add(i, n, "missing field (seen at fit time)")
        if self.ignore_unknown:
            return
        for k in record:
            if k not in self.known and k not in self.ignored:
                problems.add(i, k, "unknown field (unseen at fit time)")

    def _unknown(self, keys: Any) -> set[str]:
        """The fields of a record that are refused as unseen at fit time."""
        return set() if self.ignore_unknown else set(keys) - self.known - self.ignored

    def _column(self, column: dict[str, Any], values: list[Any], problems: Problems) -> Any:
        name, kind = column["name"], column["kind"]
        if kind == "category":
            return self._category(column, values, problems)
        out = np.empty(len(values))
        low, high = self.bounds[name]
        for i, v in enumerate(values):
            if v is None:
                if not column["nullable"]:
                    problems.add(i, name, "missing value, but training had none", None, kind)
                out[i] = math.nan
                continue
            number = _number(v, kind)
            if number is None:
                problems.add(i, name, "wrong type", _json_type(v), kind)
                continue
            if not low <= number <= high:
                problems.add(i, name, "out of range", number, [low, high])
            out[i] = number
        return out

    def _category(self, column: dict[str, Any], values: list[Any], problems: Problems) -> Any:
        name = column["name"]
        levels = self.levels.get(name)
        for i, v in enumerate(values):
            if v is None:
                if not column["nullable"]:
                    problems.add(i, name, "missing value, but training had none", None, "category")
            elif not isinstance(v, str):
                problems.add(i, name, "wrong type", _json_type(v), "string")
            elif levels is not None and v not in levels:
                problems.add(i, name, "unseen category", v, self.shown[name])
        return values


class Columns(Mapping[str, Any]):
    """Validated columns by name, the numeric ones first (``validator.numbers``) then the
    others. The numeric ones are one float matrix (records x ``validator.numbers``) that
    the runtime takes in one step; a numeric column asked for by name is its column of
    the matrix (a view), made only then."""

    __slots__ = ("matrix", "others", "validator")

    def __init__(self, matrix: np.ndarray, validator: Validator, others: dict[str, Any]) -> None:
        self.matrix, self.validator, self.others = matrix, validator, others

    def __getitem__(self, name: str) -> Any:
        j = self.validator.index.get(name)
        return self.others[name] if j is None else self.matrix[:, j]

    def __iter__(self) -> Iterator[str]:
        yield from self.validator.numbers
        yield from self.others

    def __len__(self) -> int:
        return len(self.validator.numbers) + len(self.others)


def stack(columns: Mapping[str, Any], names: list[str], n: int) -> np.ndarray:
    """The named numeric columns as one float array (``n`` x ``len(names)``).

    Args:
        columns: Validated columns, as :meth:`Validator.columns` gives them.
        names: The numeric columns wanted, in order.
        n: The number of records.

    Returns:
        Taken from the validator's matrix when it holds every name: the matrix itself
        (a view) when the names are all its columns in order, else a new array.
    """
    if isinstance(columns, Columns):
        key = tuple(names)
        where = columns.validator.positions.get(key)
        if where is None and names == columns.validator.numbers:
            where = columns.validator.positions[key] = slice(None)
        elif where is None and all(c in columns.validator.index for c in names):
            where = np.array([columns.validator.index[c] for c in names], dtype=np.intp)
            columns.validator.positions[key] = where
        if where is not None:
            return columns.matrix[:, where]
    if not names:
        return np.empty((n, 0))
    return np.column_stack([np.asarray(columns[c], dtype=float) for c in names])


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
