"""Cold starts: what a fresh ``sds`` process imports for its cheap paths.

``import sds``, ``sds --help`` and ``sds --version`` import no data or statistics library
(and no pydantic: specs are built only by the commands that read one); ``sds srm --counts``
and ``sds design proportion`` import no engine, no pandas and no scipy (the normal and
chi-square values they need come from the standard library, tests/stats/test_distributions.py).
Each case runs in a fresh interpreter, as the console script does, and reads ``sys.modules``
after the command finished. ``benchmarks/cli_bench.py`` times the same commands.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from sds.cli.main import COMMANDS, app

# never on the paths that read no table
HEAVY = ("pandas", "scipy", "statsmodels", "ibis", "sklearn", "matplotlib")
# nor these, for the help and the version (pydantic: no spec is built there)
LIGHT_EXTRA = ("numpy", "pyarrow", "duckdb", "pydantic", "polars", "pyspark")

# benchmarks/analysis_bench.py's spec: 3 metrics, 2 segments and a daily breakdown
ANALYSIS_SPEC = {
    "unit": "user_id",
    "variant": "variant",
    "control": "control",
    "date": "assigned_at",
    "segments": ["platform", "country"],
    "metrics": [
        {"name": "conversion", "type": "proportion", "column": "converted"},
        {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre_revenue"},
        {"name": "ops", "type": "ratio", "numerator": "orders", "denominator": "sessions"},
    ],
}

MARK = "IMPORTED:"
RUN = """
import json, sys
try:
    {body}
except SystemExit as exc:
    code = exc.code
else:
    code = 0
names = sorted(m for m in sys.modules if m.split(".")[0] in {watched!r} or m.startswith("sds."))
print("{mark}" + json.dumps({{"code": code, "modules": names}}))
"""


def imported(body: str, watched: tuple[str, ...]) -> tuple[int, set[str], str]:
    """(exit code, top-level watched packages and ``sds.*`` modules imported, output) of
    ``body`` run in a fresh interpreter."""
    code = RUN.format(body=body, watched=watched, mark=MARK)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    out, _, last = done.stdout.rpartition(MARK)
    found = json.loads(last)
    return found["code"], set(found["modules"]), out + done.stderr


def cli(args: list[str], watched: tuple[str, ...]) -> tuple[int, set[str], str]:
    return imported(f"from sds.cli.main import run; run({args!r})", watched)


def packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules if not m.startswith("sds")}


def test_import_sds_is_light() -> None:
    code, modules, _ = imported("import sds", HEAVY + LIGHT_EXTRA)
    assert code == 0
    assert packages(modules) == set()


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["-V"], []])
def test_help_and_version_are_light(args: list[str]) -> None:
    code, modules, out = cli(args, HEAVY + LIGHT_EXTRA)
    assert code == (2 if not args else 0), out  # `sds` alone shows the help, exit 2
    assert packages(modules) == set()
    # no command module either: the listing comes from sds.cli.main.COMMANDS
    loaded = {m for m in modules if m.startswith("sds.cli.")}
    assert {COMMANDS[name].module for name in COMMANDS} & loaded == set()
    if args[:1] == ["--version"] or args[:1] == ["-V"]:
        assert re.fullmatch(r"sds \d+\.\d+\.\d+\S*\n", out)
    else:
        assert all(name in out for name in COMMANDS)


def test_a_mistyped_command_is_answered_without_loading_the_commands() -> None:
    code, modules, out = cli(["analyse"], HEAVY + LIGHT_EXTRA)
    assert code == 2 and "Did you mean 'analyze'" in out
    assert not {m for m in modules if m.startswith("sds.cli.") and m != "sds.cli.main"} & {
        e.module for e in COMMANDS.values()
    }


@pytest.mark.parametrize(
    "args",
    [
        ["srm", "--counts", "50500,49500"],
        ["srm", "--counts", "3000,2000,5000", "--shares", "30,20,50", "--format", "json"],
        ["design", "proportion", "--baseline", "0.1", "--mde", "0.05"],
        ["design", "proportion", "--baseline", "0.05", "-n", "20000", "--arms", "3"],
    ],
)
def test_srm_and_design_import_no_engine_and_no_scipy(args: list[str]) -> None:
    code, modules, out = cli(args, (*HEAVY, "ibis", "duckdb", "pyarrow", "numpy"))
    assert code == 0, out
    assert "p = " in out or "units per variant" in out or '"p_value"' in out
    assert packages(modules) == set()
    assert "sds.data.engine" not in modules or args[0] == "design"  # design's spec names data


def test_design_with_looks_still_loads_scipy_for_the_boundaries() -> None:
    """The lazy imports only moved: a sequential plan computes with scipy as before."""
    args = ["design", "proportion", "--baseline", "0.1", "--mde", "0.05", "--looks", "3"]
    code, modules, out = cli(args, ("scipy",))
    assert code == 0, out
    assert "scipy" in packages(modules)


def test_every_summary_is_the_start_of_its_commands_help() -> None:
    """``sds --help`` lists COMMANDS' summaries without importing the commands; each is the
    start of the command's own help and is what the loaded command lists too."""
    root = typer.main.get_command(app)
    words = " ".join  # whitespace-normalised text
    for name, entry in COMMANDS.items():
        command = root.commands[name]  # type: ignore[attr-defined]
        assert command.short_help == entry.summary, name
        help_text = words((command.help or "").split())
        assert help_text.startswith(words(entry.summary.split()).rstrip(".")), name
    assert list(root.commands) == list(COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("grain", ["unit", "auto"])
def test_analyze_imports_no_pandas(tmp_path: Path, grain: str) -> None:
    """The analysis' aggregate rows stay Arrow and numpy (sds.experiments.analysis.rows):
    ``sds analyze`` of unit-level data with segments and a daily breakdown loads no pandas
    (0.17 s of CPU of its cold start) and no statsmodels or scipy.stats."""
    from sds.data import synth

    data = tmp_path / "ab.parquet"
    synth.write_parquet("ab_test", data, seed=1, n_users=20_000)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**ANALYSIS_SPEC, "grain": grain}))
    args = ["--no-progress", "analyze", str(spec), "--data", str(data), "--format", "json"]
    code, modules, out = cli(args, ("pandas", "statsmodels", "scipy", "sklearn", "ibis"))
    assert code == 0, out
    assert json.loads(out)["units"]  # the report was written
    found = {m for m in modules if not m.startswith("sds")}
    assert packages(modules) == {"scipy", "ibis"}, sorted(found)
    assert "scipy.stats" not in found


def test_the_library_analyze_imports_no_pandas(tmp_path: Path) -> None:
    """``sds.analyze`` on a file, as ``benchmarks/analysis_bench.py`` calls it."""
    from sds.data import synth

    data = tmp_path / "ab.parquet"
    synth.write_parquet("ab_test", data, seed=2, n_users=5_000)
    spec = {k: v for k, v in ANALYSIS_SPEC.items() if k not in ("segments", "date")}
    body = f"import sds; print(sds.analyze({str(data)!r}, {spec!r}).verdict)"
    code, modules, out = imported(body, ("pandas", "statsmodels"))
    assert code == 0 and out.strip(), out
    assert packages(modules) == set()
