"""A newcomer's first minutes: the distribution name and install lines, ``sds --version``,
shell completion, terminal tables that fit the width without splitting a number, the
training progress naming the candidate being tuned, and no third-party log lines."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sds
from sds.data.spark import INSTALL_HINT
from sds.data.synth import make_churn
from sds.models.train import fit_candidates, load_config, prepare
from sds.progress import Steps
from sds.report.render import render_markdown
from sds.report.sections import KeyValue, Table
from sds.report.text import fit_widths, render_text
from tests.conftest import CliResult, invoke

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str]) -> tuple[int, str, str]:
    result: CliResult = invoke(args)
    return result.exit_code, result.stdout, result.stderr


# --- the distribution name and the install lines ----------------------------------------


def test_distribution_is_sds_toolkit_with_the_sds_package_and_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["name"] == "sds-toolkit"
    assert project["project"]["scripts"] == {"sds": "sds.cli.main:run"}
    assert "version" in project["project"]["dynamic"]  # one source: sds.version
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "sds.version.__version__"}


def _install_texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "docs").rglob("*.md"))]
    return files + sorted((ROOT / "src").rglob("*.py"))


def test_no_install_line_names_the_other_pypi_project() -> None:
    old = re.compile(r"pip install (?:-e )?['\"]?sds(?:\[|['\"\s]|$)|(?<![\w.-])sds\[\w+\]")
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in _install_texts()
        for line in path.read_text(encoding="utf-8").splitlines()
        if old.search(line)
    ]
    assert found == []
    # the hints name the distribution that is ours
    assert "pip install 'sds-toolkit[spark]'" in INSTALL_HINT
    hints = re.findall(r"pip install '([\w-]+)\[", _read_src())
    assert hints and set(hints) == {"sds-toolkit"}
    assert "pip install -e '.[spark]'" in (ROOT / "docs" / "spark.md").read_text()


def _read_src() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py")))


def test_the_old_pattern_is_caught() -> None:
    old = re.compile(r"pip install (?:-e )?['\"]?sds(?:\[|['\"\s]|$)|(?<![\w.-])sds\[\w+\]")
    assert old.search("pip install 'sds[spark]'") and old.search("pip install sds[text]")
    assert old.search("needs (sds[shap])") and old.search("pip install sds")
    assert not old.search("pip install 'sds-toolkit[spark]'")
    assert not old.search("pip install -e '.[spark]'")


# --- --version and completion ------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_sds_and_the_version(flag: str) -> None:
    code, out, err = run([flag])
    assert (code, out, err) == (0, f"sds {sds.__version__}\n", "")


def test_version_wins_over_a_command() -> None:
    code, out, _ = run(["--version", "stats", "--help"])
    assert (code, out) == (0, f"sds {sds.__version__}\n")


def test_completion_is_offered_and_prints_a_bash_script() -> None:
    code, out, _ = run(["--help"])
    assert code == 0 and "--install-completion" in out and "--show-completion" in out
    # --show-completion is a flag: typer finds the shell by walking up the process tree
    # (shellingham), so the script is asked for from a real bash, as a user's terminal does
    # (in-process, the nearest shell is whatever started pytest: make's /bin/sh in CI).
    sds = Path(sys.executable).with_name("sds")
    done = subprocess.run(
        ["bash", "-c", f"'{sds}' --show-completion; exit $?"],  # not exec'd: bash stays parent
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "_SDS_COMPLETE=complete_bash" in done.stdout
    assert "complete -o default -F" in done.stdout


# --- terminal tables ---------------------------------------------------------------------

NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})*|\d+)?(\.\d+)?([eE][-+]?\d+)?%?$")


def _numbers(markdown: str) -> set[str]:
    """Every number in a Markdown rendering (no wrapping there): the words that must stay
    whole in the text."""
    words = (w.strip("(),;[]") for line in markdown.splitlines() for w in line.split())
    return {w for w in words if any(ch.isdigit() for ch in w) and NUMBER.match(w)}


def _words(text: str) -> set[str]:
    cleaned = re.sub(r"[│┃┆┊|]", " ", text)
    return {w.strip("(),;[]") for w in cleaned.split()}


@pytest.fixture(scope="module")
def long_numbers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame(
        {
            "variant": np.where(np.arange(n) % 2 == 0, "control", "treatment"),
            "revenue_per_user_in_euros": rng.normal(12_345.678901, 2_000.123456, n),
            "tiny_rate": rng.normal(0.0000123456, 0.00000345678, n),
            "a_long_free_text_description_column": [
                f"customer {i} wrote a long sentence about the product" for i in range(n)
            ],
        }
    )
    path = tmp_path_factory.mktemp("polish") / "long.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize(
    "command",
    [
        ["stats", "ttest", "--value", "revenue_per_user_in_euros", "--group", "variant"],
        ["profile"],
    ],
    ids=["stats", "profile"],
)
def test_terminal_tables_fit_and_never_split_a_number(
    long_numbers: Path, columns: int, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [str(long_numbers)] if command == ["profile"] else ["--data", str(long_numbers)]
    code, markdown, _ = run([*command, *data, "--format", "markdown"])
    assert code == 0
    if command == ["profile"]:  # the terminal shows a shorter layout: its numbers stay whole
        result = sds.profile(str(long_numbers))
        markdown = render_markdown(result.title, result.text_sections())
    monkeypatch.setenv("COLUMNS", str(columns))
    code, text, _ = run([*command, *data])
    assert code == 0
    assert max(len(line) for line in text.splitlines()) <= columns
    expected = _numbers(markdown)
    assert len(expected) > 10
    assert expected - _words(text) == set()


def test_a_table_too_wide_for_the_terminal_turns_into_key_value_blocks() -> None:
    columns = [f"statistic_{i}" for i in range(8)]
    row = [0.0986031 + i * 1e-7 for i in range(8)]
    sections = [Table("Effects", columns, [row, row])]
    text = render_text("Result", sections, width=60)
    assert "Effects (1 of 2)" in text and "Effects (2 of 2)" in text
    assert max(len(line) for line in text.splitlines()) <= 60
    assert {f"{v:.6g}" for v in row} <= _words(text)
    wide = render_text("Result", sections, width=200)  # fits: one table
    assert "(1 of 2)" not in wide and {f"{v:.6g}" for v in row} <= _words(wide)


def test_text_wraps_at_spaces_and_the_width_comes_from_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    note = "a long explanation " * 12 + "p=0.0312345"
    sections = [KeyValue("Summary", [("verdict", note), ("p_value", 0.0312345)])]
    monkeypatch.setenv("COLUMNS", "70")
    text = render_text("Result", sections)
    assert max(len(line) for line in text.splitlines()) == 70
    assert "p=0.0312345" in _words(text) and "explanation" in _words(text)
    monkeypatch.delenv("COLUMNS")  # not a terminal under pytest: the default width
    assert max(len(line) for line in render_text("Result", sections).splitlines()) == 100


def test_fit_widths_gives_up_the_widest_text_first_and_refuses_below_the_floors() -> None:
    assert fit_widths([10, 40, 8], [10, 6, 8], 100) == [10, 40, 8]
    assert fit_widths([10, 40, 8], [10, 6, 8], 38) == [10, 20, 8]
    assert fit_widths([10, 40, 30], [10, 6, 8], 40) == [10, 15, 15]
    assert fit_widths([10, 40, 8], [10, 6, 8], 23) is None


# --- training progress -------------------------------------------------------------------


def test_progress_shows_the_candidate_being_tuned_and_its_trials() -> None:
    frame = make_churn(300, seed=5)
    cfg = load_config(
        {
            "name": "churn",
            "data": "churn.parquet",  # the frame below is passed instead
            "target": "churned",
            "drop": ["customer_id", "retention_call"],
            "candidates": ["dummy", {"name": "logistic", "trials": 2}],
            "tuning": {"trials": 5, "folds": 2},  # logistic's own trials win
        }
    )
    calls: list[tuple[int, str]] = []
    rows = fit_candidates(
        prepare(cfg, frame), Steps(lambda step, label: calls.append((step, label)))
    )
    assert [r["name"] for r in rows] == ["dummy", "logistic"]
    assert calls == [
        (0, "cross-validating dummy"),
        (0, "fitting dummy"),
        (1, "dummy done"),
        (0, "tuning logistic"),
        (0, "tuning logistic: trial 1/2"),
        (0, "tuning logistic: trial 2/2"),
        (0, "fitting logistic"),
        (1, "logistic done"),
    ]


def test_steps_without_a_bar_are_silent() -> None:
    steps = Steps()
    steps.show("tuning hgb: trial 1/3")
    steps("hgb done")  # nothing to draw on, nothing raised


# --- third-party log lines ---------------------------------------------------------------


@pytest.fixture
def codes_csv(tmp_path: Path) -> Path:
    """A text column whose values all parse as numbers: matplotlib logs an INFO line about
    categorical units each time it plots them."""
    path = tmp_path / "codes.csv"
    pd.DataFrame({"code": ["01", "02", "03", "10"] * 30, "x": range(120)}).to_csv(path)
    return path


def test_no_third_party_info_lines_from_a_command(
    codes_csv: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as after a library's logging.basicConfig(level=INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    try:
        sds.profile(str(codes_csv)).to_html()  # the library alone: the line is there
        assert any(r.name == "matplotlib.category" for r in caplog.records)
        caplog.clear()
        stream.truncate(0)
        code, _, err = run(["profile", str(codes_csv), "-o", str(tmp_path / "p.html")])
    finally:
        logging.getLogger().removeHandler(handler)
    assert code == 0 and (tmp_path / "p.html").exists()
    assert "matplotlib" not in err + stream.getvalue()
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]
    assert logging.getLogger("matplotlib").level == logging.NOTSET  # put back


def test_a_library_basic_config_during_a_command_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sds.cli.logs import quiet_third_party

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # a plain process: nothing configured
    level = root.level
    with quiet_third_party():
        logging.basicConfig(level=logging.INFO)  # what importing pyfixest does
        logging.getLogger("matplotlib.category").info("categorical units")
        logging.getLogger("somelib").info("chatter")
        logging.getLogger("somelib").warning("worth knowing")
    assert root.handlers == [] and root.level == level
    err = capsys.readouterr().err
    assert "categorical units" not in err and "chatter" not in err
    assert "WARNING: somelib: worth knowing" in err
