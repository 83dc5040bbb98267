"""The frame the seed scripts (``scripts/*.py``) share.

Every seed script takes ``-i/--input``, ``-o/--output``, ``-c/--config`` (YAML or JSON,
validated by the job's pydantic model) and ``-v/--verbose``, runs one library job and
prints the seed's status line as the LAST line of stdout, exactly these four keys in this
order::

    {"status": "completed", "start_time": "...", "processed_items": 3, "end_time": "..."}

Times are ISO 8601 in UTC. What was written is logged on stderr with ``-v``. On failure the
line is ``{"status": "failed", "start_time": ..., "processed_items": 0, "end_time": ...,
"error": "..."}`` and the process exits 2 for bad input or usage and 1 for a failed
analysis, like ``sds`` itself.
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

from sds.config import StrictModel, read_mapping, validate_mapping
from sds.errors import ConfigError, InputError, SdsError

SCRIPTS = (
    "experiment_designer",
    "feature_engineering_pipeline",
    "statistical_analyzer",
    "train",
    "evaluate",
    "model_evaluation_suite",
    "health_check",
)


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
    section = job.name.removesuffix(".py")
    parser = _Parser(
        prog=job.name,
        description=job.description,
        epilog=f"-c may also be a project config whose top-level keys are script names; this "
        f"script reads its '{section}:' section. The last line of stdout is the status line: "
        '{"status": "completed", "start_time": ..., "processed_items": N, "end_time": ...} '
        '(on failure "status": "failed" and "error"; exit 2 bad input, 1 failed job).',
    )
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


def load_job_config(path: Path, job: SeedJob) -> BaseModel | None:
    """``-c``: the job's config, or its section of a project config whose top-level keys
    are all script names (``experiment_designer:``, ``model_evaluation_suite:`` ...), so
    one ``config.yaml`` can serve every script; a script without a section gets defaults."""
    raw = read_mapping(path)
    if raw and set(raw) <= set(SCRIPTS):
        section = raw.get(job.name.removesuffix(".py"))
        if section is None:
            return None if job.config_required else job.config_model()
        if not isinstance(section, dict):
            raise ConfigError("a script's section must be a mapping", source=str(path))
        return validate_mapping(section, job.config_model, f"{path} [{job.name}]")
    return validate_mapping(raw, job.config_model, str(path))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def seed_main(job: SeedJob, argv: Sequence[str] | None = None) -> int:
    """Run ``job`` as a script; print the status line; return the exit code."""
    start = _now()
    status: dict[str, Any] = {"status": "failed", "start_time": start, "processed_items": 0}
    error = ""
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
            load_job_config(args.config, job)
            if args.config
            else None
            if job.config_required
            else job.config_model()
        )
        ctx = SeedContext(args.input, args.output, config, args, log)
        status["processed_items"] = int(job.run(ctx))
        status["status"] = "completed"
        if args.output is not None:
            log.info("output: %s", args.output)
    except SdsError as exc:
        if debug:
            traceback.print_exc()
        error = str(exc)
        print(f"error: {error}", file=sys.stderr)
        code = exc.exit_code
    except Exception as exc:
        if debug:
            traceback.print_exc()
        error = f"internal error: {type(exc).__name__}: {exc}"
        print(f"error: {error}", file=sys.stderr)
        code = 1
    status["end_time"] = _now()
    if code:
        status["error"] = error
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
