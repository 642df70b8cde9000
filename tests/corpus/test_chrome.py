"""The chrome classifier: real chrome lines removed, prose kept, metadata kept, the lexicon checked."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.corpus import chrome, clean
from pipeline.corpus.review import review_lines

LEXICON = chrome.load_chrome(PROJECT_ROOT / "lexicon" / "chrome.yaml")
PATTERNS = clean.load_boilerplate(PROJECT_ROOT / "lexicon" / "boilerplate.yaml")
BODY = "社区是城市社会的基本单元,居民议事会每月召开一次。"


@pytest.fixture(scope="module")
def settings_(project_params) -> chrome.ChromeSettings:
    return chrome.ChromeSettings.from_params(project_params["clean"]["chrome"])


def run(text: str, settings_: chrome.ChromeSettings) -> tuple[str, list[dict]]:
    rules = clean.default_rules(PATTERNS, None, chrome.chrome_rule(LEXICON, settings_))
    return clean.clean_text(text, rules)


# Real chrome lines from pages of this genre on sites the corpus does not come
# from (tests/heldout/ and its extra lines), with the rule expected to claim them.
@pytest.mark.parametrize("line,rule", [
    ("APP下载", "chrome_nav_words"),
    ("网站首页 | 网站地图", "chrome_nav_words"),
    ("打印本页   关闭窗口   返回顶部", "chrome_nav_words"),
    ("English 进入旧版 设为首页 加入收藏", "chrome_nav_words"),
    ("分享至:", "chrome_nav_words"),
    ("首頁 > 理論前沿 > 深度原創 > 正文", "chrome_nav_breadcrumb"),
    ("人民论坛网·国家治理网> 《国家治理》杂志> 正文", "chrome_nav_breadcrumb"),
    ("2025年05月06日", "chrome_date_line"),
    ("2019-01-26孙照红", "chrome_date_line"),
    ("时间:2022-06-19 15:12:04 浏览量:", "chrome_date_views"),
    ("2014年4月17日 星期四", "chrome_date_line"),
    ("时间:2016-09-12 来源:湖南智库网 作者:辛华", "chrome_date_views"),
    ("2014-12-13 21:43:13 来源: 作者: 【 】 浏览:72次 评论:0", "chrome_date_line"),
    ("来源:本站   编辑:admin", "source_line"),
    ("文 / 刘昌盛(宁夏民生物业服务有限公司党支部书记)", "chrome_byline_slash"),
    ("文|烟台市大数据局", "chrome_byline_slash"),
    ("作者:李晓明(某某大学社会学院) 责任编辑:王五", "chrome_byline_fields"),
    ("本报记者 王梦梦 摄影报道", "chrome_reporter_credit"),
    ("孙照红", "chrome_author_names"),
    ("岳俊輝,柴 瑜", "chrome_author_names"),
    ("□ 陳 曦", "chrome_author_names"),
    ("陈伟东、孔娜娜、张大维、舒小虎", "chrome_author_names"),
    ("(北京市社会科学院 科学社会主义研究所,北京 朝阳 100101)", "chrome_affiliation"),
    ("张 翼 中国社会科学院社会发展战略研究院院长", "chrome_author_with_title"),
    ("图1 社区居委会的工作任务状况", "chrome_caption_number"),
    ("4.高县蕉村镇龙潭村“山湾长”微网格分布图 高县县委政法委供图", "chrome_editor_credit"),
    ("关键词:共治协商街道", "chrome_journal_field"),
    ("【中图分类号】D267;F276                 【文献标识码】A", "chrome_journal_field"),
    ("〔中圖分類號〕D267〔文獻標識碼〕A〔文章編號〕2096-8442(2022)02-0020-05", "chrome_journal_field"),
    ("DOI URL: http://doi.org/10.6346/THE.NPUST.SW.004.2019.F04", "chrome_journal_field"),
    ("[作者简介]林雪霏,厦门大学公共事务学院副教授。", "chrome_journal_field"),
    ("中国延安干部学院学报 2019年2期", "chrome_journal_issue"),
    ("以上就是小编为大家整理的社区治理经验材料的全部内容。", "chrome_footer_notice"),
    ("下面是小编为大家整理的社区换届选举工作实施方案,供大家参考。", "chrome_footer_notice"),
    ("已阅读5页,还剩83页未读 继续免费阅读", "chrome_footer_notice"),
    ("注意:本站部分文字内容、图片由网友投稿,如侵权请联系删除", "chrome_footer_notice"),
    ("点击上方关注“政治学人", "chrome_follow_prompt"),
    ("Department of Social Work", "chrome_no_han"),
    ("|", "chrome_layout_bars"),
    ("--------------------------------------------------------------------------------", "chrome_separator"),
    ("(通讯员刘萧冉)", "chrome_credit_in_brackets"),
    ("2026年社区数字化服务平台建设实施方案.docxVIP", "chrome_file_name"),
])
def test_real_chrome_line_is_removed_by_its_rule(line, rule, settings_):
    out, audit = run(f"{line}\n{BODY}", settings_)
    assert out == BODY
    assert rule in {row["rule"] for row in audit}


@pytest.mark.parametrize("text", [
    "社区治理",  # a heading
    "一、城市社区协商治理的典型案例:“党政群共商共治”",
    "——基于“党政群共商共治”的案例分析",
    "高质量发展",
    "小区治理与物业管理",
    "2020年12月24日,新塘街道召开社区居委会换届选举大会,选举产生了新一届社区居委会成员。",
    "记者:《条例》中有六处明确提到“民政”,如何看待民政部门的角色?",
    "北京市朝阳区“党政群共商共治”的社区协商治理模式就是基层协商和基层治理互融互动的典型案例。",
    "王书记说:“我们要把居民的事办好。”",
    "记者:请您谈谈社区议事会是怎样运作起来的",
    "浙江大学公共管理学院教授郁建兴认为,社区治理的关键在于居民参与。",
])
def test_headings_and_prose_are_kept(text, settings_):
    assert run(f"{text}\n{BODY}", settings_)[0] == f"{text}\n{BODY}"


def test_span_rules_keep_the_sentence(settings_):
    assert run("摘  要:特大城市老旧小区的物业治理问题由来已久。", settings_)[0] == "特大城市老旧小区的物业治理问题由来已久。"
    assert run("本网讯 在周宁县咸村镇便民服务中心大楼里,群众络绎不绝。", settings_)[0] == \
        "在周宁县咸村镇便民服务中心大楼里,群众络绎不绝。"
    assert run("时间:2020-01-15不负韶华,只争朝夕。", settings_)[0] == "不负韶华,只争朝夕。"
    assert run("他说ldquo;好rdquo;。", settings_)[0] == "他说“好”。"
    assert run('<p class="ql-block"> 12月5日,永阳街道召开会议。', settings_)[0] == "12月5日,永阳街道召开会议。"


def test_authors_and_dates_are_kept_as_metadata(settings_):
    text = "城市社区治理的主体困境\n2019-01-26孙照红\n□ 陳 曦\n" + BODY + "\n本报记者 王梦梦 摄影报道"
    _, audit = run(text, settings_)
    meta = chrome.metadata(audit, LEXICON)
    assert meta["date"] == "2019-01-26"
    assert set(meta["author"].split("、")) >= {"陳曦", "王梦梦"}


def test_lines_repeated_in_one_source_are_removed(settings_):
    texts = ["某某区融媒体中心出品\n" + BODY, "某某区融媒体中心出品\n社区议事会每月召开。", "某某区融媒体中心出品\n" + BODY]
    repeated = chrome.repeated_lines(texts, ["区融媒", "区融媒", "another"])
    assert repeated[0] == repeated[1] == frozenset({"某某区融媒体中心出品"}) and repeated[2] == frozenset()
    edits = chrome.chrome_edits(texts[0], LEXICON, settings_, repeated[0])
    assert [e.rule for e in edits] == ["chrome_repeated_line"]


def test_extra_chrome_lines_mostly_removed(settings_):
    """89 chrome lines from 40 more pages (tests/heldout/chrome_lines_extra.tsv): most go, none takes prose with it."""
    with open(PROJECT_ROOT / "tests" / "heldout" / "chrome_lines_extra.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    removed = 0
    for row in rows:
        out, _ = run(f"{row['text']}\n{BODY}", settings_)
        assert out.endswith(BODY)
        removed += out == BODY
    assert removed >= 0.7 * len(rows), f"{removed} of {len(rows)}"


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.sampled_from(["社区", "居民", "议事", "协商", "治理", "服务", "街道", "我们", "推进", "完善"]),
                min_size=8, max_size=30))
def test_a_sentence_is_never_removed_whole(words, settings_):
    sentence = ",".join("".join(words[i:i + 3]) for i in range(0, len(words), 3)) + "。"
    out, _ = run(f"{sentence}\n{BODY}", settings_)
    assert sentence in out


def test_chrome_file_is_checked(tmp_path):
    bad = tmp_path / "chrome.yaml"
    bad.write_text("shapes: {date: '\\d'}\nrules:\n  - {name: x, cue: '(', kind: nav, why: t}\n", encoding="utf-8")
    with pytest.raises(InputError, match="does not compile"):
        chrome.load_chrome(bad)
    bad.write_text("shapes: {date: '\\d'}\nrules:\n  - {name: x, cue: 'a', kind: weird, why: t}\n", encoding="utf-8")
    with pytest.raises(InputError, match="kind must be"):
        chrome.load_chrome(bad)
    bad.write_text("rules:\n  - {name: x, cue: 'a', kind: nav}\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs name, cue, kind and why"):
        chrome.load_chrome(bad)


def test_every_rule_and_vocabulary_says_why():
    import yaml

    data = yaml.safe_load((PROJECT_ROOT / "lexicon" / "chrome.yaml").read_text(encoding="utf-8"))
    assert all(len(r["why"]) > 20 for r in data["rules"])
    assert all(len(v["why"]) > 20 for v in data["vocabularies"].values())


def test_review_lists_short_edge_lines_only(settings_):
    text = "社区治理新模式\n" + "\n".join([BODY] * 20) + "\n云报平台"
    listed = [line for line, _ in review_lines(text, settings_)]
    assert listed == ["社区治理新模式", "云报平台"]
