"""``sds canary report``: the call on synthetic request logs.

Reference: the error-rate test equals statsmodels' ``proportions_ztest`` (pooled, one-sided,
challenger larger).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from sds.monitoring.canary import canary_report
from tests.conftest import invoke


def _log(
    path: Path,
    n: tuple[int, int],
    errors: tuple[float, float],
    slow: float = 1.0,
    shift: float = 0.0,
    seed: int = 0,
) -> Path:
    rng = np.random.default_rng(seed)
    parts = []
    for variant, count, err, factor, move in (
        ("champion", n[0], errors[0], 1.0, 0.0),
        ("challenger", n[1], errors[1], slow, shift),
    ):
        parts.append(
            pd.DataFrame(
                {
                    "ts": np.arange(count, dtype=float),
                    "variant": variant,
                    "model_version": "v",
                    "status": np.where(rng.random(count) < err, 500, 200),
                    "latency_ms": rng.gamma(4, 1.5, count) * factor,
                    "prediction": np.clip(rng.beta(2, 5, count) + move, 0, 1),
                }
            )
        )
    path.mkdir(parents=True, exist_ok=True)
    pd.concat(parts).to_parquet(path / "requests-1.parquet")
    return path


def test_roll_back_on_more_errors_matching_statsmodels(tmp_path: Path) -> None:
    log = _log(tmp_path / "a", (20_000, 2_000), (0.005, 0.02))
    result = canary_report(str(log / "*.parquet"))
    assert result.decision == "roll back"
    a, b = result.variants
    _, p = proportions_ztest(
        [b["errors"], a["errors"]], [b["requests"], a["requests"]], alternative="larger"
    )
    assert result.comparison["p_value_challenger_errs_more"] == pytest.approx(p, rel=1e-9)


def test_roll_back_on_latency_wait_on_few_and_promote(tmp_path: Path) -> None:
    slow = canary_report(
        str(_log(tmp_path / "b", (20_000, 2_000), (0.01, 0.01), slow=2.0) / "*.parquet")
    )
    assert slow.decision == "roll back" and "latency" in slow.reasons[0]
    few = canary_report(str(_log(tmp_path / "c", (20_000, 300), (0.01, 0.01)) / "*.parquet"))
    assert few.decision == "keep waiting"
    good = canary_report(
        str(_log(tmp_path / "d", (20_000, 2_000), (0.01, 0.01), shift=0.3) / "*.parquet")
    )
    assert good.decision == "promote"
    assert good.comparison["prediction_psi"] > 0.2 and len(good.reasons) == 2


def test_cli_exit_codes(tmp_path: Path) -> None:
    bad = invoke(
        [
            "canary",
            "report",
            str(_log(tmp_path / "e", (20_000, 2_000), (0.005, 0.03))),
            "--format",
            "json",
        ]
    )
    assert bad.exit_code == 1 and json.loads(bad.stdout)["decision"] == "roll back"
    ok = invoke(["canary", "report", str(_log(tmp_path / "f", (20_000, 2_000), (0.01, 0.01)))])
    assert ok.exit_code == 0 and "promote" in ok.stdout
    one = tmp_path / "g"
    one.mkdir()
    pd.DataFrame(
        {"variant": ["champion"], "status": [200], "latency_ms": [1.0], "prediction": [0.1]}
    ).to_parquet(one / "r.parquet")
    missing = invoke(["canary", "report", str(one)])
    assert missing.exit_code == 2 and "both variants" in missing.stderr
