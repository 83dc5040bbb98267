"""``sds causal``: every method from the command line, JSON fields, reports, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import invoke

REQUIRED = {"method", "estimate", "std_error", "ci_lower", "ci_upper", "p_value", "n",
            "diagnostics", "warnings"}  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import causaldata

    root = tmp_path_factory.mktemp("causal")
    rng = np.random.default_rng(0)
    out = {}
    card = causaldata.close_college.load_pandas().data
    card.to_csv(out.setdefault("card", root / "card.csv"), index=False)
    n = 2000
    x = rng.normal(size=(n, 2))
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    obs = pd.DataFrame({"y": t + x[:, 0] + rng.normal(size=n), "t": t, "x1": x[:, 0],
                        "x2": x[:, 1], "pre": x[:, 1] + rng.normal(size=n)})  # fmt: skip
    obs.to_parquet(out.setdefault("obs", root / "obs.parquet"))
    units, periods = 40, 6
    u, p = np.repeat(np.arange(units), periods), np.tile(np.arange(periods), units)
    start = np.where(np.arange(units) < 20, np.where(np.arange(units) < 10, 2, 4), 99)[u]
    panel = pd.DataFrame({"unit": u, "period": p, "d": (p >= start).astype(int)})
    panel["y"] = rng.normal(size=units)[u] + 0.2 * p + panel["d"] + rng.normal(size=len(u))
    panel.to_csv(out.setdefault("panel", root / "panel.csv"), index=False)
    s = rng.uniform(-1, 1, 1500)
    pd.DataFrame({"score": s, "y": (s >= 0) * 2 + s + rng.normal(size=1500)}).to_csv(
        out.setdefault("rd", root / "rd.csv"), index=False
    )
    return out


@pytest.mark.parametrize(
    ("args", "method"),
    [
        (["iv", "--data", "card", "--outcome", "lwage", "--treatment", "educ",
          "--instrument", "nearc4", "--covariates", "exper,black,south,married,smsa"], "iv-2sls"),
        (["psm", "--data", "obs", "--outcome", "y", "--treatment", "t", "--covariates", "x1,x2",
          "--placebo-outcome", "pre"], "psm"),
        (["ipw", "--data", "obs", "--outcome", "y", "--treatment", "t", "--covariates", "x1,x2",
          "--estimand", "ATT"], "ipw"),
        (["aipw", "--data", "obs", "--outcome", "y", "--treatment", "t", "--covariates",
          "x1,x2"], "aipw"),
        (["did", "--data", "panel", "--outcome", "y", "--treatment", "d", "--unit", "unit",
          "--time", "period", "--permutations", "99"], "did-twfe"),
        (["event-study", "--data", "panel", "--outcome", "y", "--treatment", "d", "--unit",
          "unit", "--time", "period"], "event-study"),
        (["staggered", "--data", "panel", "--outcome", "y", "--treatment", "d", "--unit",
          "unit", "--time", "period"], "did-callaway-santanna"),
        (["rdd", "--data", "rd", "--outcome", "y", "--running", "score"], "rdd-sharp"),
    ],
)  # fmt: skip
def test_every_method_writes_json_with_the_required_fields(
    files: dict[str, Path], tmp_path: Path, args: list[str], method: str
) -> None:
    args = [str(files[a]) if a in files else a for a in args]
    out = tmp_path / "result.json"
    result = invoke(["causal", *args, "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    body = json.loads(out.read_text())
    assert set(body) >= REQUIRED and body["method"] == method
    assert np.isfinite(body["estimate"]) and body["ci_lower"] < body["estimate"] < body["ci_upper"]
    assert body["verdict"]
    html = tmp_path / "report.html"
    assert invoke(["causal", *args, "--output", str(html)]).exit_code == 0
    assert "<svg" in html.read_text() or method.startswith("iv")


def test_placebo_outcome_table_and_advice(files: dict[str, Path]) -> None:
    result = invoke(["causal", "psm", "--data", str(files["obs"]), "--outcome", "y",
                     "--treatment", "t", "--covariates", "x1", "--placebo-outcome", "pre",
                     "--format", "json"])  # fmt: skip
    body = json.loads(result.stdout)
    assert body["tables"]["placebo_outcomes"][0]["outcome"] == "pre"
    advice = invoke(["causal", "advise", "--assignment", "cutoff", "--no-full-compliance",
                     "--format", "json"])  # fmt: skip
    assert json.loads(advice.stdout)["method"].startswith("rdd (fuzzy")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["iv", "--outcome", "lwage", "--treatment", "educ", "--instrument", "nearc5"],
         "Did you mean 'nearc4'"),
        (["rdd", "--outcome", "lwage", "--running", "educ", "--cutoff", "100"],
         "no observations on one side"),
        (["psm", "--outcome", "lwage", "--treatment", "educ", "--covariates", "exper"],
         "0/1 indicator"),
        (["iv", "--outcome", "lwage", "--treatment", "educ", "--instrument", "nearc4",
          "--placebo-outcome", "educ"], "placebo outcome"),
        (["advise"], "missing answer"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_the_reason(
    files: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "r.json"
    data = [] if args[0] == "advise" else ["--data", str(files["card"])]
    result = invoke(["causal", *args, *data, "--output", str(out)])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert not out.exists()
