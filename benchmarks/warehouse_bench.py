"""Warehouse benchmark: sds jobs run inside PostgreSQL against hand-written SQL floors.

1. Starts a PostgreSQL server of its own (``sds.data.localpg``: initdb in a temporary
   folder, stopped and removed at the end) and loads, with ``COPY ... FROM STDIN``:
   - the unit-level A/B table of ``analysis_bench.py`` (``--units`` rows, default
     10,000,000) as ``bench.ab``;
   - the transaction log of ``features_bench.py`` (``--entities`` customers, ``--events``
     rows) as ``bench.tx``.
2. Runs, each in a child process ``--repeat`` times (the first call's wall time, imports
   included, as *cold*; the median of ``--warm`` more calls in the same process as *warm*;
   the child's peak resident memory from ``wait4``):
   - ``analyze``: ``sds.analyze`` of ``analysis_bench.SPEC`` on the table by name, with the
     PostgreSQL engine (only aggregates cross to the client), against its floor: one
     hand-written ``GROUP BY variant, platform, country, day`` with the same sums, sums of
     squares and cross products, sent with psycopg;
   - ``features``: ``sds.features.build`` of ``features_bench.SPEC`` (windows 7, 30, 90
     days and RFM at one cutoff) written as a table in the database (``table=``, what
     ``--write-table`` does: no row leaves the server), against its floor: one
     ``CREATE TABLE ... AS`` query with ``FILTER`` clauses. The script checks that both
     tables are equal.

   Each also runs as ``+hash``: its session with ``enable_sort = off`` (``PGOPTIONS``).
   PostgreSQL cannot estimate how many days ``date_trunc('day', ts)`` holds, expects a
   million groups at 10,000,000 rows and sorts them, which a hash aggregate avoids.

Run: ``.venv/bin/python benchmarks/warehouse_bench.py [--units N]`` (``--units 200000
--entities 20000 --events 200000`` for a quick check). Needs the server binaries
(``make postgres``) and the ``postgres`` extra.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import analysis_bench
import features_bench
from bench_child import run_child

OUT = Path(__file__).parent / "out"
SERVER_SETTINGS = {"shared_buffers": "1GB", "work_mem": "256MB"}
CUTOFF = features_bench.CUTOFF

ANALYZE_FLOOR = """
SELECT variant, platform, country, CAST(date_trunc('day', assigned_at) AS date) AS day,
       count(*) AS n,
       sum(converted) AS s_conv,
       sum(revenue) AS s_rev, sum(revenue * revenue) AS c_rev_rev,
       sum(pre_revenue) AS s_pre, sum(pre_revenue * pre_revenue) AS c_pre_pre,
       sum(revenue * pre_revenue) AS c_rev_pre,
       sum(orders) AS s_ord, sum(orders * orders) AS c_ord_ord,
       sum(sessions) AS s_ses, sum(sessions * sessions) AS c_ses_ses,
       sum(orders * sessions) AS c_ord_ses
FROM bench.ab
GROUP BY 1, 2, 3, 4
"""


def features_floor_sql() -> str:
    """The floor's query: ``features_bench``'s DuckDB floor in PostgreSQL's dialect."""
    before = f"ts < TIMESTAMP '{CUTOFF}'"
    parts = []
    for name, days in features_bench.WINDOWS.items():
        inside = f"{before} AND ts >= TIMESTAMP '{CUTOFF}' - INTERVAL '{days} days'"
        parts += [
            f"count(amount) FILTER (WHERE {inside}) AS amount_nonnull_{name}",
            f"coalesce(sum(amount) FILTER (WHERE {inside}), 0) AS amount_sum_{name}",
            f"avg(amount) FILTER (WHERE {inside}) AS amount_mean_{name}",
            f"max(amount) FILTER (WHERE {inside}) AS amount_max_{name}",
        ]
    recency = f"TIMESTAMP '{CUTOFF}' - max(ts) FILTER (WHERE {before})"
    return f"""
        SELECT customer_id, TIMESTAMP '{CUTOFF}' AS label_time, {", ".join(parts)},
               CAST(EXTRACT(EPOCH FROM {recency}) AS double precision) / 86400 AS recency_days,
               count(*) FILTER (WHERE {before}) AS frequency,
               coalesce(sum(amount) FILTER (WHERE {before}), 0) AS monetary
        FROM bench.tx
        GROUP BY customer_id
    """


def _engine(url: str) -> Any:
    from sds.data.engine import Engine

    return Engine.from_url(url)


def run_analyze_sds(url: str, target: str) -> None:
    import sds
    from sds.config import settings

    engine = _engine(url)
    with settings(engine=engine):
        table = sds.open_table("bench.ab")
        assert table.engine is engine  # read in the database, not by a local DuckDB
        sds.analyze(table, analysis_bench.SPEC)


def run_analyze_floor(url: str, target: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
        con.execute(ANALYZE_FLOOR).fetchall()


def run_features_sds(url: str, target: str) -> None:
    from sds.config import settings
    from sds.features.build import build

    with settings(engine=_engine(url)):
        build(features_bench.SPEC, "bench.tx", table="bench.features_sds")


def run_features_floor(url: str, target: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
        con.execute("DROP TABLE IF EXISTS bench.features_floor")
        con.execute(f"CREATE TABLE bench.features_floor AS {features_floor_sql()}")


NAMES = ("floor", "sds", "floor+hash", "sds+hash")
"""Each runner as the server plans it, and with sorts disabled for its session (``+hash``:
``PGOPTIONS=-c enable_sort=off``): PostgreSQL cannot estimate the number of days in
``date_trunc('day', ts)`` and, at 10,000,000 rows, expects a million groups and sorts."""
RUNNERS = {
    ("analyze", "floor"): run_analyze_floor,
    ("analyze", "sds"): run_analyze_sds,
    ("features", "floor"): run_features_floor,
    ("features", "sds"): run_features_sds,
}


def load(url: str, name: str, path: Path) -> None:
    """Create the table ``name`` from the Parquet file's schema and COPY its rows in (as
    CSV, 250,000 rows a chunk), then ANALYZE it."""
    import ibis
    import psycopg
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema, table = name.split(".")
    parquet = pq.ParquetFile(path)
    engine = _engine(url)
    engine.con.raw_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine.con.raw_sql(f"DROP TABLE IF EXISTS {name}")
    engine.con.create_table(
        table, schema=ibis.Schema.from_pyarrow(parquet.schema_arrow), database=schema
    )
    start = time.perf_counter()
    options = pacsv.WriteOptions(include_header=False)
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
        with con.cursor().copy(f"COPY {name} FROM STDIN (FORMAT csv)") as copy:  # type: ignore[arg-type]
            for batch in parquet.iter_batches(batch_size=250_000):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getvalue())
        con.execute(f"ANALYZE {name}")
    rows, seconds = parquet.metadata.num_rows, time.perf_counter() - start
    print(f"loaded {name}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")


def _child(job: str, name: str, url: str, warm: int) -> tuple[float, float, float]:
    """Seconds of the first run (imports included), median of ``warm`` more runs in the
    same process, and the child's peak RSS in GB."""
    target = OUT / f"warehouse_{job}_{name}.parquet"
    args = [sys.executable, __file__, "--child", job, name, url, str(target), str(warm)]
    out, peak = run_child(args)
    times = json.loads(out.strip().splitlines()[-1])
    return times["cold"], times["warm"], peak


def compare(job: str, url: str, repeat: int, warm: int) -> None:
    """Floor and sds for one job: times, peak memory and the ratios."""
    cold, later = {}, {}
    print(f"{job:10s} {'':10s} {'cold s':>8s} {'warm s':>8s} {'peak GB':>8s}")
    for name in NAMES:
        runs = [_child(job, name, url, warm) for _ in range(repeat)]
        cold[name] = statistics.median(r[0] for r in runs)
        later[name] = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        print(f"{job:10s} {name:10s} {cold[name]:8.2f} {later[name]:8.2f} {peak:8.2f}")
    for plan in ("", "+hash"):
        sds, floor = "sds" + plan, "floor" + plan
        ratio_warm = later[sds] / later[floor] if warm else float("nan")
        print(
            f"{job:10s} {sds} / {floor}: cold {cold[sds] / cold[floor]:5.2f}  "
            f"warm {ratio_warm:5.2f}  (target <= 1.5)"
        )


def _read_table(url: str, name: str) -> Any:
    import pandas as pd
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
        cursor = con.execute(f"SELECT * FROM {name} ORDER BY customer_id")
        columns = [c.name for c in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def same_features(url: str) -> None:
    """sds's feature table must equal the floor's: a benchmark of different answers means
    nothing."""
    import numpy as np

    sds = _read_table(url, "bench.features_sds")
    floor = _read_table(url, "bench.features_floor")
    assert list(sds.columns) == list(floor.columns), (list(sds.columns), list(floor.columns))
    assert len(sds) == len(floor), (len(sds), len(floor))
    assert (sds["customer_id"].to_numpy() == floor["customer_id"].to_numpy()).all()
    worst = 0.0
    for column in sds.columns[2:]:
        a, b = sds[column].to_numpy(dtype=float), floor[column].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        ok = ~np.isnan(a)
        worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(1, np.abs(b[ok])))))
    print(f"sds's features equal the floor's: {len(sds):,} rows, max relative diff {worst:.1e}")


def _transactions(entities: int, events: int) -> Path:
    from sds.data import synth

    path = OUT / f"transactions_{entities}_{events}.parquet"
    if not path.exists():
        print(f"generating {entities:,} customers, ~{events:,} events -> {path}", flush=True)
        per_month = events / entities / (0.75 * 12)
        synth.write_parquet(
            "transactions", path, seed=1, n_customers=entities, mean_per_month=per_month
        )
    return path


def _run_child(job: str, name: str, url: str, target: str, warm: int) -> None:
    import os

    base, _, variant = name.partition("+")
    if variant == "hash":  # libpq passes it to the server: this session plans no sorts
        os.environ["PGOPTIONS"] = "-c enable_sort=off"
    times = []
    for _ in range(1 + warm):
        start = time.perf_counter()
        RUNNERS[job, base](url, target)
        times.append(time.perf_counter() - start)
    later = statistics.median(times[1:]) if warm else float("nan")
    print(json.dumps({"cold": times[0], "warm": later}))


def _prepare(url: str, units: str, entities: str, events: str) -> None:
    """Generate the two tables' Parquet files (once) and load them into the server."""
    ab = OUT / f"ab_{units}.parquet"
    analysis_bench._generate("ab_test", ab, n_users=int(units))
    load(url, "bench.ab", ab)
    load(url, "bench.tx", _transactions(int(entities), int(events)))


def main() -> None:
    from sds.data import localpg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        job, name, url, target, warm = args.child
        _run_child(job, name, url, target, int(warm))
        return
    if args.prepare:
        _prepare(*args.prepare)
        return
    OUT.mkdir(exist_ok=True)
    with localpg.running(settings=SERVER_SETTINGS) as (server, _):
        url = server.url()
        print(f"PostgreSQL on port {server.port}; {SERVER_SETTINGS}", flush=True)
        sizes = [str(args.units), str(args.entities), str(args.events)]
        # in a child: this process stays small, and a child's peak RSS (``wait4``) counts
        # its parent's at the fork
        print(run_child([sys.executable, __file__, "--prepare", url, *sizes])[0], end="")
        print(f"{args.units:,} units; {args.repeat} process(es), {args.warm} warm calls each")
        compare("analyze", url, args.repeat, args.warm)
        compare("features", url, args.repeat, args.warm)
        same_features(url)


if __name__ == "__main__":
    main()
