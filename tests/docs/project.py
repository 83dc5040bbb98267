"""The project folder the docs' code blocks run in: every file the README names, made
from the seeded generators (small, so the whole runner stays fast), and the repository's
``scripts/`` and ``examples/`` linked in, as in a clone.

Built once per test session; each Markdown file runs in its own copy.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sds.data import synth

ROOT = Path(__file__).resolve().parents[2]
LINKED = ("scripts", "examples")


def _ab(seed: int = 1) -> pd.DataFrame:
    """The A/B table as the generator makes it (user, variant, time, platform, country,
    pre_revenue, sessions, converted, orders, revenue): nothing the README's commands use
    may exist only here, or they fail on a newcomer's data."""
    return synth.make_ab_test(4_000, seed=seed)


def _visits(seed: int = 2) -> pd.DataFrame:
    """Minutes per user before and after a change: one row per user and period."""
    rng = np.random.default_rng(seed)
    before = rng.gamma(4.0, 5.0, 300)
    after = before + rng.normal(1.0, 3.0, 300)
    users = np.arange(300)
    return pd.DataFrame(
        {
            "user_id": np.concatenate([users, users]),
            "period": ["before"] * 300 + ["after"] * 300,
            "minutes": np.concatenate([before, after]).round(2),
        }
    )


def _customers(seed: int = 3) -> pd.DataFrame:
    """The churn table with the label spelled churn / stay (the README's ``positive:``)."""
    frame = synth.make_churn(n_rows=1_500, seed=seed)
    frame["churned"] = np.where(frame["churned"] == 1, "churn", "stay")
    return frame


def build(folder: Path) -> Path:
    """Write every file the README's commands read into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    ab = _ab()
    ab.to_parquet(folder / "ab.parquet")
    ab.to_csv(folder / "ab.csv", index=False)
    ab.to_parquet(folder / "history.parquet")
    ab[["user_id"]].to_parquet(folder / "users.parquet")
    ab[["user_id", "variant", "assigned_at"]].to_parquet(folder / "assignment_log.parquet")
    ab[["variant", "revenue"]].to_csv(folder / "input.csv", index=False)
    ab[["user_id", "country", "platform"]].assign(
        age=np.random.default_rng(4).integers(18, 80, len(ab))
    ).to_csv(folder / "users.csv", index=False)
    events = synth.make_transactions(300, seed=5)
    events.to_parquet(folder / "events.parquet")
    events.to_parquet(folder / "transactions.parquet")
    (folder / "data").mkdir()
    half = len(events) // 2
    events.iloc[:half].to_parquet(folder / "data" / "part-0.parquet")
    events.iloc[half:].to_parquet(folder / "data" / "part-1.parquet")
    (folder / "s3-copy").mkdir()
    shifted = events["ts"] + (pd.Timestamp("2026-03-01") - events["ts"].max())  # recent days
    events.assign(day=shifted.dt.strftime("%Y-%m-%d")).to_parquet(
        folder / "s3-copy" / "events.parquet"
    )
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.register("events_frame", events)
        con.execute("CREATE TABLE orders AS SELECT * FROM events_frame")
    labels = events.groupby("customer_id", as_index=False)["ts"].max()
    labels["label_time"] = labels["ts"] + pd.Timedelta(days=1)
    labels[["customer_id", "label_time"]].to_parquet(folder / "labels.parquet")
    _visits().to_csv(folder / "visits.csv", index=False)
    customers = _customers()
    customers.iloc[:1_200].to_parquet(folder / "customers.parquet")
    customers.iloc[1_200:].to_parquet(folder / "holdout.parquet")
    return folder
