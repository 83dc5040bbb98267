"""The newcomer walk-through's findings fixed in this round, one test each, named for the
item (the walk-through was written at commit ca1617b; each test fails on that behaviour).

Items fixed earlier have their own tests (B5 and B6 in tests/hostile/test_monitoring_hostile.py,
B7 in tests/cli/test_spec_options.py ...): the answers to every item are in the closing note.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.data.synth import make_churn
from sds.models.run import train_model
from sds.serving.deploycheck import records
from sds.serving.server import start_line
from tests.conftest import invoke


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 unique customers whose (age, country) pairs repeat, as in the finding."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1_000),
            "age": rng.integers(20, 30, 1_000),
            "country": rng.choice(np.array(["US", "FR"]), 1_000),
            "plan": "basic",  # constant: --strict fails on it
        }
    )
    path = tmp_path_factory.mktemp("users") / "users.csv"
    frame.to_csv(path, index=False)
    return path


def test_m5_duplicates_with_columns_are_whole_row_duplicates(users: Path, tmp_path: Path) -> None:
    """M5: ``--columns age,country`` reported 9,938 of 10,000 unique rows as duplicates (the
    repeats within the two chosen columns); duplicate rows are whole rows."""
    result = invoke(["profile", str(users), "--format", "json", "--columns", "age,country"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n_columns"] == 2
    assert report["duplicate_rows"] == 0 and report["duplicate_share"] == 0.0
    assert "duplicate_rows" not in {f["flag"] for f in report["flags"]}
    # a real repeat of a whole row is still found, with or without --columns
    frame = pd.read_csv(users)
    twice = tmp_path / "twice.csv"
    pd.concat([frame, frame.iloc[:3]]).to_csv(twice, index=False)
    for extra in ([], ["--columns", "age,country"]):
        report = json.loads(invoke(["profile", str(twice), "-f", "json", *extra]).stdout)
        assert report["duplicate_rows"] == 3, extra


def test_notebook_profile_takes_columns_as_the_cli_does(users: Path) -> None:
    """Section 3: ``sds.profile(df, columns=["age"])`` raised ``TypeError: open_table() got
    an unexpected keyword argument 'columns'``; the keyword is ``--columns``' twin."""
    import sds

    frame = pd.read_csv(users)
    report = sds.profile(frame, columns=["age", "country"])
    assert [c.name for c in report.columns] == ["age", "country"]
    assert report.duplicate_rows == 0  # whole rows, as on the command line (M5)
    assert report.to_dict()["columns"][0]["distinct_count"] == frame["age"].nunique()


def test_f1_a_failing_gate_still_writes_the_report(users: Path, tmp_path: Path) -> None:
    """F1: ``--strict -o strict.html`` exited 2 and wrote nothing, so the CI artifact that
    explains the failure was missing; now the report is written, then the gate fails."""
    out = tmp_path / "strict.html"
    result = invoke(["profile", str(users), "--strict", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "data-quality check failed: constant in column 'plan'" in result.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "constant" in page and "plan" in page
    printed = invoke(["profile", str(users), "--fail-on", "constant", "-f", "json"])
    assert printed.exit_code == 2
    assert json.loads(printed.stdout)["n_rows"] == 1_000  # the report, then the error line
    assert printed.stderr.startswith("error: ") and len(printed.stderr.splitlines()) == 1


def test_f2_expect_takes_a_comma_list_and_names_every_failure(users: Path) -> None:
    """F2: ``--expect age=string,churned=boolean`` was refused as one malformed item, and
    repeated options reported only the first failure."""
    ok = invoke(["profile", str(users), "-f", "json", "--expect", "age=integer,country=string"])
    assert ok.exit_code == 0, ok.stderr
    for args in (
        ["--expect", "age=string,country=numeric"],
        ["--expect", "age=string", "--expect", "country=numeric"],
    ):
        result = invoke(["profile", str(users), *args])
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert "2 columns have the wrong type" in line
        assert "column 'age': found integer (int64), expected string" in line
        assert "column 'country': found string" in line and "expected numeric" in line
    typo = invoke(["profile", str(users), "--expect", "agee=integer,country=string"])
    assert typo.exit_code == 2 and "Did you mean 'age'?" in typo.stderr


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small churn models as in the walk-through: gender protected, customer_id dropped;
    the challenger also drops the leaky retention_call (another input schema)."""
    folder = tmp_path_factory.mktemp("models")
    make_churn(600, seed=3).to_parquet(folder / "churn.parquet")
    out = {}
    for name, drop in (("champion", ["customer_id"]), ("small", ["customer_id", "retention_call"])):
        train_model(
            {
                "name": f"churn-{name}",
                "data": str(folder / "churn.parquet"),
                "target": "churned",
                "drop": drop,
                "protected": ["gender"],
                "candidates": ["dummy"],
            },
            output=folder / name,
            track=False,
        )
        out[name] = folder / name
    return out


def _client(model: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Any:
    from starlette.testclient import TestClient

    from sds.serving.app import app_from_environment

    monkeypatch.setenv("SDS_SERVE", json.dumps({"model": str(model), **settings}))
    return TestClient(app_from_environment())


def test_f5_whole_records_are_served_with_ignore_unknown_fields(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """F5: a record as the model's own test.parquet holds it (with the protected gender and
    the dropped customer_id) was refused; gender is accepted, and --ignore-unknown-fields
    lets every field the model does not use pass."""
    rows = pd.read_parquet(models["champion"] / "model" / "test.parquet").head(3)
    assert "gender" in rows.columns
    body = {"instances": [{**r, "customer_id": i} for i, r in enumerate(records(rows))]}
    with _client(models["champion"], monkeypatch) as strict:
        refused = strict.post("/predict", json=body)
        assert (
            strict.get("/openapi.json").json()["components"]["schemas"]["Record"][
                "additionalProperties"
            ]
            is False
        )
    assert refused.status_code == 422
    fields = {p["field"] for p in refused.json()["problems"]}
    assert fields == {"customer_id", "churned"}  # gender (protected) is accepted already
    with _client(models["champion"], monkeypatch, ignore_unknown_fields=True) as lenient:
        answer = lenient.post("/predict", json=body)
        schema = lenient.get("/openapi.json").json()["components"]["schemas"]["Record"]
        missing = lenient.post("/predict", json={"customer_id": 1})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 3
    assert schema["additionalProperties"] is True
    assert missing.status_code == 422  # the model's own fields are still required
    assert "missing field" in missing.json()["problems"][0]["problem"]
    help_text = invoke(["serve", "--help"]).stdout
    assert "--ignore-unknown-fields" in help_text


def test_f6_a_canary_with_another_schema_is_named_at_start(models: dict[str, Path]) -> None:
    """F6: ``--canary`` with a challenger on other features started silently (the start
    line did not even name the canary) and failed every request routed to it. Now it is
    refused, or with --allow-schema-change served with a warning naming the difference,
    and the start line names the canary and its share."""
    champion, challenger = str(models["champion"]), str(models["small"])
    refused = invoke(["serve", champion, "--canary", challenger, "--canary-weight", "0.5"])
    assert refused.exit_code == 2
    assert "input schema differs" in refused.stderr and "retention_call" in refused.stderr
    with socket.socket() as busy:  # the address check fails after the warning: nothing starts
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        args = ["--canary", challenger, "--allow-schema-change", "--port", port]
        warned = invoke(["serve", champion, *args])
    assert warned.exit_code == 2 and "already in use" in warned.stderr
    warning = warned.stderr.splitlines()[0]
    assert warning.startswith(f"warning: canary {challenger}: ") and "retention_call" in warning
    meta = {"name": "churn", "sha256": "a" * 64}
    challenger_model = SimpleNamespace(meta={"name": "churn-small", "sha256": "b" * 64})
    line = start_line(meta, challenger_model, 0.5, "127.0.0.1", 8000, 2)
    assert line == (
        "serving churn aaaaaaaaaaaa and canary churn-small bbbbbbbbbbbb (50% of requests) "
        "on http://127.0.0.1:8000 with 2 worker(s)"
    )
    assert "(0.5% of requests)" in start_line(meta, challenger_model, 0.005, "::1", 80, 1)
    assert "canary" not in start_line(meta, None, 0.05, "127.0.0.1", 8000, 2)


def test_f14_a_local_spark_session_writes_no_log_lines(tmp_path: Path) -> None:
    """F14: a local Spark session wrote five log4j lines to stderr before sds's output
    (default profile, loopback hostname, "Setting default log level", native-hadoop). Only
    the JVM's own "Using incubator modules" line, printed before any logging, remains."""
    script = (
        "from sds.data.spark import spark_session\n"
        "s = spark_session('local[1]', memory='1GB')\n"
        "print(s.range(5).count())\n"
        "s.stop()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_CONF_DIR", "SPARK_REMOTE")}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["WARNING: Using incubator modules: jdk.incubator.vector"], lines
    assert not list(tmp_path.glob("sds-log4j2-*"))  # its configuration file is removed at exit


def _calibration_rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(2, n)),
            "plan": rng.choice(np.array(["a", "b", "c"]), n),
        }
    )
    score = frame.x1 + 0.3 * frame.x2.fillna(0) + (frame.plan == "b")
    frame["y"] = (score + rng.normal(size=n) > 0.8).astype(int)
    return frame


@pytest.mark.parametrize(
    ("candidate", "method"),
    [("logistic", "isotonic"), ("logistic", "sigmoid"), ("dummy", "isotonic")],
)
def test_f7_a_recalibrated_model_is_served_by_the_numpy_runtime(
    candidate: str, method: str
) -> None:
    """F7: with ``recalibrate: isotonic`` the server fell back to scikit-learn
    ("CalibratedClassifierCV is not an sds training pipeline"); the calibrator now runs on
    the compiled pipeline's score, equal to scikit-learn to 1e-9 on rows it never saw."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    from sds.models.candidates import auto_preprocessing, pipeline
    from sds.serving.runtime import build_runtime
    from sds.serving.validate import Validator

    features = ["x1", "x2", "plan"]
    train, validation = _calibration_rows(1_500, 0), _calibration_rows(800, 1)
    spec = auto_preprocessing(train[features], {})
    model = pipeline(candidate, "binary", {}, spec, seed=0).fit(train[features], train["y"])
    wrapped = CalibratedClassifierCV(FrozenEstimator(model), method=method)
    wrapped.fit(validation[features], validation["y"])
    meta = {
        "task": "binary",
        "features": features,
        "schema": {c: str(train[c].dtype) for c in features},
    }
    runtime = build_runtime(wrapped, meta, _calibration_rows(300, 2))
    assert runtime.kind.startswith("numpy") and method in runtime.kind, runtime.reason
    fresh = _calibration_rows(2_000, 3)
    schema = [
        {"name": "x1", "kind": "number", "nullable": False},
        {"name": "x2", "kind": "number", "nullable": True},
        {"name": "plan", "kind": "category", "nullable": False},
    ]
    columns = Validator(schema, margin=None).columns(records(fresh[features]))
    got = runtime.predict(columns, len(fresh))
    expected = wrapped.predict_proba(fresh[features])[:, 1]
    assert np.max(np.abs(got - expected)) <= 1e-9


def test_profile_flags_a_duplicated_column(tmp_path: Path) -> None:
    """Section 1.1: ``monthly_fee`` equals ``monthly_charges`` in make_churn and the
    profile said nothing (``features select`` caught it). Checked against pandas' own
    column comparison, with near-copies that differ in one value or one null."""
    import sds

    frame = make_churn(400, seed=8)[["customer_id", "monthly_charges", "monthly_fee", "age"]]
    frame["one_off"] = frame["monthly_charges"].where(frame.index != 7, -1.0)
    frame["null_moved"] = frame["monthly_charges"].where(frame.index != 9)
    frame["age_copy"] = frame["age"]
    flagged = {
        f["column"]: f["detail"]
        for f in sds.profile(frame).flags
        if f["flag"] == "duplicate_column"
    }
    brute = {
        b: a
        for j, b in enumerate(frame.columns)
        for a in frame.columns[:j]
        if frame[a].equals(frame[b])
    }
    assert set(flagged) == set(brute) == {"monthly_fee", "age_copy"}
    assert flagged["monthly_fee"] == "equal to 'monthly_charges' in every row"
    path = tmp_path / "churn.parquet"
    frame.to_parquet(path)
    result = invoke(["profile", str(path), "--fail-on", "duplicate_column", "-f", "json"])
    assert result.exit_code == 2 and "duplicate_column in column 'monthly_fee'" in result.stderr


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


@pytest.mark.parametrize(
    ("counts", "over", "deviation"),
    [("50500,49500", False, 0.01), ("49500,50500", False, 0.01), ("50600,49400", True, 0.012)],
)
def test_m4_a_deviation_equal_to_the_tolerance_is_not_over_it(
    counts: str, over: bool, deviation: float
) -> None:
    """M4: 50,500 / 49,500 gave ``max_share_deviation 0.010000000000000009`` and "1.00% >
    the 1% rule"; the deviation is computed in counts and compared with a relative slack."""
    d = json.loads(invoke(["srm", "--counts", counts, "-f", "json"]).stdout)
    assert d["max_share_deviation"] == pytest.approx(deviation, rel=1e-12)
    assert d["share_deviation_over_tolerance"] is over
    assert ("1.00% <= the 1% rule" in d["note"]) is not over


def _help_tree() -> Any:
    import typer.main

    from sds.cli.main import app

    def walk(command: Any, path: list[str]) -> Any:
        yield path, command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


def test_every_help_text_is_shown_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sds profile --help`` read "(HyperLogLog) beyond ." : the help's "[default: ...]"
    was taken for rich markup and dropped (so were "[trim, 1 - trim]" and "[shap]"). Every
    command's and option's help must appear whole in the rendered help, with no " ." or
    "( " left where words went missing."""
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: nothing wraps

    def plain(text: str) -> str:
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())

    checked = 0
    for path, command in _help_tree():
        result = invoke([*path, "--help"])
        assert result.exit_code == 0, path
        shown = plain(result.stdout)
        assert not re.search(r"\w \.(?!\w)|\( | \)| ,", shown), (path, shown)
        texts = [p.help for p in command.params if getattr(p, "help", None)]
        for text in [*texts, *([command.help] if command.help else [])]:
            assert plain(text) in shown, (path, text)
            checked += 1
    assert checked > 300  # every command was walked


def test_causal_advise_names_the_missing_flag() -> None:
    """The message ended "How was treatment assigned?." and named no flag to give."""
    result = invoke(["causal", "advise"])
    assert result.exit_code == 2
    assert "?." not in result.stderr
    assert "parameter '--assignment'" in result.stderr
    assert "one of randomized, cutoff, instrument, policy, self-selected" in result.stderr
    result = invoke(["causal", "advise", "--assignment", "cutoff"])
    assert "?." not in result.stderr and "--full-compliance or --no-full-compliance" in (
        result.stderr
    )


def test_design_errors_name_the_flags_typed_and_the_spec_keys_written(tmp_path: Path) -> None:
    """``sds design`` said "give mde ... or n_per_variant" to a user who types ``--mde`` and
    ``--n-per-variant``; a spec file's error keeps its keys."""
    result = invoke(["design", "proportion", "--baseline", "0.05"])
    assert result.exit_code == 2
    assert "give --mde (to get the sample size) or --n-per-variant" in result.stderr
    result = invoke(["design", "mean", "--std", "3", "--mde", "0.1"])
    assert "a relative --mde needs a non-zero --mean" in result.stderr
    assert "set --absolute to read --mde" in result.stderr
    result = invoke(["design", "proportion", "--mde", "0.1"])
    assert "needs --baseline (or --data to estimate it)" in result.stderr
    spec = tmp_path / "plan.yaml"
    spec.write_text("metric: proportion\nbaseline: 0.05\n")
    result = invoke(["design", "spec", str(spec)])
    assert result.exit_code == 2
    assert "give mde (to get the sample size) or n_per_variant" in result.stderr
    assert "--mde" not in result.stderr


def test_a_two_arm_plan_has_nothing_to_correct() -> None:
    args = ["design", "proportion", "--baseline", "0.05", "--mde", "0.1"]
    two = invoke(args).stdout
    assert re.search(r"correction\s+│ none \(one comparison, so holm does not apply\)", two)
    three = invoke([*args, "--arms", "3"]).stdout
    assert re.search(r"correction\s+│ holm\s", three)


def test_verdict_is_a_string_on_every_result_that_has_one() -> None:
    """``CausalResult.verdict`` was a bound method (``r.verdict()``) while
    ``AnalysisResult.verdict`` is a string: both are now read as ``r.verdict``."""
    import sds
    from sds.data.synth import make_ab_test

    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    t = (rng.random(300) < 1 / (1 + np.exp(-x))).astype(int)
    frame = pd.DataFrame({"x": x, "t": t, "y": 1.0 + 2.0 * t + x + rng.normal(size=300)})
    causal = sds.causal.run(frame, "ipw", outcome="y", treatment="t", covariates=["x"])
    spec = {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "metrics": [{"name": "conversion", "type": "proportion", "column": "converted"}],
    }
    analysis = sds.analyze(make_ab_test(400, seed=1), spec)
    for result in (causal, analysis):
        assert isinstance(result.verdict, str) and result.verdict
        assert result.to_dict()["verdict"] == result.verdict
    assert causal.verdict.startswith("The ATE is significant")


def test_readme_says_which_commands_take_format_and_output() -> None:
    """The README said every command takes ``--format`` and ``--output``; ``serve`` and
    ``features get`` take neither and ``demo`` has no ``--format``. The exceptions it names
    are the CLI's, and a failing gate is said to write its report."""
    from tests.test_public_surface import cli_commands

    def lacking(option: str) -> set[str]:
        return {
            name
            for name, command in cli_commands().items()
            if option not in {o for p in command.params for o in getattr(p, "opts", [])}
        }

    assert lacking("--format") == {"serve", "features get", "demo"}
    assert lacking("--output") == {"serve", "features get"}
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "Every command takes" not in readme
    said = "Two take neither: `serve` (a server) and `features get`"
    assert said in readme and "`demo --output` names the folder of its report" in readme
    assert "`profile --strict` (or `--fail-on`) writes its report, then exits 2" in readme
