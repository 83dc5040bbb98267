"""Where an output really goes, and the temporary files that get it there.

An output path names one file. :func:`resolve_output` decides how it is written:

- a regular file, or nothing yet: replaced atomically from a temporary file beside it. For a
  symlink, "beside it" means beside the file the link points to, and that file is replaced,
  so the link stays a link;
- a character device or a FIFO (``/dev/null``, a named pipe, ``/dev/stdout``): written
  directly, since there is nothing to replace;
- a folder: refused, nothing is touched. The one exception is a previous Spark output (a
  folder holding ``_SUCCESS`` and part files only), which an engine write may replace;
- anything else (a block device, a socket): refused.

Temporary files are named ``.NAME.<pid>.<random>.tmp``, so a later run to the same target
can tell stale ones (their process is gone, or untouched for a day) from a live run's, and
:func:`remove_stale` removes them: a killed run (SIGKILL cannot clean up) leaves no litter
for long.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sds.errors import InputError

STALE_AFTER_SECONDS = 86_400.0
"""A temporary file untouched this long is stale even if its pid is in use (pids are reused)."""

_FD_PATH = re.compile(r"^/(dev/(stdin|stdout|stderr|fd/\d+)|proc/[^/]+/fd/\d+)$")
_SPARK_ENTRY = re.compile(
    r"^(part-.+|\.part-.+\.crc|_SUCCESS|\._SUCCESS\.crc|_(committed|started)_.+"
    r"|\._(committed|started)_.+\.crc)$"
)


@dataclass(frozen=True)
class OutputTarget:
    """How to write to an output path."""

    path: Path
    """The path as given."""
    real: Path
    """The path with every symlink resolved: the file that is replaced."""
    direct: bool
    """A device or pipe: write into it directly, with no temporary file."""
    part_folder: bool
    """An existing Spark part-file folder that an engine write may replace."""


def resolve_output(path: str | Path, *, allow_part_folder: bool = False) -> OutputTarget:
    """Classify the output ``path`` (see the module docstring); refuse what must not be
    replaced with an :class:`~sds.errors.InputError` naming it. Creates the missing folder
    of a new file."""
    given = Path(path)
    mode = _mode(given)
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or _is_fd_path(given)):
        return OutputTarget(given, given, direct=True, part_folder=False)
    real = Path(os.path.realpath(given))
    if mode is None:
        _make_folder(given.parent, real.parent)
        return OutputTarget(given, real, direct=False, part_folder=False)
    if stat.S_ISDIR(mode):
        if allow_part_folder and is_part_folder(real):
            return OutputTarget(given, real, direct=False, part_folder=True)
        spark = " other than an earlier Spark output (_SUCCESS and part files only)"
        raise InputError(
            "is a folder; an output is one file, and sds never replaces a folder"
            + (spark if allow_part_folder else ""),
            source=str(given),
            hint="Name a file instead (a file inside that folder is fine).",
        )
    if not stat.S_ISREG(mode):
        raise InputError(
            f"is a {_kind(mode)}; outputs go to files, pipes and character devices only",
            source=str(given),
        )
    return OutputTarget(given, real, direct=False, part_folder=False)


def is_part_folder(folder: Path) -> bool:
    """True for a folder of Spark part files: ``_SUCCESS`` and nothing but part, checksum
    and commit-marker files (no subfolders)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    return is_part_listing([(e.name, e.is_dir(follow_symlinks=False)) for e in entries])


def is_part_listing(entries: list[tuple[str, bool]]) -> bool:
    """:func:`is_part_folder` on a listing of (name, is a folder) pairs, from any file
    system (Spark lists HDFS or S3 folders this way)."""
    names = {name for name, _ in entries}
    return "_SUCCESS" in names and all(
        _SPARK_ENTRY.match(name) and not is_dir for name, is_dir in entries
    )


def temp_prefix(real: Path) -> str:
    """The start of this process's temporary names for ``real``: ``.NAME.<pid>.``."""
    return f".{real.name}.{os.getpid()}."


def temp_path(real: Path) -> Path:
    """A fresh temporary path beside ``real`` (not created)."""
    return real.with_name(f"{temp_prefix(real)}{secrets.token_hex(4)}.tmp")


def remove_stale(real: Path, *, now: float | None = None) -> list[Path]:
    """Remove the stale temporary files of the target ``real`` and return them.

    Stale: the pid in its name is not a running process, or it was last modified more than
    :data:`STALE_AFTER_SECONDS` ago. Names from older sds versions carry no pid and are
    removed only by age. A live run's temporary file is never touched.
    """
    pattern = re.compile(rf"^\.{re.escape(real.name)}\.(?:(\d+)\.)?[0-9a-z_]{{8}}\.tmp$")
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(real.parent))
    except OSError:
        return []
    for entry in entries:
        found = pattern.match(entry.name)
        if found is None:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = found.group(1)
        if age > STALE_AFTER_SECONDS or (pid is not None and not _pid_alive(int(pid))):
            remove_path(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def remove_path(path: Path) -> None:
    """Remove a file, link or folder tree, whichever ``path`` is (a link itself, never what
    it points to); a missing path is fine."""
    try:
        is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return
    if is_dir:
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_direct(path: Path, content: bytes | BinaryIO) -> None:
    """Write bytes, or the rest of a binary file, into a device or pipe (or the file behind
    ``/dev/stdout``, appended as a shell redirect expects)."""
    try:
        with open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY), "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                shutil.copyfileobj(content, out, 1 << 20)
    except OSError as exc:
        raise InputError(f"cannot write to it: {exc.strerror or exc}", source=str(path)) from exc


def _mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink loop, a permission problem on the way
        problem = f"cannot use it as an output: {exc.strerror or exc}"
        raise InputError(problem, source=str(path)) from exc


def _make_folder(folder: Path, real_folder: Path) -> None:
    """Create the missing folders of a new output file, as ``mkdir -p`` would; but not
    through a ``..``: ``sub/../out.json`` names a file beside ``sub``, so creating ``sub``
    on the way would leave a folder nobody asked for (a shell refuses such a path too)."""
    if ".." in folder.parts and not os.path.isdir(folder):
        problem = "the output's folder does not exist (a '..' in the path goes through it)"
        raise InputError(
            f"{problem}; create it first, or name the file without '..'", source=str(folder)
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("cannot create the output folder", source=str(folder)) from exc
    if not real_folder.is_dir():  # a dangling symlink into a folder that does not exist
        raise InputError("the output's folder does not exist", source=str(real_folder))


def _is_fd_path(path: Path) -> bool:
    """Whether ``path`` is, or links through, ``/dev/stdout``, ``/dev/fd/N`` or
    ``/proc/PID/fd/N``: an open file of this process, to write into, not replace."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on symlinks followed
        if _FD_PATH.match(current):
            return True
        try:
            link = os.readlink(current)
        except OSError:
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return False


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except (OverflowError, OSError):
        return False
    return True


def _kind(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
