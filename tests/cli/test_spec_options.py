"""Options derived from the specs, the one vocabulary, and errors named as typed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import pytest
import typer
from pydantic import Field
from scipy import stats

from sds.cli.main import _command
from sds.cli.spec_options import spec_command
from sds.config import StrictModel, literal_choices
from sds.experiments.assign import assign
from sds.experiments.design_spec import DesignSpec
from sds.params import Rule
from sds.stats.spec import StatsSpec
from tests.conftest import invoke

ROOT = Path(__file__).resolve().parents[2]
ASSIGN = ["assign", "--experiment", "e1", "--variants", "control,treatment"]


def _command_at(*path: str) -> Any:
    command = _command()
    for name in path:
        command = command.commands[name]
    return command


def _options(*path: str) -> dict[str, Any]:
    return {p.name: p for p in _command_at(*path).params}


def _one_error(res: Any) -> str:
    assert res.exit_code == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    return str(lines[0])


@pytest.mark.parametrize("sub", ["proportion", "mean", "ratio"])
def test_design_help_lists_every_spec_field_with_its_description(sub: str) -> None:
    options = _options("design", sub)
    for name, field in DesignSpec.model_fields.items():
        if name == "metric":  # fixed by the subcommand
            assert name not in options
            continue
        option = options[name]
        assert f"--{name.replace('_', '-')}" in option.opts
        assert option.help.startswith(field.description.rstrip(".")), name
        choices = literal_choices(field.annotation)
        if choices:
            assert literal_choices(option.type_descriptor.annotation) == choices
        if not option.is_flag and field.default is not None:
            assert option.default == field.default
    res = invoke(["design", sub, "--help"])
    assert res.exit_code == 0
    flat = " ".join(res.stdout.split())
    for name in DesignSpec.model_fields:
        if name != "metric":
            assert f"--{name.replace('_', '-')}" in flat


def test_stats_options_are_the_spec_fields() -> None:
    options = _options("stats")
    assert {p.name for p in _command_at("stats").params if p.param_type_name == "argument"} == {
        "test"
    }
    for name, field in StatsSpec.model_fields.items():
        assert options[name].help.startswith(field.description.rstrip(".")), name
    assert {"data", "table", "encoding", "fmt", "output"} <= set(options)
    assert options["data"].required


@pytest.mark.parametrize(
    "path",
    [("stats",), ("srm",), ("assign",), ("analyze",), ("design", "proportion")],
)
def test_commands_that_read_a_table_take_table_and_encoding(path: tuple[str, ...]) -> None:
    options = _options(*path)
    assert {"data", "table", "encoding"} <= set(options)


class Toy(StrictModel):
    """A spec made up for the builder's test."""

    column: str = Field(description="A required column.")
    kind: Literal["a", "b"] = Field("a", description="The kind.")
    shares: Annotated[list[float] | None, Rule("weight")] = Field(None, description="Shares.")
    level: Annotated[float, Rule("alpha")] = Field(0.05, description="A level.")


def test_builder_declares_required_choices_lists_and_defaults() -> None:
    seen: list[Toy] = []
    app = typer.Typer()

    @app.command()
    @spec_command(Toy)
    def run(spec: Toy) -> None:
        seen.append(spec)

    click_command = typer.main.get_command(app)
    params = {p.name: p for p in click_command.params}
    assert params["column"].required and not params["kind"].required
    assert literal_choices(params["kind"].type_descriptor.annotation) == ("a", "b")
    assert params["level"].default == 0.05
    click_command.main(["--column", "y", "--shares", "0.3,0.7"], standalone_mode=False)
    assert seen[-1] == Toy(column="y", shares=[0.3, 0.7])
    with pytest.raises(Exception, match="Missing parameter: column"):
        click_command.main([], standalone_mode=False)
    with pytest.raises(Exception, match="'c' is not one of 'a', 'b'"):
        click_command.main(["--column", "y", "--kind", "c"], standalone_mode=False)


def test_renamed_design_option_arms() -> None:
    res = invoke(["design", "proportion", "--baseline", "0.05", "--mde", "0.1", "--arms", "3"])
    assert res.exit_code == 0, res.stderr
    res = invoke(
        ["design", "proportion", "--baseline", "0.05", "--mde", "0.1", "--arms", "3", "-f", "json"]
    )
    plan = json.loads(res.stdout)
    assert len(plan["n_per_variant"]) == 3 and plan["correction"] == "holm"


@pytest.mark.parametrize(
    ("args", "old"),
    [
        (
            ["design", "proportion", "--baseline", "0.05", "--mde", "0.1", "--variants", "3"],
            "--variants",
        ),
        ([*ASSIGN, "--ids", "1", "--weights", "50,50"], "--weights"),
        (["srm", "--counts", "50,50", "--weights", "0.5,0.5"], "--weights"),
        (["srm", "--counts", "50,50", "--threshold", "0.01"], "--threshold"),
    ],
)
def test_old_option_names_are_no_such_option(args: list[str], old: str) -> None:
    line = _one_error(invoke(args))
    assert f"No such option: {old}" in line


def test_srm_alpha_and_shares() -> None:
    res = invoke(
        ["srm", "--counts", "520,480", "--shares", "0.5,0.5", "--alpha", "0.01", "-f", "json"]
    )
    assert res.exit_code == 0, res.stderr
    reference = stats.chisquare([520, 480], [500, 500]).pvalue  # 0.2059
    assert json.loads(res.stdout)["p_value"] == pytest.approx(reference, rel=1e-12)
    line = _one_error(invoke(["srm", "--counts", "50,50", "--alpha", "2"]))
    assert "--alpha == 2.0, must be < 1" in line and "srm_threshold" not in line
    assert "--shares == 50,40, must sum to 1" in _one_error(
        invoke(["srm", "--counts", "50,50", "--shares", "50,40"])
    )


@pytest.mark.parametrize(
    ("args", "typed"),
    [
        (
            ["design", "proportion", "--baseline", "0.05", "--mde", "0.1", "--alpha", "2"],
            "--alpha == 2.0",
        ),
        (
            ["design", "mean", "--std", "5", "--mde", "1", "--absolute", "--n-per-variant", "1"],
            "--n-per-variant == 1.0",
        ),
        (["--engine", "duckdb", "srm", "--counts", "5,5", "--alpha", "0"], "--alpha == 0.0"),
        (["--memory-limit", "lots", "srm", "--counts", "5,5"], "--memory-limit == 'lots'"),
        (
            ["stats", "ttest", "--data", "{csv}", "--value", "y", "--group", "g", "--alpha", "1"],
            "--alpha == 1.0",
        ),
        (
            ["stats", "ttest", "--data", "{csv}", "--value", "y", "--group", "g", "--mu", "inf"],
            "--mu == inf",
        ),
    ],
)
def test_errors_name_the_option_as_typed(tmp_path: Path, args: list[str], typed: str) -> None:
    csv = tmp_path / "d.csv"
    pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "g": list("aaabbb")}).to_csv(csv, index=False)
    line = _one_error(invoke([a.replace("{csv}", str(csv)) for a in args]))
    assert typed in line, line


def test_assign_shares_data_output_and_format(tmp_path: Path) -> None:
    res = invoke([*ASSIGN, "--ids", "a,b,c", "--shares", "20,80", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    got = json.loads(res.stdout)
    expected = assign(["a", "b", "c"], "e1", ["control", "treatment"], [20, 80])
    assert [row["variant"] for row in got["assignments"]] == expected
    assert sum(v["units"] for v in got["variants"]) == 3
    units = tmp_path / "units.csv"
    pd.DataFrame({"user_id": range(300), "note": ["é"] * 300}).to_csv(
        units, index=False, encoding="latin-1"
    )
    table, summary = tmp_path / "assigned.parquet", tmp_path / "summary.json"
    res = invoke(
        [
            *[*ASSIGN, "--data", str(units), "--encoding", "latin-1"],
            *["--data-output", str(table), "--output", str(summary)],
        ]
    )
    assert res.exit_code == 0, res.stderr
    assert len(pd.read_parquet(table)) == 300
    assert json.loads(summary.read_text())["output"] == str(table)


def test_seed_scripts_validate_through_the_spec(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "g": list("aaabbb")}).to_csv(data, index=False)
    config = tmp_path / "c.yaml"
    config.write_text("alpha: 2\n")
    stats = [sys.executable, str(ROOT / "scripts/statistical_analyzer.py"), "--data", str(data)]
    proc = subprocess.run(
        [*stats, "-o", str(tmp_path / "r.json"), "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "alpha == 2.0, must be < 1" in proc.stderr, proc.stderr
    config.write_text("correction: hochberg\n")
    proc = subprocess.run(
        [*stats, "-o", str(tmp_path / "r.json"), "-c", str(config), "--equal-var", "--test", "t"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["test"].startswith("Student")
    config.write_text("defaults:\n  variants: 3\n")
    proc = subprocess.run(
        [
            *[sys.executable, str(ROOT / "scripts/experiment_designer.py")],
            *["-i", str(ROOT / "examples/designs"), "-o", str(tmp_path / "plans")],
            *["-c", str(config)],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "unknown key 'defaults.variants'" in proc.stderr
    assert str(config) in proc.stderr


def test_canary_takes_data_or_log_once(tmp_path: Path) -> None:
    line = _one_error(invoke(["canary", "report"]))
    assert "give the request log once, as LOG or --data" in line
    line = _one_error(invoke(["canary", "report", str(tmp_path), "--data", str(tmp_path)]))
    assert "--data" in line
