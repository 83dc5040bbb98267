"""scikit-learn's histogram gradient boosting evaluated by numpy, every tree at once.

The trees are flattened into tables (QuickScorer, Lucchese et al., SIGIR 2015): each tree's
leaves are numbered left to right and each split holds the bit mask of its left subtree's
leaves, ruled out when a row goes right. A row is compared with every split of every tree
in one step; OR-ing, per tree, the masks of the splits it goes right at leaves the lowest
leaf not ruled out: the one it reaches. The leaf values are added in scikit-learn's order
(the baseline, then tree after tree) and the loss's own link gives the probabilities or
values, so the result is scikit-learn's to the last bit.

A single row (what a server mostly gets) takes its own path on flat arrays: about ten
numpy calls (6-7 µs for 74 trees of 31 leaves on a loaded 2-core machine, against
10-11 µs as a one-row matrix) where scikit-learn's ``predict_proba`` pays its per-call
checks and thread pool, and treelite's Python wrapper its ctypes set-up (about 45 µs).
The missing-value comparisons run only when a row holds a NaN (or when the caller cannot
rule one out: ``filled`` says the features step already filled every missing value).
Models it does not cover (categorical splits, trees over 64 leaves) give ``None``, and
the caller serves them another way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_LEAVES = 64  # one uint64 mask per split; uint32 when every tree has at most 32 leaves
CHUNK = 128  # rows per step: the rows x splits arrays stay a few MB (2,220 splits: 2.3 MB)
_LONE = (0, np.inf, True, 0)  # the split of a tree that is one leaf: always left
_COUNT = getattr(np, "bitwise_count", None)  # numpy >= 2.0


@dataclass(frozen=True)
class Forest:
    """The tables: one entry per split (``feature``, ``threshold``, ``missing_left`` and
    ``cleared``, the leaves ruled out when a row goes right), each tree's first split
    (``starts``) and first leaf less one (``offsets``: :func:`leaf_numbers` gives leaf j
    as j + 1) and the leaf values in tree order. The first ``classes`` trees are lone leaves
    holding the baseline, so the sum starts there as scikit-learn's does."""

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    cleared: np.ndarray
    starts: np.ndarray
    offsets: np.ndarray
    values: np.ndarray
    classes: int

    def raw(self, x: np.ndarray, filled: bool = False) -> np.ndarray:
        """The raw predictions (rows x trees per iteration), as ``_raw_predict`` gives them;
        ``filled``: ``x`` holds no NaN (the caller knows it), so none is looked for."""
        if len(x) == 1:
            return self._one(x[0], filled)[np.newaxis]
        if len(x) <= CHUNK:
            return self._raw(x, filled)
        return np.concatenate(
            [self._raw(x[at : at + CHUNK], filled) for at in range(0, len(x), CHUNK)]
        )

    def first(self, x: np.ndarray, filled: bool = False) -> np.ndarray:
        """``raw(x, filled)[:, 0]``, the raw score of a binary or regression model; one row
        of such a model without going through a one-row matrix."""
        if len(x) == 1 and self.classes == 1:
            return self._one(x[0], filled)
        out: np.ndarray = self.raw(x, filled)[:, 0]
        return out

    def _raw(self, x: np.ndarray, filled: bool) -> np.ndarray:
        v = np.take(x, self.feature, axis=1)
        right = v > self.threshold if filled or not np.isnan(x).any() else self._right(v)
        ruled_out = np.bitwise_or.reduceat(np.multiply(self.cleared, right), self.starts, axis=1)
        values = self.values.take(self.offsets + leaf_numbers(ruled_out))
        values = values.reshape(len(x), -1, self.classes)
        out: np.ndarray = np.add.accumulate(values, axis=1)[:, -1]  # in scikit-learn's order
        return out

    def _one(self, row: np.ndarray, filled: bool) -> np.ndarray:
        """One row's raw predictions (trees per iteration): ``_raw`` on flat arrays, the
        same steps and sums, a third fewer microseconds."""
        v = row.take(self.feature)
        right = v > self.threshold if filled or not np.isnan(row).any() else self._right(v)
        ruled_out = np.bitwise_or.reduceat(np.multiply(self.cleared, right), self.starts)
        values = self.values.take(self.offsets + leaf_numbers(ruled_out))
        if self.classes == 1:
            return np.add.accumulate(values)[-1:]
        out: np.ndarray = np.add.accumulate(values.reshape(-1, self.classes))[-1]
        return out

    def _right(self, v: np.ndarray) -> np.ndarray:
        """Where rows go right of each split, missing values going the split's way."""
        right: np.ndarray = ~((v <= self.threshold) | (np.isnan(v) & self.missing_left))
        return right


def leaf_numbers(ruled_out: np.ndarray) -> np.ndarray:
    """j + 1 for the lowest leaf j not ruled out: the trailing ones of the mask and the
    bit after them, counted (numpy 2's ``bitwise_count``, three calls); else that bit
    as a power of two, whose float exponent is j + 1 (exact; five calls). The masks are
    uint32 or uint64; adding a Python 1 keeps their type."""
    if _COUNT is not None:
        counted: np.ndarray = _COUNT(ruled_out ^ (ruled_out + 1))
        return counted
    lowest = (ruled_out + 1) & ~ruled_out
    exponent: np.ndarray = np.frexp(lowest.astype(np.float64))[1]
    return exponent


def forest_head(
    model: Any, task: str, filled: bool = False
) -> Callable[[np.ndarray], np.ndarray] | None:
    """``model`` (a fitted ``HistGradientBoosting*``) as a function of the feature matrix
    giving what the runtime serves (P(second class), class probabilities or values);
    None if the model holds anything the tables do not cover. ``filled``: the matrices
    it will get never hold a NaN."""
    try:
        forest = compile_forest(model)
        loss = model._loss
    except (AttributeError, ValueError):
        return None
    if task == "multiclass":
        return lambda x: np.asarray(loss.predict_proba(forest.raw(x, filled)), dtype=float)
    inverse = _inverse(loss.link)  # binary: predict_proba's second column is this of the raw

    def head(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = inverse(forest.first(x, filled))
        return out

    return head


def forest_decision(model: Any, filled: bool = False) -> Callable[[np.ndarray], np.ndarray] | None:
    """A binary ``HistGradientBoostingClassifier``'s ``decision_function`` (the raw score a
    calibrator is fitted on); None for anything else or a model the tables do not cover.
    ``filled`` as for :func:`forest_head`."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if not isinstance(model, HistGradientBoostingClassifier):
        return None
    try:
        forest = compile_forest(model)
    except (AttributeError, ValueError):
        return None
    if forest.classes != 1:
        return None
    return lambda x: forest.first(x, filled)


def _inverse(link: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The link's inverse; for the logit, scipy's ``expit`` itself, which scikit-learn's
    ``_expit`` calls on numpy arrays after working out the array namespace (a third of
    the trees' time for one row)."""
    from scipy.special import expit

    name = type(link).__name__
    if name == "LogitLink":
        return lambda raw: np.asarray(expit(raw), dtype=float)
    if name == "IdentityLink":
        return lambda raw: np.array(raw, dtype=float)
    return lambda raw: np.asarray(link.inverse(raw), dtype=float)


def compile_forest(model: Any) -> Forest:
    """The tables of a fitted ``HistGradientBoosting*``; ``ValueError`` if it has a
    categorical split or a tree of more than ``MAX_LEAVES`` leaves."""
    categorical = getattr(model, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise ValueError("categorical features")
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
    splits: list[tuple[int, float, bool, int]] = [_LONE] * len(baseline)
    starts, offsets = list(range(len(baseline))), list(range(len(baseline)))
    values = [float(b) for b in baseline]
    widest = 1
    for iteration in model._predictors:
        for predictor in iteration:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical split")
            leaves, tree = _tree(nodes)
            if len(leaves) > MAX_LEAVES:
                raise ValueError(f"a tree with {len(leaves)} leaves")
            widest = max(widest, len(leaves))
            starts.append(len(splits))
            offsets.append(len(values))
            values.extend(float(nodes["value"][i]) for i in leaves)
            splits.extend(tree or [_LONE])
    if max(int(s[0]) for s in splits) >= model.n_features_in_:
        raise ValueError("a split on a feature the model does not take")
    feature, threshold, missing_left, cleared = zip(*splits, strict=True)
    return Forest(
        feature=np.array(feature, dtype=np.intp),
        threshold=np.array(threshold, dtype=np.float64),
        missing_left=np.array(missing_left, dtype=bool),
        # scikit-learn's default trees have 31 leaves: half the bytes, twice as fast to mask
        cleared=np.array(cleared, dtype=np.uint32 if widest <= 32 else np.uint64),
        starts=np.array(starts, dtype=np.intp),
        offsets=np.array(offsets, dtype=np.intp) - 1,
        values=np.array(values, dtype=np.float64),
        classes=len(baseline),
    )


def _tree(nodes: np.ndarray) -> tuple[list[int], list[tuple[int, float, bool, int]]]:
    """The leaves' node ids left to right, and each split as (feature, threshold, missing
    values go left, mask of its left subtree's leaves)."""
    leaves: list[int] = []
    splits: list[tuple[int, float, bool, int]] = []
    stack: list[tuple[int, int]] = [(0, -1)]  # (node, index of the split it closes, or -1)
    while stack:
        i, closing = stack.pop()
        if closing >= 0:  # the left subtree of split ``closing`` is done: its leaves are known
            feature, threshold, missing_left, first = splits[closing]
            cleared = (1 << len(leaves)) - (1 << first)
            splits[closing] = (feature, threshold, missing_left, cleared)
            stack.append((i, -1))
            continue
        node = nodes[i]
        if node["is_leaf"]:
            leaves.append(i)
            continue
        splits.append(
            (
                int(node["feature_idx"]),
                float(node["num_threshold"]),
                bool(node["missing_go_to_left"]),
                len(leaves),  # the first leaf of its left subtree, until the mask replaces it
            )
        )
        stack.append((int(node["right"]), len(splits) - 1))
        stack.append((int(node["left"]), -1))
    return leaves, splits
