"""``-o`` writes a file and only a file: folders are refused and left alone, symlinks are
written through, devices and pipes are written into, and temporary files never outlive a
run (failed, interrupted, or killed and followed by another run)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import invoke
from tests.waiting import wait_until

pytestmark = pytest.mark.hostile

SRM = ["srm", "--counts", "50500,49500"]
ASSIGN = ["assign", "--experiment", "e", "--variants", "a,b"]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _folder_with_data(path: Path) -> Path:
    path.mkdir()
    (path / "precious.txt").write_text("years of work")
    (path / "sub").mkdir()
    (path / "sub" / "more.txt").write_text("more")
    return path


def _assert_intact(path: Path) -> None:
    assert path.is_dir()
    assert (path / "precious.txt").read_text() == "years of work"
    assert (path / "sub" / "more.txt").read_text() == "more"


@pytest.mark.parametrize(
    "command",
    [SRM, ["profile", "{csv}"]],
    ids=["srm", "profile"],
)
def test_a_folder_target_is_refused_and_kept(
    tmp_path: Path, csv_file: Path, command: list[str]
) -> None:
    folder = _folder_with_data(tmp_path / "out.json")
    args = [a.format(csv=csv_file) for a in command]
    res = invoke([*args, "-o", str(folder)])
    assert res.exit_code == 2, res.stderr
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert str(folder) in res.stderr and "is a folder" in res.stderr
    _assert_intact(folder)
    assert _names(tmp_path) == sorted(["out.json", csv_file.name])


def test_engine_write_refuses_a_folder_that_is_not_a_spark_output(
    tmp_path: Path, csv_file: Path
) -> None:
    folder = _folder_with_data(tmp_path / "dir.csv")
    (folder / "_SUCCESS").write_text("")  # looks like Spark's, but holds other files too
    res = invoke([*ASSIGN, "--data", str(csv_file), "--data-output", str(folder)])
    assert res.exit_code == 2, res.stderr
    assert "dir.csv: is a folder" in res.stderr and res.stderr.count("\n") == 1
    _assert_intact(folder)
    assert _names(tmp_path) == sorted(["dir.csv", csv_file.name])


def test_engine_write_replaces_an_earlier_spark_output_folder(
    tmp_path: Path, csv_file: Path
) -> None:
    folder = tmp_path / "assigned.csv"
    folder.mkdir()
    for name in ("_SUCCESS", "._SUCCESS.crc", "part-00000-x-c000.csv", ".part-00000-x.csv.crc"):
        (folder / name).write_text("old")
    res = invoke([*ASSIGN, "--data", str(csv_file), "--data-output", str(folder)])
    assert res.exit_code == 0, res.stderr
    assert folder.is_file() and len(pd.read_csv(folder)) == 2_000
    assert _names(tmp_path) == sorted(["assigned.csv", csv_file.name])


@pytest.mark.parametrize("kind", ["report", "table"])
def test_a_symlink_is_written_through(tmp_path: Path, csv_file: Path, kind: str) -> None:
    links, reals = tmp_path / "links", tmp_path / "reals"
    links.mkdir()
    reals.mkdir()
    suffix = ".json" if kind == "report" else ".csv"
    real, link = reals / f"real{suffix}", links / f"link{suffix}"
    real.write_text("old content")
    link.symlink_to(Path("..") / "reals" / real.name)
    args = [*SRM, "-o"] if kind == "report" else [*ASSIGN, "--data", str(csv_file), "--data-output"]
    res = invoke([*args, str(link)])
    assert res.exit_code == 0, res.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "reals" / real.name)
    assert real.is_file() and not real.is_symlink()
    text = real.read_text()
    assert "old content" not in text
    assert ("50500" in text) if kind == "report" else text.startswith("user_id")
    assert _names(links) == [link.name] and _names(reals) == [real.name]  # no temp file left


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_replacing_a_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "private.json"
    target.write_text("old")
    target.chmod(mode)
    assert invoke([*SRM, "-o", str(target)]).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == mode


class _FifoReader:
    """Reads everything written to a FIFO in a thread; unblocks itself if nobody writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fifo:
            self.data = fifo.read()

    def finish(self) -> bytes:
        if self.thread.is_alive():  # the writer never opened it: open it so open() returns
            with contextlib.suppress(OSError):  # unless it no longer waits in open()
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        return self.data


@pytest.mark.parametrize("kind", ["report", "table"])
def test_a_fifo_target_is_written_into(tmp_path: Path, csv_file: Path, kind: str) -> None:
    fifo = tmp_path / ("out.json" if kind == "report" else "out.csv")
    os.mkfifo(fifo)
    reader = _FifoReader(fifo)
    args = [*SRM, "-o"] if kind == "report" else [*ASSIGN, "--data", str(csv_file), "--data-output"]
    res = invoke([*args, str(fifo)])
    data = reader.finish()
    assert res.exit_code == 0, res.stderr
    if kind == "report":
        assert json.loads(data)["counts"] == [50500, 49500]
    else:
        lines = data.decode().splitlines()
        assert lines[0].startswith("user_id") and len(lines) == 2_001
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _names(tmp_path) == sorted([fifo.name, csv_file.name])


@pytest.mark.parametrize("name", ["null.json", "null.csv"])
def test_a_character_device_stays_a_device(tmp_path: Path, csv_file: Path, name: str) -> None:
    node = tmp_path / name
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    args = (
        [*SRM, "-o"]
        if name.endswith(".json")
        else [*ASSIGN, "--data", str(csv_file), "--data-output"]
    )
    res = invoke([*args, str(node)])
    assert res.exit_code == 0, res.stderr
    st = os.lstat(node)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert _names(tmp_path) == sorted([name, csv_file.name])


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "300"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()  # reaped: the pid names no process now
    return proc.pid


def test_stale_temp_files_go_and_live_ones_stay(tmp_path: Path, live_pid: int) -> None:
    target = tmp_path / "out.json"
    dead = tmp_path / f".out.json.{_dead_pid()}.ab12cd34.tmp"
    live = tmp_path / f".out.json.{live_pid}.ab12cd34.tmp"
    legacy_old = tmp_path / ".out.json.k2j4h5g6.tmp"  # an older sds: no pid in the name
    legacy_new = tmp_path / ".out.json.z9y8x7w6.tmp"
    others = [tmp_path / ".out.json.backup", tmp_path / f".out.json.x.{_dead_pid()}.ab12cd34.tmp"]
    for path in [dead, live, legacy_old, legacy_new, *others]:
        path.write_bytes(b"x" * 1000)
    two_days_ago = time.time() - 2 * 86_400
    os.utime(legacy_old, (two_days_ago, two_days_ago))
    res = invoke([*SRM, "-o", str(target)])
    assert res.exit_code == 0, res.stderr
    expected = [target, live, legacy_new, *others]
    assert _names(tmp_path) == sorted(p.name for p in expected)


def test_a_stale_spark_temp_folder_goes(tmp_path: Path, csv_file: Path) -> None:
    stale = tmp_path / f".out.csv.{_dead_pid()}.0f0f0f0f.tmp"
    stale.mkdir()
    (stale / "part-00000.csv").write_bytes(b"x" * 1000)
    res = invoke([*ASSIGN, "--data", str(csv_file), "--data-output", str(tmp_path / "out.csv")])
    assert res.exit_code == 0, res.stderr
    assert _names(tmp_path) == sorted(["out.csv", csv_file.name])


# A run that holds still just before renaming its complete temporary file into place; the
# parent signals it there, then checks what is left.
_HOLD = textwrap.dedent(
    """
    import os, signal, sys
    from sds.cli.main import run

    real_replace = os.replace

    def replace(src, dst):
        if str(src).endswith(".tmp"):
            print("writing", flush=True)
            signal.pause()  # until the parent's signal; its handler raises
        real_replace(src, dst)

    os.replace = replace
    run(sys.argv[1:])
    """
)


@pytest.mark.parametrize(
    ("kind", "signum", "code", "word"),
    [
        ("report", signal.SIGTERM, 143, "terminated"),
        ("report", signal.SIGINT, 130, "interrupted"),  # Ctrl-C
        ("table", signal.SIGTERM, 143, "terminated"),
    ],
)
def test_a_signal_mid_write_leaves_no_temp_file_and_the_old_output(
    tmp_path: Path, csv_file: Path, kind: str, signum: int, code: int, word: str
) -> None:
    target = tmp_path / ("out.json" if kind == "report" else "out.csv")
    target.write_text("the earlier good output")
    args = [*SRM, "-o"] if kind == "report" else [*ASSIGN, "--data", str(csv_file), "--data-output"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, "--no-progress", *args, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line == "writing\n", proc.communicate(timeout=60)
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) == 1 and temps[0].stat().st_size > 0
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code, err
    assert err == f"error: {word}\n"
    assert target.read_text() == "the earlier good output"
    assert _names(tmp_path) == sorted([target.name, csv_file.name])
    assert temps[0].name.startswith(f".{target.name}.{proc.pid}.")  # a later run can tell


@pytest.mark.slow
def test_a_signal_cancels_a_long_engine_write_cleanly(tmp_path: Path) -> None:
    """DuckDB notices the signal itself, cancels the query and raises its own error: still
    exit 143 with one line, no temporary file, the old output intact."""
    target = tmp_path / "out.csv"
    target.write_text("the earlier good output")
    endless = "select range as user_id from range(1000000000)"  # minutes of writing
    cmd = [sys.executable, "-m", "sds.cli.main", "--no-progress", *ASSIGN, "--data", endless]
    proc = subprocess.Popen([*cmd, "--data-output", str(target)], stderr=subprocess.PIPE, text=True)
    try:

        def writing() -> bool:
            assert proc.poll() is None, proc.communicate()
            return any(p.name.endswith(".tmp") and p.stat().st_size for p in tmp_path.iterdir())

        wait_until(writing, 120, "the engine writes its first bytes")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert (proc.returncode, err) == (143, "error: terminated\n")
    assert target.read_text() == "the earlier good output"
    assert _names(tmp_path) == ["out.csv"]


def test_a_dotdot_through_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    target = work / "sub" / ".." / "r.json"
    res = invoke([*SRM, "-o", str(target)])
    assert res.exit_code == 2, res.stderr
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "sub/.." in res.stderr and "does not exist" in res.stderr
    assert _names(work) == []  # no 'sub' folder left behind, no file
    (work / "sub").mkdir()  # once the folder is there, the path is an ordinary one
    res = invoke([*SRM, "-o", str(target)])
    assert res.exit_code == 0, res.stderr
    assert _names(work) == ["r.json", "sub"] and "50500" in (work / "r.json").read_text()


def test_missing_folders_of_a_new_output_are_still_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "r.json"
    res = invoke([*SRM, "-o", str(target)])
    assert res.exit_code == 0, res.stderr
    assert "50500" in target.read_text()
