"""Every HTML report type opened in a real browser: Debian's headless Chromium, driven by
Playwright (``executable_path``; Playwright's own browser downloads are never used).

Each report is made here on small generated data, as a user would (``sds ... -o x.html``,
in process), then opened at 1280 px: no console error, page error or request leaving the
file; every ``<img>`` decoded and every figure's SVG drawn with a size and not hidden; no
horizontal overflow (the offending elements are named otherwise). A full-page screenshot
of each is written to ``test-artifacts/screenshots/<type>.png`` (gitignored).

Chromium comes from ``make browser`` (``make test`` runs it): where it is missing the tests
fail and say so, they are never skipped.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sds.data import synth
from sds.features.profile import profile
from sds.report.assemble import Chapter, write_report
from sds.stats.runner import StatsSpec, run
from tests.conftest import invoke

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SDS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
WIDTH = 1280
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# What the page shows, read in the browser after layout.
INSPECT = """() => {
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const name = (el) => {
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className : '';
    const text = (el.textContent || '').trim().slice(0, 60);
    return `${el.tagName.toLowerCase()}${cls} "${text}"`;
  };
  const images = [...document.images].map((img) => ({
    what: img.src.slice(0, 80),
    ok: img.complete && img.naturalWidth > 0 && shown(img),
  }));
  const svgs = [...document.querySelectorAll('svg')]
    .filter((svg) => !svg.parentElement.closest('svg'))
    .map((svg) => {
      const box = svg.getBoundingClientRect();
      const caption = svg.closest('figure')?.querySelector('figcaption')?.textContent ?? '';
      return {what: caption, width: box.width, height: box.height, shown: shown(svg)};
    });
  const right = (el) => el.getBoundingClientRect().right;
  const limit = window.innerWidth + 0.5;
  const overflowing = [...document.body.querySelectorAll('*')]
    .filter((el) => right(el) > limit && !(el.parentElement && right(el.parentElement) > limit))
    .slice(0, 5)
    .map((el) => `${name(el)} ends at ${Math.round(right(el))} px`);
  return {
    title: document.title,
    viewport: document.querySelector('meta[name="viewport"]')?.content ?? null,
    scroll_width: document.scrollingElement.scrollWidth,
    images, svgs, overflowing,
    figures: document.querySelectorAll('figure').length,
  };
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A fresh headless Chromium (its own user-data-dir) with a 1280 px wide viewport."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `make browser` (as root: "
            "apt-get install -y chromium) or set SDS_CHROMIUM to a Chromium binary; "
            "the browser tests need it and are not skipped",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[dev]'", pytrace=False)
    with tempfile.TemporaryDirectory() as profile_dir, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile_dir,
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            viewport={"width": WIDTH, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small generated inputs shared by the reports."""
    root = tmp_path_factory.mktemp("browser")
    paths = {name: root / f"{name}.parquet" for name in ("churn", "current", "ab", "events")}
    synth.make_churn(1_500, seed=1).to_parquet(paths["churn"])
    current = synth.make_churn(1_500, seed=2)
    current["last_login_days"] = current["last_login_days"] * 2
    current.to_parquet(paths["current"])
    synth.make_ab_test(n_users=2_000, seed=1).to_parquet(paths["ab"])
    synth.write_parquet("ab_events", paths["events"], seed=1, n_users=2_000, mislabel_share=0.1)
    return {"root": root, **paths}


@pytest.fixture(scope="module")
def model(data: dict[str, Path]) -> Path:
    """A model trained by ``sds train`` (its report is the ``train`` page)."""
    config = {
        "name": "churn",
        "data": str(data["churn"]),
        "target": "churned",
        "drop": ["customer_id", "retention_call"],
        "protected": ["gender"],
        "candidates": ["dummy", "logistic"],
        "tuning": {"trials": 1, "folds": 2},
    }
    path = data["root"] / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    folder = data["root"] / "model"
    html = data["root"] / "train.html"
    _sds(["train", str(path), "--model-dir", str(folder), "--no-track", "-o", str(html)])
    assert html.exists() and list(folder.rglob("model.json"))
    return folder


def _sds(args: list[str], allowed: tuple[int, ...] = (0,)) -> None:
    result = invoke(args)
    assert result.exit_code in allowed, f"sds {' '.join(args)}: {result.stderr}"


def _profile(data: dict[str, Path], out: Path) -> None:
    _sds(["profile", str(data["churn"]), "-o", str(out)])


def _design(data: dict[str, Path], out: Path) -> None:
    args = ["--data", str(data["ab"]), "--column", "revenue", "--covariate", "pre_revenue"]
    _sds(["design", "mean", *args, "--mde", "0.05", "--looks", "3", "-o", str(out)])


def _analysis(data: dict[str, Path], out: Path) -> None:
    spec = {
        "data": str(data["events"]),
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "date": "ts",
        "segments": ["platform"],
        "resamples": 200,
        "metrics": [
            {
                "name": "orders_per_session",
                "type": "ratio",
                "numerator": "orders",
                "denominator": "sessions",
            },
            {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre_revenue"},
            {"name": "conversion", "type": "proportion", "column": "converted"},
        ],
        "primary": ["orders_per_session"],
    }
    path = out.with_suffix(".yaml")
    path.write_text(yaml.safe_dump(spec))
    _sds(["analyze", str(path), "-o", str(out)])


def _stats(data: dict[str, Path], out: Path) -> None:
    _sds(["stats", "auto", "--data", str(data["ab"]), "--value", "revenue", "--group", "variant",
          "-o", str(out)])  # fmt: skip


def _causal(data: dict[str, Path], out: Path) -> None:
    rng = np.random.default_rng(0)
    n = 1_000
    x = rng.normal(size=(n, 2))
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    frame = pd.DataFrame({"y": t + x[:, 0] + rng.normal(size=n), "t": t, "x1": x[:, 0],
                          "x2": x[:, 1]})  # fmt: skip
    path = out.with_suffix(".parquet")
    frame.to_parquet(path)
    _sds(["causal", "ipw", "--data", str(path), "--outcome", "y", "--treatment", "t",
          "--covariates", "x1,x2", "-o", str(out)])  # fmt: skip


def _train(data: dict[str, Path], out: Path) -> None:
    out.write_bytes((data["root"] / "train.html").read_bytes())


def _evaluate(data: dict[str, Path], out: Path) -> None:
    _sds(["evaluate", "--model", str(data["model"]), "-o", str(out)])


def _monitor(data: dict[str, Path], out: Path) -> None:
    _sds(["monitor", "--reference", str(data["churn"]), "--data", str(data["current"]),
          "-o", str(out)])  # fmt: skip


def _canary(data: dict[str, Path], out: Path) -> None:
    rng = np.random.default_rng(0)
    parts = []
    for variant, count, slow in (("champion", 3_000, 1.0), ("challenger", 1_500, 1.6)):
        parts.append(
            pd.DataFrame(
                {
                    "ts": np.arange(count, dtype=float),
                    "variant": variant,
                    "model_version": "v",
                    "status": np.where(rng.random(count) < 0.01, 500, 200),
                    "latency_ms": rng.gamma(4, 1.5, count) * slow,
                    "prediction": rng.beta(2, 5, count),
                }
            )
        )
    log = out.parent / "canary_log"
    log.mkdir()
    pd.concat(parts).to_parquet(log / "requests-1.parquet")
    _sds(["canary", "report", str(log), "-o", str(out)], allowed=(0, 1))


def _demo_index(data: dict[str, Path], out: Path) -> None:
    """The demo's index page, built by its own builder from two chapters."""
    from sds.data.io import open_table

    chapters = [
        Chapter("Data profile: churn table", profile(str(data["churn"])), "profile.json"),
        Chapter(
            "Test: revenue per user by variant (auto)",
            run(open_table(str(data["ab"])), StatsSpec("auto", value="revenue", group="variant")),
            "stats_revenue.json",
        ),
    ]
    folder = out.parent / "demo"
    index = write_report(folder, "sds demo", chapters)
    assert json.loads((folder / "index.json").read_text())["chapters"]
    out.write_bytes(index.read_bytes())


Builder = Callable[[dict[str, Path], Path], None]

# Every report type, and the fewest figures each must show (the design page has none).
REPORTS: dict[str, tuple[Builder, int]] = {
    "profile": (_profile, 10),
    "design": (_design, 0),
    "analysis": (_analysis, 3),
    "stats": (_stats, 0),
    "causal": (_causal, 1),
    "train": (_train, 4),
    "evaluate": (_evaluate, 4),
    "monitor": (_monitor, 1),
    "canary": (_canary, 0),
    "demo-index": (_demo_index, 10),
}

# The tab title each page shows in Chromium: report type and subject (monitor and canary
# reports have no single subject; the demo index names itself).
TITLES: dict[str, str] = {
    "profile": "Data profile: churn.parquet — sds",
    "design": "Experiment plan: mean — sds",
    "analysis": "Experiment analysis: events.parquet — sds",
    "stats": "Hypothesis test: Mann-Whitney U (chosen by sds stats auto) — sds",
    "causal": "Causal estimate: t on y — sds",
    "train": "Model training: churn — sds",
    "evaluate": "Model evaluation: churn — sds",
    "monitor": "Drift and service monitor — sds",
    "canary": "Canary report — sds",
    "demo-index": "sds demo",
}


@pytest.mark.parametrize("kind", list(REPORTS))
def test_report_renders_cleanly_in_chromium(
    kind: str,
    browser: Any,
    data: dict[str, Path],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> None:
    build, min_figures = REPORTS[kind]
    report = tmp_path / f"{kind}.html"
    if kind in ("train", "evaluate"):  # trained once, for these two only
        data = {**data, "model": request.getfixturevalue("model")}
    build(data, report)
    shot = SCREENSHOTS / f"{kind}.png"
    seen = _open(browser, report, shot)
    record_property("screenshot", str(shot))
    print(f"screenshot: {shot}")
    assert not seen["errors"], f"{kind}: console/page errors: {seen['errors']}"
    assert seen["viewport"] == "width=device-width, initial-scale=1", kind
    assert seen["title"] == TITLES[kind], kind
    assert seen["scroll_width"] <= WIDTH, (
        f"{kind}: the page is {seen['scroll_width']} px wide at {WIDTH} px; overflowing: "
        f"{seen['overflowing']}"
    )
    bad_images = [i["what"] for i in seen["images"] if not i["ok"]]
    assert not bad_images, f"{kind}: images not decoded or hidden: {bad_images}"
    bad_svgs = [s for s in seen["svgs"] if not (s["shown"] and s["width"] > 0 < s["height"])]
    assert not bad_svgs, f"{kind}: figures not drawn or hidden: {bad_svgs}"
    assert seen["figures"] == report.read_text().count("<figure>") == len(seen["svgs"])
    assert seen["figures"] >= min_figures, f"{kind}: {seen['figures']} figures"
    assert shot.stat().st_size > 10_000


def _open(browser: Any, report: Path, shot: Path | None = None) -> dict[str, Any]:
    """Load the report; what went wrong and what is shown; the full-page screenshot."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def outside(route: Any) -> None:  # a report is self-contained: nothing is fetched
        errors.append(f"request outside the file: {route.request.url}")
        route.abort()

    page.route(lambda url: not url.startswith(("file:", "data:")), outside)
    try:
        page.goto(report.as_uri(), wait_until="load")
        seen: dict[str, Any] = page.evaluate(INSPECT)
        if shot is not None:
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    return {**seen, "errors": errors}


def test_the_checks_catch_a_broken_page(browser: Any, tmp_path: Path) -> None:
    """Each check can fail: a console error, a fetch leaving the file, an image that does not
    decode, a hidden figure and a page wider than 1280 px are all caught and named."""
    cells = "".join(f"<td>{'x' * 60}{i}</td>" for i in range(30))
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html><body><script>console.error('boom')</script>"
        '<img src="http://127.0.0.1:9/missing.png"><img src="data:image/png;base64,AAAA">'
        '<figure><svg width="40" height="40" style="visibility:hidden"></svg></figure>'
        f"<table><tr>{cells}</tr></table></body></html>"
    )
    seen = _open(browser, broken)
    assert "boom" in seen["errors"]
    assert any(
        "request outside the file: http://127.0.0.1:9/missing.png" in e for e in seen["errors"]
    )
    assert [i["ok"] for i in seen["images"]] == [False, False]
    assert [s["shown"] for s in seen["svgs"]] == [False]
    assert seen["scroll_width"] > WIDTH and seen["overflowing"][0].startswith("table")


def test_a_report_with_long_values_stays_inside_the_page(browser: Any, tmp_path: Path) -> None:
    """Long unbroken values (URLs) in a report's tables scroll inside their table, not the
    page: the table wrapper of the HTML renderer."""
    urls = [f"https://example.com/{'x' * 300}/{i % 3}" for i in range(60)]
    path = tmp_path / "long.csv"
    pd.DataFrame({"url": urls}).to_csv(path, index=False)
    report = tmp_path / "long.html"
    _sds(["profile", str(path), "-o", str(report)])
    seen = _open(browser, report)
    assert not seen["errors"] and seen["scroll_width"] <= WIDTH, seen["overflowing"]
    assert 'class="table-wrap"' in report.read_text()
