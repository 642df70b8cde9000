"""Article text put into the study's Markdown and LDAvis pages is shown as text, never read as markup."""

from __future__ import annotations

import ast
import html
import json
import re
from html.parser import HTMLParser

import mistune
import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown import markdown2html

from pipeline.common.config import PROJECT_ROOT
from pipeline.report.findings import markdown_table
from pipeline.report.results import md_code, md_text
from pipeline.themes.ldavis import LdavisInputs, ldavis_html, script_json

# The renderers' own wrappers around one paragraph, list or table of escaped text.
WRAPPERS = {"p", "table", "thead", "tbody", "tr", "th", "td"}
FRAGMENTS = ["[点此](javascript:alert(1))", "<社区居民>", "&lt;b&gt;", "&amp;", "<img src=x onerror=alert(1)>",
             "</script>", "<!--", "*", "**", "_", "|", "`", "```", "# ", "- ", "+ ", "1. ", "2) ", "\\", "~~", "$",
             "![x](y.png)", "<http://a.b>", "http://a.b", "www.a.b", "a@b.cn", "---", "===", "> ", "{", "}", "\n",
             "\n\n", "  ", "\t", "&#124;", "&#x3C;", "<b>", "</b>"]
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="社区治理居民党建，。、！“”（）", max_size=4),
                          st.text(alphabet="!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ", max_size=4)),
                max_size=8).map("".join)


class _Seen(HTMLParser):
    """The tags and attributes of rendered HTML, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_endtag(self, tag):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.tags.append("!--")


def _seen(rendered: str) -> _Seen:
    seen = _Seen()
    seen.feed(rendered)
    seen.close()
    return seen


def _squash(text: str) -> str:
    return " ".join(text.split())


def _renderers():
    return {"mistune": mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "url"]),
            "nbconvert": markdown2html}


@pytest.mark.parametrize("renderer", ["mistune", "nbconvert"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_escaped_text_renders_as_itself_and_nothing_else(renderer, text):
    """Raw HTML, a javascript: link, emphasis, code, a list or heading made by the text would show as a tag
    beyond the wrapper, an attribute, or a visible text that differs (a lost `*`, a decoded `&lt;`)."""
    rendered = _renderers()[renderer](f"说明：{md_text(text)}")
    seen = _seen(rendered)
    assert set(seen.tags) <= {"p"}, rendered
    assert not seen.attrs, rendered
    assert _squash("".join(seen.text)) == "说明：" + _squash(text), rendered


@settings(max_examples=150, deadline=None)
@given(text=TEXT)
def test_escaped_text_at_the_start_of_a_line_stays_a_paragraph(text):
    """A template may put the value first on a line (a list item's text, a prose line): "- ", "1. ", "# " or
    "---" there would make a list, heading or rule."""
    rendered = markdown2html(md_text(text))
    seen = _seen(rendered)
    assert set(seen.tags) <= {"p"}, rendered
    assert _squash("".join(seen.text)) == _squash(text), rendered


@settings(max_examples=100, deadline=None)
@given(cells=st.lists(TEXT, min_size=2, max_size=2))
def test_findings_table_cells_hold_their_text_whatever_it_is(cells):
    """A pipe, a line break or markup in a title or passage would split the cell, end the row or render."""
    rendered = markdown2html(markdown_table(["a", "b"], [cells]))
    seen = _seen(rendered)
    assert set(seen.tags) <= WRAPPERS, rendered
    assert not seen.attrs or all(name == "style" for name, _ in seen.attrs), rendered
    body = rendered.split("<tbody>")[1]
    found = [_squash(html.unescape(re.sub(r"<[^>]+>", "", c))) for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
    assert found == [_squash(c) for c in cells], rendered


def test_ordinary_text_and_numbers_are_left_as_written():
    """Chinese text, full-width punctuation, parentheses, numbers and percentages need no escape: a change
    here would fill the README with backslashes and hide numbers from the prose checks."""
    for text in ("社区治理：党建引领，五网智治（合肥市）", "0.35 (0.20, 0.41)", "-0.5", "1.5", "96%", "(first piloted)"):
        assert md_text(text) == text


def test_missing_values_are_empty_text():
    assert md_text(None) == md_text(float("nan")) == md_text(np.float64("nan")) == ""


def test_a_line_break_in_the_text_becomes_a_space():
    assert md_text("上一行\n\n下一行") == "上一行 下一行"


@pytest.mark.parametrize("text", ["a`b", "`x", "``", "<b>&amp;</b>", "乱码|文字"])
def test_a_code_span_holds_its_text_whatever_backticks_it_has(text):
    rendered = markdown2html(md_code(text))
    seen = _seen(rendered)
    assert seen.tags == ["p", "code", "code", "p"], rendered
    assert "".join(seen.text).strip() == text


def test_script_json_leaves_nothing_html_reads_and_the_same_value():
    value = {"term": ["</script><script>alert(1)</script>", "<!--", "a&b", "x\u2028y\u2029z"]}
    text = script_json(json.dumps(value, ensure_ascii=False))
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == value


def _tiny_inputs(evil: str) -> LdavisInputs:
    vocab = ["社区", "治理", evil, "居民", "党建", "服务"]
    rng = np.random.default_rng(0)
    topic_term = rng.dirichlet(np.ones(len(vocab)), size=3)
    doc_topic = rng.dirichlet(np.ones(3), size=8)
    return LdavisInputs(topic_term_dists=topic_term, doc_topic_dists=doc_topic, doc_lengths=np.full(8, 20),
                        vocab=vocab, term_frequency=np.array([40, 30, 10, 25, 30, 25]), terms=6)


def test_an_ldavis_term_that_closes_the_script_stays_data():
    """Without the escape the term ends the data's script block and opens one of its own: the page then has
    more script elements than its three, and the embedded JSON no longer parses to the vocabulary."""
    evil = "</script><script>alert(1)</script><!--"
    page = ldavis_html(_tiny_inputs(evil), "t", "n")

    class Scripts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.bodies, self.inside = [], False

        def handle_starttag(self, tag, attrs):
            if tag == "script":
                self.inside = True
                self.bodies.append("")

        def handle_endtag(self, tag):
            if tag == "script":
                self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.bodies[-1] += data

    scripts = Scripts()
    scripts.feed(page)
    assert len(scripts.bodies) == 3  # d3, LDAvis, and the call with the data
    call = scripts.bodies[-1].strip()
    data = json.loads(call[call.index(",") + 1:call.rindex(")")])
    assert evil in data["tinfo"]["Term"]


_TEXT_COLUMNS = {"left", "right", "match", "term", "label", "place", "title", "author", "source", "notes", "gloss",
                 "concept", "expected", "status", "home", "dimension", "line"}
_TEXT_VARIABLES = {"place", "line", "leader", "top_province", "TERM", "low", "high", "dimension", "term"}


def _in_code_span(joined: ast.JoinedStr) -> set[int]:
    """The interpolations written between backticks: identifiers (unit ids, dimension keys) shown as code."""
    parts, inside = joined.values, set()
    for before, value, after in zip(parts, parts[1:], parts[2:]):
        if (isinstance(value, ast.FormattedValue) and isinstance(before, ast.Constant) and isinstance(after, ast.Constant)
                and str(before.value).endswith("`") and str(after.value).startswith("`")):
            inside.add(id(value))
    return inside


def _unescaped_values(source: str) -> list[str]:
    """The interpolations of an f-string passed (directly or by a name bound to one) to say() or Markdown()
    that name a table's text column (r.place, r['title'], k.left, place, line...) outside md_text()."""
    found = []
    tree = ast.parse(source)
    # glossed() returns a plain "term “gloss”" for tables too; its callers escape what it returns (checked below).
    helpers = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "glossed"
               for n in ast.walk(f)}
    coded = {i for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) for i in _in_code_span(j)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FormattedValue) or id(node) in helpers | coded:
            continue
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", None) in {"md_text", "md_code"}:
            continue
        names = {n.attr for n in ast.walk(value) if isinstance(n, ast.Attribute)}
        names |= {n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        if isinstance(value, ast.Name) and value.id not in _TEXT_VARIABLES:
            continue
        calls = {getattr(n.func, "id", None) for n in ast.walk(value) if isinstance(n, ast.Call)}
        if {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} & {"md_text", "md_code"}:
            continue
        if names & _TEXT_COLUMNS or "glossed" in calls or isinstance(value, ast.Name):
            found.append(ast.unparse(value))
    return found


def _markdown_cells():
    for path in sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and ("say(" in cell.source or "Markdown(" in cell.source):
                yield path.name, cell.source


def test_the_check_finds_an_unescaped_kwic_context():
    """The notebook check itself can fail: the KWIC line as it was written before md_text."""
    before = 'shown = [f"`{r.unit_id}` …{r.left}【{r.match}】{r.right}…" for r in rows]\nsay(f"**{place}**")'
    assert _unescaped_values(before) == ["r.left", "r.match", "r.right", "place"]
    assert _unescaped_values('say(f"{n:,} tokens, {share:.0%}, {r.count}× in {r.sentences}")') == []


def test_notebooks_put_table_text_into_markdown_only_through_md_text():
    """A place, term, label or context interpolated raw into a Markdown f-string (in a say() or Markdown()
    cell) is a page a scraped article can write markup into."""
    missing = {name: found for name, source in _markdown_cells() if (found := _unescaped_values(source))}
    assert not missing, missing


def test_notebook_helpers_escape_the_kwic_lines():
    """kwic_lines builds notebook 02's Markdown lines from kwic.csv; its contexts must come out escaped."""
    source = next(s for name, s in _markdown_cells() if name.startswith("02") and "def kwic_lines" in s)
    scope: dict = {}
    exec(compile(ast.Module(body=[n for n in ast.parse(source).body
                                  if isinstance(n, ast.FunctionDef) and n.name == "kwic_lines"], type_ignores=[]),
                 "kwic_lines", "exec"), {"md_text": md_text}, scope)
    kwic = pd.DataFrame({"place": ["合肥市"], "term": ["社区"], "unit_id": ["u1"], "left": ["[点此](javascript:x)"],
                         "match": ["社区"], "right": ["<b>粗</b>"]})
    shown, _ = scope["kwic_lines"](kwic, "合肥市", "社区")
    seen = _seen(markdown2html(shown[0]))
    assert seen.tags == ["p", "code", "code", "p"] and not seen.attrs
