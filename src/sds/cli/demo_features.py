"""The demo's feature chapters: a year of generated transactions become a point-in-time
feature table from a spec file (``sds features build``), the features are selected for
predicting who stops buying (``sds features select``), and the set is registered as a
version in a feature store under the demo's folder (``sds features register``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sds.config import read_mapping

LABEL_TIME = "2025-10-01"
HORIZON_DAYS = 60

SPEC = """\
# Customer features at the label time, built by `sds features build {name}`
# (sds demo wrote this file). Every feature uses only events before the label time.
name: customers
data: ../data/transactions.parquet
labels: ../data/customer_labels.parquet
entity: customer_id
timestamp: ts
windows: [30d, 90d]
event_count: true
aggregations:
  - {{column: amount, functions: [sum, mean, max]}}
  - {{column: category, functions: [nunique]}}
rfm: {{monetary: amount}}
"""


def features_chapters(output: Path, seed: int, customers: int = 2_000) -> list[Any]:
    """Build, select and register the customer features; one chapter each."""
    import pandas as pd

    from sds.data import synth
    from sds.features.build import build
    from sds.features.select import select_features
    from sds.features.spec import parse
    from sds.features.store import FeatureStore
    from sds.features.store_result import Registered
    from sds.report.assemble import Chapter

    events_path = output / "data" / "transactions.parquet"
    labels_path = output / "data" / "customer_labels.parquet"
    _say(f"generating a year of transactions of {customers:,} customers -> {events_path}")
    events = synth.make_transactions(customers, seed=seed, months=12)
    events.to_parquet(events_path)
    labels = _labels(events)
    labels.to_parquet(labels_path)
    spec_path = output / "specs" / "features_customers.yaml"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(SPEC.format(name=spec_path))
    table_path = output / "data" / "customer_features.parquet"
    _say(f"building: sds features build {spec_path} --data-output {table_path}")
    spec = parse(read_mapping(spec_path), source=str(spec_path))
    built, _ = build(spec, str(events_path), str(labels_path), output=table_path)
    frame = pd.read_parquet(table_path)  # the build carries the label, 'stopped'
    _say(f"selecting for 'stopped buying within {HORIZON_DAYS} days': sds features select ...")
    selection = select_features(
        frame, "stopped", exclude=["customer_id"], label_time="label_time", repeats=2
    )
    _say(f"  kept {len(selection.kept)} of {len(frame.columns) - 3}: {', '.join(selection.kept)}")
    store = output / "feature_store"
    _say(f"registering: sds features register {spec_path} --store {store}")
    version, new = FeatureStore(store).register(spec, str(events_path), str(labels_path))
    _say(f"  registered {version.ref} ({version.rows:,} rows)")
    return [
        Chapter("Features: point-in-time build from transactions", built, "features_build.json"),
        Chapter("Features: selection with leakage checks", selection, "features_select.json"),
        Chapter("Features: registered in the feature store", Registered(version, new),
                "features_register.json"),
    ]  # fmt: skip


def _labels(events: Any) -> Any:
    """One label per customer who bought before the label time: did they stop buying (no
    purchase in the next ``HORIZON_DAYS`` days)?"""
    import numpy as np
    import pandas as pd

    at = pd.Timestamp(LABEL_TIME)
    first = events.groupby("customer_id")["ts"].min()
    ids = first[first < at].index.to_numpy()
    later = events[(events["ts"] >= at) & (events["ts"] < at + pd.Timedelta(days=HORIZON_DAYS))]
    bought = np.isin(ids, later["customer_id"].unique())
    return pd.DataFrame({"customer_id": ids, "label_time": at, "stopped": (~bought).astype(int)})


def _say(text: str) -> None:
    print(text, file=sys.stderr)
