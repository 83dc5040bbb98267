"""SIGINT and SIGTERM end a CLI run by unwinding the stack, not by dying on the spot.

:func:`install_handlers` (called by :func:`sds.cli.main.run`) makes them raise
:class:`Interrupted`, so every ``finally`` and ``except BaseException``
cleanup on the way out runs (temporary output files are removed, earlier outputs stay
intact) and :func:`sds.cli.main.run` prints one line and exits 128 + the signal number (130
for Ctrl-C, 143 for SIGTERM). ``Interrupted`` is not a ``KeyboardInterrupt``, so Click and
Typer do not swallow it into a silent exit. Only SIGKILL skips the cleanups; the stale
temporary files it leaves are removed by the next run to the same output.

An engine that checks for signals itself (DuckDB) cancels its query and raises its own
error instead; :func:`received` tells the caller that a signal was the cause, so it can
raise :class:`Interrupted` in turn (see :func:`sds.data.engine.translate_errors`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

_HANDLED = (signal.SIGINT, signal.SIGTERM)
_RECEIVED: list[int] = []  # the signals caught since the handlers were installed


class Interrupted(BaseException):
    """The run was stopped by a signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return "interrupted" if self.signum == signal.SIGINT else "terminated"


def received() -> int | None:
    """The first signal caught by the handlers of this run, if any."""
    return _RECEIVED[0] if _RECEIVED else None


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    _RECEIVED.append(signum)
    raise Interrupted(signum)


def install_handlers() -> Callable[[], None]:
    """Make SIGINT and SIGTERM raise :class:`Interrupted`; return a function that puts the
    previous handlers back. Does nothing outside the main thread (Python only lets the main
    thread handle signals)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.signal(signum, _raise_interrupted) for signum in _HANDLED}
    _RECEIVED.clear()

    def restore() -> None:
        _RECEIVED.clear()
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    return restore
