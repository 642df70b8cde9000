"""The lexicon files load strictly; matching, coverage and profiles count right."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.text.coverage import lexicon_coverage, lexicon_profile
from pipeline.text.lexicon import (canonical_map, fold_width, lexicon_strings, load_lexicon, load_sectioned_wordlist,
                                   load_wordlist)
from pipeline.text.matching import TermMatcher, reference_find, word_spans
from pipeline.text.segment import general_stopwords

LEXICON_DIR = PROJECT_ROOT / "lexicon"
TERMS_CSV = LEXICON_DIR / "governance_terms.csv"
HEADER = "term,category,variants,gloss,note\n"


@pytest.fixture(scope="module")
def lexicon() -> pd.DataFrame:
    return load_lexicon(TERMS_CSV)


# ---------------------------------------------------------------- the real files


def test_every_lexicon_line_loads(lexicon):
    data_lines = [line for line in TERMS_CSV.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    assert len(lexicon) == len(data_lines)
    assert len(lexicon) >= 150
    assert lexicon["category"].nunique() >= 8
    assert lexicon["term"].is_unique


def test_brief_policy_terms_and_five_actors_are_in_the_lexicon(lexicon):
    strings = set(lexicon_strings(lexicon))
    expected = {"五社联动", "三社联动", "党建引领", "网格员", "一站式服务", "15分钟生活圈", "互联网+政务服务",
                "一核四体", "自治", "智治", "社治", "三治融合", "全科社工", "一窗受理", "邻里中心",
                "苏社智治", "五网智治", "村规民约", "德治",
                # the five actors of 五社联动
                "社区", "社会组织", "社会工作者", "社区志愿者", "社会慈善资源"}
    assert expected <= strings


def test_every_note_says_where_the_term_comes_from(lexicon):
    # "in: <doc_id>, ..." names the corpus articles a term was found in (any
    # doc_id, so adding an article never breaks this); "source: ..." cites a
    # document outside the corpus; "general vocabulary; ..." says why a term
    # with no single source is listed.
    pattern = re.compile(r"^(in: [a-z][a-z0-9_]*(, [a-z][a-z0-9_]*)*"
                         r"|source: .+"
                         r"|general vocabulary; (not in this corpus|here only inside longer terms \([a-z0-9_, ]+\)))"
                         r"(; .+)?$")
    bad = [(t, n) for t, n in zip(lexicon["term"], lexicon["note"]) if not pattern.match(n)]
    assert not bad


def test_domain_stopwords_load_with_reasons_and_spare_lexicon_terms(lexicon):
    path = LEXICON_DIR / "stopwords_domain.txt"
    words = load_wordlist(path)
    assert len(words) > 50
    # A lexicon term listed as a stopword would be dead weight: lexicon tokens are never dropped.
    assert not set(words) & set(lexicon_strings(lexicon))
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "#" in line, f"stopword without a reason: {line!r}"
    # Nothing repeats the general list it is applied on top of.
    assert not set(words) & general_stopwords()
    # The words the study means to keep are not stopworded.
    # 发展 alone is listed (the genre's praise word); the policies it names are lexicon terms.
    assert not {"服务", "治理", "管理", "协商", "参与", "居民"} & set(words)


def test_exclusions_load_in_two_sections_and_spare_lexicon_terms(lexicon):
    sections = load_sectioned_wordlist(LEXICON_DIR / "vocab_exclusions.txt", ("exclude", "keep"))
    assert {"记者", "负责人", "局长"} <= set(sections["exclude"])
    assert "城市" in sections["keep"]
    assert not set(sections["exclude"]) & set(sections["keep"])
    assert not set(sections["exclude"]) & set(lexicon_strings(lexicon))


def test_single_char_whitelist_is_single_characters():
    words = load_wordlist(LEXICON_DIR / "single_char_whitelist.txt")
    assert words and all(len(w) == 1 for w in words)
    assert "村" in words


# ---------------------------------------------------------------- strict validation


def _write(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "terms.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("body, header, message", [
    ("党建引领,party_leadership,,g,n\n,party_leadership,,g,n\n", HEADER, "line 3: the term is empty"),
    ("党建引领,,,g,n\n", HEADER, "line 2: term '党建引领' has no category"),
    ("党建引领,party_leadership,,g,n\n网格员,grid,,g,n\n党建引领,party_leadership,,g,n\n", HEADER,
     "line 4: duplicate term '党建引领' (first on line 2)"),
    ("社会工作者,social_forces,社工,g,n\n社工,social_forces,,g,n\n", HEADER, "variant '社工' of '社会工作者' is also a term"),
    ("社会工作者,social_forces,社工,g,n\n社工站,social_forces,社工,g,n\n", HEADER, "already a variant"),
    ("党建引领,party_leadership,,g,n\n", "term,category,variants,gloss,note,source\n", "unknown column(s) source"),
    ("党建引领,party_leadership,,g\n", "term,category,variants,gloss\n", "missing column(s) note"),
    ("党建引领,party_leadership,,g,n,extra\n", HEADER, "line 2: 6 fields"),
    ("党建引领,Party Leadership,,g,n\n", HEADER, "not English snake_case"),
    ("党建 引领,party_leadership,,g,n\n", HEADER, "contains whitespace"),
    ("一站式服务,public_services,一站式||一站式服务大厅,g,n\n", HEADER, "empty variant"),
    ("互联网+政务服务,digital,互联网＋政务服务,g,n\n", HEADER, "repeats the term"),
    ("", HEADER, "no terms"),
])
def test_bad_lexicon_rows_name_the_file_and_line(tmp_path, body, header, message):
    path = _write(tmp_path, body, header)
    with pytest.raises(InputError) as caught:
        load_lexicon(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_lexicon_must_be_utf8(tmp_path):
    path = tmp_path / "terms.csv"
    path.write_bytes((HEADER + "党建引领,party_leadership,,g,n\n").encode("gb18030"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_lexicon(path)


def test_missing_lexicon_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_lexicon(tmp_path / "absent.csv")


def test_variants_are_split_and_width_folded(tmp_path):
    path = _write(tmp_path, '互联网＋政务服务,digital_governance,,g,"in: suzhou, huainan"\n'
                            "社会工作服务站,social_forces,社会工作站|社工站,g,n\n")
    frame = load_lexicon(path)
    assert frame["term"].tolist() == ["互联网+政务服务", "社会工作服务站"]
    assert frame.loc[1, "variants"] == ("社会工作站", "社工站")
    assert canonical_map(frame)["社工站"] == "社会工作服务站"
    assert frame["line"].tolist() == [2, 3]


def test_wordlist_comments_reasons_and_errors(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# header comment\n\n推进   # rhetoric\n加强\n", encoding="utf-8")
    assert load_wordlist(path) == ["推进", "加强"]
    path.write_text("推进\n推进 # again\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: '推进' repeats line 1"):
        load_wordlist(path)
    path.write_text("[exclude]\n记者\n", encoding="utf-8")
    with pytest.raises(InputError, match="section header"):
        load_wordlist(path)
    path.write_text("两个 词\n", encoding="utf-8")
    with pytest.raises(InputError, match="whitespace"):
        load_wordlist(path)


def test_sectioned_wordlist_errors(tmp_path):
    path = tmp_path / "ex.txt"
    path.write_text("记者\n[exclude]\n", encoding="utf-8")
    with pytest.raises(InputError, match="before the first"):
        load_sectioned_wordlist(path, ("exclude", "keep"))
    path.write_text("[drop]\n记者\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown section"):
        load_sectioned_wordlist(path, ("exclude", "keep"))
    path.write_text("[exclude]\n记者\n[keep]\n记者\n", encoding="utf-8")
    with pytest.raises(InputError, match="repeats"):
        load_sectioned_wordlist(path, ("exclude", "keep"))
    path.write_text("[keep]\n城市  # tagged ns\n", encoding="utf-8")
    assert load_sectioned_wordlist(path, ("exclude", "keep")) == {"exclude": [], "keep": ["城市"]}


# ---------------------------------------------------------------- matching


def test_matcher_prefers_the_longer_term():
    matcher = TermMatcher(["社会组织", "社区社会组织", "社区"])
    text = "培育社区社会组织和社会组织"
    assert [(text[s:e]) for s, e, _ in matcher.find(text)] == ["社区社会组织", "社会组织"]


def test_matcher_lets_the_longer_of_overlapping_terms_win():
    # Chengdu: 党建引领城乡社区发展治理 — leftmost-longest would take 城乡社区 and lose 社区发展治理.
    matcher = TermMatcher(["城乡社区", "社区发展治理", "党建引领"])
    text = "作为全国首部把党建引领城乡社区发展治理的经验上升为系统权威的地方性法规"
    assert [m[2] for m in matcher.find(text)] == ["党建引领", "社区发展治理"]
    # Anhui: 智慧社区建设 — the longer 智慧社区 beats 智慧 + 社区建设, which would cover more characters.
    matcher = TermMatcher(["智慧", "智慧社区", "社区建设", "社区工作者"])
    assert [m[2] for m in matcher.find("社区工作者管理、智慧社区建设")] == ["社区工作者", "智慧社区"]
    # Equally long overlapping terms: the leftmost wins.
    matcher = TermMatcher(["民主协商", "协商议事"])
    assert [m[2] for m in matcher.find("规范民主协商议事程序")] == ["民主协商"]


def test_matcher_folds_full_width_and_keeps_positions():
    matcher = TermMatcher(["互联网+政务服务", "15分钟生活圈"])
    text = "依托“互联网＋政务服务”,“15分钟生活圈”功能更加完善"
    found = matcher.find(text)
    assert [m[2] for m in found] == ["互联网+政务服务", "15分钟生活圈"]
    assert fold_width(text[found[0][0]:found[0][1]]) == "互联网+政务服务"


def _all_occurrences(text: str, strings: set[str]) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(text)) for j in range(i + 1, len(text) + 1) if text[i:j] in strings]


@settings(max_examples=300, deadline=None)
@given(st.sets(st.text(alphabet="abc", min_size=1, max_size=4), min_size=1, max_size=6),
       st.text(alphabet="abcd", max_size=30))
def test_matches_are_disjoint_and_every_other_occurrence_loses_to_a_longer_or_earlier_one(strings, text):
    found = TermMatcher(strings).find(text)
    previous_end = 0
    for start, end, string in found:
        assert previous_end <= start < end
        assert text[start:end] == string and string in strings
        previous_end = end
    chosen = {(s, e) for s, e, _ in found}
    rank = lambda span: (span[0] - span[1], span[0])  # longer first, then leftmost  # noqa: E731
    for span in _all_occurrences(text, strings):
        if span not in chosen:
            blockers = [c for c in chosen if c[0] < span[1] and span[0] < c[1]]
            assert blockers and min(map(rank, blockers)) < rank(span)


@settings(max_examples=300, deadline=None)
@given(st.sets(st.text(alphabet="abc", min_size=1, max_size=4), min_size=1, max_size=6),
       st.text(alphabet="abcd", max_size=30))
def test_compiled_matcher_agrees_with_the_plain_reference_on_small_alphabets(strings, text):
    matcher = TermMatcher(strings)
    assert matcher.find(text) == reference_find(strings, text)
    subset = TermMatcher(sorted(strings)[: max(1, len(strings) // 2)])
    assert matcher.find_also(text, subset) == (matcher.find(text), reference_find(subset.strings, text))
    assert matcher.candidates(text) == sorted((s, e) for s in range(len(text)) for e in range(s + 1, len(text) + 1)
                                              if text[s:e] in matcher.strings)


_LEXICON_STRINGS = sorted(canonical_map(load_lexicon(TERMS_CSV)))


def _pieces(strings: list[str]) -> list[str]:
    """Heads, tails and middles of lexicon strings: where overlapping terms meet."""
    return sorted({s[i:j] for s in strings for i in range(len(s)) for j in range(i + 1, len(s) + 1)} - set(strings))


_TEXT_PARTS = st.one_of(
    st.sampled_from(_LEXICON_STRINGS),
    st.sampled_from(_pieces(_LEXICON_STRINGS)),
    # Full-width forms fold onto the lexicon's half-width ones; filler and line breaks separate.
    st.sampled_from(["＋", "（", "）", "１５", "　", "，", "的", "\n", "和", "A"]),
)


@pytest.fixture(scope="module")
def real_matcher() -> TermMatcher:
    return TermMatcher(_LEXICON_STRINGS)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT_PARTS, max_size=25))
def test_compiled_matcher_agrees_with_the_plain_reference_on_lexicon_texts(real_matcher, parts):
    # Texts built from the real lexicon's strings and their pieces, so that
    # terms overlap, nest and abut in every way the lexicon allows.
    text = "".join(parts)
    assert real_matcher.find(text) == reference_find(_LEXICON_STRINGS, text)


def test_compiled_matcher_agrees_with_the_plain_reference_on_the_lexicon_itself(real_matcher):
    text = "".join(_LEXICON_STRINGS) + "、".join(reversed(_LEXICON_STRINGS))
    found = real_matcher.find(text)
    assert found == reference_find(_LEXICON_STRINGS, text)
    assert len(found) >= len(_LEXICON_STRINGS) // 2


def test_one_search_serves_two_matchers_only_when_their_strings_allow(real_matcher):
    text = "推进村(社区)治理和社区治理,发挥社会组织作用"
    notation = TermMatcher([*_LEXICON_STRINGS, "村(社区)"])
    assert notation.find_also(text, real_matcher) == (notation.find(text), real_matcher.find(text))
    assert real_matcher.find_also(text, real_matcher) == (real_matcher.find(text),) * 2
    # Strings the first matcher lacks: each matcher searches for itself.
    other = TermMatcher(["治理和"])
    assert real_matcher.find_also(text, other) == (real_matcher.find(text), other.find(text))


def test_word_spans_rejects_a_filtered_token_list():
    assert word_spans(["社区", "治理"], "社区治理") == {(0, 2), (2, 4)}
    with pytest.raises(ValueError):
        word_spans(["社区"], "社区治理")


# ---------------------------------------------------------------- coverage and profile


def _small_lexicon(tmp_path) -> pd.DataFrame:
    return load_lexicon(_write(tmp_path, "党建引领,party_leadership,,g,n\n"
                                         "社会工作者,social_forces,社工,g,n\n"
                                         "网格员,grid_management,,g,n\n"
                                         "德治,moral_governance,,g,n\n"))


def test_coverage_counts_occurrences_and_detects_a_split(tmp_path):
    lexicon = _small_lexicon(tmp_path)
    texts = {"甲市": "坚持党建引领,社工服务。", "乙市": "党建引领网格员"}
    words = {"甲市": ["坚持", "党建引领", ",", "社工", "服务", "。"],
             "乙市": ["党建", "引领", "网格员"]}  # a split occurrence
    table = lexicon_coverage(texts, words, lexicon).set_index("term")
    assert table.loc["党建引领", "occurrences"] == 2
    assert table.loc["党建引领", "split"] == 1
    assert not table.loc["党建引领", "survives"]
    assert table.loc["党建引领", "places"] == 2 and table.loc["党建引领", "place_names"] == "乙市|甲市"
    assert table.loc["社会工作者", "occurrences"] == 1 and table.loc["社会工作者", "survives"]
    assert table.loc["网格员", "survives"]
    assert pd.isna(table.loc["德治", "survives"]) and table.loc["德治", "occurrences"] == 0


def test_coverage_order_is_deterministic(tmp_path):
    lexicon = _small_lexicon(tmp_path)
    texts = {"甲市": "网格员党建引领党建引领"}
    words = {"甲市": ["网格员", "党建引领", "党建引领"]}
    table = lexicon_coverage(texts, words, lexicon)
    assert table["category"].tolist() == sorted(table["category"])
    assert table.equals(lexicon_coverage(dict(reversed(list(texts.items()))), words, lexicon))


def test_profile_rates_use_the_total_token_denominator(tmp_path):
    lexicon = _small_lexicon(tmp_path)
    tokens = {"甲市": ["党建引领", "的", "社工", "社会工作者", "推进"] * 2, "乙市": ["网格员"] + ["的"] * 3}
    profile = lexicon_profile(tokens, lexicon)
    assert list(profile.columns) == ["place", "category", "count", "terms", "total_tokens", "per_10k"]
    assert len(profile) == 2 * 4  # every place x category, zeros included
    row = profile.set_index(["place", "category"])
    assert row.loc[("甲市", "social_forces"), "count"] == 4  # variant 社工 counted for 社会工作者
    assert row.loc[("甲市", "social_forces"), "terms"] == 1
    assert row.loc[("甲市", "social_forces"), "per_10k"] == pytest.approx(4000.0)
    assert row.loc[("乙市", "grid_management"), "per_10k"] == pytest.approx(2500.0)
    assert row.loc[("乙市", "moral_governance"), "count"] == 0
    # Places in the order given (the runner passes the manifest's order), not code-point order.
    assert list(dict.fromkeys(profile["place"])) == ["甲市", "乙市"]


def test_profile_of_a_place_without_tokens_is_zero(tmp_path):
    profile = lexicon_profile({"甲市": []}, _small_lexicon(tmp_path))
    assert (profile["per_10k"] == 0).all()


def test_canonical_map_covers_all_strings(lexicon):
    mapping = canonical_map(lexicon)
    assert set(mapping.values()) == set(lexicon["term"])
    assert mapping["社工"] == "社会工作者"
    assert mapping["一站式"] == "一站式服务"
