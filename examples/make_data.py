"""Write the data every example in examples/README.md reads, into examples/data/.

Run it once from the repository root: ``python examples/make_data.py`` (about 5 s).
Every table is generated with a fixed seed by ``sds.data.synth``, so the examples print the
same figures on every machine, except ``nsw.csv``: the public NSW job-training data
(Dehejia & Wahba, via the ``causaldata`` package of the ``causal`` extra).

What is written, and for which example:

- ``ab_history.parquet``: last month's A/B test, one row per user (design from data,
  ``sds stats``, ``sds srm`` by day);
- ``checkout_events.parquet``: the checkout test's event log, one row per session, with a
  planted lift, a fading novelty effect and a platform logging bug (``sds analyze``);
- ``users.csv``: the ids of the users to put in the next experiment (``sds assign``);
- ``churn.parquet``: customers with their churn label (``sds profile``, ``sds train``);
- ``churn_current.parquet``: this month's customers, whose monthly charges rose 15%: the
  rows sent to the model server (``sds monitor`` finds the drift);
- ``transactions.parquet`` and ``labels.parquet``: purchase events and, per customer and
  label time, whether the customer churned (no purchase in the next 60 days)
  (``sds features``);
- ``nsw.csv``: the NSW treated men and the CPS comparison group (``sds causal``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sds.data import synth

SEED = 7
LABEL_TIMES = ("2025-08-01", "2025-10-01")
CHURN_DAYS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "folder", nargs="?", type=Path, default=Path(__file__).parent / "data", help="Where."
    )
    parser.add_argument("--no-public", action="store_true", help="Skip nsw.csv (no causaldata).")
    args = parser.parse_args()
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)
    synth.make_ab_test(20_000, seed=SEED).to_parquet(folder / "ab_history.parquet")
    events = synth.make_ab_events(6_000, seed=SEED, mislabel_share=0.1)
    events.to_parquet(folder / "checkout_events.parquet")
    pd.DataFrame({"user_id": np.arange(100_000, 110_000)}).to_csv(folder / "users.csv", index=False)
    synth.make_churn(3_000, seed=SEED).to_parquet(folder / "churn.parquet")
    this_month(synth.make_churn(1_000, seed=SEED + 1)).to_parquet(folder / "churn_current.parquet")
    transactions, labels = churn_events(SEED)
    transactions.to_parquet(folder / "transactions.parquet")
    labels.to_parquet(folder / "labels.parquet")
    if not args.no_public:
        nsw_with_cps().to_csv(folder / "nsw.csv", index=False)
    print(f"wrote {', '.join(sorted(p.name for p in folder.iterdir()))} to {folder}")


def this_month(customers: pd.DataFrame) -> pd.DataFrame:
    """Monthly charges up 15%, kept inside the training range (the server refuses a value
    far outside it; here the point is drift, not refusals)."""
    raised = (customers["monthly_charges"] * 1.15).round(2)
    top = float(synth.make_churn(3_000, seed=SEED)["monthly_charges"].max())
    customers["monthly_charges"] = raised.clip(upper=top)
    customers["monthly_fee"] = customers["monthly_charges"]
    return customers


def churn_events(seed: int, customers: int = 1_500) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchases of ``customers`` over 12 months, and a label per customer and label time:
    ``churned`` is 1 when the customer buys nothing in the ``CHURN_DAYS`` days after it.
    Only customers who signed up before the label time get a label."""

    events = synth.make_transactions(customers, seed=seed, months=12)
    first = events.groupby("customer_id")["ts"].min()
    frames = []
    for text in LABEL_TIMES:
        when = pd.Timestamp(text)
        ids = first.index[first < when]
        window = (events["ts"] >= when) & (events["ts"] < when + pd.Timedelta(days=CHURN_DAYS))
        ahead = events[window]
        churned = ~np.isin(ids, ahead["customer_id"].unique())
        frames.append(
            pd.DataFrame({"customer_id": ids, "label_time": when, "churned": churned.astype(int)})
        )
    return events, pd.concat(frames, ignore_index=True)


def nsw_with_cps() -> pd.DataFrame:
    """Dehejia & Wahba's sample: the 185 NSW treated men and 15,992 CPS men who were not in
    the program; the experiment's answer is a $1,794 gain in 1978 earnings."""
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    data = pd.concat([nsw[nsw["treat"] == 1], cps]).drop(columns="data_id")
    data["u74"] = (data["re74"] == 0).astype(int)
    data["u75"] = (data["re75"] == 0).astype(int)
    return data.reset_index(drop=True)


if __name__ == "__main__":
    main()
