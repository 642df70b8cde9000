"""Saved web pages: the page's encoding, its main text and its title, date and author.

A researcher usually has the page an article was published on, not its text.
The page is decoded with the charset it declares (or, failing that, the
ingest codecs and a detector), its main text is taken by the extractor
ingest.pages.extractor names (pipeline/corpus/extractors.py; chosen by
measurement on Chinese news pages with gold text, see
`python -m pipeline.corpus.evaluate --pages`), the headline is put first when
the extractor left it out, and the metadata come from the page's own
structure, each value with where it came from. The text then goes through the
same cleaning as a text file; nothing of the markup survives: the extractors
return text, and entities are decoded once, so a `<script>` written inside an
article is article text (escaped wherever the study writes HTML) and never a
live tag.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.common.errors import InputError
from pipeline.common.params import PageParams
from pipeline.corpus.extractors import extract_paragraphs

__all__ = ["PAGE_SUFFIXES", "Page", "decode_page", "headline", "is_page_file", "labelled_date", "read_page", "visible_text"]

log = logging.getLogger("pipeline")

PAGE_SUFFIXES = (".html", ".htm")

# Declared charsets are often the narrower legacy name of a superset the page actually uses (a GBK page
# with a GB18030-only character, a Big5 page with HKSCS characters); the superset decodes both.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """A saved page read as an article: its main text, how it was decoded, and its metadata with their sources."""

    text: str  # the main text, one paragraph a line
    encoding: str  # the codec that decoded the page
    encoding_from: str  # "bom", "declared", "detected" or "ingest codecs"
    title: str
    title_from: str  # where the title came from ("" when none was found)
    date: str  # ISO 8601 (YYYY-MM-DD)
    date_from: str
    author: str
    author_from: str
    page_chars: int  # visible characters of the whole page (no markup, scripts or styles; no whitespace)
    text_chars: int  # characters of the main text (no whitespace)
    extractor: str  # what produced the main text


def is_page_file(name: str) -> bool:
    """True for a file the study reads as a saved web page (.html or .htm, any case).

    Parameters
    ----------
    name : str
        The file's name.

    Returns
    -------
    bool
        Whether its suffix is one of PAGE_SUFFIXES.
    """
    return Path(name).suffix.lower() in PAGE_SUFFIXES


def _codec(name: str) -> str | None:
    """The Python codec for a declared charset name, widened to its superset; None when unknown."""
    import codecs  # the standard library's codec registry, asked only for pages

    label = name.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _can_be_chinese(codec: str, data: bytes) -> bool:
    """False for a declared codec that cannot write Chinese at all (latin-1, cp1252, ...) on a page with
    non-ASCII bytes: such codecs decode any bytes, so a wrong declaration would otherwise turn the page into
    mojibake without an error."""
    try:
        "中文".encode(codec)
    except UnicodeEncodeError:
        return data.isascii()
    return True


def decode_page(data: bytes, path: Path, codecs: list[str], plausibility: Callable[[str], float]) -> tuple[str, str, str]:
    """(text, codec, how the codec was chosen) of a page's bytes.

    A byte-order mark wins, then the charset the page declares (when it decodes the bytes strictly and can
    write Chinese at all), then the
    most plausible strict decoding among the ingest codecs, then charset-normalizer's detection.

    Parameters
    ----------
    data : bytes
        The page as saved.
    path : Path
        The page's file, named in errors.
    codecs : list[str]
        The ingest codecs (ingest.codecs), tried strictly when the declared charset fails.
    plausibility : Callable[[str], float]
        How plausible a decoding is as Chinese text (the character model's mean log probability).

    Returns
    -------
    tuple[str, str, str]
        The decoded page, the codec, and "bom", "declared", "ingest codecs" or "detected".

    Raises
    ------
    InputError
        When no codec decodes the page.
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):  # a browser's "save as Unicode" page
            return data[len(bom):].decode(codec, errors="replace"), codec, "bom"
    match = _META_CHARSET.search(data[:8192])
    if match:
        codec = _codec(match.group(1).decode("ascii", errors="replace"))
        if codec and _can_be_chinese(codec, data):
            try:
                return data.decode(codec), codec, "declared"
            except UnicodeDecodeError:
                pass
    candidates = []
    for order, codec in enumerate(codecs):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        candidates.append((plausibility(visible_text(text)[:20000] or text[:2000]), -order, codec, text))
    if candidates:
        _, _, codec, text = max(candidates)
        return text, codec, "ingest codecs"
    from charset_normalizer import from_bytes  # the detector, only for pages no declared or listed codec decodes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(path, "is a web page whose encoding could not be found (no declared charset decodes it, "
                               f"nor any of {', '.join(codecs)}, nor a detected one); save it as UTF-8 and rerun")
    return str(best), best.encoding, "detected"


_INVISIBLE_ELEMENTS = ("script", "style", "noscript", "template", "head")


def visible_text(html: str) -> str:
    """The text a browser would show of a decoded page: every text node outside scripts, styles and the head.

    Parameters
    ----------
    html : str
        The decoded page.

    Returns
    -------
    str
        The visible text, one block element a line.
    """
    import lxml.html  # only pages need an HTML parser

    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except Exception:  # an empty or unparsable document has no visible text
        return ""
    for element in list(root.iter(*_INVISIBLE_ELEMENTS)):
        if element.getparent() is not None:  # the root itself is never dropped
            element.drop_tree()
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


def _chars(text: str) -> int:
    return sum(not c.isspace() for c in text)


def _iso_date(value: str | None) -> str:
    if not value:
        return ""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    return "-".join(match.groups()) if match else ""


# A date the page itself labels as the article's (发布日期：2017-05-15, 發文日期: 2023年3月31日). Government
# pages carry a template's publication time in their <meta> tags as well, which a CMS rewrites when it republishes
# an old notice; the labelled date on the page is the one a reader sees.
_LABELLED_DATE = re.compile(r"(?:发布|發布|發佈|发表|發表|发文|發文|成文|印发|印發|生成|公布|公佈)(?:日期|时间|時間)\s*[:：]\s*"
                            r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")


def labelled_date(visible: str) -> str:
    """The first date a page's visible text labels as its publication date, as YYYY-MM-DD ("" when none).

    Parameters
    ----------
    visible : str
        The page's visible text (`visible_text`).

    Returns
    -------
    str
        The date, or "" when no labelled date (with a real month and day) is found.
    """
    for match in _LABELLED_DATE.finditer(visible):
        year, month, day = (int(g) for g in match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def _holds_headline(lines: list[str], title: str) -> bool:
    """True when one of the text's first lines already is, or contains, the headline."""
    form = "".join(title.split())
    return any(form in "".join(line.split()) for line in lines[:3])


# What sites put between a headline and their own name in <title>: 标题_频道_新浪网, 標題 | 聯合新聞網.
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--|—|－|\s-\s)\s*")


def headline(html: str, title: str) -> tuple[str, str]:
    """(the article's headline, where it came from): the title a government CMS declares (<meta
    name="ArticleTitle">), else the longest <h1>-<h3> whose text the page's <title> holds, else that title's first
    part before a site-name separator; ("", "") when the page has no title.

    Parameters
    ----------
    html : str
        The decoded page.
    title : str
        The page's title as the metadata reader found it.

    Returns
    -------
    tuple[str, str]
        The headline and "page (heading in title)" or "page (title, site name cut)".
    """
    import lxml.html  # only pages need an HTML parser

    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
        headings = [" ".join(h.text_content().split()) for h in root.iter("h1", "h2", "h3")]
        declared = [" ".join(str(v).split()) for v in root.xpath('//meta[@name="ArticleTitle"]/@content')]
        # The <title> element itself: a metadata reader may offer the site's logo heading in its place.
        title = " ".join((root.findtext(".//title") or "").split()) or title
    except Exception:  # an unparsable page has no headings; the title found by the metadata reader still serves
        headings, declared = [], []
    if declared and declared[0]:
        return declared[0], "page (ArticleTitle meta)"
    form = "".join(title.split())
    if not form:
        return "", ""
    held = [h for h in headings if len("".join(h.split())) >= 4 and "".join(h.split()) in form]
    if held:
        return max(held, key=len), "page (heading in title)"
    return _TITLE_SEPARATORS.split(title.strip())[0].strip(), "page (title, site name cut)"


def read_page(data: bytes, path: Path, codecs: list[str], plausibility: Callable[[str], float],
              settings: PageParams) -> Page:
    """A saved page read as an article.

    Parameters
    ----------
    data : bytes
        The page as saved (never modified).
    path : Path
        The page's file, named in errors.
    codecs : list[str]
        The ingest codecs (ingest.codecs).
    plausibility : Callable[[str], float]
        How plausible a decoding is as Chinese text.
    settings : PageParams
        The page settings of params.yaml (ingest.pages).

    Returns
    -------
    Page
        The main text, the encoding and the metadata with their sources.

    Raises
    ------
    InputError
        When the page cannot be decoded, or nothing usable comes out of it.
    """
    import trafilatura  # only pages need the metadata reader

    html, codec, codec_from = decode_page(data, path, codecs, plausibility)
    visible = visible_text(html)
    page_chars = _chars(visible)
    name = settings.extractor
    lines = extract_paragraphs(html, name)
    meta = trafilatura.extract_metadata(html)
    title, title_from = headline(html, (meta.title or "").strip() if meta else "")
    if settings.headline and title and lines and not _holds_headline(lines, title):
        lines = [title] + lines
    text = "\n".join(lines)
    text = unicodedata.normalize("NFC", text)
    text_chars = _chars(text)
    if text_chars < settings.min_chars:
        raise InputError(path, f"is a web page from which no main text could be taken ({page_chars} visible "
                               f"characters, {text_chars} kept by the extractor, below ingest.pages.min_chars = "
                               f"{settings.min_chars}); save the article's text as a .txt file instead, or remove "
                               "the page and its manifest row")
    date, date_from = labelled_date(visible), "page (labelled date)"
    if not date:
        date, date_from = _iso_date(meta.date if meta else None), "page (htmldate)"
    author = (meta.author or "").strip() if meta else ""
    return Page(text=text, encoding=codec, encoding_from=codec_from,
                title=title, title_from=title_from,
                date=date, date_from=date_from if date else "",
                author=author, author_from="page (trafilatura)" if author else "",
                page_chars=page_chars, text_chars=text_chars, extractor=name)
