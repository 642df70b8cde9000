"""Embed the figures' CJK font in the HTML pages, so that they render on a machine without one.

The report and the LDAvis pages are opened in browsers that may have no
Chinese font at all; every Chinese term would then be an empty box. Each page
therefore carries, as a data URL, a subset of the font the figures use (Noto
Sans CJK SC, shipped by the `mplfonts` package), holding exactly the
characters the page shows. Its `unicode-range` limits it to CJK code points,
so Latin text keeps the page's own fonts.

The subset is an uncompressed OpenType file (no WOFF compression), so that
its bytes depend only on the font and the characters, not on a compression
library's version; the source font's timestamps are kept (fontTools would
otherwise stamp the time of saving into the `head` table).
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
from pathlib import Path
from typing import Iterable

from pipeline.common.artifacts import artifact, artifact_key

__all__ = ["FAMILY", "MARKER", "UNICODE_RANGE", "embed_font", "font_style", "is_cjk", "page_characters", "subset_font"]

FAMILY = "StudyCJK"
MARKER = "study-cjk-font"
# CJK punctuation, kana, ideographs, compatibility forms and full-width forms.
UNICODE_RANGE = "U+2E80-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF, U+20000-2FA1F"
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
# No hinting (browsers hint CJK outlines themselves); every layout feature kept.
_SUBSET_OPTIONS = {"hinting": False, "layout_features": ["*"]}


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFE30 <= code <= 0xFE4F
            or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x2FA1F)


def page_characters(page: str) -> set[str]:
    """The CJK characters a page can show: in its text, its HTML entities and its JSON \\u escapes."""
    text = html_lib.unescape(page)
    escaped = "".join(chr(int(code, 16)) for code in _ESCAPED.findall(page))
    # Each distinct character tested once: an LDAvis page holds hundreds of thousands.
    return {ch for ch in set(text) | set(escaped) if is_cjk(ch)}


def subset_font(font_path: Path, characters: Iterable[str], artifacts: Path | None = None) -> bytes:
    """An OpenType subset of the font holding the given characters.

    Parameters
    ----------
    font_path : Path
        The font file the subset is cut from.
    characters : Iterable[str]
        The characters the subset holds.
    artifacts : Path or None, optional
        A startup-artifacts folder (`Paths.artifacts`) that keeps each subset under the digest of the font,
        the characters and fontTools' version, since cutting one takes about a second and the pages of a
        rerun mostly show the same characters; None cuts it every time.

    Returns
    -------
    bytes
        The subset, an uncompressed OpenType file.
    """
    if artifacts is not None:
        chars = sorted(set(characters))
        key = artifact_key([font_path], {"characters": "".join(chars), "options": _SUBSET_OPTIONS},
                           ["fonttools"])
        return artifact(artifacts, "font-subset", key, lambda: subset_font(font_path, chars))
    # fontTools is loaded only when a font is subset
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    for name, value in _SUBSET_OPTIONS.items():
        setattr(options, name, value)
    # The source font's bounding boxes are kept: they bound the subset's glyphs
    # too, and recomputing them draws every glyph's outline (a third of the time).
    font = TTFont(str(font_path), recalcTimestamp=False, recalcBBoxes=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(ch) for ch in set(characters)))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def font_style(font: bytes) -> str:
    encoded = base64.b64encode(font).decode("ascii")
    return (f'<style id="{MARKER}">\n'
            f'@font-face {{ font-family: "{FAMILY}"; src: url(data:font/otf;base64,{encoded}) format("opentype"); '
            f'unicode-range: {UNICODE_RANGE}; }}\n'
            f'body, p, li, td, th, h1, h2, h3, h4, span, div, a, text {{ font-family: "{FAMILY}", system-ui, '
            f'-apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }}\n'
            f'pre, code {{ font-family: "{FAMILY}", ui-monospace, Menlo, Consolas, monospace; }}\n'
            f'</style>\n')


def embed_font(page: str, font_path: Path, artifacts: Path | None = None) -> str:
    """The page with a subset of the font embedded before </head> (or at the top when it has no head).

    Parameters
    ----------
    page : str
        An HTML page of the results.
    font_path : Path
        The CJK font file the subset is cut from.
    artifacts : Path or None, optional
        Where subsets are kept between runs (`subset_font`); None cuts it every time.

    Returns
    -------
    str
        The page with the subset holding its characters embedded; unchanged when it has no CJK character.
    """
    if f'id="{MARKER}"' in page:
        raise ValueError("the page already embeds the study's CJK font")
    characters = page_characters(page)
    if not characters:
        return page
    style = font_style(subset_font(font_path, characters, artifacts))
    head_end = page.find("</head>")
    return page[:head_end] + style + page[head_end:] if head_end >= 0 else style + page
