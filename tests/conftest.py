"""Shared fixtures: small generated files and an in-process CLI runner."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):
    # make test runs two pytest-xdist workers on two cores: one thread each for the math
    # libraries (set before numpy loads; CLI subprocesses inherit it), or the two workers'
    # BLAS and OpenMP pools oversubscribe the cores several times over. xdist also sets
    # COLUMNS=80 in its workers; the suite expects what a non-terminal gets (no COLUMNS).
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
    for _name in ("COLUMNS", "LINES"):
        os.environ.pop(_name, None)

import numpy as np
import pandas as pd
import pytest

from sds.config import Settings, restore_settings, use_settings
from tests.tiers import tiers

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tiers (``tests/tiers.py``): fast or slow, spark, postgres,
    hostile."""
    for item in items:
        parts = item.path.resolve().relative_to(ROOT).parts
        for name in sorted(tiers(parts, (m.name for m in item.iter_markers()))):
            item.add_marker(getattr(pytest.mark, name))


@pytest.fixture(scope="session", autouse=True)
def _model_key() -> Iterator[None]:
    """Models saved by tests are signed with a test key, not with a key file created in
    the home folder of whoever runs them (subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDS_MODEL_KEY", "sds-test-suite-model-key-0123456789")
        yield


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test starts from the default settings (the CLI callback changes them)."""
    token = use_settings(Settings())
    yield
    restore_settings(token)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def invoke(args: list[str]) -> CliResult:
    """Run ``sds ARGS`` in this process, as the console script would."""
    from sds.cli.main import _STATE, run

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    _STATE["debug"] = False
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> type[CliResult]:
    return CliResult


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """Mixed types with known quirks: nulls, a constant, a duplicate row, an id."""
    rng = np.random.default_rng(3)
    n = 2_000
    df = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "score": rng.normal(10, 2, n),
            "city": rng.choice(["paris", "rome", "oslo", "lima"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "visits": rng.poisson(3, n),
            "flag": rng.random(n) < 0.25,
            "signup": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 86400 * 90, n), "s"),
            "constant": 7,
        }
    )
    df.loc[df.index % 10 == 0, "score"] = np.nan
    df.loc[5, "city"] = None
    return df


@pytest.fixture
def csv_file(tmp_path: Path, small_frame: pd.DataFrame) -> Path:
    path = tmp_path / "small.csv"
    small_frame.to_csv(path, index=False)
    return path


@pytest.fixture
def parquet_file(tmp_path: Path, small_frame: pd.DataFrame) -> Path:
    path = tmp_path / "small.parquet"
    small_frame.to_parquet(path, index=False)
    return path
