"""The seed contract: every documented invocation of ``scripts/*.py``, run exactly as
written (a subprocess) from a project folder laid out as the seed shows, prints the seed's
status line as its last line of stdout and writes what it says.

The status line has exactly four keys in this order on success
(``{"status": "completed", "start_time", "processed_items", "end_time"}``) and adds
``"error"`` on failure (``"status": "failed"``, exit 2 for bad input, 1 otherwise).
Training-heavy invocations (train, evaluate, the suite, --deploy, a live server) are marked
slow.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sds.data import synth
from sds.serving.deploycheck import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["status", "start_time", "processed_items", "end_time"]
DROP = ["customer_id", "retention_call", "referral_code", "zip_code"]  # ids, leak, rare codes
CHURN_ROWS = 600


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/raw/, data/experiment_config/, project/, config.yaml, prod.yaml,
    prod_config.yaml and input.csv, as the seed lays them out (models/ comes from train.py)."""
    root = tmp_path_factory.mktemp("seed")
    for folder in ("data/raw", "data/experiment_config", "project"):
        (root / folder).mkdir(parents=True)
    synth.make_transactions(120, seed=1, months=4).to_parquet(root / "data/raw/events.parquet")
    churn = synth.make_churn(CHURN_ROWS, seed=2)
    churn.to_csv(root / "data/raw/customers.csv", index=False)
    churn.to_parquet(root / "churn.parquet")
    synth.make_transactions(80, seed=3, months=3).to_parquet(root / "project/tx.parquet")
    churn.head(200).to_csv(root / "project/customers.csv", index=False)
    ab = synth.make_ab_test(1_500, seed=4)
    ab[["user_id", "variant", "revenue"]].to_csv(root / "input.csv", index=False)
    specs = root / "data/experiment_config"
    (specs / "checkout.yaml").write_text("name: checkout\nmetric: proportion\nbaseline: 0.05\n")
    (specs / "revenue.yaml").write_text("name: revenue\nmetric: mean\nmean: 5.2\nstd: 21.0\n")
    deploy = {"requests": 200, "connections": 4, "workers": 1, "p95_max_ms": 10_000}
    config = {
        "experiment_designer": {
            "defaults": {"mde": 0.1, "power": 0.9},
            "formats": ["json", "html"],
        },
        "model_evaluation_suite": {
            "models": "models/churn",
            "output": "evaluation_deploy",
            "deploy": deploy,
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    prod = {
        "name": "churn",
        "data": "churn.parquet",
        "target": "churned",
        "drop": DROP,
        "candidates": [{"name": "logistic", "tune": False}],
        "output": "models/churn",
        "tracking_uri": "sqlite:///mlruns.db",
    }
    (root / "prod.yaml").write_text(yaml.safe_dump(prod, sort_keys=False))
    (root / "prod_config.yaml").write_text(yaml.safe_dump({"scorecard": {"auc_min": 0.6}}))
    return root


def seed(
    project: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``python scripts/SCRIPT ARGS`` from the project folder; the status line parsed."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, **(env or {})},
    )
    last = done.stdout.strip().splitlines()[-1]
    return done, json.loads(last)


def completed(done: subprocess.CompletedProcess[str], status: dict[str, Any], items: int) -> None:
    """Exit 0 and exactly the seed's four keys, in its order, with ISO times."""
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert list(status) == KEYS, status
    assert status["status"] == "completed"
    start, end = (datetime.fromisoformat(status[k]) for k in ("start_time", "end_time"))
    assert start.utcoffset() == timedelta(0) and start <= end
    assert type(status["processed_items"]) is int and status["processed_items"] == items


def failed(done: subprocess.CompletedProcess[str], status: dict[str, Any], code: int) -> str:
    assert done.returncode == code, done.stderr
    assert list(status) == [*KEYS, "error"] and status["status"] == "failed"
    assert f"error: {status['error']}" in done.stderr  # the same one line on stderr
    return str(status["error"])


def test_feature_pipeline_without_a_config_builds_every_table(project: Path) -> None:
    done, status = seed(
        project, "feature_engineering_pipeline.py", "-i", "data/raw/", "-o", "features/v2/", "-v"
    )
    completed(done, status, 2)
    out = project / "features/v2"
    tables = {
        Path(t["table"]).name: t for t in json.loads((out / "pipeline.json").read_text())["tables"]
    }
    assert tables["customers.csv"]["features"] is None
    assert "not an event table" in tables["customers.csv"]["reason"]
    assert (out / "customers/profile.json").is_file() and not (out / "customers/spec.yaml").exists()
    events = pd.read_parquet(project / "data/raw/events.parquet")
    features = pd.read_parquet(out / "events/features.parquet")
    assert (
        len(features) == events["customer_id"].nunique() == tables["events.parquet"]["feature_rows"]
    )
    spec = yaml.safe_load((out / "events/spec.yaml").read_text())  # the spec used, reusable
    cutoff = pd.Timestamp(spec["cutoff"])
    assert cutoff == events["ts"].max().normalize() + pd.Timedelta(days=1)
    # brute force: events in the 30 days before the cutoff, per customer
    recent = events[(events["ts"] >= cutoff - pd.Timedelta(days=30)) & (events["ts"] < cutoff)]
    expected = recent.groupby("customer_id").size()
    got = features.set_index("customer_id")["event_count_30d"]
    assert (got.reindex(expected.index) == expected).all()
    assert (got.drop(expected.index) == 0).all()
    assert "building events.parquet" in done.stderr  # -v logs on stderr


def test_analyze_prints_the_report_on_stdout_and_copyable_yaml(project: Path) -> None:
    before = sorted(p.name for p in (project / "project").rglob("*"))
    done, status = seed(
        project, "feature_engineering_pipeline.py", "--target", "project/", "--analyze"
    )
    completed(done, status, 2)
    assert sorted(p.name for p in (project / "project").rglob("*")) == before  # writes nothing
    report = done.stdout.rsplit("\n", 2)[0]
    assert "Feature recommendations" in report and "Feature recommendations" not in done.stderr
    block = report.split("Draft feature spec for tx.parquet\n", 1)[1]
    draft = yaml.safe_load(block.split("\n\n", 1)[0])  # pasted as is, it is the spec
    assert draft["entity"] == "customer_id" and draft["timestamp"] == "ts"
    assert draft["aggregations"][0]["column"] == "amount"


def test_analyze_html_keeps_the_draft_spec_as_a_block() -> None:
    from sds.features.recommend import ProjectAnalysis

    spec = {"entity": "customer_id", "timestamp": "ts", "windows": ["7d", "30d"]}
    table = {"source": "tx.parquet", "rows": 3, "entity": "customer_id", "timestamp": "ts"}
    result = ProjectAnalysis("p", ({**table, "columns": [], "draft_spec": spec},))
    (pre,) = re.findall(r"<pre><code>(.*?)</code></pre>", result.render("html"), re.S)
    assert yaml.safe_load(html.unescape(pre)) == spec
    markdown = result.render("markdown")
    assert yaml.safe_load(markdown.split("```\n", 1)[1].split("```", 1)[0]) == spec


def test_experiment_designer_with_the_project_config(project: Path) -> None:
    done, status = seed(
        project,
        "experiment_designer.py",
        *("-i", "data/experiment_config/", "-o", "results/power_analysis/", "-c", "config.yaml"),
        "-v",
    )
    completed(done, status, 2)
    out = project / "results/power_analysis"
    assert sorted(p.name for p in out.iterdir()) == [
        "checkout.html",
        "checkout.json",
        "revenue.html",
        "revenue.json",
    ]
    plan = json.loads((out / "checkout.json").read_text())
    assert plan["power"] == pytest.approx(0.9)  # the config's defaults, under the spec


def test_statistical_analyzer(project: Path) -> None:
    from scipy import stats

    done, status = seed(
        project,
        "statistical_analyzer.py",
        *("--data", "input.csv", "--test", "ttest", "--output", "report.json"),
    )
    completed(done, status, 1)
    report = json.loads((project / "report.json").read_text())
    ab = pd.read_csv(project / "input.csv")
    values = [ab.loc[ab["variant"] == v, "revenue"] for v in ("control", "treatment")]
    assert report["p_value"] == pytest.approx(
        stats.ttest_ind(*values, equal_var=False).pvalue, rel=1e-6
    )


def test_health_check_without_a_server_fails_and_writes_its_findings(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done, status = seed(project, "health_check.py", "-o", "health/", env={"SDS_URL": url})
    assert url in failed(done, status, 1)  # the URL came from SDS_URL
    findings = json.loads((project / "health/health.json").read_text())
    assert findings["url"] == url and not any(c["ok"] for c in findings["checks"])


@pytest.mark.parametrize(
    ("script", "section", "key"),
    [
        ("experiment_designer.py", "experiment_designer", "formatz"),
        ("model_evaluation_suite.py", "model_evaluation_suite", "modles"),
    ],
)
def test_a_bad_config_key_exits_2_naming_it(
    project: Path, script: str, section: str, key: str
) -> None:
    bad = project / f"bad_{section}.yaml"
    bad.write_text(yaml.safe_dump({section: {key: "x"}}))
    done, status = seed(
        project, script, "-i", "data/experiment_config/", "-o", "out/", "-c", bad.name
    )
    assert f"unknown key '{key}'" in failed(done, status, 2)
    assert not (project / "out").exists()


@pytest.fixture(scope="module")
def trained(project: Path) -> Path:
    """``train.py --config prod.yaml`` as written, and a second model without one feature
    (trained in process) for the suite's comparison."""
    from sds.models.run import train_model

    done, status = seed(project, "train.py", "--config", "prod.yaml")
    completed(done, status, CHURN_ROWS)
    lean = yaml.safe_load((project / "prod.yaml").read_text())
    lean.update(name="lean", data=str(project / "churn.parquet"), drop=[*DROP, "support_calls"])
    del lean["output"], lean["tracking_uri"]
    train_model(lean, output=project / "models/lean", track=False)
    return project / "models"


@pytest.mark.slow
def test_train_writes_the_model_and_its_reports(trained: Path) -> None:
    folder = trained / "churn"
    assert {"model", "report.json", "report.html"} <= {p.name for p in folder.iterdir()}
    report = json.loads((folder / "report.json").read_text())
    assert report["chosen"] == "logistic"


@pytest.mark.slow
def test_evaluate_a_saved_model(project: Path, trained: Path) -> None:
    done, status = seed(project, "evaluate.py", "--model", "models/churn")
    rows = len(pd.read_parquet(trained / "churn/model/test.parquet"))
    completed(done, status, rows)
    assert json.loads((trained / "churn/evaluation/report.json").read_text())["rows"] == rows


@pytest.mark.slow
def test_suite_compares_models_on_their_common_columns(project: Path, trained: Path) -> None:
    from sklearn.metrics import roc_auc_score

    from sds.models.modelfile import load_model

    done, status = seed(
        project,
        "model_evaluation_suite.py",
        "-i",
        "models/",
        "-o",
        "evaluation/",
        "-c",
        "prod_config.yaml",
    )
    completed(done, status, 2)
    report = json.loads((project / "evaluation/report.json").read_text())
    assert sorted(report["models"]) == ["churn/model", "lean/model"]
    assert report["not_compared"] == []
    (pair,) = report["comparison"]  # lean lacks support_calls, yet shares the test rows
    aucs = {}
    for name in ("churn/model", "lean/model"):
        saved = load_model(trained / name)
        test = pd.read_parquet(saved.path / "test.parquet")
        scores = saved.model.predict_proba(test[saved.meta["features"]])[:, 1]
        aucs[name] = roc_auc_score(test["churned"], scores)
    assert pair["auc_a"] == pytest.approx(aucs[pair["model_a"]], abs=1e-9)
    assert pair["auc_b"] == pytest.approx(aucs[pair["model_b"]], abs=1e-9)
    (auc,) = (
        r for r in report["models"]["churn/model"]["scorecard"] if r["criterion"] == "AUC-ROC"
    )
    assert auc["threshold"] == "> 0.6"  # from prod_config.yaml


@pytest.mark.slow
def test_suite_deploy_reads_its_paths_from_the_config(project: Path, trained: Path) -> None:
    done, status = seed(project, "model_evaluation_suite.py", "--config", "config.yaml", "--deploy")
    completed(done, status, 1)
    report = json.loads((project / "evaluation_deploy/report.json").read_text())
    (check,) = report["deployment"].values()
    assert check["load"]["requests"] == 200 and all(r["pass"] for r in check["criteria"])


@pytest.mark.slow
def test_health_check_with_no_arguments_reads_sds_url(project: Path, trained: Path) -> None:
    with running_server(trained / "churn", "--workers", "1") as url:
        done, status = seed(project, "health_check.py", env={"SDS_URL": url})
    completed(done, status, 2)
