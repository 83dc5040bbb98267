"""The real ``sds`` executable on a sample of bad inputs: exit 2 and one ``error:`` line on
stderr, as a shell script sees them (the in-process sweep covers every command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile

SDS = str(Path(sys.executable).parent / "sds")

CASES = [
    (["causal", "pms"], "No such command 'pms'. Did you mean 'psm'?"),
    (["design", "proportion", "--baseline", "abc"], "--baseline: 'abc' is not a number."),
    (["causal", "did", "--data", "{csv}"], "missing option --outcome."),
    (["design", "spec", "{flow}"], "flow.yaml:2:1: cannot parse YAML: expected ',' or ']'"),
    (["design", "spec", "{tag}"], "python tags are not allowed"),
    (["--memory-limit", "lots", "profile", "{csv}"], "--memory-limit == 'lots'"),
    (["srm", "--counts", "nan,inf"], "counts == nan, must be finite"),
    (["profile", "{csv}", "-o", "{xlsx}"], "cannot tell the format from '.xlsx'"),
    (["causal", "did", "--data", "{csv}", "--outcome", "y", "--treatment", "t", "--unit", "u",
      "--time", "p", "--permutations", "-1"], "permutations == -1, must be >= 0"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a[:2]) for a, _ in CASES])
def test_the_executable_prints_one_error_line_and_exits_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    files = {"csv": tmp_path / "x.csv", "flow": tmp_path / "flow.yaml",
             "tag": tmp_path / "tag.yaml", "xlsx": tmp_path / "out" / "p.xlsx"}  # fmt: skip
    files["csv"].write_text("y,t\n1,0\n2,1\n")
    files["flow"].write_text("metric: [proportion\n")
    files["tag"].write_text("metric: !!python/object/apply:os.system ['echo owned']\n")
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    done = subprocess.run([SDS, *argv], capture_output=True, text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert (done.returncode, len(lines)) == (2, 1), done.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert "owned" not in done.stdout and not (tmp_path / "out").exists()


def test_no_arguments_prints_the_help_and_exits_2() -> None:
    done = subprocess.run([SDS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Usage: sds" in done.stdout + done.stderr
