"""The Spark parity tier: each job runs on DuckDB and on a local Spark (``local[2]``), and
the two results must agree (counts exactly, sums and statistics to 1e-9).

Java 17 and pyspark are part of the test set-up (pyproject's dev extra installs pyspark; the
machine has Java 17). If either is missing the tier fails with the fix; it never skips.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.config import settings
from sds.data import synth
from sds.data.engine import default_engine

MASTER = "local[2]"
REL = 1e-9


@pytest.fixture(scope="session")
def spark_engine() -> Any:
    """The one local Spark every parity test shares (started once, about 5 s)."""
    with settings(engine="spark", spark_master=MASTER):
        return default_engine()


def on(engine: str, job: Callable[[], Any]) -> Any:
    """Run ``job`` with ``engine`` as the default engine (Spark on ``local[2]``)."""
    with settings(engine=engine, spark_master=MASTER if engine == "spark" else None):
        return job()


def both(job: Callable[[], Any], spark_engine: Any) -> tuple[Any, Any]:
    assert spark_engine.is_spark
    return on("duckdb", job), on("spark", job)


def differences(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """Where two results differ: integers, strings and keys exactly; floats to 1e-9."""
    if isinstance(a, pd.DataFrame):
        yield from differences(a.to_dict("list"), b.to_dict("list"), path)
    elif type(a) is not type(b) and (isinstance(a, dict | list) or isinstance(b, dict | list)):
        yield f"{path}: {a!r} against {b!r}"
    elif isinstance(a, dict):
        if set(a) != set(b):
            yield f"{path}: keys {sorted(set(a) ^ set(b))}"
        for key in set(a) & set(b):
            yield from differences(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple | np.ndarray):
        if len(a) != len(b):
            yield f"{path}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from differences(x, y, f"{path}[{i}]")
    elif isinstance(a, float | np.floating) and not isinstance(b, str):
        if b is None or not _close(float(a), float(b)):
            yield f"{path}: {a!r} against {b!r}"
    elif type(a) is not type(b) and not (_is_int(a) and _is_int(b)):
        yield f"{path}: {a!r} ({type(a).__name__}) against {b!r} ({type(b).__name__})"
    elif a != b and not (_is_missing(a) and _is_missing(b)):
        yield f"{path}: {a!r} against {b!r}"


def _close(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=REL, abs_tol=1e-12)


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def assert_same(a: Any, b: Any) -> None:
    found = list(differences(a, b))
    assert not found, f"{len(found)} differences, first: " + "; ".join(found[:8])


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixtures every job reads, as files (Parquet, and CSV for the text reader)."""
    root = tmp_path_factory.mktemp("spark-parity")
    synth.write_parquet("ab_events", root / "ab.parquet", seed=7, n_users=4_000)
    churn = synth.make_churn(3_000, seed=3)
    churn.to_parquet(root / "churn.parquet")
    churn.to_csv(root / "churn.csv", index=False)
    rng = np.random.default_rng(6)
    churn["prediction"] = rng.random(len(churn))
    churn.to_parquet(root / "reference.parquet")
    later = synth.make_churn(2_000, seed=4)
    later["last_login_days"] = later["last_login_days"] * 2  # customers drifting away
    later["prediction"] = rng.random(len(later)) ** 0.8
    later["latency_ms"] = rng.lognormal(1.0, 0.5, len(later))
    later["status"] = np.where(rng.random(len(later)) < 0.02, 500, 200)
    later.to_parquet(root / "current.parquet")
    events = synth.make_transactions(400, seed=5, months=6)
    events.to_parquet(root / "transactions.parquet")
    ids = events["customer_id"].unique()
    start, end = events["ts"].min(), events["ts"].max()
    labels = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, 500),
            "label_time": start + (end - start) * rng.random(500),
        }
    )
    labels.to_parquet(root / "labels.parquet")
    return root
