"""The demo's serving chapter leaves no server behind when it is interrupted: Ctrl-C
(SIGINT) arrives while the live load runs, the chapter unwinds, and the server and its
workers are gone. (The whole demo, every chapter and the servers gone after a normal run,
is ``tests/cli/test_main.py::test_demo_writes_report``.) Without a PostgreSQL server the
in-database chapter is left out with one line saying how to get one."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sds.data import synth
from sds.models.run import train_model
from tests.waiting import wait_until

CHILD = """
import sys
from pathlib import Path
from sds.interrupts import Interrupted, install_handlers
from sds.cli.demo_serving import serving_chapters

install_handlers()
try:
    serving_chapters(Path(sys.argv[1]), 0, requests=10_000_000)
except Interrupted:
    sys.exit(130)
sys.exit(0)
"""


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        if text in command and "sds.cli.main" in command:
            found.append(command)
    return found


def _port(command: str) -> int:
    words = command.split()
    return int(words[words.index("--port") + 1])


def _ready(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _answered(port: int) -> float:
    """Requests the server has answered, from its Prometheus metrics."""
    import httpx

    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
    except httpx.TransportError:
        return 0.0
    lines = [ln for ln in text.splitlines() if ln.startswith("sds_requests_total")]
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in lines)


def test_ctrl_c_during_the_live_load_stops_the_server(tmp_path: Path) -> None:
    data = tmp_path / "churn.parquet"
    synth.make_churn(600, seed=0).to_parquet(data)
    config = {
        "name": "churn",
        "data": str(data),
        "target": "churned",
        "drop": ["customer_id", "retention_call"],
        "candidates": ["logistic"],
        "tuning": {"trials": 1, "folds": 2},
    }
    train_model(config, output=tmp_path / "models" / "churn", track=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def running(count: int) -> list[str] | None:
            assert child.poll() is None, child.communicate()[1]
            found = _processes_mentioning(str(tmp_path))
            return found if len(found) >= count else None

        port = _port(wait_until(lambda: running(2), 120, "the server and its worker start")[0])
        wait_until(lambda: running(2) and _ready(port), 120, "the server answers /ready")
        wait_until(lambda: running(2) and _answered(port) > 0, 60, "the live load is answered")
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert _processes_mentioning(str(tmp_path)) == []


def test_without_a_postgres_server_the_chapter_says_how_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sds.cli import demo_warehouse

    monkeypatch.delenv(demo_warehouse.ENV, raising=False)
    monkeypatch.setenv("SDS_PG_BINDIR", str(tmp_path))  # a folder without the binaries
    assert demo_warehouse.warehouse_chapters(tmp_path, seed=0, users=20_000) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert demo_warehouse.ENV in err[0] and "apt-get install postgresql" in err[0]
    assert not (tmp_path / "data").exists()  # nothing generated for a chapter not run
