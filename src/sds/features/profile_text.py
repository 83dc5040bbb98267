"""The profile's terminal layout: one row per column in each table, so the text grows with
the number of columns and not with their statistics; every statistic and plot stays in the
JSON, Markdown and HTML renderings (:func:`sds.features.profile_result.profile_sections`).

- Overview and Flags, as in every rendering (one row per flag: the details);
- Columns: type, nulls, distinct values and flags of every column;
- Numbers: min, median, mean, max and standard deviation of each numeric column;
- Text and categories: lengths, empty strings and the most frequent values of the others;
- Times: the first and last value of each time column;
- the figures, counted in one closing line by the terminal renderer.
"""

from __future__ import annotations

from typing import Any

from sds.report.sections import KeyValue, Section, Table, format_value

MOST_FREQUENT = 3  # values shown per column in the terminal (--top-k in the others)
NUMBER_KEYS = ("min", "p50", "mean", "max", "std")


OVERVIEW_KEYS = (
    "source",
    "n_rows",
    "n_columns",
    "duplicate_rows",
    "duplicate_share",
    "distinct_method",
)


def head_sections(d: dict[str, Any]) -> list[Section]:
    """The overview and the flags of a profile's ``to_dict()``: the same in every layout."""
    out: list[Section] = [KeyValue("Overview", [(k, d[k]) for k in OVERVIEW_KEYS])]
    if d["flags"]:
        rows = [[f["column"], f["flag"], f["detail"]] for f in d["flags"]]
        out.append(Table("Flags", ["column", "flag", "detail"], rows))
    return out


def text_sections(d: dict[str, Any], figures: list[Section]) -> list[Section]:
    """The compact layout of a profile's ``to_dict()``, then its ``figures``."""
    out = head_sections(d)
    cols = d["columns"]
    rows = [[c["name"], c["dtype"], _nulls(c), c["distinct_count"], c["flags"]] for c in cols]
    out.append(Table("Columns", ["column", "type", "nulls", "distinct", "flags"], rows))
    numeric = [c for c in cols if c["numeric"]]
    if numeric:
        rows = [[c["name"], *(c["numeric"][k] for k in NUMBER_KEYS)] for c in numeric]
        out.append(Table("Numbers", ["column", *NUMBER_KEYS], rows))
    others = [c for c in cols if not (c["numeric"] or c["temporal"])]
    if others:
        rows = [[c["name"], _lengths(c), _empty(c), _most_frequent(c)] for c in others]
        header = ["column", "length", "empty", "most frequent (share of rows)"]
        out.append(Table("Text and categories", header, rows))
    times = [c for c in cols if c["temporal"]]
    if times:
        rows = [[c["name"], c["temporal"]["min"], c["temporal"]["max"]] for c in times]
        out.append(Table("Times", ["column", "min", "max"], rows))
    return out + figures


def _nulls(c: dict[str, Any]) -> str:
    if not c["null_count"]:
        return "0"
    return f"{format_value('null_count', c['null_count'])} ({c['null_share']:.1%})"


def _lengths(c: dict[str, Any]) -> str:
    text = c["text"]
    if not text or text["min_length"] is None:
        return "-"
    low, high = text["min_length"], text["max_length"]
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


def _empty(c: dict[str, Any]) -> Any:
    return c["text"]["empty_count"] if c["text"] else None


def _most_frequent(c: dict[str, Any]) -> str:
    """The first values with their shares; how many more there are, when any."""
    top = c["top_values"]
    if not top:
        return "- (mostly unique)" if c["distinct_count"] else "-"
    shown = [f"{_short(v['value'])} {v['row_share']:.1%}" for v in top[:MOST_FREQUENT]]
    more = c["distinct_count"] - len(shown)
    return ", ".join(shown) + (f" (+{more:,} more)" if more > 0 else "")


def _short(value: Any, limit: int = 20) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
