import os
import stat
from pathlib import Path

import pytest

from sds.report.files import format_for_path, write_atomic


def test_write_atomic_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.json"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & 0o044, "readable by group/others under the usual umask"


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    write_atomic(target, "good")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "bad")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_format_for_path() -> None:
    assert format_for_path("a.JSON") == "json"
    assert format_for_path("a.md") == "markdown"
    assert format_for_path("a.html") == "html"
    assert format_for_path("a.out") == "text"
