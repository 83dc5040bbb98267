"""The experiment entry points of the public namespace: ``sds.design``, ``sds.assign``,
``sds.srm`` and ``sds.analyze``, in the namespace's one argument order (see :mod:`sds`):
the data first, then the spec or the required columns, then keyword-only options.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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

    A plan reads no table of units, so it starts with the spec: a `DesignSpec`, a
    mapping of its fields, or nothing; `options` are its fields and override the spec's
    (`data` names a history table, as in a design spec file).

    Args:
        spec: A `DesignSpec`, a mapping of its fields (as in a design spec file), or `None`
            to give every field in `options`.
        **options: Fields of `DesignSpec` (`metric`, `baseline`, `mde`, `alpha`, `power`,
            ...), overriding those of `spec`; leave out the one to solve for.

    Returns:
        The solved plan: units per arm (control first), power and minimum detectable
            effect, the level per comparison, and the days needed when daily traffic is
            given.

    Raises:
        ParameterError: A field is unknown or out of range, or the spec does not determine
            a plan.
    """
    if isinstance(spec, DesignSpec):
        fields: dict[str, Any] = spec.model_dump(exclude_unset=True)
    else:
        fields = dict(spec or {})
    return _plan(None, **{**fields, **options})


def analyze(data: Any, spec: AnalysisSpec | Mapping[str, Any], /) -> AnalysisResult:
    """Analyse an experiment.

    Args:
        data: A DataFrame, path, glob, SQL query or `Table` of units (or events), or `None`
            for the table the spec names in its `data` field.
        spec: An `AnalysisSpec` or a mapping of its fields (as in an analysis spec file):
            the variant column, the metrics and the checks to run.

    Returns:
        Everything found: the verdict and its reasons, the units per arm, the SRM and
            novelty checks, each metric's effect with its interval and adjusted p-value,
            covariate balance, and the checks the spec asked for (segments, daily SRM,
            cumulative effects, sequential looks).

    Raises:
        ParameterError: `spec` is not an `AnalysisSpec` or a mapping.
        ConfigError: A mapping `spec` is not a valid analysis spec (the error names the
            key).
        DataError: A named column is missing or unusable.
    """
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
    """Assign units to `variants` by sha256(experiment:id).

    `data` is a list (or Series) of unit ids, whose `(id, variant)` pairs come back in
    the summary, or a table (DataFrame, path, SQL, Table) with `id_column`, assigned in the
    engine; `data_output` writes that assignment table (.csv or .parquet).

    Args:
        data: Unit ids (list, tuple, Series or Index), or a table with `id_column`.
        experiment: Experiment name; it salts the hash, so experiments assign
            independently.
        variants: Variant names, control first, at least 2.
        shares: Share of units per variant, in the order of `variants` (summing to 1, or
            to 100 as percentages); `None` splits equally.
        id_column: The id column of a table `data`.
        table: Table name inside a DuckDB database file `data`.
        encoding: CSV text encoding of `data`; `None` means UTF-8.
        data_output: File to write the `(id, variant)` table to (`.csv` or `.parquet`);
            only for a table `data`.

    Returns:
        Units per variant against the shares; for in-memory ids also the `(id, variant)`
            pairs; with `data_output` the path written.

    Raises:
        ParameterError: Fewer than 2 variants, or shares that do not match them.
        DataError: An id is missing, or `id_column` is not in the table.
    """
    names = list(variants)
    if _in_memory_ids(data):
        ids = list(data)
        chosen = _assign_ids(ids, experiment, names, shares)
        pairs = list(zip(ids, chosen, strict=True))
        return summarize(experiment, names, shares, Counter(chosen), None, pairs)
    source = open_table(data, table=table, encoding=encoding)
    expr = assign_table(source, id_column, experiment, names, shares)
    if data_output is not None:
        source.engine.write(expr, data_output, source=source.name)
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

    `data` is the units per arm (a sequence of counts, or a mapping arm -> count), giving
    an `SrmResult`; or a table of assignments (DataFrame, path, SQL, Table) with its
    `variant_column` and `date_column`, giving the check by day (`SrmDaily`),
    where `variants` lists the arms.

    Args:
        data: Counts per arm (a list or a mapping arm -> count), or a table of assignments.
        variant_column: The arm column of a table; required for a table.
        date_column: The assignment date column of a table; required for a table.
        variants: Arm names: for counts in a list their names (for a mapping, the arms to
            check and their order); required for a table.
        shares: Expected share of each arm (summing to 1, or 100 as percentages); `None`
            expects equal arms.
        alpha: Level of the chi-square test; the check flags a mismatch when p < `alpha`.
            The strict default 0.001 keeps false alarms rare across many experiments.
        share_tolerance: Relative deviation of an arm's share that the rule of thumb
            reports (0.01 = 1%); it never sets the flag.

    Returns:
        The chi-square test and the share rule over all units (`SrmResult`), or the same
            per day and cumulatively for a table (`SrmDaily`).

    Raises:
        ParameterError: A table without `variant_column`, `date_column` or `variants`.
        DataError: A column is missing, or the counts are not usable.
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


def _in_memory_ids(data: Any) -> bool:
    """A list, tuple, pandas Series or Index of ids (pandas is loaded if it is one of its
    objects: ``sds.analyze`` and ``sds.assign`` on a table do not import it)."""
    pd = sys.modules.get("pandas")
    kinds = (list, tuple) if pd is None else (list, tuple, pd.Series, pd.Index)
    return isinstance(data, kinds)
