"""The positive class of a binary target: the label the model's probability is for, which
every binary figure (AUC, PR-AUC, the threshold, calibration, fairness) counts as 1.

Chosen once, at training, by :func:`choose_positive`: the configured label (``positive:``),
else the label 1, else true (or yes), else the minority class of the rows (a tie: the label
sorting last, as before positive classes were explicit). It is chosen on every row before
the split, so a different split (or seed) never changes it. ``model.json`` records
the label and the reason; evaluation and serving read them back with
:func:`recorded_positive` (models saved before this was recorded: the label scikit-learn
sorted second, and the reason says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sds.errors import DataError, ParameterError

CONFIGURED = "configured"
LEGACY = "the label sorting last (a model saved before its positive class was recorded)"


def _key(value: Any) -> str:
    """A label's spelling for the default rules: True -> "true", 1.0 -> "1", " Yes" -> "yes"."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip().lower()


def _labels(y: pd.Series) -> list[Any]:
    """The target's distinct labels as Python scalars, in sorted order (by text if mixed)."""
    values = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(y.dropna())]
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _shown(labels: list[Any]) -> str:
    return ", ".join(repr(v) for v in labels)


def matching(labels: list[Any], wanted: Any) -> Any:
    """The label of ``labels`` that is ``wanted`` (the value itself, else the same text, so
    ``1`` names the label ``"1"`` and ``"churn"`` names ``churn``); None when none is."""
    for label in labels:
        if type(label) is type(wanted) and label == wanted:
            return label
    if _number(wanted):  # 1 names the label 1.0
        same = [label for label in labels if _number(label) and label == wanted]
        if len(same) == 1:
            return same[0]
    same = [label for label in labels if str(label) == str(wanted)]
    return same[0] if len(same) == 1 else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def choose_positive(
    y: pd.Series, configured: Any = None, *, parameter: str = "positive"
) -> tuple[Any, str]:
    """The positive class of the binary target ``y`` (every row, before the split) and why it was
    chosen: ``configured`` when given (it must be one of the two labels), else the label 1,
    else true/yes, else the minority class."""
    labels = _labels(y)
    if len(labels) != 2:
        raise DataError(
            "a positive class needs a binary target",
            column=str(y.name),
            found=f"{len(labels)} labels: {_shown(labels[:10])}",
        )
    if configured is not None:
        label = matching(labels, configured)
        if label is None:
            raise ParameterError(
                f"{parameter} is not one of the target's two labels",
                parameter=parameter,
                found=repr(configured),
                expected=f"one of {_shown(labels)} (the labels of {str(y.name)!r})",
            )
        return label, CONFIGURED
    for spellings, rule in (({"1"}, "the label 1"), ({"true", "yes"}, "the label true")):
        found = [label for label in labels if _key(label) in spellings]
        if len(found) == 1:
            return found[0], rule
    return _minority(y, labels)


def _minority(y: pd.Series, labels: list[Any]) -> tuple[Any, str]:
    counts = [int((y == label).sum()) for label in labels]
    share = min(counts) / sum(counts)
    if counts[0] == counts[1]:
        return labels[1], (
            f"neither class is the minority (50% of the rows each): the label "
            f"sorting last, {labels[1]!r}"
        )
    label = labels[int(np.argmin(counts))]
    return label, f"the minority class ({share:.0%} of the rows)"


def binary_classes(y: pd.Series, positive: Any) -> list[Any]:
    """``[negative, positive]``: the two labels of ``y``, the positive one last."""
    negative = [label for label in _labels(y) if label != positive]
    return [*negative, positive]


def recorded_positive(meta: Mapping[str, Any], model: Any) -> tuple[Any, str]:
    """The positive class a saved model's probability is for, and why: ``model.json``'s
    ``positive_class``; for a model saved before it was recorded, the class scikit-learn
    sorted second (the model's probability column 1), said so in the reason."""
    if "positive_class" in meta:
        return meta["positive_class"], str(meta.get("positive_rule") or CONFIGURED)
    label = model.classes_[1]
    return (label.item() if isinstance(label, np.generic) else label), LEGACY


def requested_positive(
    meta: Mapping[str, Any], model: Any, requested: Any, *, parameter: str = "positive"
) -> tuple[Any, str]:
    """The positive class to evaluate ``model`` for: the recorded one, which ``requested``
    (``--positive``) may confirm. The other class is refused: the model's threshold, its
    recalibration and every training check were chosen for the recorded class, so scoring
    1 - p against them would mix two classes; retraining with ``positive:`` is the honest way."""
    label, rule = recorded_positive(meta, model)
    if requested is None:
        return label, rule
    classes = [str(c) for c in meta.get("classes") or list(model.classes_)]
    if str(requested) == str(label):
        return label, rule
    shown = ", ".join(repr(c) for c in classes)
    if str(requested) in classes:
        raise ParameterError(
            f"{parameter} {requested!r} is not the class this model was trained for",
            parameter=parameter,
            found=repr(requested),
            expected=f"{str(label)!r} (the model's positive class, {rule}; classes {shown})",
            hint=f"Its probability, threshold and calibration are for {str(label)!r}: "
            f"retrain with 'positive: {requested}' to evaluate the other class.",
        )
    raise ParameterError(
        f"{parameter} is not one of the model's classes",
        parameter=parameter,
        found=repr(requested),
        expected=f"one of {shown} (the model's positive class is {str(label)!r})",
    )


def outcome(y: pd.Series, label: Any) -> np.ndarray:
    """``y`` as 0/1, 1 for ``label``. A label read back from ``model.json`` is matched by
    its text when the column holds it in another type (``"1"`` for ``1``)."""
    exact = np.asarray(y == label, dtype=int)
    if exact.any() or label is None:
        return exact
    return np.asarray(y.astype(str) == str(label), dtype=int)


def training_positive(task: str, y: pd.Series, configured: Any) -> tuple[Any, str | None]:
    """The positive class and its reason for a training run of ``task`` on the target ``y``
    (the training rows); ``(None, None)`` for a task without one (``positive:`` is then an
    error, not silently ignored)."""
    if task == "binary":
        return choose_positive(y, configured)
    if configured is not None:
        raise ParameterError(
            f"positive applies to a binary target; this one is {task}",
            parameter="positive",
            found=repr(configured),
            hint="Remove positive, or set task: binary for a two-label target.",
        )
    return None, None


def evaluation_positive(
    task: str, meta: Mapping[str, Any], model: Any, requested: Any = None
) -> tuple[Any, str | None]:
    """The positive class to evaluate a saved model of ``task`` for, and why
    (:func:`requested_positive`); ``(None, None)`` for a task without one, where
    ``requested`` is an error rather than ignored."""
    if task == "binary":
        return requested_positive(meta, model, requested)
    if requested is not None:
        raise ParameterError(
            f"positive applies to a binary model; this one is {task}",
            parameter="positive",
            found=repr(requested),
        )
    return None, None


def fitted_target(y: pd.Series, positive: Any) -> pd.Series:
    """``y`` as the models are fitted on it: 1 for ``positive`` and 0 otherwise (binary),
    ``y`` itself when there is no positive class. Stratified splits and folds use it too,
    so they do not depend on how the labels are spelled (``train_test_split`` orders the
    classes by their labels)."""
    if positive is None:
        return y
    return pd.Series(y == positive, dtype=int, index=y.index, name=y.name)
