"""Drift monitoring at scale: ``sds monitor`` on a 10,000,000-row request log against a
1,000,000-row reference, next to the same figures from pandas + numpy + scipy in memory.

The log has 10 numeric and 3 categorical inputs (``in_`` columns), a prediction, latency
and status, written in chunks as one Parquet file; two inputs are shifted. Each runner
runs in its own process (peak RSS from ``wait4``), 3 times; medians are printed with the
ratios. The script checks that both runners find the same PSI per feature (to 1e-9).

    python benchmarks/monitor_bench.py [--rows 10000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_child import run_child

OUT = Path(__file__).resolve().parent / "out" / "monitor"
NUMERIC = [f"x{i}" for i in range(10)]
CATEGORIES = ["plan", "region", "device"]


def _chunk(rng: np.random.Generator, n: int, shifted: bool, log: bool) -> dict[str, object]:
    data: dict[str, object] = {}
    for i, c in enumerate(NUMERIC):
        shift = 0.5 if shifted and i < 2 else 0.0
        data[c] = rng.normal(shift, 1 + 0.1 * i, n)
    for c, k in zip(CATEGORIES, (4, 12, 3), strict=True):
        data[c] = rng.choice(np.array([f"{c}{j}" for j in range(k)]), n)
    data["prediction"] = rng.beta(2, 5, n)
    if log:
        data = {f"in_{k}" if k != "prediction" else k: v for k, v in data.items()}
        data["latency_ms"] = rng.gamma(3, 0.7, n)
        data["status"] = np.where(rng.random(n) < 0.001, 500, 200)
    return data


def write(path: Path, rows: int, shifted: bool, log: bool, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, 1_000_000):
        table = pa.table(_chunk(rng, min(1_000_000, rows - start), shifted, log))
        writer = writer or pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def sds_child(reference: str, current: str) -> None:
    from sds.monitoring.report import monitor

    started = time.perf_counter()
    result = monitor(reference, current)
    psi = {f["feature"]: f["psi"] for f in result.features}
    print(json.dumps({"seconds": time.perf_counter() - started, "psi": psi}))


def pandas_child(reference: str, current: str) -> None:
    import pandas as pd
    from scipy import stats

    started = time.perf_counter()
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    cur = cur[cur["status"] == 200]  # answered requests only, as sds monitor reads a log
    psi = {}
    for c in NUMERIC:
        x, y = ref[c].to_numpy(), cur[f"in_{c}"].to_numpy()
        edges = np.concatenate(
            [[-np.inf], np.unique(np.quantile(x, np.linspace(0, 1, 11)[1:-1])), [np.inf]]
        )
        r = np.maximum(np.append(np.histogram(x, edges)[0], 0) / len(x), 1e-4)
        k = np.maximum(np.append(np.histogram(y, edges)[0], 0) / len(y), 1e-4)
        psi[c] = float(np.sum((k - r) * np.log(k / r)))
        stats.ks_2samp(x, y, method="asymp")
    for c in CATEGORIES:
        a = ref[c].value_counts()
        b = cur[f"in_{c}"].value_counts()
        levels = (a.add(b, fill_value=0)).sort_values(ascending=False).index[:20]
        r = np.append(a.reindex(levels, fill_value=0).to_numpy(), [0, 0]) / len(ref)
        k = np.append(b.reindex(levels, fill_value=0).to_numpy(), [0, 0]) / len(cur)
        r, k = np.maximum(r, 1e-4), np.maximum(k, 1e-4)
        psi[c] = float(np.sum((k - r) * np.log(k / r)))
    print(json.dumps({"seconds": time.perf_counter() - started, "psi": psi}))


def main() -> None:
    parser = argparse.ArgumentParser(description="sds monitor on a 10M-row log vs pandas.")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    reference, current = OUT / "reference.parquet", OUT / f"log-{args.rows}.parquet"
    write(reference, 1_000_000, shifted=False, log=False, seed=1)
    write(current, args.rows, shifted=True, log=True, seed=2)
    results: dict[str, list[tuple[float, float, dict[str, float]]]] = {}
    for runner in ("sds", "pandas"):
        for _ in range(args.runs):
            out, rss = run_child(
                [sys.executable, __file__, "--child", runner, str(reference), str(current)]
            )
            data = json.loads(out.strip().splitlines()[-1])
            results.setdefault(runner, []).append((data["seconds"], rss, data["psi"]))
    sds_psi, pandas_psi = results["sds"][0][2], results["pandas"][0][2]
    worst = max(abs(sds_psi[c] - pandas_psi[c]) for c in pandas_psi)
    print(f"rows: {args.rows:,} log, 1,000,000 reference; PSI agreement max diff {worst:.1e}")
    print(f"{'runner':<8}{'seconds':>10}{'peak RSS GB':>14}")
    medians = {}
    for runner, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        medians[runner] = (seconds, rss)
        print(f"{runner:<8}{seconds:>10.2f}{rss:>14.2f}")
    (s_sec, s_rss), (p_sec, p_rss) = medians["sds"], medians["pandas"]
    print(f"sds / pandas: time {s_sec / p_sec:.2f}x, memory {s_rss / p_rss:.2f}x")
    alerts = sorted(c for c, v in sds_psi.items() if v >= 0.2)
    print(f"features in alert: {', '.join(alerts) or 'none'} (planted: x0, x1)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        {"sds": sds_child, "pandas": pandas_child}[sys.argv[2]](sys.argv[3], sys.argv[4])
    else:
        main()
