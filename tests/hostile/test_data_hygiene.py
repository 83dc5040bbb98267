"""Bad data never gives a silent wrong answer or an internal error.

Overflowing values (1e307), infinite values, text in a numeric column, an empty column,
null ids, variants and treatments, collinear covariates and absurd spec numbers: each is
either refused (exit 2, one line naming the column and what was found) or reported in the
result with its figure, and no third-party warning text reaches stderr (pytest turns any
warning into an error, so a leaked one would show as an internal error here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sds.data import synth
from tests.conftest import CliResult, invoke

pytestmark = pytest.mark.hostile


def _one_line_error(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "internal error" not in lines[0] and "Warning" not in stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _json(stdout: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(stdout)
    return out


# --- sds analyze ---------------------------------------------------------------------------

ANALYSIS = {
    "unit": "user_id",
    "variant": "variant",
    "control": "control",
    "metrics": [
        {"name": "conversion", "type": "proportion", "column": "converted"},
        {"name": "revenue", "type": "mean", "column": "revenue"},
    ],
    "primary": ["revenue"],
    "guardrails": ["conversion"],
}


@pytest.fixture(scope="module")
def ab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ab")
    (folder / "spec.yaml").write_text(yaml.safe_dump({"data": "ab.csv", **ANALYSIS}))
    frame = synth.make_ab_test(n_users=2_000, seed=1)
    frame.to_csv(folder / "ab.csv", index=False)
    return folder


def test_analyze_overflowing_primary_metric_is_an_invalid_analysis(ab: Path) -> None:
    frame = pd.read_csv(ab / "ab.csv")
    frame["revenue"] = frame["revenue"] * 1e305 + 1e307  # sums overflow double precision
    frame.to_csv(ab / "huge.csv", index=False)
    args = ["analyze", str(ab / "spec.yaml"), "--data", str(ab / "huge.csv"), "--format", "json"]
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    d = _json(result.stdout)
    assert d["verdict"] == "invalid analysis"
    assert d["reasons"][0].startswith("the primary metric 'revenue' could not be computed")
    assert "2,000 value(s) beyond ±1e+150" in d["reasons"][0]
    revenue = next(e for e in d["effects"] if e["metric"] == "revenue")
    assert revenue["effect"] is None and revenue["p_value"] is None  # was p = 1.0
    assert revenue["not_computed"]
    strict = invoke([*args, "--strict"])
    assert strict.exit_code == 1
    assert "invalid analysis" in strict.stderr and "Warning" not in strict.stderr


def test_analyze_strict_exits_1_on_a_sample_ratio_mismatch(ab: Path) -> None:
    frame = pd.read_csv(ab / "ab.csv")
    treated = frame.index[frame["variant"] == "treatment"]
    frame.drop(treated[: len(treated) // 3]).to_csv(ab / "srm.csv", index=False)
    args = ["analyze", str(ab / "spec.yaml"), "--data", str(ab / "srm.csv"), "--format", "json"]
    assert _json(invoke(args).stdout)["verdict"] == "invalid experiment"
    assert invoke(args).exit_code == 0
    strict = invoke([*args, "--strict"])
    assert strict.exit_code == 1 and "sample-ratio mismatch" in strict.stderr


def test_analyze_refuses_null_unit_ids_and_variants(ab: Path) -> None:
    frame = pd.read_csv(ab / "ab.csv")
    ids = frame.astype({"user_id": "Int64"})
    ids.loc[:999, "user_id"] = pd.NA  # merged into one "unit" before: grain became 'event'
    ids.to_csv(ab / "null_ids.csv", index=False)
    result = invoke(["analyze", str(ab / "spec.yaml"), "--data", str(ab / "null_ids.csv")])
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'user_id'", "1,000 of 2,000 row(s) with a null id")
    variants = frame.copy()
    variants.loc[:99, "variant"] = None
    variants.to_csv(ab / "null_variants.csv", index=False)
    result = invoke(["analyze", str(ab / "spec.yaml"), "--data", str(ab / "null_variants.csv")])
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'variant'", "100 unit(s)")


# --- sds features build --------------------------------------------------------------------

FEATURES = {
    "entity": "customer_id",
    "timestamp": "ts",
    "cutoff": "2025-03-15",
    "windows": ["7d", "30d"],
    "aggregations": [{"column": "amount", "functions": ["nonnull", "sum", "mean", "std", "max"]}],
}


@pytest.fixture(scope="module")
def tx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tx")
    synth.make_transactions(150, seed=5, months=3).to_csv(folder / "tx.csv", index=False)
    (folder / "spec.yaml").write_text(yaml.safe_dump({"data": "tx.csv", **FEATURES}))
    return folder


def _build(folder: Path, data: Path, spec: str = "spec.yaml") -> CliResult:
    out = folder / "features.parquet"
    args = ["features", "build", str(folder / spec), "--data", str(data)]
    return invoke([*args, "--data-output", str(out), "--format", "json"])


@pytest.mark.parametrize("every", [1, 3])  # every row 'abc', every third row
def test_features_text_in_a_numeric_column_is_refused(tx: Path, every: int) -> None:
    frame = pd.read_csv(tx / "tx.csv").astype({"amount": object})
    frame.loc[frame.index % every == 0, "amount"] = "abc"
    frame.to_csv(tx / "wrong.csv", index=False)
    result = _build(tx, tx / "wrong.csv")
    assert result.exit_code == 2
    bad = int((frame.index % every == 0).sum())
    _one_line_error(
        result.stderr,
        "column 'amount'",
        "type string",
        f"{bad:,} value(s) that are not numbers, e.g. 'abc'",
        "expected numbers",
    )


def test_features_empty_text_column_is_used_as_numbers_with_a_warning(tx: Path) -> None:
    frame = pd.read_csv(tx / "tx.csv")
    frame["amount"] = pd.Series([None] * len(frame), dtype="string")  # VARCHAR, all null
    frame.to_parquet(tx / "empty.parquet")
    result = _build(tx, tx / "empty.parquet")
    assert result.exit_code == 0, result.stderr
    d = _json(result.stdout)
    assert any("column 'amount' has no values at all" in w for w in d["warnings"])
    sums = [f for f in d["features"] if f["feature"].startswith("amount_sum")]
    assert sums and all(f["type"] == "float64" for f in sums)


def test_features_overflowing_values_and_huge_windows_are_refused(tx: Path) -> None:
    frame = pd.read_csv(tx / "tx.csv")
    frame["amount"] = frame["amount"] * 1e305  # STDDEV_SAMP out of range in the engine
    frame.to_csv(tx / "huge.csv", index=False)
    result = _build(tx, tx / "huge.csv")
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'amount'", f"{len(frame):,} value(s) beyond ±1e+150")
    spec = {"data": "tx.csv", **FEATURES, "windows": ["7d", "1" + "0" * 30 + "d"]}
    (tx / "window.yaml").write_text(yaml.safe_dump(spec))
    result = _build(tx, tx / "tx.csv", "window.yaml")
    assert result.exit_code == 2
    _one_line_error(result.stderr, "window '1000", "longer than 36,525 days")


# --- sds train / sds evaluate --------------------------------------------------------------

TRAIN = {
    "target": "churned",
    "drop": ["customer_id"],
    "candidates": [{"name": "logistic", "tune": False}],
    "tuning": {"trials": 1, "folds": 3},
}


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("churn")
    synth.make_churn(800, seed=3).to_csv(folder / "churn.csv", index=False)
    (folder / "train.yaml").write_text(yaml.safe_dump({"data": "churn.csv", **TRAIN}))
    return folder


def _train(folder: Path, data: Path, name: str) -> CliResult:
    args = ["train", str(folder / "train.yaml"), "--data", str(data), "--no-track"]
    return invoke([*args, "--model-dir", str(folder / name), "--format", "json"])


@pytest.fixture(scope="module")
def model(churn: Path) -> Path:
    result = _train(churn, churn / "churn.csv", "ok")
    assert result.exit_code == 0, result.stderr
    return churn / "ok" / "model"


def test_train_an_empty_feature_is_left_out_with_a_warning(churn: Path) -> None:
    frame = pd.read_csv(churn / "churn.csv")
    frame["monthly_charges"] = np.nan
    frame.to_parquet(churn / "empty.parquet")
    result = _train(churn, churn / "empty.parquet", "empty")
    assert result.exit_code == 0, result.stderr
    assert "UserWarning" not in result.stderr
    warnings = _json(result.stdout)["evaluation"]["warnings"]
    assert warnings[0].startswith("feature 'monthly_charges' has no values in the 560")
    saved = json.loads((churn / "empty" / "model" / "model.json").read_text())
    assert "monthly_charges" not in saved["features"]


def test_train_refuses_overflowing_values_and_unbounded_trials(churn: Path) -> None:
    frame = pd.read_csv(churn / "churn.csv")
    frame["monthly_charges"] = frame["monthly_charges"] * 1e305
    frame.to_csv(churn / "huge.csv", index=False)
    result = _train(churn, churn / "huge.csv", "huge")
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'monthly_charges'", "800 value(s) beyond ±1e+150")
    many = {"data": "churn.csv", **TRAIN, "tuning": {"trials": 10**30}}
    (churn / "many.yaml").write_text(yaml.safe_dump(many))
    result = invoke(["train", str(churn / "many.yaml"), "--no-track"])
    assert result.exit_code == 2
    _one_line_error(result.stderr, "tuning.trials")


def _evaluate(model: Path, frame: pd.DataFrame, path: Path) -> CliResult:
    frame.to_csv(path, index=False)
    return invoke(["evaluate", "--model", str(model), "--data", str(path), "--format", "json"])


@pytest.mark.parametrize("every", [1, 3])
def test_evaluate_text_in_a_numeric_input_is_refused(churn: Path, model: Path, every: int) -> None:
    frame = pd.read_csv(churn / "churn.csv").astype({"monthly_charges": object})
    frame.loc[frame.index % every == 0, "monthly_charges"] = "abc"
    result = _evaluate(model, frame, churn / "wrong.csv")
    assert result.exit_code == 2
    bad = int((frame.index % every == 0).sum())
    _one_line_error(
        result.stderr,
        "column 'monthly_charges'",
        f"{bad:,} of 800 not numbers, e.g. 'abc'",
        "expected number values",
    )


def test_evaluate_infinite_inputs_are_refused_and_far_ones_reported(
    churn: Path, model: Path
) -> None:
    frame = pd.read_csv(churn / "churn.csv")
    inf = frame.copy()
    inf.loc[::7, "monthly_charges"] = np.inf
    result = _evaluate(model, inf, churn / "inf.csv")
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'monthly_charges'", "115 in 'monthly_charges'")
    frame["monthly_charges"] = frame["monthly_charges"] * 1e305
    result = _evaluate(model, frame, churn / "far.csv")
    assert result.exit_code == 0, result.stderr
    warnings = _json(result.stdout)["warnings"]
    assert warnings[0].startswith("inputs outside the training range")
    assert "'monthly_charges': 800 of 800 value(s) (100%) outside" in warnings[0]


# --- sds causal ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("causal")
    rng = np.random.default_rng(4)
    n = 400
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x1))).astype(int)
    z = rng.integers(0, 2, n)
    run = rng.uniform(-1, 1, n)
    frame = pd.DataFrame(
        {
            "y": 1 + 2 * t + x1 + 0.5 * x2 + rng.normal(size=n),
            "t": t,
            "x1": x1,
            "x2": x2,
            "z": z,
            "d": ((z + rng.normal(size=n)) > 0.5).astype(int),
            "run": run,
        }
    )
    frame.to_csv(folder / "cs.csv", index=False)
    frame.assign(y=frame["y"] * 1e306).to_csv(folder / "huge.csv", index=False)
    frame.assign(x3=2 * frame["x1"] - frame["x2"]).to_csv(folder / "collinear.csv", index=False)
    nulls = frame.astype({"t": "Int64"})
    nulls.loc[:49, "t"] = pd.NA
    nulls.to_csv(folder / "null_t.csv", index=False)
    panel = synth.make_panel(40, seed=2)
    panel.assign(y=panel["y"] * 1e306).to_csv(folder / "panel_huge.csv", index=False)
    panel.assign(period=panel["period"].map(lambda p: f"p{p}")).to_csv(
        folder / "panel_text_time.csv", index=False
    )
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ["psm", "--treatment", "t", "--covariates", "x1,x2"],
        ["iv", "--treatment", "d", "--instrument", "z", "--covariates", "x1"],
        ["rdd", "--running", "run", "--covariates", "x1"],
    ],
    ids=["psm", "iv", "rdd"],
)
def test_causal_overflowing_outcome_is_refused(cs: Path, args: list[str]) -> None:
    result = invoke(["causal", *args, "--data", str(cs / "huge.csv"), "--outcome", "y"])
    assert result.exit_code == 2  # was exit 0 "no estimate" (psm) or blamed the running variable
    _one_line_error(result.stderr, "column 'y'", "400 value(s) beyond ±1e+150")


def test_causal_did_overflow_and_text_time_refused_without_warnings(cs: Path) -> None:
    common = ["causal", "did", "--outcome", "y", "--treatment", "d", "--unit", "unit"]
    common += ["--time", "period", "--covariates", "x", "--permutations", "0"]
    result = invoke([*common, "--data", str(cs / "panel_huge.csv")])
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'y'", "value(s) beyond ±1e+150")
    result = invoke([*common, "--data", str(cs / "panel_text_time.csv")])
    assert result.exit_code == 2  # a pandas UserWarning used to come first
    _one_line_error(result.stderr, "column 'period'", "must be numeric or dates")


def test_causal_collinear_covariates_and_null_treatments_are_refused(cs: Path) -> None:
    psm = ["causal", "psm", "--outcome", "y", "--treatment", "t"]
    result = invoke([*psm, "--data", str(cs / "collinear.csv"), "--covariates", "x1,x2,x3"])
    assert result.exit_code == 2  # was LinAlgError: Singular matrix
    _one_line_error(result.stderr, "collinear", "'x3' = a combination of 'x1', 'x2'")
    result = invoke([*psm, "--data", str(cs / "null_t.csv"), "--covariates", "x1,x2"])
    assert result.exit_code == 2  # the 50 rows were dropped with a generic warning before
    _one_line_error(result.stderr, "column 't'", "50 of 400 row(s) missing")


# --- sds profile / sds design --------------------------------------------------------------


@pytest.fixture
def huge_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"revenue": rng.uniform(1, 2, 300) * 1e307, "n": rng.poisson(3, 300)})
    frame.to_csv(tmp_path / "huge.csv", index=False)
    return tmp_path / "huge.csv"


def test_profile_flags_overflowing_columns_instead_of_failing(huge_csv: Path) -> None:
    result = invoke(["profile", str(huge_csv), "--format", "json"])
    assert result.exit_code == 0, result.stderr  # was exit 1: STDDEV_SAMP is out of range
    d = _json(result.stdout)
    flags = {(f["column"], f["flag"]): f["detail"] for f in d["flags"]}
    assert flags[("revenue", "overflow")].startswith("300 values beyond ±1e150")
    revenue = next(c for c in d["columns"] if c["name"] == "revenue")["numeric"]
    assert revenue["mean"] is None and revenue["std"] is None and revenue["huge_count"] == 300
    assert invoke(["profile", str(huge_csv), "--strict"]).exit_code == 2
    design = ["design", "mean", "--data", str(huge_csv), "--column", "revenue", "--mde", "0.05"]
    result = invoke(design)
    assert result.exit_code == 2
    _one_line_error(result.stderr, "column 'revenue'", "300 value(s) beyond ±1e+150")
