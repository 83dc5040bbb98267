"""The ``sds`` command: global options, error rendering and exit codes.

Exit 0 on success, 1 when the analysis itself fails, 2 on bad input or usage. Errors print
as ``error: ...`` on stderr; a traceback only with ``--debug``.

The commands are loaded lazily: :data:`COMMANDS` names each command's module, imported when
that command runs (or its own help is asked for), so ``sds --help``, ``sds --version`` and
``sds srm`` do not import what ``sds analyze`` or ``sds train`` need.
"""

from __future__ import annotations

import functools
import importlib
import sys
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from sds.cli.logs import quiet_third_party
from sds.cli.usage import click_errors, one_line, usage_message
from sds.config import get_settings, restore_settings, use_settings
from sds.errors import SdsError
from sds.interrupts import Interrupted, install_handlers
from sds.params import check
from sds.version import __version__


class Entry(NamedTuple):
    """Where a command lives (``module.attr``: a command function or a ``typer.Typer``
    group) and the one line ``sds --help`` shows for it."""

    module: str
    attr: str
    summary: str


# In the order ``sds --help`` lists them. Each summary is the start of the command's own
# help (tests/cli/test_import_budget.py checks it), shown without importing the command.
COMMANDS: dict[str, Entry] = {
    "profile": Entry(
        "sds.cli.profile",
        "command",
        "Profile a table: types, nulls, distincts, statistics, top values, histograms, flags.",
    ),
    "demo": Entry(
        "sds.cli.demo",
        "command",
        "Generate data and run every capability on it, one report chapter each.",
    ),
    "assign": Entry(
        "sds.cli.assign",
        "command",
        "Assign units by sha256(experiment:id): stable everywhere, independent across experiments.",
    ),
    "srm": Entry(
        "sds.cli.srm",
        "command",
        "Check that arm sizes match the designed split (chi-square p; 1% share rule apart).",
    ),
    "stats": Entry(
        "sds.cli.stats",
        "command",
        "Run a hypothesis test or regression on a table, with effect sizes and checks.",
    ),
    "analyze": Entry(
        "sds.cli.analyze",
        "command",
        "Effects with intervals, SRM and balance checks, and a verdict, for every metric.",
    ),
    "train": Entry(
        "sds.cli.models",
        "train_command",
        "Split, tune and fit the candidates, choose on validation, evaluate on test, save the "
        "model with its SHA-256 and log the run.",
    ),
    "evaluate": Entry(
        "sds.cli.models",
        "evaluate_command",
        "The evaluation suite and scorecard for a saved model, with the run's seed.",
    ),
    "reproduce": Entry(
        "sds.cli.models",
        "reproduce_command",
        "Retrain a logged run from its config and data; exit 1 unless every metric matches.",
    ),
    "serve": Entry(
        "sds.cli.serve",
        "command",
        "Serve a model over HTTP: /predict, /health, /ready, /metrics, /model, /docs.",
    ),
    "monitor": Entry(
        "sds.cli.monitor",
        "command",
        "PSI and KS per numeric feature, PSI, chi-square and Jensen-Shannon per category, "
        "output drift, and P50/P95/P99 latency and error rate from a request log.",
    ),
    "design": Entry(
        "sds.cli.design",
        "app",
        "Plan an experiment: sample size, power or MDE, duration, CUPED, sequential looks.",
    ),
    "features": Entry(
        "sds.cli.features",
        "app",
        "Point-in-time features computed in the engine, selection with leakage checks, "
        "train/test alignment, and a versioned feature store.",
    ),
    "canary": Entry(
        "sds.cli.canary",
        "app",
        "Canary releases: compare challenger and champion from the request log.",
    ),
    "causal": Entry(
        "sds.cli.causal",
        "app",
        "Causal inference: matching and weighting, difference-in-differences, regression "
        "discontinuity, instrumental variables; each with its diagnostics and a verdict.",
    ),
}


class LazyCommands(MutableMapping[str, Any]):
    """The subcommands of ``sds`` by name: every name of :data:`COMMANDS` is listed at once,
    a command is built (its module imported) when it is first looked up. Tools that walk the
    whole tree (``.items()``: the docs, the tests) load every command."""

    def __init__(self, load: Callable[[str], Any]) -> None:
        self._load = load
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = self._load(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._built

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(COMMANDS), **self._built})

    def __len__(self) -> int:
        return len({**dict.fromkeys(COMMANDS), **self._built})

    def is_built(self, name: str) -> bool:
        return name in self._built


class LazyGroup(TyperGroup):
    """The ``sds`` group: commands from :class:`LazyCommands`; its own help and the
    completion of command names list them from :data:`COMMANDS`, importing none."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = self.lazy = LazyCommands(self._build)
        self._listing = False

    def _build(self, name: str) -> Any:
        entry = COMMANDS[name]
        target = getattr(importlib.import_module(entry.module), entry.attr)
        if isinstance(target, typer.Typer):  # as app.add_typer(target, name=name) would
            return get_group_from_info(
                TyperInfo(target, name=name, short_help=entry.summary),
                pretty_exceptions_short=app.pretty_exceptions_short,
                suggest_commands=app.suggest_commands,
                rich_markup_mode=app.rich_markup_mode,
            )
        return get_command_from_info(  # as app.command(name)(target) would
            CommandInfo(name=name, callback=target, short_help=entry.summary),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
        )

    @contextmanager
    def _names_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._listing and cmd_name in COMMANDS and not self.lazy.is_built(cmd_name):
            summary = COMMANDS[cmd_name].summary
            return TyperCommand(name=cmd_name, help=summary, short_help=summary)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The list of commands in click's plain layout: rich's renderer costs more to
        # import (about 0.2 s) than the rest of sds --help; each command's help keeps rich.
        with self._names_only():
            super(TyperGroup, self).format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._names_only():
            return super().shell_complete(ctx, incomplete)


app = typer.Typer(
    name="sds",
    help="The daily work of a senior data scientist, done correctly and fast.",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
)

_STATE = {"debug": False}


def _print_version(value: bool) -> None:
    """``sds --version``: print ``sds <version>`` and stop, before any command runs."""
    if value:
        print(f"sds {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    threads: Annotated[
        int | None, typer.Option(help="Engine threads (default: all cores).")
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            help="Engine memory limit, e.g. 2GB (DuckDB spills past it; for a local Spark, "
            "the driver's memory)."
        ),
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide progress bars.")] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            envvar="SDS_ENGINE",
            help="Where the data work runs: duckdb (embedded, default), spark "
            "(a local Spark, --spark-master, or Spark Connect when SPARK_REMOTE is set), or a "
            "database URL such as postgres://user@host:5432/db (password from PGPASSWORD, "
            "~/.pgpass or ?password_env=NAME; never printed). Overrides a spec's 'engine' key.",
        ),
    ] = None,
    upload: Annotated[
        bool,
        typer.Option(
            "--upload",
            help="With a database engine, copy local files into temporary tables on the "
            "server and run there (by default DuckDB reads them on this machine).",
        ),
    ] = False,
    spark_master: Annotated[
        str | None,
        typer.Option(
            envvar="SDS_SPARK_MASTER",
            help="Spark master for --engine spark: local[4], spark://HOST:7077, yarn, "
            "k8s://... (default local[*]).",
        ),
    ] = None,
) -> None:
    """Global options, applied before any command runs."""

    if threads is not None:
        check("threads", threads)
    if memory_limit is not None:
        from sds.cli.common import check_memory  # loaded when a memory limit is given

        check_memory(memory_limit)

    if engine is not None:
        from sds.data.url import parse

        parse(engine)  # a bad URL exits 2 here, shown masked
    _STATE["debug"] = debug
    from dataclasses import replace

    use_settings(
        replace(
            get_settings(),
            threads=threads,
            memory_limit=memory_limit,
            progress=not no_progress,
            engine=engine,
            spark_master=spark_master,
            upload=upload,
        )
    )


@functools.cache
def _command() -> Any:
    """The click command of ``app``, built once per process (typer takes ~0.2 s to build
    it from the signatures, which a process running sds many times would pay each time)."""
    return typer.main.get_command(app)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""

    clicks = click_errors()
    token = use_settings(get_settings())  # global options last for this run only
    restore_signals = install_handlers()  # SIGINT/SIGTERM unwind, so cleanups run
    try:  # not standalone: click's usage errors come here, to be printed as one line
        with quiet_third_party():  # no INFO lines from matplotlib & co. on the terminal
            code = _command()(args=argv, prog_name="sds", standalone_mode=False)
    except clicks.NoArgsIsHelpError as exc:  # `sds` or `sds causal` alone: the help
        exc.show()
        sys.exit(2)
    except clicks.ClickException as exc:
        print(f"error: {usage_message(exc)}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:  # end of input at a prompt
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Interrupted as exc:  # temporary files are already removed on the way out
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except SdsError as exc:
        if _STATE["debug"]:
            traceback.print_exc()
        from sds.cli.spec_options import name_as_typed  # loaded on an error only

        name_as_typed(exc, sys.argv[1:] if argv is None else argv, _command())
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug, not the user's fault: say so, exit 1
        if _STATE["debug"]:
            traceback.print_exc()
        print(
            f"error: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(run with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        sys.exit(1)
    finally:
        restore_signals()
        restore_settings(token)
    if isinstance(code, int) and code:  # typer.Exit(1) and the like
        sys.exit(code)


if __name__ == "__main__":
    run()
