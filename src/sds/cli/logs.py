"""Third-party log lines stay off the user's terminal while the ``sds`` command runs.

Some libraries configure logging when they are imported: pyfixest and wordllama call
``logging.basicConfig(level=INFO)``, after which matplotlib's ``INFO:matplotlib.category``
lines (plotting strings) and the like reach stderr. For the length of one command,
:func:`quiet_third_party` gives the root logger a handler of its own when it has none (so a
later ``basicConfig`` does nothing) that shows warnings and errors only, and sets the noisy
libraries' loggers to WARNING. Everything is put back on the way out, so a program or a
notebook calling :func:`sds.cli.main.run` keeps its own logging settings; library use
(``import sds``) never touches logging at all.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

NOISY = (
    "matplotlib",
    "fontTools",
    "PIL",
    "numexpr",
    "optuna",
    "mlflow",
    "alembic",
    "sqlalchemy",
    "httpx",
    "httpcore",
    "urllib3",
    "pyfixest",
    "wordllama",
    "shap",
    "lightgbm",
    "py4j",
    "granian",
    "_granian",
)
"""Loggers (with their children) held at WARNING while a command runs."""


@contextmanager
def quiet_third_party() -> Iterator[None]:
    """Warnings and errors only from other libraries for the duration of one command."""
    root = logging.getLogger()
    handler: logging.Handler | None = None
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
        root.addHandler(handler)
    loggers = [logging.getLogger(name) for name in NOISY]
    levels = [log.level for log in loggers]
    for log in loggers:
        if log.getEffectiveLevel() < logging.WARNING:
            log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)
        if handler is not None:
            root.removeHandler(handler)
