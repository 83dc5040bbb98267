"""Every rendering derives from to_dict(): check that they agree, value by value."""

from __future__ import annotations

import html
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import pytest

from sds.errors import InputError, ParameterError
from sds.features.profile import profile
from sds.report.render import render_html_body
from sds.results import (
    Figure,
    KeyValue,
    Note,
    Result,
    Table,
    format_value,
    jsonable,
)


@dataclass(frozen=True)
class Toy(Result):
    title: ClassVar[str] = "Toy result"
    n: int
    conversion_rate: float
    label: str
    rows: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "conversion_rate": self.conversion_rate,
            "label": self.label,
            "arms": [dict(r) for r in self.rows],
        }


TOY = Toy(
    12345,
    0.0512,
    "a|b <c>",
    (
        {"arm": "control", "mean": 1.25, "lift_share": None},
        {"arm": "treatment", "mean": 1.5, "lift_share": 0.2},
    ),
)


def _shown_values(result: Result, *, terminal: bool = False) -> list[str]:
    """Every formatted value the sections show (figures excepted); with ``terminal``, of the
    shorter layout the terminal draws (``text_sections()``)."""
    values = []
    for s in result.text_sections() if terminal else result.sections():
        if isinstance(s, KeyValue):
            values += [format_value(k, v) for k, v in s.items]
        elif isinstance(s, Table):
            values += [
                format_value(k, v) for row in s.rows for k, v in zip(s.columns, row, strict=True)
            ]
        elif isinstance(s, Note):
            values += s.lines
    return values


def _keyed_leaves(d: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every scalar in a nested dict with the key it sits under."""
    if isinstance(d, dict):
        return [x for k, v in d.items() for x in _keyed_leaves(v, k)]
    if isinstance(d, list):
        return [x for v in d for x in _keyed_leaves(v, key)]
    return [(key, d)]


def test_format_value_rules() -> None:
    assert format_value("n", 1234567) == "1,234,567"
    assert format_value("null_share", 0.1234) == "12.34%"
    assert format_value("rel_lift", 0.05) == "5.00%"
    assert format_value("mean", 2.5) == "2.5"
    assert format_value("mean", 1234.5678) == "1,234.57"
    assert format_value("mean", 1e-6) == "1e-06"
    assert format_value("x", None) == "-"
    assert format_value("x", True) == "yes"
    assert format_value("flags", ["a", "b"]) == "a, b"


def test_jsonable_unwraps_numpy_and_non_finite() -> None:
    import numpy as np

    out = jsonable(
        {
            "a": np.int64(3),
            "b": np.float64("nan"),
            "c": [np.float32(1.5)],
            "d": pd.Timestamp("2025-01-02 03:04:05"),
        }
    )
    assert out == {"a": 3, "b": None, "c": [1.5], "d": "2025-01-02T03:04:05"}
    assert type(out["a"]) is int


def test_default_sections_show_every_leaf() -> None:
    shown = _shown_values(TOY)
    for key, value in _keyed_leaves(TOY.to_dict()):
        assert format_value(key, value) in shown, (key, value)


@pytest.mark.parametrize("result", [TOY], ids=["toy"])
def test_every_rendering_agrees_with_to_dict(result: Result) -> None:
    assert json.loads(result.to_json()) == result.to_dict()
    text, md, page = result.to_text(width=200), result.to_markdown(), result.to_html()
    for value in _shown_values(result):
        assert value in text, value
        assert value.replace("|", "\\|") in md, value
        assert html.escape(value) in page, value


def test_profile_renderings_agree(small_frame: pd.DataFrame) -> None:
    result = profile(small_frame)
    assert json.loads(result.to_json()) == result.to_dict()
    text, md, page = result.to_text(width=400), result.to_markdown(), result.to_html()
    values = _shown_values(result)
    assert len(values) > 100
    for value in values:
        assert value in md, value
        assert html.escape(value) in page, value
    terminal = _shown_values(result, terminal=True)
    assert len(terminal) > 50
    for value in terminal:
        assert value in text, value
    figures = [s for s in result.sections() if isinstance(s, Figure)]
    assert len(re.findall(r"<svg", page)) == len(figures) >= 5
    fragment = result._repr_html_()
    assert page.startswith("<!DOCTYPE html>") and "<body>" in page
    assert fragment.startswith('<div class="sds-result">') and "<body" not in fragment
    assert render_html_body(result.title, result.sections()) in fragment


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(ParameterError, match="format == 'pdf'"):
        TOY.render("pdf")


@dataclass(frozen=True)
class Bag(Result):
    items: list[dict[str, Any]]
    tags: set[str]

    def __post_init__(self) -> None:  # its own hook: the base still freezes after it
        assert isinstance(self.items, list)

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "tags": sorted(self.tags)}


def test_results_are_frozen_by_the_base_class() -> None:
    import copy
    import pickle

    from sds.results import FrozenDict, FrozenList

    source = [{"a": [1, 2]}]
    bag = Bag(source, {"x"})
    source[0]["a"].append(3)  # the caller's list is not the result's
    assert bag.items == [{"a": [1, 2]}] and isinstance(bag.items, FrozenList)
    assert isinstance(bag.items[0], FrozenDict) and isinstance(bag.tags, frozenset)
    for change in (
        lambda: bag.items.append({}),
        lambda: bag.items[0].update(b=1),
        lambda: bag.items[0]["a"].extend([4]),
        lambda: bag.items[0].__setitem__("a", 0),
    ):
        with pytest.raises(TypeError, match="cannot be changed"):
            change()
    twin = Bag([{"a": [1, 2]}], {"x"})
    assert twin == bag and hash(twin) == hash(bag)
    for copied in (copy.deepcopy(bag), pickle.loads(pickle.dumps(bag))):
        assert copied == bag and isinstance(copied.items, FrozenList)
    assert json.loads(bag.to_json()) == {"items": [{"a": [1, 2]}], "tags": ["x"]}
    assert pd.DataFrame(bag.items).shape == (1, 1)


def test_to_pandas_and_polars_read_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = TOY.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["arm", "mean", "lift_share"]
    assert frame["mean"].tolist() == [1.25, 1.5]
    assert TOY.to_polars().shape == (2, 3)  # type: ignore[union-attr]
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(InputError, match="pip install polars"):
        TOY.to_polars()


def test_repr_html_scopes_its_styles() -> None:
    fragment = TOY._repr_html_()
    css = re.search(r"<style>(.*?)</style>", fragment, flags=re.S)
    assert css is not None and "body{" not in css.group(1) and "\nh1{" not in css.group(1)
    assert css.group(1).startswith(".sds-result{")
    assert TOY.to_html().startswith("<!DOCTYPE html>")
