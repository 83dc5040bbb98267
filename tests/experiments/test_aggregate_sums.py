"""The aggregate a database server and Spark run (plain sums, narrow states that a server
can hash in parallel) gives the same finest-grain rows as the one DuckDB runs (``avg`` and
``covar_samp``): both queries are run here on DuckDB, on the same units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sds.cli.demo_analysis import SPEC as DEMO_SPEC
from sds.data import synth
from sds.data.io import open_table
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis.rows import moment_rows
from sds.experiments.analysis.spec import parse


def _rows(shift: float, missing: bool) -> tuple[pd.DataFrame, pd.DataFrame, ag.Layout]:
    import yaml

    data = synth.make_ab_events(n_users=3_000, seed=11)
    for column in ("revenue", "pre_revenue"):
        data[column] = data[column] + shift  # far from 0: the origin shift must hold
    if missing:  # units without history: the covariate counts as 0 for them
        data.loc[data["user_id"] % 7 == 0, "pre_revenue"] = np.nan
    table = open_table(data)
    spec = parse({**yaml.safe_load(DEMO_SPEC.format(name="sums")), "data": None})
    grain = ag.detect_grain(table, spec)
    u = ag.units(table, spec, grain)
    lay = ag.layout(spec)
    origin = ag.origins(table, spec, lay, grain)
    grouped = u.group_by(lay.keys)
    arrow = table.engine.to_pyarrow(grouped.aggregate(**ag.moment_query(u, lay, origin)))
    moments = pd.DataFrame(moment_rows(arrow, lay).columns)  # what DuckDB and Spark pool
    sums = ag.from_sums(
        table.engine.execute(grouped.aggregate(**ag.sum_query(u, lay, origin))), lay
    )
    return moments, sums, lay


@pytest.mark.parametrize(("shift", "missing"), [(0.0, False), (1e8, False), (0.0, True)])
def test_sums_give_the_moments_rows(shift: float, missing: bool) -> None:
    moments, sums, lay = _rows(shift, missing)
    if missing:
        assert lay.covariates and sums[f"null_{lay.mean_name(lay.covariates[0])}"].sum() > 0
    keyed = [m.sort_values(lay.keys).reset_index(drop=True) for m in (moments, sums)]
    a, b = keyed
    assert list(a[lay.keys].itertuples(index=False)) == list(b[lay.keys].itertuples(index=False))
    assert (a["n"] == b["n"]).all()
    for v in lay.variables:
        assert (a[f"null_{lay.mean_name(v)}"] == b[f"null_{lay.mean_name(v)}"]).all()
        np.testing.assert_allclose(b[lay.mean_name(v)], a[lay.mean_name(v)], rtol=1e-9, atol=1e-9)
    for x, y in lay.pairs:
        name = lay.comoment_name(x, y)
        scale = float(np.abs(a[name]).max()) or 1.0
        np.testing.assert_allclose(b[name], a[name], rtol=1e-9, atol=1e-9 * scale)


def test_known_columns_are_filled_as_the_query_would_count_them() -> None:
    """Counts of present values the metadata gives and the sums of squares of checked 0/1
    columns are left out of the query and filled in: the same rows as asking for them."""
    data = synth.make_ab_events(n_users=2_000, seed=12)
    data = data.groupby("user_id", as_index=False).first()  # one row per unit
    data.loc[data.index % 5 == 0, "pre_revenue"] = np.nan  # not whole: still counted
    import yaml

    table = open_table(data)
    spec = parse({**yaml.safe_load(DEMO_SPEC.format(name="known")), "data": None})
    u = ag.units(table, spec, "unit")
    lay = ag.layout(spec)
    origin = ag.origins(table, spec, lay, "event")
    assert lay.binary and lay.covariates
    whole = frozenset(v for v in lay.variables if v not in lay.covariates)
    known = ag.Known(whole, frozenset(lay.binary))
    asked = ag.sum_query(u, lay, origin, known)
    full = ag.sum_query(u, lay, origin)
    left_out = sorted(set(full) - set(asked))
    squares = [f"sum_{lay.comoment_name(v, v)}" for v in lay.binary]
    assert left_out == sorted([*(f"count_{lay.mean_name(v)}" for v in whole), *squares])
    grouped = u.group_by(lay.keys)
    expected = table.engine.execute(grouped.aggregate(**full)).sort_values(lay.keys)
    filled = known.fill(table.engine.execute(grouped.aggregate(**asked)), lay)
    filled = filled[list(expected.columns)].sort_values(lay.keys)
    pd.testing.assert_frame_equal(
        filled.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )
