"""The job behind ``scripts/statistical_analyzer.py``.

``python scripts/statistical_analyzer.py --data input.csv --test ttest --output report.json``
runs ``sds stats`` on the file and writes the report (format from the extension: .json, .md,
.html, .txt). Value and group columns are detected when not named; a config file may set any
of the test's options (``value``, ``group``, ``pair_id``, ``formula``, ``alternative``,
``alpha``, ``equal_var``, ``mu``, ``by``, ``correction``, ``cov_type``, ``cluster``,
``control``).
"""

from __future__ import annotations

import argparse

from sds.cli.seed import SeedContext, SeedJob
from sds.config import StrictModel
from sds.errors import ParameterError


class AnalyzerConfig(StrictModel):
    value: str | None = None
    group: str | None = None
    pair_id: str | None = None
    formula: str | None = None
    alternative: str = "two-sided"
    alpha: float = 0.05
    equal_var: bool = False
    mu: float = 0.0
    by: str | None = None
    correction: str = "holm"
    cov_type: str | None = None
    cluster: str | None = None
    control: str | None = None


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="Input data file (same as -i).")
    parser.add_argument("--test", default="auto", help="Test name, or auto (default).")
    for name in ("value", "group", "pair-id", "formula", "by", "control"):
        parser.add_argument(f"--{name}", help=f"As sds stats --{name}.")
    parser.add_argument("--alternative", help="two-sided, greater or less.")
    parser.add_argument("--alpha", type=float, help="Level for the assumption checks.")
    parser.add_argument("--equal-var", action="store_true", help="Student's t, not Welch's.")


def run_analyzer(ctx: SeedContext) -> int:
    from sds.data.io import open_table
    from sds.report.files import format_for_path, write_atomic
    from sds.stats.by import ByResult
    from sds.stats.runner import StatsSpec, run

    args = ctx.args
    source = args.data or (str(ctx.input) if ctx.input else None)
    if not source:
        raise ParameterError("give the data with --data FILE (or -i FILE)", parameter="data")
    assert ctx.output is not None
    assert ctx.config is not None  # the job has defaults
    options = ctx.config.model_dump()
    for key in ("value", "group", "pair_id", "formula", "by", "control", "alternative", "alpha"):
        if getattr(args, key, None) is not None:
            options[key] = getattr(args, key)
    options["equal_var"] = options["equal_var"] or args.equal_var
    result = run(open_table(source), StatsSpec(test=args.test, **options))
    write_atomic(ctx.output, result.render(format_for_path(ctx.output)))
    ctx.log.info("wrote %s", ctx.output)
    return len(result.rows) if isinstance(result, ByResult) else 1


JOB = SeedJob(
    name="statistical_analyzer.py",
    description="Run a statistical test on a data file and write the report: "
    "--data input.csv --test ttest --output report.json. Tests as in 'sds stats --help'.",
    run=run_analyzer,
    extra_arguments=_arguments,
    config_model=AnalyzerConfig,
    input_required=False,
)
