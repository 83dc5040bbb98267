"""The feature store cannot be escaped, aliased or broken by concurrency.

Names that are paths (``../../victim``, absolute, ``./churn``, ``a/b/c``, ``""``, ``.``,
300 characters) are refused before anything is written or deleted; a folder in the store
that sds did not write is never deleted; registry paths are proven inside the store. Two
writers at once both succeed (they wait for the lock), readers during writes never fail,
a writer that waits too long fails with one line naming the holder, and temp folders of
killed writers are removed by the next registration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sds.data import synth
from sds.errors import DataError, ParameterError
from sds.features import store_lock
from sds.features.store import FAULT_ENV, FeatureStore
from tests.conftest import invoke

pytestmark = pytest.mark.hostile

SPEC = {
    "name": "tx",
    "entity": "customer_id",
    "timestamp": "ts",
    "cutoff": "2025-05-01",
    "windows": ["30d"],
    "aggregations": [{"column": "amount", "functions": ["nonnull", "sum"]}],
}

# 8 registrations of distinct data (so 8 new versions) by one writer process
_WRITER = """
import sys, pandas as pd, json
from sds.features.store import FeatureStore
root, spec, events, offset = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
frame = pd.read_parquet(events)
for r in range(8):
    FeatureStore(root).register(spec, frame.iloc[: -(1 + offset + 2 * r)])
"""


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.parquet"
    synth.make_transactions(120, seed=1, months=6).to_parquet(path)
    return path


def _spec_file(folder: Path, name: object) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps({**SPEC, "name": name}))
    return path


def _tmp_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(".tmp-*") if p.is_dir())


BAD_NAMES = [
    "../../victim",
    "",
    ".",
    "..",
    "./tx",
    "tx/",
    "a/b/c",
    "a\\b",
    " tx",
    "tx\n",
    "-tx",
    "x" * 300,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=range(len(BAD_NAMES)))
def test_a_name_that_is_a_path_is_refused_everywhere(
    name: str, tmp_path: Path, events: Path
) -> None:
    store = FeatureStore(tmp_path / "a" / "store")
    with pytest.raises(ParameterError, match=r"parameter 'name'.*letters, digits"):
        store.register({**SPEC, "name": name}, str(events))
    with pytest.raises(ParameterError, match="cannot be used"):
        store.version(name)
    with pytest.raises(ParameterError, match="cannot be used"):
        store.versions(name)
    assert not (tmp_path / "a" / "store").exists()  # nothing written


def test_traversal_and_absolute_names_leave_outside_folders_intact(
    tmp_path: Path, events: Path
) -> None:
    victim = tmp_path / "victim"
    (victim / "v1").mkdir(parents=True)
    precious = victim / "v1" / "precious.txt"
    precious.write_text("keep me")
    store = str(tmp_path / "a" / "store")
    for name in ("../../victim", str(victim)):
        spec = str(_spec_file(tmp_path, name))
        res = invoke(["features", "register", spec, "--data", str(events), "--store", store])
        code, _, err = res.exit_code, res.stdout, res.stderr
        assert code == 2 and err.startswith("error:") and err.count("\n") == 1, err
        assert "parameter 'name'" in err and "letters, digits" in err
        assert precious.read_text() == "keep me"
    assert sorted(p.name for p in victim.rglob("*")) == ["precious.txt", "v1"]


def test_dot_slash_and_case_aliases_never_reach_another_set(tmp_path: Path, events: Path) -> None:
    store = tmp_path / "store"
    fs = FeatureStore(store)
    fs.register(SPEC, str(events))
    res = invoke(["features", "get", "./tx", "--store", str(store)])
    code, out, err = res.exit_code, res.stdout, res.stderr
    assert code == 2 and out == "" and "parameter 'ref'" in err, err
    with pytest.raises(ParameterError, match="only in case"):
        fs.register({**SPEC, "name": "TX"}, pd.read_parquet(events).iloc[:-3])
    assert [v.ref for v in fs.versions()] == ["tx@v1"] and _tmp_folders(store) == []


@pytest.mark.parametrize("ref", ["tx@v../x", "tx@../../x", "tx@v0", "tx@", "tx@vv1", "tx@1/2"])
def test_bad_version_strings_are_refused(ref: str, tmp_path: Path, events: Path) -> None:
    store = tmp_path / "store"
    FeatureStore(store).register(SPEC, str(events))
    res = invoke(["features", "get", ref, "--store", str(store)])
    code, out, err = res.exit_code, res.stdout, res.stderr
    assert code == 2 and out == "" and "is not a version number" in err, err


def test_registry_paths_and_links_are_proven_inside_the_store(tmp_path: Path, events: Path) -> None:
    store = tmp_path / "store"
    FeatureStore(store).register(SPEC, str(events))
    outside = tmp_path / "outside.parquet"
    pd.DataFrame({"customer_id": [1], "secret": [42]}).to_parquet(outside)
    with duckdb.connect(str(store / "registry.duckdb")) as con:  # a tampered registry
        con.execute("UPDATE versions SET path = '../outside.parquet'")
    res = invoke(["features", "get", "tx", "--store", str(store)])
    code, out, err = res.exit_code, res.stdout, res.stderr
    assert code == 2 and "secret" not in out and "outside the feature store" in err, err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (store / "linked").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DataError, match="reached through a link"):
        FeatureStore(store).register({**SPEC, "name": "linked"}, str(events))
    assert list(elsewhere.iterdir()) == []


def test_a_folder_sds_did_not_write_is_never_deleted(tmp_path: Path, events: Path) -> None:
    store = tmp_path / "store"
    fs = FeatureStore(store)
    fs.register(SPEC, str(events))
    (store / "tx" / "v2").mkdir()
    (store / "tx" / "v2" / "mine.txt").write_text("not a version")
    with pytest.raises(DataError, match="not written by sds for this store"):
        fs.register(SPEC, pd.read_parquet(events).iloc[:-3])
    assert (store / "tx" / "v2" / "mine.txt").read_text() == "not a version"
    assert [v.ref for v in fs.versions()] == ["tx@v1"] and _tmp_folders(store) == []


def test_two_writers_at_once_all_succeed_and_readers_never_fail(
    tmp_path: Path, events: Path
) -> None:
    root = tmp_path / "store"
    FeatureStore(root).register(SPEC, str(events))
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), json.dumps(SPEC), str(events), str(w)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    reads, failures, pause = 0, [], threading.Event()
    while any(w.poll() is None for w in writers):
        try:
            assert FeatureStore(root).version("tx@v1").rows > 0
            reads += 1
        except Exception as exc:  # every failure is counted; none may happen
            failures.append(repr(exc))
        pause.wait(0.005)  # one read every ~5 ms, as the finding measured
    errors = [w.communicate()[1] for w in writers]  # reads and closes their stderr
    assert [w.returncode for w in writers] == [0, 0], errors
    assert failures == [] and reads > 10, failures[:3]
    versions = FeatureStore(root).versions("tx")
    assert [v.version for v in versions] == list(range(1, 18))  # v1 + 16 registrations
    assert len({v.source_fingerprint for v in versions}) == 17
    for v in versions:  # every recorded version is complete
        assert len(pd.read_parquet(root / v.path)) == v.rows
    assert _tmp_folders(root) == []


def test_a_writer_that_waits_too_long_names_the_store_and_the_holder(
    tmp_path: Path, events: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "store"
    FeatureStore(root).register(SPEC, str(events))
    monkeypatch.setenv(store_lock.TIMEOUT_ENV, "0.3")
    with store_lock.registry_lock(root, 5.0, write=True):
        res = invoke(["features", "list", "--store", str(root)])
    code, _, err = res.exit_code, res.stdout, res.stderr
    assert code == 1 and err.count("\n") == 1, err
    assert str(root) in err and f"locked for 0.3 s by pid {os.getpid()}" in err
    monkeypatch.setenv(store_lock.TIMEOUT_ENV, "soon")
    res = invoke(["features", "list", "--store", str(root)])
    code, _, err = res.exit_code, res.stdout, res.stderr
    assert code == 2 and "SDS_STORE_LOCK_TIMEOUT == 'soon'" in err, err


@pytest.mark.parametrize("step", ["after_data", "after_rename", "before_commit"])
def test_a_killed_registration_leaves_a_consistent_store_and_no_temp_folders(
    step: str, tmp_path: Path, events: Path
) -> None:
    root = tmp_path / "store"
    fs = FeatureStore(root)
    v1, _ = fs.register(SPEC, str(events))
    changed = tmp_path / "changed.parquet"
    pd.read_parquet(events).iloc[:-10].to_parquet(changed)
    code = (
        "import sys, json; from sds.features.store import FeatureStore; "
        "FeatureStore(sys.argv[1]).register(json.loads(sys.argv[2]), sys.argv[3])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(root), json.dumps(SPEC), str(changed)],
        env={**os.environ, FAULT_ENV: step},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 137, proc.stderr
    assert [v.ref for v in fs.versions()] == ["tx@v1"]
    live = store_lock.new_temp(root, "tx", store_lock.store_id(root, 5.0))  # a live writer's
    legacy = root / "tx" / ".tmp-0123456789ab"  # from sds before owner files, an hour old
    legacy.mkdir()
    (legacy / "features.parquet").write_bytes(b"partial")
    os.utime(legacy, (0, 0))
    v2, new = fs.register(SPEC, str(changed))  # cleans up, then records the next version
    assert new and v2.version == 2 and len(pd.read_parquet(root / v2.path)) == v2.rows
    assert _tmp_folders(root) == [live]
    assert sorted(p.name for p in (root / "tx").iterdir()) == [live.name, "v1", "v2"]
    assert len(pd.read_parquet(root / v1.path)) == v1.rows
