"""The ``sds`` entry point: fast help, lazy imports, the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sds.data.synth import ABEventsParams
from tests.conftest import invoke

HEAVY = ("ibis", "duckdb", "pandas", "numpy", "pyarrow", "matplotlib", "scipy", "statsmodels")


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from sds.cli.main import app; import sds; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_help() -> None:
    exe = Path(sys.executable).parent / "sds"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "profile" in out.stdout and "demo" in out.stdout


def test_no_arguments_shows_usage() -> None:
    res = invoke([])
    assert res.exit_code == 2
    assert "Usage" in res.stdout + res.stderr


def test_demo_writes_report(tmp_path: Path) -> None:
    res = invoke(["demo", "--rows", "3000", "--output", str(tmp_path)])
    assert res.exit_code == 0, res.stderr
    html = (tmp_path / "index.html").read_text()
    assert html.count("<svg") >= 10 and "Data profile: churn table" in html
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["chapters"][0]["json"] == "profile.json"
    profile = json.loads((tmp_path / "profile.json").read_text())
    assert profile["n_rows"] == 3000
    assert f"report: {tmp_path / 'index.html'}" in res.stdout
    # the analysis chapter finds the planted lift, novelty and platform logging bug
    analysis = json.loads((tmp_path / "analysis_checkout.json").read_text())
    effect = next(e for e in analysis["effects"] if e["metric"] == "orders_per_session")
    planted = ABEventsParams().pooled_lift
    assert effect["rel_ci_lower"] < planted < effect["rel_ci_upper"]
    assert analysis["novelty"]["arms"]["treatment"]["pattern"].startswith("novelty")
    assert analysis["segments"]["platform"]["mix"]["shift"]
    assert analysis["verdict"] == "invalid experiment"
    assert (tmp_path / "specs" / "checkout_analysis.yaml").exists()
    # the model chapters: the scorecard names the planted leak, then trains without it
    leaky = json.loads((tmp_path / "model_leaky.json").read_text())
    card = {r["criterion"]: r for r in leaky["evaluation"]["scorecard"]}
    assert card["leaky features"]["value"] == "retention_call"
    clean = json.loads((tmp_path / "model_churn.json").read_text())
    assert "retention_call" not in json.dumps(clean["evaluation"]["importance"])
    assert (tmp_path / "models" / "churn" / "model" / "model.json").exists()
    # the causal chapters, on public data: the observational ATT brackets the experiment's
    for name in ("matching", "weighting"):
        nsw = json.loads((tmp_path / f"causal_nsw_{name}.json").read_text())
        assert nsw["ci_lower"] < 1794.34 < nsw["ci_upper"]
    senate = json.loads((tmp_path / "causal_senate_rdd.json").read_text())
    assert senate["method"] == "rdd-sharp" and 7.4 < senate["estimate"] < 7.42
    assert "Causal: minimum wages, staggered adoption" in html


def test_lazy_public_api() -> None:
    import sds

    assert callable(sds.profile) and callable(sds.open_table)
    assert "profile" in dir(sds)
    with pytest.raises(AttributeError, match="nonexistent"):
        sds.nonexistent  # noqa: B018
