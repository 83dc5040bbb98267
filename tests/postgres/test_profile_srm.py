"""``profile`` and ``srm`` on PostgreSQL: the same job on DuckDB (reading the Parquet file)
and on the server (reading the loaded table by name, or a SELECT query there) gives the
same result: counts exactly, floats to 1e-9 (``tests.spark.conftest.differences``).

Quantiles: PostgreSQL's ``percentile_cont`` is exact on both profile paths (it has no
sketch, so its profile is always exact) and equals numpy's linear quantile; DuckDB's exact
path equals it too. DuckDB's approximate path (T-Digest) is only held to a rank bound:
each estimate lies between the exact quantiles at ``q - 0.02`` and ``q + 0.02``, and its
distinct counts within 20%, or one value for a handful (HyperLogLog, documented as often
10-20% off; it counts the 4 values of a column of this data as 3).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from sds.data.io import Table, open_table
from sds.features.profile import profile
from sds.features.profile_result import QUANTILE_NAMES, QUANTILES, ProfileOptions
from tests.postgres.conftest import load_table, on_engine
from tests.spark.conftest import assert_same, data_dir  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PLANTED = 50  # rows 0-9 three times, rows 10-39 twice: 2 * 10 + 30 repeats
RANK_BOUND = 0.02
APPROX_QUERY = ProfileOptions(exact_distinct_max_rows=0)


@pytest.fixture(scope="module")
def churn(data_dir: Path, pg_engine: Any) -> dict[str, Path]:  # noqa: F811
    """The parity churn rows with nulls, text, a boolean and temporal columns, as Parquet
    files and as tables ``prof.churn`` and ``prof.dups`` (with planted duplicate rows)."""
    frame = pd.read_parquet(data_dir / "churn.parquet")
    rng = np.random.default_rng(11)
    n = len(frame)
    seconds = pd.to_timedelta(rng.integers(0, 365 * 86_400, n), unit="s")
    signup = pd.Series(pd.Timestamp("2024-01-01") + seconds)
    frame["signup"] = signup.where(rng.random(n) > 0.05)  # 5% missing times
    frame["signup_day"] = signup.dt.date
    frame["vip"] = rng.random(n) < 0.1
    notes = rng.choice(np.array(["", "ok", "call back", "ünïcode ✓"], dtype=object), n)
    frame["note"] = np.where(rng.random(n) < 0.3, None, notes)
    dups = pd.concat([frame, frame.iloc[:40], frame.iloc[:10]], ignore_index=True)
    out = {}
    for name, data in (("churn", frame), ("dups", dups)):
        path = data_dir / f"prof_{name}.parquet"
        data.to_parquet(path, index=False)
        load_table(pg_engine, f"prof.{name}", path)
        out[name] = path
    return out


def on_server(pg_engine: Any, source: str) -> Table:
    """``source`` opened on the server, checked to be read there (no local DuckDB)."""
    table = open_table(source, engine=pg_engine)
    assert table.engine is pg_engine
    assert ibis.get_backend(table.expr).name == "postgres"
    return table


def neutral(result: dict[str, Any]) -> dict[str, Any]:
    """A profile without what names the storage: the source, and the column types (the
    server stores int8 as smallint); kinds are still compared."""
    out = {k: v for k, v in result.items() if k != "source"}
    out["columns"] = [{k: v for k, v in c.items() if k != "dtype"} for c in result["columns"]]
    return out


def duck_and_pg(pg_engine: Any, duck_source: str, pg_source: str, opts: Any = None) -> Any:
    duck = on_engine("duckdb", lambda: profile(duck_source, opts).to_dict())
    pg = profile(on_server(pg_engine, pg_source), opts).to_dict()
    return duck, pg


@pytest.mark.parametrize("name", ["churn", "dups"])
def test_profile_table_parity_exact(
    name: str, churn: dict[str, Path], pg_engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    duck, pg = duck_and_pg(pg_engine, str(churn[name]), f"prof.{name}")
    frame = pd.read_parquet(churn[name])
    assert pg["n_rows"] == len(frame)
    assert (
        pg["duplicate_rows"] == int(frame.duplicated().sum()) == (PLANTED if name == "dups" else 0)
    )
    assert pg["distinct_method"] == duck["distinct_method"] == "exact"
    kinds = {c["name"]: c["kind"] for c in pg["columns"]}
    assert {kinds[c] for c in ("signup", "signup_day")} == {"temporal"}
    assert kinds["note"] == "string" and kinds["vip"] == "boolean"
    assert_same(neutral(duck), neutral(pg))
    assert not [r for r in caplog.records if "locally" in r.getMessage()]  # nothing local
    _quantiles_are_numpy(pg, frame)
    for c in pg["columns"]:  # histograms and top values came back from the server too
        assert c["histogram"] or c["kind"] in ("string", "boolean"), c["name"]
    assert any(c["top_values"] for c in pg["columns"])


def _quantiles_are_numpy(result: dict[str, Any], frame: pd.DataFrame) -> None:
    for c in result["columns"]:
        if c["numeric"] is None:
            continue
        values = frame[c["name"]].dropna().to_numpy(dtype=float)
        expected = np.quantile(values, QUANTILES)
        got = [c["numeric"][q] for q in QUANTILE_NAMES]
        np.testing.assert_allclose(got, expected, rtol=1e-9, err_msg=c["name"])


def test_profile_renders_the_same_plots(churn: dict[str, Path], pg_engine: Any) -> None:
    duck = on_engine("duckdb", lambda: profile(str(churn["churn"])))
    pg = profile(on_server(pg_engine, "prof.churn"))
    duck_html, pg_html = duck.to_html(), pg.to_html()
    assert pg_html.count("<svg") == duck_html.count("<svg") > 10


def test_profile_approximate_path(churn: dict[str, Path], pg_engine: Any) -> None:
    """Past --exact-distinct-max-rows the server still counts exactly (it has no sketch);
    DuckDB's sketch stays within its bounds."""
    exact_pg = profile(on_server(pg_engine, "prof.churn")).to_dict()
    duck, pg = duck_and_pg(pg_engine, str(churn["churn"]), "prof.churn", APPROX_QUERY)
    assert pg["distinct_method"] == "exact"
    assert duck["distinct_method"].startswith("approximate")
    assert_same(neutral(exact_pg), neutral(pg))
    frame = pd.read_parquet(churn["churn"])
    for d, p in zip(duck["columns"], pg["columns"], strict=True):
        assert d["null_count"] == p["null_count"]
        off = abs(d["distinct_count"] - p["distinct_count"])
        assert off <= max(1, 0.2 * p["distinct_count"]), p["name"]
        if p["numeric"] is None:
            continue
        values = frame[p["name"]].dropna().to_numpy(dtype=float)
        for q, name in zip(QUANTILES, QUANTILE_NAMES, strict=True):
            lo, hi = np.quantile(values, [max(q - RANK_BOUND, 0), min(q + RANK_BOUND, 1)])
            assert lo - 1e-9 <= d["numeric"][name] <= hi + 1e-9, (p["name"], name)
        for key in ("min", "max", "mean", "std", "zero_count"):
            assert_same(d["numeric"][key], p["numeric"][key])


def test_profile_query_parity(churn: dict[str, Path], pg_engine: Any) -> None:
    columns = "customer_id, age, monthly_charges, satisfaction, signup, note"
    where = "WHERE age >= 30 AND region <> 'north'"
    duck, pg = duck_and_pg(
        pg_engine,
        f"SELECT {columns} FROM '{churn['churn']}' {where}",
        f"SELECT {columns} FROM prof.churn {where}",
    )
    frame = pd.read_parquet(churn["churn"])
    assert pg["n_rows"] == int(((frame.age >= 30) & (frame.region != "north")).sum())
    assert_same(neutral(duck), neutral(pg))


@pytest.fixture(scope="module")
def ab(data_dir: Path, pg_engine: Any) -> dict[str, Path]:  # noqa: F811
    """The A/B events as ``srm.ab`` and with their times as text as ``srm.ab_text``."""
    events = pd.read_parquet(data_dir / "ab.parquet")
    text = events.assign(ts=events["ts"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    out = {"ab": data_dir / "ab.parquet", "ab_text": data_dir / "ab_text.parquet"}
    text.to_parquet(out["ab_text"], index=False)
    for name, path in out.items():
        load_table(pg_engine, f"srm.{name}", path)
    return out


@pytest.mark.parametrize("name", ["ab", "ab_text"])
def test_daily_srm_parity(name: str, ab: dict[str, Path], pg_engine: Any) -> None:
    from sds.experiments.srm import srm_by_day

    def job(source: Any) -> dict[str, Any]:
        return srm_by_day(source, "variant", "ts", ["control", "treatment"]).to_dict()

    duck = on_engine("duckdb", lambda: job(open_table(str(ab[name]))))
    pg = job(on_server(pg_engine, f"srm.{name}"))
    events = pd.read_parquet(ab[name])
    counts = events["variant"].value_counts()
    assert pg["counts"] == [int(counts["control"]), int(counts["treatment"])]
    assert len(pg["daily"]) == pd.to_datetime(events["ts"]).dt.date.nunique()
    assert_same(duck, pg)


def test_text_dates_that_are_not_dates(pg_engine: Any) -> None:
    """PostgreSQL has no cast that gives null: text that is not an ISO date is counted and
    shown as on DuckDB, not a driver error."""
    from sds.errors import DataError
    from sds.experiments.srm import srm_by_day

    frame = pd.DataFrame(
        {"variant": ["a", "b", "a", "b"], "ts": ["2025-01-01", "2025-01-02 10:00", "soon", None]}
    )
    load_table(pg_engine, "srm.bad_dates", frame)
    messages = []
    for job in (
        lambda: srm_by_day(on_server(pg_engine, "srm.bad_dates"), "variant", "ts", ["a", "b"]),
        lambda: on_engine(
            "duckdb", lambda: srm_by_day(open_table(frame), "variant", "ts", ["a", "b"])
        ),
    ):
        with pytest.raises(DataError) as caught:
            job()
        messages.append(str(caught.value).split(": ", 1)[1])
    assert messages[0] == messages[1]
    assert (
        "2 of 4 rows have no usable date; found 1 empty, 1 not a date, e.g. 'soon'" in messages[0]
    )
