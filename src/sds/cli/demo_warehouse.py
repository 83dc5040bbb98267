"""The demo's in-database chapter: an experiment's unit table loaded into PostgreSQL and
analysed there (``sds analyze --engine postgres://...``): the rows stay in the database,
only aggregates come back.

The server is the one ``SDS_DEMO_POSTGRES`` names (a ``postgres://`` URL; its user must be
able to create a schema), or, when the PostgreSQL server binaries are installed, a
throwaway one the chapter starts in a temporary folder and removes. Without either, the
chapter is skipped with one line saying how to get one.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

from sds.config import read_mapping, settings
from sds.errors import AnalysisError

ENV = "SDS_DEMO_POSTGRES"
SCHEMA = "sds_demo"
TITLE = "Experiment analysis inside PostgreSQL: checkout units"
SPEC = """\
# The checkout test's unit table, analysed inside PostgreSQL (sds demo wrote this file):
#   sds analyze {name} --engine postgres://USER@HOST/DATABASE
kind: analysis
name: checkout units, in the database
data: {table}
unit: user_id
variant: variant
control: control
variants: [control, treatment]
date: assigned_at
segments: [platform]
metrics:
  - {{name: conversion, type: proportion, column: converted}}
  - {{name: revenue_per_user, type: mean, column: revenue, covariate: pre_revenue}}
  - {{name: orders_per_session, type: ratio, numerator: orders, denominator: sessions}}
primary: [conversion]
"""
HOW = (
    f"skipping the in-database chapter: no PostgreSQL server (set {ENV}=postgres://USER@HOST"
    "/DATABASE, or install the server binaries: apt-get install postgresql)"
)


def warehouse_chapters(output: Path, seed: int, users: int) -> list[Any]:
    """The chapter on the server of ``SDS_DEMO_POSTGRES`` or on one started here; no
    chapter (and one line saying how to get a server) when there is neither."""
    from sds.data import localpg

    if url := os.environ.get(ENV):
        return [warehouse_chapter(url, output, seed, users)]
    if localpg.find_bindir() is None:
        _say(HOW)
        return []
    _say("starting a throwaway PostgreSQL server in a temporary folder")
    with localpg.running() as (server, _):
        return [warehouse_chapter(server.url(), output, seed, users)]


def warehouse_chapter(url: str, output: Path, seed: int, users: int) -> Any:
    """Load ``users`` generated units into a table on the server at ``url``, analyse it
    there from a spec file, and drop the table again."""
    from sds.data import synth
    from sds.data.engine import Engine
    from sds.report.assemble import Chapter

    units = output / "data" / "checkout_units.parquet"
    synth.write_parquet("ab_test", units, seed=seed, n_users=users)
    table = f"{SCHEMA}.checkout_units_{uuid.uuid4().hex[:8]}"
    engine = Engine.from_url(url)
    try:
        _say(f"loading {users:,} units into {table} on {engine.label}")
        _load(engine, table, units)
        try:
            result = _analyze(engine, table, output)
        finally:
            engine.con.raw_sql(f"DROP TABLE IF EXISTS {_quoted(table)}")
    finally:
        engine.con.disconnect()
    return Chapter(TITLE, result, "analysis_postgres.json")


def _load(engine: Any, table: str, parquet: Path) -> None:
    import pyarrow.parquet as pq

    schema, name = table.split(".")
    engine.con.raw_sql(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}")
    engine.con.create_table(name, obj=pq.read_table(parquet), database=schema)


def _analyze(engine: Any, table: str, output: Path) -> Any:
    """Analyse the table from a spec file, on ``engine``; say where it ran."""
    from sds.data.io import open_table
    from sds.experiments.analysis.run import analyze
    from sds.experiments.analysis.spec import parse

    spec_path = output / "specs" / "checkout_units_postgres.yaml"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(SPEC.format(name=spec_path, table=table))
    _say(f"analysing it in the database: sds analyze {spec_path} --engine {engine.label}")
    spec = parse(read_mapping(spec_path), source=str(spec_path))
    with settings(engine=engine):
        source = open_table(table)
        if source.engine is not engine:  # never a local copy: the point of the chapter
            raise AnalysisError(f"{table} was not read in the database", source=engine.label)
        result = analyze(spec, source)
    effect, units = result.effect("conversion"), sum(n for _, n in result.units)
    _say(
        f"  {units:,} units analysed inside {engine.backend}; conversion {effect.rel_effect:+.1%} "
        f"[{effect.rel_ci_lower:+.1%}, {effect.rel_ci_upper:+.1%}]; verdict: {result.verdict}"
    )
    return result


def _quoted(name: str) -> str:
    """``schema.table`` quoted for SQL (the names here are the chapter's own)."""
    return ".".join(f'"{part}"' for part in name.split("."))


def _say(text: str) -> None:
    print(text, file=sys.stderr)
