"""Segmentation keeps every lexicon term whole, on the whole corpus, and filters as documented."""

from __future__ import annotations

import re
from pathlib import Path

import jieba
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.corpus.script import make_converter
from pipeline.text.coverage import lexicon_coverage, lexicon_profile
from pipeline.text.diagnostics import boundary_conflicts, out_of_dictionary, term_split_table, top_tokens
from pipeline.text.lexicon import (canonical_map, fold_width, lexicon_strings, load_lexicon, load_sectioned_wordlist,
                                   load_wordlist)
from pipeline.text.segment import (CACHE_FILE_NAME, LEXICON_TAG, StudyTokenizer, build_plain_tokenizer,
                                   build_tokenizer, countable_tokens, filter_tokens, general_stopwords, is_number,
                                   jieba_words, make_filter_rules, plain_tokens, segment, tagged_cut)
from pipeline.text.poscut import PlainCut, PosCut
from tests.conftest import raw_text

LEXICON_DIR = PROJECT_ROOT / "lexicon"
DOC_IDS = ("anhui", "suzhou", "hefei", "huainan", "chengdu")
TERM_FREQ = 2_000_000


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    """The cleaned, simplified articles.

    The committed results hold the pipeline's own cleaned texts. Where they
    are absent (a fresh checkout before the first run), the raw articles go
    through the study's cleaning rules without the garble repair, then
    OpenCC t2s: garbled spans stay, which only adds text to segment.
    """
    clean_dir = Paths.at().clean_corpus
    if all((clean_dir / f"{d}.txt").exists() for d in DOC_IDS):
        return {d: (clean_dir / f"{d}.txt").read_text(encoding="utf-8") for d in DOC_IDS}
    from pipeline.corpus import clean

    rules = clean.default_rules(clean.load_boilerplate(LEXICON_DIR / "boilerplate.yaml"), garble_rule=None)
    converter = make_converter("t2s")
    return {d: converter.convert(clean.clean_text(raw_text(d), rules)[0]) for d in DOC_IDS}


@pytest.fixture(scope="module")
def lexicon() -> pd.DataFrame:
    return load_lexicon(LEXICON_DIR / "governance_terms.csv")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jieba")


@pytest.fixture(scope="module")
def tokenizer(lexicon, cache_dir) -> StudyTokenizer:
    return build_tokenizer(lexicon_strings(lexicon), cache_dir, TERM_FREQ)


@pytest.fixture(scope="module")
def plain(cache_dir) -> StudyTokenizer:
    return build_plain_tokenizer(cache_dir)


@pytest.fixture(scope="module")
def rules(lexicon):
    stopwords = general_stopwords() | set(load_wordlist(LEXICON_DIR / "stopwords_domain.txt"))
    return make_filter_rules(lexicon, stopwords, load_wordlist(LEXICON_DIR / "single_char_whitelist.txt"),
                             load_sectioned_wordlist(LEXICON_DIR / "vocab_exclusions.txt", ("exclude", "keep")))


def words(text: str, tokenizer) -> list[str]:
    return [w for w, _ in segment(text, tokenizer, hmm=False)]


# ---------------------------------------------------------------- the tokenizer


def test_tokenizer_is_dedicated_and_leaves_the_global_one_alone(lexicon, cache_dir):
    before_initialized = jieba.dt.initialized
    before_words = dict(jieba.dt.FREQ) if jieba.dt.initialized else None
    tokenizer = build_tokenizer(lexicon_strings(lexicon), cache_dir, TERM_FREQ)
    segment("构建“五网智治”的智慧社区服务模式", tokenizer, hmm=False)
    assert isinstance(tokenizer, jieba.Tokenizer) and tokenizer is not jieba.dt
    assert tokenizer.FREQ["五网智治"] == TERM_FREQ
    assert jieba.dt.initialized == before_initialized
    if before_words is not None:
        assert jieba.dt.FREQ == before_words
    assert "五网智治" not in jieba.dt.user_word_tag_tab


def test_cache_file_lands_in_the_cache_dir(tmp_path, lexicon):
    cache_dir = tmp_path / "nested" / "jieba"
    tokenizer = build_tokenizer(["党建引领"], cache_dir, TERM_FREQ)
    assert tokenizer.cache_path == cache_dir / CACHE_FILE_NAME
    assert (cache_dir / CACHE_FILE_NAME).is_file()
    assert Path(tokenizer.tmp_dir) == cache_dir


def test_adding_terms_does_not_change_jieba_elsewhere(tokenizer, plain):
    # The total is restored after add_word, so text without lexicon terms is cut
    # exactly as plain jieba cuts it; with the inflated total, hefei's
    # 全市共建成县(市)区 would read 共建/成县 and suzhou's 初心 would fuse.
    assert tokenizer.total == plain.total
    for stretch in ("截至目前,全市共建成县(市)区", "坚守为民爱民初心,善谋力行", "形成可查、可看、可选、可分析、可调度的"):
        assert not tokenizer.matcher.find(stretch)
        assert words(stretch, tokenizer) == words(stretch, plain)
    assert "成县" not in words("全市共建成县(市)区", tokenizer)


def test_term_freq_must_be_positive(cache_dir):
    with pytest.raises(ValueError):
        build_tokenizer(["党建引领"], cache_dir, 0)


# ---------------------------------------------------------------- lexicon terms survive


def test_segments_concatenate_to_the_text(corpus, tokenizer):
    for text in corpus.values():
        assert "".join(words(text, tokenizer)) == text


# Text that exercises every branch of jieba's POS cut: letter and digit runs
# inside Hanzi blocks, the marks that split blocks (% -), whitespace and line
# breaks, points and full-width forms, traditional script.
POS_CUT_EDGES = ["3A级社区", "AB角", "增长5%以上", "O2O服务", "e-mail地址", "第1.5批", "a b\r\nc", "  \n",
                 "“十四五”时期", "12345热线", "x", "3.5万元", "COVID-19疫情", "#话题#", "A.B.C", "社区 ＡＢ", "",
                 "黨建引領", "①②③", "5G+智慧社区", "2021年12月24日", "pH值7.2", "Ｗi-Ｆi覆盖"]


@pytest.mark.parametrize("hmm", [False, True])
def test_tagged_cut_is_jiebas_pos_cut(corpus, tokenizer, plain, hmm):
    for segmenter in (tokenizer, plain):
        for text in [*corpus.values(), *POS_CUT_EDGES]:
            expected = [(p.word, p.flag) for p in segmenter.pos.cut(text, HMM=hmm)]
            assert tagged_cut(text, segmenter.pos, hmm) == expected, text[:40]


# Characters of every kind jieba's POS cut treats apart: Hanzi (words, prefixes
# of words, characters in no word), letters, digits, the marks kept inside
# blocks (+ # & . _), those that split them (% - ·), whitespace and full-width forms.
# Characters that jieba's HMM joins into words it does not know (洞山, 锦里) are among them.
_CUT_ALPHABET = ("社区治理服务中心党建引领网格化管理居民自治委员会的和在了龘齉洞山锦里汪" "aAbZ059" "+#&._%-·"
                 " \t\r\n　" "，。（）ＡＢ１")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_CUT_ALPHABET, max_size=60))
def test_poscut_is_jiebas_no_hmm_cut_on_any_text(plain, text):
    assert PosCut(plain.pos).cut(text) == [(p.word, p.flag) for p in plain.pos.cut(text, HMM=False)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_CUT_ALPHABET, max_size=60))
def test_plaincut_is_jiebas_hmm_cut_on_any_text(plain, text):
    assert PlainCut(plain).lcut(text) == plain.lcut(text, HMM=True)


def test_plaincut_is_jiebas_hmm_cut_on_the_corpus(corpus, plain):
    for text in [*corpus.values(), *POS_CUT_EDGES]:
        assert plain.plain_cutter.lcut(text) == plain.lcut(text, HMM=True), text[:40]


def test_cutter_follows_words_added_after_a_cut(cache_dir):
    tokenizer = build_tokenizer(["党建引领"], cache_dir, TERM_FREQ)
    text = "推进睦邻点建设"
    before = tokenizer.cutter.cut(text)
    assert ("睦邻点", "n") not in before
    tokenizer.add_word("睦邻点", freq=100000, tag="n")
    after = segment(text, tokenizer, hmm=False)
    assert ("睦邻点", "n") in after
    assert after == [(p.word, p.flag) for p in tokenizer.pos.cut(text, HMM=False)]
    assert tokenizer.plain_cutter.lcut(text) == tokenizer.lcut(text) and "睦邻点" in tokenizer.plain_cutter.lcut(text)
    tokenizer.del_word("睦邻点")
    assert segment(text, tokenizer, hmm=False) == before
    assert tokenizer.plain_cutter.lcut(text) == tokenizer.lcut(text)


def test_every_lexicon_occurrence_in_the_corpus_is_one_token(corpus, tokenizer, lexicon, plain):
    segmented = {d: words(t, tokenizer) for d, t in corpus.items()}
    coverage = lexicon_coverage(corpus, segmented, lexicon)
    occurring = coverage[coverage["occurrences"] > 0]
    assert len(occurring) >= 300
    split = occurring[~occurring["survives"].astype(bool)]
    assert split.empty, f"lexicon terms split by segmentation: {split[['term', 'split']].to_dict('records')}"
    # ... and the check is not vacuous: plain jieba splits many of them.
    plain_words = {d: jieba_words(t, plain, False) for d, t in corpus.items()}
    plain_coverage = lexicon_coverage(corpus, plain_words, lexicon)
    assert (plain_coverage["survives"] == False).sum() > 100  # noqa: E712


def test_lexicon_tokens_are_lexicon_strings(corpus, tokenizer, lexicon):
    strings = set(lexicon_strings(lexicon))
    for text in corpus.values():
        for word, tag in segment(text, tokenizer, hmm=True):
            if tag == LEXICON_TAG:
                assert fold_width(word) in strings


@pytest.mark.parametrize("sentence, expected", [
    # anhui
    ("铜陵市坚持党建引领下的多方共治,“邻里中心”建设蓬勃兴起,“15分钟生活圈”功能更加完善。",
     ["党建引领", "多方共治", "邻里中心", "15分钟生活圈"]),
    ("旌德县建立村(居)民遵守村规民约、居民公约“绿币”保障体系,通过完善积分制管理模式",
     ["村规民约", "居民公约", "绿币", "积分制管理"]),
    # suzhou
    ("高标准打造市、区“1+10”基层“互联网+政务服务”线上平台", ["互联网+政务服务"]),
    ("持续深化以社区为主导、社会组织为枢纽、社会工作者为支撑、社区志愿者为辅助、社会慈善资源为补充的“五社联动”机制",
     ["社区", "社会组织", "社会工作者", "社区志愿者", "社会慈善资源", "五社联动"]),
    ("创新形成“苏社智治”品牌", ["苏社智治"]),
    ("积极推动社区生活共同体、社区治理共同体、社区发展共同体、社区家园共同体的“一核四体”建设",
     ["社区生活共同体", "社区治理共同体", "社区发展共同体", "社区家园共同体", "一核四体"]),
    ("深入推动“一刻钟便民生活圈”“15分钟养老服务圈”建设", ["一刻钟便民生活圈", "15分钟养老服务圈"]),
    # hefei
    ("安徽合肥:打造“自治 智治 社治”基层社会治理新模式", ["自治", "智治", "社治", "基层社会治理"]),
    ("初步形成“五网智治”的智慧社区服务模式。", ["五网智治", "智慧社区"]),
    # huainan
    ("实现了以往分多个窗口办理业务向“一窗受理、全科政务”模式的转变", ["一窗受理", "全科政务"]),
    ("网格员5946人(专职网格员总数1782人)", ["网格员", "专职网格员"]),
    # chengdu
    ("作为全国首部把党建引领城乡社区发展治理的经验上升为系统权威的地方性法规",
     ["党建引领", "社区发展治理", "地方性法规"]),
    ("借助物联网+视联网+互联网+数联网手段", ["物联网", "视联网", "数联网"]),
])
def test_real_sentences_keep_their_terms(sentence, expected, tokenizer):
    found = [w for w, tag in segment(sentence, tokenizer, hmm=False) if tag == LEXICON_TAG]
    assert found == expected


def test_plain_jieba_would_split_digit_and_plus_terms_in_context(plain):
    # Why the lexicon is needed at all: jieba's dictionary has none of these.
    assert "15分钟生活圈" not in plain.lcut("“15分钟生活圈”功能更加完善")
    assert "五社联动" not in plain.lcut("“五社联动”优势充分发挥")


def test_measurement_tables(corpus, tokenizer, lexicon, plain):
    ours = term_split_table(corpus, lexicon, lambda t: words(t, tokenizer))
    theirs = term_split_table(corpus, lexicon, lambda t: jieba_words(t, plain, True))
    assert ours["split"].sum() == 0
    assert theirs["split"].sum() > 0
    assert ours["occurrences"].sum() == theirs["occurrences"].sum()
    assert list(theirs["split"]) == sorted(theirs["split"], reverse=True)


def test_boundary_conflicts_are_few_and_reviewed(corpus, tokenizer, plain):
    conflicts = boundary_conflicts(corpus, tokenizer, plain)
    # Reviewed: each forced cut is a better or equally good reading than jieba's
    # (e.g. 市|政社互动 where jieba reads 市政/社/互动). A new conflict means a new
    # term cuts into a word: look at it before raising this number. The
    # codebook's added terms brought four, each read as well as jieba reads it:
    # 财政|资金, 达标|率 (twice), 农村|居民参与.
    assert len(conflicts) <= 29, conflicts.to_string()
    assert "政社互动" in set(conflicts["term"])
    assert not {"善治", "实验区"} & set(conflicts["term"])


# ---------------------------------------------------------------- HMM


def test_hmm_off_produces_no_out_of_dictionary_words(corpus, tokenizer):
    for text in corpus.values():
        assert not out_of_dictionary(segment(text, tokenizer, hmm=False), tokenizer)


def test_hmm_on_guesses_words_outside_the_dictionary(tokenizer):
    # huainan: the HMM joins the unknown characters of place names into words.
    text = "家住田家庵区洞山街道锦里社区居民汪女士来到社区党群服务中心"
    assert set(out_of_dictionary(segment(text, tokenizer, hmm=True), tokenizer)) == {"洞山", "锦里"}
    assert not out_of_dictionary(segment(text, tokenizer, hmm=False), tokenizer)


# ---------------------------------------------------------------- filtering


def test_filter_applies_stopwords_exclusions_tags_whitelist_and_variants(tokenizer, rules):
    text = ("本报记者近日专访了成都市民政局基层政权建设和社区治理处相关负责人。"
            "合肥市推动实现合肥市村(社区)协商工作委员会全覆盖,2021年,社工引领指导,"
            "实现“一站式”服务大厅全覆盖,城市社区网格总数1716个,十年来第三批")
    pairs = segment(text, tokenizer, hmm=False)
    tokens = filter_tokens(pairs, rules)
    for dropped in ("本报记者", "记者", "负责人", "近日", "推动", "实现", "成都市", "合肥市", "2021", "1716",
                    "十年", "第三批", "的", "了", "局", "个"):
        assert dropped not in tokens, dropped
    assert "社会工作者" in tokens and "社工" not in tokens  # variant -> canonical
    assert "一站式服务" in tokens and "一站式" not in tokens
    assert "社区协商委员会" in tokens  # variant 协商工作委员会
    assert "村" in tokens  # whitelisted single character
    assert "城市社区" in tokens and "网格" in tokens
    assert all(len(t) > 1 or t in rules.single_char_whitelist for t in tokens)


def test_keep_list_overrides_a_wrong_place_tag(tokenizer, rules):
    pairs = segment("在全国省会城市中率先制定;鼓励将闲置的办公用房、福利设施等;新建住宅小区", tokenizer, hmm=False)
    tags = dict(pairs)
    assert tags["城市"] == tags["福利"] == tags["新建"] == "ns"  # jieba's dictionary tags
    tokens = filter_tokens(pairs, rules)
    assert {"城市", "福利", "新建", "省会"} <= set(tokens)


def test_countable_tokens_keep_stopwords_and_names_but_not_numbers(tokenizer, rules):
    pairs = segment("铜陵市坚持党建引领,建成138个标准化村级社区服务中心。", tokenizer, hmm=False)
    counted = countable_tokens(pairs, rules)
    assert "铜陵市" in counted and "坚持" in counted and "党建引领" in counted
    assert "138" not in counted and "个" in counted and "," not in counted and "。" not in counted
    assert not set(filter_tokens(pairs, rules)) - set(counted)


def test_lexicon_terms_are_never_filtered(tokenizer, rules, lexicon):
    pairs = [(term, LEXICON_TAG) for term in lexicon["term"]]
    assert filter_tokens(pairs, rules) == list(lexicon["term"])


def test_numbers():
    for word in ("2021", "99.2", "十年", "第三批", "三级", "3A", "1+10"):
        assert is_number(word), word
    for word in ("一线", "两委", "社区", "一体化"):
        assert not is_number(word), word


def test_plain_tokens_baseline(plain):
    text = "12月1日,《成都市社区发展治理促进条例》的正式施行。"
    tokens = plain_tokens(text, plain, general_stopwords())
    assert tokens and all(len(t) > 1 for t in tokens)
    assert "12" not in tokens and "的" not in tokens
    assert "社区发展治理促进条例" not in tokens  # no lexicon in the baseline


def test_top_tokens_breaks_ties_by_token():
    assert top_tokens([["乙", "甲", "乙"], ["丙", "甲"]], 2) == [("乙", 2), ("甲", 2)]


# ---------------------------------------------------------------- the lexicon's notes and profile


def test_notes_name_the_articles_that_use_each_term(corpus, tokenizer, lexicon):
    segmented = {d: words(t, tokenizer) for d, t in corpus.items()}
    coverage = lexicon_coverage(corpus, segmented, lexicon).set_index("term")
    for term, variants, note in zip(lexicon["term"], lexicon["variants"], lexicon["note"]):
        spellings = (term, *variants)
        named = set(re.findall(r"[a-z][a-z0-9_]*", note.split(";")[0][len("in: "):])) if note.startswith("in: ") else set()
        # Only the articles this test reads are checked: a note may also name
        # articles a user added to the corpus.
        named &= set(corpus)
        used = set(coverage.loc[term, "place_names"].split("|")) - {""}
        containing = {d for d, text in corpus.items() if any(s in fold_width(text) for s in spellings)}
        assert used <= named, f"{term}: occurs in {used - named} but the note does not say so"
        assert named <= containing, f"{term}: the note names {named - containing} where it does not occur"
        if note.startswith("general vocabulary; not in this corpus"):
            assert not containing, f"{term}: said to be absent but occurs in {containing}"


def test_profile_on_the_corpus(corpus, tokenizer, rules, lexicon):
    tokens = {d: countable_tokens(segment(t, tokenizer, hmm=False), rules) for d, t in corpus.items()}
    profile = lexicon_profile(tokens, lexicon)
    assert set(profile["place"]) == set(DOC_IDS)
    assert (profile.groupby("place")["total_tokens"].nunique() == 1).all()
    social = profile.set_index(["place", "category"]).loc[("suzhou", "social_forces")]
    assert social["count"] > 10 and social["per_10k"] > 0
    assert canonical_map(lexicon)["社工"] == "社会工作者"
