"""Drift monitoring at scale: ``sds monitor`` on a 10,000,000-row request log against a
1,000,000-row reference, next to pandas + numpy + scipy in memory and Evidently.

The log has 10 numeric and 3 categorical inputs (``in_`` columns), a prediction, latency
and status, written in chunks as one Parquet file (made once, in benchmarks/out/monitor);
two inputs are shifted. Each runner runs in its own process (peak RSS from ``wait4``):
sds and pandas ``--runs`` times each, interleaved, Evidently ``--evidently-runs`` times
(default 1: it takes minutes). Medians are printed as a table with the ratios, and the
agreement of sds with pandas/scipy: PSI per feature, and sds's KS statistic against
``scipy.stats.ks_2samp`` with sds's stated error bound.

Evidently (0.7.x, ``DataDriftPreset`` on the same 13 inputs, both files read with pandas)
runs from its own virtual environment, benchmarks/out/evidently-venv, made on first use
with pip (Evidently needs ``pandas<3``).

    python benchmarks/monitor_bench.py [--rows 10000000] [--runs 3] [--evidently-runs 1]
        [--skip-evidently]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_child import run_child

OUT = Path(__file__).resolve().parent / "out" / "monitor"
EVIDENTLY_VENV = Path(__file__).resolve().parent / "out" / "evidently-venv"
EVIDENTLY_PYTHON = EVIDENTLY_VENV / "bin" / "python"
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
    seconds = time.perf_counter() - started
    psi = {f["feature"]: f["psi"] for f in result.features}
    ks = {f["feature"]: [f["ks"], f["ks_error_bound"]] for f in result.features if "ks" in f}
    print(json.dumps({"seconds": seconds, "psi": psi, "ks": ks}))


def pandas_child(reference: str, current: str) -> None:
    import pandas as pd
    from scipy import stats

    started = time.perf_counter()
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    cur = cur[cur["status"] == 200]  # answered requests only, as sds monitor reads a log
    psi, ks = {}, {}
    for c in NUMERIC:
        x, y = ref[c].to_numpy(), cur[f"in_{c}"].to_numpy()
        edges = np.concatenate(
            [[-np.inf], np.unique(np.quantile(x, np.linspace(0, 1, 11)[1:-1])), [np.inf]]
        )
        r = np.maximum(np.append(np.histogram(x, edges)[0], 0) / len(x), 1e-4)
        k = np.maximum(np.append(np.histogram(y, edges)[0], 0) / len(y), 1e-4)
        psi[c] = float(np.sum((k - r) * np.log(k / r)))
        ks[c] = float(stats.ks_2samp(x, y, method="asymp").statistic)
    for c in CATEGORIES:
        a = ref[c].value_counts()
        b = cur[f"in_{c}"].value_counts()
        levels = (a.add(b, fill_value=0)).sort_values(ascending=False).index[:20]
        r = np.append(a.reindex(levels, fill_value=0).to_numpy(), [0, 0]) / len(ref)
        k = np.append(b.reindex(levels, fill_value=0).to_numpy(), [0, 0]) / len(cur)
        r, k = np.maximum(r, 1e-4), np.maximum(k, 1e-4)
        psi[c] = float(np.sum((k - r) * np.log(k / r)))
    print(json.dumps({"seconds": time.perf_counter() - started, "psi": psi, "ks": ks}))


EVIDENTLY_CHILD = """
import json, sys, time
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

numeric, categories = json.loads(sys.argv[3]), json.loads(sys.argv[4])
started = time.perf_counter()
ref = pd.read_parquet(sys.argv[1], columns=numeric + categories)
cur = pd.read_parquet(sys.argv[2], columns=[f"in_{c}" for c in numeric + categories] + ["status"])
cur = cur[cur["status"] == 200].drop(columns="status").rename(columns=lambda c: c[3:])
definition = DataDefinition(numerical_columns=numeric, categorical_columns=categories)
snapshot = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(cur, data_definition=definition),
    Dataset.from_pandas(ref, data_definition=definition),
)
seconds = time.perf_counter() - started
drifted = []
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift") and metric["value"] >= config["threshold"]:
        drifted.append(config["column"])
print(json.dumps({"seconds": seconds, "drifted": drifted}))
"""


def ensure_evidently() -> str | None:
    """None when the Evidently venv is ready, else why not."""
    if EVIDENTLY_PYTHON.exists():
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        pip = [str(EVIDENTLY_PYTHON), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "evidently==0.7.*", "pandas<3", "pyarrow"], check=True, timeout=1200)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"Evidently could not be installed: {exc}"
    return None


def run(runner: str, reference: Path, current: Path) -> tuple[dict[str, object], float]:
    """One run of a runner in a fresh process: its JSON line and peak RSS (GB)."""
    if runner == "evidently":
        args = [str(EVIDENTLY_PYTHON), "-c", EVIDENTLY_CHILD, str(reference), str(current)]
        args += [json.dumps(NUMERIC), json.dumps(CATEGORIES)]
    else:
        args = [sys.executable, __file__, "--child", runner, str(reference), str(current)]
    out, rss = run_child(args)
    data: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return data, rss


def agreement(sds: dict[str, object], pandas: dict[str, object]) -> str:
    """PSI and KS of sds against the in-memory runner (scipy's ks_2samp)."""
    sds_psi, pandas_psi = sds["psi"], pandas["psi"]
    assert isinstance(sds_psi, dict) and isinstance(pandas_psi, dict)
    worst_psi = max(abs(sds_psi[c] - pandas_psi[c]) for c in pandas_psi)
    sds_ks, scipy_ks = sds["ks"], pandas["ks"]
    assert isinstance(sds_ks, dict) and isinstance(scipy_ks, dict)
    gaps = {c: abs(sds_ks[c][0] - scipy_ks[c]) for c in scipy_ks}
    bound = max(sds_ks[c][1] for c in scipy_ks)
    inside = all(gaps[c] <= sds_ks[c][1] + 1e-12 for c in scipy_ks)
    return (
        f"PSI max |sds - pandas| {worst_psi:.1e}; KS max |sds - scipy ks_2samp| "
        f"{max(gaps.values()):.1e}, largest stated bound {bound:.1e}, every gap within "
        f"its bound: {'yes' if inside else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="sds monitor on a 10M-row log vs pandas + scipy and Evidently."
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of sds and of pandas")
    parser.add_argument("--evidently-runs", type=int, default=1)
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    reference, current = OUT / "reference.parquet", OUT / f"log-{args.rows}.parquet"
    write(reference, 1_000_000, shifted=False, log=False, seed=1)
    write(current, args.rows, shifted=True, log=True, seed=2)
    skipped = "skipped (--skip-evidently)" if args.skip_evidently else ensure_evidently()
    load = {"before": os.getloadavg()[0]}
    results: dict[str, list[tuple[dict[str, object], float]]] = {}
    for _ in range(args.runs):  # interleaved, so a change of load hits both alike
        for runner in ("sds", "pandas"):
            results.setdefault(runner, []).append(run(runner, reference, current))
    if skipped is None:
        for _ in range(args.evidently_runs):
            results.setdefault("evidently", []).append(run("evidently", reference, current))
    load["after"] = os.getloadavg()[0]
    report(args.rows, results, skipped, load)


def report(
    rows: int,
    results: dict[str, list[tuple[dict[str, object], float]]],
    skipped: str | None,
    load: dict[str, float],
) -> None:
    print(
        f"rows: {rows:,} log, 1,000,000 reference; load average {load['before']:.1f} "
        f"before, {load['after']:.1f} after"
    )
    print(agreement(results["sds"][0][0], results["pandas"][0][0]))
    print("| runner | runs | seconds (median) | peak RSS GB (median) |")
    print("|---|---|---|---|")
    medians = {}
    for runner, runs in results.items():
        seconds = statistics.median(float(str(r[0]["seconds"])) for r in runs)
        rss = statistics.median(r[1] for r in runs)
        medians[runner] = (seconds, rss)
        print(f"| {runner} | {len(runs)} | {seconds:.2f} | {rss:.2f} |")
    s_sec, s_rss = medians["sds"]
    for peer in ("pandas", "evidently"):
        if peer in medians:
            p_sec, p_rss = medians[peer]
            print(f"sds / {peer}: time {s_sec / p_sec:.3f}x, memory {s_rss / p_rss:.3f}x")
    if skipped:
        print(f"evidently: {skipped}")
    sds_psi = results["sds"][0][0]["psi"]
    assert isinstance(sds_psi, dict)
    alerts = sorted(c for c, v in sds_psi.items() if v >= 0.2)
    print(f"sds features in alert: {', '.join(alerts) or 'none'} (planted: x0, x1)")
    if "evidently" in results:
        print(f"evidently drifted columns: {results['evidently'][0][0]['drifted']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        {"sds": sds_child, "pandas": pandas_child}[sys.argv[2]](sys.argv[3], sys.argv[4])
    else:
        main()
