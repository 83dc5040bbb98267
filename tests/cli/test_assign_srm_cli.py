"""``sds assign`` and ``sds srm`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sds.data import synth
from sds.experiments.assign import assign
from tests.conftest import invoke


def test_assign_ids_lookup() -> None:
    res = invoke(
        ["assign", "--experiment", "e1", "--variants", "control,treatment", "--ids", "1,2,3"]
    )
    assert res.exit_code == 0, res.stderr
    got = [line.split("\t")[1] for line in res.stdout.strip().splitlines()]
    assert got == assign(["1", "2", "3"], "e1", ["control", "treatment"])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_assign_data_writes_table(tmp_path: Path, suffix: str) -> None:
    units = tmp_path / "units.csv"
    pd.DataFrame({"user_id": range(5000)}).to_csv(units, index=False)
    out = tmp_path / f"assigned{suffix}"
    res = invoke(
        [
            "assign",
            "--experiment",
            "e1",
            "--variants",
            "a,b",
            "--shares",
            "20,80",
            "--data",
            str(units),
            "--data-output",
            str(out),
            "-f",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    table = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    table = table.sort_values("user_id")
    assert list(table["variant"]) == assign(range(5000), "e1", ["a", "b"], [20, 80])
    summary = json.loads(res.stdout)
    assert sum(v["units"] for v in summary["variants"]) == 5000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shares", "50,40", "--ids", "1"], "--shares == 50,40, must sum to 1 (or 100)"),
        (["--shares", "50,x", "--ids", "1"], "--shares == 'x', must be numbers"),
        (["--ids", "1", "--data", "x.csv"], "give exactly one of --data or --ids"),
    ],
)
def test_assign_bad_input(args: list[str], message: str) -> None:
    res = invoke(["assign", "--experiment", "e", "--variants", "a,b", *args])
    assert res.exit_code == 2 and message in res.stderr


def test_assign_bad_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "units.csv").write_text("id\n1\n2\n")
    out = tmp_path / "out.parquet"
    cases = [
        ([str(tmp_path / "empty.csv")], "file is empty"),
        ([str(tmp_path / "units.csv")], "column 'user_id': no such column"),
    ]
    for data, message in cases:
        res = invoke(
            [
                "assign",
                *("--experiment", "e", "--variants", "a,b", "--data", *data),
                *("--data-output", str(out)),
            ]
        )
        assert res.exit_code == 2 and message in res.stderr, res.stderr
        assert not out.exists()
    res = invoke(
        [
            "assign",
            "--experiment",
            "e",
            "--variants",
            "a,b",
            "--data",
            str(tmp_path / "units.csv"),
            "--id-column",
            "id",
            "--data-output",
            str(tmp_path / "o.txt"),
        ]
    )
    assert res.exit_code == 2 and "must end in .csv or .parquet" in res.stderr


def test_srm_counts_json() -> None:
    res = invoke(["srm", "--counts", "50500,49500", "--shares", "0.5,0.5", "-f", "json"])
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    for key in ("chi2", "p_value", "observed_share", "expected_share", "flag"):
        assert key in d
    assert d["chi2"] == pytest.approx(10.0)


def test_srm_from_data_by_day(tmp_path: Path) -> None:
    path = tmp_path / "ab.parquet"
    synth.make_ab_test(n_users=20_000, seed=2).to_parquet(path)
    res = invoke(
        [
            "srm",
            "--data",
            str(path),
            "--variants",
            "control,treatment",
            "--date-column",
            "assigned_at",
            "-f",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert len(d["daily"]) == 14 and not d["flag"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--counts", "10,10", "--shares", "50,40"], "--shares == 50,40, must sum to 1"),
        (["--counts", "10,abc"], "counts == 'abc', must be numbers"),
        (["--counts", "10,10", "--alpha", "2"], "--alpha == 2.0, must be < 1"),
        ([], "give exactly one of --counts or --data"),
    ],
)
def test_srm_bad_input(args: list[str], message: str) -> None:
    res = invoke(["srm", *args])
    assert res.exit_code == 2 and message in res.stderr, res.stderr


def test_srm_unknown_variant_in_data(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("variant,ts\ncontrol,2026-01-01\ntreatment,2026-01-01\nbeta,2026-01-02\n")
    res = invoke(
        ["srm", "--data", str(path), "--variants", "control,treatment", "--date-column", "ts"]
    )
    assert res.exit_code == 2 and "found beta" in res.stderr
