"""Draw a result's sections as Markdown or self-contained HTML (terminal text:
:mod:`sds.report.text`)."""

from __future__ import annotations

import html
from importlib import resources

from sds.report.sections import Figure, KeyValue, Note, Section, Table, format_value


def _cells(table: Table) -> list[list[str]]:
    return [
        [format_value(k, v) for k, v in zip(table.columns, row, strict=True)] for row in table.rows
    ]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines.extend("| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows)
    return lines


def render_markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for section in sections:
        if isinstance(section, Figure):
            lines += [f"_Figure: {section.title} (see the HTML report)_", ""]
            continue
        lines += [f"## {section.title}", ""]
        if isinstance(section, KeyValue):
            rows = [[k, format_value(k, v)] for k, v in section.items]
            lines += _md_table(["key", "value"], rows)
        elif isinstance(section, Table):
            lines += _md_table(section.columns, _cells(section))
        elif isinstance(section, Note) and section.code:
            lines += ["```", *"\n".join(section.lines).splitlines(), "```"]
        elif isinstance(section, Note):
            lines += [f"- {_md_escape(line)}" for line in section.lines]
        lines.append("")
    return "\n".join(lines)


def _html_table(header: list[str] | None, rows: list[list[str]], cls: str) -> str:
    esc = html.escape
    head = ""
    if header:
        head = "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    # the wrapper scrolls a table wider than the page, so the page itself never does
    table = f'<table class="{cls}">{head}<tbody>{body}</tbody></table>'
    return f'<div class="table-wrap">{table}</div>'


def render_html_body(title: str, sections: list[Section]) -> str:
    """The report's body: headings, tables, notes and inline SVG figures."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    figures: list[str] = []
    for section in sections:
        if isinstance(section, Figure):
            figures.append(
                f"<figure><figcaption>{html.escape(section.title)}</figcaption>"
                f"{section.draw()}</figure>"
            )
            continue
        if figures:
            parts.append('<div class="figures">' + "".join(figures) + "</div>")
            figures = []
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if isinstance(section, KeyValue):
            rows = [[k, format_value(k, v)] for k, v in section.items]
            parts.append(_html_table(None, rows, "kv"))
        elif isinstance(section, Table):
            parts.append(_html_table(section.columns, _cells(section), "data"))
        elif isinstance(section, Note) and section.code:
            parts.append(f"<pre><code>{html.escape(chr(10).join(section.lines))}</code></pre>")
        elif isinstance(section, Note):
            items = "".join(f"<li>{html.escape(line)}</li>" for line in section.lines)
            parts.append(f"<ul>{items}</ul>")
    if figures:
        parts.append('<div class="figures">' + "".join(figures) + "</div>")
    return "\n".join(parts)


def _css() -> str:
    return resources.files("sds.report").joinpath("report.css").read_text(encoding="utf-8")


def scoped_css(css: str, scope: str) -> str:
    """``css`` with every selector confined to ``scope``; ``body`` becomes the scope itself.

    The report's stylesheet is one rule per line (``selectors{declarations}``), so a notebook
    fragment can carry the same look without restyling the page around it.
    """
    rules = []
    for line in css.splitlines():
        selectors, brace, rest = line.strip().partition("{")
        if not brace:
            continue
        scoped = [
            scope if sel.strip() == "body" else f"{scope} {sel.strip()}"
            for sel in selectors.split(",")
        ]
        rules.append(",".join(scoped) + "{" + rest)
    return "\n".join(rules)


FRAGMENT_CLASS = "sds-result"


def render_html_fragment(title: str, sections: list[Section]) -> str:
    """The report as a notebook fragment: one ``div`` whose styles apply only inside it."""
    css = scoped_css(_css(), f".{FRAGMENT_CLASS}")
    body = render_html_body(title, sections)
    return f'<div class="{FRAGMENT_CLASS}"><style>{css}</style>{body}</div>'


VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
SUBJECT_CHARS = 60  # a subject longer than this (a SQL query, say) is cut in the title


def document_title(title: str, subject: str | None = None) -> str:
    """The browser tab's title: the report type, what it is about, and the tool.

    ``Data profile: customers.parquet — sds``; a path is shown by its file name.
    """
    if not subject:
        return title if title.split()[0] == "sds" else f"{title} — sds"
    text = " ".join(subject.split())
    if "/" in text and " " not in text:
        text = text.rstrip("/").rsplit("/", 1)[-1] or text
    if len(text) > SUBJECT_CHARS:
        text = text[: SUBJECT_CHARS - 1] + "…"
    return f"{title}: {text} — sds"


def page(title: str, body: str, *, subject: str | None = None) -> str:
    """A self-contained HTML page (inline CSS, no external assets), sized for any screen,
    titled by :func:`document_title`."""
    css = _css()
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{VIEWPORT}<title>{html.escape(document_title(title, subject))}</title>"
        f"<style>{css}</style></head><body>{body}</body></html>\n"
    )


def render_html(title: str, sections: list[Section], *, subject: str | None = None) -> str:
    return page(title, render_html_body(title, sections), subject=subject)
