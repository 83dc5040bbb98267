"""Sample-ratio mismatch: are the arms as large as the split says they should be?

Two rules, reported separately: Pearson's chi-square goodness of fit
(:func:`sds.stats.split.split_test`, the one home of every split chi-square), which alone
sets ``flag`` (p < ``alpha``, 0.001 by default), and the rule of thumb of a relative
deviation of any arm's share above ``share_tolerance`` (1%), reported as
``share_deviation_over_tolerance`` beside ``max_share_deviation`` (both from
:func:`sds.stats.split.share_rule`) and never setting ``flag``.
The p-value is the better guide at scale: with millions of units a harmless 0.5% wobble is
significant, while with a few hundred units a 1% deviation is pure noise; the share rule is
shown because many teams use it, not because it is sound.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sds.errors import DataError, ParameterError
from sds.params import check, check_weights
from sds.results import KeyValue, Note, Result, Section, Table, jsonable_dict
from sds.stats.split import max_share_deviation, share_rule, split_test

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from sds.data.io import Table as DataTable


@dataclass(frozen=True)
class SrmResult(Result):
    """One SRM test over all units (or one day)."""

    title: ClassVar[str] = "Sample-ratio mismatch check"
    variants: tuple[str, ...]
    counts: tuple[int, ...]
    expected_share: tuple[float, ...]
    chi2: float
    p_value: float
    alpha: float
    share_tolerance: float

    @property
    def observed_share(self) -> list[float]:
        total = sum(self.counts)
        return [c / total for c in self.counts]

    @property
    def max_share_deviation(self) -> float:
        """The largest relative deviation of an arm's share from its designed share."""
        return max_share_deviation(self.counts, self.expected_share)

    @property
    def flag(self) -> bool:
        """Sample-ratio mismatch: the chi-square p-value is below ``alpha``."""
        return self.p_value < self.alpha

    @property
    def share_deviation_over_tolerance(self) -> bool:
        """The rule of thumb alone (informational): some share is off by more than
        ``share_tolerance`` relative. It does not set :attr:`flag`."""
        rule = share_rule(self.counts, self.expected_share, self.share_tolerance)
        return bool(rule["share_deviation_over_tolerance"])

    def note(self) -> str:
        n, p, dev = sum(self.counts), self.p_value, self.max_share_deviation
        over = self.share_deviation_over_tolerance
        test = (
            f"flag: {'yes' if self.flag else 'no'}, chi-square p = {p:.3g} "
            f"{'<' if self.flag else '>='} alpha {self.alpha:g}"
        )
        share = (
            f"share_deviation_over_tolerance: {'yes' if over else 'no'}, largest relative "
            f"share deviation {dev:.2%} {'>' if over else '<='} the "
            f"{100 * self.share_tolerance:g}% rule of thumb, which does not set the flag"
        )
        if self.flag and self.share_deviation_over_tolerance:
            verdict = "Mismatch: do not trust effect estimates until the cause is found."
        elif self.flag:
            verdict = (
                "Mismatch: the shares are within tolerance, but at this scale even a small "
                "deviation is real: look for a bug in assignment or logging."
            )
        elif self.share_deviation_over_tolerance:
            verdict = (
                f"No mismatch: the chi-square test does not confirm the share deviation; with "
                f"{n:,} units such a deviation can be noise."
            )
        else:
            verdict = "No mismatch: the split looks as designed."
        return f"{verdict} ({test}; {share}.)"

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "variants": list(self.variants),
                "counts": list(self.counts),
                "observed_share": self.observed_share,
                "expected_share": list(self.expected_share),
                "chi2": self.chi2,
                "df": len(self.counts) - 1,
                "p_value": self.p_value,
                "alpha": self.alpha,
                "flag": self.flag,
                "flag_rule": f"chi-square p < {self.alpha:g} (sample-ratio mismatch)",
                "share_tolerance": self.share_tolerance,
                "max_share_deviation": self.max_share_deviation,
                "share_deviation_over_tolerance": self.share_deviation_over_tolerance,
                "share_rule": (
                    f"some arm's share off its designed share by more than "
                    f"{100 * self.share_tolerance:g}% relative (rule of thumb, informational: "
                    "does not set flag)"
                ),
                "note": self.note(),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        rows = [
            [v, c, o, e]
            for v, c, o, e in zip(
                d["variants"], d["counts"], d["observed_share"], d["expected_share"], strict=True
            )
        ]
        return [
            Note("Verdict", [d["note"]]),
            KeyValue("Test", [(k, d[k]) for k in ("chi2", "df", "p_value", "alpha")]),
            Table(
                "Rules",
                ["field", "value", "meaning"],
                [
                    ["flag", d["flag"], d["flag_rule"]],
                    ["max_share_deviation", d["max_share_deviation"], "relative, largest arm"],
                    [
                        "share_deviation_over_tolerance",
                        d["share_deviation_over_tolerance"],
                        d["share_rule"],
                    ],
                ],
            ),
            Table("Arms", ["variant", "units", "observed_share", "expected_share"], rows),
        ]


def srm_test(
    counts: Sequence[int],
    shares: Iterable[float] | None = None,
    alpha: float = 0.001,
    share_tolerance: float = 0.01,
    variants: Sequence[str] | None = None,
) -> SrmResult:
    """Chi-square goodness of fit of the arm sizes to the designed ``shares`` (default
    equal); ``flag`` when p < ``alpha``."""
    check("alpha", alpha)
    check("share_tolerance", share_tolerance)
    counts = [int(c) for c in counts]
    if len(counts) < 2 or any(c < 0 for c in counts) or sum(counts) == 0:
        raise ParameterError(
            f"counts == {counts}, must be at least 2 non-negative counts with a positive total",
            parameter="counts",
        )
    given = shares if shares is not None else [1 / len(counts)] * len(counts)
    split = check_weights(given, "shares")
    if len(split) != len(counts):
        raise ParameterError(
            f"shares has {len(split)} values for {len(counts)} arms, must give one per arm",
            parameter="shares",
        )
    names = tuple(variants) if variants else tuple(f"arm {i + 1}" for i in range(len(counts)))
    test = split_test(counts, split)
    return SrmResult(
        names, tuple(counts), tuple(split), test.chi2, test.p_value, alpha, share_tolerance
    )


@dataclass(frozen=True)
class SrmDaily(Result):
    """SRM per day and cumulatively, from assignment data."""

    title: ClassVar[str] = "Sample-ratio mismatch by day"
    overall: SrmResult
    days: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        daily = [d["date"] for d in self.days if d["flag_day"]]
        cumulative = [d["date"] for d in self.days if d["flag_cumulative"]]
        return jsonable_dict(
            self.overall.to_dict()
            | {
                "first_flagged_day": daily[0] if daily else None,
                "first_flagged_day_cumulative": cumulative[0] if cumulative else None,
                "daily": list(self.days),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        keys = list(self.days[0]) if self.days else []
        return [
            *self.overall.sections(),
            KeyValue(
                "By day", [(k, d[k]) for k in ("first_flagged_day", "first_flagged_day_cumulative")]
            ),
            Note(
                "Daily columns",
                [
                    f"flag_day, flag_cumulative: {d['flag_rule']}, "
                    "for the day's units and for all units up to that day.",
                    f"share_deviation_over_tolerance_day: {d['share_rule']}.",
                ],
            ),
            Table(
                "Daily and cumulative tests", keys, [[row[k] for k in keys] for row in d["daily"]]
            ),
        ]


def srm_by_day(
    table: DataTable,
    variant_column: str,
    date_column: str,
    variants: Sequence[str],
    shares: Iterable[float] | None = None,
    alpha: float = 0.001,
    share_tolerance: float = 0.01,
) -> SrmDaily:
    """Counts per day and variant in one engine query; tests per day and cumulative."""
    table.require(variant_column, date_column)
    t = table.expr
    kind, day = _day_of(table, date_column)
    grouped = t.group_by(day=day, variant=t[variant_column].cast("string"), kind=kind).aggregate(
        n=t.count()
    )
    df = table.engine.execute(grouped, source=table.name)
    _refuse_bad_dates(table, date_column, df, kind)
    unknown = sorted(set(df["variant"].dropna()) - set(variants))
    if unknown:
        raise DataError(
            "the data holds variants the design does not name",
            source=table.name,
            column=variant_column,
            found=", ".join(map(str, unknown)),
            expected=", ".join(variants),
            hint="Pass every variant in --variants.",
        )
    pivot = df.pivot_table(
        index="day", columns="variant", values="n", aggfunc="sum", fill_value=0
    ).reindex(columns=list(variants), fill_value=0)
    pivot = pivot.sort_index()
    running = [0] * len(variants)
    rows = []
    for date, counts in pivot.iterrows():
        today = [int(c) for c in counts]
        running = [a + b for a, b in zip(running, today, strict=True)]
        daily = srm_test(today, shares, alpha, share_tolerance, variants) if sum(today) else None
        cumulative = srm_test(running, shares, alpha, share_tolerance, variants)
        rows.append(
            {
                "date": date,
                **dict(zip(variants, today, strict=True)),
                "p_value_day": daily.p_value if daily else None,
                "p_value_cumulative": cumulative.p_value,
                "flag_day": bool(daily and daily.flag),
                "flag_cumulative": cumulative.flag,
                "max_share_deviation_day": daily.max_share_deviation if daily else None,
                "share_deviation_over_tolerance_day": bool(
                    daily and daily.share_deviation_over_tolerance
                ),
            }
        )
    overall = srm_test(running, shares, alpha, share_tolerance, variants)
    return SrmDaily(overall, tuple(rows))


_FIRST_TIME, _LAST_TIME = "0001-01-01 00:00:00", "9999-12-31 23:59:59"  # finite dates
_DATE_FAULTS = {"missing": "empty", "unparseable": "not a date", "nonfinite": "not finite"}


def _day_of(table: DataTable, date_column: str) -> tuple[ir.StringValue, ir.DateValue]:
    """Per row: ``ok`` or why its date is unusable (one of :data:`_DATE_FAULTS`), and its
    calendar day (null unless ``ok``). ``inf``, which DuckDB reads as a time, is not one."""
    import ibis

    col = table.expr[date_column]
    dtype = col.type()
    if not (dtype.is_string() or dtype.is_timestamp() or dtype.is_date()):
        raise DataError(
            "is not a date or time column",
            source=table.name,
            column=date_column,
            found=f"type {dtype}",
            expected="dates or times, e.g. 2025-01-31 or 2025-01-31 12:00:00",
        )
    parsed = _parse_times(col, table.engine.backend) if dtype.is_string() else col.cast("timestamp")
    finite = parsed.between(ibis.timestamp(_FIRST_TIME), ibis.timestamp(_LAST_TIME))
    kind = ibis.cases(
        (col.isnull(), "missing"), (parsed.isnull(), "unparseable"), (~finite, "nonfinite"),
        else_="ok",
    )  # fmt: skip
    day = ibis.ifelse(kind == "ok", parsed, ibis.null("timestamp")).truncate("D").cast("date")
    return kind, day


_ISO_TIME = r"^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$"


def _parse_times(col: ir.StringValue, backend: str) -> ir.TimestampValue:
    """Text as times, null where it is not one. PostgreSQL has no cast that gives null
    (Ibis' ``try_cast`` is a plain cast there, which fails on the first bad value), so
    there only ISO dates and times (``2025-01-31``, ``2025-01-31 12:00[:00[.5]]``) are
    cast; other text counts as not a date."""
    import ibis

    if backend != "postgres":
        return col.try_cast("timestamp")
    iso = col.re_search(_ISO_TIME)
    return ibis.ifelse(iso, col, ibis.null("string")).cast("timestamp")


def _refuse_bad_dates(
    table: DataTable, date_column: str, counts: pd.DataFrame, kind: ir.StringValue
) -> None:
    """A DataError naming how many rows have an empty, unreadable or infinite date, with a
    few of the values, if any row has one."""
    bad = counts[counts["kind"] != "ok"].groupby("kind")["n"].sum()
    if bad.empty:
        return
    found = [f"{int(bad[k]):,} {label}" for k, label in _DATE_FAULTS.items() if k in bad.index]
    if set(bad.index) - {"missing"}:
        t = table.expr
        values = t.filter(kind.isin(["unparseable", "nonfinite"]))[date_column].cast("string")
        shown = table.engine.execute(
            values.name("v").as_table().distinct().limit(3), source=table.name
        )["v"]
        found.append("e.g. " + ", ".join(repr(v) for v in sorted(shown)))
    raise DataError(
        f"{int(bad.sum()):,} of {int(counts['n'].sum()):,} rows have no usable date",
        source=table.name,
        column=date_column,
        found=", ".join(found),
        expected="a finite date or time in every row, e.g. 2025-01-31 or 2025-01-31 12:00:00",
        hint="Fix or drop those rows.",
    )
