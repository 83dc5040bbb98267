"""``sds features build``: the feature table is written in the engine, atomically; bad
input exits 2 with a message and writes nothing (an earlier table survives)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sds.data import synth
from tests.conftest import invoke

SPEC = {
    "data": "events.csv",
    "entity": "customer_id",
    "timestamp": "ts",
    "cutoff": "2025-05-01",
    "windows": ["7d", "30d"],
    "aggregations": [{"column": "amount", "functions": ["nonnull", "sum", "mean"]}],
    "rfm": {"monetary": "amount"},
}


def _setup(tmp_path: Path, **changes: object) -> Path:
    events = synth.make_transactions(200, seed=2, months=6)
    events.to_csv(tmp_path / "events.csv", index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, **changes}))
    return spec


def test_build_writes_parquet_and_a_summary(tmp_path: Path) -> None:
    spec = _setup(tmp_path)
    out = tmp_path / "features" / "v1.parquet"
    res = invoke(["features", "build", str(spec), "--data-output", str(out), "-f", "json"])
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    frame = pd.read_parquet(out)
    assert summary["rows"] == len(frame) == frame["customer_id"].nunique()
    assert [f["feature"] for f in summary["features"]] == list(frame.columns[2:])
    assert "amount_sum_30d" in frame and "recency_days" in frame
    assert not any(p.name.endswith(".tmp") for p in out.parent.iterdir())


BAD = {
    "unparseable time": ({"timestamp": "category"}, "cannot be read as a timestamp"),
    "entity missing": ({"entity": "customer"}, "Did you mean 'customer_id'"),
    "window syntax": ({"windows": ["7 days"]}, "window '7 days' is not a duration"),
    "unknown function": (
        {"aggregations": [{"column": "amount", "functions": ["avg"]}]},
        "functions.0 == 'avg'",
    ),
    "labels and cutoff": ({"labels": "labels.csv"}, "not both or neither"),
    "label entities absent": (
        {"cutoff": None, "labels": "strangers.csv"},
        "none of the label table's entities appear in the events",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_and_keeps_the_earlier_table(case: str, tmp_path: Path) -> None:
    changes, message = BAD[case]
    spec = _setup(tmp_path, **changes)
    pd.DataFrame({"customer_id": [-1, -2], "label_time": ["2025-05-01", "2025-05-02"]}).to_csv(
        tmp_path / "strangers.csv", index=False
    )
    out = tmp_path / "features.parquet"
    out.write_bytes(b"earlier good table")
    res = invoke(["features", "build", str(spec), "--data-output", str(out)])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_bytes() == b"earlier good table"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_output_must_be_parquet(tmp_path: Path) -> None:
    spec = _setup(tmp_path)
    res = invoke(["features", "build", str(spec), "--data-output", str(tmp_path / "f.csv")])
    assert res.exit_code == 2 and "written as Parquet" in res.stderr


def _pipeline(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(__file__).parents[2] / "scripts" / "feature_engineering_pipeline.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )


def test_seed_pipeline_builds_from_a_folder_of_raw_files(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    events = synth.make_transactions(300, seed=4, months=6)
    half = len(events) // 2
    events.iloc[:half].to_parquet(raw / "part-1.parquet")
    events.iloc[half:].to_parquet(raw / "part-2.parquet")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({k: v for k, v in SPEC.items() if k != "data"}))
    out = tmp_path / "features" / "v2"
    proc = _pipeline("-i", str(raw), "-o", str(out), "-c", str(config))
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    frame = pd.read_parquet(out / "features.parquet")
    assert status["status"] == "completed" and status["processed_items"] == len(frame)
    assert {"start_time", "end_time"} <= set(status)
    assert len(frame) == events["customer_id"].nunique()  # every entity, history or not
    assert json.loads((out / "summary.json").read_text())["rows"] == len(frame)


def test_seed_pipeline_without_a_spec_or_data_exits_2(tmp_path: Path) -> None:
    proc = _pipeline("-i", str(tmp_path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2  # without -c: the default features of the tables found
    assert "no data files" in json.loads(proc.stdout.strip().splitlines()[-1])["error"]
    assert not (tmp_path / "out").exists()


def test_select_reports_why_each_feature_went(tmp_path: Path) -> None:
    data = tmp_path / "churn.parquet"
    synth.make_churn(4000, seed=2).to_parquet(data)
    report = tmp_path / "selection.json"
    res = invoke(
        ["features", "select", "--data", str(data), "--target", "churned", "-o", str(report)]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(report.read_text())
    reasons = {x["feature"]: x["reason"] for x in d["dropped"]}
    assert reasons["country"] == "constant" and reasons["customer_id"] == "ID-like"
    assert "tenure_months" in d["kept"]
    html = tmp_path / "selection.html"
    args = ["features", "select", "--data", str(data), "--target", "churned", "--max-rows", "1500"]
    assert invoke([*args, "-o", str(html)]).exit_code == 0
    assert "Cumulative importance" in html.read_text() and "<svg" in html.read_text()


@pytest.mark.parametrize(
    ("target", "message"), [("churn", "Did you mean 'churned'"), ("country", "fewer than two")]
)
def test_select_bad_target_exits_2(target: str, message: str, tmp_path: Path) -> None:
    data = tmp_path / "churn.parquet"
    synth.make_churn(500, seed=2).to_parquet(data)
    out = tmp_path / "s.json"
    res = invoke(["features", "select", "--data", str(data), "--target", target, "-o", str(out)])
    assert res.exit_code == 2 and message in res.stderr, res.stderr
    assert not out.exists()


def test_seed_analyze_profiles_a_project_and_writes_only_the_report(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "data" / "raw").mkdir(parents=True)
    synth.make_transactions(300, seed=1).to_parquet(project / "data" / "raw" / "tx.parquet")
    synth.make_churn(400, seed=1).to_csv(project / "data" / "customers.csv", index=False)
    before = sorted(p.name for p in project.rglob("*"))
    out = tmp_path / "report"
    proc = _pipeline("--target", str(project), "--analyze", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["processed_items"] == 2
    assert sorted(p.name for p in project.rglob("*")) == before
    assert sorted(p.name for p in out.iterdir()) == ["feature_report.html", "feature_report.json"]
    tables = {
        Path(t["source"]).name: t
        for t in json.loads((out / "feature_report.json").read_text())["tables"]
    }
    tx = tables["tx.parquet"]
    assert (tx["entity"], tx["timestamp"]) == ("customer_id", "ts")
    assert tx["draft_spec"]["aggregations"][0]["column"] == "amount"
    roles = {c["column"]: c["recommendation"] for c in tables["customers.csv"]["columns"]}
    assert roles["country"] == "drop" and roles["customer_id"] == "identifier: not a feature"
    assert roles["zip_code"] == "frequency or target encoding" and roles["contract"] == "one-hot"
    proc = _pipeline("--analyze")
    assert proc.returncode == 2 and "--target" in proc.stdout
