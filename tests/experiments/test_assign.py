"""Hash assignment: committed test vectors, uniformity, independence, stability, engine parity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data.io import open_table
from sds.errors import DataError, ParameterError
from sds.experiments.assign import assign, assign_table, hash_value, summarize
from tests.reference import assign_vectors as vectors


def _engine_assign(
    ids: list[object], experiment: str, variants: list[str], weights: list[float] | None
) -> list[str]:
    table = open_table(pd.DataFrame({"uid": ids}))
    expr = assign_table(table, "uid", experiment, variants, weights)
    df = table.engine.execute(expr)
    lookup = dict(zip(df["uid"], df["variant"], strict=True))
    return [lookup[i] for i in ids]


def test_python_path_reproduces_committed_vectors() -> None:
    groups = vectors.groups()
    assert sum(len(g.ids) for g in groups) == vectors.N_VECTORS
    assert {g.id_type for g in groups} == {"int", "str"}
    for g in groups:
        assert [hash_value(i, g.experiment) for i in g.ids] == g.hashes
        assert assign(g.ids, g.experiment, g.variants, g.weights) == g.arms
        if g.id_type == "int":  # numpy integers and whole floats are their integer
            assert (
                assign(np.array(g.ids, dtype=np.int64), g.experiment, g.variants, g.weights)
                == g.arms
            )
            small = [i for i in g.ids if abs(i) < 2**53]
            expected = [a for i, a in zip(g.ids, g.arms, strict=True) if abs(i) < 2**53]
            assert (
                assign([float(i) for i in small], g.experiment, g.variants, g.weights) == expected
            )


def test_duckdb_reproduces_committed_vectors() -> None:
    frames = vectors.id_frames()
    checked, wrong = vectors.engine_mismatches(lambda kind: open_table(frames[kind]))
    assert checked == vectors.N_VECTORS
    assert not wrong, wrong[:5]


def _engine_counts(
    sql: str, experiment: str, variants: list[str], weights: list[float]
) -> pd.DataFrame:
    table = open_table(sql)
    expr = assign_table(table, "uid", experiment, variants, weights)
    return table.engine.execute(expr)


def test_uniform_over_a_million_ids_and_weights_honoured() -> None:
    ids = "SELECT range AS uid FROM range(1000000)"
    names = [f"b{i:02d}" for i in range(100)]
    df = _engine_counts(ids, "uniformity", names, [0.01] * 100)
    counts = df["variant"].value_counts().reindex(names).to_numpy()
    assert stats.chisquare(counts).pvalue > 0.001
    split = _engine_counts(ids, "weights", ["a", "b", "c"], [10, 30, 60])["variant"]
    shares = split.value_counts(normalize=True)
    for name, share in (("a", 0.1), ("b", 0.3), ("c", 0.6)):
        assert abs(shares[name] - share) < 4 * np.sqrt(share * (1 - share) / 1e6)


def test_two_experiments_are_independent() -> None:
    ids = "SELECT range AS uid FROM range(1000000)"
    one = _engine_counts(ids, "exp-one", ["a", "b"], [0.5, 0.5]).sort_values("uid")
    two = _engine_counts(ids, "exp-two", ["a", "b"], [0.5, 0.5]).sort_values("uid")
    table = pd.crosstab(one["variant"].to_numpy(), two["variant"].to_numpy())
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_adding_units_moves_no_one() -> None:
    small = assign(range(1000), "stable", ["a", "b", "c"])
    large = assign(range(5000), "stable", ["a", "b", "c"])
    assert large[:1000] == small


def test_same_answer_in_another_process() -> None:
    code = (
        "from sds.experiments.assign import assign; "
        "print(','.join(assign(range(200), 'proc', ['a', 'b'])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert out.stdout.strip().split(",") == assign(range(200), "proc", ["a", "b"])


def test_engine_equals_python_on_100k_ids() -> None:
    ints = list(range(100_000))
    assert _engine_assign(ints, "parity", ["c", "t"], [0.3, 0.7]) == assign(
        ints, "parity", ["c", "t"], [0.3, 0.7]
    )
    strings = [f"user-{i}" for i in range(20_000)]
    assert _engine_assign(strings, "parity", ["c", "t"], None) == assign(
        strings, "parity", ["c", "t"]
    )


def test_summary_counts() -> None:
    s = summarize("e", ["a", "b"], [50, 50], {"a": 3}).to_dict()
    assert [v["units"] for v in s["variants"]] == [3, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variants": ["a"]}, "must name at least 2 variants"),
        ({"variants": ["a", "a"]}, "must be unique"),
        ({"weights": [50, 40]}, r"weights == 50,40, must sum to 1 \(or 100\)"),
        ({"weights": [0.2, 0.3, 0.5]}, "3 values for 2 variants"),
        ({"experiment": " "}, "must be a non-empty name"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], message: str) -> None:
    args = {"experiment": "e", "variants": ["a", "b"], "weights": None} | kwargs
    with pytest.raises(ParameterError, match=message):
        assign([1], args["experiment"], args["variants"], args["weights"])  # type: ignore[arg-type]


def test_bad_id_columns() -> None:
    with pytest.raises(DataError, match="1 ids are null"):
        assign_table(
            open_table(pd.DataFrame({"uid": [1.0, None]}).astype("Int64")), "uid", "e", ["a", "b"]
        )
    with pytest.raises(DataError, match="must hold integers or strings"):
        assign_table(open_table(pd.DataFrame({"uid": [1.5, 2.5]})), "uid", "e", ["a", "b"])
    with pytest.raises(DataError, match="no such column"):
        assign_table(open_table(pd.DataFrame({"user": [1]})), "uid", "e", ["a", "b"])
