"""Carry out ``sds stats auto``: find the outcome and group columns when not given, shape the
data, let :mod:`sds.stats.auto` decide, run the test.

The result is the chosen test's own result, with the reasons and the check figures attached,
so it reads like any other test plus a "Why this test" section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from sds.data.io import Table
from sds.errors import DataError, ParameterError
from sds.results import Result
from sds.stats import auto, frame
from sds.stats.result import TestResult
from sds.stats.samples import pairs, sized
from sds.stats.spec import StatsSpec

Handler = Callable[[pd.DataFrame, StatsSpec, str], Result]


MAX_GROUPS = 20
_BINARY_WORDS = ({"0", "1"}, {"false", "true"}, {"no", "yes"})


def _words(values: pd.Series) -> set[str]:
    return {str(v).strip().lower().removesuffix(".0") for v in values.dropna()}


def _binary_text(table: Table, column: str) -> bool:
    """Whether a two-level text column spells 0/1, false/true or no/yes."""
    levels = table.engine.execute(table.expr.select(column).distinct(), source=table.name)
    return _words(levels[column]) in _BINARY_WORDS


def _pick(found: list[frame.ColumnInfo], what: str, table: Table, listing: str) -> str | None:
    if len(found) > 1:
        raise DataError(
            f"cannot tell which column holds the {what}",
            source=table.name,
            found=f"{len(found)} candidates ({', '.join(c.name for c in found)}); {listing}",
            hint="Name the outcome with --value and the groups with --group.",
        )
    return found[0].name if found else None


def detect_columns(
    table: Table, value: str | None, group: str | None, *, need_group: bool = True
) -> tuple[str, str | None]:
    """The outcome and group columns of ``sds stats auto`` when not given.

    Outcome: the one numeric column with more than two distinct values that is not an id
    (integers, all distinct); failing that, the one 0/1 column (numeric, boolean, or text
    false/true, no/yes). Group: the one other column with exactly two levels; failing that,
    the one text (else integer) column with 3 to 20 levels that is not an id; with none, no
    group (a numeric outcome is then tested as one sample; ``need_group`` False: never a
    group). More than one candidate is an error naming them.
    """
    for name in (value, group):
        if name is not None:
            table.require(name)
    if value is not None and (group is not None or not need_group):
        return value, group
    columns, rows = frame.describe_columns(table)
    listing = "columns: " + "; ".join(
        f"{c.name} ({'numeric' if c.numeric else 'text'}, {c.distinct} distinct)" for c in columns
    )
    if value is None:
        value = _outcome(columns, rows, group, table, listing)
    if group is None and need_group:
        group = _group(columns, rows, value, table, listing)
    return value, group


def _outcome(
    columns: list[frame.ColumnInfo], rows: int, group: str | None, table: Table, listing: str
) -> str:
    others = [c for c in columns if c.name != group]
    numeric = [c for c in others if c.numeric and c.distinct > 2 and not _is_id(c, rows)]
    picked = _pick(numeric, "outcome to test", table, listing)
    if picked is not None:
        return picked
    schema = table.expr.schema()
    binary = [
        c
        for c in others
        if c.distinct == 2
        and (c.numeric or schema[c.name].is_boolean() or _binary_text(table, c.name))
    ]
    picked = _pick(binary, "0/1 outcome to test", table, listing)
    if picked is None:
        raise DataError(
            "cannot tell which column holds the outcome to test: no numeric column with more "
            "than two values and no 0/1 (false/true, no/yes) column",
            source=table.name,
            found=listing,
            hint="Name it with --value (and the groups with --group).",
        )
    return picked


def _group(
    columns: list[frame.ColumnInfo], rows: int, value: str, table: Table, listing: str
) -> str | None:
    others = [c for c in columns if c.name != value and not _is_id(c, rows)]
    two = [c for c in others if c.distinct == 2]
    if two:
        return _pick(two, "groups (two levels)", table, listing)
    several = [c for c in others if 3 <= c.distinct <= MAX_GROUPS]
    text = [c for c in several if not c.numeric]
    return _pick(text or [c for c in several if c.integer], "groups", table, listing)


def _is_id(column: frame.ColumnInfo, rows: int) -> bool:
    return column.distinct == rows and (column.integer or not column.numeric) and rows > 2


def _is_categorical(series: pd.Series) -> bool:
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.isna().sum() > series.isna().sum():
        return True  # text values
    return bool(numeric.dropna().nunique() <= 2)


def _binary_01(series: pd.Series) -> bool:
    """A 0/1, false/true or no/yes outcome (numbers, booleans or text)."""
    words = _words(series)
    return len(words) == 2 and words in _BINARY_WORDS


def decide(df: pd.DataFrame, spec: StatsSpec, source: str) -> auto.Decision:
    if spec.value is None:
        raise ParameterError("give the outcome column with --value", parameter="value")
    if spec.pair_id is not None or len(spec.values) == 2:
        x, y, _, _ = pairs(df, spec, source)
        return auto.choose_paired(x - y, spec.alpha)
    if spec.group is None:
        x = frame.numeric(df, spec.value, source)
        return auto.choose_paired(x[~np.isnan(x)] - spec.mu, spec.alpha, one_sample=True)
    outcome = df[spec.value]
    if _is_categorical(outcome):
        table, rows, _ = frame.crosstab(df, spec.group, spec.value)
        if min(table.shape) < 2:
            raise DataError(
                "needs at least two groups and two outcome values",
                source=source,
                found=f"a {table.shape[0]}x{table.shape[1]} table",
            )
        binary = table.shape == (len(rows), 2) and len(rows) == 2 and _binary_01(outcome)
        return auto.choose_counts(table, binary)
    groups = sized(frame.split_groups(df, spec.value, spec.group, source), spec, source)
    return auto.choose_numeric({k: v[~np.isnan(v)] for k, v in groups.items()}, spec.alpha)


def run_auto(
    df: pd.DataFrame, spec: StatsSpec, source: str, tests: Mapping[str, Handler]
) -> TestResult:
    """Decide, then run the chosen test with its handler from ``tests`` (the runner's table)."""
    decision = decide(df, spec, source)
    chosen = spec.model_copy(update={"test": decision.test})
    result = tests[decision.test](df, chosen, source)
    assert isinstance(result, TestResult)
    return replace(
        result,
        test=f"{result.test} (chosen by sds stats auto)",
        reasons=tuple(decision.reasons),
        assumptions={**result.assumptions, "auto_checks": decision.checks},
    )
