"""Every source kind opens to the same table; every broken source fails clearly."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from sds.data.engine import Engine
from sds.data.io import open_table, require_rows
from sds.data.schema import parse_expectations, require_kind
from sds.errors import DataError, ParameterError

FRAME = pd.DataFrame(
    {"id": [1, 2, 3, 4], "name": ["a", "b", "c", "d"], "value": [0.5, 1.5, 2.5, 3.5]}
)


def _rows(source: object, **kwargs: object) -> list[tuple[object, ...]]:
    table = open_table(source, **kwargs)
    df = table.engine.execute(table.expr.order_by("id"))
    return [tuple(r) for r in df[["id", "name", "value"]].itertuples(index=False)]


EXPECTED = [tuple(r) for r in FRAME.itertuples(index=False)]


def _write_sources(tmp: Path) -> dict[str, tuple[object, dict[str, object]]]:
    FRAME.to_csv(tmp / "t.csv", index=False)
    FRAME.to_csv(tmp / "t.tsv", index=False, sep="\t")
    with gzip.open(tmp / "t.csv.gz", "wt") as f:
        FRAME.to_csv(f, index=False)
    FRAME.to_parquet(tmp / "t.parquet", index=False)
    (tmp / "parts").mkdir()
    FRAME.iloc[:2].to_parquet(tmp / "parts" / "a.parquet", index=False)
    FRAME.iloc[2:].to_parquet(tmp / "parts" / "b.parquet", index=False)
    FRAME.to_json(tmp / "t.jsonl", orient="records", lines=True)
    feather.write_feather(pa.Table.from_pandas(FRAME, preserve_index=False), tmp / "t.arrow")
    con = duckdb.connect(str(tmp / "t.duckdb"))
    con.execute("CREATE TABLE things AS SELECT * FROM FRAME")
    con.close()
    parquet = str(tmp / "t.parquet").replace("'", "''")
    return {
        "csv": (tmp / "t.csv", {}),
        "tsv": (tmp / "t.tsv", {}),
        "csv.gz": (tmp / "t.csv.gz", {}),
        "parquet": (tmp / "t.parquet", {}),
        "parquet dir": (tmp / "parts", {}),
        "parquet glob": (str(tmp / "parts" / "*.parquet"), {}),
        "jsonl": (tmp / "t.jsonl", {}),
        "arrow": (tmp / "t.arrow", {}),
        "duckdb table": (tmp / "t.duckdb", {"table": "things"}),
        "duckdb single table": (tmp / "t.duckdb", {}),
        "sql": (f"SELECT * FROM read_parquet('{parquet}')", {}),
        "pandas": (FRAME, {}),
        "polars": (pl.from_pandas(FRAME), {}),
        "polars lazy": (pl.from_pandas(FRAME).lazy(), {}),
        "arrow table": (pa.Table.from_pandas(FRAME, preserve_index=False), {}),
    }


def test_every_source_kind_gives_the_same_rows(tmp_path: Path) -> None:
    for kind, (source, kwargs) in _write_sources(tmp_path).items():
        assert _rows(source, **kwargs) == EXPECTED, kind


def test_table_helpers(tmp_path: Path) -> None:
    table = open_table(FRAME)
    assert table.columns == ["id", "name", "value"]
    assert table.count() == 4
    assert table.select(["value"]).columns == ["value"]
    assert table.name == "<pandas.DataFrame>"


def _fails(source: object, message: str, **kwargs: object) -> DataError:
    with pytest.raises(DataError, match=message) as info:
        open_table(source, **kwargs)
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    err = _fails(tmp_path / "nope.csv", "file not found")
    assert str(tmp_path / "nope.csv") in str(err)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    _fails(tmp_path / "e.csv", r"file is empty \(0 bytes\)")


def test_header_only(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("a,b\n")
    err = _fails(tmp_path / "h.csv", "has no data rows")
    assert "h.csv" in str(err)


def test_rows_checked_later_give_the_same_error(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("a,b\n")
    (tmp_path / "r.csv").write_text("a,b\n1,2\n")
    opened = open_table(tmp_path / "h.csv", require_rows=False)
    with pytest.raises(DataError, match="has no data rows") as later:
        require_rows(opened)
    assert later.value.to_dict() == _fails(tmp_path / "h.csv", "has no data rows").to_dict()
    require_rows(open_table(tmp_path / "r.csv", require_rows=False))  # one row: no error


def test_unknown_extension(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_text("x")
    _fails(tmp_path / "data.xlsx", r"unknown file type '\.xlsx'.*expected one of \.csv")


def test_non_utf8_csv_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,x\nJosé,1\nRené,2\n".encode("latin-1"))
    err = _fails(path, "not UTF-8 encoded")
    assert "--encoding latin-1" in str(err)
    assert _rows_latin(path) == ["José", "René"]


def _rows_latin(path: Path) -> list[str]:
    table = open_table(path, encoding="latin-1")
    return list(table.engine.execute(table.expr)["name"])


def test_glob_and_directory_errors(tmp_path: Path) -> None:
    _fails(str(tmp_path / "*.parquet"), "no files match")
    (tmp_path / "empty").mkdir()
    _fails(tmp_path / "empty", "directory holds no Parquet or CSV files")


def test_duckdb_errors(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "two.duckdb"))
    con.execute("CREATE TABLE a AS SELECT 1 AS x; CREATE TABLE b AS SELECT 2 AS y")
    con.close()
    _fails(tmp_path / "two.duckdb", "several tables; say which.*a, b")
    _fails(tmp_path / "two.duckdb", "no table 'c'", table="c")


def test_bad_sql_is_a_data_error() -> None:
    _fails("SELECT no_such_column FROM range(3)", "query does not fit the data")


def test_unsupported_object() -> None:
    _fails(object(), "cannot open an object of this type")


def test_missing_column_lists_close_matches() -> None:
    table = open_table(FRAME)
    with pytest.raises(DataError, match=r"column 'valeu': no such column.*Did you mean 'value'"):
        table.require("valeu")


def test_wrong_type_shows_offending_values(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("amount\n1.5\n2\nabc\nn/a\n")
    table = open_table(path)
    with pytest.raises(
        DataError,
        match=r"column 'amount': column has the wrong type; found "
        r"string.*'abc', 'n/a'; expected numeric",
    ):
        require_kind(table, "amount", "numeric")
    require_kind(open_table(FRAME), "value", "numeric")
    require_kind(open_table(FRAME), "id", "integer")


def test_parse_expectations() -> None:
    assert parse_expectations(["a=numeric", "b=string"]) == {"a": "numeric", "b": "string"}
    with pytest.raises(ParameterError, match="must be COLUMN=KIND"):
        parse_expectations(["a=number"])


def test_engine_rejects_unknown_backend() -> None:
    with pytest.raises(ParameterError, match="engine == 'oracle'"):
        Engine("oracle")


def test_two_database_files_with_one_name_each_answer_for_themselves(tmp_path: Path) -> None:
    """Two ``warehouse.duckdb`` files in different folders, read in one process: each
    read returns its own tables (the attachment was once keyed by the file's stem alone, so
    the second file answered with the first one's tables)."""
    first, second = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    for path, name, n in ((first, "users", 3), (second, "orders", 5)):
        path.parent.mkdir()
        with duckdb.connect(str(path)) as con:
            con.execute(f"CREATE TABLE {name} AS SELECT range AS id FROM range({n})")
    assert open_table(first, table="users").count() == 3
    assert open_table(second, table="orders").count() == 5
    assert open_table(first, table="users").count() == 3
