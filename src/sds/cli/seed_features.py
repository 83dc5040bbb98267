"""The job behind ``scripts/feature_engineering_pipeline.py``: raw events in, a
point-in-time feature table and its summary out.

- ``-i RAW -o OUT -c SPEC``: ``-i`` is an events file or a folder of them (all Parquet,
  else all CSV files in it); ``-c`` is the feature spec (``sds features build``'s YAML,
  without ``data``); ``OUT`` receives ``features.parquet`` and ``summary.json``.
- ``-i RAW -o OUT`` without ``-c``: every table under ``RAW`` profiled and, for an event
  table, its recommended feature set built (:mod:`sds.cli.seed_features_auto`).
- ``--target DIR --analyze``: profile and recommendations for every data file under
  ``DIR``; the report goes to stdout (text) or, with ``-o``, to files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sds.cli.common import beside
from sds.cli.seed import SeedContext, SeedJob
from sds.cli.seed_features_auto import build_defaults
from sds.errors import DataError, InputError
from sds.features.spec import FeatureSpec
from sds.report.files import write_atomic


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

    if ctx.args.analyze:
        return _analyze(ctx)
    if ctx.input is None or ctx.output is None:
        raise InputError("-i/--input and -o/--output are required (or --target DIR --analyze)")
    if ctx.config is None:
        ctx.log.info("no -c: the default feature set of every table under %s", ctx.input)
        return build_defaults(ctx.input, ctx.output, ctx.log)
    spec: FeatureSpec = ctx.config  # type: ignore[assignment]
    ctx.log.info("building %s from %s", spec.name, ctx.input)
    labels = beside(spec.labels, ctx.args.config)  # relative to the config file
    result, _ = build(
        spec, events_source(ctx.input), labels, output=ctx.output / "features.parquet"
    )
    write_atomic(ctx.output / "summary.json", result.render("json"))
    ctx.log.info("wrote %d rows to %s", result.rows, ctx.output)
    return result.rows


def _analyze(ctx: SeedContext) -> int:
    """Profile and recommend; write nothing but the report (to -o, else stdout, before
    the status line)."""
    from sds.features.recommend import analyze_project

    if ctx.args.target is None:
        raise InputError("--analyze needs --target DIR (the project to profile)")
    result = analyze_project(ctx.args.target)
    if ctx.output is None:
        sys.stdout.write(result.render("text"))
        sys.stdout.flush()
    else:
        write_atomic(ctx.output / "feature_report.html", result.render("html"))
        write_atomic(ctx.output / "feature_report.json", result.render("json"))
    return len(result.tables)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", type=Path, help="Project folder to profile (--analyze).")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="Profile every data file under --target and recommend features; writes only "
        "the report (feature_report.html and .json under -o if given, else text on stdout).",
    )


JOB = SeedJob(
    name="feature_engineering_pipeline.py",
    description="Build point-in-time features (windows, RFM, calendar parts) from raw events "
    "(-i: a file or a folder) with the feature spec given as -c (the keys of 'sds features "
    "build'; data comes from -i, relative labels from the config's folder); writes "
    "features.parquet and summary.json under -o. Without -c, every table under -i is "
    "profiled and an event table (an id-like entity key and an event time) gets its "
    "recommended features built as of the day after its last event, in -o/<table>/ "
    "(features.parquet, summary.json, spec.yaml: the spec used, profile.json); other "
    "tables get profile.json and the reason; -o/pipeline.json lists them all.",
    run=run_pipeline,
    config_model=FeatureSpec,
    input_required=False,
    output_required=False,
    extra_arguments=_arguments,
    config_required="the feature spec (optional: without it the default features)",
)
