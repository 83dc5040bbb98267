"""Analysis benchmark: ``sds.analyze`` against the hand-written floor and tea-tasting.

1. Generates a unit-level A/B table (``--units`` rows, default 10,000,000) as Parquet in
   ``benchmarks/out/analysis/`` (kept for later runs).
2. Runs, each in a child process ``--repeat`` times, the runners interleaved (one round of
   every runner, then the next round) so that a change in the machine's load hits them
   alike: the first call's wall time (cold: imports included, what one ``sds analyze``
   costs), the median of 3 more calls in the same process (warm: the analysis itself), and
   the child's peak resident memory (``wait4``). Medians over the rounds are printed:
   - ``sds``: 3 metrics (conversion, revenue per user with CUPED, orders per session as a
     ratio), 2 segment columns and a daily breakdown: effects, SRM, balance, segment tables,
     novelty by cohort, daily SRM and cumulative effect;
   - ``floor``: one hand-written DuckDB ``GROUP BY variant, platform, country, day`` that
     computes the same sums and cross-products (the least any tool must do);
   - ``sds, overall only``: the same spec without ``segments`` and ``date`` (effects, SRM
     and balance: what tea-tasting reports);
   - ``tea-tasting``: the same 3 metrics, overall only (it has no segment or daily
     breakdown), on an ibis DuckDB table of the same file (its aggregates are pushed down too);
   - ``tea-tasting, same breakdowns``: what its user runs for the same report: overall, once
     per segment level, and once per day for the cumulative effect.
3. With ``--events-users N``: generates the event-level test (about 11.8 rows per user, so
   8,500,000 users give about 100,000,000 rows) and runs ``sds.analyze`` on it once with a
   3 GB engine memory limit, reporting time and peak memory.

Run on a quiet machine: ``make bench`` or ``.venv/bin/python benchmarks/analysis_bench.py``
(``--units 1000000`` for a quick check, ``--repeat 5`` for steadier medians,
``--only "sds, overall only" tea-tasting`` for one pair). It prints two Markdown tables to
paste into benchmarks/README.md. tea-tasting is in the ``bench`` extra
(``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_child import run_child

OUT = Path(__file__).parent / "out" / "analysis"

SPEC: dict[str, Any] = {
    "unit": "user_id",
    "variant": "variant",
    "control": "control",
    "variants": ["control", "treatment"],
    "grain": "unit",
    "date": "assigned_at",
    "segments": ["platform", "country"],
    "metrics": [
        {"name": "conversion", "type": "proportion", "column": "converted"},
        {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre_revenue"},
        {"name": "ops", "type": "ratio", "numerator": "orders", "denominator": "sessions"},
    ],
}

OVERALL_SPEC = {k: v for k, v in SPEC.items() if k not in ("segments", "date")}

EVENT_SPEC: dict[str, Any] = {
    "unit": "user_id",
    "variant": "variant",
    "control": "control",
    "grain": "event",
    "date": "ts",
    "segments": ["platform"],
    "metrics": [
        {"name": "ops", "type": "ratio", "numerator": "orders", "denominator": "sessions"},
        {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre_revenue"},
        {"name": "conversion", "type": "proportion", "column": "converted"},
    ],
}

FLOOR_SQL = """
SELECT variant, platform, country, CAST(date_trunc('day', assigned_at) AS DATE) AS day,
       count(*) AS n,
       sum(converted) AS s_conv,
       sum(revenue) AS s_rev, sum(revenue * revenue) AS c_rev_rev,
       sum(pre_revenue) AS s_pre, sum(pre_revenue * pre_revenue) AS c_pre_pre,
       sum(revenue * pre_revenue) AS c_rev_pre,
       sum(orders) AS s_ord, sum(orders * orders) AS c_ord_ord,
       sum(sessions) AS s_ses, sum(sessions * sessions) AS c_ses_ses,
       sum(orders * sessions) AS c_ord_ses
FROM read_parquet('{path}')
GROUP BY ALL
"""


def run_sds(path: str) -> None:
    import sds

    sds.analyze(path, SPEC)


def run_sds_overall(path: str) -> None:
    import sds

    sds.analyze(path, OVERALL_SPEC)


def run_floor(path: str) -> None:
    import duckdb

    duckdb.connect().execute(FLOOR_SQL.format(path=path)).fetchall()


def _tea(path: str) -> tuple[Any, Any]:
    """tea-tasting's experiment with the same 3 metrics, and the file as an ibis table."""
    import ibis
    import tea_tasting as tt

    table = ibis.duckdb.connect().read_parquet(path)
    experiment = tt.Experiment(
        conversion=tt.Mean("converted"),
        revenue=tt.Mean("revenue", covariate="pre_revenue"),
        ops=tt.RatioOfMeans("orders", "sessions"),
    )
    return experiment, table


def run_tea(path: str) -> None:
    experiment, table = _tea(path)
    experiment.analyze(table, control="control")


def run_tea_breakdowns(path: str) -> None:
    """What a tea-tasting user runs for the same report: overall, each segment level, and
    the cumulative effect at the end of each day (tea-tasting has no breakdown option)."""
    experiment, table = _tea(path)
    experiment.analyze(table, control="control")
    for column in ("platform", "country"):
        for level in table.select(column).distinct().execute()[column]:
            experiment.analyze(table.filter(table[column] == level), control="control")
    day = table["assigned_at"].date()
    for last in sorted(table.select(day=day).distinct().execute()["day"]):
        experiment.analyze(table.filter(day <= last), control="control")


def run_events(path: str) -> None:
    import sds
    from sds.config import settings

    with settings(memory_limit="3GB", temp_directory=str(OUT / "spill")):
        result = sds.analyze(EVENT_SPEC, path)
    print(f"  verdict {result.verdict}; units {result.units}", file=sys.stderr)


RUNNERS = {
    "floor": run_floor,
    "sds": run_sds,
    "sds, overall only": run_sds_overall,
    "tea-tasting": run_tea,
    "tea-tasting, same breakdowns": run_tea_breakdowns,
    "events": run_events,
}


def _child(name: str, path: Path, warm: int = 0) -> tuple[float, float, float]:
    """Seconds of the first run (imports included), median seconds of ``warm`` more runs
    in the same process, and the child's peak RSS in GB."""
    args = [sys.executable, __file__, "--child", name, str(path), str(warm)]
    out, peak = run_child(args)
    times = json.loads(out.strip().splitlines()[-1])
    return times["cold"], times["warm"], peak


def _generate(name: str, path: Path, **params: Any) -> None:
    from sds.data import synth

    if not path.exists():
        print(f"generating {name} {params} -> {path}", flush=True)
        synth.write_parquet(name, path, seed=1, progress=True, **params)


RATIOS = (  # (sds runner, peer, target)
    ("sds", "floor", "<= 1.5"),
    ("sds", "tea-tasting, same breakdowns", "< 1"),
    ("sds, overall only", "tea-tasting", "<= 1"),
)


def _compare(path: Path, repeat: int, only: list[str] | None = None) -> None:
    """Cold: a fresh process's first call (what one ``sds analyze`` costs, imports included).
    Warm: later calls in the same process (the analysis itself). Rounds interleave the
    runners; each figure is the median over the rounds."""
    names = [n for n in RUNNERS if n != "events" and (not only or n in only)]
    runs: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    for round_ in range(repeat):
        for name in names:
            runs[name].append(_child(name, path, warm=3))
        print(f"  round {round_ + 1} of {repeat} done", file=sys.stderr, flush=True)
    cold = {n: statistics.median(r[0] for r in runs[n]) for n in names}
    warm = {n: statistics.median(r[1] for r in runs[n]) for n in names}
    print("| runner | cold s | warm s | peak RSS GB |\n|---|---|---|---|")
    for name in names:
        peak = max(r[2] for r in runs[name])
        print(f"| {name} | {cold[name]:.3f} | {warm[name]:.3f} | {peak:.2f} |")
    print("\n| ratio | cold | warm | target |\n|---|---|---|---|")
    for ours, peer, target in RATIOS:
        if ours not in names or peer not in names:
            continue
        print(
            f"| {ours} / {peer} | {cold[ours] / cold[peer]:.3f} | "
            f"{warm[ours] / warm[peer]:.3f} | {target} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--events-users", type=int, default=0)
    parser.add_argument(
        "--only", nargs="+", metavar="RUNNER", help="run only these runners (names as printed)"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("RUNNER", "PATH", "WARM"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        name, path, warm = args.child
        times = []
        for _ in range(1 + int(warm)):
            start = time.perf_counter()
            RUNNERS[name](path)
            times.append(time.perf_counter() - start)
        later = statistics.median(times[1:]) if len(times) > 1 else float("nan")
        print(json.dumps({"cold": times[0], "warm": later}))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    units = OUT / f"ab_{args.units}.parquet"
    _generate("ab_test", units, n_users=args.units)
    print(
        f"{args.units:,} units, 3 metrics (sds: 2 segments and daily, or overall only); "
        f"median of {args.repeat} interleaved rounds"
    )
    _compare(units, args.repeat, args.only)
    if args.events_users:
        events = OUT / f"ab_events_{args.events_users}.parquet"
        _generate("ab_events", events, n_users=args.events_users)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(events).metadata.num_rows
        seconds, _, peak = _child("events", events)
        print(f"event level: {rows:,} rows, {seconds:.1f} s, peak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()
