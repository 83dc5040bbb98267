"""The ``sds`` entry point: fast help, lazy imports, the demo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
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


def test_python_dash_m_sds_is_the_same_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sds", "srm", "--counts", "50500,49500", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["counts"] == [50500, 49500]
    usage = subprocess.run([sys.executable, "-m", "sds", "--help"], capture_output=True, text=True)
    assert usage.returncode == 0 and usage.stdout.lstrip().startswith("Usage: sds ")


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
    _check_new_chapters(tmp_path, html, index, res.stdout + res.stderr)


NEW_CHAPTERS = {
    "Assignment: deterministic hash split of 2 arms": "assignment.json",
    "Assignment: sample-ratio check of the split": "assignment_srm.json",
    "Features: point-in-time build from transactions": "features_build.json",
    "Features: selection with leakage checks": "features_select.json",
    "Features: registered in the feature store": "features_register.json",
    "Serving: churn model behind a live sds serve": "serving.json",
    "Canary: challenger against champion, live": "canary.json",
    "Monitoring: drift after a planted shift": "monitor_drift.json",
    "Monitoring: the served requests (request log)": "monitor_log.json",
}


def _check_new_chapters(out: Path, html: str, index: dict[str, Any], printed: str) -> None:
    """Assignment, features, serving, canary and monitoring: each chapter is linked from
    the index and written; the figures are those of the data; no server is left running;
    no third-party log line was printed."""
    from scipy.stats import chisquare

    listed = {c["title"]: c["json"] for c in index["chapters"]}
    for title, name in NEW_CHAPTERS.items():
        assert listed.get(title) == name and (out / name).exists()
        assert f'href="#{index["chapters"][list(listed).index(title)]["anchor"]}"' in html
    counts = [r["units"] for r in _json(out, "assignment.json")["variants"]]
    assert sum(counts) == 50_000 == len(pd.read_parquet(out / "data" / "assignment.parquet"))
    srm = _json(out, "assignment_srm.json")
    assert srm["p_value"] == pytest.approx(chisquare(counts).pvalue, rel=1e-9)
    assert _json(out, "features_register.json")["ref"] == "customers@v1"
    assert (out / "feature_store" / "customers" / "v1" / "manifest.json").exists()
    assert "stopped" not in _json(out, "features_select.json")["kept"]
    load = next(iter(_json(out, "serving.json")["deployment"].values()))["load"]
    assert load["requests"] == 200 and load["errors"] == 0
    assert 0 < load["p50_ms"] <= load["p95_ms"]
    canary = _json(out, "canary.json")
    assert sum(v["requests"] for v in canary["variants"]) == 400
    assert canary["decision"] in ("promote", "keep waiting", "roll back")
    assert {"monthly_charges", "support_calls"} <= set(_json(out, "monitor_drift.json")["alerts"])
    assert _json(out, "monitor_log.json")["service"]["log_rows"] == 400
    assert _processes_mentioning(str(out)) == []  # every server (and worker) is gone
    assert not re.search(r"^(DEBUG|INFO|WARNING|ERROR):", printed, re.MULTILINE)


def _json(out: Path, name: str) -> Any:
    return json.loads((out / name).read_text())


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that mention ``text`` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        if text in command:
            found.append(command)
    return found


def test_lazy_public_api() -> None:
    import sds

    assert callable(sds.profile) and callable(sds.open_table)
    assert "profile" in dir(sds)
    with pytest.raises(AttributeError, match="nonexistent"):
        sds.nonexistent  # noqa: B018
