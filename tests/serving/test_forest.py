"""The numpy tables of a histogram gradient boosting model give scikit-learn's own
``predict_proba`` / ``predict`` (to 1e-12) on rows it never saw: missing and infinite
values, values on the split thresholds, huge batches; models they do not cover give None."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from sds.serving import forest
from sds.serving.forest import CHUNK, compile_forest, forest_decision, forest_head

TOLERANCE = 1e-12


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[:, 2] = rng.integers(0, 4, n)  # a few distinct values: thresholds fall between them
    x[rng.random(x.shape) < 0.08] = np.nan
    score = np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) * np.isnan(x[:, 3])
    return x, score + rng.normal(scale=0.5, size=n)


def _hostile_rows(model: Any, n: int, seed: int) -> np.ndarray:
    """Fresh rows with missing, infinite and huge values, and every split threshold itself
    (where ``<=`` decides) and its neighbours."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3, size=(n, model.n_features_in_))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.02] = np.inf
    x[rng.random(x.shape) < 0.02] = -np.inf
    x[rng.random(x.shape) < 0.02] = 1e300
    x[0], x[1], x[2] = np.nan, np.inf, -np.inf
    tables = compile_forest(model)
    finite = np.isfinite(tables.threshold)
    at = np.flatnonzero(finite)[: n - 3]
    for offset, row in enumerate(at):
        feature, threshold = tables.feature[row], tables.threshold[row]
        x[3 + offset, feature] = [threshold, np.nextafter(threshold, np.inf)][offset % 2]
    return x


def _classifier(classes: int) -> HistGradientBoostingClassifier:
    x, score = _data(3_000, 0)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(x, y)


@pytest.mark.parametrize("classes", [2, 3])
def test_tables_give_scikit_learn_probabilities(classes: int) -> None:
    model = _classifier(classes)
    task = "binary" if classes == 2 else "multiclass"
    head = forest_head(model, task)
    assert head is not None
    x = _hostile_rows(model, 3 * CHUNK + 17, 1)  # several chunks, the last one short
    expected = model.predict_proba(x)
    got = head(x)
    want = expected[:, 1] if classes == 2 else expected
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= TOLERANCE
    assert np.max(np.abs(head(x[5:6]) - want[5:6])) <= TOLERANCE  # one row, as served


def test_tables_give_the_decision_function_a_calibrator_takes() -> None:
    model = _classifier(2)
    score = forest_decision(model)
    assert score is not None
    x = _hostile_rows(model, 1_000, 4)
    assert np.max(np.abs(score(x) - model.decision_function(x))) <= TOLERANCE
    for i in range(0, 1_000, 97):  # one row, as served
        assert np.max(np.abs(score(x[i : i + 1]) - model.decision_function(x[i : i + 1]))) <= 1e-12
    assert forest_decision(_classifier(3)) is None  # one score per class: not a binary score
    assert forest_decision(HistGradientBoostingRegressor()) is None


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_tables_give_scikit_learn_values(loss: str) -> None:
    x, score = _data(3_000, 0)
    y = np.exp(score / 2) if loss == "poisson" else score
    model = HistGradientBoostingRegressor(loss=loss, max_iter=40, random_state=0).fit(x, y)
    head = forest_head(model, "regression")
    assert head is not None
    rows = _hostile_rows(model, 1_500, 2)
    assert np.max(np.abs(head(rows) - model.predict(rows))) <= TOLERANCE * np.max(y)


def test_a_tree_that_is_one_leaf_adds_its_value() -> None:
    x, score = _data(3_000, 0)
    # a huge min_samples_leaf leaves no split possible: every tree is a lone leaf
    model = HistGradientBoostingRegressor(max_iter=5, min_samples_leaf=2_000).fit(x, score)
    assert all(len(p.nodes) == 1 for (p,) in model._predictors)
    head = forest_head(model, "regression")
    assert head is not None
    rows = _hostile_rows(model, 20, 3)
    assert np.max(np.abs(head(rows) - model.predict(rows))) <= TOLERANCE


def test_models_the_tables_do_not_cover_give_none() -> None:
    x, score = _data(3_000, 0)
    wide = HistGradientBoostingRegressor(max_iter=3, max_leaf_nodes=100, min_samples_leaf=5)
    assert max(len(p.nodes) for (p,) in wide.fit(x, score)._predictors) > 127  # > 64 leaves
    assert forest_head(wide, "regression") is None
    x[:, 2] = np.nan_to_num(x[:, 2])
    categorical = HistGradientBoostingRegressor(max_iter=3, categorical_features=[2])
    assert forest_head(categorical.fit(x, score), "regression") is None
    assert forest_head(object(), "regression") is None  # not a fitted model at all


def test_both_ways_of_numbering_the_leaves_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy 2 counts the mask's trailing ones; numpy 1.26 takes a float's exponent."""
    model = _classifier(3)
    rows = _hostile_rows(model, 400, 5)
    tables = compile_forest(model)
    counted = tables.raw(rows)
    monkeypatch.setattr(forest, "_COUNT", None)
    assert np.array_equal(tables.raw(rows), counted)
    assert np.max(np.abs(counted - model._raw_predict(rows))) <= TOLERANCE
    masks = np.array([0, 1, 0b1011, 2**62 - 1, 2**63 - 1], dtype=np.uint64)
    assert forest.leaf_numbers(masks).tolist() == [1, 2, 3, 63, 64]


@pytest.mark.parametrize("classes", [2, 3])
def test_one_row_at_a_time_gives_the_batch_and_scikit_learn(classes: int) -> None:
    """A single row takes its own path (flat arrays): the same sums to the last bit."""
    model = _classifier(classes)
    tables = compile_forest(model)
    x = _hostile_rows(model, 300, 6)  # NaN, +-inf, values on the thresholds
    batch = tables.raw(x)
    one = np.concatenate([tables.raw(x[i : i + 1]) for i in range(len(x))])
    assert one.shape == batch.shape
    assert np.array_equal(one, batch)
    assert np.max(np.abs(one - model._raw_predict(x))) <= TOLERANCE
    head = forest_head(model, "binary" if classes == 2 else "multiclass")
    assert head is not None
    expected = model.predict_proba(x[7:8])
    assert np.max(np.abs(head(x[7:8]) - (expected[:, 1] if classes == 2 else expected))) <= 1e-12


def test_rows_said_to_hold_no_nan_skip_the_missing_value_test() -> None:
    model = _classifier(3)
    tables = compile_forest(model)
    x = np.nan_to_num(_hostile_rows(model, 300, 7), nan=0.25, posinf=1e300, neginf=-1e300)
    expected = model._raw_predict(x)
    assert np.max(np.abs(tables.raw(x, filled=True) - expected)) <= TOLERANCE
    for i in range(0, 300, 7):
        assert np.array_equal(tables.raw(x[i : i + 1], filled=True), tables.raw(x[i : i + 1]))
    head = forest_head(model, "multiclass", filled=True)
    assert head is not None
    assert np.max(np.abs(head(x) - model.predict_proba(x))) <= TOLERANCE


def test_trees_of_up_to_64_leaves_take_64_bit_masks() -> None:
    """Trees of at most 32 leaves (scikit-learn's default 31) get 32-bit masks; wider ones
    64-bit masks, with the same answers."""
    x, score = _data(3_000, 0)
    assert compile_forest(_classifier(2)).cleared.dtype == np.uint32
    wide = HistGradientBoostingRegressor(max_iter=8, max_leaf_nodes=60, min_samples_leaf=5)
    wide.fit(x, score)
    leaves = max((len(p.nodes) + 1) // 2 for (p,) in wide._predictors)
    assert 32 < leaves <= 64
    tables = compile_forest(wide)
    assert tables.cleared.dtype == np.uint64
    rows = _hostile_rows(wide, 500, 8)
    assert np.max(np.abs(tables.raw(rows)[:, 0] - wide._raw_predict(rows)[:, 0])) <= TOLERANCE
    for i in range(0, 500, 25):
        assert np.array_equal(tables.raw(rows[i : i + 1]), tables.raw(rows)[i : i + 1])
    for bits in (np.uint32, np.uint64):
        masks = np.array([0, 1, 0b1011, 2**31 - 1], dtype=bits)
        assert forest.leaf_numbers(masks).tolist() == [1, 2, 3, 32]
