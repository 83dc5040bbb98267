"""Train/test alignment.

References: PSI equals the textbook sum over bins of (c - r) ln(c / r) computed by hand on
explicit shares; KS equals the largest gap between the two empirical CDFs computed with
numpy; a shift planted in one churn feature is the first alert and the first giveaway of
the adversarial classifier; two samples of one distribution align (AUC near 0.5).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.features.alignment import EPSILON, align, psi
from tests.conftest import invoke


def test_psi_of_categories_is_the_textbook_sum() -> None:
    ref = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    cur = pd.Series(["a"] * 30 + ["b"] * 30 + ["c"] * 30 + ["d"] * 10)
    r = np.array([0.5, 0.3, 0.2, EPSILON, EPSILON])  # a, b, c, other (d), missing
    c = np.array([0.3, 0.3, 0.3, 0.1, EPSILON])
    assert psi(ref, cur) == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)


def test_psi_of_numbers_uses_reference_deciles_and_a_missing_bin() -> None:
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.normal(size=5000))
    cur = pd.Series(np.r_[rng.normal(0.3, 1, 4500), [np.nan] * 500])
    edges = np.r_[-np.inf, np.quantile(ref, np.arange(1, 10) / 10), np.inf]
    r = np.append(np.histogram(ref, edges)[0], 0) / 5000
    values = cur.dropna().to_numpy()
    c = np.append(np.histogram(values, edges)[0], 500) / 5000
    r, c = np.maximum(r, EPSILON), np.maximum(c, EPSILON)
    assert psi(ref, cur) == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)
    assert psi(ref, ref) == 0.0


def test_ks_is_the_largest_ecdf_gap() -> None:
    rng = np.random.default_rng(1)
    a = pd.DataFrame({"x": rng.normal(size=700)})
    b = pd.DataFrame({"x": rng.normal(0.2, 1.1, size=500)})
    ks = align(a, b).features[0]["ks"]
    grid = np.sort(np.r_[a["x"], b["x"]])
    gap = np.max(
        np.abs(
            np.searchsorted(np.sort(a["x"]), grid, "right") / 700
            - np.searchsorted(np.sort(b["x"]), grid, "right") / 500
        )
    )
    assert ks == pytest.approx(gap, rel=1e-12)


def test_a_planted_shift_is_found_and_ranked_first() -> None:
    train = synth.make_churn(4000, seed=1)
    test = synth.make_churn(4000, seed=2)
    test["monthly_charges"] = test["monthly_charges"] + 15
    result = align(train, test, exclude=["churned", "monthly_fee", "total_charges"])
    assert result.features[0]["feature"] == "monthly_charges"
    assert result.features[0]["status"] == "alert"
    assert result.verdict == "misaligned: monthly_charges"
    assert result.adversarial_auc > 0.6
    assert result.giveaways[0]["feature"] == "monthly_charges"
    assert "customer_id" in result.skipped


def test_two_samples_of_one_distribution_align() -> None:
    result = align(synth.make_churn(4000, seed=3), synth.make_churn(4000, seed=4))
    assert result.verdict == "aligned"
    assert all(f["psi"] < 0.1 for f in result.features)
    assert abs(result.adversarial_auc - 0.5) < 0.05


def test_check_command_writes_the_report(tmp_path: Path) -> None:
    a, b = tmp_path / "train.parquet", tmp_path / "test.parquet"
    synth.make_churn(1500, seed=1).to_parquet(a)
    shifted = synth.make_churn(1500, seed=2)
    shifted["tenure_months"] = shifted["tenure_months"] * 2
    shifted.to_parquet(b)
    out = tmp_path / "alignment.json"
    res = invoke(
        [
            "features",
            "check",
            "--reference",
            str(a),
            "--data",
            str(b),
            "--exclude",
            "churned",
            "-o",
            str(out),
        ]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(out.read_text())
    assert d["features"][0]["feature"] == "tenure_months"
    res = invoke(
        [
            "features",
            "check",
            "--reference",
            str(a),
            "--data",
            str(b),
            "--bins",
            "1",
            "-o",
            str(out),
        ]
    )
    assert res.exit_code == 2 and "bins" in res.stderr
