"""Model folders with versions: ``sds train`` never changes the model in use in place.

``sds train --model-dir DIR`` writes::

    DIR/model -> versions/<id>     the model in use (a relative symlink)
    DIR/versions/<id>/             model.joblib, model.json, test.parquet
    DIR/versions/<previous id>/    the model it replaced, kept for rollback

A new version is written complete in its own folder under ``versions/``, fsynced and loaded
once to check it; anything else that can fail (MLflow tracking) runs next; only then is
``DIR/model`` switched to it, by renaming a new symlink over the old one (atomic). Versions
other than the new and the previous one (older ones, half-built ones of killed runs) are
removed after the switch. So a kill at any instant leaves ``DIR/model`` pointing at a
complete, loadable model (the old one up to the rename, the new one after it), and an
error before the switch removes the new version and leaves the model in use untouched.
Readers need nothing new: ``DIR``, ``DIR/model`` and ``DIR/model/model.joblib`` load as
before. A ``DIR/model`` that is a real folder (from an earlier sds) becomes the previous
version in the same atomic step where Linux offers ``renameat2(RENAME_EXCHANGE)``.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sds.errors import InputError
from sds.models.modelfile import fault, load_model, save_model
from sds.report.files import write_atomic

LINK = "model"
VERSIONS = "versions"
TEST_FILE = "test.parquet"
_LOCK = ".lock"


@dataclass
class Stage:
    """A new version's folder, not yet in use."""

    path: Path
    meta: dict[str, Any] | None = None

    def write(self, model: Any, meta: dict[str, Any], test_rows: Any = None) -> dict[str, Any]:
        """Write the model, its description and its test rows (a DataFrame), fsync them
        and load the model back; returns the description written."""

        written = save_model(model, self.path, meta)
        if test_rows is not None:
            buffer = io.BytesIO()
            test_rows.to_parquet(buffer, index=False)
            write_atomic(self.path / TEST_FILE, buffer.getvalue())
            fault("test-file")
        _fsync_dir(self.path)
        load_model(self.path)  # the version is usable before anything points at it
        self.meta = written
        return written


@contextmanager
def new_version(model_dir: str | Path) -> Iterator[Stage]:
    """A fresh version folder under ``model_dir/versions``; on leaving the block without
    an error, ``model_dir/model`` is switched to it, else it is removed."""
    root = Path(model_dir)
    versions = root / VERSIONS
    try:
        versions.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("cannot create the model folder", source=str(versions)) from exc
    with _locked(versions / _LOCK):
        stage = Stage(versions / f"{_stamp()}{secrets.token_hex(4)}")
        stage.path.mkdir()  # the usual folder mode: the server may run as another user
        fault("staged")
        try:
            yield stage
            if stage.meta is None:
                raise RuntimeError("nothing was written to the new model version")
            _fsync_dir(versions)
            fault("before-switch")
            previous = _switch(root, stage.path)
        except BaseException:
            shutil.rmtree(stage.path, ignore_errors=True)
            raise
        fault("switched")
        _fsync_dir(root)
        _prune(root, {stage.path.name, previous})


def _switch(root: Path, target: Path) -> str | None:
    """Point ``root/model`` at ``target`` in one rename; the name of the version it
    pointed at before (None if none under ``versions``)."""
    link = root / LINK
    previous = _current(root)
    tmp = root / f".{LINK}.{secrets.token_hex(4)}.tmp"
    os.symlink(Path(VERSIONS) / target.name, tmp)
    fault("linked")
    if link.is_dir() and not link.is_symlink():  # a real folder from an earlier sds
        return _replace_folder(root, link, tmp)
    os.replace(tmp, link)
    return previous


def _replace_folder(root: Path, link: Path, tmp: Path) -> str | None:
    """Swap a real ``model`` folder for the symlink ``tmp``, then file the folder away as
    the previous version."""
    old = root / VERSIONS / f"{_stamp()}previous"
    if _exchange(tmp, link):  # done: the new version is in use
        try:
            os.rename(tmp, old)
        except OSError:  # left as a temporary name, removed below
            return None
        return old.name
    os.rename(link, old)  # no atomic exchange here: a kill until the next line leaves no link
    try:
        os.replace(tmp, link)
    except BaseException:
        os.rename(old, link)
        raise
    return old.name


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(done == 0)


def in_use(folder: Path, root: Path) -> Path:
    """``DIR/model`` for a version folder ``DIR/versions/<id>`` below ``root`` (the kept
    versions are not separate models); any other folder as it is."""
    parent = folder.parent
    if folder != root and parent.name == VERSIONS and (parent.parent / LINK).exists():
        return parent.parent / LINK
    return folder


def _current(root: Path) -> str | None:
    """The version ``root/model`` points at, if it is one of ``root/versions``."""
    link = root / LINK
    if not link.is_symlink():
        return None
    target = Path(os.readlink(link))
    if not target.is_absolute():
        target = root / target
    versions = (root / VERSIONS).resolve()
    return target.name if target.resolve().parent == versions else None


def _prune(root: Path, keep: set[str | None]) -> None:
    """Remove every version but ``keep``, and temporary links of killed runs."""
    for entry in (root / VERSIONS).iterdir():
        if entry.name not in keep and not entry.name.startswith("."):
            shutil.rmtree(entry, ignore_errors=True)
    for entry in root.glob(f".{LINK}.*.tmp"):
        if entry.is_symlink() or entry.is_file():
            entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(entry, ignore_errors=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One save at a time per model folder (another waits), so none removes a version
    another is still writing."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not possible on every platform; the renames are still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ-", time.gmtime())
