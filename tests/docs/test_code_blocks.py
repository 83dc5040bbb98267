"""Every code block of README.md, docs/**/*.md and references/*.md runs (rules in
``tests/docs/blocks.py``): a newcomer who copies a block gets what the page says.

Each Markdown file runs in its own copy of one project folder (``tests/docs/project.py``),
built once per session; ``sds`` lines run in this process through ``tests.conftest.invoke``,
``python X.py`` lines through ``runpy`` (a fresh interpreter only for ``python -m``/``-c``).
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest

from tests.conftest import invoke
from tests.docs import blocks, project
from tests.docs.blocks import Block

ROOT = project.ROOT


def markdown_files() -> list[Path]:
    """README.md, the docs and the reference guides, each once (docs/ may link to them)."""
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found += sorted((ROOT / "references").glob("*.md"))
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


@pytest.fixture(scope="session")
def base_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project.build(tmp_path_factory.mktemp("docs-project") / "project")


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    """Run the block with ``folder`` as the working directory and a non-interactive
    matplotlib (a block may call ``plt.show()``)."""
    before, backend = Path.cwd(), matplotlib.get_backend()
    os.chdir(folder)
    matplotlib.use("Agg")
    try:
        yield
    finally:
        os.chdir(before)
        matplotlib.use(backend)


def run_python_file(argv: list[str]) -> tuple[int, str]:
    """``python SCRIPT.py ARGS`` in this process, as ``__main__``."""
    out = io.StringIO()
    saved = sys.argv
    sys.argv = argv[1:]
    code: Any = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(argv[1], run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return int(code), out.getvalue()


def run_command(argv: list[str]) -> tuple[int, str]:
    """One ``sds`` or ``python`` line: its exit code and what it printed."""
    if argv[0] == "sds":
        result = invoke(argv[1:])
        return result.exit_code, result.stdout + result.stderr
    if len(argv) > 1 and argv[1].endswith(".py"):
        return run_python_file(argv)
    done = subprocess.run(
        [sys.executable, *argv[1:]], capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout + done.stderr


def run_block(block: Block, namespace: dict[str, Any], folder: Path) -> None:
    """Run one block; fail naming the file and line of the block (or of the command)."""
    if block.kind == "python":
        code = compile(block.text, block.where, "exec")
        exec(code, namespace)
    elif block.kind == "shell":
        for line, argv in blocks.commands(block):
            exit_code, printed = run_command(argv)
            assert exit_code == 0, (
                f"{block.path}:{line}: `{' '.join(argv)}` exited {exit_code}:\n{printed[-3000:]}"
            )
    elif block.kind == "file":
        (folder / block.file_name).parent.mkdir(parents=True, exist_ok=True)
        (folder / block.file_name).write_text(block.text + "\n", encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)).replace("/", "-")
)
def test_every_block_runs(path: Path, base_project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "project"
    shutil.copytree(base_project, folder, symlinks=True)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    started = time.perf_counter()
    with inside(folder):
        for block in blocks.parse(path):
            if block.no_run is None:
                run_block(block, namespace, folder)
    print(f"{path.relative_to(ROOT)}: {time.perf_counter() - started:.1f} s")


# --- the runner's own rules --------------------------------------------------------------


def test_a_no_run_marker_needs_a_reason(tmp_path: Path) -> None:
    text = "<!-- no-run: -->\n```bash\nsds --help\n```\n"
    with pytest.raises(blocks.MarkerError, match="needs a reason"):
        blocks.parse(tmp_path / "x.md", text)


def test_a_no_run_marker_must_precede_a_block(tmp_path: Path) -> None:
    with pytest.raises(blocks.MarkerError, match="not followed by a code block"):
        blocks.parse(tmp_path / "x.md", "<!-- no-run: later -->\nSome prose.\n")


def test_blocks_are_classified_and_marked(tmp_path: Path) -> None:
    text = (
        "```python\nx = 1\n```\n\n<!-- no-run: needs a cluster -->\n\n```bash\nsds a \\\n"
        "  --b 1   # note\n```\n```yaml\n# spec.yaml\nunit: u\n```\n```text\nout\n```\n"
    )
    found = blocks.parse(tmp_path / "x.md", text)
    assert [(b.kind, b.no_run) for b in found] == [
        ("python", None),
        ("shell", "needs a cluster"),
        ("file", None),
        ("output", None),
    ]
    assert blocks.commands(found[1]) == [(8, ["sds", "a", "--b", "1"])]
    assert found[2].file_name == "spec.yaml"


def test_a_line_the_runner_cannot_run_fails(tmp_path: Path) -> None:
    for line in ("curl -s localhost:8000/health", "sds profile x.csv | head"):
        block = blocks.parse(tmp_path / "x.md", f"```bash\n{line}\n```\n")[0]
        with pytest.raises(ValueError, match=r"runner runs only|shell operators"):
            blocks.commands(block)


def test_a_failing_command_fails_the_block(tmp_path: Path) -> None:
    block = blocks.parse(tmp_path / "x.md", "```bash\nsds profile no-such-file.csv\n```\n")[0]
    with inside(tmp_path), pytest.raises(AssertionError, match="exited 2"):
        run_block(block, {}, tmp_path)
