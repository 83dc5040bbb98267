"""The feature store: immutable versions, lineage, crash safety and point-in-time reads.

Crashes are real process deaths (``os._exit`` at a named step, set through
``SDS_STORE_FAULT`` in a child process): after each, the earlier version is read back
byte for byte and the next registration succeeds. Retrieval is checked against pandas
(``merge_asof`` for the label table, a groupby for as-of and latest).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.errors import DataError
from sds.features import retrieval
from sds.features.store import FAULT_ENV, FeatureStore
from tests.conftest import invoke

SPEC = {
    "name": "customers",
    "entity": "customer_id",
    "timestamp": "ts",
    "labels": "labels.parquet",
    "windows": ["30d"],
    "aggregations": [{"column": "amount", "functions": ["nonnull", "sum"]}],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    events = synth.make_transactions(200, seed=1, months=6)
    ids = events["customer_id"].unique()[:40]
    times = pd.to_datetime(["2025-03-01", "2025-04-01", "2025-05-01"])
    labels = pd.DataFrame({"customer_id": np.repeat(ids, 3), "label_time": np.tile(times, 40)})
    events.to_parquet(tmp_path / "events.parquet")
    labels.to_parquet(tmp_path / "labels.parquet")
    return tmp_path / "events.parquet", tmp_path / "labels.parquet"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_versions_are_immutable_and_deduplicated(tmp_path: Path, files: tuple[Path, Path]) -> None:
    events, labels = files
    store = FeatureStore(tmp_path / "store")
    v1, new = store.register(SPEC, str(events), str(labels))
    assert new and v1.ref == "customers@v1" and v1.rows == 120
    first = _digest(store.root / v1.path)
    shuffled = pd.read_parquet(events).sample(frac=1, random_state=3)
    again, new = store.register(SPEC, shuffled, str(labels))  # same rows, other order and place
    assert not new and again == v1
    changed = pd.read_parquet(events).iloc[:-10]
    v2, new = store.register(SPEC, changed, str(labels))
    assert new and v2.version == 2 and v2.source_fingerprint != v1.source_fingerprint
    v3, new = store.register({**SPEC, "windows": ["7d"]}, str(events), str(labels))
    assert new and v3.version == 3 and v3.spec_hash != v1.spec_hash
    assert _digest(store.root / v1.path) == first
    manifest = json.loads((store.root / "customers" / "v1" / "manifest.json").read_text())
    assert manifest["spec_hash"] == v1.spec_hash and manifest["code_version"]
    assert v1.schema["amount_sum_30d"].startswith("float")


def test_a_set_built_from_a_stored_set_records_its_parent(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    events, labels = files
    store = FeatureStore(tmp_path / "store")
    store.register(SPEC, str(events), str(labels))
    derived = {
        "name": "customer_trends",
        "entity": "customer_id",
        "timestamp": "label_time",
        "cutoff": "2025-06-01",
        "windows": ["90d"],
        "aggregations": [{"column": "amount_sum_30d", "functions": ["mean", "max"]}],
    }
    child, _ = store.register(derived, "store://customers@v1")
    assert child.parents == ["customers@v1"]


@pytest.mark.parametrize("step", ["after_data", "after_rename", "before_commit"])
def test_a_crash_mid_registration_leaves_earlier_versions_intact(
    step: str, tmp_path: Path, files: tuple[Path, Path]
) -> None:
    events, labels = files
    root = tmp_path / "store"
    store = FeatureStore(root)
    v1, _ = store.register(SPEC, str(events), str(labels))
    before = _digest(root / v1.path)
    changed = tmp_path / "changed.parquet"
    pd.read_parquet(events).iloc[:-10].to_parquet(changed)
    code = (
        "import sys; from sds.features.store import FeatureStore; "
        "FeatureStore(sys.argv[1]).register(__import__('json').loads(sys.argv[2]), "
        "sys.argv[3], sys.argv[4])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(root), json.dumps(SPEC), str(changed), str(labels)],
        env={**os.environ, FAULT_ENV: step},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 137, proc.stderr
    assert [v.ref for v in store.versions()] == ["customers@v1"]
    assert _digest(root / v1.path) == before
    assert len(pd.read_parquet(root / v1.path)) == 120
    v2, new = store.register(SPEC, str(changed), str(labels))  # the orphan is replaced
    assert new and v2.version == 2
    assert [v.ref for v in store.versions()] == ["customers@v1", "customers@v2"]


def test_point_in_time_reads_match_pandas(tmp_path: Path, files: tuple[Path, Path]) -> None:
    events, labels = files
    store = FeatureStore(tmp_path / "store")
    version, _ = store.register(SPEC, str(events), str(labels))
    stored = pd.read_parquet(store.root / version.path)
    _, table = retrieval.stored_table(store, "customers")
    got = table.engine.execute(retrieval.as_of(store, "customers", "2025-04-15"))
    want = stored[stored["label_time"] <= "2025-04-15"]
    want = want[want["label_time"] == want.groupby("customer_id")["label_time"].transform("max")]
    assert len(got) == len(want) and (got["label_time"] == pd.Timestamp("2025-04-01")).all()
    rng = np.random.default_rng(2)
    asks = pd.DataFrame(
        {
            "customer_id": rng.choice(stored["customer_id"].unique(), 30),
            "when": pd.Timestamp("2025-02-15") + pd.to_timedelta(rng.integers(0, 120, 30), "D"),
        }
    )
    joined = table.engine.execute(retrieval.for_labels(store, "customers", asks, "when"))
    ref = pd.merge_asof(
        asks.sort_values("when"),
        stored.sort_values("label_time"),
        left_on="when",
        right_on="label_time",
        by="customer_id",
    )
    merged = joined.merge(ref, on=["customer_id", "when"], suffixes=("", "_ref"))
    assert len(merged) == 30
    np.testing.assert_array_equal(
        merged["amount_sum_30d"].to_numpy(), merged["amount_sum_30d_ref"].to_numpy()
    )
    one = int(stored["customer_id"].iloc[0])
    newest = table.engine.execute(retrieval.latest(store, "customers", [str(one)]))
    assert newest["label_time"].tolist() == [
        stored.loc[stored["customer_id"] == one, "label_time"].max()
    ]


def test_unknown_names_and_versions_are_clear(tmp_path: Path, files: tuple[Path, Path]) -> None:
    events, labels = files
    store = FeatureStore(tmp_path / "store")
    store.register(SPEC, str(events), str(labels))
    with pytest.raises(DataError, match="no feature set 'customer'"):
        store.version("customer")
    with pytest.raises(DataError, match="no version 'v9'"):
        store.version("customers@v9")


def test_cli_register_list_get_and_bad_input(tmp_path: Path, files: tuple[Path, Path]) -> None:
    events, _ = files
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(SPEC))
    store = str(tmp_path / "store")
    res = invoke(
        [
            "features",
            "register",
            str(spec),
            "--data",
            str(events),
            "--store",
            store,
            "-f",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["ref"] == "customers@v1"
    res = invoke(["features", "list", "--store", store, "-f", "json"])
    assert [v["version"] for v in json.loads(res.stdout)["versions"]] == [1]
    out = tmp_path / "train.parquet"
    res = invoke(
        [
            "features",
            "get",
            "customers@v1",
            "--store",
            store,
            "--as-of",
            "2025-04-15",
            "--data-output",
            str(out),
        ]
    )
    assert res.exit_code == 0 and len(pd.read_parquet(out)) == 40
    res = invoke(["features", "get", "customers", "--store", store, "--entity", "0"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["customer_id"] == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(json.dumps({**SPEC, "entity": "customer"}))
    res = invoke(["features", "register", str(broken), "--data", str(events), "--store", store])
    assert res.exit_code == 2 and "Did you mean 'customer_id'" in res.stderr
    assert [v.ref for v in FeatureStore(store).versions()] == ["customers@v1"]


def test_an_empty_text_column_registers_nothing(tmp_path: Path, files: tuple[Path, Path]) -> None:
    events, _ = files
    blank = pd.read_parquet(events).assign(comment="  ")
    blank.to_parquet(tmp_path / "blank.parquet")
    spec = {
        **SPEC,
        "aggregations": [{"column": "comment", "functions": ["last"]}],
        "transform": {"text": ["comment_last"]},
    }
    (tmp_path / "spec.yaml").write_text(json.dumps(spec))
    store = tmp_path / "store"
    res = invoke(
        [
            "features",
            "register",
            str(tmp_path / "spec.yaml"),
            "--data",
            str(tmp_path / "blank.parquet"),
            "--store",
            str(store),
        ]
    )
    assert res.exit_code == 2 and "text column is empty in every row" in res.stderr, res.stderr
    assert FeatureStore(store).versions() == []
    assert not any(p.suffix == ".parquet" for p in store.rglob("*"))
    res = invoke(
        [
            "features",
            "register",
            str(tmp_path / "spec.yaml"),
            "--data",
            str(events),
            "--store",
            str(store),
        ]
    )
    assert res.exit_code == 2 and "column 'comment'" in res.stderr  # not in these events
