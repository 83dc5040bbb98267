"""The job behind ``scripts/feature_engineering_pipeline.py``: raw events in, a
point-in-time feature table and its summary out.

``-i`` is an events file or a folder of them (all Parquet, else all CSV files in it);
``-c`` is the feature spec (``sds features build``'s YAML, without ``data``); ``-o`` is the
output folder, which receives ``features.parquet`` and ``summary.json``.
"""

from __future__ import annotations

from pathlib import Path

from sds.cli.common import beside
from sds.cli.seed import SeedContext, SeedJob
from sds.errors import DataError
from sds.features.spec import FeatureSpec


def events_source(path: Path) -> str:
    """A file as is; a folder as a glob over its Parquet (or else CSV) files."""
    if not path.exists():
        raise DataError("file not found", source=str(path))
    if path.is_file():
        return str(path)
    for suffix in ("parquet", "csv"):
        if any(path.glob(f"*.{suffix}")):
            return str(path / f"*.{suffix}")
    raise DataError("folder holds no events", source=str(path), expected=".parquet or .csv files")


def run_pipeline(ctx: SeedContext) -> int:
    from sds.features.build import build
    from sds.report.files import write_atomic

    assert ctx.input is not None and ctx.output is not None
    spec: FeatureSpec = ctx.config  # type: ignore[assignment]
    ctx.log.info("building %s from %s", spec.name, ctx.input)
    labels = beside(spec.labels, ctx.args.config)  # relative to the config file
    result, _ = build(
        spec, events_source(ctx.input), labels, output=ctx.output / "features.parquet"
    )
    write_atomic(ctx.output / "summary.json", result.render("json"))
    ctx.log.info("wrote %d rows to %s", result.rows, ctx.output)
    return result.rows


JOB = SeedJob(
    name="feature_engineering_pipeline.py",
    description="Build point-in-time features (windows, RFM, calendar parts) from raw events "
    "(-i: a file or a folder) with the feature spec given as -c; writes features.parquet and "
    "summary.json under -o.",
    run=run_pipeline,
    config_model=FeatureSpec,
    config_required="the feature spec (entity, timestamp, cutoff or labels, windows, "
    "aggregations; as for sds features build)",
)
