"""The code blocks of a Markdown file, and what the docs test does with each.

Rules (a contributor writing docs needs only these):

- ```` ```python ```` blocks run in order in one namespace per file, in the project folder.
- ```` ```bash ````, ```` ```console ````, ```` ```shell ````, ```` ```sh ```` and untagged
  blocks are commands: each line (``\\`` continues it) that starts with ``sds `` or
  ``python `` runs in the project folder and must exit 0; ``#`` comments and blank lines
  are skipped; any other line (``make``, ``curl``, ``docker``, a pipe) fails the test.
- A ```` ```yaml ```` block whose first line is ``# NAME.yaml`` is written to that file in
  the project folder, for the commands after it; other blocks (``text``, ``json`` ...) are
  output and are not run.
- ``<!-- no-run: REASON -->`` just before a block skips it; the reason must not be empty.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)[^\n]*$")
MARKER = re.compile(r"^\s*<!--\s*no-run\s*:?(?P<reason>.*?)-->\s*$")
PYTHON = {"python", "py", "pycon"}
SHELL = {"", "bash", "sh", "shell", "console", "zsh"}
FILE_HEADER = re.compile(r"^#\s*(?P<name>[\w./-]+\.(?:ya?ml|json))\s*(?:\(.*\))?\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, text, first line number and skip reason."""

    path: Path
    line: int
    lang: str
    text: str
    no_run: str | None  # the reason given in a no-run marker, else None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def kind(self) -> str:
        """python, shell, file (a YAML/JSON file to write) or output (not run)."""
        if self.lang in PYTHON:
            return "python"
        if self.lang in SHELL:
            return "shell"
        first = self.text.splitlines()[0] if self.text.strip() else ""
        if self.lang in {"yaml", "yml", "json"} and FILE_HEADER.match(first):
            return "file"
        return "output"

    @property
    def file_name(self) -> str:
        """The file a ``file`` block is written to."""
        match = FILE_HEADER.match(self.text.splitlines()[0])
        assert match is not None
        return match.group("name")


class MarkerError(ValueError):
    """A no-run marker without a reason, or not followed by a block."""


def parse(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown file, in order."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    pending: tuple[int, str] | None = None  # (line, reason) of a marker not yet used
    i = 0
    while i < len(lines):
        marker = MARKER.match(lines[i])
        fence = FENCE.match(lines[i])
        if marker:
            reason = marker.group("reason").strip()
            if not reason:
                raise MarkerError(f"{path}:{i + 1}: <!-- no-run: --> needs a reason")
            pending = (i + 1, reason)
        elif fence:
            close = fence.group("fence")
            body, j = [], i + 1
            while j < len(lines) and not lines[j].strip().startswith(close):
                body.append(lines[j][len(fence.group("indent")) :])
                j += 1
            reason = pending[1] if pending else None
            blocks.append(Block(path, i + 1, fence.group("lang").lower(), "\n".join(body), reason))
            pending, i = None, j
        elif lines[i].strip() and pending:
            raise MarkerError(f"{path}:{pending[0]}: no-run marker not followed by a code block")
        i += 1
    if pending:
        raise MarkerError(f"{path}:{pending[0]}: no-run marker not followed by a code block")
    return blocks


def commands(block: Block) -> list[tuple[int, list[str]]]:
    """The commands of a shell block as ``(line number, argv)``; raises ValueError naming a
    line the runner cannot run."""
    out: list[tuple[int, list[str]]] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        start, line = i, lines[i]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        line = re.sub(r"^\s*\$\s+", "", line).strip()
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line, comments=True)
        where = f"{block.path}:{block.line + 1 + start}"
        if argv[0] not in {"sds", "python"}:
            raise ValueError(f"{where}: the runner runs only sds and python lines: {line!r}")
        if any(t in {"|", "||", "&&", ";", ">", ">>", "<", "&"} for t in argv):
            raise ValueError(f"{where}: shell operators are not run: {line!r}")
        out.append((block.line + 1 + start, argv))
    return out
