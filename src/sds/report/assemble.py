"""One self-contained HTML report of several chapters, plus its JSON index."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sds.report.files import write_atomic
from sds.report.render import page, render_html_body

if TYPE_CHECKING:
    from sds.results import Result


@dataclass(frozen=True)
class Chapter:
    title: str
    result: Result
    json_name: str


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def write_report(folder: str | Path, title: str, chapters: Sequence[Chapter]) -> Path:
    """Write ``index.html`` (every chapter) and each chapter's JSON; return the HTML path.

    Everything is rendered before anything is written, and each file is written atomically.
    """
    out = Path(folder)
    nav = " ".join(f'<a href="#{_anchor(c.title)}">{html.escape(c.title)}</a>' for c in chapters)
    bodies = [
        f'<section id="{_anchor(c.title)}">'
        f"{render_html_body(c.title, c.result.sections())}</section>"
        for c in chapters
    ]
    index_html = page(title, f"<h1>{html.escape(title)}</h1><nav>{nav}</nav>" + "".join(bodies))
    payloads = {c.json_name: c.result.to_json() for c in chapters}
    index_json = json.dumps(
        {
            "title": title,
            "chapters": [
                {"title": c.title, "json": c.json_name, "anchor": _anchor(c.title)}
                for c in chapters
            ],
        },
        indent=2,
    )
    for name, text in payloads.items():
        write_atomic(out / name, text)
    write_atomic(out / "index.json", index_json)
    return write_atomic(out / "index.html", index_html)
