"""The lazy ``Table`` in a notebook (newcomer finding F18): ``head``, ``to_pandas``,
``to_polars``, a short ``repr`` that runs no query, and an HTML fragment of the first rows.

The rows are checked against pandas reading the same file; the "no query" claim is checked
by counting every call that runs something on the engine.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sds
from sds.data.engine import Engine
from sds.data.table import HTML_ROWS, Table
from sds.errors import InputError, ParameterError


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    n = 40
    amount = rng.normal(50, 10, n).round(3)
    amount[[2, 7]] = np.nan  # missing values stay missing
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100, 100 + n),
            "amount": amount,
            "plan": rng.choice(np.array(["basic", "pro", "team"]), n),
        }
    )
    path = tmp_path_factory.mktemp("table") / "customers.csv"
    frame.to_csv(path, index=False)
    return path


class Counting:
    """Counts every call that runs a query on the engine (or its connection)."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for owner, names in (
            (engine, ("execute", "scalar", "to_pyarrow")),
            (engine.con, ("execute", "to_pyarrow", "to_pandas", "raw_sql", "sql")),
        ):
            for name in names:
                monkeypatch.setattr(owner, name, self._wrap(name, getattr(owner, name)))

    def _wrap(self, name: str, real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return real(*args, **kwargs)

        return run


def test_head_is_the_files_first_rows(csv_file: Path) -> None:
    expected = pd.read_csv(csv_file)
    table = sds.open_table(str(csv_file))
    for n in (5, 1, 12):
        pd.testing.assert_frame_equal(table.head(n), expected.head(n))
    pd.testing.assert_frame_equal(table.head(), expected.head(5))
    pd.testing.assert_frame_equal(table.head(0), expected.head(0), check_index_type=False)
    pd.testing.assert_frame_equal(table.head(1_000), expected)  # fewer rows: all of them
    pd.testing.assert_frame_equal(table.to_pandas(), expected)
    pd.testing.assert_frame_equal(table.to_pandas(limit=3), expected.head(3))


def test_to_polars_holds_the_same_rows(csv_file: Path) -> None:
    pl = pytest.importorskip("polars")
    expected = pd.read_csv(csv_file)
    table = sds.open_table(str(csv_file))
    frame = table.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == list(expected.columns) and frame.height == len(expected)
    back = frame.to_pandas()
    np.testing.assert_array_equal(back["customer_id"], expected["customer_id"])
    np.testing.assert_allclose(back["amount"], expected["amount"], rtol=0, atol=0)
    assert back["plan"].tolist() == expected["plan"].tolist()
    assert table.to_polars(limit=4).height == 4


def test_to_polars_without_polars_names_the_extra(
    csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars now raises ImportError
    with pytest.raises(InputError, match="needs polars") as caught:
        sds.open_table(str(csv_file)).to_polars()
    assert "sds-toolkit[polars]" in str(caught.value)


@pytest.mark.parametrize("n", [-1, 2.5, True, "3"])
def test_head_refuses_a_bad_count(csv_file: Path, n: Any) -> None:
    table = sds.open_table(str(csv_file))
    with pytest.raises(ParameterError, match="n == "):
        table.head(n)
    with pytest.raises(ParameterError, match="limit == "):
        table.to_pandas(limit=n)


def test_repr_is_one_short_line_and_runs_no_query(
    csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = sds.open_table(str(csv_file))
    counting = Counting(table.engine, monkeypatch)
    text = repr(table)
    assert counting.calls == []
    assert "\n" not in text and len(text) < 200, text
    assert text == f"Table({str(csv_file)!r}, 3 columns)"
    assert "ibis" not in text.lower() and "DatabaseTable" not in text
    # once a count has run, repr shows it, still without a query of its own
    assert table.count() == 40
    counting.calls.clear()
    assert repr(table) == f"Table({str(csv_file)!r}, 3 columns, 40 rows)"
    assert repr(table.select(["plan"])) == f"Table({str(csv_file)!r}, 1 columns, 40 rows)"
    assert counting.calls == []


def test_repr_of_a_long_query_stays_short() -> None:
    query = "SELECT " + ", ".join(f"{i} AS column_{i}" for i in range(60))
    table = sds.open_table(query)
    assert len(repr(table)) < 200 and "60 columns" in repr(table)


def test_repr_html_is_a_scoped_fragment_of_the_first_rows(csv_file: Path) -> None:
    expected = pd.read_csv(csv_file)
    table = sds.open_table(str(csv_file))
    fragment = table._repr_html_()
    assert fragment.startswith('<div class="sds-result">') and fragment.endswith("</div>")
    for tag in ("<html", "<head", "<body", "<!doctype"):
        assert tag not in fragment.lower(), tag
    for css in re.findall(r"<style>(.*?)</style>", fragment, flags=re.S):
        for selectors in re.findall(r"([^{}]+)\{", css):
            for selector in selectors.split(","):
                assert selector.strip().startswith(".sds-result"), selector
    body = re.search(r"<tbody>(.*?)</tbody>", fragment, flags=re.S)
    assert body is not None
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1))
    assert len(rows) == HTML_ROWS == 10
    first = re.findall(r"<td>(.*?)</td>", rows[0])
    assert first == [str(v) for v in expected.iloc[0]]
    third = re.findall(r"<td>(.*?)</td>", rows[2])
    assert third[1] == "null"  # the missing amount
    assert f"First {HTML_ROWS} rows" in fragment


def test_repr_html_of_a_short_table_shows_all_and_learns_the_count(tmp_path: Path) -> None:
    path = tmp_path / "three.csv"
    pd.DataFrame({"x": [1, 2, 3]}).to_csv(path, index=False)
    table = sds.open_table(str(path))
    fragment = table._repr_html_()
    assert "All 3 rows" in fragment and fragment.count("<tr>") == 4  # header and 3 rows
    assert repr(table).endswith("1 columns, 3 rows)")


def test_table_is_still_importable_from_io_and_hashable(csv_file: Path) -> None:
    from sds.data.io import Table as FromIo

    table = sds.open_table(str(csv_file))
    assert FromIo is Table and isinstance(table, sds.Table)
    before = hash(table)
    table.count()
    assert hash(table) == before and table == Table(table.expr, table.name, table.engine, True)


def test_engine_arrow_results_are_ibis_own() -> None:
    """Engine.to_pyarrow runs DuckDB queries without ibis' pandas-importing converter
    module; its results are ibis' own to_pyarrow results: tables (a NULL-typed column, an
    in-memory table's rows), columns and scalars, with the same types."""
    import ibis
    import pyarrow as pa

    engine = Engine()
    t = ibis.memtable(pa.table({"k": ["a", "b", None], "x": [1.5, None, 3.0], "n": [1, 2, 3]}))
    table = t.mutate(none=ibis.null(), d=ibis.date(2024, 1, 2))
    grouped = t.group_by("k").aggregate(s=t.n.sum(), m=t.x.mean(), c=t.x.count())
    for expr in (table, grouped.order_by("k"), t.x, t.n.sum(), ibis.null(), t.filter(t.n > 9)):
        mine, theirs = engine.to_pyarrow(expr), engine.con.to_pyarrow(expr)
        assert type(mine) is type(theirs) and mine.equals(theirs), expr
        kind = (lambda r: r.schema) if isinstance(mine, pa.Table) else (lambda r: r.type)
        assert kind(mine) == kind(theirs)
