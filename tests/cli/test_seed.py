"""The frame the seed scripts share: flags, config validation and the JSON status line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sds.cli.seed import SeedContext, SeedJob, seed_main
from sds.config import StrictModel
from sds.errors import AnalysisError


class CopyConfig(StrictModel):
    upper: bool = False


def _copy(ctx: SeedContext) -> int:
    assert ctx.input is not None and ctx.output is not None
    lines = ctx.input.read_text().splitlines()
    if not lines:
        raise AnalysisError("nothing to copy", source=str(ctx.input))
    ctx.log.info("copying %d lines", len(lines))
    text = "\n".join(lines).upper() if ctx.config.upper else "\n".join(lines)  # type: ignore[attr-defined]
    ctx.output.write_text(text)
    return len(lines)


JOB = SeedJob("copy", "Copy lines.", _copy, CopyConfig)


def _status(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, object], str]:
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0]), err


def test_success_status_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.txt").write_text("a\nb\n")
    (tmp_path / "c.yaml").write_text("upper: true\n")
    code = seed_main(
        JOB,
        [
            "-i",
            str(tmp_path / "in.txt"),
            "-o",
            str(tmp_path / "out.txt"),
            "-c",
            str(tmp_path / "c.yaml"),
            "-v",
        ],
    )
    status, err = _status(capsys)
    assert code == 0
    assert status["status"] == "completed" and status["processed_items"] == 2
    assert list(status) == ["status", "start_time", "processed_items", "end_time"]
    assert (tmp_path / "out.txt").read_text() == "A\nB"
    assert "copying 2 lines" in err


def test_bad_config_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.txt").write_text("a\n")
    (tmp_path / "c.yaml").write_text("uper: true\n")
    code = seed_main(
        JOB,
        ["-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "o"), "-c", str(tmp_path / "c.yaml")],
    )
    status, err = _status(capsys)
    assert code == 2 and status["status"] == "failed"
    assert "Did you mean 'upper'?" in str(status["error"]) and "error: " in err


def test_missing_required_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = seed_main(JOB, ["-o", "x"])
    status, _ = _status(capsys)
    assert code == 2 and "-i/--input" in str(status["error"])


def test_analysis_failure_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.txt").write_text("")
    code = seed_main(JOB, ["-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "o")])
    status, _ = _status(capsys)
    assert code == 1 and "nothing to copy" in str(status["error"])


def test_help_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert seed_main(JOB, ["--help"]) == 0
    assert "--config" in capsys.readouterr().out
