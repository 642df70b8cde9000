"""Garbled spans (byte-misaligned GBK decoding): found, repaired or removed; real text kept."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.common.params import GarbleParams
from pipeline.corpus import clean
from pipeline.corpus.charmodel import CharModel, is_foreign, is_han
from pipeline.corpus.edits import apply_edits
from pipeline.corpus.garble import garble_edits, shared_ends
from pipeline.corpus.script import make_converter
from tests.conftest import raw_text

DOCS = ["anhui", "suzhou", "hefei", "huainan", "chengdu"]


@pytest.fixture(scope="module")
def model() -> CharModel:
    return CharModel.from_jieba_dictionary(make_converter())


@pytest.fixture(scope="module")
def params(project_params) -> GarbleParams:
    return project_params.clean.garble


def prepared(doc_id: str) -> str:
    """The text as the garble rule receives it: NFC, inserted pinyin removed."""
    text = raw_text(doc_id)
    for rule in (clean.nfc_edits, clean.pinyin_edits):
        text, _ = apply_edits(text, rule(text))
    return text


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {doc: prepared(doc) for doc in DOCS}


@pytest.fixture(scope="module")
def results(texts, model, params) -> dict[str, tuple[list, str]]:
    out = {}
    for doc, text in texts.items():
        edits = garble_edits(text, model, params)
        out[doc] = (edits, apply_edits(text, edits)[0])
    return out


def _covering(edits, text: str, span: str):
    start = text.index(span)
    return [e for e in edits if e.start <= start and start + len(span) <= e.end]


# ------------------------------------------------------------- the corpus --

def test_the_work_staff_span_is_repaired(texts, results):
    text = texts["huainan"]
    edits, cleaned = results["huainan"]
    found = _covering(edits, text, "!肮ぷ魅藛T")
    assert len(found) == 1
    assert found[0].rule == "garble_repair"
    assert found[0].after == "。“工作人員"
    assert "減少了居民“等待、再來”現象。“工作人員辦事效率高" in cleaned


@pytest.mark.parametrize("span", ["!蓖襞空f", "!笆濉币詠恚沂姓J", "!笆濉币詠恚泄餐度氇勓a"])
def test_the_lossy_spans_of_003_are_found(span, texts, results):
    edits, _ = results["huainan"]
    found = _covering(edits, texts["huainan"], span)
    assert len(found) == 1
    assert found[0].rule in ("garble_remove", "garble_repair")
    assert "gain" in found[0].note


def test_no_garbled_character_survives_in_003(results):
    _, cleaned = results["huainan"]
    for ch in "肮ぷ魅藛蓖襞笆濉币詠恚沂泄餐氇勓":
        assert ch not in cleaned, ch
    # The text around the spans is intact; a sentence mark opening a removed span
    # is kept, and so is the piece of its reading that was written (以來).
    for kept in ["是社會治理的基本單元。以來真貫徹", "真貫徹落實習近平總書記", "達標率100%", "資金和福彩公益金1000余萬元",
                 "居民辦事越來越省心了", "城鄉社區是人民群眾安居樂業的家園"]:
        assert kept in cleaned


def test_the_suzhou_span_is_repaired_and_its_stray_pinyin_removed(texts, results):
    edits, cleaned = results["suzhou"]
    assert len(edits) == 1
    edit = edits[0]
    assert texts["suzhou"][edit.start:edit.end] == "?shù)厣弦荒甓瘸擎?zhèn)"
    assert edit.rule == "garble_repair" and edit.after == "上一年度城"
    assert "不低于當上一年度城非私營單位在崗職工平均工資" in cleaned
    for ch in "厣弦荒甓瘸擎":
        assert ch not in cleaned


@pytest.mark.parametrize("doc", ["anhui", "hefei", "chengdu"])
def test_articles_without_garbling_get_no_edits(doc, results):
    # The whole text, site chrome included (the Chengdu spam line, footers).
    assert results[doc][0] == []


def test_edits_found_per_article(results):
    assert {doc: len(results[doc][0]) for doc in DOCS} == \
        {"anhui": 0, "suzhou": 1, "hefei": 0, "huainan": 4, "chengdu": 0}


@pytest.mark.parametrize("doc", ["suzhou", "huainan"])
def test_an_articles_later_passes_find_what_a_fresh_search_finds(doc, texts, model, params):
    """The rule of one article remembers its readings across cleaning passes;
    later passes see the same spans at other offsets (chrome removed before
    them) and must get the edits a fresh search gives, shifted."""
    from pipeline.corpus.garble import GarbleDetector

    text = texts[doc]
    rule = GarbleDetector(model, params).article_rule()
    first = rule(text)
    assert first == garble_edits(text, model, params)
    prefix = "网站首页 > 新闻中心\n"
    again = rule(prefix + text)
    assert again == garble_edits(prefix + text, model, params)
    assert [(e.start - len(prefix), e.end - len(prefix), e.after) for e in again] == \
        [(e.start, e.end, e.after) for e in first]


@pytest.mark.parametrize("sentence", [
    # one or more real sentences from each article, with its rarer characters
    "歙县通过建立健全“一约四会”,拓展自治形式,居民参与社区治理积极性、主动性显著提升。",
    "旌德县建立村(居)民遵守村规民约、居民公约“绿币”保障体系,通过完善积分制管理模式,创新丰富基层治理载体。",
    "■ 陳正峰 黨的十八大以來,蘇州民政系統全面貫徹落實中央、江蘇省關于基層社會治理相關決策部署",
    "夯基壘臺 黨建引領治理力度顯著提升",
    "因地制宜探索“一站多居”“聯合工作站”“中心+社區”“無柜臺、AB角”等不同形態全科服務",
    "2个村(庐阳区三十岗乡东瞿村、长丰县下塘镇安费塘社区)被确认为全国村级议事协商创新实验试点",
    "在等级评估中获得3A、4A、5A级别的,分别给予2万、4万、8万元的一次性奖励",
    "毛集實驗區焦崗湖鎮臧巷村、田家庵區南嶺社區等23個村(居)被命名為全省城鄉社區協商示範村(居)。",
    "不斷提高基層服務群眾能力。(記者 朱慶磊)",
    "記者:《條例》中有六處明確提到“民政”,如何看待民政部門在促進社區發展治理中扮演的角色和發揮的作用?",
    "黄网站免费永久在线观看下载,激情图片在线播放,亚洲一中文字暮在线播放,久久久无码精品亚洲日韩精东传媒",
])
def test_clean_sentences_get_no_edits(sentence, model, params):
    assert garble_edits(sentence, model, params) == []


@pytest.mark.parametrize("snippet", [
    "歙县", "歙縣", "鄣山", "鄣", "奋楫", "奮楫", "擘画", "擘畫", "韧性", "韌性",
    "我们要奋楫笃行、擘画未来,增强城市韧性。", "歙縣通過建立健全“一約四會”",
    "鄣吴镇与歙县、旌德县交流", "奮楫揚帆、破浪前行",
])
def test_rare_legitimate_characters_are_kept(snippet, model, params):
    assert garble_edits(snippet, model, params) == []


def test_a_rare_character_next_to_a_garbled_span_is_not_the_reason_for_an_edit(model, params):
    text = "歙县居民表示:“現象!肮ぷ魅藛T辦事效率高,歙县很好。"
    edits = garble_edits(text, model, params)
    assert [text[e.start:e.end] for e in edits] == ["!肮ぷ魅藛T"]


# -------------------------------------------------------------- properties --

def _sentences(results) -> list[str]:
    out = []
    for doc in DOCS:
        for sentence in re.split(r"(?<=[。!?])|\n", results[doc][1]):
            sentence = sentence.strip()
            if sum(map(is_han, sentence)) < 6:
                continue
            try:
                sentence.encode("gbk")
            except UnicodeEncodeError:
                continue
            out.append(sentence)
    return out


@pytest.fixture(scope="module")
def sentences(results) -> list[str]:
    found = _sentences(results)
    assert len(found) > 150
    return found


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_clean_corpus_sentences_get_no_edits(data, sentences, model, params):
    first = data.draw(st.integers(0, len(sentences) - 1), label="first")
    count = data.draw(st.integers(1, 3), label="count")
    text = "".join(sentences[first:first + count])
    assert garble_edits(text, model, params) == []


def _fold(text: str) -> str:
    """Full-width forms to ASCII, as the site did."""
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in text)


def _misread_region(sentence: str, garbled: str) -> tuple[int, int]:
    """Where the garbled form differs from the sentence."""
    head, tail = shared_ends(sentence, garbled)
    return head, len(garbled) - tail


def test_sentences_garbled_by_a_lost_byte_are_detected(sentences, model, params):
    """A seeded sample of corpus sentences, each GBK-encoded with one byte lost.

    Detection is statistical (an ordinary-looking misreading can escape it), so
    the test measures rates over a fixed sample rather than demanding every
    case: with five or more visibly misread characters, at least 97% of the
    garblings must be found and at most 10% of the misread characters may
    survive cleaning. On this sample the rule finds 198 of 200, and 49 of
    1,390 misread characters survive.
    """
    rng = np.random.default_rng(20241224)
    found = sampled = visible_total = remaining_total = 0
    while sampled < 200:
        sentence = sentences[int(rng.integers(len(sentences)))]
        raw = sentence.encode("gbk")
        position = int(rng.integers(len(raw)))
        garbled = _fold((raw[:position] + raw[position + 1:]).decode("gbk", errors="ignore"))
        region = _misread_region(sentence, garbled)
        visible = [c for c in garbled[region[0]:region[1]] if (is_han(c) or is_foreign(c)) and c not in sentence]
        if len(visible) < 5:  # one or two misread characters can be ordinary ones: out of reach
            continue
        sampled += 1
        edits = garble_edits(garbled, model, params)
        found += any(e.start < region[1] and region[0] < e.end for e in edits)
        cleaned, _ = apply_edits(garbled, edits)
        visible_total += len(visible)
        remaining_total += sum(1 for c in cleaned if (is_han(c) or is_foreign(c)) and c not in sentence)
    assert found / sampled >= 0.97, f"found {found} of {sampled} garbled sentences"
    assert remaining_total <= 0.10 * visible_total, f"{remaining_total} of {visible_total} misread characters survive"


@pytest.mark.parametrize("a, b, ends", [("abc", "abc", (3, 0)), ("xay", "xby", (1, 1)), ("aXa", "aa", (1, 1)),
                                        ("", "ab", (0, 0)), ("ab", "cd", (0, 0))])
def test_shared_ends_never_count_a_character_twice(a, b, ends):
    assert shared_ends(a, b) == ends


def test_a_removed_span_keeps_only_the_pieces_its_reading_supports(texts, results):
    edits, _ = results["huainan"]
    [edit] = _covering(edits, texts["huainan"], "!笆濉币詠恚沂姓J")
    # “十三五”以来，我市认 lost bytes and reads “叔”以來R市認: 以來 is what was written.
    assert edit.rule == "garble_remove" and edit.after == "。以來"
    assert "kept the readable piece(s) 以來" in edit.note
    [lossy] = _covering(edits, texts["huainan"], "!蓖襞空f")
    assert lossy.after == "。" and "all of it is lost" in lossy.note


def test_readable_pieces_need_probable_characters_that_form_words(model, params):
    from pipeline.corpus.garble import GarbleDetector

    detector = GarbleDetector(model, params)
    assert detector.readable_pieces("“叔”以來R市認") == ["以來"]
    assert detector.readable_pieces("汪趴說") == []
    assert detector.readable_pieces("社区治理,工作人员") == ["社区治理", "工作人员"]
