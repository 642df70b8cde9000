"""The cleaning stage's faster paths decide exactly as the plain forms they replaced."""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT
from pipeline.corpus import chrome
from pipeline.corpus.charmodel import CharModel
from pipeline.corpus.garble import GarbleDetector, Scorer
from pipeline.corpus.script import make_converter
from tests.conftest import raw_text

LEXICON = chrome.load_chrome(PROJECT_ROOT / "lexicon" / "chrome.yaml")

# Characters that reach every branch: spaces of several kinds, sentence ends,
# separators, digits, Latin letters, kana, symbols, common and rare Hanzi, and
# the cue words of chrome rules (dates, bylines, share and navigation words).
_ALPHABET = list(" \t\u3000\u00a0\u2003。！？…”）|/-：:,，、（）【】《》0123456789aZéqx"
                 "ぷ魅∝⒒ⅲ■の的是社区治理服务年月日作者记者来源编辑责任分享扫一扫微信首页返回顶部"
                 "歙臧圐圙嵖岈蓖襞肮藛辦事現象") + ["\n"]
_WORDS = ["2021年3月5日", "来源：", "作者：张三", "责任编辑：李四", "分享到", "扫一扫", "首页", "（完）",
          "&nbsp;", "摘要：", "点击查看", "图为", "通讯员 王五"]
_LINE = st.lists(st.one_of(st.sampled_from(_ALPHABET), st.sampled_from(_WORDS)), max_size=60).map("".join)


def _plain_chars(text: str) -> int:
    return sum(not c.isspace() for c in text)


def test_split_separates_exactly_the_characters_isspace_accepts():
    wrong = [hex(c) for c in range(sys.maxunicode + 1) if (chr(c).split() == []) != chr(c).isspace()]
    assert wrong == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=_LINE.filter(lambda x: "\n" not in x), head=st.booleans(), tail=st.booleans(),
       rank=st.tuples(st.integers(0, 20), st.integers(0, 20)))
def test_line_verdict_with_the_count_given_is_the_verdict_without(project_params, line, head, tail, rank):
    settings_ = project_params.clean.chrome
    for rule in LEXICON.rules:
        assert chrome.line_verdict(line, rule, settings_, head, tail, rank, _plain_chars(line)) == \
            chrome.line_verdict(line, rule, settings_, head, tail, rank)


def _repeated_lines_by_article(texts, sources, min_articles=2):
    """The former form: every line asked about every article."""
    seen: dict[tuple[str, str], set[int]] = {}
    for index, (text, source) in enumerate(zip(texts, sources)):
        if not source.strip():
            continue
        for line in {ln.strip() for ln in text.splitlines() if ln.strip()}:
            seen.setdefault((source, line), set()).add(index)
    return [frozenset(line for (src, line), docs in seen.items()
                      if src == source and index in docs and len(docs) >= min_articles)
            for index, (text, source) in enumerate(zip(texts, sources))]


@given(st.lists(st.tuples(st.lists(st.sampled_from(["首页", "来源：本网", "社区治理", " 分享 ", "", "年月日"]),
                                   max_size=6).map("\n".join),
                          st.sampled_from(["", " ", "a", "b"])), max_size=8),
       st.integers(1, 3))
def test_repeated_lines_as_before(articles, min_articles):
    texts, sources = [t for t, _ in articles], [s for _, s in articles]
    assert chrome.repeated_lines(texts, sources, min_articles) == \
        _repeated_lines_by_article(texts, sources, min_articles)


@pytest.fixture(scope="module")
def scorer(project_params) -> Scorer:
    return Scorer(CharModel.from_jieba_dictionary(make_converter()), project_params.clean.garble)


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_LINE)
def test_suspicious_positions_are_the_characters_suspicious_accepts(scorer, text):
    assert scorer.suspicious_positions(text) == [i for i in range(len(text)) if scorer.suspicious(text, i)]


def test_suspicious_positions_on_the_corpus(scorer):
    for doc in ["anhui", "suzhou", "hefei", "huainan", "chengdu"]:
        text = raw_text(doc)
        assert scorer.suspicious_positions(text) == [i for i in range(len(text)) if scorer.suspicious(text, i)]


def test_a_detector_shared_by_articles_finds_what_a_fresh_one_finds(project_params):
    """Readings remembered from one article serve another only where the stretch searched is the same."""
    model = CharModel.from_jieba_dictionary(make_converter())
    garble = project_params.clean.garble
    texts = [raw_text(doc) for doc in ["anhui", "suzhou", "hefei", "huainan", "chengdu"]]
    # The articles again, each with another's opening glued before it, so the same stretches recur at other offsets.
    texts += [texts[i - 1][:500] + "\n" + text for i, text in enumerate(texts)]
    shared = GarbleDetector(model, garble)
    for text in texts:
        assert shared.article_rule()(text) == GarbleDetector(model, garble).article_rule()(text)
