"""The job behind ``scripts/statistical_analyzer.py``.

``python scripts/statistical_analyzer.py --data input.csv --test ttest --output report.json``
runs ``sds stats`` on the file and writes the report (format from the extension: .json, .md,
.html, .txt). Value and group columns are detected when not named; a config file may set any
field of :class:`sds.stats.spec.StatsSpec` (the same options as ``sds stats``), and every
field is also an option (``--pair-id``, ``--equal-var``); options given win over the config.
"""

from __future__ import annotations

import argparse

from sds.cli.seed import SeedContext, SeedJob
from sds.cli.spec_options import add_spec_arguments, given_arguments
from sds.data.io import open_table
from sds.errors import ParameterError
from sds.report.files import format_for_path, write_atomic
from sds.stats.spec import StatsSpec


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="Input data file (same as -i).")
    parser.add_argument("--table", help="Table name inside a DuckDB file given as --data.")
    parser.add_argument("--encoding", help="CSV encoding of --data, e.g. latin-1.")
    add_spec_arguments(parser, StatsSpec)


def run_analyzer(ctx: SeedContext) -> int:
    from sds.stats.by import ByResult
    from sds.stats.runner import run

    args = ctx.args
    source = args.data or (str(ctx.input) if ctx.input else None)
    if not source:
        raise ParameterError("give the data with --data FILE (or -i FILE)", parameter="data")
    assert ctx.output is not None
    assert isinstance(ctx.config, StatsSpec)  # the job has defaults
    given = ctx.config.model_dump(exclude_unset=True) | given_arguments(args, StatsSpec)
    table = open_table(source, table=args.table, encoding=args.encoding)
    result = run(table, StatsSpec(**given))
    write_atomic(ctx.output, result.render(format_for_path(ctx.output)))
    ctx.log.info("wrote %s", ctx.output)
    return len(result.rows) if isinstance(result, ByResult) else 1


JOB = SeedJob(
    name="statistical_analyzer.py",
    description="Run a statistical test on a data file and write the report: "
    "--data input.csv --test ttest --output report.json (format from the extension: "
    ".json, .md, .html, .txt). Tests as in 'sds stats --help'. Config keys (-c): every "
    "option below without its dashes (test, value, group, alpha ...); options given win.",
    run=run_analyzer,
    extra_arguments=_arguments,
    config_model=StatsSpec,
    input_required=False,
)
