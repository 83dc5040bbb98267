"""Progress bars for long work: rich on an interactive stderr, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sds.config import get_settings

Advance = Callable[[str], None]


class Steps:
    """``steps(label)``: one step done; ``steps.show(label)``: what runs now, no step done
    ("tuning hgb: trial 7/30"). Silent when there is no bar to draw on."""

    def __init__(self, update: Callable[[int, str], None] | None = None) -> None:
        self._update = update

    def __call__(self, label: str) -> None:
        if self._update is not None:
            self._update(1, label)

    def show(self, label: str) -> None:
        if self._update is not None:
            self._update(0, label)


@contextmanager
def progress_steps(total: int, description: str) -> Iterator[Steps]:
    """Yield :class:`Steps`; draws a bar on stderr when it is a terminal."""
    if not (get_settings().progress and sys.stderr.isatty()):
        yield Steps()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total, label="")

        def update(step: int, label: str) -> None:
            bar.update(task, advance=step, label=label)

        yield Steps(update)
