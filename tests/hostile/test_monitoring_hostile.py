"""Canary calls and drift monitoring on request logs full of refusals, errors and
disconnects: refused requests are not data, disconnects are not errors.

The logs are synthetic Parquet files in the request log's layout (``ts``, ``variant``,
``model_version``, ``status``, ``latency_ms``, ``in_<feature>``, ``prediction``), written
directly: no server needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from tests.conftest import invoke

pytestmark = pytest.mark.hostile


def _variant(
    variant: str, statuses: np.ndarray, rng: np.random.Generator, slow_ms: float = 5_000.0
) -> pd.DataFrame:
    """Rows of one variant: answered rows get a prediction and a model-like latency,
    refused ones a fast answer and nulls, disconnected ones the client's time-out."""
    n = len(statuses)
    answered = statuses == 200
    latency = np.where(answered, rng.gamma(4, 1.5, n), 0.3)
    latency = np.where(statuses == 499, slow_ms, latency)
    return pd.DataFrame(
        {
            "ts": np.arange(n, dtype=float),
            "variant": variant,
            "model_version": "v",
            "status": statuses.astype("int64"),
            "latency_ms": latency,
            "in_x": np.where(answered, rng.normal(size=n), np.nan),
            "prediction": np.where(answered, rng.beta(2, 5, n), np.nan),
        }
    )


def _statuses(rng: np.random.Generator, n: int, **shares: float) -> np.ndarray:
    """``n`` statuses: 200 by default, each other status with its share (``s500=0.01``)."""
    out = np.full(n, 200)
    u = rng.random(n)
    edge = 0.0
    for name, share in shares.items():
        out[(u >= edge) & (u < edge + share)] = int(name[1:])
        edge += share
    return out


def _write(folder: Path, *frames: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        frame.to_parquet(folder / f"requests-{i}.parquet", index=False)
    return folder


def _canary(folder: Path, *extra: str) -> tuple[int, dict, str]:
    result = invoke(["canary", "report", str(folder), "--format", "json", *extra])
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def test_challenger_refusing_every_request_is_rolled_back(tmp_path: Path) -> None:
    """Finding 14: a challenger that refused all 1,223 of its requests was promoted (its
    refusals were not counted against it, and their fast answers looked like speed)."""
    rng = np.random.default_rng(14)
    champion = _variant("champion", _statuses(rng, 20_000, s422=0.01), rng)
    challenger = _variant("challenger", np.full(1_223, 422), rng)
    old_401 = _variant("challenger", np.full(40, 401), rng)  # old logs: ignored
    code, report, err = _canary(_write(tmp_path / "log", champion, challenger, old_401))
    assert code == 1, err
    assert report["decision"] == "roll back"
    assert report["reasons"][0].startswith("the challenger refuses more: 100.00%")
    b = report["variants"][1]
    assert b["variant"] == "challenger"
    assert (b["requests"], b["answered"], b["refused"], b["errors"]) == (1_223, 0, 1_223, 0)
    assert b["refused_rate"] == 1.0 and b["p95_ms"] is None  # no answered latency to show
    assert report["comparison"]["p_value_challenger_refuses_more"] < 1e-100


def test_challenger_that_answered_nothing_is_never_promoted(tmp_path: Path) -> None:
    """Both variants refuse everything (bad client traffic): no test can tell them apart,
    but a challenger that answered nothing must not be promoted."""
    rng = np.random.default_rng(15)
    folder = _write(
        tmp_path / "log",
        _variant("champion", np.full(2_000, 422), rng),
        _variant("challenger", np.full(2_000, 400), rng),
    )
    code, report, err = _canary(folder, "--min-requests", "1")
    assert code == 0, err
    assert report["decision"] == "keep waiting"
    assert "answered no request" in report["reasons"][0]


def test_disconnects_are_not_errors_and_their_wait_is_not_latency(tmp_path: Path) -> None:
    """Finding 10 (canary side): 150 requests the client gave up on (499, after a 5 s
    time-out) made an identical challenger look worse; they are counted, shown and left
    out of the error rate and of the latency."""
    rng = np.random.default_rng(10)
    champion = _variant("champion", _statuses(rng, 20_000, s500=0.01, s422=0.02), rng)
    challenger = _variant("challenger", _statuses(rng, 2_000, s500=0.01, s422=0.02), rng)
    gone = _variant("challenger", np.full(150, 499), rng)
    code, report, err = _canary(_write(tmp_path / "log", champion, challenger, gone))
    assert code == 0, err
    assert report["decision"] == "promote"
    b = report["variants"][1]
    assert b["disconnected"] == 150 and b["requests"] == 2_150 and b["responded"] == 2_000
    assert b["error_rate"] == pytest.approx(b["errors"] / 2_000)
    assert report["comparison"]["p95_latency_ratio"] < 1.2
    assert "150 challenger and 0 champion requests were disconnected" in report["reasons"][-1]
    text = invoke(["canary", "report", str(tmp_path / "log")])
    assert text.exit_code == 0 and "disconnected" in text.stdout


def test_challenger_erring_more_is_rolled_back_with_its_figures(tmp_path: Path) -> None:
    """A challenger with 3% server errors against 0.5%, among requests with refusals and
    disconnects: rolled back on errors alone, tested on the requests it responded to."""
    rng = np.random.default_rng(11)
    champion = _variant("champion", _statuses(rng, 20_000, s500=0.005, s422=0.02), rng)
    challenger = _variant("challenger", _statuses(rng, 2_000, s503=0.03, s422=0.02), rng)
    gone = _variant("challenger", np.full(300, 499), rng)
    code, report, err = _canary(_write(tmp_path / "log", champion, challenger, gone))
    assert code == 1, err
    assert [r.split(":")[0] for r in report["reasons"]] == [
        "the challenger errs more",
        "300 challenger and 0 champion requests were disconnected by the client (499)",
    ]
    a, b = report["variants"][0], report["variants"][1]
    _, p = proportions_ztest(
        [b["errors"], a["errors"]], [b["responded"], a["responded"]], alternative="larger"
    )
    assert report["comparison"]["error_test"].startswith("two-proportion z")
    assert report["comparison"]["p_value_challenger_errs_more"] == pytest.approx(p, rel=1e-9)
    assert report["comparison"]["p_value_challenger_refuses_more"] > 0.05


def test_few_errors_use_the_exact_test(tmp_path: Path) -> None:
    """2 errors in 400 answers against 0 in 20,000: expected counts below 5, so Fisher's
    exact test decides (the z test's normal tail is too thin there)."""
    rng = np.random.default_rng(12)
    champion = _variant("champion", np.full(20_000, 200), rng)
    statuses = np.full(400, 200)
    statuses[:2] = 500
    folder = _write(tmp_path / "log", champion, _variant("challenger", statuses, rng))
    code, report, err = _canary(folder)
    assert report["comparison"]["error_test"].startswith("Fisher exact")
    from scipy.stats import fisher_exact

    want = fisher_exact([[2, 398], [0, 20_000]], alternative="greater").pvalue
    assert report["comparison"]["p_value_challenger_errs_more"] == pytest.approx(want, rel=1e-9)
    assert code == 1 and report["decision"] == "roll back", err


def _reference_and_log(tmp_path: Path) -> tuple[Path, Path]:
    """15 features (12 numbers, a constant, 2 categories); the log has the same
    distributions except ``f0`` (shifted), plus 30% refused requests with null inputs."""
    rng = np.random.default_rng(15)

    def rows(n: int, shift: float) -> dict[str, np.ndarray]:
        out = {f"f{i}": rng.normal(shift if i == 0 else 0.0, 1.0, n) for i in range(12)}
        out["constant"] = np.full(n, 7.0)
        out["city"] = rng.choice(np.array(["paris", "rome", "oslo"]), n, p=[0.5, 0.3, 0.2])
        out["plan"] = rng.choice(np.array(["free", "pro"]), n, p=[0.8, 0.2])
        return out

    reference = pd.DataFrame(rows(6_000, 0.0))
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    n, refused = 5_000, 1_500
    inputs = pd.DataFrame(rows(n, 1.0))
    statuses = np.full(n, 200)
    statuses[:refused] = 422
    statuses[refused : refused + 50] = 500
    statuses[refused + 50 : refused + 80] = 499
    answered = statuses == 200
    inputs = inputs.astype({"city": object, "plan": object})
    inputs.loc[~answered, :] = None
    log = pd.DataFrame(
        {
            "ts": np.arange(n, dtype=float),
            "variant": "champion",
            "model_version": "v",
            "status": statuses.astype("int64"),
            "latency_ms": np.where(answered, 20.0, 0.5),
            **{f"in_{c}": inputs[c] for c in inputs.columns},
            "prediction": np.where(answered, rng.random(n), np.nan),
        }
    )
    return tmp_path / "reference.parquet", _write(tmp_path / "log", log)


def test_monitor_ignores_refused_rows_and_reports_them(tmp_path: Path) -> None:
    """Finding 15: 30% refused requests (all-null inputs) put 13 of 15 features in alert;
    only answered requests are data, and the refusals are their own figure."""
    reference, log = _reference_and_log(tmp_path)
    args = ["monitor", "--reference", str(reference), "--data", str(log)]
    result = invoke([*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["features"]) == 15
    assert report["alerts"] == ["f0"]
    assert all(f["status"] == "ok" for f in report["features"][1:])
    constant = next(f for f in report["features"] if f["feature"] == "constant")
    assert constant["psi"] == 0.0
    service = report["service"]
    answered = 5_000 - 1_500 - 50 - 30
    assert (service["refused"], service["errors"], service["disconnected"]) == (1_500, 50, 30)
    assert service["answered"] == report["rows"]["current"] == answered
    assert service["refused_rate"] == pytest.approx(1_500 / 4_970)
    assert service["error_rate"] == pytest.approx(50 / 4_970)
    assert service["latency_p95_ms"] == 20.0  # answered requests only
    text = invoke(args)
    assert text.exit_code == 0 and "1,500 refused, 50 errors, 30 disconnected" in text.stdout
    html = invoke([*args, "-o", str(tmp_path / "m.html")])
    assert html.exit_code == 0 and "1,500 refused" in (tmp_path / "m.html").read_text()


def test_monitor_on_a_log_with_no_answered_request_says_so(tmp_path: Path) -> None:
    reference, _ = _reference_and_log(tmp_path)
    rng = np.random.default_rng(16)
    empty = _write(tmp_path / "refused", _variant("champion", np.full(100, 422), rng))
    result = invoke(["monitor", "--reference", str(reference), "--data", str(empty)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "no answered request" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--psi-warn", "nan"], "--psi-warn"),
        (["--psi-alert", "inf"], "--psi-alert"),
        (["--psi-warn", "-0.1"], "--psi-warn"),
        (["--psi-warn", "0.5", "--psi-alert", "0.1"], "--psi-alert"),
        (["--psi-alert", "1e30"], "--psi-alert"),  # PSI never exceeds 2 ln(1e4) = 18.4
    ],
)
def test_monitor_refuses_thresholds_that_can_never_fire(
    tmp_path: Path, options: list[str], named: str
) -> None:
    frame = pd.DataFrame({"x": np.arange(50.0)})
    frame.to_parquet(tmp_path / "a.parquet")
    data = str(tmp_path / "a.parquet")
    result = invoke(["monitor", "--reference", data, "--data", data, *options])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "options",
    [
        ["--alpha", "nan"],
        ["--alpha", "1.5"],
        ["--min-requests", "0"],
        ["--latency-ratio-max", "inf"],
        ["--latency-ratio-max", "1e30"],
    ],
)
def test_canary_refuses_bad_options(tmp_path: Path, options: list[str]) -> None:
    rng = np.random.default_rng(17)
    folder = _write(
        tmp_path / "log",
        _variant("champion", np.full(50, 200), rng),
        _variant("challenger", np.full(50, 200), rng),
    )
    result = invoke(["canary", "report", str(folder), *options])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert options[0] in result.stderr  # the option as typed


def test_damaged_logs_and_tables_are_refused_not_read(tmp_path: Path) -> None:
    """Text where the latency should be, infinite latencies of answered requests, a
    feature that is a number in the reference and text in the current data, and ``inf``
    in a feature: each is one error line (exit 2), never a report or an internal error."""
    rng = np.random.default_rng(18)
    log = pd.concat(
        [_variant("champion", np.full(50, 200), rng), _variant("challenger", np.full(50, 200), rng)]
    )
    text = log.astype({"latency_ms": object})
    text.loc[text.index[::7], "latency_ms"] = "abc"
    text.to_csv(tmp_path / "text.csv", index=False)
    endless = log.reset_index(drop=True)
    endless.loc[::5, "latency_ms"] = np.inf
    endless.to_parquet(tmp_path / "endless.parquet")
    for name in ("text.csv", "endless.parquet"):
        result = invoke(["canary", "report", str(tmp_path / name)])
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith("error: ") and "latency_ms" in result.stderr
    x = rng.normal(size=200)
    every_ninth = np.arange(200) % 9 == 0
    pd.DataFrame({"x": x}).to_parquet(tmp_path / "ref.parquet")
    words = pd.DataFrame({"x": np.where(every_ninth, "abc", x.astype(str))})
    words.to_parquet(tmp_path / "words.parquet")
    pd.DataFrame({"x": np.where(every_ninth, np.inf, x)}).to_parquet(tmp_path / "inf.parquet")
    for name in ("words.parquet", "inf.parquet"):
        reference, current = str(tmp_path / "ref.parquet"), str(tmp_path / name)
        result = invoke(["monitor", "--reference", reference, "--data", current])
        assert result.exit_code == 2 and "'x'" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_nan_text_in_a_csv_is_missing_not_the_largest_number(tmp_path: Path) -> None:
    """A CSV's ``nan`` is read as a float NaN, which the engine sorts above every number:
    counted as a value, it filled the top bin and entered the KS statistic."""
    from scipy import stats

    from sds.monitoring.report import monitor

    rng = np.random.default_rng(19)
    x, y = rng.normal(size=3_000), rng.normal(size=3_000)
    y[::4] = np.nan
    pd.DataFrame({"x": x}).to_csv(tmp_path / "ref.csv", index=False)
    lines = ["nan" if np.isnan(v) else repr(float(v)) for v in y]
    (tmp_path / "cur.csv").write_text("x\n" + "\n".join(lines) + "\n")
    row = monitor(str(tmp_path / "ref.csv"), str(tmp_path / "cur.csv")).features[0]
    want = stats.ks_2samp(x, y[~np.isnan(y)], method="asymp").statistic
    assert row["ks"] == pytest.approx(want, abs=1e-12)
    assert row["status"] == "alert"  # a quarter of the values missing is drift, in its own bin


def test_monitor_needs_a_row_per_bin_on_each_side(tmp_path: Path) -> None:
    """One reference row gave a report whose every PSI was noise; now it is an error."""
    x = np.random.default_rng(20).normal(size=500)
    pd.DataFrame({"x": x[:1]}).to_parquet(tmp_path / "one.parquet")
    pd.DataFrame({"x": x}).to_parquet(tmp_path / "many.parquet")
    one, many = str(tmp_path / "one.parquet"), str(tmp_path / "many.parquet")
    for reference, current in ((one, many), (many, one)):
        result = invoke(["monitor", "--reference", reference, "--data", current])
        assert result.exit_code == 2 and "too few rows" in result.stderr, result.stderr
    assert invoke(["monitor", "--reference", many, "--data", many]).exit_code == 0
