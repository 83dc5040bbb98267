"""Run a named test on a table: ``sds stats TEST --data FILE`` and ``sds.stats.run``.

Each test name maps to a handler that reads the columns it needs, shapes them (groups, pairs,
a contingency table) and calls the library function. Every handler of a test that has a
data-driven alternative also runs the ``sds stats auto`` checks and warns when the forced test
does not fit. ``by`` runs the test per level of a column and adjusts the p-values. Every
interval a handler reports (of the estimate, the effect sizes, the post-hoc pairs, the
coefficients) is at ``spec.confidence``, ``1 - alpha`` (``--alpha``), and says so in its
``confidence``.

Two-group comparisons (t, Welch, Student, paired, Mann-Whitney, Wilcoxon, sign, KS, the
z-test for proportions and the odds / risk ratios of chi2 and fisher) are oriented treatment
minus control (ratios: treatment over control). The control is ``StatsSpec.control``
(``--control``); else the one level named control, ctrl, baseline or a (case-insensitive);
else the first level in sorted order (for two ``--value`` columns, the first column given).
The result says which: ``assumptions`` carries ``control``, ``treatment`` and
``control_chosen_by``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sds.errors import DataError, ParameterError
from sds.results import Result
from sds.stats import auto, frame
from sds.stats.anova import kruskal_wallis, one_way_anova, welch_anova
from sds.stats.auto_run import detect_columns, run_auto
from sds.stats.by import run_by
from sds.stats.contingency import (
    chi_square_goodness_of_fit,
    chi_square_independence,
    fisher_exact,
    level_shares,
    two_proportion_z,
)
from sds.stats.correlation import correlation
from sds.stats.distribution import equal_variance, normality
from sds.stats.nonparametric import ks_one_sample, ks_two_sample, mann_whitney, sign_test, wilcoxon
from sds.stats.regression import formula_columns, regress
from sds.stats.result import TestResult
from sds.stats.samples import Arms, choose_arms, pair_arms, pairs, sized, two_groups
from sds.stats.spec import ALIASES, StatsSpec
from sds.stats.ttest import ttest

__all__ = ["ALIASES", "StatsSpec", "choose_arms", "run", "test_name"]

if TYPE_CHECKING:
    from sds.data.io import Table

REGRESSIONS = ("ols", "logit", "poisson")
# tests whose statistic has no direction: a one-sided --alternative is refused, not ignored
UNDIRECTED = frozenset(
    {
        "chi2",
        "anova",
        "welch-anova",
        "kruskal",
        "tukey",
        "games-howell",
        "levene",
        "brown-forsythe",
        "shapiro",
        "anderson",
        "dagostino",
        *REGRESSIONS,
    }
)

Handler = Callable[[pd.DataFrame, StatsSpec, str], Result]


def _oriented(result: TestResult, arms: Arms) -> TestResult:
    return replace(result, assumptions={**result.assumptions, **arms.labels()})


def _rename(result: TestResult, names: list[str]) -> TestResult:
    """Replace the generic x / y of a two-sample result with the group names."""
    mapping = dict(zip(("x", "y"), names, strict=False))
    warnings = tuple(
        re.sub(r"^(x|y) looks", lambda m: f"{mapping.get(m.group(1), m.group(1))!r} looks", w)
        for w in result.warnings
    )
    n = {mapping.get(k, k): v for k, v in result.n.items()}
    groups = tuple({**g, "group": mapping.get(g["group"], g["group"])} for g in result.groups)

    def named(text: str) -> str:
        return re.sub(r"\b(x|y)\b", lambda m: mapping.get(m.group(1), m.group(1)), text)

    estimate = named(result.estimate_name) if result.estimate_name else result.estimate_name
    assumptions = {}
    for key, value in result.assumptions.items():
        for old, new in mapping.items():
            if key.endswith(f"_{old}"):
                key = f"{key[: -len(old)]}{new}"
                break
        assumptions[key] = value
    return replace(
        result,
        n=n,
        estimate_name=estimate,
        notes=tuple(named(note) for note in result.notes),
        assumptions=assumptions,
        warnings=warnings,
        groups=groups,
    )


def _with_fit(result: TestResult, forced: str, decision: auto.Decision | None) -> TestResult:
    if decision is None:
        return result
    note = auto.misfit(forced, decision)
    return replace(result, warnings=(*result.warnings, note)) if note else result


def _two_sample(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    if spec.pair_id is not None or len(spec.values) == 2:
        return _paired(df, spec, source)
    if spec.group is None:
        return _one_sample(df, spec, source)
    if spec.test in ("paired", "wilcoxon", "sign"):
        raise ParameterError(
            f"{spec.test} compares pairs, but --group splits the rows into independent groups",
            parameter="group",
            hint="Name the pairs with --pair-id, or give the two columns as --value A,B; for "
            "independent groups use sds stats mannwhitney (or welch).",
        )
    groups = two_groups(df, spec, source)  # treatment first, control second
    (nx, x), (ny, y) = groups.items()
    arms = choose_arms([nx, ny], spec.control, column=spec.group)
    test, level = spec.test, spec.confidence
    if test in ("ttest", "welch", "student"):
        equal = spec.equal_var or test == "student"
        res = ttest(x, y, equal_var=equal, alternative=spec.alternative, confidence=level)
    elif test == "mannwhitney":
        res = mann_whitney(x, y, alternative=spec.alternative, confidence=level)
    else:  # ks, with --group
        res = ks_two_sample(x, y, alternative=spec.alternative)
    clean = {k: v[~np.isnan(v)] for k, v in groups.items()}
    decision = auto.choose_numeric(clean, spec.alpha)
    return _with_fit(_oriented(_rename(res, [nx, ny]), arms), test, decision)


def _paired(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    x, y, names, dropped = pairs(df, spec, source)
    if len(x) < 2:
        raise DataError("fewer than 2 complete pairs", source=source, found=len(x))
    test, level = spec.test, spec.confidence
    if test == "wilcoxon":
        res = wilcoxon(x, y, alternative=spec.alternative, confidence=level)
    elif test == "sign":
        res = sign_test(x, y, alternative=spec.alternative, confidence=level)
    else:
        res = ttest(x, y, paired=True, alternative=spec.alternative, confidence=level)
        test = "paired"
    res = _oriented(_rename(res, names), pair_arms(spec, names))
    if dropped:
        res = replace(res, warnings=(*res.warnings, f"{dropped} incomplete pair(s) were dropped."))
    return _with_fit(res, test, auto.choose_paired(x - y, spec.alpha))


def _one_sample(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    if spec.value is None:
        raise ParameterError("give the column to test with --value", parameter="value")
    x = frame.numeric(df, spec.value, source)
    x = x[~np.isnan(x)]
    level = spec.confidence
    if spec.test == "wilcoxon":
        res = wilcoxon(x, mu=spec.mu, alternative=spec.alternative, confidence=level)
    elif spec.test == "sign":
        res = sign_test(x, mu=spec.mu, alternative=spec.alternative, confidence=level)
    else:
        res = ttest(x, mu=spec.mu, alternative=spec.alternative, confidence=level)
    decision = auto.choose_paired(x - spec.mu, spec.alpha, one_sample=True)
    forced = {"wilcoxon": "wilcoxon", "sign": "sign"}.get(spec.test, "one-sample")
    return _with_fit(_rename(res, [spec.value]), forced, decision)


def _several(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    if spec.group is None or spec.value is None:
        raise ParameterError("give --value and --group", parameter="group")
    groups = sized(frame.split_groups(df, spec.value, spec.group, source), spec, source)
    clean = {k: v[~np.isnan(v)] for k, v in groups.items()}
    test = spec.test
    if test in ("anova", "tukey"):
        res = one_way_anova(clean, confidence=spec.confidence)
    elif test in ("welch-anova", "games-howell"):
        res = welch_anova(clean, confidence=spec.confidence)
    elif test == "kruskal":
        res = kruskal_wallis(clean)
    else:
        return equal_variance(clean, center="median" if test == "brown-forsythe" else "mean")
    return _with_fit(res, test, auto.choose_numeric(clean, spec.alpha))


_BINARY = ({"0", "1"}, {"false", "true"}, {"no", "yes"})


def _same(level: Any, text: str) -> bool:
    word = text.strip().lower()
    if isinstance(level, bool | np.bool_):  # readers may turn yes/no into booleans
        return word in (("1", "true", "yes") if level else ("0", "false", "no"))
    if str(level).strip().lower() == word:
        return True
    try:
        return not isinstance(level, str) and float(level) == float(text)
    except (TypeError, ValueError):
        return False


def _event_table(
    df: pd.DataFrame, spec: StatsSpec, source: str
) -> tuple[np.ndarray, list[str], str | None, list[str], Arms | None]:
    """Counts of group (rows; two groups: treatment then control, as the two-sample tests
    orient them) by outcome level, the event's column moved first; the event's name (None
    when there is none), a note when it was guessed, and the arms (None unless two groups).
    The event is ``spec.event``, else the 1 / true / yes of a 0/1, false/true or no/yes
    outcome, else the second of two levels (with a note)."""
    assert spec.group is not None and spec.value is not None
    data = df[[spec.group, spec.value]].dropna()
    counts = pd.crosstab(data[spec.group].astype(str), data[spec.value])
    counts = counts.loc[sorted(counts.index)]
    arms = None
    if len(counts.index) == 2:
        arms = choose_arms([str(g) for g in counts.index], spec.control, column=spec.group)
        counts = counts.loc[[arms.treatment, arms.control]]
    levels = list(counts.columns)
    found, notes = None, []
    if spec.event is not None:
        found = next((i for i, lv in enumerate(levels) if _same(lv, spec.event)), None)
        if found is None:
            shown = ", ".join(repr(str(lv)) for lv in levels[:10])
            raise ParameterError(
                f"event == {spec.event!r} is not a level of {spec.value!r} ({shown})",
                parameter="event",
            )
    elif len(levels) == 2:
        words = [str(lv).strip().lower().removesuffix(".0") for lv in levels]
        if set(words) in _BINARY:
            found = next(i for i, w in enumerate(words) if w in ("1", "true", "yes"))
        else:
            found = 1
            notes.append(
                f"The event level of {spec.value!r} was not recognised; odds and risk ratios "
                f"are of {str(levels[1])!r} (set the event level with --event)."
            )
    if found is not None:
        counts = counts.iloc[:, [found, *(i for i in range(len(levels)) if i != found)]]
    event = str(levels[found]) if found is not None else None
    return counts.to_numpy(dtype=float), [str(g) for g in counts.index], event, notes, arms


def _counts(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    if spec.value is None:
        raise ParameterError("give the categorical column with --value", parameter="value")
    if spec.group is None:
        if spec.test != "chi2":
            raise ParameterError("Fisher's test needs --group", parameter="group")
        counts = df[spec.value].value_counts().sort_index()
        return chi_square_goodness_of_fit([float(c) for c in counts.to_numpy()])
    table, groups, event, notes, arms = _event_table(df, spec, source)
    shares: tuple[dict[str, Any], ...] = ()
    if table.shape != (2, 2):  # no ratios: keep the table as crosstab orders it
        table, rows, levels = frame.crosstab(df, spec.group, spec.value)
        event, notes, arms = None, [], None
        shares = level_shares(table, rows, levels)
    level = spec.confidence
    if spec.test == "chi2":
        res = chi_square_independence(table, event=event, groups=groups, confidence=level)
    else:
        res = fisher_exact(table, spec.alternative, confidence=level, event=event, groups=groups)
    res = replace(res, warnings=(*res.warnings, *notes), groups=res.groups or shares)
    if arms is not None:
        res = _oriented(res, arms)
    return _with_fit(res, spec.test, auto.choose_counts(table, False))


def _proportions(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    assert spec.value is not None and spec.group is not None
    table, names, event, notes, arms = _event_table(df, spec, source)
    levels = sorted({str(v) for v in df[spec.group].dropna()})
    if len(levels) != 2:
        raise DataError(
            "this test compares exactly two groups",
            source=source,
            column=spec.group,
            found=f"{len(levels)} level(s): {', '.join(levels[:10])}",
            hint="Use chi2 for more groups, or filter the data.",
        )
    sizes = dict(zip(names, table.sum(axis=1), strict=True))
    for level in levels:
        if sizes.get(level, 0) < 2:
            raise DataError(
                f"group {level!r} has {int(sizes.get(level, 0))} value(s)",
                source=source,
                column=spec.group,
                expected="at least 2 values per group",
            )
    if event is None or notes:  # no guessing which level is a success
        values = sorted({str(v) for v in df[spec.value].dropna()})
        raise DataError(
            "a proportion test needs a 0/1 (false/true, no/yes) outcome, or the level to count "
            "given with --event",
            source=source,
            column=spec.value,
            found=f"values such as {values[:5]}",
        )
    res = two_proportion_z(
        [int(c) for c in table[:, 0]],
        [int(t) for t in table.sum(axis=1)],
        alternative=spec.alternative,
        confidence=spec.confidence,
        event=event,
        groups=names,
    )
    res = replace(
        res,
        estimate_name=f"p({names[0]}) - p({names[1]})",
        warnings=(*res.warnings, *notes),
    )
    res = _rename(res, names)
    return _oriented(res, arms) if arms is not None else res


def _correlation(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    columns = spec.values if len(spec.values) == 2 else [spec.value, spec.group]
    if None in columns or len(columns) != 2:
        raise ParameterError("a correlation needs two columns: --value a,b", parameter="value")
    a, b = (frame.numeric(df, str(c), source) for c in columns)
    return correlation(
        a, b, method=spec.test, alternative=spec.alternative, confidence=spec.confidence
    )


def _normality(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    if spec.value is None:
        raise ParameterError("give the column to test with --value", parameter="value")
    if spec.test == "ks" and spec.group is not None:
        return _two_sample(df, spec, source)
    if spec.group is not None:  # each group on its own: pooled values mix the groups
        inner = spec.model_copy(update={"by": spec.group, "group": None})
        res = run_by(df, inner, source, _normality)
        note = (
            f"Normality is tested within each level of {spec.group!r} separately; p_adjusted "
            f"corrects for the {len(res.rows)} tests ({spec.correction})."
        )
        return replace(res, warnings=(note, *res.warnings))
    x = frame.numeric(df, spec.value, source)
    if spec.test == "ks":
        return ks_one_sample(x)
    return normality(x, method=spec.test)


def _regression(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    if not spec.formula:
        raise ParameterError(
            "a regression needs --formula, e.g. 'revenue ~ price + C(region)'",
            parameter="formula",
        )
    return regress(
        df,
        spec.formula,
        family=spec.test,
        cov_type=spec.cov_type,
        cluster=spec.cluster,
        confidence=spec.confidence,
        alpha=spec.alpha,
        source=source,
    )


def _auto(df: pd.DataFrame, spec: StatsSpec, source: str) -> Result:
    return run_auto(df, spec, source, TESTS)


TESTS: dict[str, Handler] = {
    **dict.fromkeys(("ttest", "welch", "student", "mannwhitney"), _two_sample),
    **dict.fromkeys(("paired", "wilcoxon", "sign"), _two_sample),
    "one-sample": _one_sample,
    **dict.fromkeys(
        ("anova", "welch-anova", "kruskal", "tukey", "games-howell", "levene", "brown-forsythe"),
        _several,
    ),
    **dict.fromkeys(("chi2", "fisher"), _counts),
    "ztest": _proportions,
    **dict.fromkeys(("pearson", "spearman", "kendall"), _correlation),
    **dict.fromkeys(("shapiro", "anderson", "dagostino", "ks"), _normality),
    **dict.fromkeys(REGRESSIONS, _regression),
    "auto": _auto,
}


def test_name(name: str) -> str:
    """Canonical test name, or a ParameterError listing the tests (with a close match)."""
    return StatsSpec(test=name).test


def columns_needed(spec: StatsSpec) -> list[str] | None:
    """Columns to read, or None for all (regressions: see :func:`_formula_needs`)."""
    if spec.test in REGRESSIONS:
        return None
    named = [*spec.values, spec.group, spec.pair_id, spec.by]
    return [c for c in named if c]


def run(data: Table | pd.DataFrame, spec: StatsSpec) -> Result:
    """Run `spec` on `data` (an opened table, or a DataFrame).

    Only the columns the test needs are read from a table; when `spec` names no value or
    group column they are detected from the table.

    Args:
        data: An opened `Table` (read in its engine) or a pandas DataFrame.
        spec: The test and its columns and options, as in a `sds stats` spec file.

    Returns:
        The test's result: a `TestResult` for a classic test, a regression result, a
            per-level result when `spec.by` is set, or the `auto` result that names the test
            it chose and why.

    Raises:
        ParameterError: Incompatible options (a normality test with both `group` and
            `by`).
        DataError: A named column is missing or its values do not suit the test.
    """
    _check_direction(spec)
    if isinstance(data, pd.DataFrame):
        df, source = data, "data"
        for col in columns_needed(spec) or []:
            frame.require_column(df, col, source)
    else:
        source = data.name
        skip = (*REGRESSIONS, "pearson", "spearman", "kendall")
        if spec.test not in skip and len(spec.values) < 2:
            detect = detect_columns if spec.test == "auto" else frame.detect_value_group
            value, group = detect(data, spec.value, spec.group, need_group=_needs_group(spec))
            spec = spec.model_copy(
                update={"value": spec.value or value, "group": spec.group or group}
            )
        regression = spec.test in REGRESSIONS
        needed = _formula_needs(data, spec) if regression else columns_needed(spec)
        df = frame.load(data, list(needed)) if needed else _load_all(data)
    if spec.by and spec.group and spec.test in ("shapiro", "anderson", "dagostino"):
        raise ParameterError(
            "a normality test takes --group or --by (each tests every level), not both",
            parameter="by",
        )
    if spec.by:
        return run_by(df, spec, source, TESTS[spec.test])
    return TESTS[spec.test](df, spec, source)


def _check_direction(spec: StatsSpec) -> None:
    """A one-sided alternative only where the test has a direction (it was ignored)."""
    if spec.alternative != "two-sided" and spec.test in UNDIRECTED:
        raise ParameterError(
            f"the {spec.test} test has no direction, so --alternative {spec.alternative} "
            "cannot apply",
            parameter="alternative",
            hint="one-sided alternatives suit two-group comparisons (ttest, mannwhitney, "
            "ztest, fisher on a 2x2 table ...) and correlations; drop --alternative",
        )


def _needs_group(spec: StatsSpec) -> bool:
    one_column = ("one-sample", "shapiro", "anderson", "dagostino", "ks")
    return not (spec.test in one_column or spec.pair_id or len(spec.values) == 2)


def _formula_needs(table: Table, spec: StatsSpec) -> list[str] | None:
    """The columns a formula names; None (read all) when it names something unknown, so
    that the regression's error can list every column."""

    used, unknown = formula_columns(spec.formula or "", table.columns)
    if unknown or not used or (spec.cluster and spec.cluster not in table.columns):
        return None
    return [*used, *([spec.cluster] if spec.cluster else [])]


def _load_all(table: Table) -> pd.DataFrame:
    return table.engine.execute(table.expr, source=table.name)
