"""Atomic output files: a failed run leaves no file and never damages an earlier good one."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from sds.errors import InputError
from sds.report.tempfiles import remove_stale, resolve_output, temp_prefix, write_direct


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write ``content`` to the file ``path`` via a temporary file in the same folder and a
    rename.

    The rename is atomic on POSIX and Windows, so readers see the old file or the new one,
    never a half-written one; on any error or SIGTERM/SIGINT the temporary file is removed.
    A symlink is written through (the file it points to is replaced, the link stays); a
    device or pipe (``/dev/null``, ``/dev/stdout``, a FIFO) is written directly; a folder is
    refused with an :class:`~sds.errors.InputError` and left alone. Stale temporary files of
    killed runs to the same file are removed first (see :mod:`sds.report.tempfiles`).
    """

    target = resolve_output(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    if target.direct:
        write_direct(target.path, data)
        return target.path
    real = target.real
    remove_stale(real)
    mode = _file_mode(real)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(real), suffix=".tmp", dir=real.parent)
    except OSError as exc:  # e.g. a folder this user may not write in
        problem = f"cannot write a file in its folder: {exc.strerror or exc}"
        raise InputError(problem, source=str(target.path)) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target.path


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


def _file_mode(path: Path) -> int:
    """The mode of the file being replaced (so a private file stays private), else the
    usual mode of a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
