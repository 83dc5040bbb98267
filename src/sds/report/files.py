"""Atomic output files: a failed run leaves no file and never damages an earlier good one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sds.errors import InputError


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` via a temporary file in the same folder and a rename.

    The rename is atomic on POSIX and Windows, so readers see the old file or the new one,
    never a half-written one; on any error the temporary file is removed.
    """
    target = Path(path)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("cannot create the output folder", source=str(folder)) from exc
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def format_for_path(path: str | Path, default: str = "text") -> str:
    """Guess an output format from a file extension."""
    suffix = Path(path).suffix.lower()
    return {
        ".json": "json",
        ".md": "markdown",
        ".markdown": "markdown",
        ".html": "html",
        ".htm": "html",
        ".txt": "text",
    }.get(suffix, default)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
