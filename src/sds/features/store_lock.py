"""Who may touch a feature store, and when.

Every open of the registry happens under one cross-process lock (the ``filelock`` package,
file ``registry.lock``), held only for the registry work itself (never for a build): writers
wait for each other instead of failing on DuckDB's own file lock, and readers never meet a
registration half way. A writer that waits longer than the timeout (default 60 s, or
``SDS_STORE_LOCK_TIMEOUT``) fails with one line naming the store and the holder.

Everything sds writes into a store carries an owner file (``.sds-owner.json``: the store's
id, the writer's pid and host), written first. Only folders with that proof are ever deleted:
temp folders of writers that are gone, and version folders that were renamed into place but
never recorded (a crash). Anything else in the store is left alone.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sds.errors import AnalysisError, ConfigError, DataError, ParameterError
from sds.features.store_names import check_name, inside

LOCK_FILE = "registry.lock"
HOLDER_FILE = "registry.holder"
STORE_FILE = "store.json"
OWNER_FILE = ".sds-owner.json"
TEMP_PREFIX = ".tmp-"
TIMEOUT_ENV = "SDS_STORE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
_LEGACY_AGE = 3600.0  # temp folders of sds before owner files: stale after an hour
_LEGACY_FILES = {"features.parquet", "manifest.json"}


class StoreBusyError(AnalysisError):
    """Another process kept the store's registry locked for longer than the timeout."""


def resolve_timeout(value: float | None = None) -> float:
    """Seconds to wait for the registry: ``value``, else ``SDS_STORE_LOCK_TIMEOUT``, else 60."""
    if value is None:
        text = os.environ.get(TIMEOUT_ENV, "").strip()
        if not text:
            return DEFAULT_TIMEOUT
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{TIMEOUT_ENV} == {text!r}", expected="a positive number of seconds")
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(
            f"lock_timeout == {value!r}",
            parameter="lock_timeout",
            expected="a positive number of seconds",
        )
    return float(value)


@contextmanager
def registry_lock(root: Path, timeout: float, *, write: bool) -> Iterator[None]:
    """Hold the store's lock. A reader of a store it cannot write (a read-only copy, which
    nobody can be writing through sds) reads without it."""
    from filelock import FileLock, Timeout

    path = root / LOCK_FILE
    if not write and not _writable(path):
        yield
        return
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire(poll_interval=0.01)  # short polls: a busy reader cannot starve a writer
    except Timeout:
        raise busy(root, timeout) from None
    try:
        if write:
            _atomic_json(root / HOLDER_FILE, _me())
        yield
    finally:
        if write:
            (root / HOLDER_FILE).unlink(missing_ok=True)
        lock.release()


def connect(root: Path, registry: str, timeout: float, *, read_only: bool) -> Any:
    """A DuckDB connection to the registry, retried while a process that does not take
    the sds lock (an older sds, a DuckDB shell) holds the file."""
    import duckdb

    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return duckdb.connect(str(root / registry), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise DataError(
                    f"cannot open the registry: {exc}".replace("\n", " "), source=str(root)
                ) from None
            if time.monotonic() > deadline:
                raise busy(root, timeout) from None
            time.sleep(delay)
            delay = min(2 * delay, 0.2)


def busy(root: Path, timeout: float) -> StoreBusyError:
    return StoreBusyError(
        f"the feature store's registry stayed locked for {timeout:g} s by {_holder(root)}",
        source=str(root),
        hint=f"Wait for that process to finish, or set {TIMEOUT_ENV} to wait longer.",
    )


def store_id(root: Path, timeout: float) -> str:
    """The store's id (``store.json``), made on first use: owner files name it."""
    path = root / STORE_FILE
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        with registry_lock(root, timeout, write=True):
            if not path.exists():
                _atomic_json(path, {"format": "sds feature store", "id": uuid.uuid4().hex})
    try:
        return str(json.loads(path.read_text())["id"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{STORE_FILE} is unreadable ({exc})",
            source=str(root),
            hint="Restore it from a backup; without it sds deletes nothing in the store.",
        ) from None


def new_temp(root: Path, name: str, owner: str) -> Path:
    """A fresh temp folder for ``name``'s next version, with its owner file in it."""
    folder = root / check_name(name)  # as the caller names the root: relative stays relative
    inside(root, folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    _atomic_json(tmp / OWNER_FILE, {"store": owner, **_me()})
    return tmp


def remove_orphan(root: Path, final: Path, owner: str) -> None:
    """Delete a version folder that was renamed into place but never recorded; refuse
    (DataError) anything that sds did not write for this store."""
    if final.is_dir() and not final.is_symlink() and _written_here(final, owner):
        shutil.rmtree(inside(root, final))
        return
    raise DataError(
        f"{final} is in the way of the next version and was not written by sds for this "
        "store, so it is left alone",
        source=str(root),
        hint="Move it out of the store, then register again.",
    )


def remove_stale_temps(root: Path, owner: str) -> list[Path]:
    """Delete temp folders of writers that are gone (call under the write lock)."""
    removed = []
    for folder in root.iterdir():
        if folder.is_symlink() or not folder.is_dir() or folder.name.startswith("."):
            continue
        for tmp in folder.glob(TEMP_PREFIX + "*"):
            if tmp.is_dir() and not tmp.is_symlink() and _stale(tmp, owner):
                shutil.rmtree(inside(root, tmp), ignore_errors=True)
                removed.append(tmp)
    return removed


def _stale(tmp: Path, owner: str) -> bool:
    record = _read_json(tmp / OWNER_FILE)
    if record is not None:
        return (
            record.get("store") == owner
            and record.get("host") == socket.gethostname()
            and not _alive(record.get("pid"))
        )
    names = {p.name for p in tmp.iterdir()}
    if not names:  # died between making the folder and writing its owner file
        return _age(tmp) > 1.0
    legacy = len(tmp.name) == len(TEMP_PREFIX) + 12  # .tmp-<12 hex>, before owner files
    return legacy and names <= _LEGACY_FILES and _age(tmp) > _LEGACY_AGE


def _written_here(final: Path, owner: str) -> bool:
    record = _read_json(final / OWNER_FILE)
    if record is not None:
        return record.get("store") == owner
    # sds before owner files wrote the manifest (naming this very version) before the rename
    manifest = _read_json(final / "manifest.json") or {}
    return f"{manifest.get('name')}/v{manifest.get('version')}" == (
        f"{final.parent.name}/{final.name}"
    )


def _holder(root: Path) -> str:
    record = _read_json(root / HOLDER_FILE)
    if record is None:
        return "another process (not known)"
    pid, host = record.get("pid"), record.get("host")
    if host == socket.gethostname() and not _alive(pid):
        return "another process (not known)"
    return f"pid {pid} on {host} (since {record.get('since')}: {record.get('command')})"


def _me() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)[:200],
    }


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name == "nt":  # no cheap check: treat as alive (keep its folder)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writable(path: Path) -> bool:
    if path.exists():
        return os.access(path, os.W_OK)
    return os.access(path.parent, os.W_OK)


def _age(path: Path) -> float:
    return time.time() - path.stat().st_mtime


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _atomic_json(path: Path, value: dict[str, Any]) -> None:
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(json.dumps(value, indent=2))
    os.replace(part, path)


def discard_new_store(root: Path, name: str) -> None:
    """Undo a store this process made and registered nothing in (its build failed): the
    empty folder of ``name``, then the store's own files and folder. Only empty folders
    are removed, and nothing at all if anything else is in the store (another writer's)."""
    skeleton = {STORE_FILE, LOCK_FILE, HOLDER_FILE}
    try:
        (root / name).rmdir()
        if {p.name for p in root.iterdir()} - skeleton:
            return
        for file in skeleton:
            (root / file).unlink(missing_ok=True)
        root.rmdir()
    except OSError:  # not empty (or already gone): leave it
        return
