"""``sds stats TEST --data FILE``: classic tests, regressions and ``auto``; the options are
the fields of :class:`sds.stats.spec.StatsSpec`."""

from __future__ import annotations

from sds.cli.common import (
    DataOpt,
    EncodingOpt,
    FormatOpt,
    OutputOpt,
    TableOpt,
    emit,
    resolve_format,
)
from sds.cli.spec_options import spec_command
from sds.data.io import open_table
from sds.stats.spec import StatsSpec


@spec_command(StatsSpec, positional=("test",))
def command(
    spec: StatsSpec,
    data: DataOpt,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Run a hypothesis test or regression on a table, with effect sizes and checks
    (ttest is Welch's; --equal-var for Student; --pair-id or two --value columns for paired;
    no --group for one-sample)."""
    from sds.stats.runner import run  # numpy, pandas, scipy: loaded when a test runs

    resolve_format(fmt, output)
    emit(run(open_table(data, table=table, encoding=encoding), spec), fmt, output)
