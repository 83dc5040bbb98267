"""The profile in a terminal, and its progress bar (the newcomer walk-through's F4 and the
profile's progress labels).

F4: ``COLUMNS=80/100/120/160 sds profile customers.parquet | wc -l`` gave 460/306/302/155
lines for 18 columns: one ``[figure: ... - see the HTML report]`` line per plot, the numeric
table drawn as one 14-line block per column when it did not fit, and block titles wrapped
(``Numeric columns (10 of`` / ``10)``). The terminal now has one row per column in each
table, every flag, and one closing line with the command that writes the plots' report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import sds.features.profile as profile_module
from sds.data.engine import Engine
from sds.data.synth import make_churn
from sds.features.profile import profile
from sds.progress import Steps
from sds.report.sections import Figure, Table
from sds.report.text import render_text
from tests.conftest import invoke


@pytest.fixture(scope="module")
def customers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The walk-through's table: 18 columns, six flags (id-like, constant, duplicate ...)."""
    path = tmp_path_factory.mktemp("customers") / "customers.parquet"
    make_churn(3_000, seed=7).to_parquet(path)
    return path


def _bound(n_columns: int, n_flags: int) -> int:
    """Lines the terminal may take. Each column is one row of Columns and one row of its
    statistics table (Numbers, Text and categories or Times), each row at most two lines
    once wrapped at 80 columns: 4 per column. Each flag is one row of Flags, at most two
    lines: 2 per flag. Fixed: the title (1), the Overview block (8 lines and its title),
    five tables' title, borders and header (5 x 5) and the closing line (1): 36."""
    return 4 * n_columns + 2 * n_flags + 36


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("only", [None, "age,region,zip_code,country,churned"])
def test_f4_terminal_profile_is_one_row_per_column(
    customers: Path, columns: int, only: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = ["--columns", only] if only else []
    report = profile(str(customers), columns=only.split(",") if only else None).to_dict()
    monkeypatch.setenv("COLUMNS", str(columns))
    result = invoke(["profile", str(customers), *extra])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    n_columns, n_flags = report["n_columns"], len(report["flags"])
    assert len(lines) <= _bound(n_columns, n_flags), len(lines)
    assert max(len(line) for line in lines) <= columns
    assert "[figure:" not in result.stdout
    for col in report["columns"]:
        assert re.search(rf"(?<![\w]){re.escape(col['name'])}(?![\w])", result.stdout)
    for flag in report["flags"]:  # each flag on its column's row of the Flags table
        assert any(flag["column"] in line and flag["flag"] in line for line in lines), flag
    # one sentence for the plots, at the end (wrapped at a long path), with the command
    assert sum("HTML report" in line for line in lines) == 1
    start = next(i for i, line in enumerate(lines) if "HTML report" in line)
    closing = " ".join(line.strip() for line in lines[start:])
    n_plots = sum(1 for c in report["columns"] if c["histogram"] or c["top_values"])
    command = f"sds profile {customers} {' '.join(extra)}".strip()
    assert closing == f"{n_plots} plots are in the HTML report: {command} -o profile.html"


def test_f4_the_line_count_no_longer_balloons(
    customers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk-through measured 460 lines at 80 columns and 302 at 120 for 18 columns."""
    counts = {}
    for columns in (80, 120):
        monkeypatch.setenv("COLUMNS", str(columns))
        counts[columns] = len(invoke(["profile", str(customers)]).stdout.splitlines())
    assert counts[80] <= 100 and counts[120] <= 100, counts
    assert counts[80] - counts[120] <= 18, counts  # at most one wrapped line per column


def test_f4_the_hinted_command_writes_every_plot(customers: Path, tmp_path: Path) -> None:
    lines = profile(str(customers)).to_text(width=100).splitlines()
    count = int(next(line for line in lines if "HTML report" in line).split()[0])
    out = tmp_path / "profile.html"
    assert invoke(["profile", str(customers), "-o", str(out)]).exit_code == 0
    assert out.read_text().count("<figure>") == count
    assert "[figure:" not in profile(make_churn(50, seed=1)).to_text()  # a DataFrame too
    assert profile(make_churn(50, seed=1)).to_text().rstrip().endswith("to_html()")


def test_f4_block_titles_are_never_wrapped() -> None:
    """A table too wide for the terminal is drawn as one key/value block per row, each
    titled ``Numeric columns (n of N)``: the block is now at least as wide as its title."""
    keys = [f"statistic_{i}" for i in range(12)]
    rows = [[0.1 + i for i in range(12)] for _ in range(10)]
    text = render_text("Result", [Table("Numeric columns", keys, rows)], width=60)
    for n in range(1, 11):
        assert f"Numeric columns ({n} of 10)" in text.splitlines(), n


def test_figures_are_one_closing_line_in_every_terminal_rendering() -> None:
    figures = [Figure(f"plot {i}", lambda: "<svg/>") for i in range(3)]
    text = render_text("Result", [*figures, Table("T", ["a"], [[1]])], width=80)
    assert "plot 0" not in text and "[figure:" not in text
    assert text.splitlines()[-1].startswith("3 plots are in the HTML report: ")


# --- the progress bar names the step that runs ---------------------------------------------


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The profile's progress calls and engine queries, in order: ("show", label) for a
    label shown before a step, ("done", label) for a step counted, ("query", None)."""
    events: list[tuple[str, Any]] = []

    @contextmanager
    def steps(total: int, description: str) -> Iterator[Steps]:
        events.append(("total", total))
        yield Steps(lambda step, label: events.append(("done" if step else "show", label)))

    def recording(name: str) -> Any:
        original = getattr(Engine, name)

        def run(self: Engine, *args: Any, **kwargs: Any) -> Any:
            events.append(("query", None))
            return original(self, *args, **kwargs)

        return run

    monkeypatch.setattr(profile_module, "progress_steps", steps)
    for name in ("execute", "scalar"):
        monkeypatch.setattr(Engine, name, recording(name))
    return events


def test_each_query_runs_under_the_label_that_names_it(recorded: list[tuple[str, Any]]) -> None:
    """The first (largest) query ran before any label was set, and each label named the
    step just finished; now each step's label is shown before it runs."""
    frame = make_churn(200, seed=3)[["age", "region", "churned"]]
    profile(frame)
    start = recorded.index(("total", 4 + 3))  # reading the frame comes before the bar
    recorded = recorded[start:]
    shown = None
    queries_under: dict[str, int] = {}
    for kind, label in recorded[1:]:
        if kind == "show":
            shown = label
        elif kind == "query":
            assert shown is not None, "a query ran before any label was shown"
            queries_under[shown] = queries_under.get(shown, 0) + 1
        else:  # a step counted: the one whose label is shown
            assert label == shown
    labels = [label for kind, label in recorded if kind == "show"]
    assert labels == [
        "column statistics",
        "duplicate rows",
        *(f"{c}: top values" for c in ("age", "region", "churned")),
        "histograms",
        "duplicate columns",
    ]
    assert queries_under["column statistics"] >= 2  # the row count and the one big scan
    assert sum(kind == "done" for kind, _ in recorded) == recorded[0][1]
