"""The public namespace: one entry point per job, one argument order, a lazy ``import sds``.

The order (documented in ``sds/__init__.py``): the data first where the job reads a table,
then the spec or the required columns, positional-only; every other option keyword-only.
Each entry point also runs on tiny data in ``tests/test_result_common.py`` (its factories
call them); here each runs once more and its result type is checked.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sds
from sds.errors import ParameterError

# entry point -> its positional parameters, in order
ORDER: dict[str, tuple[str, ...]] = {
    "design": ("spec",),
    "assign": ("data", "experiment", "variants"),
    "srm": ("data", "variant_column", "date_column"),
    "analyze": ("data", "spec"),
    "stats.run": ("data", "spec"),
    "causal.run": ("data", "method"),
    "features.run": ("data", "spec"),
    "train": ("data", "config"),
    "evaluate": ("data", "model"),
    "monitor": ("data", "reference"),
}


def _entry(name: str) -> Callable[..., Any]:
    value: Any = sds
    for part in name.split("."):
        value = getattr(value, part)
    assert callable(value), name
    return value  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", list(ORDER))
def test_entry_point_argument_order(name: str) -> None:
    params = list(inspect.signature(_entry(name)).parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert tuple(positional) == ORDER[name]
    rest = [p for p in params if p.name not in positional]
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in rest), rest
    assert name.split(".")[0] in sds.__doc__  # type: ignore[operator]


def test_subpackages_stay_importable() -> None:
    from sds.causal import ipw
    from sds.stats.ttest import ttest

    assert callable(ipw) and callable(ttest)
    assert inspect.ismodule(sds.stats) and inspect.ismodule(sds.causal)
    assert inspect.ismodule(sds.features)


def test_import_sds_is_lazy() -> None:
    code = (
        "import sys, sds\n"
        "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'ibis', 'sds.experiments',"
        " 'sds.results') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_entry_points_run_on_tiny_data() -> None:
    from sds.experiments.assign import AssignmentSummary
    from sds.experiments.design_result import DesignPlan
    from sds.experiments.srm import SrmResult

    plan = sds.design({"metric": "proportion", "baseline": 0.1}, mde=0.2)
    assert isinstance(plan, DesignPlan)
    assert plan == sds.design(metric="proportion", baseline=0.1, mde=0.2)
    ids = [f"u{i}" for i in range(100)]
    by_list = sds.assign(ids, "exp", ["a", "b"], shares=[0.5, 0.5])
    by_table = sds.assign(pd.DataFrame({"user_id": ids}), "exp", ["a", "b"], shares=[0.5, 0.5])
    assert isinstance(by_list, AssignmentSummary)
    assert by_list.counts == by_table.counts and sum(by_list.counts) == 100
    for ids_in_pandas in (pd.Series(ids), pd.Index(ids)):  # in-memory ids, as the list
        assert sds.assign(ids_in_pandas, "exp", ["a", "b"], shares=[0.5, 0.5]) == by_list
    check = sds.srm({"a": 52, "b": 48})
    assert isinstance(check, SrmResult) and check.variants == ("a", "b")
    assert check.p_value == sds.srm([52, 48]).p_value
    with pytest.raises(ParameterError, match="variant_column"):
        sds.srm(pd.DataFrame({"v": ["a"]}))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=80), "t": np.repeat([0, 1], 40)})
    frame["y"] = frame["x"] + frame["t"] + rng.normal(size=80)
    with pytest.raises(ParameterError, match="method"):
        sds.causal.run(frame, "magic", outcome="y", treatment="t")
    est = sds.causal.run(frame, "ipw", outcome="y", treatment="t", covariates=["x"])
    assert est == sds.causal.ipw(frame, "y", "t", ["x"])
    ref = frame.iloc[:40][["x", "y"]]
    drift = sds.monitor(frame.iloc[40:][["x", "y"]], ref, features=["x"])
    assert [f["feature"] for f in drift.to_dict()["features"]] == ["x"]


def test_analyze_with_the_spec_first_says_the_argument_order() -> None:
    spec = {"unit": "u", "variant": "v", "control": "a", "metrics": []}
    with pytest.raises(sds.ParameterError, match=r"sds.analyze\(data, spec\)"):
        sds.analyze(spec, pd.DataFrame({"u": [1], "v": ["a"]}))
