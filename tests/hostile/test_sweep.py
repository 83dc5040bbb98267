"""Every ``sds`` command fed the usual bad inputs (generated: see ``sweep_cases`` and
``sweep_commands``): exit 2, exactly one ``error: ...`` line on stderr, no traceback, and
nothing written where ``-o`` pointed. Cases declared usable must succeed instead.

The commands come from the CLI itself, so a new command without a sweep entry fails here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import invoke
from tests.hostile.sweep_cases import Case, Workspace, cases
from tests.hostile.sweep_commands import COMMANDS, GLOBAL

pytestmark = pytest.mark.hostile

CASES = cases(COMMANDS) + [Case("sds", label, args) for label, args in GLOBAL]


def _cli_commands() -> set[str]:
    """Every leaf command of the ``sds`` app, as ``"causal did"``."""
    import typer.main

    from sds.cli.main import app

    def walk(command: Any, prefix: str) -> Iterator[str]:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            yield prefix
            return
        for name, sub in subcommands.items():
            yield from walk(sub, f"{prefix} {name}".strip())

    return set(walk(typer.main.get_command(app), ""))


def test_every_cli_command_has_a_case_generator() -> None:
    swept = {c.name for c in COMMANDS}
    assert _cli_commands() - swept == set(), "add these commands to tests/hostile/sweep_commands"
    assert swept - _cli_commands() == set(), "these sweep entries name no command"
    per_command = {name: sum(c.command == name for c in CASES) for name in swept}
    assert min(per_command.values()) >= 5, per_command
    assert len(CASES) >= 500


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("sweep"))


def build_workspace(root: Path) -> Workspace:
    """The good files every case starts from, a small trained model and feature store."""
    from sds.data import synth

    ws = Workspace(root)
    rng = np.random.default_rng(0)
    ws.table("ab", synth.make_ab_test(n_users=400, seed=1))
    n = 400
    x = rng.normal(size=(n, 2))
    z = (rng.random(n) < 0.5).astype(int)
    t = (rng.random(n) < 1 / (1 + np.exp(-x[:, 0] - z))).astype(int)
    ws.table("obs", pd.DataFrame({"y": t + x[:, 0] + rng.normal(size=n), "t": t, "z": z,
                                  "x1": x[:, 0], "x2": x[:, 1], "label": "a"}))  # fmt: skip
    ws.table("panel", synth.make_panel(n_units=30, seed=2, staggered=True).assign(label="a"))
    s = rng.uniform(-1, 1, n)
    ws.table("rd", pd.DataFrame({"score": s, "y": (s >= 0) * 2 + s + rng.normal(size=n),
                                 "label": "a"}))  # fmt: skip
    churn = synth.make_churn(800, seed=3)
    ws.table("churn", churn.iloc[:400].reset_index(drop=True))
    ws.table("churn2", churn.iloc[400:].reset_index(drop=True))
    ws.table("events", synth.make_transactions(60, seed=2, months=6))
    ws.table("log", _request_log(rng))
    _specs(ws)
    _model_and_store(ws)
    return ws


def _request_log(rng: np.random.Generator) -> pd.DataFrame:
    parts = [
        pd.DataFrame({"ts": np.arange(300, dtype=float), "variant": variant,
                      "model_version": "v", "status": 200,
                      "latency_ms": rng.gamma(4, 1.5, 300), "prediction": rng.random(300)})
        for variant in ("champion", "challenger")
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _specs(ws: Workspace) -> None:
    ws.spec("dspec", {"metric": "proportion", "baseline": 0.05, "mde": 0.1})
    analysis = {"data": ws.paths["ab"], "unit": "user_id", "variant": "variant",
                "control": "control", "resamples": 200,
                "metrics": [{"name": "conversion", "type": "proportion", "column": "converted"},
                            {"name": "revenue", "type": "mean", "column": "revenue"}]}  # fmt: skip
    ws.spec("aspec", analysis)
    ws.spec("aspec_resamples", {**analysis, "resamples": 10**30})
    aggregations = [{"column": "amount", "functions": ["nonnull", "sum"]}]
    ws.spec("fspec", {"name": "fs", "data": ws.paths["events"], "entity": "customer_id",
                      "timestamp": "ts", "cutoff": "2025-05-01", "windows": ["30d"],
                      "aggregations": aggregations})  # fmt: skip
    train = {"name": "churn", "data": ws.paths["churn"], "target": "churned",
             "drop": ["customer_id", "retention_call", "referral_code"],
             "candidates": [{"name": "logistic", "tune": False}]}  # fmt: skip
    ws.spec("tconf", train)
    ws.spec("tconf_trials", {**train, "candidates": ["logistic"], "tuning": {"trials": 10**30}})
    ws.spec("scorecard", {"auc_min": 0.5})


def _model_and_store(ws: Workspace) -> None:
    from sds.config import read_mapping
    from sds.features.spec import parse
    from sds.features.store import FeatureStore
    from sds.models.run import train_model

    train_model(read_mapping(ws.paths["tconf"]), output=ws.root / "model", track=False)
    ws.paths["model"] = str(ws.root / "model")
    store = ws.root / "store"
    FeatureStore(store).register(parse(read_mapping(ws.paths["fspec"])), ws.paths["events"], None)
    ws.paths["store"] = str(store)
    ws.paths["a_dir"] = str(ws.root / "a_dir")
    (ws.root / "a_dir").mkdir()
    ws.paths["a_file"] = str(ws.root / "a_file.txt")
    (ws.root / "a_file.txt").write_text("not a folder\n")


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sds serve`` cases must never bind: a check that lets a bad input through reaches
    this stub, which returns at once (the case then exits 0 and is reported)."""
    import granian

    class _NoServer:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def serve(self, *args: Any, **kwargs: Any) -> None:
            return None

    monkeypatch.setattr(granian, "Granian", _NoServer)


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def _args(case: Case, ws: Workspace, folder: Path) -> list[str]:
    values = {**ws.paths, "out_dir": str(folder / "out"), "out": str(folder / "out" / "r.json"),
              "port": _free_port() if case.command == "serve" else "8000"}  # fmt: skip
    if case.fault:
        values["bad"] = str(ws.bad_table(*case.fault, folder))
    if case.spec_fault:
        values["bad"] = str(ws.bad_spec(*case.spec_fault, folder))
    return [a.format(**values) for a in case.args]


def _marks(case: Case) -> list[Any]:
    return [pytest.mark.slow] if case.slow else []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_marks(c)) for c in CASES])
def test_bad_input_is_one_error_line_and_writes_nothing(
    case: Case, workspace: Workspace, tmp_path: Path, no_server: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a default output (reports/, models/) lands here
    monkeypatch.delenv("SDS_SWEEP_UNSET_KEY", raising=False)
    a_file = Path(workspace.paths["a_file"]).read_text()
    args = _args(case, workspace, tmp_path)
    res = invoke(args)
    assert "Traceback" not in res.stderr, res.stderr
    if case.usable:
        assert res.exit_code == 0, f"sds {' '.join(args)}\n{res.stderr}"
        return
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    expected = 1 if case.refused else 2
    assert (res.exit_code, len(lines)) == (expected, 1) and lines[0].startswith("error: "), (
        f"sds {' '.join(args)}\nexit {res.exit_code}\n{res.stderr}"
    )
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir()), list(out.rglob("*"))
    assert Path(workspace.paths["a_file"]).read_text() == a_file
    leftovers = {p.name for p in tmp_path.iterdir()} - {"out", "absent", "a_folder"}
    assert not {n for n in leftovers if not n.startswith(tuple(_inputs(case)))}, leftovers


def _inputs(case: Case) -> list[str]:
    """Names of the files the case itself made in its folder (its faulty input)."""
    names = [f"{case.fault[0]}_"] if case.fault else []
    return names + ([f"{case.spec_fault[0]}_", "spec_folder"] if case.spec_fault else [])
