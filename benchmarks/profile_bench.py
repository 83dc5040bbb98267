"""Profile benchmark: sds against pandas on the same data, plus peak memory at 10M rows.

1. Generates the churn table (18 columns: numbers, strings, nulls, high cardinality) as
   Parquet: ``--rows`` rows (default 10,000,000) and a 1,000,000-row sample.
2. Runs ``sds profile BIG -f json`` in a child process ``--repeat`` times and reports the
   median wall time and the child's peak resident memory (from ``wait4``).
3. On the sample, times ``sds.profile`` against the pandas equivalent (read the Parquet,
   ``describe(include="all")``, null counts, ``nunique``, ``duplicated``, value counts)
   and prints the ratio of medians.

Run: ``make bench`` or ``.venv/bin/python benchmarks/profile_bench.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def _generate(rows: int, path: Path) -> None:
    from sds.data import synth

    if not path.exists():
        print(f"generating {rows:,} rows -> {path}", flush=True)
        synth.write_parquet("churn", path, seed=1, n_rows=rows)


def _child_run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {' '.join(args)}")
    return elapsed, usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux


def _pandas_profile(path: Path) -> None:
    import pandas as pd

    df = pd.read_parquet(path)
    df.describe(include="all")
    df.isna().sum()
    df.nunique()
    df.duplicated().sum()
    for col in df.columns:
        df[col].value_counts().head(10)


def _sds_profile(path: Path) -> None:
    import sds

    sds.profile(str(path))


def _median_seconds(fn: object, path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(path)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    big, sample = OUT / f"churn_{args.rows}.parquet", OUT / f"churn_{args.sample}.parquet"
    _generate(args.rows, big)
    _generate(args.sample, sample)

    sds_exe = str(Path(sys.executable).parent / "sds")
    runs = [
        _child_run([sds_exe, "--no-progress", "profile", str(big), "-f", "json"])
        for _ in range(args.repeat)
    ]
    wall = statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    print(f"sds profile, {args.rows:,} rows x 18 columns (child process, {args.repeat} runs):")
    print(f"  median wall {wall:.1f} s, peak memory {peak:.2f} GB (target < 2 GB)")

    _sds_profile(sample)  # warm imports and the engine once, for both sides' fairness
    _pandas_profile(sample)
    t_sds = _median_seconds(_sds_profile, sample, args.repeat)
    t_pd = _median_seconds(_pandas_profile, sample, args.repeat)
    print(f"{args.sample:,}-row sample, median of {args.repeat}:")
    print(
        f"  sds.profile {t_sds:.2f} s | pandas describe+nulls+nunique+duplicated+value_counts "
        f"{t_pd:.2f} s | ratio sds/pandas {t_sds / t_pd:.2f}"
    )


if __name__ == "__main__":
    main()
