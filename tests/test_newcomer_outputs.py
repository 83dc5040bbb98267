"""Newcomer findings about what the outputs show: a quantile on a point mass (M14), the label
columns a feature build keeps (F8), the ``--by`` table (F10) and each group's figures (F11)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import invoke


def _revenue_test(seed: int, zero_inflated: bool) -> pd.DataFrame:
    """Users in two arms with revenue: ~90% zeros (a few more buyers in treatment), or a
    continuous lognormal."""
    rng = np.random.default_rng(seed)
    n = 4_000
    arm = rng.choice(np.array(["control", "treatment"]), n)
    revenue = rng.lognormal(2.5, 0.5, n).round(2)
    if zero_inflated:
        buys = rng.random(n) < np.where(arm == "treatment", 0.115, 0.09)
        revenue = np.where(buys, revenue, 0.0)
    return pd.DataFrame({"user_id": np.arange(n), "variant": arm, "revenue": revenue})


@pytest.mark.parametrize("zero_inflated", [True, False])
def test_m14_a_quantile_on_a_point_mass_is_flagged(zero_inflated: bool) -> None:
    """M14: p90 of revenue where ~90% of users spend nothing came out 0 in control and
    positive in treatment with p ~ 1e-8 and no word of warning; the quantile sits on the
    zeros' point mass, so the effect row and every rendering now say so (value, share,
    advice). A continuous (lognormal) metric gets no such warning."""
    import sds

    frame = _revenue_test(1, zero_inflated)
    spec = {
        "variant": "variant",
        "control": "control",
        "unit": "user_id",
        "metrics": [{"name": "revenue_p90", "type": "quantile", "column": "revenue", "q": 0.9}],
    }
    result = sds.analyze(frame, spec)
    row = result.to_dict()["effects"][0]
    arms = {a: g["revenue"].to_numpy() for a, g in frame.groupby("variant")}
    assert row["control"] == pytest.approx(np.quantile(arms["control"], 0.9), abs=1e-12)
    assert row["treatment"] == pytest.approx(np.quantile(arms["treatment"], 0.9), abs=1e-12)
    if not zero_inflated:
        assert "warnings" not in row
        assert not any("point mass" in w for w in result.warnings)
        assert "point mass" not in result.to_text()
        return
    zeros = float((arms["control"] == 0).mean())
    assert 0.88 < zeros < 0.93 and row["control"] == 0.0 and row["treatment"] > 0
    (warning,) = row["warnings"]
    assert "point mass" in warning and f"{zeros:.1%} of control units equal 0" in warning
    assert "analyse the mean" in warning and "another quantile" in warning
    listed = f"metric 'revenue_p90' in treatment: {warning}"
    assert listed in result.warnings and f"caution: {listed}" in result.reasons  # primary
    flat = " ".join(listed.split())
    for rendering in (result.to_text(width=10_000), result.to_markdown(), result.to_html()):
        assert flat in " ".join(html.unescape(rendering).split())
    assert listed in json.loads(result.to_json())["warnings"]


def _churn_labels(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """Events, a label table with the label and one more column (two label times per
    customer, a missing label), and a spec naming both."""
    from sds.data.synth import make_transactions

    make_transactions(300, seed=2, months=6).to_csv(tmp_path / "events.csv", index=False)
    rng = np.random.default_rng(0)
    ids = np.arange(250)
    labels = pd.DataFrame(
        {
            "customer_id": np.concatenate([ids, ids]),
            "label_time": ["2025-05-01"] * 250 + ["2025-06-01"] * 250,
            "churned": rng.integers(0, 2, 500).astype(float),
            "plan": rng.choice(np.array(["basic", "pro"]), 500),
        }
    ).sample(frac=1.0, random_state=1)  # the builder sorts; the labels must follow their rows
    labels.iloc[3, 2] = np.nan
    labels.to_csv(tmp_path / "labels.csv", index=False)
    spec = {
        "data": "events.csv",
        "labels": "labels.csv",
        "entity": "customer_id",
        "timestamp": "ts",
        "windows": ["30d", "90d"],
        "aggregations": [{"column": "amount", "functions": ["sum", "mean"]}],
        "rfm": {"monetary": "amount"},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(spec))
    return path, labels


def test_f8_features_build_keeps_the_label_columns(tmp_path: Path) -> None:
    """F8: with labels ``customer_id, label_time, churned`` the built table kept only the
    keys and the features, so ``features select --target churned`` failed. The label
    table's other columns now follow the keys, each on its own label row; they are not
    features (not in the summary's feature list nor the store's schema), and one named
    like a feature is refused."""
    import sds

    spec, labels = _churn_labels(tmp_path)
    out = tmp_path / "feats.parquet"
    built = invoke(["features", "build", str(spec), "--data-output", str(out), "-f", "json"])
    assert built.exit_code == 0, built.stderr
    summary = json.loads(built.stdout)
    table = pd.read_parquet(out)
    assert list(table.columns[:4]) == ["customer_id", "label_time", "churned", "plan"]
    assert summary["label_columns"] == ["churned", "plan"]
    assert [f["feature"] for f in summary["features"]] == list(table.columns[4:])
    assert len(table) == len(labels)
    expected = labels.assign(label_time=pd.to_datetime(labels["label_time"]))
    merged = table.merge(expected, on=["customer_id", "label_time"], suffixes=("", "_in"))
    assert len(merged) == len(labels)
    pd.testing.assert_series_equal(merged["churned"], merged["churned_in"], check_names=False)
    assert (merged["plan"] == merged["plan_in"]).all() and merged["churned"].isna().sum() == 1
    picked = invoke(
        [
            "features",
            "select",
            "--data",
            str(out),
            "--target",
            "churned",
            "--label-time",
            "label_time",
            "--exclude",
            "customer_id,plan",
            "-f",
            "json",
        ]
    )
    assert picked.exit_code == 0, picked.stderr
    chosen = json.loads(picked.stdout)
    assert chosen["target"] == "churned" and chosen["rows"] == len(labels) - 1
    considered = set(chosen["kept"]) | {d["feature"] for d in chosen["dropped"]}
    assert considered == set(table.columns[4:])
    # from Python, the same table comes back
    result, frame = sds.features.run(
        None,
        json.loads(spec.read_text()) | {"data": str(tmp_path / "events.csv")},
        labels=labels,
    )
    assert frame is not None and list(frame.columns) == list(table.columns)
    assert result.label_columns == ("churned", "plan")
    assert "churned" not in {f["feature"] for f in result.features}
    # stored, the label columns are kept in the table but never served or joined as features
    from sds.data.engine import default_engine
    from sds.features import retrieval
    from sds.features.store import FeatureStore

    store = FeatureStore(tmp_path / "store")
    spec_map = json.loads(spec.read_text()) | {"name": "activity"}
    spec_map |= {"data": str(tmp_path / "events.csv"), "labels": str(tmp_path / "labels.csv")}
    version, _ = store.register(spec_map)
    assert set(version.schema) == set(table.columns[4:])
    served = default_engine().execute(retrieval.latest(store, version.ref, ["7"]))
    assert list(served.columns) == ["customer_id", "label_time", *table.columns[4:]]
    joined = retrieval.for_labels(
        store, version.ref, str(tmp_path / "labels.csv"), keep=("churned",)
    )
    assert list(default_engine().execute(joined).columns) == [
        "customer_id",
        "label_time",
        "churned",
        *table.columns[4:],
    ]
    clash = labels.rename(columns={"plan": "frequency"})
    refused = invoke(
        [
            "features",
            "build",
            str(spec),
            "--data-output",
            str(tmp_path / "x.parquet"),
            "--labels",
            str(_csv(clash, tmp_path / "clash.csv")),
        ]
    )
    assert refused.exit_code == 2
    (line,) = refused.stderr.splitlines()
    assert "label table column has the name of a feature" in line and "frequency" in line


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def ab_rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Two arms in three countries: spend (skewed in DE, so its level warns), converted."""
    rng = np.random.default_rng(4)
    n = 600
    frame = pd.DataFrame(
        {
            "country": rng.choice(np.array(["US", "FR", "DE"]), n),
            "group": rng.choice(np.array(["control", "treatment"]), n),
        }
    )
    frame["spend"] = rng.normal(10, 3, n) + (frame["group"] == "treatment") * 1.0
    de = frame["country"] == "DE"
    frame.loc[de, "spend"] = rng.exponential(5, int(de.sum()))
    frame["converted"] = (rng.random(n) < np.where(frame["group"] == "treatment", 0.3, 0.2)).astype(
        int
    )
    path = tmp_path_factory.mktemp("ab") / "ab.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _renderings(args: list[str]) -> dict[str, str]:
    out = {}
    for fmt in ("json", "text", "markdown", "html"):
        result = invoke([*args, "-f", fmt])
        assert result.exit_code == 0, result.stderr
        out[fmt] = (
            result.stdout if fmt == "json" else " ".join(html.unescape(result.stdout).split())
        )
    return out


def test_f10_the_by_table_shows_estimates_intervals_and_warning_text(
    ab_rows: tuple[Path, pd.DataFrame],
) -> None:
    """F10: ``--by country`` showed statistic, p, d, n and ``warnings`` as a count, with no
    estimate, no interval and no warning text outside the JSON. Each level's estimate and
    Welch interval (checked against scipy) and each warning now show in every rendering."""
    from scipy import stats

    from sds.results import format_value

    path, frame = ab_rows
    args = ["stats", "ttest", "--data", str(path), "--value", "spend", "--group", "group"]
    shown = _renderings([*args, "--by", "country", "--correction", "holm"])
    d = json.loads(shown["json"])
    assert [r["level"] for r in d["rows"]] == ["DE", "FR", "US"]
    for row in d["rows"]:
        part = frame[frame["country"] == row["level"]]
        t, c = (part.loc[part["group"] == g, "spend"] for g in ("treatment", "control"))
        ref = stats.ttest_ind(t, c, equal_var=False)
        ci = ref.confidence_interval(0.95)
        assert row["estimate_name"] == "mean(treatment) - mean(control)"
        assert row["estimate"] == pytest.approx(t.mean() - c.mean(), abs=1e-12)
        assert row["ci_lower"] == pytest.approx(ci.low, rel=1e-9)
        assert row["ci_upper"] == pytest.approx(ci.high, rel=1e-9)
        for key in ("estimate", "ci_lower", "ci_upper"):
            for fmt in ("text", "markdown", "html"):
                assert format_value(key, row[key]) in shown[fmt], (fmt, key)
    texts = [(r["level"], w) for r in d["results"] for w in r["warnings"]]
    assert texts and sum(r["warnings"] for r in d["rows"]) == len(texts)
    assert {level for level, _ in texts} == {"DE"}  # the skewed level
    for level, warning in texts:
        line = " ".join(f"country = {level}: {warning}".split())
        for fmt in ("text", "markdown", "html"):
            assert line in shown[fmt], fmt


def test_f11_two_group_tests_show_each_group(ab_rows: tuple[Path, pd.DataFrame]) -> None:
    """F11: ttest, ztest and chi2 printed only the difference (or ratios), never the groups'
    means or rates. A Groups table now gives each group's n and mean and sd (or events and
    rate), in the estimate's order (treatment minus control; ratios treatment over control),
    equal to pandas' and in every rendering."""
    from sds.results import format_value

    path, frame = ab_rows
    base = ["--data", str(path), "--group", "group"]
    by_group = frame.groupby("group")
    cases = {
        "ttest": ("spend", "mean(treatment) - mean(control)"),
        "ztest": ("converted", "p(treatment) - p(control)"),
        "chi2": ("converted", None),
    }
    for test, (value, label) in cases.items():
        shown = _renderings(["stats", test, *base, "--value", value])
        d = json.loads(shown["json"])
        rows = d["groups"]
        assert [g["group"] for g in rows] == ["treatment", "control"], test
        for g in rows:
            assert g["n"] == by_group.size()[g["group"]]
        if test == "ttest":
            for g in rows:
                assert g["mean"] == pytest.approx(by_group["spend"].mean()[g["group"]], abs=1e-12)
                assert g["sd"] == pytest.approx(by_group["spend"].std()[g["group"]], abs=1e-12)
            first, second = rows[0]["mean"], rows[1]["mean"]
        else:
            for g in rows:
                rate = by_group["converted"].mean()[g["group"]]
                assert g["rate"] == pytest.approx(rate, abs=1e-12)
                assert g["events"] == by_group["converted"].sum()[g["group"]]
            first, second = rows[0]["rate"], rows[1]["rate"]
        if label is not None:
            assert d["estimate_name"] == label
            assert d["estimate"] == pytest.approx(first - second, abs=1e-12)
        else:  # chi2 states ratios of treatment over control
            assert d["assumptions"]["ratio_numerator"] == "treatment"
            risk = next(e for e in d["other_effect_sizes"] if e["name"] == "risk_ratio")
            assert risk["value"] == pytest.approx(first / second, rel=1e-12)
        for g in rows:
            for key, v in g.items():
                for fmt in ("text", "markdown", "html"):
                    assert format_value(key, v) in shown[fmt], (test, fmt, key)


# --- leftovers of the walk-through: M4, help texts, causal advise, design -----------------
