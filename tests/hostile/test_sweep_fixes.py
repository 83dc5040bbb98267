"""What the bad-input sweep (``test_sweep``) found, pinned with the message it now gives,
and what it could not see: a relative ``--store`` that failed every registration, a
``reproduce`` that made an empty MLflow database where none was, and an alignment check
that crashed on a column with no values in both sets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
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


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.csv"
    synth.make_transactions(60, seed=2, months=6).to_csv(path, index=False)
    return path


def _spec(folder: Path, **extra: object) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps({**SPEC, **extra}))
    return path


def _one_error(res: object, *words: str) -> str:
    exit_code, stderr = res.exit_code, res.stderr  # type: ignore[attr-defined]
    lines = stderr.strip().splitlines()
    assert (exit_code, len(lines)) == (2, 1) and lines[0].startswith("error: "), stderr
    assert all(w in lines[0] for w in words), lines[0]
    return str(lines[0])


def test_srm_names_a_date_column_holding_inf(tmp_path: Path) -> None:
    frame = synth.make_ab_test(n_users=200, seed=1)
    dates = frame["assigned_at"].astype(object)
    dates[::5], dates[1::5] = np.inf, -np.inf  # DuckDB reads these as times: year 5881580
    path = tmp_path / "ab.csv"
    frame.assign(assigned_at=dates).to_csv(path, index=False)
    args = ["srm", "--data", str(path), "--variants", "control,treatment"]
    res = invoke([*args, "--date-column", "assigned_at"])
    _one_error(res, "'assigned_at'", "80 of 200 rows", "80 not finite", "'inf'", "'-inf'")
    frame.assign(assigned_at="2026-01-1x").to_csv(path, index=False)
    res = invoke([*args, "--date-column", "assigned_at"])
    _one_error(res, "200 not a date", "'2026-01-1x'")
    res = invoke([*args, "--date-column", "revenue"])
    _one_error(res, "'revenue'", "is not a date or time column", "float64")


def test_register_with_a_relative_store_path(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every registration into ``--store feature_store`` (the default, relative) wrote the
    version and then failed: its temp folder was 'outside the feature store'."""
    monkeypatch.chdir(tmp_path)
    args = ["features", "register", str(_spec(tmp_path)), "--data", str(events)]
    for _ in range(2):  # new, then the same version again
        res = invoke([*args, "--store", "feature_store"])
        assert res.exit_code == 0, res.stderr
    listed = invoke(["features", "list", "--store", "feature_store", "--format", "json"])
    assert listed.exit_code == 0, listed.stderr
    assert [v["version"] for v in json.loads(listed.stdout)["versions"]] == [1]
    assert not list((tmp_path / "feature_store" / "tx").glob(".tmp-*"))


def test_a_failed_first_registration_leaves_no_store(events: Path, tmp_path: Path) -> None:
    """Bad values are checked before the store is made; a build that fails later (here a
    transform naming no column) removes the store it made."""
    text = tmp_path / "text.csv"
    pd.read_csv(events).assign(amount="abc").to_csv(text, index=False)
    store = tmp_path / "out" / "store"
    res = invoke(["features", "register", str(_spec(tmp_path)), "--data", str(text),
                  "--store", str(store)])  # fmt: skip
    _one_error(res, "'amount'", "'abc'")
    assert not store.exists()
    spec = _spec(tmp_path, transform={"drop": ["no_such_feature"]})
    res = invoke(["features", "register", str(spec), "--data", str(events), "--store", str(store)])
    _one_error(res, "no_such_feature")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    good = ["features", "register", str(_spec(tmp_path / "out")), "--data", str(events)]
    assert invoke([*good, "--store", str(store)]).exit_code == 0
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    res = invoke(["features", "register", str(spec), "--data", str(events), "--store", str(store)])
    _one_error(res, "no_such_feature")
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before  # kept as it was


def test_build_with_a_float_column_that_is_all_null(events: Path, tmp_path: Path) -> None:
    """A Parquet float column with no values: its inf count is a SUM over NULLs, NaN in
    pandas (``int(nan)``: an internal error)."""
    data = tmp_path / "events.parquet"
    pd.read_csv(events).assign(amount=np.nan).astype({"amount": float}).to_parquet(data)
    out = tmp_path / "f.parquet"
    res = invoke(
        ["features", "build", str(_spec(tmp_path)), "--data", str(data), "--data-output", str(out)]
    )
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_list_and_get_tell_a_store_from_anything_else(events: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    cases = {
        "absent": "no feature store at this path",
        "empty": "not a feature store; found an empty folder",
        "other": "not a feature store; found other files",
        "other/notes.txt": "not a feature store: a file, not a folder",
    }
    for where, message in cases.items():
        store = str(tmp_path / where)
        _one_error(invoke(["features", "list", "--store", store]), message)
        _one_error(invoke(["features", "get", "tx", "--store", store]), message)
    _one_error(
        invoke(["features", "register", str(_spec(tmp_path)), "--data", str(events),
                "--store", str(tmp_path / "other" / "notes.txt")]),
        "a file, not a folder",
    )  # fmt: skip


def test_reproduce_refuses_a_bad_store_at_once_and_creates_none(tmp_path: Path) -> None:
    absent = tmp_path / "none.db"
    started = time.monotonic()
    res = invoke(["reproduce", "abc", "--tracking-uri", f"sqlite:///{absent}"])
    _one_error(res, "no tracking store here", str(absent))
    assert not absent.exists()  # MLflow made a 1 MB empty database here
    res = invoke(["reproduce", "abc", "--tracking-uri", f"sqlite:///{tmp_path}"])
    _one_error(res, "is a folder")  # MLflow retried for ~100 s, with 29 warning lines
    res = invoke(["reproduce", "abc", "--tracking-uri", "nonsense:://"])
    _one_error(res, "--tracking-uri", "MLflow has no tracking store")
    assert time.monotonic() - started < 30
    assert list(tmp_path.iterdir()) == []


def test_check_with_a_column_empty_in_both_small_sets() -> None:
    """Gradient boosting could not bin a column with no values in a training fold
    (``ValueError: window shape cannot be larger than input array shape``)."""
    from sds.features.alignment import align

    churn = synth.make_churn(100, seed=3).assign(empty=np.nan, rare=np.nan)
    churn.loc[3, "rare"] = 1.0  # one value: some training fold has none
    result = align(churn.iloc[:50], churn.iloc[50:], exclude=["churned"])
    assert 0.0 <= result.adversarial_auc <= 1.0
    assert {f["feature"] for f in result.features} >= {"empty", "rare"}


def test_check_names_the_column_and_both_types(tmp_path: Path) -> None:
    churn = synth.make_churn(200, seed=3)
    reference, current = tmp_path / "ref.csv", tmp_path / "cur.csv"
    churn.iloc[:100].to_csv(reference, index=False)
    spoiled = churn.iloc[100:].astype({"tenure_months": object})
    spoiled.iloc[::7, spoiled.columns.get_loc("tenure_months")] = "abc"
    spoiled.to_csv(current, index=False)
    for a, b in ((reference, current), (current, reference)):
        res = invoke(
            ["features", "check", "--reference", str(a), "--data", str(b), "--exclude", "churned"]
        )
        _one_error(res, "'tenure_months'", "ref.csv (int64) but text in", "cur.csv (",
                   "15 value(s)", "'abc'")  # fmt: skip
    churn.iloc[100:101].to_csv(current, index=False)
    res = invoke(["features", "check", "--reference", str(reference), "--data", str(current)])
    _one_error(res, "cur.csv", "at least 5 rows per set", "1 row(s)")
