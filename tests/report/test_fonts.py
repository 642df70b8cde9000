"""The CJK font subset embedded in the HTML pages."""

from __future__ import annotations

import base64
import io
import re

import pytest
from fontTools.ttLib import TTFont

from pipeline.figures.plotting import cjk_font_path
from pipeline.report.fonts import FAMILY, embed_font, page_characters, subset_font


def test_page_characters_reads_text_entities_and_json_escapes_but_not_latin():
    page = '<p>社区 &#x7F51;&#26684;</p><script>var d = {"t": "\\u667a\\u6167"};</script> abc'
    assert page_characters(page) == set("社区网格智慧")


def test_subset_holds_exactly_the_pages_characters_and_is_reproducible():
    first, second = subset_font(cjk_font_path(), "社区治理"), subset_font(cjk_font_path(), "治理社区")
    assert first == second
    cmap = TTFont(io.BytesIO(first)).getBestCmap()
    assert set(map(chr, cmap)) == set("社区治理")


def test_a_kept_subset_is_the_subset_cut_anew_and_is_reused(tmp_path):
    fresh = subset_font(cjk_font_path(), "社区治理")
    assert subset_font(cjk_font_path(), "治理社区", tmp_path) == fresh
    kept = list(tmp_path.glob("font-subset-*.pickle"))
    assert len(kept) == 1
    # read back, not cut again: the kept entry is what comes out
    stamp = kept[0].stat().st_mtime_ns
    assert subset_font(cjk_font_path(), "社区治理", tmp_path) == fresh
    assert kept[0].stat().st_mtime_ns == stamp
    # other characters are another entry
    subset_font(cjk_font_path(), "网格", tmp_path)
    assert len(list(tmp_path.glob("font-subset-*.pickle"))) == 2


def test_embedded_page_carries_a_font_face_before_head_end_once():
    page = embed_font("<html><head><title>t</title></head><body>网格化</body></html>", cjk_font_path())
    style_at, head_end = page.index(f'font-family: "{FAMILY}"; src: url(data:font/otf;base64,'), page.index("</head>")
    assert style_at < head_end
    data = re.search(r"base64,([A-Za-z0-9+/=]+)\)", page).group(1)
    assert set(map(chr, TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap())) == set("网格化")
    with pytest.raises(ValueError, match="already"):
        embed_font(page, cjk_font_path())
