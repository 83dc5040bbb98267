"""Serving benchmark: ``sds serve`` against the servers a user would run without sds, and
against the floor (a no-op ASGI app under granian with sds's settings), in one run.

Models: a 30-feature logistic-regression pipeline and a gradient-boosting model (scikit-
learn's HistGradientBoosting), trained by ``sds train`` on generated data; the plain peers
serve a StandardScaler + LogisticRegression and a HistGradientBoostingClassifier fitted
directly on the same data (see ``serving_peers.py`` for each server). Servers listen on
127.0.0.1; the load comes from a separate process (``benchmarks/loadgen.py``: asyncio,
keep-alive) with single-row requests at 1, 8 and 32 connections, ``--seconds`` each after
a 1 s warm-up. sds and the floor run 2 granian workers; each peer runs with 1 and with 2
workers and keeps its better figure at each concurrency. The servers run one after the
other within each of ``--repeats`` rounds (interleaved, so load on the machine hits them
alike); the figures are medians over the rounds. Prints a table per model and
concurrency (req/s, P50/P95/P99 ms, errors), the ratios sds / best peer and sds / floor,
and the targets; writes ``benchmarks/out/serving.json``.

BentoML and mlflow run from their own virtual environments under ``benchmarks/out``
(installed on first use); if one cannot be installed or started, the script says why and
goes on.

Full run (about 30 minutes; what the README reports)::

    python benchmarks/serving.py --seconds 8 --repeats 3

Quick look at sds against its floor::

    python benchmarks/serving.py --seconds 3 --repeats 1 --servers sds,floor --models logistic
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import serving_peers as peers

ROOT = peers.ROOT
OUT = peers.OUT
THREADS_1 = peers.THREADS_1  # reliability.py and hostile_bench.py import these from here
wait_ready = peers.wait_ready
SERVERS = ("sds", "floor", "fastapi-plain", "fastapi-sds", "bentoml", "mlflow")
PEERS = ("fastapi-plain", "fastapi-sds", "bentoml", "mlflow")
FIGURES = ("rps", "p50_ms", "p95_ms", "p99_ms", "errors")


def train_models() -> dict[str, Path]:
    from sds.models.run import train_model

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(20_000, 30)), columns=[f"f{i:02d}" for i in range(30)])
    logit = x.iloc[:, :10].to_numpy() @ rng.normal(size=10)
    x["y"] = (rng.random(len(x)) < 1 / (1 + np.exp(-logit))).astype(int)
    OUT.mkdir(parents=True, exist_ok=True)
    if not (OUT / "data.parquet").exists():
        x.to_parquet(OUT / "data.parquet")
    models = {}
    for name, candidate in (("logistic", "logistic"), ("boosting", "hgb")):
        folder = OUT / name
        if not (folder / "model" / "model.json").exists():
            train_model(
                {
                    "name": name,
                    "data": str(OUT / "data.parquet"),
                    "target": "y",
                    "candidates": [{"name": candidate, "tune": False}],
                    "tuning": {"folds": 2},
                },
                output=folder,
                track=False,
            )
        models[name] = folder / "model"
    return models


def train_plain() -> dict[str, Path]:
    """The models a user fits without sds, on the same rows, saved with joblib."""
    import joblib
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = pd.read_parquet(OUT / "data.parquet")
    x, y = data.drop(columns="y"), data["y"]
    out = {}
    for name, estimator in (
        ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
        ("boosting", HistGradientBoostingClassifier(random_state=0)),
    ):
        path = OUT / f"plain-{name}.joblib"
        if not path.exists():
            joblib.dump(estimator.fit(x, y), path)
        out[name] = path
    return out


def load(
    url: str, body: bytes, connections: int, seconds: float, rate: float = 0.0
) -> dict[str, float]:
    """``loadgen.py`` in its own process: as fast as answered, or paced at ``rate``."""
    body_file = OUT / "body.json"
    body_file.write_bytes(body)
    command = [
        peers.PYTHON,
        str(ROOT / "benchmarks" / "loadgen.py"),
        *(url, str(body_file), "--connections", str(connections)),
        *("--requests", "100000000", "--seconds", str(seconds), "--rate", str(rate)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    out: dict[str, float] = json.loads(done.stdout)
    return out


def start(kind: str, model: Path, workers: int = 2) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server on an sds model (``reliability.py`` uses it): its process, URL, body kind."""
    plain = OUT / f"plain-{model.parent.name}.joblib"
    return peers.start(kind, model, plain, workers)


def measure(
    kind: str, model: Path, plain: Path, workers: int, args: argparse.Namespace, bodies: dict
) -> list[dict[str, float]]:
    process, url, body = peers.start(kind, model, plain, workers)
    rows = []
    try:
        for c in args.connections:
            load(url, bodies[body], c, 1.0)  # warm-up
            rows.append({"connections": c, **load(url, bodies[body], c, args.seconds)})
    finally:
        peers.stop(process)
    return rows


def run_round(
    models: dict[str, Path], plain: dict[str, Path], args: argparse.Namespace, bodies: dict
) -> tuple[list[dict], dict[str, str]]:
    rows, failed = [], {}
    for name in args.models:
        for kind in args.servers:
            if kind in failed:
                continue
            for workers in (2,) if kind in ("sds", "floor") else (1, 2):
                try:
                    got = measure(kind, models[name], plain[name], workers, args, bodies)
                except (RuntimeError, subprocess.CalledProcessError) as exc:
                    failed[kind] = f"could not run: {exc}"
                    print(f"{kind}: {failed[kind]}", flush=True)
                    break
                for row in got:
                    row = {"model": name, "server": kind, "workers": workers, **row}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    return rows, failed


def summarise(rows: list[dict]) -> pd.DataFrame:
    """Medians over the rounds, then each server's better worker count per concurrency."""
    frame = pd.DataFrame(rows)
    keys = ["model", "server", "workers", "connections"]
    medians = frame.groupby(keys, sort=False)[list(FIGURES)].median().reset_index()
    medians["rounds"] = frame.groupby(keys, sort=False).size().to_numpy()
    best = medians.loc[
        medians.groupby(["model", "server", "connections"], sort=False)["rps"].idxmax()
    ]
    return best.reset_index(drop=True)


def ratios(best: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (model, c), group in best.groupby(["model", "connections"], sort=False):
        by = group.set_index("server")
        if "sds" not in by.index:
            continue
        row: dict = {"model": model, "connections": c}
        present = [p for p in PEERS if p in by.index]
        if present:
            top = max(present, key=lambda p: by.loc[p, "rps"])
            row["best_peer"] = top
            row["sds_vs_best_peer"] = by.loc["sds", "rps"] / by.loc[top, "rps"]
        if "floor" in by.index:
            row["sds_vs_floor"] = by.loc["sds", "rps"] / by.loc["floor", "rps"]
        out.append(row)
    return pd.DataFrame(out)


def targets(best: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    lines = []
    for row in table.to_dict("records"):
        c, model = row["connections"], row["model"]
        sds = best[(best.model == model) & (best.server == "sds") & (best.connections == c)]
        checks = [f"errors {int(sds.errors.iloc[0])} (0)"]
        if "sds_vs_best_peer" in row and c >= 8:
            checks.append(f"vs best peer {row['sds_vs_best_peer']:.1f}x (>= 5x)")
        if c == 32:
            checks.append(f"P99 {sds.p99_ms.iloc[0]:.1f} ms (< 15)")
        if "sds_vs_floor" in row and not pd.isna(row["sds_vs_floor"]):
            checks.append(f"of floor {row['sds_vs_floor']:.0%} (>= 60%)")
        lines.append(f"{model} @ {c}: " + ", ".join(checks))
    return lines


def report(rows: list[dict], failed: dict[str, str], args: argparse.Namespace) -> None:
    best = summarise(rows)
    shown = best[["model", "server", "workers", "connections", *FIGURES, "rounds"]]
    print(f"\nmedians of {args.repeats} round(s), {args.seconds:g} s each\n")
    print(shown.to_markdown(index=False, floatfmt=",.1f"))
    table = ratios(best)
    print()
    print(table.to_markdown(index=False, floatfmt=".2f"))
    print("\ntargets: " + "\n         ".join(targets(best, table)))
    for kind, why in failed.items():
        print(f"\n{kind}: {why}")
    (OUT.parent / "serving.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "best": best.to_dict("records"),
                "ratios": table.to_dict("records"),
                "failed": failed,
            },
            indent=2,
            default=float,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="Load per concurrency.")
    parser.add_argument("--repeats", type=int, default=3, help="Rounds; medians are shown.")
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--models", default="logistic,boosting")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--skip-bentoml", action="store_true")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    args.models = args.models.split(",")
    args.servers = [s for s in args.servers.split(",") if s in SERVERS]
    skipped = {}
    for kind, flag, ensure in (
        ("mlflow", args.skip_mlflow, peers.ensure_mlflow),
        ("bentoml", args.skip_bentoml, peers.ensure_bentoml),
    ):
        why = f"skipped (--skip-{kind})" if flag else ensure() if kind in args.servers else None
        if why:
            skipped[kind] = why
            args.servers = [s for s in args.servers if s != kind]
    models, plain = train_models(), train_plain()
    peers.write_apps()
    record = pd.read_parquet(OUT / "data.parquet").drop(columns="y").iloc[0].to_dict()
    bodies = {
        "record": json.dumps(record).encode(),
        "bentoml": json.dumps({"record": record}).encode(),
        "mlflow": json.dumps({"dataframe_records": [record]}).encode(),
    }
    rows: list[dict] = []
    for _ in range(args.repeats):
        got, failed = run_round(models, plain, args, bodies)
        rows += got
        skipped.update(failed)
        args.servers = [s for s in args.servers if s not in failed]
    report(rows, skipped, args)


if __name__ == "__main__":
    main()
