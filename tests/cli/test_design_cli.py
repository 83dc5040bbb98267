"""``sds design`` and ``scripts/experiment_designer.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sds.data import synth
from tests.conftest import invoke

ROOT = Path(__file__).resolve().parents[2]


def test_proportion_json_has_the_promised_keys() -> None:
    res = invoke(
        [
            "design",
            "proportion",
            "--baseline",
            "0.05",
            "--mde",
            "0.10",
            "-f",
            "json",
            "--daily-units",
            "4000",
        ]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    for key in (
        "n_per_variant",
        "n_total",
        "power",
        "mde_absolute",
        "mde_relative",
        "method",
        "days",
    ):
        assert key in d
    assert d["n_per_variant"] == [31234, 31234] and d["days"] == 16


def test_mean_and_ratio_commands(tmp_path: Path) -> None:
    res = invoke(["design", "mean", "--mean", "10", "--std", "5", "--mde", "0.02", "-f", "json"])
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["method"] == "t"
    path = tmp_path / "h.parquet"
    synth.make_ab_test(n_users=5_000, seed=1).to_parquet(path)
    res = invoke(
        [
            "design",
            "ratio",
            "--data",
            str(path),
            "--numerator",
            "orders",
            "--denominator",
            "sessions",
            "--mde",
            "0.2",
            "--covariate",
            "pre_revenue",
            "-f",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["method"] == "delta" and d["cuped"]["rho"] is not None


def test_text_output_explains(tmp_path: Path) -> None:
    res = invoke(["design", "proportion", "--baseline", "0.05", "--mde", "0.1"])
    assert "you have an 80% chance to detect" in res.stdout
    out = tmp_path / "plan.html"
    assert (
        invoke(
            ["design", "proportion", "--baseline", "0.05", "--mde", "0.1", "-o", str(out)]
        ).exit_code
        == 0
    )
    assert "Methods compared" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["proportion", "--baseline", "1.5", "--mde", "0.1"], "baseline == 1.5, must be < 1"),
        (["proportion", "--baseline", "0", "--mde", "0.1"], "baseline == 0.0, must be > 0"),
        (["mean", "--mean", "1", "--std", "-5", "--mde", "0.1"], "std == -5.0, must be > 0"),
        (
            ["proportion", "--baseline", "0.05", "--mde", "0.1", "--alpha", "1"],
            "alpha == 1.0, must be < 1",
        ),
        (
            ["proportion", "--baseline", "0.05", "--mde", "0.1", "--power", "1.2"],
            "power == 1.2, must be < 1",
        ),
        (
            ["proportion", "--baseline", "0.05", "--mde", "0.1", "--correction", "tukey"],
            "--correction: 'tukey' is not one of 'holm',",
        ),
        (
            ["proportion", "--baseline", "0.05", "--mde", "0.1", "--ratio", "-1"],
            "ratio == -1.0, must be > 0",
        ),
        (
            ["proportion", "--baseline", "0.05", "--mde", "0.1", "--arms", "1"],
            "--arms == 1, must be >= 2",
        ),
        (
            ["proportion", "--baseline", "0.05", "--mde", "0.1", "--looks", "0"],
            "looks == 0, must be >= 1",
        ),
    ],
)
def test_bad_parameters_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "plan.json"
    res = invoke(["design", *args, "-o", str(out)])
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr and res.stderr.startswith("error: ")
    assert len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_empty_history_file(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("converted\n")
    res = invoke(
        [
            "design",
            "proportion",
            "--data",
            str(tmp_path / "h.csv"),
            "--column",
            "converted",
            "--mde",
            "0.1",
        ]
    )
    assert res.exit_code == 2 and "has no data rows" in res.stderr


def test_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("metric: proportion\nbaseline: 0.05\nmde: 0.1\n")
    res = invoke(["design", "spec", str(spec), "-f", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["n_total"] == 62468
    spec.write_text("metric: proportion\nbaseline: 0.05\nmdee: 0.1\n")
    res = invoke(["design", "spec", str(spec)])
    assert res.exit_code == 2 and "Did you mean 'mde'?" in res.stderr


def _designer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "experiment_designer.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_seed_script_plans_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "plans"
    (tmp_path / "config.yaml").write_text("defaults:\n  daily_units: 5000\nformats: [json, html]\n")
    proc = _designer(
        "-i",
        str(ROOT / "examples" / "designs"),
        "-o",
        str(out),
        "-c",
        str(tmp_path / "config.yaml"),
    )
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status["status"] == "completed" and status["processed_items"] == 2
    assert list(status) == ["status", "start_time", "processed_items", "end_time"]
    plan = json.loads((out / "checkout_conversion.json").read_text())
    assert plan["n_per_variant"] == [31234, 31234] and plan["daily_units"] == 4000
    assert (out / "revenue_per_user.html").exists()


def test_seed_script_bad_spec_writes_nothing(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text("baseline: 0.05\nmde: 0.1\n")
    (specs / "b.yaml").write_text("baseline: 1.5\nmde: 0.1\n")
    proc = _designer("-i", str(specs), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status["status"] == "failed" and "baseline == 1.5" in status["error"]
    assert "b.yaml" in status["error"]
    assert not (tmp_path / "out").exists()


def test_seed_script_analyses_specs_of_kind_analysis(tmp_path: Path) -> None:
    from sds.data import synth

    specs = tmp_path / "specs"
    specs.mkdir()
    synth.make_ab_test(4000, seed=3).to_csv(specs / "ab.csv", index=False)
    (specs / "plan.yaml").write_text("baseline: 0.05\nmde: 0.1\n")
    (specs / "result.yaml").write_text(
        "kind: analysis\ndata: ab.csv\nunit: user_id\nvariant: variant\ncontrol: control\n"
        "metrics:\n  - {name: revenue, type: mean, column: revenue, covariate: pre_revenue}\n"
    )
    out = tmp_path / "out"
    proc = _designer("-i", str(specs), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["processed_items"] == 2
    result = json.loads((out / "result.json").read_text())
    assert result["verdict"] in {"ship", "don't ship", "inconclusive"}
    assert result["effects"][0]["cuped"]["variance_reduction"] > 0
    assert json.loads((out / "plan.json").read_text())["n_total"] > 0
