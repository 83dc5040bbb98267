"""Causal estimators at scale, against the library each one wraps, in one run.

1. TWFE on a 1,000,000-row panel (50,000 units x 20 periods, unit and time effects,
   errors clustered by unit): ``sds.causal.did`` with its checks (panel, placebo dates,
   group means; no permutations) against ``pyfixest.feols`` called directly, twice: as
   is (sds takes its closed form for balanced panels) and with a covariate (sds hands the
   fit to pyfixest). Every runner reads the same Parquet file in a child process of its
   own; the script checks that the coefficients agree (1e-9).
2. Propensity matching of 100,000 treated units among 1,000,000 rows: ``sds.causal.psm``
   end to end (score, matching, Abadie-Imbens errors, balance, Rosenbaum bounds).

Each step runs ``--runs`` times (3 by default), each in a fresh process that times the
first call and then the median of three more (warm); medians over runs of wall time and
peak RSS are printed with the ratios.

    python benchmarks/causal_bench.py [--runs 3]
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

OUT = Path(__file__).resolve().parent / "out" / "causal"


def write_panel(path: Path) -> None:
    import pandas as pd

    if path.exists():
        return
    rng = np.random.default_rng(0)
    units, periods = 50_000, 20
    u, t = np.repeat(np.arange(units), periods), np.tile(np.arange(periods), units)
    start = np.where(rng.uniform(size=units) < 0.4, 10, 10**6)[u]
    d = (t >= start).astype(np.int8)
    x = rng.normal(size=len(u))
    y = rng.normal(size=units)[u] + 0.05 * t + 0.5 * d + 0.3 * x + rng.normal(size=len(u))
    pd.DataFrame({"unit": u, "period": t, "d": d, "x": x, "y": y}).to_parquet(path)


def write_matching(path: Path) -> None:
    import pandas as pd

    if path.exists():
        return
    rng = np.random.default_rng(1)
    n = 1_000_000
    x = rng.normal(size=(n, 5))
    logit = -2.4 + x @ np.array([0.6, -0.4, 0.3, 0.0, 0.2])
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    y = 1.0 * t + x @ np.array([1.0, 0.5, -0.5, 0.2, 0.0]) + rng.normal(size=n)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(5)]).assign(t=t, y=y)
    frame.to_parquet(path)


def child(step: str, path: str) -> None:
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")
    frame = pd.read_parquet(path)
    cold = _timed(step, frame)
    warm = [_timed(step, frame) for _ in range(3)]  # numba compiled, imports done
    seconds = statistics.median(w[0] for w in warm)
    print(json.dumps({"cold": cold[0], "seconds": seconds, "value": warm[0][1]}))


def _timed(step: str, frame: object) -> tuple[float, float]:
    start = time.perf_counter()
    if step.startswith("pyfixest"):
        import pyfixest as pf

        rhs = "d + x" if step.endswith("+x") else "d"
        fit = pf.feols(f"y ~ {rhs} | unit + period", data=frame, vcov={"CRV1": "unit"})
        value = float(fit.coef()["d"])
    elif step.startswith("sds-did"):
        from sds.causal import did

        covariates = ["x"] if step.endswith("+x") else []
        value = did(frame, "y", "d", "unit", "period", covariates, permutations=0).estimate
    else:
        from sds.causal import psm

        r = psm(frame, "y", "t", [f"x{i}" for i in range(5)])
        value = r.estimate
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    panel, matching = OUT / "panel.parquet", OUT / "matching.parquet"
    write_panel(panel)
    write_matching(matching)
    steps = {"pyfixest": panel, "sds-did": panel, "pyfixest+x": panel, "sds-did+x": panel,
             "sds-psm": matching}  # fmt: skip
    results: dict[str, list[tuple[float, float, float]]] = {s: [] for s in steps}
    for _ in range(args.runs):
        for step, path in steps.items():
            out, rss = run_child([sys.executable, __file__, "--child", step, str(path)])
            body = json.loads(out)
            results[step].append((body["seconds"], rss, body["value"], body["cold"]))
    med = {s: [statistics.median(r[i] for r in rs) for i in (0, 1, 3)]
           for s, rs in results.items()}  # fmt: skip
    for suffix in ("", "+x"):
        assert abs(results["pyfixest" + suffix][0][2] - results["sds-did" + suffix][0][2]) < 1e-9
    for step, (sec, rss, cold) in med.items():
        print(f"{step:10s} median warm {sec:6.2f} s, first call {cold:6.2f} s, "
              f"peak RSS {rss:5.2f} GB ({args.runs} runs)")  # fmt: skip
    for suffix, label in (("", "closed form"), ("+x", "with a covariate, through pyfixest")):
        warm = med["sds-did" + suffix][0] / med["pyfixest" + suffix][0]
        cold = med["sds-did" + suffix][2] / med["pyfixest" + suffix][2]
        print(
            f"TWFE, 1,000,000 rows, {label}: sds / pyfixest = {warm:.2f}x warm, "
            f"{cold:.2f}x first call (target <= 1.5x)"
        )
    print(f"matching 100,000-odd treated in 1,000,000 rows: {med['sds-psm'][0]:.1f} s warm")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
