"""execute_together: several queries as one, split back into each query's rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from sds.data.io import open_table
from sds.data.together import execute_together


def by_g(t: Any) -> Any:
    return t.group_by("g").aggregate(n=t.count())


def test_each_part_gets_its_own_rows_in_order_even_when_empty() -> None:
    table = open_table(pa.table({"g": ["a", "b", "a", "c"], "x": [1, 2, 3, 4]}))
    engine, t = table.engine, table.expr
    parts = [by_g(t), by_g(t.filter(t.x > 10)), by_g(t.filter(t.x > 1))]
    got = execute_together(engine, parts, source="t")
    want = [engine.execute(p, source="t") for p in parts]
    assert len(got) == 3
    for g, w in zip(got, want, strict=True):
        assert list(g.columns) == ["g", "n"]
        assert sorted(zip(g["g"], g["n"], strict=True)) == sorted(zip(w["g"], w["n"], strict=True))
    assert got[1].empty
    assert dict(zip(got[2]["g"], got[2]["n"], strict=True)) == {"a": 1, "b": 1, "c": 1}
