"""Progress bars for long work: rich on an interactive stderr, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sds.config import get_settings

Advance = Callable[[str], None]


@contextmanager
def progress_steps(total: int, description: str) -> Iterator[Advance]:
    """Yield ``advance(label)``; draws a bar on stderr when it is a terminal."""
    if not (get_settings().progress and sys.stderr.isatty()):
        yield lambda label: None
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

        def advance(label: str) -> None:
            bar.update(task, advance=1, label=label)

        yield advance
