"""Profile every data file of a project and recommend features for it, writing nothing but
the report (``feature_engineering_pipeline.py --target project/ --analyze``).

Per table: the likely entity key (a column named like an id whose values repeat) and event
time (the temporal column), and a draft ``sds features build`` spec when both exist. Per
column, the rule that applies first: drop (constant, over 95% missing), identifier (a value
per row), event time, entity key, window aggregates (numbers in an event table), distinct
count and last value (few-level text in an event table), one-hot (text with at most 20
levels), frequency or target encoding (more levels), TF-IDF (long
free text), imputation (numbers with missing values), keep as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sds.errors import DataError
from sds.features.profile import profile
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table

DATA_SUFFIXES = (".parquet", ".csv", ".json", ".jsonl")
MAX_FILES = 50
ONEHOT_LEVELS = 20
FREE_TEXT_LENGTH = 30
NUMBER = ("sum", "mean", "max")  # per window; the spec's event_count counts the events


def data_files(root: Path) -> list[Path]:
    if not root.exists():
        raise DataError("folder not found", source=str(root))
    files = sorted(
        p
        for p in (root.rglob("*") if root.is_dir() else [root])
        if p.suffix.lower() in DATA_SUFFIXES and not any(part.startswith(".") for part in p.parts)
    )
    if not files:
        raise DataError("no data files", source=str(root), expected=", ".join(DATA_SUFFIXES))
    return files[:MAX_FILES]


def _is_key_name(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith("_id") or (lowered.endswith("id") and len(name) > 2)


def recommend_table(profile: dict[str, Any]) -> dict[str, Any]:
    """Roles and one recommendation per column of one profiled table."""
    columns = profile["columns"]
    times = [c["name"] for c in columns if c["kind"] == "temporal"]
    keys = [
        c["name"]
        for c in columns
        if _is_key_name(c["name"]) and "id_like" not in c["flags"] and c["distinct_count"] > 1
    ]
    entity, timestamp = (keys[0] if keys else None), (times[0] if times else None)
    events = entity is not None and timestamp is not None
    rows = [_column(c, entity, timestamp, events) for c in columns]
    out: dict[str, Any] = {
        "source": profile["source"],
        "rows": profile["n_rows"],
        "entity": entity,
        "timestamp": timestamp,
        "columns": rows,
    }
    if events:
        numbers = [r["column"] for r in rows if r["recommendation"].startswith("window")]
        levels = [r["column"] for r in rows if r["recommendation"].startswith("distinct count")]
        gaps = {c["name"] for c in columns if c["null_share"] > 0}  # nonnull says something
        out["draft_spec"] = {
            "data": profile["source"],
            "entity": entity,
            "timestamp": timestamp,
            "cutoff": "<label time, or use labels: with a table of entity and label_time>",
            "windows": ["7d", "30d", "90d"],
            "event_count": True,
            "aggregations": [
                *(
                    {"column": n, "functions": [*(["nonnull"] if n in gaps else []), *NUMBER]}
                    for n in numbers
                ),
                *({"column": c, "functions": ["nunique", "last"]} for c in levels),
            ],
            "rfm": {"monetary": numbers[0]} if numbers else None,
        }
    return out


def _column(c: dict[str, Any], entity: str | None, ts: str | None, events: bool) -> dict[str, Any]:
    name, kind, flags = c["name"], c["kind"], c["flags"]

    def say(recommendation: str, why: str) -> dict[str, Any]:
        return {"column": name, "kind": kind, "recommendation": recommendation, "why": why}

    if "constant" in flags:
        return say("drop", "one value")
    if c["null_share"] > 0.95:
        return say("drop", f"{c['null_share']:.0%} missing")
    if "id_like" in flags:
        return say("identifier: not a feature", "a distinct value per row")
    if name == ts:
        return say("event time", "windows 7d/30d/90d; calendar parts of the label time")
    if name == entity:
        return say("entity key", f"{c['distinct_count']:,} entities")
    if kind in ("integer", "float") and events:
        return say("window aggregates", "sum, mean, max per window and entity; events counted")
    if kind == "string" and events and c["distinct_count"] <= ONEHOT_LEVELS:
        return say("distinct count and last value per window", f"{c['distinct_count']} levels")
    if kind == "string":
        text = c.get("text") or {}
        if (text.get("mean_length") or 0) > FREE_TEXT_LENGTH:
            return say("TF-IDF (free text)", f"mean length {text['mean_length']:.0f} characters")
        if c["distinct_count"] <= ONEHOT_LEVELS:
            return say("one-hot", f"{c['distinct_count']} levels")
        return say("frequency or target encoding", f"{c['distinct_count']:,} levels")
    if c["null_share"] > 0:
        return say("impute (median) with a missing indicator", f"{c['null_share']:.1%} missing")
    return say("keep", kind)


@dataclass(frozen=True)
class ProjectAnalysis(Result):
    """Recommendations for every data file of a project."""

    title: ClassVar[str] = "Feature recommendations"
    root: str
    tables: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict({"project": self.root, "tables": [dict(t) for t in self.tables]})

    def sections(self) -> list[Section]:
        out: list[Section] = []
        for t in self.to_dict()["tables"]:
            roles = [
                ("rows", t["rows"]),
                ("entity key", t["entity"]),
                ("event time", t["timestamp"]),
            ]
            out.append(KeyValue(f"Table: {t['source']}", roles))
            out.append(records_table(f"Columns of {Path(t['source']).name}", t["columns"]))
            if t.get("draft_spec"):
                import yaml

                text = yaml.safe_dump(t["draft_spec"], sort_keys=False)
                title = f"Draft feature spec for {Path(t['source']).name}"
                out.append(Note(title, text.splitlines(), code=True))
        return out


def analyze_project(root: Path) -> ProjectAnalysis:
    tables = tuple(recommend_table(profile(str(p)).to_dict()) for p in data_files(root))
    return ProjectAnalysis(str(root), tables)
