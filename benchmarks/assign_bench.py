"""Assignment benchmark: 10,000,000 ids hashed in the engine against pure-Python hashlib.

Prints the engine's median wall time and rate over 3 runs, and the Python path's rate on a
200,000-id sample, with the ratio. Run: ``.venv/bin/python benchmarks/assign_bench.py``.
"""

from __future__ import annotations

import statistics
import time

from sds.data.io import open_table
from sds.experiments.assign import assign, assign_table

N = 10_000_000
SAMPLE = 200_000


def _engine_seconds() -> float:
    table = open_table(f"SELECT range AS user_id FROM range({N})")
    expr = assign_table(table, "user_id", "bench", ["control", "treatment"], [50, 50])
    start = time.perf_counter()
    table.engine.execute(expr.group_by("variant").aggregate(n=expr.count()))
    return time.perf_counter() - start


def main() -> None:
    engine = statistics.median(_engine_seconds() for _ in range(3))
    start = time.perf_counter()
    assign(range(SAMPLE), "bench", ["control", "treatment"], [50, 50])
    python = time.perf_counter() - start
    engine_rate, python_rate = N / engine, SAMPLE / python
    print(f"engine (DuckDB SQL): {N:,} ids in {engine:.2f} s = {engine_rate:,.0f} ids/s")
    print(f"python (hashlib):    {SAMPLE:,} ids in {python:.2f} s = {python_rate:,.0f} ids/s")
    print(f"engine / python rate: {engine_rate / python_rate:.1f}x")


if __name__ == "__main__":
    main()
