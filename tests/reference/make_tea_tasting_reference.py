"""Regenerate tea_tasting_ab.json: reference effects for sds's mean, ratio and CUPED metrics.

tea-tasting (an independent implementation of Welch t, delta-method ratio metrics and CUPED
with pooled theta) analyses the data made by :func:`make_users`; the test analyses the same
data with sds and compares to 1e-6. Run (needs ``pip install tea-tasting``):
python tests/reference/make_tea_tasting_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("tea_tasting_ab.json")
SEEDS = (1, 2, 3)


def make_users(seed: int, n: int = 4000) -> pd.DataFrame:
    """Users with sessions, orders, revenue and their pre-period values (numpy only)."""
    rng = np.random.default_rng(seed)
    variant = rng.integers(0, 2, n)
    activity = rng.gamma(2.0, 1.0, n)
    sessions_pre = rng.poisson(2 * activity) + 1
    orders_pre = rng.binomial(sessions_pre, 0.2)
    sessions = rng.poisson(2 * activity) + 1
    orders = rng.binomial(sessions, 0.2 + 0.02 * variant)
    revenue_pre = orders_pre * rng.lognormal(3, 0.5, n)
    revenue = orders * rng.lognormal(3, 0.5, n) * (1 + 0.05 * variant)
    return pd.DataFrame(
        {
            "user": np.arange(n),
            "variant": variant,
            "sessions": sessions.astype(float),
            "orders": orders.astype(float),
            "revenue": revenue,
            "sessions_pre": sessions_pre.astype(float),
            "orders_pre": orders_pre.astype(float),
            "revenue_pre": revenue_pre,
        }
    )


def _metrics() -> dict[str, object]:
    import tea_tasting as tt

    return {
        "revenue": tt.Mean("revenue"),
        "revenue_cuped": tt.Mean("revenue", "revenue_pre"),
        "orders_per_session": tt.RatioOfMeans("orders", "sessions"),
        "orders_per_session_cuped": tt.RatioOfMeans(
            "orders", "sessions", "orders_pre", "sessions_pre"
        ),
    }


def main() -> None:
    import tea_tasting as tt

    keys = ["control", "treatment", "effect_size", "effect_size_ci_lower"]
    keys += ["effect_size_ci_upper", "rel_effect_size", "rel_effect_size_ci_lower"]
    keys += ["rel_effect_size_ci_upper", "pvalue"]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for seed in SEEDS:
        result = tt.Experiment(**_metrics()).analyze(make_users(seed), control=0)
        rows = result.to_dicts()
        out[str(seed)] = {r["metric"]: {k: float(r[k]) for k in keys} for r in rows}
    out_text = json.dumps({"tea_tasting": tt.__version__, "results": out}, indent=1, sort_keys=True)
    OUT.write_text(out_text + "\n")


if __name__ == "__main__":
    main()
