"""Drawing a coding sheet: seeded, stratified by the dictionary's dimensions, blind for the coders."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.report.codebook import END, START
from pipeline.text.lexicon import load_lexicon
from pipeline.validate.sheet import (PoolSentence, coder_codebook, draw_sample, heldout_pool, lexicon_digests,
                                     study_units_of)

LEXICON_CSV = """term,category,variants,gloss,note,kind
网格员,grid_management,,grid worker,,
智慧社区,digital_governance,,smart community,,
议事会,self_governance_consultation,,council,,
社区治理,governance_frame,,community governance,,
"""


@pytest.fixture
def lexicon(tmp_path):
    path = tmp_path / "governance_terms.csv"
    path.write_text(LEXICON_CSV, encoding="utf-8")
    return load_lexicon(path)


def _pool() -> list[PoolSentence]:
    texts = ["社区配备网格员。", "建设智慧社区平台。", "成立议事会协商。", "居民很满意。", "推进社区治理。"]
    pool = []
    for source, groups in (("study", ["甲市", "乙市"]), ("heldout", ["h1", "h2", "h3"])):
        for g in groups:
            for i, t in enumerate(texts * 3):
                pool.append(PoolSentence(f"{g}-{i}", g, source, g, t))
    return pool


def test_the_draw_is_seeded_sized_and_covers_every_dimension(lexicon):
    a = draw_sample(_pool(), lexicon, {"study": 12, "heldout": 20}, 0.25, 5)
    b = draw_sample(_pool(), lexicon, {"study": 12, "heldout": 20}, 0.25, 5)
    pd.testing.assert_frame_equal(a, b)
    assert a.groupby("source").size().to_dict() == {"heldout": 20, "study": 12}
    assert not a["sentence_id"].duplicated().any()
    assert (a[a["source"] == "study"]["drawn_by"] == "random").sum() == 3  # round(12 * 0.25)
    for source in ("study", "heldout"):
        strata = set(a.loc[(a["source"] == source) & (a["drawn_by"] != "random"), "drawn_by"])
        assert strata == {"grid_management", "digital_governance", "self_governance_consultation", "governance_frame"}
    # Strata are spread over places: both study places are drawn for grid management.
    grid = a[(a["source"] == "study") & (a["drawn_by"] == "grid_management")]
    assert set(grid["group"]) == {"甲市", "乙市"}
    assert draw_sample(_pool(), lexicon, {"study": 12, "heldout": 20}, 0.25, 6)["sentence_id"].tolist() != \
        a["sentence_id"].tolist()


def test_a_source_with_fewer_sentences_gives_all_it_has(lexicon):
    drawn = draw_sample(_pool()[:4], lexicon, {"study": 50}, 0.5, 1)
    assert len(drawn) == 4


def test_heldout_pages_give_their_body_lines_in_simplified_script_only(tmp_path):
    folder = tmp_path / "set"
    (folder / "labels").mkdir(parents=True)
    (folder / "sources.csv").write_text("id,url,script,pinyin_inserted\np1,u,simplified,no\np2,u,traditional,no\n"
                                        "p3,u,simplified,yes\n", encoding="utf-8")
    for page in ("p1", "p2", "p3"):
        (folder / "labels" / f"{page}.tsv").write_text(
            "line_no\tlabel\tkind\ttext\n1\theading\t\t标题\n2\tbody\t\t第一句。第二句！\n3\tchrome\t\t首页\n",
            encoding="utf-8")
    pool = heldout_pool([folder])
    assert [(p.sentence_id, p.sentence, p.source) for p in pool] == [("p1-1", "第一句。", "heldout"),
                                                                     ("p1-2", "第二句！", "heldout")]


def test_the_coders_codebook_leaves_out_the_term_lists():
    codebook = f"# Codebook\nrules\n{START}\n| 网格员 |\n{END}\nmore rules\n"
    copy = coder_codebook(codebook, [(START, END)])
    assert "网格员" not in copy and "rules" in copy and "more rules" in copy and "left out" in copy


def test_lexicon_digests_change_only_for_the_dimension_edited(lexicon):
    before = lexicon_digests(lexicon)
    edited = pd.concat([lexicon, pd.DataFrame([{"term": "网格长", "category": "grid_management", "variants": ""}])],
                       ignore_index=True)
    after = lexicon_digests(edited)
    assert [d for d in before if before[d] != after[d]] == ["grid_management"]


def test_study_sentences_are_found_in_their_units():
    sentences = pd.DataFrame({"doc_id": ["a", "a", "b"], "sentence": ["第二句。", "没有。", "第一句。"]},
                             index=["a-2", "a-9", "b-1"])
    units = [{"doc_id": "a", "unit_id": "a-0001", "text": "第一句。第二句。"},
             {"doc_id": "b", "unit_id": "b-0001", "text": "第一句。"}]
    assert study_units_of(sentences, units) == {"a-2": "a-0001", "b-1": "b-0001"}


def test_a_top_up_sheet_draws_only_its_dimensions_and_never_an_earlier_sentence(lexicon):
    first = draw_sample(_pool(), lexicon, {"heldout": 12}, 0.0, 3)
    top_up = draw_sample(_pool(), lexicon, {"heldout": 6}, 0.0, 3, only={"grid_management"},
                         exclude=set(first["sentence_id"]))
    assert set(top_up["sentence_id"]).isdisjoint(first["sentence_id"])
    stratified = top_up[top_up["drawn_by"] != "random"]
    assert set(stratified["drawn_by"]) == {"grid_management"} and len(stratified) == 6
