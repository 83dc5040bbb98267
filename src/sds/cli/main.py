"""The ``sds`` command: global options, error rendering and exit codes.

Exit 0 on success, 1 when the analysis itself fails, 2 on bad input or usage. Errors print
as ``error: ...`` on stderr; a traceback only with ``--debug``.
"""

from __future__ import annotations

import functools
import sys
import traceback
from typing import Annotated, Any

import typer

from sds.cli import (
    analyze,
    assign,
    canary,
    causal,
    demo,
    design,
    features,
    models,
    monitor,
    profile,
    serve,
    srm,
    stats,
)
from sds.cli.common import check_memory
from sds.cli.logs import quiet_third_party
from sds.cli.spec_options import name_as_typed
from sds.cli.usage import click_errors, one_line, usage_message
from sds.config import get_settings, restore_settings, use_settings
from sds.errors import SdsError
from sds.interrupts import Interrupted, install_handlers
from sds.params import check
from sds.version import __version__

app = typer.Typer(
    name="sds",
    help="The daily work of a senior data scientist, done correctly and fast.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
)
app.command("profile")(profile.command)
app.command("demo")(demo.command)
app.add_typer(design.app, name="design")
app.command("assign")(assign.command)
app.command("srm")(srm.command)
app.command("stats")(stats.command)
app.command("analyze")(analyze.command)
app.add_typer(features.app, name="features")
app.command("train")(models.train_command)
app.command("evaluate")(models.evaluate_command)
app.command("reproduce")(models.reproduce_command)
app.command("serve")(serve.command)
app.command("monitor")(monitor.command)
app.add_typer(canary.app, name="canary")
app.add_typer(causal.app, name="causal")

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
