"""The samples a test compares: which group is the treatment, which the control, and the
values of each (two groups, several groups of at least two values, or complete pairs), and
one sample's values as floats with missing values dropped (:func:`clean_values`).

Orientation (see :mod:`sds.stats.runner`): the control is ``StatsSpec.control``
(``--control``); else the one level named control, ctrl, baseline or a (case-insensitive);
else the first level in sorted order (for two ``--value`` columns, the first column given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sds.errors import DataError, ParameterError
from sds.stats import frame
from sds.stats.spec import StatsSpec

ArrayLike = Sequence[float] | np.ndarray
CONTROL_NAMES = ("control", "ctrl", "baseline", "a")  # by priority, compared case-insensitively


@dataclass(frozen=True)
class Arms:
    """Which of two groups is the treatment and which the control, and the rule that chose."""

    treatment: str
    control: str
    rule: str

    def labels(self) -> dict[str, str]:
        return {
            "treatment": self.treatment,
            "control": self.control,
            "control_chosen_by": self.rule,
        }


def _matches(level: str, text: str) -> bool:
    if level == text or level.strip().lower() == text.strip().lower():
        return True
    try:
        return float(level) == float(text)
    except ValueError:
        return False


def choose_arms(
    levels: list[str], control: str | None, *, column: str | None = None, columns: bool = False
) -> Arms:
    """Orient two levels (or two ``--value`` columns when ``columns``): see the module doc."""
    first, second = levels if columns else sorted(levels)
    if control is not None:
        found = [lv for lv in levels if lv == control] or [
            lv for lv in levels if _matches(lv, control)
        ]
        if len(found) != 1:
            where = "of the --value columns" if columns else f"of {column!r}"
            shown = ", ".join(repr(lv) for lv in levels)
            raise ParameterError(
                f"control == {control!r} is not one {where} ({shown})", parameter="control"
            )
        chosen, rule = found[0], "given (--control, control= in Python)"
    else:
        named = [
            lv for name in CONTROL_NAMES for lv in (first, second) if lv.strip().lower() == name
        ]
        if named:
            chosen = named[0]
            rule = f"named {chosen!r} (a level called control, ctrl, baseline or a)"
        elif columns:
            chosen = first
            rule = "the first --value column (none is named control, ctrl, baseline or a)"
        else:
            chosen = first
            rule = (
                "the first level in sorted order (none is named control, ctrl, baseline or a; "
                "set --control)"
            )
    treatment = second if chosen == first else first
    return Arms(treatment=treatment, control=chosen, rule=rule)


def two_groups(df: pd.DataFrame, spec: StatsSpec, source: str) -> dict[str, np.ndarray]:
    assert spec.group is not None and spec.value is not None
    groups = frame.split_groups(df, spec.value, spec.group, source)
    if len(groups) == 2:
        arms = choose_arms(list(groups), spec.control, column=spec.group)
        groups = {arms.treatment: groups[arms.treatment], arms.control: groups[arms.control]}
    if len(groups) != 2:
        raise DataError(
            "this test compares exactly two groups",
            source=source,
            column=spec.group,
            found=f"{len(groups)} level(s): {', '.join(list(groups)[:10])}",
            hint="Use anova, welch-anova or kruskal for more groups, or filter the data.",
        )
    return sized(groups, spec, source)


def sized(groups: dict[str, np.ndarray], spec: StatsSpec, source: str) -> dict[str, np.ndarray]:
    for level, values in groups.items():
        present = values[~np.isnan(values)]
        if len(present) < 2:
            raise DataError(
                f"group {level!r} has {len(present)} value(s)",
                source=source,
                column=spec.group,
                expected="at least 2 values per group",
                hint="A group of one has no variability to compare; collect more data.",
            )
    return groups


def pairs(
    df: pd.DataFrame, spec: StatsSpec, source: str
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Treatment and control values of complete pairs, their names, the pairs dropped."""
    x, y, names, dropped = _raw_pairs(df, spec, source)
    arms = pair_arms(spec, names)
    if names[0] != arms.treatment:
        x, y, names = y, x, names[::-1]
    return x, y, names, dropped


def pair_arms(spec: StatsSpec, names: list[str]) -> Arms:
    if len(spec.values) == 2:  # the order given, not the order after orienting
        return choose_arms(spec.values, spec.control, columns=True)
    return choose_arms(names, spec.control, column=spec.group)


def _raw_pairs(
    df: pd.DataFrame, spec: StatsSpec, source: str
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    if len(spec.values) == 2:
        a, b = spec.values
        x, y = frame.numeric(df, a, source), frame.numeric(df, b, source)
        keep = ~(np.isnan(x) | np.isnan(y))
        return x[keep], y[keep], [a, b], int((~keep).sum())
    if spec.pair_id is None or spec.group is None or spec.value is None:
        raise ParameterError(
            "a paired test needs --pair-id with --group and --value, or two --value columns",
            parameter="pair_id",
        )
    return frame.paired_arrays(df, spec.value, spec.group, spec.pair_id, source)


def clean_values(values: ArrayLike, name: str) -> tuple[np.ndarray, int]:
    """A sample as floats with its missing values dropped, and how many were dropped."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "values are not numeric", column=name, hint="Convert the column to numbers first."
        ) from exc
    if np.isinf(arr).any():
        raise DataError("values include infinities", column=name, found=int(np.isinf(arr).sum()))
    keep = ~np.isnan(arr)
    return arr[keep], int((~keep).sum())


def need_values(arr: np.ndarray, name: str, minimum: int = 2) -> None:
    """Refuse a sample with fewer than ``minimum`` values."""
    if len(arr) < minimum:
        raise DataError(
            f"needs at least {minimum} values",
            column=name,
            found=len(arr),
            hint="A test needs some spread to estimate variability.",
        )
