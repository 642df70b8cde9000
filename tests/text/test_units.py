"""Units are paragraphs or windows of whole sentences, within the size limit, and lose no text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.corpus.script import make_converter
from pipeline.text.units import make_units, split_inline_headings, split_sentences
from tests.conftest import raw_text

DOC_IDS = ("anhui", "suzhou", "hefei", "huainan", "chengdu")
SENTENCE_END = re.compile(r"[。！？!?；;][”’」』）)》〉\]】\"']*$")


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    """The cleaned articles (committed results, else the cleaning rules without garble repair)."""
    clean_dir = Paths.at().clean_corpus
    if all((clean_dir / f"{d}.txt").exists() for d in DOC_IDS):
        return {d: (clean_dir / f"{d}.txt").read_text(encoding="utf-8") for d in DOC_IDS}
    from pipeline.corpus import clean

    rules = clean.default_rules(clean.load_boilerplate(PROJECT_ROOT / "lexicon" / "boilerplate.yaml"), None)
    converter = make_converter("t2s")
    return {d: converter.convert(clean.clean_text(raw_text(d), rules)[0]) for d in DOC_IDS}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_units(text: str, units: list[str], max_chars: int) -> None:
    assert squeeze("".join(units)) == squeeze(text)
    for unit in units:
        assert unit and unit == unit.strip()
        if len(unit) > max_chars:
            assert len(split_sentences(unit)) == 1, f"an over-long unit that is not one sentence: {unit[:40]}"


@pytest.mark.parametrize("max_chars, min_chars", [(300, 20), (300, 0), (120, 20), (60, 0)])
def test_corpus_units_respect_the_limit_and_lose_no_text(corpus, max_chars, min_chars):
    for text in corpus.values():
        check_units(text, make_units(text, max_chars, min_chars), max_chars)


def test_suzhou_single_line_becomes_sentence_windows(corpus):
    text = corpus["suzhou"]
    assert len([line for line in text.splitlines() if line.strip()]) == 1
    units = make_units(text, 300, 20)
    assert len(units) >= len(text) // 300
    # Windows are balanced: no tiny leftover tail.
    assert min(len(u) for u in units) > 100
    for unit in units[:-1]:
        assert SENTENCE_END.search(unit), unit[-20:]


def test_paragraphs_are_units_and_headings_join_what_follows(corpus):
    units = make_units(corpus["hefei"], 300, 20)
    assert not any(u == "构建群众自治圈" for u in units)
    heading = next(u for u in units if u.startswith("构建群众自治圈"))
    assert "健全协商组织" in heading and "\n" in heading
    # Without a minimum, the heading is a unit of its own.
    assert "构建群众自治圈" in make_units(corpus["hefei"], 300, 0)


def test_sentences_keep_their_punctuation_and_closing_quotes():
    paragraph = "居民说:“办事越来越省心了!”社区党群服务中心安排“全科社工”接待居民;效率高。尾句"
    assert split_sentences(paragraph) == ["居民说:“办事越来越省心了!”", "社区党群服务中心安排“全科社工”接待居民;",
                                          "效率高。", "尾句"]


def test_a_sentence_longer_than_the_limit_is_its_own_unit():
    long_sentence = "社" * 50 + "。"
    units = make_units("短句。" + long_sentence + "又一短句。", 20)
    assert units == ["短句。", long_sentence, "又一短句。"]


def test_invalid_limit():
    with pytest.raises(ValueError):
        make_units("社区。", 0)


_sentences = st.lists(
    st.tuples(st.text(alphabet="社区治理服务 ", min_size=0, max_size=40), st.sampled_from(["。", "!", "?", ";", "；", "", "。”"])),
    min_size=0, max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(_sentences, max_size=6), st.integers(min_value=1, max_value=120), st.integers(min_value=0, max_value=30))
def test_units_properties_on_generated_text(paragraphs, max_chars, min_chars):
    text = "\n".join("".join(body + end for body, end in paragraph) for paragraph in paragraphs)
    check_units(text, make_units(text, max_chars, min_chars), max_chars)


def test_inline_headings_start_new_units():
    # 苏州's article was scraped as one line; its section headings stand between spaces after a sentence end.
    line = ("倾力擦亮新时代城乡社区治理“苏州名片”。 夯基垒台 党建引领治理力度显著提升 十年来,市委、市政府高度重视城乡社区治理。"
            " 积厚成势,基层民主自治深度有效延伸 十年来,始终坚持村(居)民在基层群众自治中的主体地位。")
    units = make_units(line, 300, 20)
    assert [u[:4] for u in units] == ["倾力擦亮", "夯基垒台", "积厚成势"]
    # A numbered heading after a sentence end also opens a section; 统一、 inside a sentence does not.
    numbered = "实现申报材料统一、办事流程统一、服务标准统一的一站式服务。二、加强队伍建设,配齐配强社区工作者和网格员。"
    assert make_units(numbered, 300, 20) == ["实现申报材料统一、办事流程统一、服务标准统一的一站式服务。",
                                             "二、加强队伍建设,配齐配强社区工作者和网格员。"]
    # A long run after a sentence end is text, not a heading.
    long_run = "第一句。 " + "很长的一段没有标点的文字" * 3 + " 后文。"
    assert len(make_units(long_run, 300, 20)) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["党建引领。", " ", "夯基垒台", "二、", "(三)", "社区治理", ",", "居民", "。 ", "\n"]),
                max_size=30),
       st.integers(min_value=0, max_value=30))
def test_heading_cuts_keep_the_text(pieces, min_chars):
    line = "".join(pieces).replace("\n", "")
    cut = split_inline_headings(line, min_chars)
    assert "".join(cut).replace(" ", "") == line.replace(" ", "")
    assert all(piece == piece.strip() and piece for piece in cut)
