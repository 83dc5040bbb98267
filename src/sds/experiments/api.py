"""The experiment entry points of the public namespace: ``sds.design``, ``sds.assign``,
``sds.srm`` and ``sds.analyze``, in the namespace's one argument order (see :mod:`sds`):
the data first, then the spec or the required columns, then keyword-only options.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sds.data.io import Table, open_table
from sds.errors import ParameterError
from sds.experiments.analysis.result import AnalysisResult
from sds.experiments.analysis.run import analyze as _run_analysis
from sds.experiments.analysis.spec import AnalysisSpec
from sds.experiments.assign import AssignmentSummary, assign_table, summarize
from sds.experiments.assign import assign as _assign_ids
from sds.experiments.design import design as _plan
from sds.experiments.design_result import DesignPlan
from sds.experiments.design_spec import DesignSpec
from sds.experiments.srm import SrmDaily, SrmResult, srm_by_day, srm_test


def design(spec: DesignSpec | Mapping[str, Any] | None = None, /, **options: Any) -> DesignPlan:
    """Plan an experiment: sample size, power or MDE.

    A plan reads no table of units, so it starts with the spec: a :class:`DesignSpec`, a
    mapping of its fields, or nothing; ``options`` are its fields and override the spec's
    (``data`` names a history table, as in a design spec file).
    """
    if isinstance(spec, DesignSpec):
        fields: dict[str, Any] = spec.model_dump(exclude_unset=True)
    else:
        fields = dict(spec or {})
    return _plan(None, **{**fields, **options})


def analyze(data: Any, spec: AnalysisSpec | Mapping[str, Any], /) -> AnalysisResult:
    """Analyse an experiment. ``data`` is a DataFrame, path, glob, SQL or Table, or ``None``
    for the table the spec names in its ``data`` field."""
    if not isinstance(spec, AnalysisSpec | Mapping):
        raise ParameterError(
            f"spec must be an AnalysisSpec or a mapping of its fields; found {type(spec).__name__}",
            parameter="spec",
            hint="sds.analyze takes the table first: sds.analyze(data, spec)",
        )
    return _run_analysis(spec if isinstance(spec, AnalysisSpec) else dict(spec), data)


def assign(
    data: Any,
    experiment: str,
    variants: Sequence[str],
    /,
    *,
    shares: Sequence[float] | None = None,
    id_column: str = "user_id",
    table: str | None = None,
    encoding: str | None = None,
    data_output: str | Path | None = None,
) -> AssignmentSummary:
    """Assign units to ``variants`` by sha256(experiment:id).

    ``data`` is a list (or Series) of unit ids, whose ``(id, variant)`` pairs come back in
    the summary, or a table (DataFrame, path, SQL, Table) with ``id_column``, assigned in the
    engine; ``data_output`` writes that assignment table (.csv or .parquet).
    """
    names = list(variants)
    if isinstance(data, list | tuple | pd.Series | pd.Index):
        ids = list(data)
        chosen = _assign_ids(ids, experiment, names, shares)
        pairs = list(zip(ids, chosen, strict=True))
        return summarize(experiment, names, shares, Counter(chosen), None, pairs)
    source = open_table(data, table=table, encoding=encoding)
    expr = assign_table(source, id_column, experiment, names, shares)
    if data_output is not None:
        source.engine.write(expr, Path(data_output), source=source.name)
    counts = source.engine.execute(
        expr.group_by("variant").aggregate(n=expr.count()), source=source.name
    )
    per_variant = {str(v): int(n) for v, n in zip(counts["variant"], counts["n"], strict=True)}
    written = str(data_output) if data_output is not None else None
    return summarize(experiment, names, shares, per_variant, written)


def srm(
    data: Any,
    variant_column: str | None = None,
    date_column: str | None = None,
    /,
    *,
    variants: Sequence[str] | None = None,
    shares: Sequence[float] | None = None,
    alpha: float = 0.001,
    share_tolerance: float = 0.01,
) -> SrmResult | SrmDaily:
    """Sample-ratio mismatch.

    ``data`` is the units per arm (a sequence of counts, or a mapping arm -> count), giving
    an :class:`SrmResult`; or a table of assignments (DataFrame, path, SQL, Table) with its
    ``variant_column`` and ``date_column``, giving the check by day (:class:`SrmDaily`),
    where ``variants`` lists the arms.
    """
    if isinstance(data, Mapping):
        names = list(variants) if variants is not None else [str(k) for k in data]
        return srm_test([int(data[n]) for n in names], shares, alpha, share_tolerance, names)
    if isinstance(data, list | tuple):
        return srm_test([int(c) for c in data], shares, alpha, share_tolerance, variants)
    if variant_column is None or date_column is None:
        missing = "variant_column" if variant_column is None else "date_column"
        raise ParameterError(
            f"{missing} is required when data is a table (give counts for a single check)",
            parameter=missing,
        )
    if variants is None:
        raise ParameterError("variants is required when data is a table", parameter="variants")
    source = data if isinstance(data, Table) else open_table(data)
    return srm_by_day(
        source, variant_column, date_column, list(variants), shares, alpha, share_tolerance
    )
