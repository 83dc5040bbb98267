"""Feature benchmark: ``sds features build`` against a hand SQL floor, pandas and featuretools.

1. Generates a transaction log of ``--entities`` customers (default 1,000,000) with about
   10 events each (``--events`` rows in all, default 10,000,000) as Parquet.
2. The same features for every customer of the events at one cutoff (those without earlier
   events get counts 0): windows 7, 30 and 90 days with the count of amounts, their sum,
   mean and max, plus recency, frequency and monetary value.
   Each runner runs in its own process ``--repeat`` times (median wall time of the work,
   imports included; peak resident memory from ``wait4``):
   - ``sds``: ``sds.features.build`` writing the table to Parquet;
   - ``floor``: one hand-written DuckDB query with ``FILTER`` clauses, written to Parquet;
   - ``pandas``: read the Parquet, then one filter and groupby per window;
   - ``featuretools``: deep feature synthesis with a training window per window, on the
     first ``--sample`` customers, its time scaled by entities to the full size.
     featuretools 1.31 (its last release) does not work with pandas 3 (woodwork's accessor
     is lost), so it runs in its own virtual environment with pandas 2, made on first use
     under ``benchmarks/out/ft-venv``.

Run: ``make bench`` or ``.venv/bin/python benchmarks/features_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_child import run_child

OUT = Path(__file__).parent / "out"
CUTOFF = "2025-12-01"
WINDOWS = {"7d": 7, "30d": 30, "90d": 90}
FUNCTIONS = ("count", "sum", "mean", "max")

SPEC = {
    "entity": "customer_id",
    "timestamp": "ts",
    "cutoff": CUTOFF,
    "windows": list(WINDOWS),
    "aggregations": [{"column": "amount", "functions": ["nonnull", *FUNCTIONS[1:]]}],
    "rfm": {"monetary": "amount"},
}


def run_sds(path: str, target: str) -> None:
    from sds.features.build import build

    build(SPEC, path, output=target)


def run_floor(path: str, target: str) -> None:
    import duckdb

    parts, before = [], f"ts < TIMESTAMP '{CUTOFF}'"
    for name, days in WINDOWS.items():
        inside = f"{before} AND ts >= TIMESTAMP '{CUTOFF}' - INTERVAL {days} DAY"
        parts += [
            f"count(amount) FILTER (WHERE {inside}) AS amount_nonnull_{name}",
            f"coalesce(sum(amount) FILTER (WHERE {inside}), 0) AS amount_sum_{name}",
            f"avg(amount) FILTER (WHERE {inside}) AS amount_mean_{name}",
            f"max(amount) FILTER (WHERE {inside}) AS amount_max_{name}",
        ]
    query = f"""
        COPY (
            SELECT customer_id, TIMESTAMP '{CUTOFF}' AS label_time, {", ".join(parts)},
                   date_diff('second', max(ts) FILTER (WHERE {before}), TIMESTAMP '{CUTOFF}')
                       / 86400.0 AS recency_days,
                   count(*) FILTER (WHERE {before}) AS frequency,
                   coalesce(sum(amount) FILTER (WHERE {before}), 0) AS monetary
            FROM read_parquet('{path}')
            GROUP BY customer_id
        ) TO '{target}' (FORMAT parquet)
    """
    duckdb.connect().execute(query)


def run_pandas(path: str, target: str) -> None:
    import pandas as pd

    df = pd.read_parquet(path, columns=["customer_id", "ts", "amount"])
    cutoff = pd.Timestamp(CUTOFF)
    df = df[df["ts"] < cutoff]
    grouped = df.groupby("customer_id")
    out = pd.DataFrame(
        {
            "recency_days": (cutoff - grouped["ts"].max()).dt.total_seconds() / 86_400,
            "frequency": grouped.size(),
            "monetary": grouped["amount"].sum(),
        }
    )
    for name, days in WINDOWS.items():
        window = df[df["ts"] >= cutoff - pd.Timedelta(days=days)]
        stats = window.groupby("customer_id")["amount"].agg(list(FUNCTIONS))
        out = out.join(stats.add_prefix("amount_").add_suffix(f"_{name}"))
    out.reset_index().to_parquet(target)


def run_featuretools(path: str, target: str, sample: int) -> None:
    import featuretools as ft
    import pandas as pd

    df = pd.read_parquet(path, columns=["transaction_id", "customer_id", "ts", "amount"])
    df = df[df["customer_id"] < sample]
    cutoff = pd.Timestamp(CUTOFF)
    es = ft.EntitySet("shop")
    es.add_dataframe(
        dataframe_name="transactions", dataframe=df, index="transaction_id", time_index="ts"
    )
    es.normalize_dataframe("transactions", "customers", "customer_id")
    es.add_last_time_indexes()
    customers = df.loc[df["ts"] < cutoff, "customer_id"].unique()
    cutoffs = pd.DataFrame({"customer_id": customers, "time": cutoff})
    frames = []
    for days in WINDOWS.values():
        matrix, _ = ft.dfs(
            entityset=es,
            target_dataframe_name="customers",
            agg_primitives=["count", "sum", "mean", "max"],
            trans_primitives=[],
            cutoff_time=cutoffs,
            training_window=f"{days} days",
            max_depth=1,
        )
        frames.append(matrix.add_suffix(f"_{days}d"))
    pd.concat(frames, axis=1).to_parquet(target)


FT_VENV = OUT / "ft-venv"


def _featuretools_python() -> str:
    """The interpreter of a separate environment with featuretools and pandas 2."""
    python = FT_VENV / "bin" / "python"
    if not python.exists():
        print(f"making {FT_VENV} (featuretools needs pandas < 3)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(FT_VENV)], check=True)
        packages = ["featuretools>=1.31", "pandas<3", "pyarrow"]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return str(python)


def _child(name: str, path: Path, sample: int) -> tuple[float, float]:
    target = OUT / f"features_{name}.parquet"
    python = _featuretools_python() if name == "featuretools" else sys.executable
    quiet = ["-W", "ignore"] if name == "featuretools" else []  # its pandas deprecations
    args = [python, *quiet, __file__, "--child", name, str(path), str(target), str(sample)]
    out, peak = run_child(args)
    return json.loads(out.strip().splitlines()[-1])["seconds"], peak


def _same_as_floor() -> None:
    """sds's table must equal the floor's: a benchmark of different answers means nothing."""
    import numpy as np
    import pandas as pd

    sds = pd.read_parquet(OUT / "features_sds.parquet").sort_values("customer_id")
    floor = pd.read_parquet(OUT / "features_floor.parquet").sort_values("customer_id")
    assert list(sds.columns) == list(floor.columns) and len(sds) == len(floor)
    worst = 0.0
    for column in sds.columns[2:]:
        a, b = sds[column].to_numpy(dtype=float), floor[column].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        ok = ~np.isnan(a)
        worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(1, np.abs(b[ok])))))
    print(f"sds table equals the floor's: {len(sds):,} rows, max relative difference {worst:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, path, target, sample = args.child
        start = time.perf_counter()
        if name == "featuretools":  # in its own environment: no sds here
            run_featuretools(path, target, int(sample))
        else:
            {"sds": run_sds, "floor": run_floor, "pandas": run_pandas}[name](path, target)
        print(json.dumps({"seconds": time.perf_counter() - start}))
        return
    from sds.data import synth

    OUT.mkdir(exist_ok=True)
    per_month = args.events / args.entities / (0.75 * 12)
    path = OUT / f"transactions_{args.entities}_{args.events}.parquet"
    if not path.exists():
        print(f"generating {args.entities:,} customers, ~{args.events:,} events -> {path}")
        synth.write_parquet(
            "transactions", path, seed=1, n_customers=args.entities, mean_per_month=per_month
        )
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    print(f"{rows:,} events, {args.entities:,} entities; median of {args.repeat} processes")
    seconds = {}
    for name in ("floor", "sds", "pandas", "featuretools"):
        runs = [_child(name, path, args.sample) for _ in range(args.repeat)]
        seconds[name] = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        note = ""
        if name == "featuretools":
            seconds[name] *= args.entities / args.sample
            note = f"  (on {args.sample:,} entities, scaled x{args.entities / args.sample:g})"
        print(f"{name:14s} {seconds[name]:8.2f} s  peak RSS {peak:5.2f} GB{note}")
    _same_as_floor()
    for peer, target in (("floor", "<= 1.5"), ("pandas", "< 1"), ("featuretools", "< 1")):
        print(f"sds / {peer:12s} = {seconds['sds'] / seconds[peer]:6.2f}  (target {target})")


if __name__ == "__main__":
    main()
