"""Checks every result class must pass, over EVERY concrete :class:`Result` subclass.

The classes are discovered by importing every module under ``src/sds`` and walking
``Result.__subclasses__()``; a discovered class without a factory in :data:`FACTORIES`
fails :func:`test_every_result_class_has_a_factory`, so a new result cannot escape. Each
factory runs the real public function on tiny seeded data (no hand-built results).

"Every rendering agrees with ``to_dict()``" means here:

1. every value the sections show (key/value items, table cells, note lines; figures are
   drawn from the same data and checked by their own tests) appears, formatted with
   :func:`format_value`, in ``to_text()``, ``to_markdown()`` and ``to_html()``; and
2. every headline and table value of ``to_dict()`` is shown by the sections, formatted
   with :func:`format_value` under its key: its top-level scalars, the scalars of its
   top-level mappings and the scalar cells of its top-level lists of records (deeper
   values, and lists of plain numbers such as curve points or histogram counts, are drawn
   as figures or nested detail). Keys a class keeps for JSON only today are listed in
   :data:`JSON_ONLY`, so a new gap fails here.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import importlib
import json
import math
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sds
from sds.errors import DataError
from sds.results import (
    KeyValue,
    Note,
    Result,
    Table,
    format_value,
    headline,
    jsonable,
    jsonable_dict,
)
from sds.stats.ttest import ttest  # sds.stats.ttest is the module once it is imported

SRC = Path(sds.__file__).parent


def _import_everything() -> None:
    for info in pkgutil.walk_packages([str(SRC)], prefix="sds."):
        importlib.import_module(info.name)


def _concrete(cls: type[Result]) -> Iterator[type[Result]]:
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("sds.") and dataclasses.is_dataclass(sub):
            yield sub
        yield from _concrete(sub)


def _discovered() -> list[type[Result]]:
    _import_everything()
    return sorted(set(_concrete(Result)), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------- tiny seeded data


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("results")


def _ab() -> pd.DataFrame:
    return sds.data.synth.make_ab_test(400, seed=1)


def _confounded(n: int = 300, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    return pd.DataFrame({"x": x, "t": t, "y": 1.0 + 2.0 * t + x + rng.normal(size=n)})


FEATURE_SPEC = {
    "name": "customers",
    "entity": "customer_id",
    "timestamp": "ts",
    "windows": ["30d"],
    "aggregations": [{"column": "amount", "functions": ["nonnull", "sum"]}],
}


@pytest.fixture(scope="module")
def feature_files(work: Path) -> tuple[Path, Path]:
    events = sds.data.synth.make_transactions(60, seed=1, months=4)
    ids = events["customer_id"].unique()[:20]
    times = pd.to_datetime(["2025-03-01", "2025-04-01"])
    labels = pd.DataFrame({"customer_id": np.repeat(ids, 2), "label_time": np.tile(times, 20)})
    events.to_parquet(work / "events.parquet")
    labels.to_parquet(work / "labels.parquet")
    return work / "events.parquet", work / "labels.parquet"


@pytest.fixture(scope="module")
def trained(work: Path) -> Any:
    sds.data.synth.make_churn(600, seed=4).to_parquet(work / "churn.parquet")
    config = {
        "name": "churn",
        "target": "churned",
        "drop": ["customer_id", "retention_call", "referral_code"],
        "protected": ["gender"],
        "candidates": ["dummy", "logistic"],
        "tuning": {"trials": 1, "folds": 2},
        "tracking_uri": f"sqlite:///{work / 'mlruns.db'}",
    }
    return sds.train(str(work / "churn.parquet"), config, model_dir=work / "models" / "churn")


def _canary_log(work: Path) -> str:
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame(
            {
                "ts": np.arange(300, dtype=float),
                "variant": variant,
                "model_version": "v",
                "status": np.where(rng.random(300) < 0.02, 500, 200),
                "latency_ms": rng.gamma(4, 1.5, 300),
                "prediction": rng.beta(2, 5, 300),
            }
        )
        for variant in ("champion", "challenger")
    ]
    (work / "log").mkdir(exist_ok=True)
    pd.concat(parts).to_parquet(work / "log" / "requests-1.parquet")
    return str(work / "log" / "*.parquet")


# ---------------------------------------------------------------- one factory per class

Factory = Callable[[pytest.FixtureRequest], Result]


def _fx(request: pytest.FixtureRequest, name: str) -> Any:
    return request.getfixturevalue(name)


def _analysis(request: pytest.FixtureRequest) -> Result:
    spec = {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "metrics": [
            {"name": "conversion", "type": "proportion", "column": "converted"},
            {"name": "revenue", "type": "mean", "column": "revenue"},
        ],
    }
    return sds.analyze(_ab(), spec)


def _srm_daily(request: pytest.FixtureRequest) -> Result:
    return sds.srm(_ab(), "variant", "assigned_at", variants=["control", "treatment"])


def _store(request: pytest.FixtureRequest) -> tuple[Any, Any, bool]:
    from sds.features.store import FeatureStore

    work, (events, labels) = _fx(request, "work"), _fx(request, "feature_files")
    store = FeatureStore(work / "store")
    spec = {**FEATURE_SPEC, "labels": str(labels)}
    version, new = store.register(spec, str(events), str(labels))
    return store, version, new


def _registered(request: pytest.FixtureRequest) -> Result:
    from sds.features.store_result import Registered

    _, version, new = _store(request)
    return Registered(version, new)  # what ``sds features register`` prints


def _version_list(request: pytest.FixtureRequest) -> Result:
    from sds.features.store_result import VersionList

    store, _, _ = _store(request)
    return VersionList(str(store.root), tuple(store.versions()))  # ``sds features list``


def _project(request: pytest.FixtureRequest) -> Result:
    from sds.features.recommend import analyze_project

    work = _fx(request, "work")
    (work / "project").mkdir(exist_ok=True)
    sds.data.synth.make_churn(200, seed=5).to_parquet(work / "project" / "churn.parquet")
    return analyze_project(work / "project")


def _selection(request: pytest.FixtureRequest) -> Result:
    from sds.features.select import select_features

    frame = sds.data.synth.make_churn(200, seed=6)
    return select_features(
        frame[["tenure_months", "region", "monthly_fee", "churned"]], "churned", repeats=1
    )


def _feature_build(request: pytest.FixtureRequest) -> Result:
    events, labels = _fx(request, "feature_files")
    summary, _ = sds.features.run(str(events), {**FEATURE_SPEC, "labels": str(labels)})
    return summary


def _alignment(request: pytest.FixtureRequest) -> Result:
    from sds.features.alignment import align

    frame = sds.data.synth.make_churn(160, seed=7)[["tenure_months", "region", "monthly_fee"]]
    return align(frame.iloc[:80], frame.iloc[80:], seed=0)


def _splits(request: pytest.FixtureRequest) -> Result:
    from sds.models.split import split

    return split(sds.data.synth.make_churn(200, seed=8), "churned", seed=0)


def _suite(request: pytest.FixtureRequest) -> Result:
    from sds.models.suite import evaluate_folder

    _fx(request, "trained")
    return evaluate_folder(_fx(request, "work") / "models")


def _reproduction(request: pytest.FixtureRequest) -> Result:
    from sds.models.reproduce import reproduce

    run = _fx(request, "trained").run
    return reproduce(run.run_id, run.tracking_uri)


def _evaluation(request: pytest.FixtureRequest) -> Result:
    return sds.evaluate(None, _fx(request, "trained").run.model_path)


def _causal(request: pytest.FixtureRequest) -> Result:
    return sds.causal.run(_confounded(), "ipw", outcome="y", treatment="t", covariates=["x"])


def _by(request: pytest.FixtureRequest) -> Result:
    spec = sds.stats.StatsSpec(test="welch", value="revenue", group="variant", by="platform")
    return sds.stats.run(_ab(), spec)


def _regression(request: pytest.FixtureRequest) -> Result:
    spec = sds.stats.StatsSpec(test="ols", formula="revenue ~ sessions + C(variant)")
    return sds.stats.run(_ab(), spec)


def _monitor(request: pytest.FixtureRequest) -> Result:
    frame = sds.data.synth.make_churn(400, seed=9)
    return sds.monitor(frame.iloc[200:], frame.iloc[:200], features=["tenure_months", "region"])


def _sequential_boundaries(request: pytest.FixtureRequest) -> Result:
    from sds.experiments.sequential import sequential_boundaries

    return sequential_boundaries([0.25, 0.5, 0.75, 1.0])


def _sequential_plan(request: pytest.FixtureRequest) -> Result:
    from sds.experiments.sequential import sequential_design

    return sequential_design(looks=3, n_fixed=1000)


FACTORIES: dict[str, Factory] = {
    "sds.causal.advise.Advice": lambda r: sds.causal.advise("randomized"),
    "sds.causal.result.CausalResult": _causal,
    "sds.experiments.analysis.result.AnalysisResult": _analysis,
    "sds.experiments.assign.AssignmentSummary": lambda r: sds.assign(
        [f"u{i}" for i in range(40)], "exp", ["control", "treatment"]
    ),
    "sds.experiments.design_result.DesignPlan": lambda r: sds.design(
        metric="proportion", baseline=0.1, mde=0.1
    ),
    "sds.experiments.sequential.SequentialBoundaries": _sequential_boundaries,
    "sds.experiments.sequential.SequentialPlan": _sequential_plan,
    "sds.experiments.srm.SrmDaily": _srm_daily,
    "sds.experiments.srm.SrmResult": lambda r: sds.srm([520, 480], variants=["a", "b"]),
    "sds.features.alignment.AlignmentResult": _alignment,
    "sds.features.build.FeatureBuild": _feature_build,
    "sds.features.profile_result.Profile": lambda r: sds.profile(
        sds.data.synth.make_churn(150, seed=3)
    ),
    "sds.features.recommend.ProjectAnalysis": _project,
    "sds.features.select.SelectionResult": _selection,
    "sds.features.store_result.Registered": _registered,
    "sds.features.store_result.VersionList": _version_list,
    "sds.models.evaluate.Evaluation": _evaluation,
    "sds.models.reproduce.Reproduction": _reproduction,
    "sds.models.run.TrainResult": lambda r: _fx(r, "trained"),
    "sds.models.split.Splits": _splits,
    "sds.models.suite.SuiteResult": _suite,
    "sds.monitoring.canary.CanaryResult": lambda r: sds.monitoring.canary.canary_report(
        _canary_log(_fx(r, "work")), min_requests=100
    ),
    "sds.monitoring.report.MonitorResult": _monitor,
    "sds.stats.by.ByResult": _by,
    "sds.stats.regression.RegressionResult": _regression,
    "sds.stats.result.TestResult": lambda r: ttest(
        np.random.default_rng(1).normal(0, 1, 30), np.random.default_rng(2).normal(0.5, 1, 30)
    ),
}

# Keys of to_dict() that a class's sections do not show today (measured when this test was
# written; the renderings of these classes belong to their modules). Each is a gap to close
# in that class's sections(), then to delete here; a key missing from any other class, or a
# new key missing here, fails the test.
JSON_ONLY: dict[str, frozenset[str]] = {
    "sds.experiments.analysis.result.AnalysisResult": frozenset(
        {"alpha", "correction", "df", "name", "statistic", "std_error", "type"}
    ),
    "sds.experiments.design_result.DesignPlan": frozenset({"n_control_exact"}),
    "sds.experiments.srm.SrmDaily": frozenset({"share_tolerance"}),
    "sds.experiments.srm.SrmResult": frozenset({"share_tolerance"}),
    "sds.features.recommend.ProjectAnalysis": frozenset({"project", "source"}),
    "sds.features.store_result.Registered": frozenset(
        {"entity", "label_time", "labels", "timestamp"}
    ),
    "sds.features.store_result.VersionList": frozenset(
        {"code_version", "path", "spec_hash", "store"}
    ),
    "sds.models.evaluate.Evaluation": frozenset({"by", "f1"}),
    "sds.monitoring.canary.CanaryResult": frozenset({"contrast", "statistic", "std_error"}),
    "sds.monitoring.report.MonitorResult": frozenset({"psi_alert", "psi_warn"}),
    "sds.stats.by.ByResult": frozenset(
        {
            "alternative",
            "confidence",
            "df",
            "effect_size_ci_lower",
            "effect_size_ci_upper",
            "std_error",
        }
    ),
    # confidence is shown, as its level ("95% CI"), not as the number 0.95
    "sds.stats.regression.RegressionResult": frozenset({"confidence"}),
    "sds.stats.result.TestResult": frozenset({"confidence"}),
}

CLASSES = _discovered()
_CACHE: dict[str, Result] = {}


@pytest.fixture(params=[_name(c) for c in CLASSES])
def result(request: pytest.FixtureRequest) -> Result:
    name = request.param
    if name not in FACTORIES:
        pytest.fail(f"{name} has no factory in FACTORIES")
    if name not in _CACHE:
        made = FACTORIES[name](request)
        assert _name(type(made)) == name, f"the factory of {name} made a {type(made)}"
        _CACHE[name] = made
    return _CACHE[name]


# ---------------------------------------------------------------- the checks


def test_every_result_class_has_a_factory() -> None:
    assert len(CLASSES) >= 26
    missing = sorted(set(map(_name, CLASSES)) - set(FACTORIES))
    assert not missing, f"result classes without a sample factory: {missing}"
    stale = sorted(set(FACTORIES) - set(map(_name, CLASSES)))
    assert not stale, f"factories for classes that no longer exist: {stale}"


def _json_types(value: Any, where: str = "") -> Iterator[str]:
    """Every place in ``value`` that is not a plain, finite JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                yield f"{where}: key {k!r}"
            yield from _json_types(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _json_types(v, f"{where}[{i}]")
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield f"{where}: {value}"
    elif not (value is None or isinstance(value, str | int | bool)):
        yield f"{where}: {type(value).__name__}"


def test_json_round_trip(result: Result) -> None:
    d = result.to_dict()
    plain = jsonable(d)
    assert json.loads(result.to_json()) == plain
    assert json.loads(json.dumps(plain, allow_nan=False)) == plain
    problems = list(_json_types(d))
    assert not problems, f"to_dict() holds non-JSON values: {problems[:10]}"


def test_hashable_and_equal_results_hash_equal(result: Result) -> None:
    twin = copy.deepcopy(result)
    assert twin == result
    assert hash(twin) == hash(result)
    assert hash(result) == hash(result)


def _mutables(value: Any, where: str, seen: set[int]) -> Iterator[tuple[str, Any]]:
    """Every container and record reachable from ``value``."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, dict):
        yield where, value
        for k, v in value.items():
            yield from _mutables(v, f"{where}[{k!r}]", seen)
    elif isinstance(value, list | tuple | set | frozenset):
        yield where, value
        for i, v in enumerate(value):
            yield from _mutables(v, f"{where}[{i}]", seen)
    elif isinstance(value, np.ndarray | pd.DataFrame | pd.Series):
        yield where, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield where, value
        for f in dataclasses.fields(value):
            yield from _mutables(getattr(value, f.name), f"{where}.{f.name}", seen)


def _cannot_change(where: str, value: Any) -> None:
    if isinstance(value, list):
        for change in (lambda: value.append(None), lambda: value.__setitem__(0, None)):
            with pytest.raises(TypeError):
                change()
    elif isinstance(value, dict):
        with pytest.raises(TypeError):
            value["__new__"] = None
    elif isinstance(value, set):
        pytest.fail(f"{where} is a mutable set")
    elif isinstance(value, np.ndarray):
        assert not value.flags.writeable, f"{where} is a writeable array"
    elif isinstance(value, pd.DataFrame | pd.Series):
        pytest.fail(f"{where} is a pandas object, which can be changed in place")
    elif dataclasses.is_dataclass(value):
        f = dataclasses.fields(value)
        if f:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(value, f[0].name, getattr(value, f[0].name))


def test_deeply_frozen(result: Result) -> None:
    for f in dataclasses.fields(result):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, f.name, None)
    found = list(_mutables(result, "result", set()))
    assert len(found) > 1
    for where, value in found:
        _cannot_change(where, value)


def _shown(result: Result, terminal: bool = False) -> list[str]:
    """Every formatted value the sections show (figures excepted); ``terminal``: the
    sections the terminal draws (``text_sections()``, a shorter layout for some results)."""
    values = []
    for s in result.text_sections() if terminal else result.sections():
        if isinstance(s, KeyValue):
            values += [format_value(k, v) for k, v in s.items]
        elif isinstance(s, Table):
            values += [
                format_value(k, v) for row in s.rows for k, v in zip(s.columns, row, strict=True)
            ]
        elif isinstance(s, Note):
            values += list(s.lines)
    return values


def _leaves(d: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The headline and table values of ``to_dict()``, with their key: its scalars, the
    scalars of its mappings, and the scalar cells of its lists of records."""
    for key, value in d.items():
        if isinstance(value, dict):
            yield from ((k, v) for k, v in value.items() if not isinstance(v, dict | list))
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for record in value:
                yield from ((k, v) for k, v in record.items() if not isinstance(v, dict | list))
        elif not isinstance(value, list):
            yield key, value


def test_every_rendering_agrees_with_to_dict(result: Result) -> None:
    shown = _shown(result)
    text = result.to_text(width=100_000)
    md, page = result.to_markdown(), result.to_html()
    for value in _shown(result, terminal=True):
        assert value in text, value
    for value in shown:
        assert value.replace("|", "\\|").replace("\n", " ") in md, value
        assert html.escape(value) in page, value
    skip = JSON_ONLY.get(_name(type(result)), frozenset())
    every_shown = "\n".join(shown)
    missing = [
        (k, v)
        for k, v in _leaves(jsonable_dict(result.to_dict()))
        if format_value(k, v) not in every_shown
    ]
    keys = {k for k, _ in missing}
    assert keys <= skip, f"to_dict() values no section shows: {sorted(keys - skip)} {missing[:5]}"
    assert keys >= skip, f"shown now, delete from JSON_ONLY: {sorted(skip - keys)}"


def test_repr_html_is_a_fragment(result: Result) -> None:
    fragment = result._repr_html_()
    assert fragment.startswith('<div class="sds-result">') and fragment.endswith("</div>")
    lowered = fragment.lower()
    for tag in ("<html", "<head", "<body", "<!doctype"):
        assert tag not in lowered, tag
    for css in re.findall(r"<style>(.*?)</style>", fragment, flags=re.S):
        for selectors in re.findall(r"([^{}]+)\{", css):
            for selector in selectors.split(","):
                assert selector.strip().startswith(".sds-result"), selector
    assert result.to_html().startswith("<!DOCTYPE html>")


def test_repr_is_one_short_line_of_headline_figures(result: Result) -> None:
    """``repr`` was the dataclass's, every field (13,781 characters for a profile, with
    ``np.int32(...)`` inside); now the class, a few figures and where the rest is."""
    text = repr(result)
    assert len(text) < 400 and "\n" not in text, text
    assert "np." not in text and "numpy" not in text and "array(" not in text, text
    name = type(result).__name__
    assert text.startswith(f"<{name} ") and text.endswith(">"), text
    figures = headline(result.to_dict(), result.headline)
    assert figures and f"<{name} {' '.join(figures)};" in text
    assert (".to_pandas()" in text) == any(isinstance(s, Table) for s in result.sections())
    top = [f.partition("=")[0].partition(".")[0] for f in figures]
    assert set(top) <= set(result.to_dict()), top


def test_html_page_fits_phones_and_names_its_subject(result: Result) -> None:
    """Every full page has a viewport meta tag (phones lay it out at their width, not at
    980 px) and a title naming the report type and what it is about."""
    page = result.to_html()
    head = page.split("</head>", 1)[0]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in head
    titles = re.findall(r"<title>(.*?)</title>", head)
    assert len(titles) == 1
    title = html.unescape(titles[0])
    assert title.startswith(result.title) and title.endswith(" — sds"), title
    subject = result.subject()
    if subject is not None:
        shown = subject.rstrip("/").rsplit("/", 1)[-1] if " " not in subject else subject
        assert title.startswith(f"{result.title}: {shown[:40]}"), (title, subject)
    assert "<title>" not in result._repr_html_()  # the notebook fragment has no head


def _same(a: Any, b: Any) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    if missing_a or missing_b:
        return missing_a and missing_b
    if isinstance(a, bool | int | float) and isinstance(b, bool | int | float | np.number):
        return bool(a == b)
    return bool(a == b) if not isinstance(a, list | tuple | dict) else list(a) == list(b)


def test_to_pandas_returns_the_tables(result: Result) -> None:
    tables = [s for s in result.sections() if isinstance(s, Table)]
    if not tables:
        with pytest.raises(DataError, match="no tables"):
            result.to_pandas()
        return
    got = result.to_pandas()
    frames = [got] if isinstance(got, pd.DataFrame) else list(got.values())
    assert len(frames) == len(tables)
    if isinstance(got, dict):
        assert list(got) == list(result.table_sections())
    for table, frame in zip(tables, frames, strict=True):
        assert list(frame.columns) == list(table.columns)
        assert len(frame) == len(table.rows)
        for row, (_, line) in zip(table.rows, frame.iterrows(), strict=True):
            assert all(_same(a, b) for a, b in zip(row, line.tolist(), strict=True)), row
    polars = result.to_polars()
    heights = (
        [polars.height] if not isinstance(polars, dict) else [f.height for f in polars.values()]
    )
    assert heights == [len(t.rows) for t in tables]
