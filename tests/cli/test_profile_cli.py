"""``sds profile``: every format, and every broken input exits 2 naming file and problem,
writing nothing and leaving an earlier good output untouched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import invoke


def test_json_to_stdout(csv_file: Path) -> None:
    res = invoke(["profile", str(csv_file), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["n_rows"] == 2000 and data["source"] == str(csv_file)


@pytest.mark.parametrize(
    ("suffix", "marker"),
    [
        (".json", '"n_rows": 2000'),
        (".md", "# Data profile"),
        (".html", "<svg"),
        (".txt", "Data profile"),
    ],
)
def test_format_follows_output_extension(
    parquet_file: Path, tmp_path: Path, suffix: str, marker: str
) -> None:
    out = tmp_path / f"report{suffix}"
    res = invoke(["profile", str(parquet_file), "--output", str(out)])
    assert res.exit_code == 0, res.stderr
    assert marker in out.read_text()
    assert f"wrote {out}" in res.stderr


def test_text_is_the_default(parquet_file: Path) -> None:
    res = invoke(["profile", str(parquet_file), "--columns", "score,city"])
    assert res.exit_code == 0, res.stderr
    assert "Numbers" in res.stdout and "visits" not in res.stdout


def _broken_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """case -> (arguments, the problem the message must name)."""
    (tmp / "empty.csv").write_text("")
    (tmp / "header.csv").write_text("a,b\n")
    (tmp / "data.xlsx").write_text("x")
    (tmp / "latin.csv").write_bytes("name,x\nJosé,1\n".encode("latin-1"))
    pd.DataFrame({"score": [1.0, 2.0], "city": ["a", "b"]}).to_csv(tmp / "ok.csv", index=False)
    (tmp / "typed.csv").write_text("amount\n1\nabc\n")
    pq.write_table(pa.table({"x": [1.0, np.nan, np.inf]}), tmp / "nan.parquet")
    pd.DataFrame({"a": [1.0], "b": ["x"]}).to_csv(tmp / "one.csv", index=False)
    pd.DataFrame({"a": [1, 2, 3], "k": [5, 5, 5]}).to_csv(tmp / "const.csv", index=False)
    return {
        "missing file": ([str(tmp / "absent.csv")], "file not found"),
        "empty file": ([str(tmp / "empty.csv")], "file is empty (0 bytes)"),
        "header only": ([str(tmp / "header.csv")], "has no data rows"),
        "unknown extension": ([str(tmp / "data.xlsx")], "unknown file type '.xlsx'"),
        "non-UTF-8": ([str(tmp / "latin.csv")], "not UTF-8 encoded. Pass --encoding latin-1"),
        "missing column": (
            [str(tmp / "ok.csv"), "--columns", "scor"],
            "column 'scor': no such column",
        ),
        "wrong type": (
            [str(tmp / "typed.csv"), "--expect", "amount=numeric"],
            "column 'amount': column has the wrong type",
        ),
        "NaN and inf": (
            [str(tmp / "nan.parquet"), "--strict"],
            "non_finite in column 'x' (1 NaN and 1 infinite values)",
        ),
        "single row": ([str(tmp / "one.csv"), "--strict"], "single_row (only one row"),
        "constant column": (
            [str(tmp / "const.csv"), "--fail-on", "constant"],
            "constant in column 'k'",
        ),
    }


GATES = ("NaN and inf", "single row", "constant column")  # read fine, then failed a gate


def test_broken_inputs_exit_2_and_write_nothing(tmp_path: Path) -> None:
    """Unreadable input writes nothing; a failed quality gate (--strict, --fail-on) writes
    its report first, the artifact that explains the failure (newcomer finding F1)."""
    cases = _broken_inputs(tmp_path)
    for case, (args, problem) in cases.items():
        out = tmp_path / "out" / f"{case}.json"
        res = invoke(["profile", *args, "--output", str(out)])
        assert res.exit_code == 2, (case, res.stderr)
        assert res.stderr.splitlines()[-1].startswith("error: "), case
        assert problem in res.stderr, (case, res.stderr)
        assert Path(args[0]).name in res.stderr, case
        assert "Traceback" not in res.stderr, case
        assert out.exists() == (case in GATES), case
        assert res.stdout == "", case


def test_close_matches_are_listed(tmp_path: Path, csv_file: Path) -> None:
    res = invoke(["profile", str(csv_file), "--columns", "scroe"])
    assert res.exit_code == 2
    assert "Did you mean 'score'?" in res.stderr


def test_encoding_option_reads_latin1(tmp_path: Path) -> None:
    (tmp_path / "latin.csv").write_bytes("name,x\nJosé,1\nRené,2\n".encode("latin-1"))
    res = invoke(["profile", str(tmp_path / "latin.csv"), "--encoding", "latin-1", "-f", "json"])
    assert res.exit_code == 0, res.stderr
    top = json.loads(res.stdout)["columns"][0]
    assert top["distinct_count"] == 2


def test_quirks_are_flags_without_strict(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1.0, np.nan, np.inf], "k": [5, 5, 5]}), tmp_path / "q.parquet")
    res = invoke(["profile", str(tmp_path / "q.parquet"), "-f", "json"])
    assert res.exit_code == 0, res.stderr
    flags = {(f["column"], f["flag"]) for f in json.loads(res.stdout)["flags"]}
    assert {("x", "non_finite"), ("k", "constant")} <= flags


def test_failed_run_keeps_earlier_good_output(tmp_path: Path, csv_file: Path) -> None:
    out = tmp_path / "report.json"
    assert invoke(["profile", str(csv_file), "-o", str(out)]).exit_code == 0
    good = out.read_text()
    res = invoke(["profile", str(csv_file), "--columns", "nope", "-o", str(out)])
    assert res.exit_code == 2
    assert out.read_text() == good


def test_usage_errors_exit_2(csv_file: Path) -> None:
    assert invoke(["profile"]).exit_code == 2
    res = invoke(["profile", str(csv_file), "--format", "pdf"])
    assert res.exit_code == 2 and "format == 'pdf'" in res.stderr
    res = invoke(["profile", str(csv_file), "--bins", "1"])
    assert res.exit_code == 2 and "bins == 1, must be >= 2" in res.stderr
    res = invoke(["profile", str(csv_file), "--fail-on", "weird"])
    assert res.exit_code == 2 and "must name flags among" in res.stderr
    res = invoke(["--threads", "0", "profile", str(csv_file)])
    assert res.exit_code == 2 and "threads == 0" in res.stderr


def test_debug_shows_traceback(tmp_path: Path) -> None:
    res = invoke(["--debug", "profile", str(tmp_path / "absent.csv")])
    assert res.exit_code == 2
    assert "Traceback" in res.stderr and "error: " in res.stderr


def test_internal_error_exits_1(monkeypatch: pytest.MonkeyPatch, csv_file: Path) -> None:
    import sds.features.profile as module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "profile", broken)
    res = invoke(["profile", str(csv_file)])
    assert res.exit_code == 1
    assert "internal error: RuntimeError: boom" in res.stderr and "Traceback" not in res.stderr


def test_analysis_error_exits_1(monkeypatch: pytest.MonkeyPatch, csv_file: Path) -> None:
    import sds.features.profile as module
    from sds.errors import AnalysisError

    def failing(*args: object, **kwargs: object) -> None:
        raise AnalysisError("the engine ran out of memory", source=str(csv_file))

    monkeypatch.setattr(module, "profile", failing)
    res = invoke(["profile", str(csv_file)])
    assert res.exit_code == 1 and "ran out of memory" in res.stderr
