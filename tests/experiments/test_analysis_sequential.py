"""Sequential analysis: alpha holds under peeking; the report says which looks happened.

Acceptance: with 10 looks, group-sequential (O'Brien-Fleming) and mSPRT keep the A/A
false-positive rate at or below 5.5%, where naive peeking at |z| > 1.96 exceeds 15%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sds.experiments.analysis.run import analyze
from sds.experiments.analysis.sequential_analysis import group_sequential, msprt
from sds.experiments.analysis.timeline_records import CumulativeLook

LOOKS, PER_LOOK, RUNS = 10, 200, 2000


def _aa_paths(rng: np.random.Generator) -> list[list[CumulativeLook]]:
    paths = []
    for _ in range(RUNS):
        c = rng.normal(10, 3, (LOOKS, PER_LOOK)).cumsum(axis=0)
        t = rng.normal(10, 3, (LOOKS, PER_LOOK)).cumsum(axis=0)
        path = []
        for k in range(LOOKS):
            n = (k + 1) * PER_LOOK
            effect = (t[k].sum() - c[k].sum()) / n
            se = 3 * np.sqrt(2 / n)
            path.append(CumulativeLook(k, 2 * n, effect, None, None, se, effect / se, 10.0))
        paths.append(path)
    return paths


def test_peeking_is_safe_with_group_sequential_and_msprt_and_not_naively() -> None:
    paths = _aa_paths(np.random.default_rng(11))
    naive = np.mean([any(abs(p.z or 0.0) > 1.959964 for p in path) for path in paths])
    group = np.mean(
        [
            group_sequential(
                path,
                planned_units=2 * LOOKS * PER_LOOK,
                looks=LOOKS,
                spending="obrien-fleming",
                alpha=0.05,
            ).stop
            for path in paths
        ]
    )
    mixture = np.mean([msprt(path, tau=0.5, alpha=0.05).stop for path in paths])
    assert naive > 0.15, naive
    assert group <= 0.055, group
    assert mixture <= 0.055, mixture


def test_report_lists_looks_and_blocks_an_early_ship() -> None:
    rng = np.random.default_rng(4)
    n = 6000
    day = rng.integers(0, 10, n)
    variant = rng.choice(["control", "treatment"], n)
    y = rng.normal(10, 3, n) + (variant == "treatment") * 0.5
    df = pd.DataFrame(
        {
            "user": np.arange(n),
            "variant": variant,
            "y": y,
            "day": pd.Timestamp("2026-03-01") + pd.to_timedelta(day, "D"),
        }
    )
    spec = {
        "unit": "user",
        "variant": "variant",
        "control": "control",
        "date": "day",
        "metrics": [{"name": "y", "type": "mean", "column": "y"}],
        "sequential": {"method": "group", "looks": 5, "planned_units": 20_000},
    }
    result = analyze(spec, df)
    seq = result.to_dict()["sequential"]["treatment"]
    # 6,000 of 20,000 planned units: looks 1 (4,000) has happened, look 2 (8,000) has not
    assert [look["look"] for look in seq["looks"]] == [1]
    assert seq["next_look_units"] == 8000
    assert seq["looks"][0]["boundary"] > 4  # O'Brien-Fleming at 20% information
    fixed_p = result.effect("y").p_value
    assert fixed_p < 0.05  # a naive analysis would ship now ...
    assert result.verdict == "inconclusive"  # ... the plan does not allow it
    assert any("sequential" in r or "boundary" in r for r in result.reasons)
    mixture = analyze({**spec, "sequential": {"method": "msprt", "tau": 0.3}}, df)
    looks = mixture.to_dict()["sequential"]["treatment"]["looks"]
    assert len(looks) == 10
    p_values = [look["always_valid_p"] for look in looks]
    assert p_values == sorted(p_values, reverse=True)  # always-valid p never increases


def test_sequential_needs_a_date_column() -> None:
    from sds.errors import ConfigError

    df = pd.DataFrame({"user": range(10), "variant": ["a", "b"] * 5, "y": range(10)})
    spec = {
        "unit": "user",
        "variant": "variant",
        "control": "a",
        "metrics": [{"name": "y", "type": "mean", "column": "y"}],
        "sequential": {"method": "msprt"},
    }
    with pytest.raises(ConfigError, match="needs the assignment date"):
        analyze(spec, df)
