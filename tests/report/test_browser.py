"""The report and the LDAvis pages in a real headless browser (Debian's Chromium, driven by Playwright).

Checked on every HTML page of results/: no console errors, Chinese text drawn
with the font embedded in the page (not a system font), and on an LDAvis page
one circle per topic. Screenshots go to the test's temporary folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipeline.common.config import Paths
from pipeline.report.fonts import FAMILY
from pipeline.report.results import read_table
from pipeline.report.tidy import CODE_NAME, MISSING

RESULTS = Paths.at().results
PAGES = sorted(RESULTS.glob("*.html"))
# Marks the first element whose own text is Chinese only (Han characters and
# CJK punctuation), so that every glyph the probe reports is a Chinese one.
MARK_CJK = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (/^[\\u3000-\\u303f\\u4e00-\\u9fff\\uff00-\\uffef]+$/.test(text) && node.parentElement
        && node.parentElement.childNodes.length === 1) {
      node.parentElement.setAttribute('data-cjk-probe', '1');
      return text;
    }
  }
  return null;
}"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed, so the pages cannot be checked in a browser: run `make browser` "
                    "as root (it installs Debian's `chromium` package), or `apt-get install chromium`.")
    return path


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: run `make venv` (it is pinned in requirements.lock)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


def open_page(browser, path: Path, shots: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(shots / f"{path.stem}.png"))
    return page, errors


def font_drawing_cjk(page) -> list[dict]:
    """The fonts Chromium actually used to draw the marked element's text (via the DevTools protocol)."""
    sample = page.evaluate(MARK_CJK)
    assert sample, "the page shows no element of Chinese text alone"
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-cjk-probe]"})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def test_there_are_pages_to_check():
    assert any(p.name == "report.html" for p in PAGES), "results/report.html is missing: run `make results`"
    assert any(p.name.startswith("lda") for p in PAGES), "no LDAvis page in results/: run `make results`"


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_page_loads_without_errors_and_draws_chinese_in_the_embedded_font(browser, path, tmp_path):
    page, errors = open_page(browser, path, tmp_path)
    assert not errors, f"{path.name}: console errors {errors[:3]}"
    assert page.evaluate(f"document.fonts.check('16px \"{FAMILY}\"', '社区治理')")
    loaded = page.evaluate(f"[...document.fonts].filter(f => f.family.replace(/\"/g, '') === '{FAMILY}')"
                           ".map(f => f.status)")
    assert loaded and all(status == "loaded" for status in loaded), f"{path.name}: embedded font {loaded}"
    fonts = font_drawing_cjk(page)
    assert fonts and all(f["isCustomFont"] for f in fonts if f["glyphCount"] > 0), \
        f"{path.name}: Chinese text drawn with {fonts}, not with the embedded font"
    page.close()


def topic_count(page_name: str) -> int:
    """Topics of the model behind an LDAvis page, from its table (lda.html: topics.csv)."""
    table = "topics" if page_name == "lda.html" else re.sub(r"^lda_(\w+)\.html$", r"\1_topics", page_name)
    return int(read_table(RESULTS / "tables" / f"{table}.csv")["topic"].nunique())


@pytest.mark.parametrize("path", [p for p in PAGES if p.name.startswith("lda")],
                         ids=[p.name for p in PAGES if p.name.startswith("lda")])
def test_ldavis_draws_one_circle_per_topic(browser, path, tmp_path):
    page, _ = open_page(browser, path, tmp_path)
    page.wait_for_selector("svg circle", timeout=10000)
    circles = page.evaluate("document.querySelectorAll('svg circle.dot').length")
    assert circles == topic_count(path.name)
    page.close()


# A screen as the report's readers were measured on it: 1280 by 1800 pixels.
SCREEN = {"width": 1280, "height": 1800}
LAYOUT = """() => {
  const top = el => el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : null;
  const heading = [...document.querySelectorAll('h3')].find(h => h.textContent.startsWith('What each article stresses'));
  let table = heading;
  while (table && table.tagName !== 'TABLE') { table = table.nextElementSibling || (table.parentElement &&
      table.parentElement.nextElementSibling); if (table && table.querySelector && table.tagName !== 'TABLE')
      table = table.querySelector('table') || table; }
  const appendix = [...document.querySelectorAll('h1')].find(h => h.textContent.startsWith('Appendix'));
  const cells = [...document.querySelectorAll('td, th')].map(c => c.textContent.trim());
  return {heading: top(heading), table: table ? top(table) : null,
          tableEnd: table ? top(table) + Math.round(table.getBoundingClientRect().height) : null,
          appendix: top(appendix), cells: cells};
}"""


@pytest.fixture(scope="module")
def report_layout(browser):
    page = browser.new_page(viewport=SCREEN)
    page.goto((RESULTS / "report.html").resolve().as_uri(), wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    layout = page.evaluate(LAYOUT)
    page.close()
    return layout


def test_the_findings_table_and_the_first_appendix_are_within_three_screens(report_layout):
    """A reader sees what each place stresses on the first screens, and reaches the appendices in three."""
    assert report_layout["table"] is not None, "the report has no table under 'What each article stresses'"
    assert report_layout["tableEnd"] <= 3 * SCREEN["height"], report_layout
    assert report_layout["appendix"] is not None and report_layout["appendix"] <= 3 * SCREEN["height"], report_layout


def test_no_rendered_table_shows_nan_none_or_a_code_name(report_layout):
    shown = [c for c in report_layout["cells"] if c in MISSING or CODE_NAME.search(c)]
    assert report_layout["cells"] and not shown, f"cells a reader should not see: {shown[:10]}"
