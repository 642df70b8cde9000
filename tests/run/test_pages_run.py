"""A saved web page runs through the whole study with nothing but its manifest row, and markup planted in the
articles (a page's and a text file's) never reaches a token nor comes alive in any HTML page the study writes."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from nbconvert.filters.markdown import markdown2html

from pipeline.common.config import PROJECT_ROOT, Paths
from tests.conftest import copy_project_inputs, made_once
from tests.run.cli_runs import SMALL, command, write_params

PAGE = PROJECT_ROOT / "tests" / "pages_gov" / "html" / "gov02.html"
# The page's headline and date as a reader sees them (tests/pages_gov/pages.csv, labelled by hand).
GOLD = next(r for r in csv.DictReader(open(PROJECT_ROOT / "tests" / "pages_gov" / "pages.csv", encoding="utf-8"))
            if r["id"] == "gov02")
# Written into the page's article body as text (escaped in the page's source, as a page shows such text), then
# a live script and an attribute: none of them may become a word, and none may run in a page the study writes.
ESCAPED_IN_PAGE = ("&lt;script&gt;alert('planted1')&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
                   "[点此查看](javascript:alert(3))&lt;社区居民&gt;")
LIVE_IN_PAGE = "<script>var plantedToken='页面脚本文字';</script><span title=\"属性里的文字\">社区</span>"
# The same kinds of text in a text file, as a scraper leaves them.
IN_TEXT = "<script>alert('planted4')</script>[点此](javascript:alert(5))<社区议事>"
NEVER_TOKENS = ("script", "alert", "onerror", "javascript", "plantedtoken", "页面脚本", "属性里的文字", "img", "src")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def page_run(tmp_path_factory) -> tuple[Paths, Path]:
    """One run of a project copy with the page added (manifest row only) and the markup planted; notebooks
    executed, so that the report is written."""

    def make(folder: Path) -> None:
        project = copy_project_inputs(folder / "project")
        page = PAGE.read_text(encoding="utf-8")
        # the headline the page declares, which documents.csv and the report show
        declared = f'<meta name="ArticleTitle" content="{GOLD["title"]}">'
        assert declared in page
        page = page.replace(declared, declared.replace("正式启动", "&lt;社区居民&gt;正式启动"), 1)
        # inside a paragraph of the article, so that the extractor keeps the text around the planted markup
        body = "<div>　　举办山西品牌丝路行（南美站）活动，"
        assert body in page
        page = page.replace(body, f"{body}{ESCAPED_IN_PAGE}{LIVE_IN_PAGE}", 1)
        (project.raw / "shanxi.html").write_text(page, encoding="utf-8")
        with open(project.manifest_csv, "a", encoding="utf-8", newline="") as handle:
            handle.write("shanxi,shanxi.html,山西省,province,山西省,,,saved page with planted markup\n")
        hefei = project.raw / "002_b9b0226557ee4642.txt"
        text = hefei.read_text(encoding="utf-8")
        anchor = "发挥扩大社区居民参与"
        assert anchor in text
        hefei.write_text(text.replace(anchor, anchor + IN_TEXT, 1), encoding="utf-8")
        params = write_params(project.root, **{**SMALL, "report": {"execute_notebooks": True}})
        done = subprocess.run(command(project, params, "--quiet", results=folder / "results"),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]

    folder = made_once(tmp_path_factory, "page_run", make)
    return Paths.at(folder / "project"), folder / "results"


def test_the_pages_title_and_date_land_in_documents_with_where_they_came_from(page_run):
    _, results = page_run
    docs = pd.read_csv(results / "tables" / "documents.csv", keep_default_na=False, dtype=str).set_index("doc_id")
    row = docs.loc["shanxi"]
    assert row["format"] == "page" and docs.loc["hefei", "format"] == "text"
    assert row["title"] == GOLD["title"].replace("正式启动", "<社区居民>正式启动")
    assert row["title_from"].startswith("page")
    assert row["date"] == GOLD["date"] and row["date_from"].startswith("page")
    assert int(row["chars_page"]) > int(row["chars_raw"]) > 0
    audit = pd.read_csv(results / "tables" / "cleaning_audit.csv", keep_default_na=False, dtype=str)
    extraction = audit[(audit["doc_id"] == "shanxi") & (audit["rule"] == "page_extraction")]
    assert len(extraction) == 1 and "dropped" in extraction["note"].iloc[0]
    # the article's own sentences are there, the page's navigation is not
    clean = (results / "corpus" / "clean" / "shanxi.txt").read_text(encoding="utf-8")
    assert "跨越千山万水" in clean and "举办山西品牌丝路行（南美站）活动，" in clean and "首页" not in clean


def test_no_markup_reaches_a_token(page_run):
    _, results = page_run
    tokens = {t.lower() for line in (results / "corpus" / "units.jsonl").read_text(encoding="utf-8").splitlines()
              for t in json.loads(line)["tokens"]}
    assert not {t for t in tokens if any(word in t for word in NEVER_TOKENS)}
    vocabulary = (results / "exports" / "vocabulary.txt").read_text(encoding="utf-8").lower()
    assert not [w for w in NEVER_TOKENS if re.search(rf"^{w}$", vocabulary, re.MULTILINE)]
    # the angle-bracketed Chinese is article text, kept (and escaped wherever it is shown)
    assert "<社区居民>" in (results / "corpus" / "clean" / "shanxi.txt").read_text(encoding="utf-8")
    assert "<社区议事>" in (results / "corpus" / "clean" / "hefei.txt").read_text(encoding="utf-8")


class _Elements(HTMLParser):
    """Every start tag of a page with its attributes, and each script's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def test_planted_markup_is_never_live_in_any_page_the_study_writes(page_run):
    _, results = page_run
    pages = sorted(results.rglob("*.html"))
    assert {p.name for p in pages} >= {"report.html", "lda.html", "lda_seeded.html"}
    for page in pages:
        source = page.read_text(encoding="utf-8")
        elements = _Elements()
        elements.feed(source)
        assert not [s for s in elements.scripts if re.search(r"alert\(|plantedToken", s)], page.name
        assert not [(t, a) for t, a in elements.tags
                    if "onerror" in a or any("javascript:" in v or "alert(" in v for v in a.values())], page.name
        # angle-bracketed article text shows as text: its bracket is an entity (or a JSON escape) wherever it is
        assert "<社区居民>" not in source and "<社区议事>" not in source, page.name
    report = (results / "report.html").read_text(encoding="utf-8")
    # the planted headline is shown (notebook 01's table of the articles), escaped
    assert "（南美站）&lt;社区居民&gt;正式启动" in report


def test_the_findings_render_planted_text_as_text(page_run):
    _, results = page_run
    findings = (results / "findings.md").read_text(encoding="utf-8")
    rendered = markdown2html(findings)
    elements = _Elements()
    elements.feed(rendered)
    assert "<社区议事>" not in rendered and "<社区居民>" not in rendered
    assert not elements.scripts and not [a for _, a in elements.tags if any("javascript:" in v for v in a.values())]


def test_the_notebooks_markdown_outputs_show_planted_text_escaped(page_run):
    project, _ = page_run
    shown = []
    for notebook in sorted(project.notebooks.glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                shown.append("".join(output.get("data", {}).get("text/markdown", "")))
    text = "\n".join(shown)
    assert not re.search(r"<(?:script|img)\b|\]\(javascript:|<社区", text)
