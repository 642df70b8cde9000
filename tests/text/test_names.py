"""Bracket notation, place names, token spans, the lexicon's kind column and the profile with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.common.config import Paths
from pipeline.common.errors import InputError
from pipeline.text import lexicon as lex_mod
from pipeline.text.names import NameRules, load_gazetteer, load_notation, place_name_positions
from pipeline.common.params import ProfileParams
from pipeline.text.profile import profile_shares, profile_tables, wilson_interval
from pipeline.text.stage import build_segmenter, segment_article

LEXICON_DIR = Paths.at().lexicon


@pytest.fixture(scope="module")
def lexicon() -> pd.DataFrame:
    return lex_mod.load_lexicon(LEXICON_DIR / "governance_terms.csv")


@pytest.fixture(scope="module")
def segmenter(project_params, lexicon):
    params = project_params.updated({"themes": {"ablation": False}})
    return build_segmenter(Paths.at(), params, lexicon)


def tokens_of(text: str, segmenter) -> list[str]:
    return [t for u in segment_article("x", "甲", text, segmenter)["units"] for t in u["tokens"]]


# ------------------------------------------------------------------ notation

@pytest.mark.parametrize("text, token, gone", [
    ("建设乡镇(街道)社会工作服务站285家,村(社区)社会工作服务站点887个", ["乡镇街道", "村社区"], ["居"]),
    ("持续深化以“五民主两公开”为核心的村(居)民自治实践", ["村居民"], ["居", "村"]),
    ("村（社区）组织活动场所进行了整体提升", ["村社区"], ["村"]),  # full-width brackets
    ("指导每个县(市)各选取一个村深化村民自治实践", ["县市", "村"], []),
])
def test_bracket_notation_becomes_one_token(text, token, gone, segmenter):
    tokens = tokens_of(text, segmenter)
    for t in token:
        assert t in tokens
    for t in gone:
        assert t not in tokens or t in token


def test_notation_file_is_validated(tmp_path):
    path = tmp_path / "notation.csv"
    path.write_text("notation,token,gloss,note\n村(社区),村(社区),x,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_notation(path)
    path.write_text("notation,token\n", encoding="utf-8")
    with pytest.raises(InputError, match="header"):
        load_notation(path)
    assert load_notation(LEXICON_DIR / "notation.csv")["村(社区)"] == "村社区"


# --------------------------------------------------------------- place names

@pytest.mark.parametrize("text, names, kept", [
    # 毛集实验区 is cut 毛|集|实验区 and not tagged as a place: the suffix rule finds it.
    ("谢家集区、毛集实验区被命名为全省城乡社区协商示范县(区)", ["实验区", "毛集", "集"], ["城乡社区协商"]),
    # 大通区 is tagged n by jieba: the gazetteer finds it; 大通 (nz) before 街道 is a fragment.
    ("大通区大通街道被命名为全省城乡社区协商示范乡镇(街道)", ["大通区", "大通"], ["乡镇街道", "街道"]),
    # The national designation keeps 实验区 inside a lexicon term.
    ("铜陵市铜官区、芜湖市先后被确定为全国社区治理和服务创新实验区", ["铜官", "区"], ["社区治理和服务创新实验区"]),
    ("家住田家庵区洞山街道锦里社区居民汪女士", ["洞山", "田家庵区", "锦里"], ["街道", "社区"]),
])
def test_place_names_stay_out_of_the_tokens(text, names, kept, segmenter):
    tokens = tokens_of(text, segmenter)
    for name in names:
        assert name not in tokens, name
    for word in kept:
        assert word in tokens, word


def test_ordinary_words_before_a_suffix_are_not_names(segmenter):
    # 在 is a stopword, so 全县 is no name; 城区 is in the gazetteer but listed under [keep].
    tokens = tokens_of("在全县推广;在主城区打造小区居民活动中心;老城区改造", segmenter)
    assert "小区居民活动中心" in tokens
    assert "主城区" in tokens or "城区" in tokens


def test_names_are_found_in_words_that_need_folding_or_stripping():
    rules = NameRules(gazetteer=frozenset({"合肥市", "XX县"}), suffixes=frozenset({"区"}), stopwords=frozenset({"在"}),
                      never_names=frozenset())
    plain = [("在", "p"), ("合肥市", "ns"), ("包河", "ns"), ("区", "n"), ("和", "c"), ("XX县", "x")]
    # The same words padded with spaces or written in full-width forms.
    padded = [("在", "p"), (" 合肥市", "ns"), ("包河\u3000", "ns"), ("区", "n"), ("和", "c"), ("ＸＸ县", "x")]
    assert place_name_positions(plain, rules, "lex") == {1, 2, 3, 5}
    assert place_name_positions(padded, rules, "lex") == {1, 2, 3, 5}


def test_gazetteer_has_divisions_and_short_forms():
    names = load_gazetteer(LEXICON_DIR / "gazetteer" / "divisions.csv")
    assert {"田家庵区", "歙县", "合肥市", "合肥", "安徽省", "安徽"} <= names
    assert "县" not in names  # a placeholder row, not a name
    assert len(names) > 3000


# --------------------------------------------------------------------- spans

def test_every_token_has_the_span_it_was_read_from(segmenter):
    text = "推广“一站式”服务和错时延时,村(社区)“两委”换届。\n苏州工业园区“知社区”项目有效整合社区信息系统"
    units = segment_article("x", "甲", text, segmenter)["units"]
    notation = load_notation(LEXICON_DIR / "notation.csv")
    canonical = lex_mod.canonical_map(lex_mod.load_lexicon(LEXICON_DIR / "governance_terms.csv"))
    for unit in units:
        assert len(unit["spans"]) == len(unit["tokens"])
        for token, (start, end) in zip(unit["tokens"], unit["spans"]):
            read = lex_mod.fold_width(unit["text"][start:end])
            assert read == token or canonical.get(read) == token or notation.get(read) == token


# ---------------------------------------------------------------- kind column

def test_kind_column_is_optional_and_validated(tmp_path, lexicon):
    assert set(lexicon["kind"]) <= set(lex_mod.KINDS)
    assert lexicon.set_index("term").loc["民政部门", "kind"] == "self_reference"
    assert lexicon.set_index("term").loc["五网智治", "kind"] == "brand"
    path = tmp_path / "terms.csv"
    path.write_text("term,category,variants,gloss,note\n社区,frame,,community,\n", encoding="utf-8")
    assert lex_mod.load_lexicon(path)["kind"].tolist() == [""]
    path.write_text("term,category,variants,gloss,note,kind\n社区,frame,,community,,slogan\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2.*kind"):
        lex_mod.load_lexicon(path)


# ------------------------------------------------------------------- profile

def test_wilson_interval_matches_known_values():
    low, high = wilson_interval(5, 10, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 10, 0.95)
    assert low == 0.0 and round(high, 4) == 0.2775
    assert np.isnan(wilson_interval(0, 0, 0.95)[0])
    with pytest.raises(ValueError):
        wilson_interval(1, 2, 1.5)


def _lexicon() -> pd.DataFrame:
    return pd.DataFrame({"term": ["网格", "民政部门", "协商"], "category": ["grid", "reform", "consult"],
                         "variants": [(), (), ()], "gloss": ["", "", ""], "note": ["", "", ""],
                         "kind": ["", "self_reference", ""], "line": [2, 3, 4]})


def _unit(uid, place, doc, sentences):
    text, tokens, spans = "", [], []
    for words in sentences:
        for w in words:
            tokens.append(w)
            spans.append([len(text), len(text) + len(w)])
            text += w
        text += "。"
    return {"unit_id": uid, "doc_id": doc, "place": place, "text": text, "tokens": tokens, "spans": spans}


def test_profile_counts_sentences_not_tokens_and_reports_the_sensitivity():
    units = [_unit("a-1", "甲", "a", [["网格", "网格", "网格"], ["民政部门"], ["其他"], ["协商", "民政部门"]])]
    tables = profile_tables(units, _lexicon(), ProfileParams(confidence=0.95, bootstrap_samples=100, seed=1))
    shares = tables["profile_shares"].set_index(["variant", "category"])
    assert shares.loc[("all", "grid"), "mentioning"] == 1  # three tokens, one sentence
    assert shares.loc[("all", "grid"), "sentences"] == 4
    assert shares.loc[("all", "reform"), "mentioning"] == 2
    assert shares.loc[("without_flagged", "reform"), "mentioning"] == 0
    assert (shares["interval"] == "wilson").all()
    side = tables["profile_sensitivity"].set_index("category")
    assert side.loc["reform", "change"] == -0.5 and side.loc["consult", "change"] == 0


def test_profile_of_a_two_article_place_resamples_articles():
    # Article a mentions 网格 in every sentence, article b in none: the share
    # varies only with which articles are drawn (0, 0.5 or 1).
    units = [_unit("a-1", "甲", "a", [["网格"]] * 4), _unit("b-1", "甲", "b", [["其他"]] * 4),
             _unit("c-1", "乙", "c", [["网格"], ["其他"]])]
    table = profile_shares(units, _lexicon(), confidence=0.9, bootstrap_samples=500, seed=3)
    row = table[(table["place"] == "甲") & (table["category"] == "grid")].iloc[0]
    assert row["interval"] == "cluster_bootstrap" and row["articles"] == 2 and row["share"] == 0.5
    assert row["ci_low"] == 0.0 and row["ci_high"] == 1.0
    other = table[(table["place"] == "乙") & (table["category"] == "grid")].iloc[0]
    assert other["interval"] == "wilson"
    assert list(dict.fromkeys(table["place"])) == ["甲", "乙"]
