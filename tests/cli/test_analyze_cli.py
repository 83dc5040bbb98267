"""``sds analyze``: the same numbers from every source, event-level data, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sds.experiments.analysis.run import analyze
from tests.conftest import invoke

METRICS = [
    {"name": "conversion", "type": "proportion", "column": "converted"},
    {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre_revenue"},
    {
        "name": "orders_per_session",
        "type": "ratio",
        "numerator": "orders",
        "denominator": "sessions",
    },
    {"name": "p90_revenue", "type": "quantile", "column": "revenue", "q": 0.9},
]


def _users(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = rng.choice(["control", "treatment"], n)
    pre = rng.gamma(2, 5, n)
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "variant": variant,
            "converted": (rng.random(n) < 0.1).astype(int),
            "revenue": pre * 0.7 + rng.gamma(1, 3, n) + (variant == "treatment") * 0.4,
            "pre_revenue": pre,
            "orders": rng.poisson(2, n).astype(float),
            "sessions": (rng.poisson(5, n) + 1).astype(float),
            "country": rng.choice(["de", "fr", "us"], n),
        }
    )


def _spec(**extra: object) -> dict[str, object]:
    return {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "metrics": METRICS,
        "resamples": 300,
        **extra,
    }


def _numbers(result: object) -> list[float]:
    out = []
    for e in result.to_dict()["effects"]:  # type: ignore[attr-defined]
        out += [e[k] for k in ("control", "treatment", "effect", "ci_lower", "ci_upper", "p_value")]
    return out


def test_every_source_gives_the_same_numbers(tmp_path: Path) -> None:
    import duckdb

    df = _users()
    csv = tmp_path / "users.csv"
    df.to_csv(csv, index=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    df.iloc[:1000].to_parquet(parts / "a.parquet")
    df.iloc[1000:].to_parquet(parts / "b.parquet")
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.register("frame", df)
        con.execute("CREATE TABLE users AS SELECT * FROM frame")
    reference = _numbers(analyze(_spec(), df))
    for source, extra in [
        (str(csv), {}),
        (str(parts / "*.parquet"), {}),
        (str(db), {"table": "users"}),
        (f"SELECT * FROM read_parquet('{parts}/*.parquet')", {}),
    ]:
        got = _numbers(analyze(_spec(data=source, **extra)))
        np.testing.assert_allclose(got, reference, rtol=1e-9, err_msg=source)


def test_event_level_data_is_rolled_up_to_units_in_the_engine() -> None:
    users = _users(n=1500, seed=1)
    rng = np.random.default_rng(2)
    # split each user's orders, sessions and revenue over 1-3 event rows
    events = []
    for row in users.itertuples(index=False):
        k = int(rng.integers(1, 4))
        shares = rng.dirichlet(np.ones(k))
        for s in shares:
            events.append(
                {
                    "user_id": row.user_id,
                    "variant": row.variant,
                    "converted": row.converted,
                    "revenue": row.revenue * s,
                    "pre_revenue": row.pre_revenue,
                    "orders": row.orders * s,
                    "sessions": row.sessions * s,
                }
            )
    event_frame = pd.DataFrame(events)
    from_events = analyze(_spec(), event_frame)
    from_units = analyze(_spec(), users.drop(columns="country"))
    assert from_events.grain == "event" and from_units.grain == "unit"
    np.testing.assert_allclose(_numbers(from_events), _numbers(from_units), rtol=1e-9)


def test_units_seen_in_two_arms_are_counted_and_invalidate_above_one_percent() -> None:
    users = _users(n=2000, seed=3).drop(columns="country")
    for mixed, verdict_invalid in ((10, False), (40, True)):  # 0.5% and 2% of units
        switched = users.head(mixed).assign(
            variant=lambda d: np.where(d["variant"] == "control", "treatment", "control")
        )
        result = analyze(_spec(), pd.concat([users, switched]))
        assert any(f"{mixed} unit(s) appear in more than one arm" in w for w in result.warnings)
        assert (result.verdict == "invalid experiment") == verdict_invalid


def _write(tmp_path: Path, df: pd.DataFrame, spec: dict[str, object]) -> Path:
    data = tmp_path / "users.parquet"
    df.to_parquet(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**spec, "data": str(data)}))
    return path


def test_cli_writes_json_with_a_verdict(tmp_path: Path) -> None:
    spec = _write(tmp_path, _users(), _spec(primary=["revenue"], guardrails=["conversion"]))
    out = tmp_path / "report.json"
    res = invoke(["analyze", str(spec), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    report = json.loads(out.read_text())
    assert report["verdict"] in {"ship", "don't ship", "inconclusive"}
    assert report["srm"]["p_value"] > 0.001
    assert {e["metric"] for e in report["effects"]} == {m["name"] for m in METRICS}
    html = tmp_path / "report.html"
    assert invoke(["analyze", str(spec), "-o", str(html)]).exit_code == 0
    assert "<svg" in html.read_text()


def _bad_cases() -> dict[str, tuple[pd.DataFrame, dict[str, object], str]]:
    df = _users(n=400)
    zero = df.assign(sessions=0.0)
    extra_arm = df.copy()
    extra_arm.loc[:9, "variant"] = "treatment-2"
    non_binary = df.assign(converted=df.converted * 2)
    null_cov = df.assign(pre_revenue=np.nan)
    ratio = [METRICS[2]]
    return {
        "unknown metric type": (
            df,
            _spec(metrics=[{"name": "m", "type": "median", "column": "revenue"}]),
            "metric 'm': type == 'median', must be one of: proportion, mean, ratio, quantile",
        ),
        "missing column": (
            df,
            _spec(metrics=[{"name": "m", "type": "mean", "column": "revenu"}]),
            "Did you mean 'revenue'",
        ),
        "arm not in the spec": (
            extra_arm,
            _spec(variants=["control", "treatment"]),
            "treatment-2",
        ),
        "control missing": (df, _spec(control="Control"), "control arm is not in the data"),
        "non-binary proportion": (non_binary, _spec(), "needs a 0/1 column"),
        "zero denominators": (zero, _spec(metrics=ratio), "denominator sums to zero"),
        "all-null covariate": (null_cov, _spec(), "covariate has no values"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_exits_2_and_writes_nothing(case: str, tmp_path: Path) -> None:
    df, spec, message = _bad_cases()[case]
    path = _write(tmp_path, df, spec)
    out = tmp_path / "report.json"
    out.write_text("{}")
    res = invoke(["analyze", str(path), "-o", str(out)])
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_text() == "{}"
