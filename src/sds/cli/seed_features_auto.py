"""``feature_engineering_pipeline.py -i data/raw/ -o features/v2/`` without ``-c``: the
default feature set of every table found.

Each data file under ``-i`` (Parquet, CSV, JSON; as ``--analyze`` finds them) is profiled
and given the recommendations of :mod:`sds.features.recommend`. An event table (an entity
key and an event time) gets the drafted spec built as of the day after its last event,
into ``-o/<table>/``: ``features.parquet``, ``summary.json``, ``spec.yaml`` (the spec used:
copy it, edit it and pass it as ``-c``), ``profile.json``. Any other table gets its
``profile.json`` and, in ``pipeline.json``, the reason no features were built.
``-o/pipeline.json`` lists every table and what was written for it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sds.report.files import write_atomic

NOT_EVENTS = (
    "not an event table: no entity key (a column named like an id whose values repeat) and "
    "event time found together, so there are no point-in-time features to build; its "
    "profile and column recommendations are written (--analyze shows them)"
)


def default_cutoff(profile: dict[str, Any], timestamp: str) -> str:
    """The day after the table's last event: every event counts."""
    import pandas as pd

    column = next(c for c in profile["columns"] if c["name"] == timestamp)
    last = pd.Timestamp(column["temporal"]["max"])
    return str((last.normalize() + pd.Timedelta(days=1)).isoformat())


def default_spec(recommended: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """The drafted spec with its data left to the caller and a real cutoff."""
    spec = {k: v for k, v in recommended["draft_spec"].items() if k != "data" and v is not None}
    spec["name"] = Path(recommended["source"]).stem
    spec["cutoff"] = default_cutoff(profile, recommended["timestamp"])
    return spec


def build_table(path: Path, folder: Path, log: logging.Logger) -> dict[str, Any]:
    """Profile one table and build its default features when it is an event table."""
    import yaml

    from sds.features.build import build
    from sds.features.profile import profile
    from sds.features.recommend import recommend_table

    log.info("profiling %s", path)
    profiled = profile(str(path))
    write_atomic(folder / "profile.json", profiled.render("json"))
    facts = profiled.to_dict()
    recommended = recommend_table(facts)
    entry: dict[str, Any] = {"table": str(path), "rows": facts["n_rows"]}
    if "draft_spec" not in recommended:
        log.info("%s: %s", path.name, NOT_EVENTS)
        return {**entry, "features": None, "reason": NOT_EVENTS}
    spec = default_spec(recommended, facts)
    write_atomic(folder / "spec.yaml", yaml.safe_dump(spec, sort_keys=False))
    log.info("building %s (entity %s, cutoff %s)", path.name, spec["entity"], spec["cutoff"])
    result, _ = build(spec, str(path), output=folder / "features.parquet")
    write_atomic(folder / "summary.json", result.render("json"))
    return {**entry, "features": str(folder / "features.parquet"), "feature_rows": result.rows}


def build_defaults(raw: Path, output: Path, log: logging.Logger) -> int:
    """Every table under ``raw`` into ``output``; returns the number of tables."""
    from sds.features.recommend import data_files

    tables = [build_table(p, output / _folder_name(p, raw), log) for p in data_files(raw)]
    write_atomic(output / "pipeline.json", json.dumps({"tables": tables}, indent=2))
    log.info("wrote %s", output / "pipeline.json")
    return len(tables)


def _folder_name(path: Path, root: Path) -> str:
    """``sub/events.csv`` under ``root`` -> ``sub__events``; a file given as ``-i``: its stem."""
    relative = path.relative_to(root) if root.is_dir() else Path(path.name)
    return "__".join(relative.with_suffix("").parts)
