"""The numpy runtime equals scikit-learn (to 1e-9) on rows it never saw, including missing
values and unseen categories; steps it does not cover fall back to scikit-learn, saying
why; the validator names every problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.models.candidates import auto_preprocessing, pipeline
from sds.models.schema import input_schema
from sds.serving import forest
from sds.serving.runtime import _request_form, build_runtime
from sds.serving.validate import Columns, RequestError, Validator


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(2, n)),
            "flag": rng.random(n) < 0.3,
            "plan": rng.choice(np.array(["a", "b", "c", "d"]), n),
            "city": np.where(
                rng.random(n) < 0.05, None, rng.choice(np.array([f"c{i}" for i in range(60)]), n)
            ),
        }
    )
    score = frame.x1 + 0.3 * frame.x2.fillna(0) + (frame.plan == "b")
    frame["y"] = (score + rng.normal(size=n) > 0.8).astype(int)
    frame["value"] = score + rng.normal(size=n)
    frame["tier"] = np.select([score < 0, score < 1.2], ["low", "mid"], "high")
    return frame


def _fit(name: str, task: str, target: str, prep: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    train = _frame(2_000, 0)
    x = train[["x1", "x2", "flag", "plan", "city"]]
    spec = auto_preprocessing(x, {"onehot_max": 5, **prep})
    model = pipeline(name, task, {}, spec, seed=0).fit(x, train[target])
    meta = {
        "task": task,
        "features": list(x.columns),
        "schema": {c: str(x[c].dtype) for c in x.columns},
    }
    return model, meta


@pytest.mark.parametrize(
    ("name", "task", "target"),
    [
        ("logistic", "binary", "y"),
        ("linear", "regression", "value"),
        ("logistic", "multiclass", "tier"),
        ("hgb", "binary", "y"),
        ("hgb", "multiclass", "tier"),
        ("hgb", "regression", "value"),
    ],
)
def test_numpy_runtime_equals_scikit_learn_on_new_rows(name: str, task: str, target: str) -> None:
    model, meta = _fit(name, task, target, {})
    runtime = build_runtime(model, meta, _frame(300, 1))
    expected_kind = "numpy + trees" if name == "hgb" else "numpy"
    assert runtime.kind == expected_kind, runtime.reason
    fresh = _frame(2_000, 2)
    fresh.loc[::50, "city"] = "a-city-never-seen"
    columns = {c: _request_form(fresh[c]) for c in meta["features"]}
    got = runtime.predict(columns, len(fresh))
    x = fresh[meta["features"]]
    if task == "binary":
        expected = model.predict_proba(x)[:, 1]
    elif task == "multiclass":
        expected = model.predict_proba(x)
    else:
        expected = model.predict(x)
    assert np.max(np.abs(got - expected)) <= 1e-9


def test_uncovered_steps_fall_back_to_scikit_learn() -> None:
    model, meta = _fit("logistic", "binary", "y", {"target_encode": ["city"]})
    runtime = build_runtime(model, meta, _frame(300, 1))
    assert runtime.kind == "scikit-learn" and "'target'" in runtime.reason
    fresh = _frame(500, 3)
    columns = {c: _request_form(fresh[c]) for c in meta["features"]}
    expected = model.predict_proba(fresh[meta["features"]])[:, 1]
    assert np.max(np.abs(runtime.predict(columns, 500) - expected)) <= 1e-12


def test_validator_names_every_problem() -> None:
    frame = _frame(1_000, 0)[["x1", "x2", "flag", "plan", "city"]]
    frame["count"] = np.arange(1_000) % 7
    schema = input_schema(frame)
    kinds = {c["name"]: c["kind"] for c in schema}
    assert kinds == {
        "x1": "number",
        "x2": "number",
        "flag": "boolean",
        "plan": "category",
        "city": "category",
        "count": "integer",
    }
    by_name = {c["name"]: c for c in schema}
    assert by_name["plan"]["levels"] == ["a", "b", "c", "d"]
    assert by_name["x2"]["nullable"] and not by_name["x1"]["nullable"]
    validator = Validator(schema)
    good = {"x1": 0.1, "x2": None, "flag": True, "plan": "a", "city": "c1", "count": 3}
    columns = validator.columns([good])
    assert np.isnan(columns["x2"][0]) and columns["flag"][0] == 1.0
    bad = {"x1": None, "x2": "1", "flag": 1, "plan": "z", "city": 5, "count": 2.5}
    with pytest.raises(RequestError) as caught:
        validator.columns([good, bad])
    found = {(p["field"], p["problem"]) for p in caught.value.problems}
    assert found == {
        ("x1", "missing value, but training had none"),
        ("x2", "wrong type"),
        ("flag", "wrong type"),
        ("plan", "unseen category"),
        ("city", "wrong type"),
        ("count", "wrong type"),
    }
    assert all(p["record"] == 1 for p in caught.value.problems)
    with pytest.raises(RequestError) as caught:
        validator.columns([{**good, "x1": 1e6}])
    assert caught.value.problems[0]["problem"] == "out of range"
    assert Validator(schema, margin=None).columns([{**good, "x1": 1e6}])["x1"][0] == 1e6


def test_plain_numbers_take_one_matrix_with_the_same_answers() -> None:
    """Records whose numbers are all plain JSON numbers skip the value-by-value checks
    (one float matrix): the same columns, the same predictions as scikit-learn, and a
    boolean or a string among the numbers still goes through the checks that name it."""
    model, meta = _fit("logistic", "binary", "y", {})
    runtime = build_runtime(model, meta, _frame(300, 1))
    train = _frame(2_000, 0)[meta["features"]]
    validator = Validator(input_schema(train), margin=None)
    fresh = _frame(300, 4)[meta["features"]]
    fresh["x2"] = fresh["x2"].fillna(2)
    records = [
        {
            "x1": float(r.x1),
            "x2": int(r.x2) if i % 3 == 0 else float(r.x2),  # ints and floats alike
            "flag": bool(r.flag),
            "plan": r.plan,
            "city": None if pd.isna(r.city) else r.city,
        }
        for i, r in enumerate(fresh.itertuples())
    ]
    columns = validator.columns(records)
    assert isinstance(columns, Columns)
    frame = pd.DataFrame(records).astype({"x1": float, "x2": float, "flag": bool})
    for c in ("x1", "x2", "flag"):
        assert np.array_equal(np.asarray(columns[c], dtype=float), frame[c].to_numpy(float))
    assert columns["city"] == [r["city"] for r in records]
    expected = model.predict_proba(frame)[:, 1]
    assert np.max(np.abs(runtime.predict(columns, len(records)) - expected)) <= 1e-9
    for wrong in (True, "1.5"):
        with pytest.raises(RequestError) as caught:
            validator.columns([records[0], {**records[1], "x1": wrong}])
        assert [(p["record"], p["field"], p["problem"]) for p in caught.value.problems] == [
            (1, "x1", "wrong type")
        ]


@pytest.mark.parametrize(
    ("task", "target"), [("binary", "y"), ("multiclass", "tier"), ("regression", "value")]
)
def test_trees_serve_one_row_as_scikit_learn_without_looking_for_nan(
    task: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The features step fills every missing number, so the trees' tables skip their NaN
    test; a request of one row (missing values and unseen categories included) still gets
    scikit-learn's own answer."""
    model, meta = _fit("hgb", task, target, {})
    runtime = build_runtime(model, meta, _frame(300, 1))
    assert runtime.kind == "numpy + trees", runtime.reason

    one = forest.Forest._one

    def told(self: forest.Forest, row: np.ndarray, filled: bool) -> np.ndarray:
        assert filled, "the trees would look for a NaN the features step had filled"
        return one(self, row, filled)

    monkeypatch.setattr(forest.Forest, "_one", told)
    fresh = _frame(120, 4)
    fresh.loc[::10, "city"] = "a-city-never-seen"
    assert fresh["x2"].isna().any()
    x = fresh[meta["features"]]
    if task == "regression":
        expected = model.predict(x)
    else:
        proba = model.predict_proba(x)
        expected = proba[:, 1] if task == "binary" else proba
    for i in range(len(fresh)):
        row = fresh.iloc[i : i + 1]
        got = runtime.predict({c: _request_form(row[c]) for c in meta["features"]}, 1)
        assert np.max(np.abs(got - expected[i : i + 1])) <= 1e-12


def test_one_record_is_checked_as_a_batch_is() -> None:
    """A single record's range and whole-number checks run in Python, a batch's in numpy:
    each probe value (on a bound, a hair outside, a big int its float rounds onto a bound,
    a whole or fractional float in an integer column) gets the same answer both ways,
    and the in-range ones keep the one-matrix path."""
    schema = [
        {"name": "x", "kind": "number", "nullable": False, "min": -1.0, "max": 2.0**53},
        {"name": "n", "kind": "integer", "nullable": False, "min": 0, "max": 10},
    ]
    validator = Validator(schema, margin=0.0)
    top = 2.0**53
    probes = [
        {"x": -1.0, "n": 0},
        {"x": top, "n": 10},
        {"x": 2**53, "n": 10.0},  # an int on the bound, a whole float
        {"x": 2**53 + 1, "n": 3},  # beyond the bound, but its float rounds onto it
        {"x": np.nextafter(-1.0, -2.0), "n": 3},
        {"x": np.nextafter(top, np.inf), "n": 3},
        {"x": 0.5, "n": 2.5},
        {"x": 0.5, "n": 11},
        {"x": 0.5, "n": -1},
        {"x": 1e308, "n": 1},
    ]
    for probe in probes:
        probe = {k: float(v) if isinstance(v, np.floating) else v for k, v in probe.items()}
        batch, one = (
            _columns_or_problems(validator, [probe, probe]),
            _columns_or_problems(validator, [probe]),
        )
        if isinstance(batch, list):
            assert one == [p for p in batch if p["record"] == 0], probe
            continue
        assert not isinstance(one, list), probe
        for name in ("x", "n"):
            assert np.array_equal(np.asarray(one[name]), np.asarray(batch[name])[:1]), probe
        if probe["x"] != 2**53 + 1:
            assert isinstance(one, Columns), probe


def _columns_or_problems(validator: Validator, records: list[dict[str, Any]]) -> Any:
    """The validated columns, or the problems listed when the records are refused."""
    try:
        return validator.columns(records)
    except RequestError as refused:
        return refused.problems


def test_a_record_of_numbers_with_the_schemas_field_count_is_still_checked_by_name() -> None:
    """A numbers-only record is taken at once when it has as many fields as the schema
    and all of its numbers: one unknown field in place of a known one, a field too many
    or too few is still named, a protected field is still ignored, and a single record
    gets the matrix a batch of it gets."""
    schema = [{"name": n, "kind": "number", "nullable": True} for n in ("a", "b", "c")]
    validator = Validator(schema, margin=None, ignored=["group"])
    good = {"a": 1.0, "b": 2, "c": -0.5}

    def named(record: dict[str, Any]) -> set[tuple[str | None, str]]:
        with pytest.raises(RequestError) as caught:
            validator.columns([record])
        return {(p["field"], p["problem"]) for p in caught.value.problems}

    assert named({"a": 1.0, "b": 2, "z": 3.0}) == {
        ("c", "missing field (seen at fit time)"),
        ("z", "unknown field (unseen at fit time)"),
    }
    assert named({**good, "z": 3.0}) == {("z", "unknown field (unseen at fit time)")}
    assert named({"a": 1.0, "b": 2}) == {("c", "missing field (seen at fit time)")}
    one = validator.columns([good])
    assert isinstance(one, Columns) and one.matrix.tolist() == [[1.0, 2.0, -0.5]]
    batch = validator.columns([good, {**good, "group": "x"}])
    assert isinstance(batch, Columns) and batch.matrix.tolist() == [[1.0, 2.0, -0.5]] * 2
