"""The committed assignment vectors (``assign_vectors.csv``, written by
``make_assign_vectors.py`` from the documented rule with hashlib) and a check that runs
them through an engine: every engine must give exactly the committed arm for every id."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

VECTORS = Path(__file__).with_name("assign_vectors.csv")
N_VECTORS = 190


@dataclass(frozen=True)
class Group:
    """The vectors of one experiment, weighting and id type."""

    experiment: str
    variants: list[str]
    weights: list[float]
    id_type: str
    ids: list[Any]
    arms: list[str]
    hashes: list[int]


def rows() -> list[dict[str, str]]:
    with VECTORS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def groups() -> list[Group]:
    """The vectors grouped by experiment, weights and id type, ids typed (int or str)."""
    out: dict[tuple[str, str, str, str], Group] = {}
    for row in rows():
        key = (row["experiment"], row["variants"], row["weights"], row["id_type"])
        if key not in out:
            weights = [float(w) for w in row["weights"].split("|")]
            out[key] = Group(key[0], key[1].split("|"), weights, key[3], [], [], [])
        group = out[key]
        uid = row["unit_id"]
        group.ids.append(int(uid) if row["id_type"] == "int" else uid)
        group.arms.append(row["variant"])
        group.hashes.append(int(row["hash"]))
    return list(out.values())


def id_frames() -> dict[str, pd.DataFrame]:
    """One table of distinct ids per id type, column ``uid`` (int64, or text)."""
    frames = {}
    for id_type, dtype in (("int", "int64"), ("str", "object")):
        ids = list(dict.fromkeys(i for g in groups() if g.id_type == id_type for i in g.ids))
        frames[id_type] = pd.DataFrame({"uid": pd.Series(ids, dtype=dtype)})
    return frames


def engine_mismatches(open_ids: Callable[[str], Any]) -> tuple[int, list[str]]:
    """Run every group through ``assign_table`` on the table ``open_ids(id_type)`` returns;
    the number of ids checked and each id whose arm differs from the committed one."""
    from sds.experiments.assign import assign_table

    checked, wrong = 0, []
    for g in groups():
        table = open_ids(g.id_type)
        expr = assign_table(table, "uid", g.experiment, g.variants, g.weights)
        df = table.engine.execute(expr, source=table.name)
        got = dict(zip(df["uid"].tolist(), df["variant"].tolist(), strict=True))
        for uid, arm in zip(g.ids, g.arms, strict=True):
            checked += 1
            if got.get(uid) != arm:
                wrong.append(f"{g.experiment!r} {uid!r}: {got.get(uid)!r}, expected {arm!r}")
    return checked, wrong
