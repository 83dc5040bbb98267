"""Carry out ``--test auto``: shape the data, let :mod:`sds.stats.auto` decide, run the test.

The result is the chosen test's own result, with the reasons and the check figures attached,
so it reads like any other test plus a "Why this test" section.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sds.errors import ParameterError
from sds.stats import auto, frame
from sds.stats.result import TestResult

if TYPE_CHECKING:
    from sds.stats.runner import StatsSpec


def _is_categorical(series: pd.Series) -> bool:
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.isna().sum() > series.isna().sum():
        return True  # text values
    return bool(numeric.dropna().nunique() <= 2)


def _binary_01(series: pd.Series) -> bool:
    numeric = pd.to_numeric(series, errors="coerce").dropna()
    return bool(len(numeric) == series.notna().sum() and numeric.isin((0, 1)).all())


def decide(df: pd.DataFrame, spec: StatsSpec, source: str) -> auto.Decision:
    from sds.stats.runner import _pairs, _sized

    if spec.value is None:
        raise ParameterError("give the outcome column with --value", parameter="value")
    if spec.pair_id is not None or len(spec.values) == 2:
        x, y, _, _ = _pairs(df, spec, source)
        return auto.choose_paired(x - y, spec.alpha)
    if spec.group is None:
        x = frame.numeric(df, spec.value, source)
        return auto.choose_paired(x[~np.isnan(x)] - spec.mu, spec.alpha, one_sample=True)
    outcome = df[spec.value]
    if _is_categorical(outcome):
        table, rows, _ = frame.crosstab(df, spec.group, spec.value)
        if min(table.shape) < 2:
            from sds.errors import DataError

            raise DataError(
                "needs at least two groups and two outcome values",
                source=source,
                found=f"a {table.shape[0]}x{table.shape[1]} table",
            )
        binary = table.shape == (len(rows), 2) and len(rows) == 2 and _binary_01(outcome)
        return auto.choose_counts(table, binary)
    groups = _sized(frame.split_groups(df, spec.value, spec.group, source), spec, source)
    return auto.choose_numeric({k: v[~np.isnan(v)] for k, v in groups.items()}, spec.alpha)


def run_auto(df: pd.DataFrame, spec: StatsSpec, source: str) -> TestResult:
    from sds.stats.runner import TESTS

    decision = decide(df, spec, source)
    chosen = replace(spec, test=decision.test)
    result = TESTS[decision.test](df, chosen, source)
    assert isinstance(result, TestResult)
    return replace(
        result,
        test=f"{result.test} (chosen by --test auto)",
        reasons=tuple(decision.reasons),
        assumptions={**result.assumptions, "auto_checks": decision.checks},
    )
