"""The frame the seed scripts (``scripts/*.py``) share.

Every seed script takes ``-i/--input``, ``-o/--output``, ``-c/--config`` (YAML or JSON,
validated by the job's pydantic model) and ``-v/--verbose``, runs one library job and
prints exactly one JSON status line on stdout::

    {"status": "success", "start_time": "...", "processed_items": 3, "end_time": "...",
     "output": "out/"}

On failure the line has ``"status": "error"`` and ``"error"`` (the message), and the process
exits 2 for bad input or usage and 1 for a failed analysis, like ``sds`` itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sds.config import StrictModel, load_config
from sds.errors import InputError, SdsError


@dataclass(frozen=True)
class SeedContext:
    """What a job receives: parsed arguments, the validated config and a logger."""

    input: Path | None
    output: Path | None
    config: BaseModel | None  # None: the job requires -c and it was not given
    args: argparse.Namespace
    log: logging.Logger


@dataclass(frozen=True)
class SeedJob:
    """One seed script: its name, its work, and the config it accepts.

    ``run`` returns the number of items processed; ``extra_arguments`` adds the script's own
    flags to the parser.
    """

    name: str
    description: str
    run: Callable[[SeedContext], int]
    config_model: type[BaseModel] = StrictModel
    input_required: bool = True
    output_required: bool = True
    config_required: str | None = None  # what -c holds when the job cannot default it
    extra_arguments: Callable[[argparse.ArgumentParser], None] | None = field(default=None)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse prints and exits 2; we raise instead
        raise InputError(f"{message} (see --help)")


def _parser(job: SeedJob) -> _Parser:
    parser = _Parser(prog=job.name, description=job.description)
    parser.add_argument(
        "-i", "--input", type=Path, required=job.input_required, help="Input file or folder."
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=job.output_required, help="Where results are written."
    )
    parser.add_argument("-c", "--config", type=Path, help="YAML or JSON config file.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log progress to stderr.")
    parser.add_argument("--debug", action="store_true", help="Show tracebacks on errors.")
    if job.extra_arguments:
        job.extra_arguments(parser)
    return parser


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def seed_main(job: SeedJob, argv: Sequence[str] | None = None) -> int:
    """Run ``job`` as a script; print the status line; return the exit code."""
    start = _now()
    status: dict[str, Any] = {"status": "error", "start_time": start, "processed_items": 0}
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    code = 0
    try:
        parser = _parser(job)
        if any(a in ("-h", "--help") for a in args_list):
            parser.print_help()
            return 0
        args = parser.parse_args(args_list)
        log = _logger(job.name, args.verbose)
        config = (
            load_config(args.config, job.config_model)
            if args.config
            else None
            if job.config_required
            else job.config_model()
        )
        ctx = SeedContext(args.input, args.output, config, args, log)
        status["processed_items"] = job.run(ctx)
        status["status"] = "success"
        if args.output is not None:
            status["output"] = str(args.output)
    except SdsError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        status["error"] = str(exc)
        code = exc.exit_code
    except Exception as exc:
        if debug:
            traceback.print_exc()
        status["error"] = f"internal error: {type(exc).__name__}: {exc}"
        print(f"error: {status['error']}", file=sys.stderr)
        code = 1
    status["end_time"] = _now()
    print(json.dumps(status), flush=True)
    return code


def _logger(name: str, verbose: bool) -> logging.Logger:
    log = logging.getLogger(f"sds.seed.{name}")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    return log
