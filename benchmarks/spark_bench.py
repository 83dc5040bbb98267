"""Each engine-backed job on 10,000,000 rows, on DuckDB and on a local Spark, in one run.

Jobs: profile (churn table), experiment analysis (unit-level A/B test: proportion, CUPED
mean, ratio, two segments, daily breakdown), assignment of every id in SQL (counted per
variant), point-in-time features (7/30/90-day windows and RFM over about 10M events,
written to Parquet) and drift (10M reference rows against 10M current rows).

Each (engine, job) runs in its own process: *cold* is the first call (imports and, for
Spark, starting the session and its JVM), *warm* the median of the later calls in the same
process. Peak memory is the resident size of the whole process tree (Python plus Spark's
JVM), sampled every 0.1 s. ``--spark-memory`` sizes the local Spark driver (default 8GB).
For Spark it also counts the Spark jobs and stages one warm call launched (Spark's status
tracker), the figure to watch when batching or removing queries.

Run: ``make bench-spark`` (all jobs, about 25 min), or a subset on fewer rows while working:
``PYTHONPATH=src python benchmarks/spark_bench.py --jobs profile,drift --rows 1000000``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analysis_bench import SPEC as ANALYSIS  # the same experiment analysis_bench.py times

OUT = Path(__file__).parent / "out" / "spark"
JOBS = ("profile", "analysis", "assignment", "features", "drift")
FEATURES: dict[str, Any] = {
    "entity": "customer_id",
    "timestamp": "ts",
    "cutoff": "2025-12-01",
    "windows": ["7d", "30d", "90d"],
    "aggregations": [{"column": "amount", "functions": ["nonnull", "sum", "mean"]}],
    "rfm": {"monetary": "amount"},
}


def _files(rows: int) -> dict[str, Path]:
    return {
        "ab": OUT / f"ab_{rows}.parquet",
        "churn": OUT / f"churn_{rows}.parquet",
        "churn_later": OUT / f"churn_later_{rows}.parquet",
        "events": OUT / f"transactions_{rows}.parquet",
    }


def _generate(rows: int) -> None:
    from sds.data import synth

    OUT.mkdir(parents=True, exist_ok=True)
    f = _files(rows)
    plans: list[tuple[Path, str, dict[str, Any]]] = [
        (f["ab"], "ab_test", {"n_users": rows, "seed": 1}),
        (f["churn"], "churn", {"n_rows": rows, "seed": 1}),
        (f["churn_later"], "churn", {"n_rows": rows, "seed": 2}),
        (
            f["events"],
            "transactions",
            {"n_customers": rows // 10, "mean_per_month": 10 / (0.75 * 12), "seed": 1},
        ),
    ]
    for path, name, params in plans:
        if not path.exists():
            print(f"generating {name} {params} -> {path}", flush=True)
            synth.write_parquet(name, path, progress=True, **params)


def _job(name: str, rows: int, scratch: Path) -> Callable[[], Any]:
    f = {k: str(v) for k, v in _files(rows).items()}

    def profile() -> Any:
        from sds.features.profile import profile

        return profile(f["churn"]).n_rows

    def analysis() -> Any:
        from sds.experiments.analysis.run import analyze

        return analyze(ANALYSIS, f["ab"]).verdict

    def assignment() -> Any:
        from sds.data.io import open_table
        from sds.experiments.assign import assign_table

        table = open_table(f["ab"])
        expr = assign_table(table, "user_id", "bench", ["a", "b", "c"], [0.5, 0.25, 0.25])
        counts = expr.group_by("variant").aggregate(n=expr.count())
        return table.engine.execute(counts, source=table.name)["n"].sum()

    def features() -> Any:
        from sds.features.build import build

        return build(FEATURES, f["events"], output=scratch / "features.parquet")[0].rows

    def drift() -> Any:
        from sds.monitoring.report import monitor

        return monitor(f["churn"], f["churn_later"]).alerts

    jobs: dict[str, Callable[[], Any]] = {
        "profile": profile,
        "analysis": analysis,
        "assignment": assignment,
        "features": features,
        "drift": drift,
    }
    return jobs[name]


def _spark_jobs() -> tuple[set[int], Callable[[int], int]]:
    """The ids of the Spark jobs run so far, and a function giving a job's stage count."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        return set(), lambda job: 0
    tracker = session.sparkContext.statusTracker()

    def stages(job: int) -> int:
        info = tracker.getJobInfo(job)
        return len(info.stageIds) if info is not None else 0

    return set(tracker.getJobIdsForGroup(None)), stages


def _child(engine: str, job: str, rows: int, warm: int, memory: str) -> None:
    from sds.config import settings

    scratch = OUT / f"scratch_{engine}"
    scratch.mkdir(parents=True, exist_ok=True)
    fn = _job(job, rows, scratch)
    times = []
    launched = (0, 0)  # Spark jobs and stages of the last call
    overrides = {"engine": engine, "progress": False}
    if engine == "spark":
        overrides |= {"spark_master": "local[*]", "memory_limit": memory}
    with settings(**overrides):
        for _ in range(1 + warm):
            before = _spark_jobs()[0] if engine == "spark" else set()
            start = time.perf_counter()
            answer = fn()
            times.append(time.perf_counter() - start)
            if engine == "spark":
                after, stages = _spark_jobs()
                new = after - before
                launched = (len(new), sum(stages(j) for j in new))
    print(json.dumps({"times": times, "answer": str(answer), "launched": launched}))


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _measure(args: list[str]) -> tuple[dict[str, Any], float]:
    """The child's JSON line and the peak RSS (GB) of its process tree."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {' '.join(args)}")
    return json.loads(out.strip().splitlines()[-1]), peak[0] / 1024**3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--warm", type=int, default=3, help="warm runs per process")
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--spark-memory", default="8GB")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.rows, args.warm, args.spark_memory)
        return
    _generate(args.rows)
    print(
        f"{args.rows:,} rows a job; cold = first call in a fresh process, warm = median of "
        f"{args.warm} more; peak = process tree RSS (Python + JVM)"
    )
    header = (
        f"{'job':12s} {'engine':7s} {'cold s':>8s} {'warm s':>8s} {'peak GB':>8s} "
        f"{'spark jobs/stages a call':>25s}"
    )
    print(header, flush=True)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    for job in args.jobs.split(","):
        results[job] = {}
        answers = {}
        for engine in ("duckdb", "spark"):
            cmd = [sys.executable, __file__, "--child", engine, job, "--rows", str(args.rows)]
            cmd += ["--warm", str(args.warm), "--spark-memory", args.spark_memory]
            out, peak = _measure(cmd)
            cold, warm = out["times"][0], statistics.median(out["times"][1:])
            results[job][engine] = (cold, warm, peak)
            answers[engine] = out["answer"]
            jobs, stages = out["launched"]
            launched = f"{jobs}/{stages}" if engine == "spark" else "-"
            print(
                f"{job:12s} {engine:7s} {cold:8.1f} {warm:8.1f} {peak:8.2f} {launched:>25s}",
                flush=True,
            )
        d, s = results[job]["duckdb"], results[job]["spark"]
        same = "same answer" if answers["duckdb"] == answers["spark"] else f"DIFFERENT {answers}"
        print(
            f"{job:12s} spark/duckdb: cold {s[0] / d[0]:.1f}x, warm {s[1] / d[1]:.1f}x, "
            f"peak memory {s[2] / d[2]:.1f}x ({same})",
            flush=True,
        )
    (OUT / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
