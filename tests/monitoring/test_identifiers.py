"""Text columns that look like identifiers or free text are left out of a comparison whose
features were not named (:mod:`sds.monitoring.identifiers`).

References: the distinct and non-null counts are pandas' ``nunique`` and ``count``; the
rule (more distinct values than half the non-null rows and than 1,000) is applied to them
here. On the large path the engine's estimate is checked against the exact count within
the sketch's margin, and columns near the threshold must get the exact rule's answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.monitoring import binned
from sds.monitoring.report import monitor
from tests.conftest import invoke

ROWS = 4_000


def _text(distinct: int, rows: int, rng: np.random.Generator, prefix: str) -> list[Any]:
    """``rows`` values holding exactly ``distinct`` distinct strings (then nulls up to
    ``ROWS``)."""
    codes = np.concatenate([np.arange(distinct), rng.integers(0, distinct, rows - distinct)])
    values: list[Any] = [f"{prefix}{c:06d}" for c in rng.permutation(codes)]
    return values + [None] * (ROWS - rows)


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "uid": [f"u{seed}-{i}" for i in rng.permutation(ROWS)],  # all distinct
            "over": _text(2_001, ROWS, rng, "o"),  # just over half of 4,000
            "under": _text(2_000, ROWS, rng, "n"),  # half: not over it
            "sparse_over": _text(1_001, 1_500, rng, "s"),  # > 750 and > 1,000
            "sparse_under": _text(1_000, 1_500, rng, "t"),  # > 750, not > 1,000
            "number": rng.permutation(ROWS),  # an integer: never left out
            "group": rng.choice(np.array(["a", "b", "c"]), ROWS),
        }
    )


def _expected(reference: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """The rule applied to pandas' counts: the text columns left out, with their figures."""
    out = {}
    for c in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[c]):
            continue
        d, n = int(reference[c].nunique()), int(reference[c].count())
        if d > n / 2 and d > 1_000:
            out[c] = (d, n)
    return out


def _skipped(result: Any) -> dict[str, dict[str, Any]]:
    return {s["feature"]: s for s in result.to_dict()["skipped"]}


@pytest.mark.parametrize("path", ["exact", "binned"])
def test_the_rule_on_both_paths_near_the_threshold(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "binned":
        monkeypatch.setattr(binned, "EXACT_ROWS", 100)
    reference, current = _frame(1), _frame(2)
    expected = _expected(reference)
    assert set(expected) == {"uid", "over", "sparse_over"}  # the fixture is what it says
    result = monitor(reference, current)
    skipped = _skipped(result)
    assert set(skipped) == set(expected)
    compared = {f["feature"] for f in result.features}
    assert compared == set(reference.columns) - set(expected)
    for c in ("over", "sparse_over"):  # near the threshold: counted exactly on both paths
        assert skipped[c]["distinct"] == expected[c][0]
        assert skipped[c]["non_null_rows"] == expected[c][1]
        assert skipped[c]["distinct_approximate"] is False
    uid = skipped["uid"]
    assert uid["non_null_rows"] == ROWS
    if path == "exact":
        assert uid["distinct"] == ROWS and uid["distinct_approximate"] is False
    else:  # a sketch's estimate, well past the threshold (2,000 x 1.5)
        assert uid["distinct_approximate"] is True
        assert 3_000 < uid["distinct"] <= ROWS
    assert uid["reason"] == "looks like an identifier or free text"


@pytest.mark.parametrize("path", ["exact", "binned"])
def test_a_named_identifier_is_compared_as_before(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named in ``features``, ``uid`` is compared: PSI over the reference's 20 first levels
    (all tied at one row, so by name), one bin for the rest and one for missing."""
    if path == "binned":
        monkeypatch.setattr(binned, "EXACT_ROWS", 100)
    reference, current = _frame(1), _frame(2)
    current.loc[: ROWS // 2, "uid"] = reference["uid"].iloc[: ROWS // 2 + 1].to_numpy()
    result = monitor(reference, current, features=["uid", "over"])
    assert result.to_dict()["skipped"] == []
    row = next(f for f in result.features if f["feature"] == "uid")
    top = sorted(reference["uid"])[:20]
    rc = np.array([1.0] * 20 + [ROWS - 20, 0.0])
    cc = np.array([float((current["uid"] == v).sum()) for v in top])
    cc = np.append(cc, [ROWS - cc.sum(), 0.0])
    r, c = np.maximum(rc / ROWS, 1e-4), np.maximum(cc / ROWS, 1e-4)
    assert row["psi"] == pytest.approx(float(np.sum((c - r) * np.log(c / r))), abs=1e-12)
    assert {f["feature"] for f in result.features} == {"uid", "over"}


def test_cli_lists_the_skipped_column_in_every_output(tmp_path: Path) -> None:
    reference, current = _frame(1), _frame(2)
    reference.to_parquet(tmp_path / "ref.parquet")
    current.to_parquet(tmp_path / "cur.parquet")
    base = ["monitor", "--reference", str(tmp_path / "ref.parquet")]
    base += ["--data", str(tmp_path / "cur.parquet")]
    line = (
        "uid: skipped, looks like an identifier or free text (4,000 distinct of 4,000 "
        "non-null rows); name it in --features to compare it anyway"
    )
    as_json = invoke([*base, "--format", "json"])
    assert as_json.exit_code == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert {s["feature"] for s in report["skipped"]} == {"uid", "over", "sparse_over"}
    assert line in as_json.stderr
    for name in ("m.md", "m.html", "m.txt"):
        written = invoke([*base, "-o", str(tmp_path / name)])
        assert written.exit_code == 0, written.stderr
        assert line in written.stderr
        assert "uid: skipped, looks like an identifier" in (tmp_path / name).read_text()
    named = invoke([*base, "--features", "uid,group", "--format", "json"])
    assert named.exit_code == 0, named.stderr
    assert json.loads(named.stdout)["skipped"] == [] and "skipped" not in named.stderr
