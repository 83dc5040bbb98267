"""Profile records, the data-quality flags, and their layout for every rendering."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sds.errors import missing_column_error
from sds.features.profile_text import head_sections, text_sections
from sds.params import check_all
from sds.report import plots
from sds.results import Figure, Note, Result, Section, Table, jsonable_dict

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
QUANTILE_NAMES = tuple(f"p{round(q * 100):02d}" for q in QUANTILES)


@dataclass(frozen=True)
class ProfileOptions:
    """What to compute and where the data-quality flags trip."""

    columns: tuple[str, ...] | None = None
    top_k: int = 10
    bins: int = 20
    exact_distinct_max_rows: int | None = None  # None: DuckDB 10,000,000; Spark 2,000,000
    near_constant_share: float = 0.99
    null_share_flag: float = 0.95
    high_cardinality: int = 50
    id_like_share: float = 0.99

    def __post_init__(self) -> None:
        check_all({k: v for k, v in asdict(self).items() if k != "columns" and v is not None})


@dataclass(frozen=True)
class ColumnProfile:
    """One column's statistics; absent statistics are None."""

    name: str
    dtype: str
    kind: str
    null_count: int
    null_share: float
    distinct_count: int
    numeric: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    temporal: dict[str, Any] | None = None
    top_values: list[dict[str, Any]] = field(default_factory=list)
    histogram: dict[str, list[Any]] | None = None
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(asdict(self))


@dataclass(frozen=True)
class Profile(Result):
    """A table's profile: shape, duplicates, per-column statistics and flags."""

    title: ClassVar[str] = "Data profile"

    source: str
    n_rows: int
    n_columns: int
    duplicate_rows: int
    distinct_method: str
    columns: tuple[ColumnProfile, ...]
    flags: tuple[dict[str, str], ...]
    options: ProfileOptions = field(default_factory=ProfileOptions)

    def to_dict(self) -> dict[str, Any]:
        """The canonical record of the profile; every rendering reads it.

        Returns:
            `source`, `n_rows`, `n_columns`, `duplicate_rows`, `duplicate_share`,
                `distinct_method` (`exact` or the sketch's error), `flags` and one record per
                column.
        """
        return {
            "source": self.source,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "duplicate_rows": self.duplicate_rows,
            "duplicate_share": self.duplicate_rows / self.n_rows if self.n_rows else 0.0,
            "distinct_method": self.distinct_method,
            "flags": [dict(f) for f in self.flags],
            "columns": [c.to_dict() for c in self.columns],
        }

    def column(self, name: str) -> ColumnProfile:
        """One column's profile, by name.

        Args:
            name: A profiled column.

        Returns:
            Its statistics: type, kind, nulls, distinct count, numeric or text or time
                statistics, top values and histogram.

        Raises:
            DataError: No profiled column has that name; the message lists close matches.
        """
        for col in self.columns:
            if col.name == name:
                return col

        raise missing_column_error(name, [c.name for c in self.columns], self.source)

    def sections(self) -> list[Section]:
        """The report layout: overview, flags, numeric and text tables, top values
        and figures.

        Returns:
            The blocks every renderer draws, in order.
        """
        return profile_sections(self.to_dict())

    def text_sections(self) -> list[Section]:
        """The terminal's layout: one row per column in each table, and the figures counted
        in one closing line (see :mod:`sds.features.profile_text`).

        Returns:
            The blocks `to_text` draws.
        """
        d = self.to_dict()
        return text_sections(d, _figures(d["columns"]))

    def plots_hint(self) -> str:
        """The command that writes the HTML report of this profile.

        Returns:
            `sds profile SOURCE -o profile.html` with the options that change the plots
                (`--columns`, `--top-k`, `--bins`), or `to_html()` for a DataFrame.
        """
        if self.source.startswith("<"):  # a DataFrame: no file to name
            return "write it with to_html()"
        words = ["sds", "profile", self.source]
        if self.options.columns:
            words += ["--columns", ",".join(self.options.columns)]
        default = ProfileOptions()
        for name in ("top_k", "bins"):
            if getattr(self.options, name) != getattr(default, name):
                words += [f"--{name.replace('_', '-')}", str(getattr(self.options, name))]
        return shlex.join([*words, "-o", "profile.html"])


def profile_sections(d: dict[str, Any]) -> list[Section]:
    """Overview, flags, numeric and text tables, top values and figures, all from to_dict()."""
    sections = head_sections(d)
    cols = d["columns"]
    sections.append(
        Table(
            "Columns",
            ["column", "kind", "dtype", "null_count", "null_share", "distinct_count", "flags"],
            [
                [
                    c["name"],
                    c["kind"],
                    c["dtype"],
                    c["null_count"],
                    c["null_share"],
                    c["distinct_count"],
                    c["flags"],
                ]
                for c in cols
            ],
        )
    )
    numeric = [c for c in cols if c["numeric"]]
    if numeric:
        keys = [
            "min",
            "p05",
            "p25",
            "p50",
            "mean",
            "p75",
            "p95",
            "max",
            "std",
            "nan_count",
            "inf_count",
            "zero_count",
        ]
        sections.append(
            Table(
                "Numeric columns",
                ["column", *keys],
                [[c["name"], *(c["numeric"][k] for k in keys)] for c in numeric],
            )
        )
    texts = [c for c in cols if c["text"]]
    if texts:
        keys = ["min_length", "mean_length", "max_length", "empty_count"]
        sections.append(
            Table(
                "Text columns",
                ["column", *keys],
                [[c["name"], *(c["text"][k] for k in keys)] for c in texts],
            )
        )
    times = [c for c in cols if c["temporal"]]
    if times:
        sections.append(
            Table(
                "Time columns",
                ["column", "min", "max"],
                [[c["name"], c["temporal"]["min"], c["temporal"]["max"]] for c in times],
            )
        )
    figures = _figures(cols)
    if figures:
        note = (
            "One plot per column: histograms for numbers and times, "
            "bars of the most frequent values otherwise."
        )
        sections += [Note("Distributions", [note]), *figures]
    tops = [c for c in cols if c["top_values"]]
    if tops:
        rows = [
            [c["name"], tv["value"], tv["count"], tv["row_share"]]
            for c in tops
            for tv in c["top_values"]
        ]
        sections.append(Table("Top values", ["column", "value", "count", "row_share"], rows))
    return sections


def _figures(cols: list[dict[str, Any]]) -> list[Section]:
    figures: list[Section] = []
    for c in cols:
        hist = c["histogram"]
        if hist and sum(hist["counts"]):
            edges = hist["edges"]
            if c["kind"] == "temporal":
                edges = [datetime.fromisoformat(e) for e in edges]
            figures.append(
                Figure(
                    f"{c['name']} ({c['kind']})",
                    _drawer(plots.histogram_svg, edges, hist["counts"]),
                )
            )
        elif c["top_values"] and not c["numeric"]:
            labels = [str(tv["value"]) for tv in c["top_values"]]
            counts = [tv["count"] for tv in c["top_values"]]
            figures.append(
                Figure(f"{c['name']} (top values)", _drawer(plots.bar_svg, labels, counts))
            )
    return figures


def _drawer(fn: Any, *args: Any) -> Any:
    return lambda: fn(*args)


def column_flags(col: ColumnProfile, n_rows: int, opts: ProfileOptions) -> list[tuple[str, str]]:
    """The data-quality flags of one column, each with the evidence behind it."""
    flags: list[tuple[str, str]] = []
    non_null = n_rows - col.null_count
    if non_null == 0:
        return [("all_null", "every value is null")]
    if col.null_share > opts.null_share_flag:
        flags.append(("mostly_null", f"{col.null_share:.1%} of rows are null"))
    if col.distinct_count == 1:
        flags.append(("constant", f"one distinct value in {non_null:,} non-null rows"))
    elif col.top_values and col.top_values[0]["count"] / n_rows >= opts.near_constant_share:
        top = col.top_values[0]
        flags.append(
            ("near_constant", f"{top['value']!r} fills {top['count'] / n_rows:.1%} of rows")
        )
    if col.numeric and (col.numeric["nan_count"] or col.numeric["inf_count"]):
        flags.append(
            (
                "non_finite",
                f"{col.numeric['nan_count']:,} NaN and "
                f"{col.numeric['inf_count']:,} infinite values",
            )
        )
    if col.numeric and col.numeric.get("huge_count"):
        flags.append(
            (
                "overflow",
                f"{col.numeric['huge_count']:,} values beyond ±1e150 (largest "
                f"{max(abs(col.numeric['min']), abs(col.numeric['max'])):.3g}): no mean or "
                "standard deviation in double precision",
            )
        )
    unique_share = col.distinct_count / non_null
    if col.kind in ("integer", "string") and non_null > 1 and unique_share >= opts.id_like_share:
        flags.append(("id_like", f"{col.distinct_count:,} distinct in {non_null:,} rows"))
    elif col.kind == "string" and col.distinct_count > opts.high_cardinality:
        flags.append(("high_cardinality", f"{col.distinct_count:,} distinct values"))
    return flags


def table_flags(n_rows: int, duplicate_rows: int) -> list[dict[str, str]]:
    flags = []
    if n_rows == 1:
        flags.append(
            {
                "column": "*",
                "flag": "single_row",
                "detail": "only one row: spread and correlations are undefined",
            }
        )
    if duplicate_rows:
        flags.append(
            {
                "column": "*",
                "flag": "duplicate_rows",
                "detail": f"{duplicate_rows:,} rows repeat an earlier row exactly",
            }
        )
    return flags
