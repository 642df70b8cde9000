"""Saved web pages: decoding (declared, undeclared, wrong charset, BOM), main text without markup, errors."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.common.errors import InputError
from pipeline.common.params import PageParams
from pipeline.corpus.charmodel import CharModel
from pipeline.corpus.extractors import EXTRACTORS, html_lines, tidy_lines
from pipeline.corpus.pages import decode_page, headline, read_page
from pipeline.corpus.script import make_converter

CODECS = ["utf-8", "gb18030", "big5hkscs", "big5"]
SIMPLIFIED = [
    "城乡社区是人民群众安居乐业的家园，是社会治理的基本单元。近年来，各地不断完善社区治理体系，推动服务下沉。",
    "街道党工委牵头建立居民议事会，每月召开一次，由居民代表、物业企业和社区民警共同商议小区的公共事务。",
    "社区工作者表示，议事会让居民的意见有了表达渠道，加装电梯、停车难等问题都在协商中逐步得到解决。",
]
TRADITIONAL = [
    "城鄉社區是人民群眾安居樂業的家園，是社會治理的基本單元。近年來，各地不斷完善社區治理體系，推動服務下沉。",
    "街道黨工委牽頭建立居民議事會，每月召開一次，由居民代表、物業企業和社區民警共同商議小區的公共事務。",
    "社區工作者表示，議事會讓居民的意見有了表達渠道，加裝電梯、停車難等問題都在協商中逐步得到解決。",
]
CHROME = "<div class='nav'><a href='/'>首页</a> | <a href='/news'>新闻中心</a> | <a href='/about'>关于我们</a></div>"
CHROME_T = "<div class='nav'><a href='/'>首頁</a> | <a href='/news'>新聞中心</a> | <a href='/about'>關於我們</a></div>"
# Long paragraphs: jusText calls a paragraph good only from 60-100 characters on.
LONG = [p + p for p in SIMPLIFIED]


def page(paragraphs: list[str], charset: str | None = None, extra_body: str = "", head: str = "") -> str:
    traditional = paragraphs is TRADITIONAL  # a Big5 page cannot hold simplified characters
    nav, title, footer = (CHROME_T, "社區議事會", "版權所有") if traditional else (CHROME, "社区议事会", "版权所有")
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head>{meta}<title>{title}</title>{head}</head><body>{nav}"
            f"<div id='content' class='article'><h1>{title}</h1>{body}{extra_body}</div>"
            f"<div class='footer'><a href='/copyright'>{footer}</a></div>"
            "</body></html>")


@pytest.fixture(scope="module")
def plausibility():
    return CharModel.from_jieba_dictionary(make_converter()).mean_logp


SETTINGS = PageParams(extractor="trafilatura", headline=False, min_chars=50)


def read(data: bytes, plausibility, settings: PageParams = SETTINGS, name: str = "page.html"):
    return read_page(data, Path(name), CODECS, plausibility, settings)


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("codec,paragraphs,declared", [
    ("gbk", SIMPLIFIED, "gbk"), ("gbk", SIMPLIFIED, None), ("gb2312", SIMPLIFIED, "gb2312"),
    ("big5", TRADITIONAL, "big5"), ("big5", TRADITIONAL, None),
])
def test_legacy_encodings_decode_with_and_without_a_declared_charset(codec, paragraphs, declared, plausibility):
    data = page(paragraphs, declared).encode(codec)
    result = read(data, plausibility)
    for paragraph in paragraphs:
        assert paragraph in result.text
    assert result.encoding_from == ("declared" if declared else "ingest codecs")


def test_a_wrong_declared_charset_that_fails_strictly_falls_back(plausibility):
    data = page(SIMPLIFIED, "utf-8").encode("gbk")  # declares UTF-8, is GBK
    result = read(data, plausibility)
    assert SIMPLIFIED[0] in result.text
    assert result.encoding == "gb18030"


def test_a_declared_single_byte_charset_does_not_turn_chinese_into_mojibake(plausibility):
    data = page(SIMPLIFIED, "iso-8859-1").encode("gbk")  # latin-1 decodes any bytes, wrongly
    result = read(data, plausibility)
    assert SIMPLIFIED[0] in result.text


def test_a_byte_order_mark_wins(plausibility):
    data = b"\xef\xbb\xbf" + page(SIMPLIFIED, "gbk").encode("utf-8")  # the BOM is right, the declaration wrong
    result = read(data, plausibility)
    assert result.encoding_from == "bom"
    assert SIMPLIFIED[1] in result.text


def test_a_page_with_nothing_usable_raises_naming_the_file(plausibility):
    data = f"<html><head><title>x</title></head><body>{CHROME}</body></html>".encode("utf-8")
    with pytest.raises(InputError) as caught:
        read(data, plausibility, name="empty_page.html")
    assert "empty_page.html" in str(caught.value)


@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
def test_script_and_style_content_never_reach_the_text(extractor, plausibility):
    extra = ("<script>var secret = 'SCRIPTBODY';</script><style>.x{color:red} STYLEBODY</style>"
             "<noscript>NOSCRIPTBODY</noscript><!-- COMMENTBODY -->")
    data = page(LONG, "utf-8", extra_body=extra, head="<script>HEADSCRIPT()</script>").encode("utf-8")
    text = read(data, plausibility, SETTINGS.model_copy(update={"extractor": extractor})).text
    for marker in ("SCRIPTBODY", "STYLEBODY", "NOSCRIPTBODY", "COMMENTBODY", "HEADSCRIPT", "<p", "</", "&lt;"):
        assert marker not in text


@pytest.mark.parametrize("extractor", ["trafilatura", "readability", "both", "justext_punct", "tidy_checked"])
def test_escaped_markup_inside_an_article_is_kept_as_literal_text(extractor, plausibility):
    quoted = "网络安全课上，老师演示了攻击者如何在留言中写入&lt;script&gt;标签，提醒居民不要点击陌生链接，注意保护个人信息。"
    data = page(LONG + [quoted + quoted], "utf-8").encode("utf-8")
    text = read(data, plausibility, SETTINGS.model_copy(update={"extractor": extractor})).text
    assert "写入<script>标签" in text
    assert "&lt;" not in text and "&gt;" not in text


def test_extraction_is_deterministic(plausibility):
    data = page(SIMPLIFIED, "gbk").encode("gbk")
    first = read(data, plausibility)
    for _ in range(3):
        assert read(data, plausibility) == first


def test_the_headline_goes_first_only_when_the_text_lacks_it(plausibility):
    data = page(SIMPLIFIED, "utf-8").encode("utf-8")
    with_headline = read(data, plausibility, SETTINGS.model_copy(update={"headline": True})).text.splitlines()
    assert with_headline[0] == "社区议事会"
    assert with_headline.count("社区议事会") == 1


def test_the_extractor_setting_names_exactly_the_extractors():
    allowed = typing.get_args(PageParams.model_fields["extractor"].annotation)
    assert set(allowed) == set(EXTRACTORS)


def test_html_lines_puts_each_block_on_its_own_line():
    assert html_lines("<div><p>甲&amp;乙</p><p>丙<br>丁</p><script>x()</script></div>") == ["甲&乙", "丙", "丁"]


_TEXT = st.text(alphabet=st.sampled_from(list("社区治理居民议事会服务街道，。！？<>&\"'；：ab1 ")), min_size=20,
                max_size=120).filter(lambda s: len(squeeze(s)) >= 20)


STUDY = PageParams(extractor="tidy_checked", headline=True, min_chars=50)


@pytest.mark.parametrize("choice", [SETTINGS, STUDY], ids=["trafilatura", "study"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paragraph=_TEXT)
def test_any_article_paragraph_comes_out_whole_and_without_markup(choice, paragraph, plausibility):
    import html as html_module  # the escaping a page's author (or CMS) applies to article text

    data = page(SIMPLIFIED + [html_module.escape(paragraph)], "utf-8").encode("utf-8")
    text = read(data, plausibility, choice).text
    assert squeeze(paragraph) in squeeze(text)
    assert "<p" not in text and "</" not in text and "<div" not in text and "<a " not in text


def test_the_study_settings_are_the_measured_choice(project_params):
    assert project_params.ingest.pages == STUDY


def test_decode_page_names_its_source_for_a_declared_charset(plausibility, tmp_path):
    text, codec, how = decode_page(page(TRADITIONAL, "big5").encode("big5"), tmp_path / "p.html", CODECS,
                                   plausibility)
    assert (codec, how) == ("big5hkscs", "declared")
    assert TRADITIONAL[2] in text


def test_the_headline_is_the_heading_the_title_holds_or_the_title_without_the_site_name():
    assert headline("<h1>新浪网</h1><h1>居民议事会成立</h1>", "居民议事会成立_新闻中心_新浪网") == \
        ("居民议事会成立", "page (heading in title)")
    assert headline("<p>无标题</p>", "產官學研合作 打造醫療雲 | 財經 | 聯合新聞網") == \
        ("產官學研合作 打造醫療雲", "page (title, site name cut)")
    assert headline("<h1>x</h1>", "") == ("", "")


def test_tidy_keeps_prose_cells_of_table_rows_and_drops_repeats():
    rows = ["| 首頁 | 新聞 | 財經 |", "| 行政院科技會報將在18日召開會議，結合企業與學界打造醫療雲。 | 轉寄 |",
            "段落一，内容完整。", "段落一，内容完整。"]
    assert tidy_lines(rows) == ["行政院科技會報將在18日召開會議，結合企業與學界打造醫療雲。", "段落一，内容完整。"]


@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
def test_control_characters_in_a_page_neither_crash_nor_reach_the_text(extractor, plausibility):
    # Real pages carry stray C0 control characters (a vertical tab, a NUL from a broken CMS) in their text;
    # lxml refuses them as element text.
    data = page([p.replace("，", "\x0b，", 1).replace("。", "\x01。", 1) for p in LONG], "utf-8").encode("utf-8")
    text = read(data, plausibility, STUDY.model_copy(update={"extractor": extractor})).text
    assert "\x0b" not in text and "\x01" not in text
    assert squeeze(SIMPLIFIED[0]) in squeeze(text)
