"""``sds design proportion|mean|ratio|spec``: sample size, power and MDE plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sds.cli.common import FormatOpt, OutputOpt, emit, resolve_format
from sds.cli.spec_options import spec_command
from sds.config import load_config
from sds.experiments.design_spec import DesignSpec

app = typer.Typer(
    help="Plan an experiment: sample size, power or MDE, duration, CUPED, sequential looks.",
    no_args_is_help=True,
)
SHORTS = {"n_per_variant": "-n"}


def _plan(spec: DesignSpec, fmt: str | None, output: Path | None) -> None:
    from sds.experiments.design import design  # scipy: loaded when a plan is made

    resolve_format(fmt, output)
    emit(design(spec), fmt, output)


@app.command("proportion")
@spec_command(DesignSpec, fixed={"metric": "proportion"}, shorts=SHORTS)
def proportion(spec: DesignSpec, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """Conversion-rate metrics (0/1 per unit)."""
    _plan(spec, fmt, output)


@app.command("mean")
@spec_command(DesignSpec, fixed={"metric": "mean"}, shorts=SHORTS)
def mean(spec: DesignSpec, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """Continuous metrics (revenue per user, session length)."""
    _plan(spec, fmt, output)


@app.command("ratio")
@spec_command(DesignSpec, fixed={"metric": "ratio"}, shorts=SHORTS)
def ratio_metric(spec: DesignSpec, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """Ratio metrics (orders per session, revenue per order) by the delta method."""
    _plan(spec, fmt, output)


@app.command("spec")
def from_spec(
    path: Annotated[Path, typer.Argument(help="A YAML/JSON design spec.")],
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Plan from a spec file (the keys are the options above, plus metric)."""
    resolve_format(fmt, output)
    _plan(load_config(path, DesignSpec), fmt, output)
