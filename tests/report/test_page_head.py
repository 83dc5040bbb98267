"""The head of every full HTML page: a viewport meta tag and a specific title.

Without the viewport tag a phone lays the page out 980 px wide and shrinks it; a title of
the bare report type ("Data profile") cannot tell two open reports apart. Each result's
page is checked in tests/test_result_common.py, each report type as the CLI writes it (and
as Chromium reads it) in tests/report/test_browser.py; here the shell and the demo index.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sds.features.profile import profile
from sds.report.assemble import Chapter, write_report
from sds.report.render import SUBJECT_CHARS, VIEWPORT, document_title, page

VIEWPORT_TAG = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def _title(text: str) -> str:
    titles = re.findall(r"<title>(.*?)</title>", text.split("</head>", 1)[0])
    assert len(titles) == 1, titles
    return titles[0]


def test_the_page_shell_has_a_viewport_and_the_title() -> None:
    text = page("Data profile", "<p>x</p>", subject="data/customers.parquet")
    assert VIEWPORT == VIEWPORT_TAG and VIEWPORT_TAG in text.split("</head>", 1)[0]
    assert _title(text) == "Data profile: customers.parquet — sds"
    assert _title(page("Canary report", "")) == "Canary report — sds"


def test_document_title_shortens_paths_and_long_subjects() -> None:
    assert document_title("Data profile", "s3://lake/exp/") == "Data profile: exp — sds"
    assert document_title("Regression", "y ~ x + z") == "Regression: y ~ x + z — sds"
    query = "SELECT a,\n  b FROM t WHERE " + " AND ".join(f"c{i} > 0" for i in range(30))
    title = document_title("Data profile", query)
    assert "\n" not in title and title.startswith("Data profile: SELECT a, b FROM t")
    assert len(title) == len("Data profile: ") + SUBJECT_CHARS + len(" — sds")
    assert document_title("Feature store", "") == "Feature store — sds"


def test_a_result_page_escapes_its_subject(tmp_path: Path) -> None:
    result = profile(pd.DataFrame({"a": [1, 2, 3]}))  # its source is <pandas.DataFrame>
    assert _title(result.to_html()) == "Data profile: &lt;pandas.DataFrame&gt; — sds"
    path = tmp_path / "customers.csv"
    pd.DataFrame({"a": [1, 2, 3]}).to_csv(path, index=False)
    assert _title(profile(str(path)).to_html()) == "Data profile: customers.csv — sds"


def test_the_demo_index_has_them_too(tmp_path: Path) -> None:
    chapters = [Chapter("Data profile", profile(pd.DataFrame({"a": [1, 2]})), "p.json")]
    text = write_report(tmp_path, "sds demo", chapters).read_text()
    assert VIEWPORT_TAG in text.split("</head>", 1)[0]
    assert _title(text) == "sds demo"  # already names the tool
