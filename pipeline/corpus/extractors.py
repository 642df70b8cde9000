"""Main-text extractors for saved web pages, by name, each returning the article's paragraphs as plain text.

The names are the choices of `ingest.pages.extractor` and of `python -m pipeline.corpus.evaluate --pages
--extractor NAME`, where each was measured on Chinese news pages with gold text:

- `trafilatura`, `trafilatura_precision`, `trafilatura_recall`: trafilatura's default, precision and recall modes;
- `trafilatura_tidy`: trafilatura's default, with its table rows (`| cell | cell |`, mostly layout tables of
  navigation on older sites) reduced to their prose cells, and lines repeating an earlier line dropped;
- `readability`: readability-lxml's article block, split into its block elements;
- (no jusText stoplist variant: jusText 3.0.2 ships no Chinese stoplist, `get_stoplist("Chinese")` raises,
  and its stop-word density counts whitespace-separated words, which unspaced Chinese does not have);
- `justext_length`: jusText without a stoplist (length and link density only);
- `justext_punct`: jusText's context-sensitive pass over our own context-free classification, where the
  density of full-width sentence punctuation stands in for stop-word density (jusText has no hook for a
  character-level density, so that one function is ours);
- `both`: trafilatura's paragraphs that readability's block also holds (a cross-check for precision);
- `union`: trafilatura's paragraphs, then readability's that trafilatura lacks;
- `recall_in_readability`: trafilatura's recall mode, kept only where readability's block holds it;
- `tidy_in_readability`, `tidy_union`: `both` and `union` on trafilatura_tidy's lines;
- `tidy_checked`: trafilatura_tidy's lines, of which those that do not read as prose (no sentence punctuation)
  are kept only where readability's block holds them; when readability's block is under a fifth of
  trafilatura's text (readability missed the article), no line is checked.

Every extractor returns text only: parsers decode entities once and drop comments, scripts and styles, so an
escaped `&lt;script&gt;` in an article comes out as the literal text `<script>`.
"""

from __future__ import annotations

import re
from typing import Callable

__all__ = ["EXTRACTORS", "extract_paragraphs", "html_lines", "tidy_lines"]

_BLOCKS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article",
           "blockquote", "pre", "dd", "dt", "dl", "center", "form", "header", "footer", "td", "th"}
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "select", "textarea")
# Full-width sentence punctuation: prose has one every 20-40 characters, navigation and link lists almost none.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PUNCT = set("，。；：！？、“”「」（）")


def html_lines(fragment: str) -> list[str]:
    """The text lines of an HTML document or fragment: one block element (or <br>) a line, no markup.

    Parameters
    ----------
    fragment : str
        Decoded HTML.

    Returns
    -------
    list[str]
        The non-empty lines, whitespace inside each collapsed to single spaces.
    """
    import lxml.html  # only pages need an HTML parser

    fragment = _CONTROL.sub("", fragment)  # lxml refuses to set a text holding C0 control characters
    try:
        root = lxml.html.document_fromstring(fragment.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except Exception:  # an empty or unparsable fragment has no text
        return []
    for element in list(root.iter(*_DROP)):
        if element.getparent() is not None:
            element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments and processing instructions carry no text
            continue
        if element.tag in _BLOCKS or element.tag == "br":
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return [line for line in lines if line]


def _trafilatura(html: str, mode: str) -> list[str]:
    import trafilatura  # heavy: loaded only when a page is read

    text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=True,
                               favor_precision=mode == "precision", favor_recall=mode == "recall",
                               deduplicate=False, with_metadata=False) or ""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _prose_cell(cell: str) -> bool:
    """A table cell that reads as article text: sentence punctuation in 15+ characters, or 40+ characters."""
    form = "".join(cell.split())
    return (len(form) >= 15 and any(c in _PUNCT for c in form)) or len(form) >= 40


def tidy_lines(lines: list[str]) -> list[str]:
    """Table rows (`| cell | cell |`) reduced to their prose cells, and lines repeating an earlier one dropped.

    Parameters
    ----------
    lines : list[str]
        Extracted lines, trafilatura's table rows among them.

    Returns
    -------
    list[str]
        The lines tidied, in order.
    """
    kept: list[str] = []
    seen: set[str] = set()
    for line in lines:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line) if _prose_cell(c)]
            line = " ".join(c.replace("\\|", "|") for c in cells)
        form = "".join(line.split())
        if form and form not in seen:
            kept.append(line)
            seen.add(form)
    return kept


def _readability(html: str) -> list[str]:
    from readability import Document  # heavy: loaded only when a page is read

    try:
        summary = Document(html).summary(html_partial=True)
    except Exception:  # readability raises on pages with no body; then it has no article
        return []
    return html_lines(summary)


def _justext_paragraphs(html: str, punct: bool) -> list[str]:
    import justext  # heavy: loaded only when a page is read
    from justext.core import ParagraphMaker, classify_paragraphs, html_to_dom, preprocessor, \
        revise_paragraph_classification

    try:
        dom = preprocessor(html_to_dom(html.encode("utf-8"), encoding="utf-8"))
    except Exception:  # jusText raises on empty documents
        return []
    paragraphs = ParagraphMaker.make_paragraphs(dom)
    if punct:
        for paragraph in paragraphs:
            paragraph.heading = bool(paragraph.is_heading)
            text = "".join(paragraph.text.split())
            density = sum(c in _PUNCT for c in text) / max(len(text), 1)
            if paragraph.links_density() > 0.2 or "select" in paragraph.dom_path:
                paragraph.cf_class = "bad"
            elif len(text) < 15:
                paragraph.cf_class = "short" if paragraph.chars_count_in_links == 0 else "bad"
            elif density >= 0.03:
                paragraph.cf_class = "good" if len(text) > 60 else "neargood"
            elif density >= 0.015:
                paragraph.cf_class = "neargood"
            else:
                paragraph.cf_class = "bad"
    else:
        classify_paragraphs(paragraphs, frozenset(), length_low=30, length_high=100, stopwords_low=0,
                            stopwords_high=0)
    revise_paragraph_classification(paragraphs, justext.core.MAX_HEADING_DISTANCE_DEFAULT)
    return [" ".join(p.text.split()) for p in paragraphs if not p.is_boilerplate and p.text.strip()]


def _form(line: str) -> str:
    return "".join(line.split())


def _grams(text: str, n: int = 5) -> set[str]:
    return {text[i:i + n] for i in range(max(len(text) - n + 1, 1))}


def _held(line: str, other: str, other_grams: set[str], share: float = 0.5) -> bool:
    """True when `other` holds the line: a substring for short lines, else at least `share` of its 5-grams."""
    form = _form(line)
    if len(form) < 10:
        return form in other
    grams = _grams(form)
    return len(grams & other_grams) >= share * len(grams)


def _cross(primary: list[str], check: list[str]) -> list[str]:
    other = "".join(_form(line) for line in check)
    grams = _grams(other)
    return [line for line in primary if _held(line, other, grams)]


def _union(primary: list[str], extra: list[str]) -> list[str]:
    other = "".join(_form(line) for line in primary)
    grams = _grams(other)
    return primary + [line for line in extra if not _held(line, other, grams)]


_SENTENCE = set("，。！？；")


def _checked(lines: list[str], check: list[str]) -> list[str]:
    """Lines that read as prose, and the others only where `check` holds them (see the module docstring)."""
    other = "".join(_form(line) for line in check)
    if len(other) < 0.2 * sum(len(_form(line)) for line in lines):
        return lines
    grams = _grams(other)
    return [line for line in lines if any(c in _SENTENCE for c in line) or _held(line, other, grams)]


EXTRACTORS: dict[str, Callable[[str], list[str]]] = {
    "trafilatura": lambda html: _trafilatura(html, "default"),
    "trafilatura_precision": lambda html: _trafilatura(html, "precision"),
    "trafilatura_recall": lambda html: _trafilatura(html, "recall"),
    "trafilatura_tidy": lambda html: tidy_lines(_trafilatura(html, "default")),
    "readability": _readability,
    "justext_length": lambda html: _justext_paragraphs(html, punct=False),
    "justext_punct": lambda html: _justext_paragraphs(html, punct=True),
    "both": lambda html: _cross(_trafilatura(html, "default"), _readability(html)),
    "union": lambda html: _union(_trafilatura(html, "default"), _readability(html)),
    "recall_in_readability": lambda html: _cross(_trafilatura(html, "recall"), _readability(html)),
    "tidy_in_readability": lambda html: _cross(tidy_lines(_trafilatura(html, "default")), _readability(html)),
    "tidy_checked": lambda html: _checked(tidy_lines(_trafilatura(html, "default")), _readability(html)),
    "tidy_union": lambda html: tidy_lines(_union(_trafilatura(html, "default"), _readability(html))),
}


def extract_paragraphs(html: str, name: str) -> list[str]:
    """The main text of a decoded page by the named extractor, one paragraph an item.

    Parameters
    ----------
    html : str
        The decoded page.
    name : str
        One of EXTRACTORS.

    Returns
    -------
    list[str]
        The paragraphs (possibly none), plain text.
    """
    if name not in EXTRACTORS:
        raise ValueError(f"unknown page extractor {name!r}; one of {', '.join(EXTRACTORS)}")
    return [_CONTROL.sub("", line) for line in EXTRACTORS[name](html)]
