"""Deterministic hash-based assignment of units to variants.

The rule, identical in Python and in the engine (SQL), on every machine, process and Python
version (Python's salted ``hash()`` is never used):

1. ``key = f"{experiment}:{unit_id}"`` encoded as UTF-8 (integer ids in decimal);
2. ``h = int(sha256(key).hexdigest()[:15], 16)``, a 60-bit integer, uniform on [0, 16**15);
3. with weights ``w_1..w_k`` normalised to sum to 1, integer edges
   ``e_j = floor((w_1 + ... + w_j) * 16**15)`` (the last edge is 16**15);
4. the unit gets the first variant ``j`` with ``h < e_j``.

Salting by the experiment name makes experiments independent; a unit's variant depends on
nothing but its id, the experiment name and the weights, so adding units never moves others.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sds.data.schema import kind_of
from sds.errors import DataError, ParameterError
from sds.params import check_weights
from sds.results import Result, jsonable_dict

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.io import Table

HEX_DIGITS = 15
SCALE = 16**HEX_DIGITS


def hash_value(unit_id: Any, experiment: str) -> int:
    """The 60-bit integer of the documented rule for one unit."""
    key = f"{experiment}:{unit_id}".encode()
    return int(hashlib.sha256(key).hexdigest()[:HEX_DIGITS], 16)


def bucket_value(unit_id: Any, experiment: str) -> float:
    """The unit's position in [0, 1) (for display; decisions use the integer)."""
    return float(hash_value(unit_id, experiment) / SCALE)


def _validate(
    experiment: str, variants: Sequence[str], weights: Iterable[float] | None
) -> list[int]:
    if not experiment or not experiment.strip():
        raise ParameterError("experiment == '', must be a non-empty name", parameter="experiment")
    if len(variants) < 2 or any(not v for v in variants):
        raise ParameterError(
            f"variants == {list(variants)}, must name at least 2 variants", parameter="variants"
        )
    if len(set(variants)) != len(variants):
        raise ParameterError(f"variants == {list(variants)}, must be unique", parameter="variants")
    shares = check_weights(weights if weights is not None else [1 / len(variants)] * len(variants))
    if len(shares) != len(variants):
        raise ParameterError(
            f"weights has {len(shares)} values for {len(variants)} variants, "
            "must give one per variant",
            parameter="weights",
        )
    return edges(shares)


def edges(shares: Sequence[float]) -> list[int]:
    """Integer upper edges of the variants' hash ranges."""
    out, total = [], 0.0
    for share in shares[:-1]:
        total += share
        out.append(math.floor(total * SCALE))
    return [*out, SCALE]


def _pick(h: int, upper: list[int], variants: Sequence[str]) -> str:
    for edge, name in zip(upper, variants, strict=True):
        if h < edge:
            return name
    return variants[-1]


def assign(
    unit_ids: Iterable[Any],
    experiment: str,
    variants: Sequence[str],
    weights: Iterable[float] | None = None,
) -> list[str]:
    """Variants for in-memory ids (lists, arrays, pandas Series), by the documented rule."""
    upper = _validate(experiment, variants, weights)
    out = []
    for uid in unit_ids:
        if uid is None or (isinstance(uid, float) and math.isnan(uid)):
            raise DataError("an id is missing (null); every unit needs an id", parameter="unit_ids")
        out.append(_pick(hash_value(_id_text(uid), experiment), upper, variants))
    return out


def _id_text(uid: Any) -> str:
    if hasattr(uid, "item"):
        uid = uid.item()
    if isinstance(uid, float):
        if not uid.is_integer():
            raise DataError(
                f"id {uid!r} is fractional; ids must be integers or strings", parameter="unit_ids"
            )
        uid = int(uid)
    return str(uid)


def assign_table(
    table: Table,
    id_column: str,
    experiment: str,
    variants: Sequence[str],
    weights: Iterable[float] | None = None,
) -> ir.Table:
    """The same rule in the engine: a lazy table of (id, variant) for millions of units."""

    upper = _validate(experiment, variants, weights)
    table.require(id_column)
    kind = kind_of(table.expr.schema()[id_column])
    if kind not in ("integer", "string"):
        raise DataError(
            "an id column must hold integers or strings",
            source=table.name,
            column=id_column,
            found=kind,
        )
    nulls = table.engine.scalar(table.expr[id_column].isnull().sum(), source=table.name)
    if nulls:
        raise DataError(
            f"{int(nulls):,} ids are null",
            source=table.name,
            column=id_column,
            hint="Drop or fill the rows without an id before assigning.",
        )
    return assignment_expr(
        table.expr, id_column, experiment, variants, upper, backend=table.engine.backend
    )


def assignment_expr(
    expr: ir.Table,
    id_column: str,
    experiment: str,
    variants: Sequence[str],
    upper: list[int],
    *,
    backend: str = "duckdb",
) -> ir.Table:
    """The rule as one Ibis expression, computed in the engine (DuckDB, Spark, PostgreSQL).

    The id is cast to text, which gives the decimal digits of an integer id and a string
    id unchanged, as Python's ``str(id)``. The hash's first 15 hex digits are compared as
    text with each edge written as 15 hex digits: for equal-length lowercase hex, text
    order is numeric order, so no engine needs a hex-to-integer function. The last variant
    takes the rest of the range.
    """
    import ibis

    uid = expr[id_column]
    digest = sha256_hex(ibis.literal(f"{experiment}:") + uid.cast("string"), backend)
    prefix = digest.lower().substr(0, HEX_DIGITS)
    cases = [
        (prefix < f"{edge:0{HEX_DIGITS}x}" if edge < SCALE else ibis.literal(True), name)
        for edge, name in zip(upper[:-1], variants[:-1], strict=True)
    ]
    variant = ibis.cases(*cases, else_=variants[-1])
    return expr.select(uid, variant=variant)


def sha256_hex(text: ir.StringValue, backend: str) -> ir.StringValue:
    """The sha256 of ``text``'s UTF-8 bytes as 64 lowercase hex digits, in the engine.

    Ibis compiles its ``hexdigest`` for DuckDB and Spark but not for PostgreSQL, where the
    same value is ``encode(sha256(convert_to(text, 'UTF8')), 'hex')``, called as builtins.
    """
    if backend != "postgres":
        return text.hexdigest("sha256")
    convert_to, sha256, encode = _postgres_digest_functions()
    return encode(sha256(convert_to(text, "UTF8")), "hex")


@functools.cache
def _postgres_digest_functions() -> tuple[Any, Any, Any]:
    """PostgreSQL's ``convert_to``, ``sha256`` and ``encode`` as Ibis builtin functions."""
    import ibis

    @ibis.udf.scalar.builtin(name="convert_to")  # type: ignore[untyped-decorator]
    def convert_to(text: str, encoding: str) -> bytes:  # type: ignore[empty-body]
        """PostgreSQL's convert_to(text, name): the text's bytes in that encoding."""

    @ibis.udf.scalar.builtin(name="sha256")  # type: ignore[untyped-decorator]
    def sha256(data: bytes) -> bytes:  # type: ignore[empty-body]
        """PostgreSQL's sha256(bytea)."""

    @ibis.udf.scalar.builtin(name="encode")  # type: ignore[untyped-decorator]
    def encode(data: bytes, form: str) -> str:  # type: ignore[empty-body]
        """PostgreSQL's encode(bytea, 'hex')."""

    return convert_to, sha256, encode


@dataclass(frozen=True)
class AssignmentSummary(Result):
    """How many units each variant received, against the weights."""

    title: ClassVar[str] = "Assignment"
    experiment: str
    variants: tuple[str, ...]
    counts: tuple[int, ...]
    expected_share: tuple[float, ...]
    output: str | None = None
    assignments: tuple[tuple[str, str], ...] = ()  # (id, variant) of a lookup by ids

    def to_dict(self) -> dict[str, Any]:
        total = sum(self.counts)
        rows = [
            {
                "variant": v,
                "units": c,
                "observed_share": c / total if total else 0.0,
                "expected_share": e,
            }
            for v, c, e in zip(self.variants, self.counts, self.expected_share, strict=True)
        ]
        return jsonable_dict(
            {
                "experiment": self.experiment,
                "units": total,
                "hash_rule": "sha256(experiment:id)[:15 hex] vs weight edges",
                "output": self.output,
                "variants": rows,
                **(
                    {"assignments": [{"id": i, "variant": v} for i, v in self.assignments]}
                    if self.assignments
                    else {}
                ),
            }
        )


def summarize(
    experiment: str,
    variants: Sequence[str],
    weights: Iterable[float] | None,
    counts: Mapping[str, int],
    output: str | None = None,
    assignments: Sequence[tuple[str, str]] = (),
) -> AssignmentSummary:
    """Counts per variant (missing variants count 0) against the designed shares, and the
    ``(id, variant)`` pairs of a lookup by ids."""
    shares = check_weights(weights if weights is not None else [1 / len(variants)] * len(variants))
    return AssignmentSummary(
        experiment,
        tuple(variants),
        tuple(int(counts.get(v, 0)) for v in variants),
        tuple(shares),
        output,
        tuple((str(i), str(v)) for i, v in assignments),
    )
