"""Every command in examples/README.md, run as written, in order, on a copy of examples/.

The README's table is the source: each row's command runs from a temporary project root
holding a copy of ``examples/`` (``sds`` commands in this process through
:func:`tests.conftest.invoke`, ``python`` scripts in a child process), must exit 0 and must
write what the row's last column names. ``sds serve`` runs as a real server on a free
port while the rows that talk to ``http://127.0.0.1:8000`` run, and is stopped (its
request log flushed) before the next row.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pandas as pd
import pytest

from sds.serving.deploycheck import free_port
from tests.conftest import invoke
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = EXAMPLES / "README.md"
URL = "http://127.0.0.1:8000"
CELL = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Row:
    shows: str
    command: str
    writes: tuple[str, ...]


def rows() -> list[Row]:
    """The table whose header is ``| What it shows | Command | Writes |``."""
    out, inside = [], False
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if cells[:3] == ["What it shows", "Command", "Writes"]:
            inside = True
        elif inside and line.startswith("|") and not line.startswith("| ---"):
            command = CELL.fullmatch(cells[1])
            assert command and len(cells) == 3, f"a row must be `command` | `path`...: {line}"
            out.append(Row(cells[0], command.group(1), tuple(CELL.findall(cells[2]))))
        elif inside and not line.startswith("|"):
            break
    return out


def test_the_table_names_every_command_and_every_example_file() -> None:
    table = rows()
    assert len(table) >= 20 and all(r.writes for r in table)
    used = {tuple(shlex.split(r.command)[1:3]) for r in table if r.command.startswith("sds ")}
    top = {u[0] for u in used}
    want = {"profile", "design", "assign", "srm", "analyze", "stats", "features", "train"}
    want |= {"evaluate", "serve", "monitor", "canary", "causal"}
    assert want <= top, f"no example for: {sorted(want - top)}"
    named = " ".join(r.command for r in table) + README.read_text()
    files = [p for p in EXAMPLES.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml")]
    for path in files:
        if path.relative_to(EXAMPLES).parts[0] in ("data", "out"):  # generated
            continue
        assert str(path.relative_to(EXAMPLES)) in named, f"{path} is not in examples/README.md"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project root holding a copy of examples/ (without generated data)."""
    skip = shutil.ignore_patterns("data", "out", "__pycache__", ".ipynb_checkpoints")
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=skip)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_example_runs_as_written(project: Path) -> None:
    timings: list[tuple[float, float, str]] = []
    server: Server | None = None
    served: list[str] = []  # a server writes its log once requests arrive: checked at its stop
    try:
        for row in rows():
            args = shlex.split(row.command)
            if server is not None and URL not in row.command:
                server.stop()
                server = None
                _check_written(project, "sds serve", served)
            started, cpu = time.perf_counter(), _cpu()
            if args[:2] == ["sds", "serve"]:
                server, served = Server.start(args[2:], project), list(row.writes)
            else:
                _run(args, server)
                # a live server's request log is written every second, not per request
                _check_written(project, row.command, row.writes, 10.0 if server else 0.0)
            timings.append((time.perf_counter() - started, _cpu() - cpu, row.command[:70]))
    finally:
        if server is not None:
            server.stop()
        for wall, cpu, command in sorted(timings, reverse=True):
            print(f"{wall:6.1f} s ({cpu:5.1f} s CPU)  {command}")
    _check_findings(project)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _check_written(project: Path, command: str, paths: Iterable[str], within: float = 0.0) -> None:
    """Each path exists and is not empty, waiting up to ``within`` seconds for a folder
    that a live server fills."""
    for path in paths:
        written = project / path
        if within and written.is_dir():
            wait_until(partial(_filled, written), within, f"{command!r} writing {path}")
        assert written.exists(), f"{command!r} did not write {path}"
        contents = list(written.iterdir()) if written.is_dir() else written.read_bytes()
        assert contents, f"{command!r} wrote an empty {path}"


def _filled(folder: Path) -> bool:
    return any(folder.iterdir())


def _run(args: list[str], server: Server | None) -> None:
    if server is not None:
        args = [a.replace(URL, server.url) for a in args]
    if args[0] == "sds":
        result = invoke(args[1:])
        assert result.exit_code == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    else:
        assert args[0] == "python", f"a row runs sds or python, not {args[0]}"
        done = subprocess.run(
            [sys.executable, *args[1:]], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])


def _check_findings(project: Path) -> None:
    """What the rows are there to show is what they found."""
    canary = invoke(["canary", "report", "examples/out/requests", "--min-requests", "300",
                     "--latency-ratio-max", "2", "-f", "json"])  # fmt: skip
    report = json.loads(canary.stdout)
    assert report["decision"] == "promote", report["reasons"]
    counts = {r["variant"]: r["requests"] for r in report["variants"]}
    assert sum(counts.values()) == 1500 and min(counts.values()) > 600, counts
    drift = invoke(["monitor", "--reference", "examples/data/churn.parquet", "--data",
                    "examples/out/requests", "-f", "json"])  # fmt: skip
    features = {f["feature"]: f for f in json.loads(drift.stdout)["features"]}
    assert features["monthly_charges"]["status"] != "ok"  # the planted 15% rise
    assert features["age"]["status"] == "ok"
    built = json.loads((project / "examples/out/features_build.json").read_text())
    assert built["rows"] == len(pd.read_parquet(project / "examples/data/labels.parquet"))


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, args: list[str], project: Path) -> Server:
        port = free_port()
        command = [sys.executable, "-m", "sds.cli.main", "serve", *args, "--port", str(port)]
        with (project / "server.out").open("w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        server = cls(f"http://127.0.0.1:{port}", process)

        def ready() -> bool:
            assert process.poll() is None, (project / "server.out").read_text()
            return server.ready()

        with _stopped_on_error(server):
            wait_until(ready, 90, "the server answers /ready")
        return server

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C would: the server flushes its request log and exits 0."""
        self.process.terminate()
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        assert code == 0, f"the server exited {code}"


@contextmanager
def _stopped_on_error(server: Server) -> Iterator[None]:
    try:
        yield
    except BaseException:
        server.process.kill()
        server.process.wait()
        raise
