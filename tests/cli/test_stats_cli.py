"""``sds stats`` and the seed ``scripts/statistical_analyzer.py``: detection, --by, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.conftest import invoke

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ab_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(9)
    n = 120
    df = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "variant": np.repeat(["control", "treatment"], n // 2),
            "revenue": np.r_[rng.normal(10, 2, n // 2), rng.normal(11, 2, n // 2)],
            "country": rng.choice(["de", "fr", "us"], n),
        }
    )
    path = tmp_path / "input.csv"
    df.to_csv(path, index=False)
    return path


def test_seed_command_exactly_as_written(ab_csv: Path) -> None:
    """``python scripts/statistical_analyzer.py --data input.csv --test ttest --output ...``"""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/statistical_analyzer.py"),
            "--data",
            "input.csv",
            "--test",
            "ttest",
            "--output",
            "report.json",
        ],
        cwd=ab_csv.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status["status"] == "completed" and status["processed_items"] == 1
    assert {"start_time", "end_time"} <= set(status)
    report = json.loads((ab_csv.parent / "report.json").read_text())
    required = {
        "test",
        "statistic",
        "p_value",
        "df",
        "effect_size",
        "effect_size_name",
        "ci_lower",
        "ci_upper",
        "n",
        "assumptions",
        "warnings",
    }
    assert required <= set(report)
    df = pd.read_csv(ab_csv)
    ref = stats.ttest_ind(
        df.revenue[df.variant == "control"],
        df.revenue[df.variant == "treatment"],
        equal_var=False,
    )
    assert report["test"] == "Welch t-test"
    assert report["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert report["n"] == {"control": 60, "treatment": 60}


def test_ambiguous_columns_are_listed(ab_csv: Path, tmp_path: Path) -> None:
    df = pd.read_csv(ab_csv)
    df["cost"] = df.revenue * 0.3
    df["segment"] = np.where(df.user_id % 2 == 0, "new", "old")
    path = tmp_path / "ambiguous.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "report.json"
    res = invoke(["stats", "ttest", "--data", str(path), "--output", str(out)])
    assert res.exit_code == 2
    assert "revenue, cost" in res.stderr and "--value" in res.stderr
    assert not out.exists()
    res = invoke(["stats", "ttest", "--data", str(path), "--value", "cost", "-f", "json"])
    assert "variant, segment" in res.stderr and res.exit_code == 2


def test_by_adjusts_across_levels(ab_csv: Path) -> None:
    res = invoke(
        [
            "stats",
            "ttest",
            "--data",
            str(ab_csv),
            "--value",
            "revenue",
            "--group",
            "variant",
            "--by",
            "country",
            "-f",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert [r["level"] for r in d["rows"]] == ["de", "fr", "us"]
    from statsmodels.stats.multitest import multipletests

    raw = [r["p_value"] for r in d["rows"]]
    assert [r["p_adjusted"] for r in d["rows"]] == pytest.approx(
        list(multipletests(raw, method="holm")[1]), rel=1e-12
    )


def test_every_format_renders(ab_csv: Path, tmp_path: Path) -> None:
    for suffix in ("json", "md", "html", "txt"):
        out = tmp_path / f"r.{suffix}"
        res = invoke(["stats", "auto", "--data", str(ab_csv), "-o", str(out)])
        assert res.exit_code == 0, res.stderr
        assert "Why this test" in out.read_text() or suffix == "json"


def _frame(tmp_path: Path, name: str, df: pd.DataFrame) -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


BAD = {
    "one group": (
        pd.DataFrame({"y": [1.0, 2.0, 3.0], "g": ["a", "a", "a"]}),
        ["ttest", "--value", "y", "--group", "g"],
        "exactly two groups",
    ),
    "group of size one": (
        pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": ["a", "a", "a", "b"]}),
        ["ttest", "--value", "y", "--group", "g"],
        "group 'b' has 1 value",
    ),
    "all-equal values": (
        pd.DataFrame({"y": [2.0] * 6, "g": list("aaabbb")}),
        ["ttest", "--value", "y", "--group", "g"],
        "constant",
    ),
    "non-numeric values": (
        pd.DataFrame({"y": ["1", "2", "x", "4"], "g": list("aabb")}),
        ["ttest", "--value", "y", "--group", "g"],
        "column 'y': is not numeric",
    ),
    "missing column": (
        pd.DataFrame({"revenue": [1.0, 2.0, 3.0, 4.0], "g": list("aabb")}),
        ["ttest", "--value", "revenu", "--group", "g"],
        "Did you mean 'revenue'",
    ),
    "unknown test": (
        pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": list("aabb")}),
        ["tetst", "--value", "y", "--group", "g"],
        "'ttest'?",
    ),
    "formula names a missing column": (
        pd.DataFrame({"revenue": [1.0, 2.0, 3.0, 4.0], "price": [1.0, 3.0, 2.0, 5.0]}),
        ["ols", "--formula", "revenue ~ prices"],
        "Did you mean 'price'",
    ),
    "logit on a non-binary outcome": (
        pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 0.0], "x": [1.0, 3.0, 2.0, 5.0, 4.0]}),
        ["logit", "--formula", "y ~ x"],
        "needs a 0/1 outcome",
    ),
    "regression without a formula": (
        pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [1.0, 3.0, 2.0, 5.0]}),
        ["ols"],
        "needs --formula",
    ),
    "all NaN in a group": (
        pd.DataFrame({"y": [1.0, 2.0, None, None], "g": list("aabb")}),
        ["mannwhitney", "--value", "y", "--group", "g"],
        "group 'b' has 0 value",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_and_writes_nothing(case: str, tmp_path: Path) -> None:
    df, args, message = BAD[case]
    path = _frame(tmp_path, "bad.csv", df)
    out = tmp_path / "report.json"
    out.write_text("{}")  # an earlier good report must survive
    res = invoke(["stats", *args, "--data", str(path), "-o", str(out)])
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_text() == "{}"


def test_nan_values_are_dropped_with_a_warning(tmp_path: Path) -> None:
    df = pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0, 5.0, 3.0, 7.0], "g": list("aaaabbb")})
    res = invoke(
        [
            "stats",
            "ttest",
            "--data",
            str(_frame(tmp_path, "nan.csv", df)),
            "--value",
            "y",
            "--group",
            "g",
            "-f",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    assert any("1 missing value(s) were dropped" in w for w in json.loads(res.stdout)["warnings"])


def test_regression_from_the_command_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame({"price": rng.normal(10, 2, n), "region": rng.choice(["n", "s"], n)})
    df["revenue"] = 20 - df.price + (df.region == "s") * 2 + rng.normal(size=n)
    df["bought"] = (df.revenue > 10).astype(int)
    df["user"] = rng.integers(0, 30, n)
    path = _frame(tmp_path, "reg.csv", df)
    formula = "revenue ~ price + C(region)"
    args = ["ols", "--data", str(path), "--formula", formula, "--cluster", "user", "-f", "json"]
    res = invoke(["stats", *args])
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["cov_type"] == "cluster" and out["n"]["clusters"] == 30
    terms = {c["term"]: c for c in out["coefficients"]}
    assert terms["price"]["estimate"] == pytest.approx(-1, abs=0.15)
    # a perfectly separated logistic regression is reported, with its warning, not a crash
    separated = pd.DataFrame({"x": np.arange(20.0), "y": [0] * 10 + [1] * 10})
    args = ["logit", "--data", str(_frame(tmp_path, "sep.csv", separated)), "--formula", "y ~ x"]
    res = invoke(["stats", *args, "-f", "json"])
    assert res.exit_code == 0, res.stderr
    assert any("separation" in w for w in json.loads(res.stdout)["warnings"])


@pytest.mark.parametrize("test", ["paired", "wilcoxon", "sign"])
def test_a_paired_test_with_independent_groups_is_refused(ab_csv: Path, test: str) -> None:
    """``sds stats wilcoxon --group variant`` (no pairs) ran a two-sample Kolmogorov-Smirnov
    test and showed it under the wilcoxon command; a paired test needs pairs."""
    res = invoke(["stats", test, "--data", str(ab_csv), "--value", "revenue", "--group", "variant"])
    assert res.exit_code == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: parameter '--group'")
    assert f"{test} compares pairs" in lines[0] and "mannwhitney" in lines[0]
    assert "Kolmogorov" not in res.stdout
