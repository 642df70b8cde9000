"""Cleaning rules on real snippets of the corpus, and properties of the whole cleaner."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT
from pipeline.corpus import clean
from pipeline.corpus.edits import replay
from tests.conftest import raw_text

PATTERNS = clean.load_boilerplate(PROJECT_ROOT / "lexicon" / "boilerplate.yaml")
RULES = clean.default_rules(PATTERNS, garble_rule=None)


def run(text: str) -> tuple[str, list[dict]]:
    return clean.clean_text(text, RULES)


def rules_applied(text: str) -> set[str]:
    return {row["rule"] for row in run(text)[1]}


# ---------------------------------------------------------------- pinyin ---

def test_pinyin_readings_removed_real_parentheticals_kept():
    snippet = "蘇州市社會治理現代化示範鎮(zhèn)(村),兩個(gè)村入選全國(guó)村級(jí)議事協(xié)商創(chuàng)新實(shí)驗(yàn)試點(diǎn)單位"
    out, audit = run(snippet)
    assert out == "蘇州市社會治理現代化示範鎮(村),兩個村入選全國村級議事協商創新實驗試點單位"
    assert {row["rule"] for row in audit} == {"pinyin_reading"}
    assert [row["before"] for row in audit][:2] == ["(zhèn)", "(gè)"]


@pytest.mark.parametrize("kept", ["村(社区)协商工作委员会", "《條例(試行)》", "專職網格員(网格员)",
                                  "社区(APP)平台", "第(1)条", "村民(代表)会议"])
def test_real_parentheticals_survive(kept):
    assert run(kept)[0] == kept


@pytest.mark.parametrize("token,expected", [("lái", True), ("zhǎng", True), ("xiàn", True), ("de", True),
                                            ("APP", False), ("abc", False), ("wifi", False), ("ok", False)])
def test_is_pinyin_reading(token, expected):
    assert clean.is_pinyin_reading(token) is expected


def test_no_pinyin_left_in_traditional_articles():
    for doc_id in ("suzhou", "huainan"):
        out, _ = run(raw_text(doc_id))
        assert not clean.pinyin_edits(out), doc_id
        assert "(lái)" not in out and "(qū)" not in out


# ----------------------------------------------------------- boilerplate ---

@pytest.mark.parametrize("doc_id,line,rule", [
    ("hefei", "今天是2024年12月24日,欢迎您访问中国社区发展网!", "chrome_today_header"),
    ("hefei", "中国社区发展网", "chrome_site_name"),
    ("hefei", "上一篇:陕西渭南:加强社区治理体系建设提升基层治理能力", "chrome_prev_next"),
    ("hefei", "下一篇:广西钦州:“乡贤+”提升乡村治理水平", "chrome_prev_next"),
    ("chengdu", "黄网站免费永久在线观看下载,激情图片在线播放", "spam_seo"),
    ("chengdu", "當前位置: 首頁 \u00a0>\u00a0 新聞中心 \u00a0>\u00a0 媒體報道 >\u00a0正文", "chrome_breadcrumb"),
    ("chengdu", "時間:2020-12-31 \u00a0\u00a0瀏覽量:128\u00a0次\u00a0\u00a0來源:中國社會報", "chrome_date_views"),
    ("chengdu", "【字體:\u00a0\u00a0\u00a0\u00a0打印", "chrome_font_print"),
    ("chengdu", "本報記者\u00a0祝\u00a0闖", "byline_reporter_line"),
    ("chengdu", "(來源:中國社會報2020.12.31)", "source_line"),
    ("chengdu", "掃一掃在手機端打開當前頁", "chrome_scan_to_open"),
    ("anhui", "民生内参 msnc.org.cn 版权所有。", "footer_copyright"),
    ("anhui", "联系电话:010-53387021 010-56153985", "footer_contact"),
    ("anhui", "邮箱:jiankangfzdyzx@163.com 客服QQ:2894426415 通联QQ:491393325", "footer_contact"),
    ("anhui", "本网部分转载文章、图片等无法联系到权利人,请相关权利人联系本网站索取稿酬。", "footer_disclaimer"),
    ("suzhou", "||||", "chrome_layout_bars"),
])
def test_chrome_lines_are_removed_whole(doc_id, line, rule):
    assert line in raw_text(doc_id)
    out, audit = run(line + "\n城乡社区治理是基础工程。")
    assert out == "城乡社区治理是基础工程。"
    assert rule in {row["rule"] for row in audit}


def test_bylines_and_author_notes_are_removed_but_interview_questions_kept():
    out, _ = run("■ 陳正峰 黨的十八大以來,蘇州民政系統全面貫徹落實。 (作者為江蘇省蘇州市民政局局長) |")
    assert out == "黨的十八大以來,蘇州民政系統全面貫徹落實。"
    out, _ = run("不斷提高基層服務群眾能力。(記者 朱慶磊)")
    assert out == "不斷提高基層服務群眾能力。"
    question = "記者:今后對于促進社區工作者專業化培養,民政部門有著怎樣的考慮和布局?"
    assert run(question)[0] == question


def test_site_name_rule_only_in_the_page_header():
    body = "\n".join(["第一段。", "第二段。", "第三段。", "第四段。", "织密社区服务网", "第五段。"])
    assert "织密社区服务网" in run(body)[0]


def test_every_article_keeps_its_body():
    """The first and last sentences of each article's body survive cleaning."""
    bodies = {
        "anhui": ("城乡社区治理是实现国家治理体系和治理能力现代化的基础工程。", "奋力谱写安徽基层治理新篇章。"),
        "suzhou": ("黨的十八大以來,蘇州民政系統全面貫徹落實中央", "凝心聚力繪就善治之城嶄新藍圖。"),
        "hefei": ("安徽合肥:打造“自治 智治 社治”基层社会治理新模式", "“家门口”服务体系进一步完善。"),
        "huainan": ("近日,家住田家庵區洞山街道錦里社區居民汪女士", "不斷提高基層服務群眾能力。"),
        "chengdu": ("社區發展治理的蓉城之策", "進一步提升基層社區工作者隊伍的能力和水平。"),
    }
    for doc_id, (first, last) in bodies.items():
        out, _ = run(raw_text(doc_id))
        assert out.startswith(first), doc_id
        assert out.endswith(last), doc_id


def test_boilerplate_file_rejects_bad_pattern(tmp_path):
    bad = tmp_path / "boilerplate.yaml"
    bad.write_text("- name: x\n  scope: line\n  pattern: '(unclosed'\n  why: test\n", encoding="utf-8")
    with pytest.raises(clean.InputError, match="does not compile"):
        clean.load_boilerplate(bad)


# ------------------------------------------------------------ normalising ---

def test_fullwidth_letters_and_digits_become_halfwidth_punctuation_kept():
    out, audit = run("建成１３８个标准化村级社区服务中心，ＡＰＰ上线。")
    assert out == "建成138个标准化村级社区服务中心，APP上线。"
    assert {row["rule"] for row in audit} == {"unicode_fullwidth_alnum"}


def test_odd_spaces_and_blank_runs_are_normalised():
    out, _ = run("  第一段。\u00a0\u00a0\n\n\n\n第二段\u200b。\u3000 ")
    assert out == "第一段。\n\n第二段。"


# -------------------------------------------------------------- properties ---

_corpus_lines = [line for doc in ("anhui", "suzhou", "hefei", "huainan", "chengdu")
                 for line in raw_text(doc).splitlines()]
_pieces = st.one_of(
    st.sampled_from(_corpus_lines),
    st.text(alphabet=st.sampled_from(list("社区治理服务居民党建网格 \u00a0\u3000\n,。(lái)|■１２ＡＢ")), max_size=40),
)
_documents = st.lists(_pieces, min_size=1, max_size=8).map("\n".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_cleaning_is_idempotent(text):
    once, _ = run(text)
    twice, audit = run(once)
    assert twice == once
    assert audit == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_cleaning_changes_only_logged_spans(text):
    out, audit = run(text)
    assert replay(text, audit) == out
    # every row's `before` is what stood at its place in the text its rule received
    assert all(row["end"] - row["start"] == len(row["before"]) for row in audit)


@pytest.fixture(scope="module")
def study_clean():
    from pipeline.corpus.evaluate import study_cleaner  # builds the character model: only for the tests that need it
    return study_cleaner()


@pytest.mark.parametrize("line,kept", [
    # Full-width letters and digits, as news pages print them (the DAnIEL pages: ＩＰＡＤ, ４８岁): folded to
    # half-width before the garble search, to which they were improbable symbols that it cut out.
    ("他说：“这是新潮”。４８岁的张先生用ＩＰＡＤ看新闻。", "他说：“这是新潮”。48岁的张先生用IPAD看新闻。"),
    ("潮”。４８岁", "潮”。48岁"),
])
def test_full_width_letters_and_digits_are_folded_not_taken_for_garble(line, kept, study_clean):
    body = "社区是城市社会的基本单元,居民议事会每月召开一次。"
    assert study_clean(f"{line}\n{body}") == f"{kept}\n{body}"
